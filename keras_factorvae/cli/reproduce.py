"""`keras-factorvae reproduce`: the reproduction study or a paper sweep.

Without an experiment name: the study of `keras_factorvae.reproduce`
(FactorVAE vs beta-VAE vs VAE). With one (`EXPERIMENTS`): a one-parameter
sweep on dSprites, one resumable `train` run per value and seed, then a
results table, a metric-vs-parameter plot and `report.md`.
"""

import os

from keras_factorvae import reporting
from keras_factorvae.cli.common import add_metric_options
from keras_factorvae.cli.common import command_line
from keras_factorvae.cli.common import positive_int

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


def run(args):
    """Runs `reproduce`.

    Args:
        args: the parsed arguments.

    Returns:
        The exit status.
    """
    from keras_factorvae.runs import TrainConfig
    from keras_factorvae.runs import train as run_train
    from keras_factorvae.runs.directory import RUN_FILE
    from keras_factorvae.runs.directory import read_json

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
            verbose=args.verbose, command=command_line(args),
        )
        record = read_json(os.path.join(run_dir, RUN_FILE)) or {}
        done = record.get("status") == "finished" and os.path.exists(
            os.path.join(run_dir, "metrics.json"))
        print(f"[{i + 1}/{total}] {spec['param']}={value:g} seed={seed}: "
              f"{'done, skipped' if done else 'training'}")
        if not done:
            cfg.overwrite = record.get("status") == "finished"
            run_train(cfg, run_dir)
        scores = read_json(os.path.join(run_dir, "metrics.json")) or {}
        history = read_json(os.path.join(run_dir, "history.json")) or {}
        recon = (history.get("reconstruction_loss") or [None])[-1]
        rows.append({spec["param"]: value, "seed": seed,
                     "reconstruction_loss": recon, **scores})
    write_reproduction(out, args.experiment, spec, rows, metrics, args)
    return 0


def sweep_table(param, keys, rows):
    """Markdown lines of a sweep: per value of `param`, mean +- std of `keys`.

    Args:
        param: the swept parameter (a key of every row).
        keys: the scores tabled, one column each.
        rows: one dict per run; missing and non-finite scores are skipped
            (`n/a` when a value has none).

    Returns:
        The lines of `reporting.markdown_table`, values in increasing order.
    """
    import numpy as np

    from keras_factorvae.runs.history import as_float

    table = []
    for value in sorted({r[param] for r in rows}):
        group = [r for r in rows if r[param] == value]
        cells = []
        for key in keys:
            vals = np.array([as_float(r.get(key)) for r in group])
            vals = vals[np.isfinite(vals)]
            cells.append(f"{vals.mean():.3f} +- {vals.std():.3f}" if len(vals)
                         else "n/a")
        table.append([f"{value:g}", len(group)] + cells)
    return reporting.markdown_table([param, "runs"] + list(keys), table)


def write_reproduction(out, name, spec, rows, metrics, args):
    """Writes `results.csv`, `metric_vs_PARAM.png` and `report.md` of a sweep.

    Args:
        out: the sweep's directory.
        name: the experiment's name.
        spec: its entry of `EXPERIMENTS`.
        rows: one dict per run: the swept value, seed and scores.
        metrics: the metrics computed; their headline scores are tabled.
        args: the parsed arguments (the settings the report states).
    """
    import csv

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
    table = sweep_table(param, keys, rows)
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


def add_parser(subparsers):
    """Adds the `reproduce` subcommand.

    Args:
        subparsers: the object of `ArgumentParser.add_subparsers`.
    """
    p = subparsers.add_parser(
        "reproduce",
        help="reproduction study (FactorVAE vs beta-VAE vs VAE) or a paper "
        "sweep",
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
    p.add_argument("--steps", type=positive_int, default=20000)
    p.add_argument("--steps-per-epoch", type=positive_int, default=None)
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--latent-dim", type=positive_int, default=10)
    add_metric_options(p, "factor_vae_score mig")
    p.add_argument("--out", default=None,
                   help="default: runs/reproduce/EXPERIMENT")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    p.set_defaults(func=run)
