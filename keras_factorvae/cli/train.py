"""`keras-factorvae train`: trains a model of the zoo into a run directory."""

import argparse
import inspect
import os

from keras_factorvae import reporting
from keras_factorvae.cli.common import UsageError
from keras_factorvae.cli.common import add_data_options
from keras_factorvae.cli.common import add_metric_options
from keras_factorvae.cli.common import command_line
from keras_factorvae.cli.common import model_name
from keras_factorvae.cli.common import positive_int
from keras_factorvae.cli.common import print_scores
from keras_factorvae.cli.choices import MODELS as MODEL_NAMES
from keras_factorvae.runs.config import DEFAULT_BACKUP_EVERY
from keras_factorvae.runs.config import PRECISIONS
from keras_factorvae.runs.config import RunError
from keras_factorvae.runs.config import TrainConfig
from keras_factorvae.runs.config import parse_backup_every

# Model hyper-parameters the CLI knows: constructor argument -> (type, help).
# A flag is passed to a model only if its constructor takes the argument.
HYPERPARAMETERS = {
    "gamma": (float, "TC weight (factorvae) or capacity weight (annealed_vae)"),
    "beta": (float, "KL weight (beta_vae) or TC weight (beta_tcvae)"),
    "c_max": (float, "final KL capacity in nats (annealed_vae)"),
    "iteration_threshold": (int, "steps to reach c_max (annealed_vae)"),
    "lambda_od": (float, "off-diagonal covariance weight (dip_vae)"),
    "lambda_d": (float, "diagonal covariance weight (dip_vae)"),
    "variant": (str, "'i' or 'ii' (dip_vae)"),
    "estimator": (str, "TC estimator 'mws' or 'mss' (beta_tcvae)"),
    "discriminator_units": (int, "discriminator width (factorvae)"),
    "discriminator_layers": (int, "discriminator hidden layers (factorvae)"),
}


def model_kwargs_from_args(args):
    """Constructor arguments of `--model` from the command line options.

    Args:
        args: the parsed `train` arguments.

    Returns:
        Dict of keyword arguments of the model class.

    Raises:
        UsageError: a hyper-parameter flag does not apply to the model.
    """
    from keras_factorvae.models import MODELS

    cls = MODELS[args.model]
    accepted = set(inspect.signature(cls.__init__).parameters)
    kwargs = {
        "latent_dim": args.latent_dim,
        "preset": args.preset,
        "reconstruction": args.reconstruction,
        "seed": args.seed,
    }
    for name in HYPERPARAMETERS:
        value = getattr(args, name, None)
        if value is None:
            continue
        if name not in accepted:
            users = [
                m for m, c in sorted(MODELS.items())
                if name in inspect.signature(c.__init__).parameters
            ]
            raise UsageError(
                f"--{name.replace('_', '-')} does not apply to {args.model} "
                f"(it applies to {', '.join(users) or 'no model'})."
            )
        kwargs[name] = value
    return kwargs


def training_config(args):
    """The `TrainConfig` of `train`'s options.

    Args:
        args: the parsed `train` arguments.

    Returns:
        A `keras_factorvae.runs.TrainConfig`.
    """
    return TrainConfig(
        model=args.model, model_kwargs=model_kwargs_from_args(args),
        dataset=args.dataset, source=args.source, data_dir=args.data_dir,
        batch_size=args.batch_size, steps=args.steps,
        steps_per_epoch=args.steps_per_epoch, paired=bool(args.paired),
        seed=args.seed, precision=getattr(args, "precision", "float32"),
        backup_every=getattr(args, "backup_every", DEFAULT_BACKUP_EVERY),
        metrics=args.metrics, metric_size=args.metric_size,
        metrics_every=args.metrics_every, traversal_every=args.traversal_every,
        traversal_mode=args.traversal_mode, tensorboard=args.tensorboard,
        verbose=args.verbose, overwrite=args.overwrite,
        command=command_line(args),
    )


