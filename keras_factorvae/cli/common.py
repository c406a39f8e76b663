"""What the subcommands of `keras-factorvae` share: argument types, option
groups, run directories and score printing.
"""

import argparse
import os

# Only modules that import neither Keras nor a backend at the top: building
# the parsers (and `--help`) must stay instant. What a subcommand needs to
# run is imported inside the functions that run it.
from keras_factorvae import reporting
from keras_factorvae.cli.choices import DATASETS as KNOWN_DATASETS
from keras_factorvae.cli.choices import METRICS
from keras_factorvae.cli.choices import MODELS
from keras_factorvae.runs.config import RunError

PROG = "keras-factorvae"

# An error the user can act on: printed without a traceback.
UsageError = RunError


# === Argument types ===


def model_name(name):
    """`--model` type: a name of `keras_factorvae.models.MODELS`.

    Args:
        name: the value on the command line (case and `-` / `_` ignored).

    Returns:
        The model key.
    """
    key = str(name).lower().replace("-", "_")
    if key not in MODELS:
        raise argparse.ArgumentTypeError(
            f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}"
        )
    return key


def known_datasets():
    """The dataset names of every source, as one line of help text."""
    return "; ".join(
        f"{source}: {', '.join(names)}" for source, names in KNOWN_DATASETS.items()
    )


def dataset_name(name):
    """`--dataset` type: a name of `keras_factorvae.datasets.KNOWN_DATASETS`.

    Args:
        name: the value on the command line (case ignored).

    Returns:
        The dataset name.
    """
    key = str(name).lower()
    if not any(key in names for names in KNOWN_DATASETS.values()):
        raise argparse.ArgumentTypeError(
            f"unknown dataset {name!r}; known datasets: {known_datasets()}"
        )
    return key


def positive_int(value):
    """Argument type: an integer >= 1.

    Args:
        value: the value on the command line.

    Returns:
        The integer.
    """
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, received {value}")
    return number


def metric_names(values):
    """The `--metrics` values, checked against the known metrics.

    Args:
        values: the names given, or None when the option was not given.

    Returns:
        None (not given), `()` for `none` / `no` / `off`, else the names.

    Raises:
        UsageError: a name is not a known metric.
    """
    if values is None:
        return None
    if len(values) == 1 and values[0].lower() in ("none", "no", "off"):
        return ()
    unknown = [v for v in values if v not in METRICS]
    if unknown:
        raise UsageError(
            f"Unknown metric(s) {unknown}; known: {', '.join(sorted(METRICS))} "
            "(or 'none')."
        )
    return tuple(values)


def metric_size(value):
    """`--metric-size` type: a key of `reporting.METRIC_SIZES` or an integer.

    Args:
        value: the value on the command line.

    Returns:
        The size name, or the number of points as an int.
    """
    if value in reporting.METRIC_SIZES or str(value).isdigit():
        return int(value) if str(value).isdigit() else value
    raise argparse.ArgumentTypeError(
        f"use one of {', '.join(reporting.METRIC_SIZES)} or an integer"
    )


# === Option groups ===


def add_data_options(parser, default="dsprites"):
    """Adds `--dataset`, `--source` and `--data-dir`.

    Args:
        parser: an `argparse` parser.
        default: default dataset; None means the dataset of the run.
    """
    group = parser.add_argument_group("data")
    group.add_argument(
        "--dataset", type=dataset_name, default=default,
        help=f"known: {known_datasets()}"
        + (f" (default: {default})" if default else " (default: the run's)"))
    group.add_argument("--source", choices=tuple(KNOWN_DATASETS), default=None,
                       help="procedural or tfds (default: procedural when "
                       "the name has one)")
    group.add_argument("--data-dir", default=None,
                       help="tensorflow-datasets directory (tfds source)")


def add_metric_options(parser, default_text):
    """Adds `--metrics` and `--metric-size`.

    Args:
        parser: an `argparse` parser or argument group.
        default_text: what the help says `--metrics` defaults to.
    """
    parser.add_argument(
        "--metrics", nargs="+", default=None,
        help=f"metrics among {', '.join(sorted(METRICS))}, or 'none' "
        f"(default: {default_text})")
    parser.add_argument(
        "--metric-size", type=metric_size, default="small",
        help="sample sizes of the metrics (keras_factorvae.reporting."
        "METRIC_SIZES): tiny (seconds), small (default; about a minute for "
        "all on a CPU), medium, full (disentanglement_lib's; many minutes) or "
        "an integer number of points")


def add_run_options(parser):
    """Adds the positional `PATH` and `--run` / `--model-path` (see `resolve_run`).

    Args:
        parser: an `argparse` parser.
    """
    parser.add_argument("path", nargs="?", default=None, metavar="PATH",
                        help="a run directory of `train` or a saved .keras "
                        "model (the same as --run or --model-path)")
    parser.add_argument("--run", default=None, help="a run directory of "
                        "`train` (model.keras, run.json)")
    parser.add_argument("--model-path", default=None,
                        help="a saved .keras model instead of --run")


