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

The Keras backend is the one of `KERAS_BACKEND` (jax, tensorflow or torch).

Example:

```bash
keras-factorvae train --model factorvae --dataset dsprites --gamma 35 \\
    --steps 3000 --batch-size 64 --out runs/fvae
keras-factorvae evaluate --run runs/fvae --metrics mig factor_vae_score
keras-factorvae traverse --run runs/fvae --mode sigma
```
"""

import argparse
import inspect
import json
import os
import sys

from keras_factorvae import reporting
from keras_factorvae.datasets import KNOWN_DATASETS
from keras_factorvae.metrics.evaluate import METRICS
from keras_factorvae.models import MODELS
from keras_factorvae.runs import DEFAULT_BACKUP_EVERY
from keras_factorvae.runs import RunError
from keras_factorvae.runs import TrainConfig
from keras_factorvae.runs import compute_metrics
from keras_factorvae.runs import load_data
from keras_factorvae.runs import parse_backup_every
from keras_factorvae.runs import train as run_train
from keras_factorvae.runs.directory import MODEL_FILE
from keras_factorvae.runs.directory import RUN_FILE
from keras_factorvae.runs.directory import backup_step
from keras_factorvae.runs.directory import read_json as _read_json
from keras_factorvae.runs.history import as_float as _float

PROG = "keras-factorvae"

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



# An error the user can act on: printed without a traceback.
UsageError = RunError


# === Shared helpers ===


def _model_name(name):
    key = str(name).lower().replace("-", "_")
    if key not in MODELS:
        raise argparse.ArgumentTypeError(
            f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}"
        )
    return key


def _known_datasets():
    return "; ".join(
        f"{source}: {', '.join(names)}" for source, names in KNOWN_DATASETS.items()
    )


def _dataset_name(name):
    key = str(name).lower()
    if not any(key in names for names in KNOWN_DATASETS.values()):
        raise argparse.ArgumentTypeError(
            f"unknown dataset {name!r}; known datasets: {_known_datasets()}"
        )
    return key


def _positive_int(value):
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, received {value}")
    return number


def _metric_names(values):
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


def _backup_every(value):
    try:
        parse_backup_every(value)
    except RunError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return str(value)


def _metric_size(value):
    if value in reporting.METRIC_SIZES or str(value).isdigit():
        return int(value) if str(value).isdigit() else value
    raise argparse.ArgumentTypeError(
        f"use one of {', '.join(reporting.METRIC_SIZES)} or an integer"
    )


def load_run_model(path):
    """Loads a saved keras_factorvae model, or raises a `UsageError`."""
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
    """`(model_path, run_dir or None, run config or {})` from the options."""
    if run is None and model_path is None:
        raise UsageError("Pass --run RUN_DIR or --model-path MODEL.keras.")
    if run is not None:
        if not os.path.isdir(run):
            raise UsageError(
                f"Run directory {run!r} does not exist. Train one with "
                f"`{PROG} train --out {run}`."
            )
        config = _read_json(os.path.join(run, RUN_FILE)) or {}
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
    config = _read_json(os.path.join(directory, RUN_FILE)) or {}
    return model_path, None, config


def _data_for(args, config, model):
    """The dataset of `--dataset` or of the run, checked against the model."""
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


def _print_scores(scores):
    width = max((len(k) for k in scores), default=0)
    for key, value in scores.items():
        print(f"  {key:<{width}}  {reporting._fmt(value)}")


# === train ===


def model_kwargs_from_args(args):
    """Constructor arguments of `--model` from the command line options.

    Raises:
        UsageError: a hyper-parameter flag does not apply to the model.
    """
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


def _training_config(args):
    """The `TrainConfig` of `train`'s options."""
    return TrainConfig(
        model=args.model, model_kwargs=model_kwargs_from_args(args),
        dataset=args.dataset, source=args.source, data_dir=args.data_dir,
        batch_size=args.batch_size, steps=args.steps,
        steps_per_epoch=args.steps_per_epoch, paired=bool(args.paired),
        seed=args.seed,
        backup_every=getattr(args, "backup_every", DEFAULT_BACKUP_EVERY),
        metrics=args.metrics, metric_size=args.metric_size,
        metrics_every=args.metrics_every, traversal_every=args.traversal_every,
        traversal_mode=args.traversal_mode, tensorboard=args.tensorboard,
        verbose=args.verbose, overwrite=args.overwrite,
        command=" ".join([PROG] + list(getattr(args, "argv", []) or [])),
    )