def run(args):
    """Runs `train`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status.
    """
    from keras_factorvae.runs import train as run_train
    from keras_factorvae.runs.directory import MODEL_FILE
    from keras_factorvae.runs.directory import read_json
    from keras_factorvae.threads import configure_allocator

    cfg = training_config(args)
    configure_allocator()  # faster steps; see keras_factorvae.threads
    out = args.out or os.path.join(
        "runs", f"{cfg.model}_{cfg.dataset}_seed{cfg.seed}")
    record = run_train(cfg, out).record
    print(f"Wrote {out}: {MODEL_FILE}, history.csv/json, "
          f"{'metrics.json, ' if args.metrics != () else ''}pictures, report.md "
          f"({record['epochs_done']} epochs, {record['steps_done']} steps).")
    scores = read_json(os.path.join(out, "metrics.json"))
    if scores and args.metrics != ():
        print_scores(scores)
    return 0


def _backup_every(value):
    try:
        parse_backup_every(value)
    except RunError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return str(value)


def _add_model_options(parser):
    group = parser.add_argument_group("model")
    group.add_argument("--model", type=model_name, default="factorvae",
                       help=f"one of {', '.join(MODEL_NAMES)} "
                       "(default: factorvae)")
    group.add_argument("--latent-dim", type=positive_int, default=10)
    group.add_argument("--preset", default="conv",
                       help="conv, conv_paper or mlp (default: conv)")
    group.add_argument("--reconstruction", default="bernoulli",
                       choices=("bernoulli", "gaussian"))
    for name, (kind, text) in HYPERPARAMETERS.items():
        group.add_argument(f"--{name.replace('_', '-')}", type=kind,
                           default=None, help=text)


def add_parser(subparsers):
    """Adds the `train` subcommand.

    Args:
        subparsers: the object of `ArgumentParser.add_subparsers`.
    """
    p = subparsers.add_parser(
        "train", help="train a model and write a run directory",
        description=(
            "Trains a model of the zoo and writes, in --out: model.keras, "
            "history.csv (CSVLogger) and history.json, metrics.json, "
            "traversal.png/.gif, reconstructions.png, samples.png, kl.png, "
            "curves.png, report.md and run.json. Training is split into "
            "epochs of --steps-per-epoch steps and backed up in OUT/backup "
            "every --backup-every steps or seconds and after each epoch: "
            "rerunning an interrupted command (Ctrl-C, kill, a lost machine) "
            "resumes it from its last backup, mid-epoch included, with the "
            "batches and noise of an uninterrupted run."),
    )
    _add_model_options(p)
    add_data_options(p)
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=positive_int, default=3000,
                   help="training steps (default: 3000)")
    g.add_argument("--steps-per-epoch", type=positive_int, default=None,
                   help="steps per epoch (default: min(steps, 500))")
    g.add_argument("--batch-size", type=positive_int, default=64)
    g.add_argument("--paired", action="store_true",
                   help="feed (x, x2) batch pairs (FactorVAE Algorithm 2)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--precision", choices=tuple(PRECISIONS), default="float32",
                   help="bf16: bfloat16 compute, float32 weights and losses "
                   "(Keras' mixed_bfloat16), for CPUs with native bfloat16 "
                   "on TensorFlow and PyTorch (default: float32)")
    g.add_argument("--backup-every", type=_backup_every,
                   default=DEFAULT_BACKUP_EVERY,
                   help="back up every N steps (e.g. 200) or every N seconds "
                   f"(e.g. 60s); default {DEFAULT_BACKUP_EVERY}: a kill loses "
                   "at most about a minute of training")
    g.add_argument("--out", default=None,
                   help="run directory (default: runs/MODEL_DATASET_seedN)")
    g.add_argument("--overwrite", action="store_true",
                   help="discard a previous run (finished or not) in --out")
    g.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                   help="Keras fit verbosity (default: 1, progress bar)")
    g = p.add_argument_group("outputs")
    add_metric_options(g, ", ".join(reporting.DEFAULT_METRICS))
    g.add_argument("--metrics-every", type=int, default=0,
                   help="also log the headline metric scores every N epochs "
                   "(curves; default: 0, off)")
    g.add_argument("--traversal-every", type=int, default=1,
                   help="write OUT/traversals/traversal_epoch_NNN.png every N "
                   "epochs (0: off; default: 1)")
    g.add_argument("--traversal-mode", choices=("fixed", "sigma", "minmax"),
                   default="fixed")
    g.add_argument("--tensorboard", action="store_true",
                   help="TensorBoard logs (and traversal images) in OUT/logs")
    p.set_defaults(func=run)
