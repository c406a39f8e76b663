"""`keras-factorvae tune`: a hyper-parameter search with KerasTuner."""

import json
import os

from keras_factorvae.cli.common import UsageError
from keras_factorvae.cli.common import add_data_options
from keras_factorvae.cli.common import model_name
from keras_factorvae.cli.common import positive_int


def _literal(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def run(args):
    """Runs `tune`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status.
    """
    from keras_factorvae.runs import load_data

    try:
        from keras_factorvae import tuning
    except ImportError as error:
        raise UsageError(
            f"Hyper-parameter search needs keras-tuner: {error}") from None
    data = load_data(args.dataset, args.source, args.data_dir)
    extra = {}
    for item in args.set or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--set expects KEY=VALUE, received {item!r}.")
        extra[key.replace("-", "_")] = _literal(value)
    try:
        tuner = tuning.tune(
            data, objective=args.objective, max_trials=args.max_trials,
            tuner=args.tuner, directory=args.directory,
            project_name=args.project_name, overwrite=args.overwrite,
            model=args.model, epochs=args.epochs,
            steps_per_epoch=args.steps_per_epoch, batch_size=args.batch_size,
            seed=args.seed, verbose=args.verbose, **extra,
        )
    except (ValueError, TypeError) as error:
        raise UsageError(f"tune: {error}") from None
    if getattr(tuning, "is_worker", lambda: False)():
        return 0
    results = os.path.join(args.directory, f"{args.project_name}_results")
    tuning.write_results(tuner, results)
    print(f"Wrote {results} (results.csv, results.png, best_model.keras).")
    return 0


def add_parser(subparsers):
    """Adds the `tune` subcommand.

    Args:
        subparsers: the object of `ArgumentParser.add_subparsers`.
    """
    p = subparsers.add_parser(
        "tune", help="hyper-parameter search (KerasTuner)",
        description="Searches a model's hyper-parameters with KerasTuner through "
        "keras_factorvae.tuning.tune (resumable) and writes the results "
        "table, plot and best model to DIRECTORY/PROJECT_results.")
    p.add_argument("--model", type=model_name, default="factorvae")
    add_data_options(p)
    p.add_argument("--objective", default=None,
                   help="factor_vae_score, mig or unsupervised (default: by "
                   "whether the data has factors)")
    p.add_argument("--tuner", choices=("bayesian", "random", "hyperband"),
                   default="bayesian")
    p.add_argument("--max-trials", type=positive_int, default=10)
    p.add_argument("--epochs", type=positive_int, default=1)
    p.add_argument("--steps-per-epoch", type=positive_int, default=None)
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--directory", default="runs/tuning")
    p.add_argument("--project-name", default="factorvae")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--verbose", type=int, default=1)
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="more tune() arguments, e.g. --set latent_dim=10 "
                   "(JSON values); repeatable")
    p.set_defaults(func=run)