def cmd_train(args):
    from keras_factorvae.threads import configure_allocator

    cfg = _training_config(args)
    configure_allocator()  # faster steps; see keras_factorvae.threads
    out = args.out or os.path.join(
        "runs", f"{cfg.model}_{cfg.dataset}_seed{cfg.seed}")
    record = run_train(cfg, out).record
    print(f"Wrote {out}: {MODEL_FILE}, history.csv/json, "
          f"{'metrics.json, ' if args.metrics != () else ''}pictures, report.md "
          f"({record['epochs_done']} epochs, {record['steps_done']} steps).")
    scores = _read_json(os.path.join(out, "metrics.json"))
    if scores and args.metrics != ():
        _print_scores(scores)
    return 0


# === evaluate / traverse ===


def cmd_evaluate(args):
    path, run, config = resolve_run(args.run, args.model_path)
    model = load_run_model(path)
    data = _data_for(args, config, model)
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
    output = args.output or (os.path.join(run, "metrics.json") if run else None)
    if output:
        reporting.write_json(scores, output)
        print(f"Wrote {output}")
    _print_scores(scores)
    return 0


def cmd_traverse(args):
    from keras_factorvae import visualize

    path, run, config = resolve_run(args.run, args.model_path)
    model = load_run_model(path)
    data = _data_for(args, config, model)
    out = args.out or run or os.path.dirname(os.path.abspath(path))
    os.makedirs(out, exist_ok=True)
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    if data is None:
        # No images: a traversal around the prior mean and prior samples.
        if args.mode != "fixed":
            raise UsageError(
                f"--mode {args.mode} needs images: pass --dataset.")
        visualize.traversal_grid(
            model, None, num_steps=args.num_steps, limit=args.limit,
            path=os.path.join(out, "traversal.png"))
        visualize.prior_samples(model, seed=seed,
                                path=os.path.join(out, "samples.png"))
        print(f"Wrote {out}: traversal.png (around z = 0; pass --dataset for "
              "the KL order), samples.png")
        return 0
    images = visualize._as_images(model, data, args.num_images, seed)
    _, info = visualize.traversal_grid(
        model, images, num_steps=args.num_steps, mode=args.mode,
        limit=args.limit, num_sigma=args.num_sigma,
        inactive_kl=args.inactive_kl, base_index=args.base_index,
        path=os.path.join(out, "traversal.png"),
    )
    written = ["traversal.png"]
    if not args.no_gif:
        visualize.traversal_gif(
            model, images, path=os.path.join(out, "traversal.gif"),
            num_steps=max(args.num_steps, 15), mode=args.mode, limit=args.limit,
            num_sigma=args.num_sigma, inactive_kl=args.inactive_kl,
            base_index=args.base_index, bounce=True,
        )
        written.append("traversal.gif")
    visualize.reconstructions(model, images[:10],
                              path=os.path.join(out, "reconstructions.png"))
    visualize.prior_samples(model, seed=seed,
                            path=os.path.join(out, "samples.png"))
    visualize.plot_kl(info["kl"], inactive_kl=args.inactive_kl,
                      path=os.path.join(out, "kl.png"))
    written += ["reconstructions.png", "samples.png", "kl.png"]
    history = None
    for name in ("history.json", "history.csv"):
        if run and os.path.exists(os.path.join(run, name)):
            history = os.path.join(run, name)
            break
    if history:
        data_h = visualize.load_history(history)
        keys = reporting.curve_keys(model, data_h)
        if keys:
            visualize.plot_history(data_h, keys,
                                   path=os.path.join(out, "curves.png"))
            written.append("curves.png")
    print(f"Wrote {out}: {', '.join(written)}")
    inactive = ", ".join(f"z{d}" for d in info["inactive"]) or "none"
    order = ", ".join(f"z{d} ({info['kl'][d]:.2f})" for d in info["dims"])
    print(f"  rows by KL (nats): {order}\n  inactive (KL < {args.inactive_kl:g}): "
          f"{inactive}")
    return 0


# === tune / bench ===


