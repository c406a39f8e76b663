"""`keras-factorvae evaluate`: recomputes the metrics of a run or a model."""

import os

from keras_factorvae import reporting
from keras_factorvae.cli.common import UsageError
from keras_factorvae.cli.common import add_data_options
from keras_factorvae.cli.common import add_metric_options
from keras_factorvae.cli.common import add_run_options
from keras_factorvae.cli.common import load_run_data
from keras_factorvae.cli.common import load_run_model
from keras_factorvae.cli.common import print_scores
from keras_factorvae.cli.common import resolve_run
from keras_factorvae.cli.common import run_arguments


def run(args):
    """Runs `evaluate`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status.
    """
    from keras_factorvae.runs import compute_metrics

    path, run_dir, config = resolve_run(*run_arguments(args))
    model = load_run_model(path)
    data = load_run_data(args, config, model)
    if data is None:
        raise UsageError(
            "Which dataset? Pass --dataset (the model has no run.json next "
            "to it)."
        )
    metrics = args.metrics or tuple(
        config.get("metrics") or reporting.DEFAULT_METRICS)
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    scores = reporting.json_safe(
        compute_metrics(model, data, metrics, args.metric_size, seed))
    output = args.output or (
        os.path.join(run_dir, "metrics.json") if run_dir else None)
    if output:
        reporting.write_json(scores, output)
        print(f"Wrote {output}")
    print_scores(scores)
    return 0


def add_parser(subparsers):
    """Adds the `evaluate` subcommand.

    Args:
        subparsers: the object of `ArgumentParser.add_subparsers`.
    """
    p = subparsers.add_parser(
        "evaluate", help="recompute the metrics of a run or model",
        description="Recomputes disentanglement metrics of a trained model "
        "and writes them to RUN/metrics.json (or --output).")
    add_run_options(p)
    add_data_options(p, default=None)
    add_metric_options(p, "those of the run, else "
                       + ", ".join(reporting.DEFAULT_METRICS))
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the metrics (default: the run's)")
    p.add_argument("--output", default=None, help="metrics JSON file")
    p.set_defaults(func=run)
