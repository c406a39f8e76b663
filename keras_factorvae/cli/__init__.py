"""The `keras-factorvae` command line (also `python -m keras_factorvae`).

Subcommands:

- `train`: trains a model of the zoo on a dataset and writes a run
  directory (model, history, metrics, pictures, report); resumable.
- `evaluate`: recomputes the disentanglement metrics of a run or a model.
- `traverse`: writes the pictures of a run or a model (traversals...).
- `tune`: hyper-parameter search with KerasTuner (`keras_factorvae.tuning`).
- `bench`: times training steps (`keras_factorvae.bench`).
- `reproduce`: a paper sweep (e.g. FactorVAE's gamma on dSprites): one
  resumable run per value and seed, then a table and a metric-vs-gamma plot.

Each subcommand is a module of this package with `add_parser(subparsers)`
and `run(args)`; `common` holds what they share.

The Keras backend is the one of `KERAS_BACKEND` (jax, tensorflow or torch).
Building the parsers imports neither Keras nor a backend, so `--help` is
instant; a subcommand imports what it needs when it runs.

Example:

```bash
keras-factorvae train --model factorvae --dataset dsprites --gamma 35 \\
    --steps 3000 --batch-size 64 --out runs/fvae
keras-factorvae evaluate --run runs/fvae --metrics mig factor_vae_score
keras-factorvae traverse --run runs/fvae --mode sigma
```
"""

import argparse
import sys

from keras_factorvae.cli import bench
from keras_factorvae.cli import evaluate
from keras_factorvae.cli import reproduce
from keras_factorvae.cli import train
from keras_factorvae.cli import traverse
from keras_factorvae.cli import tune
from keras_factorvae.cli.common import PROG
from keras_factorvae.cli.common import UsageError
from keras_factorvae.cli.common import load_run_model
from keras_factorvae.cli.common import metric_names
from keras_factorvae.cli.common import resolve_run
from keras_factorvae.cli.reproduce import EXPERIMENTS
from keras_factorvae.cli.train import HYPERPARAMETERS
from keras_factorvae.cli.train import model_kwargs_from_args
from keras_factorvae.cli.train import training_config

# In the order `--help` lists them.
SUBCOMMANDS = (train, evaluate, traverse, tune, bench, reproduce)


def build_parser():
    """The argument parser of every subcommand.

    Returns:
        An `argparse.ArgumentParser`; parsed arguments carry the
        subcommand's `run` as `func`.
    """
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train, evaluate and inspect disentangling VAEs "
        "(keras_factorvae) on the Keras backend of KERAS_BACKEND.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in SUBCOMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv=None):
    """Runs the command line; returns the exit status.

    Args:
        argv: arguments without the program name (default: `sys.argv[1:]`).

    Example:

    >>> main(["train", "--steps", "100", "--out", "runs/quick"])
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv[:1] == ["bench"]:
        # Everything after `bench` belongs to keras_factorvae.bench.
        args = argparse.Namespace(func=bench.run, bench_args=argv[1:])
    else:
        args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    args.argv = argv
    # The command line asks for TensorFlow's oneDNN kernels on x86 (unless
    # the user set TF_ENABLE_ONEDNN_OPTS): before anything imports Keras.
    from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn

    prefer_tensorflow_onednn()
    try:
        if hasattr(args, "metrics"):
            args.metrics = metric_names(args.metrics)
        return int(args.func(args) or 0)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