def _literal(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_tune(args):
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


def cmd_bench(args):
    from keras_factorvae import bench

    return bench.main(args.bench_args) or 0


# === reproduce ===

EXPERIMENTS = {
    "factorvae_gamma": {
        "description": (
            "FactorVAE on dSprites against gamma, the sweep of Kim & Mnih "
            "(2018): FactorVAE metric and reconstruction error per gamma"),
        "model": "factorvae",
        "param": "gamma",
        "values": (10.0, 20.0, 30.0, 40.0, 50.0, 100.0),
        "model_kwargs": {"preset": "conv_paper"},
    },
    "beta_vae_beta": {
        "description": (
            "beta-VAE on dSprites against beta, the baseline sweep of Kim & "
            "Mnih (2018)"),
        "model": "beta_vae",
        "param": "beta",
        "values": (1.0, 2.0, 4.0, 6.0, 8.0, 16.0),
        "model_kwargs": {"preset": "conv_paper"},
    },
}


def cmd_reproduce(args):
    if args.list:
        print("(default, no experiment named): FactorVAE at gammas --values "
              "(10 35) vs beta-VAE (beta 4) vs VAE, paper settings, every "
              "metric; see keras_factorvae.reproduce")
        for name, spec in EXPERIMENTS.items():
            print(f"{name}: {spec['description']}; values "
                  f"{list(spec['values'])}")
        return 0
    if args.experiment is None:
        from keras_factorvae import reproduce

        metrics = tuple(args.metrics or reproduce.DEFAULT_METRICS)
        sizes = reporting.metric_overrides(metrics, args.metric_size) or None
        reproduce.run_study(
            args.out or os.path.join("runs", "repro"),
            reproduce.parse_methods(tuple(args.values or (10.0, 35.0))),
            tuple(args.seeds), args.steps, args.steps_per_epoch or 500,
            args.batch_size, metrics=metrics, metric_sizes=sizes,
            verbose=args.verbose)
        return 0
    spec = EXPERIMENTS[args.experiment]
    values = tuple(args.values or spec["values"])
    seeds = tuple(args.seeds)
    out = args.out or os.path.join("runs", "reproduce", args.experiment)
    os.makedirs(out, exist_ok=True)
    metrics = args.metrics or ("factor_vae_score", "mig")
    rows = []
    total = len(values) * len(seeds)
    for i, (value, seed) in enumerate(
            (v, s) for v in values for s in seeds):
        run_dir = os.path.join(out, f"{spec['param']}_{value:g}_seed{seed}")
        cfg = TrainConfig(
            model=spec["model"], dataset="dsprites",
            model_kwargs={"latent_dim": args.latent_dim,
                          "preset": spec["model_kwargs"]["preset"],
                          "seed": seed, spec["param"]: value},
            batch_size=args.batch_size, steps=args.steps,
            steps_per_epoch=args.steps_per_epoch, seed=seed,
            metrics=metrics, metric_size=args.metric_size, traversal_every=0,
            verbose=args.verbose,
            command=" ".join([PROG] + list(getattr(args, "argv", []) or [])),
        )
        record = _read_json(os.path.join(run_dir, RUN_FILE)) or {}
        done = record.get("status") == "finished" and os.path.exists(
            os.path.join(run_dir, "metrics.json"))
        print(f"[{i + 1}/{total}] {spec['param']}={value:g} seed={seed}: "
              f"{'done, skipped' if done else 'training'}")
        if not done:
            cfg.overwrite = record.get("status") == "finished"
            run_train(cfg, run_dir)
        scores = _read_json(os.path.join(run_dir, "metrics.json")) or {}
        history = _read_json(os.path.join(run_dir, "history.json")) or {}
        recon = (history.get("reconstruction_loss") or [None])[-1]
        rows.append({spec["param"]: value, "seed": seed,
                     "reconstruction_loss": recon, **scores})
    _write_reproduction(out, args.experiment, spec, rows, metrics, args)
    return 0


def _write_reproduction(out, name, spec, rows, metrics, args):
    import csv

    import numpy as np

    from keras_factorvae import visualize
    from keras_factorvae.metrics import HEADLINES

    param = spec["param"]
    keys = [f"{m}.{HEADLINES[m][1]}" for m in metrics] + ["reconstruction_loss"]
    columns = [param, "seed"] + keys + sorted(
        {k for r in rows for k in r} - set(keys) - {param, "seed"})
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(reporting.json_safe(rows))
    table = [f"| {param} | runs | " + " | ".join(keys) + " |",
             "|---" * (len(keys) + 2) + "|"]
    for value in sorted({r[param] for r in rows}):
        group = [r for r in rows if r[param] == value]
        cells = []
        for key in keys:
            vals = np.array([_float(r.get(key)) for r in group])
            vals = vals[np.isfinite(vals)]
            cells.append(f"{vals.mean():.3f} +- {vals.std():.3f}" if len(vals)
                         else "n/a")
        table.append(f"| {value:g} | {len(group)} | " + " | ".join(cells) + " |")
    visualize.plot_metric_vs_gamma(
        rows, keys, x=param, path=os.path.join(out, f"metric_vs_{param}.png"),
        title=spec["description"].split(",")[0])
    summary = [
        spec["description"] + ".",
        f"Each run: {args.steps} steps of batch {args.batch_size}, latent "
        f"{args.latent_dim}, preset {spec['model_kwargs']['preset']}; "
        f"seeds {list(args.seeds)}; metric size `{args.metric_size}`. "
        "Values are mean +- std over seeds. Runs are in the sub-directories "
        "(each with its own report.md).",
    ]
    lines = [f"# Reproduction: {name}", ""]
    for p in summary:
        lines += [p, ""]
    lines += table + ["", f"![metric vs {param}](metric_vs_{param}.png)", ""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(table))
    print(f"Wrote {out}: results.csv, metric_vs_{param}.png, report.md")


def _fail(message):
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


# === Parser ===


def _add_model_options(parser):
    group = parser.add_argument_group("model")
    group.add_argument("--model", type=_model_name, default="factorvae",
                       help=f"one of {', '.join(sorted(MODELS))} "
                       "(default: factorvae)")
    group.add_argument("--latent-dim", type=_positive_int, default=10)
    group.add_argument("--preset", default="conv",
                       help="conv, conv_paper or mlp (default: conv)")
    group.add_argument("--reconstruction", default="bernoulli",
                       choices=("bernoulli", "gaussian"))
    for name, (kind, text) in HYPERPARAMETERS.items():
        group.add_argument(f"--{name.replace('_', '-')}", type=kind,
                           default=None, help=text)


def _add_data_options(parser, default="dsprites"):
    group = parser.add_argument_group("data")
    group.add_argument(
        "--dataset", type=_dataset_name, default=default,
        help=f"known: {_known_datasets()}"
        + (f" (default: {default})" if default else " (default: the run's)"))
    group.add_argument("--source", choices=tuple(KNOWN_DATASETS), default=None,
                       help="procedural or tfds (default: procedural when "
                       "the name has one)")
    group.add_argument("--data-dir", default=None,
                       help="tensorflow-datasets directory (tfds source)")


def _add_metric_options(parser, default_text):
    parser.add_argument(
        "--metrics", nargs="+", default=None,
        help=f"metrics among {', '.join(sorted(METRICS))}, or 'none' "
        f"(default: {default_text})")
    parser.add_argument(
        "--metric-size", type=_metric_size, default="small",
        help="sample sizes of the metrics (keras_factorvae.reporting."
        "METRIC_SIZES): tiny (seconds), small (default; about a minute for "
        "all on a CPU), medium, full (disentanglement_lib's; many minutes) or "
        "an integer number of points")


def _add_run_options(parser):
    parser.add_argument("--run", default=None, help="a run directory of "
                        "`train` (model.keras, run.json)")
    parser.add_argument("--model-path", default=None,
                        help="a saved .keras model instead of --run")


def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train, evaluate and inspect disentangling VAEs "
        "(keras_factorvae) on the Keras backend of KERAS_BACKEND.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    # train
    p = sub.add_parser(
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
    _add_data_options(p)
    g = p.add_argument_group("training")
    g.add_argument("--steps", type=_positive_int, default=3000,
                   help="training steps (default: 3000)")
    g.add_argument("--steps-per-epoch", type=_positive_int, default=None,
                   help="steps per epoch (default: min(steps, 500))")
    g.add_argument("--batch-size", type=_positive_int, default=64)
    g.add_argument("--paired", action="store_true",
                   help="feed (x, x2) batch pairs (FactorVAE Algorithm 2)")
    g.add_argument("--seed", type=int, default=0)
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
    _add_metric_options(g, ", ".join(reporting.DEFAULT_METRICS))
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
    p.set_defaults(func=cmd_train)

    # evaluate
    p = sub.add_parser(
        "evaluate", help="recompute the metrics of a run or model",
        description="Recomputes disentanglement metrics of a trained model "
        "and writes them to RUN/metrics.json (or --output).")
    _add_run_options(p)
    _add_data_options(p, default=None)
    _add_metric_options(p, "those of the run, else "
                        + ", ".join(reporting.DEFAULT_METRICS))
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the metrics (default: the run's)")
    p.add_argument("--output", default=None, help="metrics JSON file")
    p.set_defaults(func=cmd_evaluate)

    # traverse
    p = sub.add_parser(
        "traverse", help="write traversal pictures of a run or model",
        description="Writes traversal.png (one row per latent dim, ordered "
        "by KL; inactive dims dimmed with a red bar), traversal.gif, "
        "reconstructions.png, samples.png, kl.png and curves.png.")
    _add_run_options(p)
    _add_data_options(p, default=None)
    p.add_argument("--out", default=None,
                   help="output directory (default: the run directory)")
    p.add_argument("--mode", choices=("fixed", "sigma", "minmax"),
                   default="fixed",
                   help="sweep [-limit, limit], +-num_sigma std of the "
                   "encoded means, or their min..max (default: fixed)")
    p.add_argument("--num-steps", type=_positive_int, default=9)
    p.add_argument("--limit", type=float, default=2.0)
    p.add_argument("--num-sigma", type=float, default=2.0)
    p.add_argument("--inactive-kl", type=float, default=0.1,
                   help="KL (nats) below which a dim is inactive")
    p.add_argument("--num-images", type=_positive_int, default=256,
                   help="images for the KL order and sweep ranges")
    p.add_argument("--base-index", type=int, default=0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--no-gif", action="store_true")
    p.set_defaults(func=cmd_traverse)

    # tune
    p = sub.add_parser(
        "tune", help="hyper-parameter search (KerasTuner)",
        description="Searches a model's hyper-parameters with KerasTuner through "
        "keras_factorvae.tuning.tune (resumable) and writes the results "
        "table, plot and best model to DIRECTORY/PROJECT_results.")
    p.add_argument("--model", type=_model_name, default="factorvae")
    _add_data_options(p)
    p.add_argument("--objective", default=None,
                   help="factor_vae_score, mig or unsupervised (default: by "
                   "whether the data has factors)")
    p.add_argument("--tuner", choices=("bayesian", "random", "hyperband"),
                   default="bayesian")
    p.add_argument("--max-trials", type=_positive_int, default=10)
    p.add_argument("--epochs", type=_positive_int, default=1)
    p.add_argument("--steps-per-epoch", type=_positive_int, default=None)
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--directory", default="runs/tuning")
    p.add_argument("--project-name", default="factorvae")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--verbose", type=int, default=1)
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="more tune() arguments, e.g. --set latent_dim=10 "
                   "(JSON values); repeatable")
    p.set_defaults(func=cmd_tune)

    # bench
    p = sub.add_parser(
        "bench", help="time training steps", add_help=False,
        description="Forwards its arguments to keras_factorvae.bench "
        "(--model --preset --batch-size --steps --warmup --json).")
    p.add_argument("bench_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)

    # reproduce
    p = sub.add_parser(
        "reproduce", help="reproduction study (FactorVAE vs beta-VAE vs VAE) or a paper sweep",
        description="Trains one run per value and seed (each a resumable "
        "`train` run directory; finished runs are skipped on a rerun), then "
        "writes results.csv, metric_vs_PARAM.png and report.md. Experiments: "
        + "; ".join(f"{k}: {v['description']}" for k, v in EXPERIMENTS.items())
        + ". Paper-scale runs (hundreds of thousands of steps, several seeds "
        "per value) take days on a CPU: scale with --steps and --seeds.")
    p.add_argument("experiment", nargs="?", choices=tuple(EXPERIMENTS),
                   help="a one-parameter sweep; without it, the study of "
                   "FactorVAE (gammas from --values, default 10 35) "
                   "vs beta-VAE (beta 4) vs VAE with every metric, written to "
                   "--out (default runs/repro); see keras_factorvae.reproduce")
    p.add_argument("--list", action="store_true", help="list experiments")
    p.add_argument("--values", type=float, nargs="+", default=None,
                   help="override the swept values")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=_positive_int, default=20000)
    p.add_argument("--steps-per-epoch", type=_positive_int, default=None)
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--latent-dim", type=_positive_int, default=10)
    _add_metric_options(p, "factor_vae_score mig")
    p.add_argument("--out", default=None,
                   help="default: runs/reproduce/EXPERIMENT")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    p.set_defaults(func=cmd_reproduce)
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
        args = argparse.Namespace(func=cmd_bench, bench_args=argv[1:])
    else:
        args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    args.argv = argv
    try:
        if hasattr(args, "metrics"):
            args.metrics = _metric_names(args.metrics)
        return int(args.func(args) or 0)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