def run_arguments(args):
    """`(run, model_path)` of the parsed `PATH`, `--run` and `--model-path`.

    Args:
        args: parsed arguments of a parser with `add_run_options`.

    Returns:
        The pair to pass to `resolve_run`: `PATH` counts as `--run` when it
        is a directory, else as `--model-path`.

    Raises:
        UsageError: `PATH` is given together with `--run` or `--model-path`.
    """
    run, model_path = args.run, args.model_path
    path = getattr(args, "path", None)
    if path is None:
        return run, model_path
    if run is not None or model_path is not None:
        raise UsageError(
            f"Pass the run or model once: either PATH ({path!r}) or "
            "--run / --model-path."
        )
    return (path, None) if os.path.isdir(path) else (None, path)


# === Runs, models and data ===


def command_line(args):
    """The command line that was run, as recorded in `run.json`.

    Args:
        args: the parsed arguments (`main` stores the raw ones in `argv`).

    Returns:
        The command as one string.
    """
    return " ".join([PROG] + list(getattr(args, "argv", []) or []))


def load_run_model(path):
    """Loads a saved keras_factorvae model, or raises a `UsageError`.

    Args:
        path: a `.keras` file.

    Returns:
        The model (not compiled).
    """
    from keras_factorvae.models.base import BaseVAE
    from keras_factorvae.saving import load_model

    try:
        return load_model(path, expect=BaseVAE, compile=False)
    except FileNotFoundError as error:
        raise UsageError(str(error)) from None
    except ValueError as error:
        raise UsageError(
            f"{error} Expected a model saved by keras_factorvae (one of "
            f"{', '.join(sorted(MODELS))})."
        ) from None


def resolve_run(run=None, model_path=None):
    """The model file, run directory and run config of `--run` / `--model-path`.

    Args:
        run: a run directory of `train`, or None.
        model_path: a `.keras` file (overrides the run's model), or None.

    Returns:
        `(model_path, run_dir or None, run config or {})`.

    Raises:
        UsageError: neither is given, or the run has no (finished) model.
    """
    from keras_factorvae.runs.directory import MODEL_FILE
    from keras_factorvae.runs.directory import RUN_FILE
    from keras_factorvae.runs.directory import backup_step
    from keras_factorvae.runs.directory import read_json

    if run is None and model_path is None:
        raise UsageError(
            "Pass a run directory or a .keras model: PATH, --run RUN_DIR or "
            "--model-path MODEL.keras."
        )
    if run is not None:
        if not os.path.isdir(run):
            raise UsageError(
                f"Run directory {run!r} does not exist. Train one with "
                f"`{PROG} train --out {run}`."
            )
        config = read_json(os.path.join(run, RUN_FILE)) or {}
        path = model_path or os.path.join(run, MODEL_FILE)
        if not os.path.exists(path):
            step = backup_step(run)
            if step:
                raise UsageError(
                    f"The run in {run!r} has not finished (its backup holds "
                    f"step {step}): rerun the same `{PROG} train` command to "
                    "resume it."
                )
            raise UsageError(f"No {MODEL_FILE} in the run directory {run!r}.")
        return path, run, config
    directory = os.path.dirname(os.path.abspath(model_path))
    config = read_json(os.path.join(directory, RUN_FILE)) or {}
    return model_path, None, config


def load_run_data(args, config, model):
    """The dataset of `--dataset` or of the run, checked against the model.

    Args:
        args: parsed arguments with `dataset`, `source` and `data_dir`.
        config: the run config (`resolve_run`); its dataset applies when
            `--dataset` is not given.
        model: the loaded model.

    Returns:
        A `GroundTruthData`, or None when neither names a dataset.

    Raises:
        UsageError: the images do not have the model's shape.
    """
    from keras_factorvae.runs import load_data

    name = args.dataset or config.get("dataset")
    if name is None:
        return None
    source = args.source or (config.get("source") if not args.dataset else None)
    data_dir = args.data_dir or (config.get("data_dir") if not args.dataset else None)
    data = load_data(name, source, data_dir)
    if tuple(data.observation_shape) != tuple(model.image_shape):
        raise UsageError(
            f"Dataset {name!r} has images of shape "
            f"{tuple(data.observation_shape)}, the model expects "
            f"{tuple(model.image_shape)}."
        )
    return data


def print_scores(scores):
    """Prints metric scores, one aligned `name  value` line each.

    Args:
        scores: dict `{name: score}`.
    """
    width = max((len(k) for k in scores), default=0)
    for key, value in scores.items():
        print(f"  {key:<{width}}  {reporting.format_score(value)}")
