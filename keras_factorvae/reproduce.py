"""Reproduction study: FactorVAE against beta-VAE and the VAE on dSprites.

Trains every (method, seed) of the study with the paper's settings (conv
preset, latent 10, batch 64, the paper optimisers) on the built-in dSprites,
evaluates the metric suite on each model, and writes:

- `results.csv`, `results.md`: one row per model and seed;
- `scores_vs_reconstruction.png`: FactorVAE score and MIG against the
  reconstruction loss, one point per model and seed (as the paper's figure);
- `traversal_<method>.png`: the traversal of each method's best model;
- `study.json`: the settings, wall times and backend.

Each finished model leaves `models/<run>/done.json`; a study started again
with the same output directory skips those (resume), and a model interrupted
mid-training resumes from its last backup (`keras_factorvae.runs`: every
`backup_every` steps or seconds), as an uninterrupted one would have gone on.
"""

import csv
import json
import os
import time

import numpy as np

from keras_factorvae import backend

# (run name, model name, constructor arguments)
DEFAULT_METHODS = (
    ("factorvae_gamma10", "factorvae", {"gamma": 10.0}),
    ("factorvae_gamma35", "factorvae", {"gamma": 35.0}),
    ("beta_vae_beta4", "beta_vae", {"beta": 4.0}),
    ("vae", "vae", {}),
)

DEFAULT_METRICS = (
    "factor_vae_score", "beta_vae_score", "mig", "dci", "sap_score",
    "modularity_explicitness", "irs", "unsupervised",
)


def parse_methods(gammas=(10.0, 35.0), beta=4.0, include_vae=True):
    """The study's list of runs from the FactorVAE gammas and beta-VAE beta."""
    methods = [(f"factorvae_gamma{g:g}", "factorvae", {"gamma": float(g)})
               for g in gammas]
    methods.append((f"beta_vae_beta{beta:g}", "beta_vae", {"beta": float(beta)}))
    if include_vae:
        methods.append(("vae", "vae", {}))
    return methods


def _config(model_name, kwargs, seed, steps, steps_per_epoch, batch_size,
            verbose, backup_every):
    """The `runs.TrainConfig` of one model of the study (the paper's
    settings: conv preset, latent 10, paired batches; no metrics or
    pictures, which the study computes itself)."""
    from keras_factorvae import runs

    return runs.TrainConfig(
        model=model_name,
        model_kwargs={"latent_dim": 10, "preset": "conv", "seed": seed, **kwargs},
        batch_size=batch_size, steps=steps, steps_per_epoch=steps_per_epoch,
        paired=True, seed=seed, backup_every=backup_every, metrics=(),
        traversal_every=0, pictures=False, verbose=verbose,
        command="keras_factorvae.reproduce.run_study",
    )


def _trained(config, run_dir):
    """`(model, data, train_seconds)` of the run in `run_dir`: trained (or
    resumed from its last backup, mid-epoch included) by `runs.train`, or
    loaded when training finished before an interruption (in the metrics)."""
    from keras_factorvae import runs
    from keras_factorvae.runs import directory
    from keras_factorvae.saving import load_model

    record = directory.read_json(os.path.join(run_dir, directory.RUN_FILE)) or {}
    if record.get("status") == "finished":
        model = load_model(os.path.join(run_dir, directory.MODEL_FILE))
        data = runs.load_data(config.dataset, config.source, config.data_dir)
        return model, data, record["train_seconds"]
    run = runs.train(config, run_dir)
    return run.model, run.data, run.record["train_seconds"]


def _held_out_losses(model, data, seed, n=1024):
    rng = np.random.RandomState(10_000 + seed)
    x = data.sample_observations(n, rng)
    losses = [model.compute_losses(x[i : i + 256]) for i in range(0, n, 256)]
    return {k: float(np.mean([l[k] for l in losses])) for k in losses[0]}


def run_study(out, methods=DEFAULT_METHODS, seeds=(0,), steps=3000,
              steps_per_epoch=500, batch_size=64, metrics=DEFAULT_METRICS,
              metric_sizes=None, verbose=2, backup_every="60s"):
    """Runs (or resumes) the study and writes its results under `out`.

    Args:
        out: output directory.
        methods: `(run name, model name, kwargs)` triples.
        seeds: seeds per method.
        steps: training steps per model.
        steps_per_epoch: steps per epoch (history rows).
        batch_size: images per step (64 in the paper).
        metrics: names of `keras_factorvae.metrics.METRICS` to compute.
        metric_sizes: overrides of the metrics' sample sizes (e.g.
            `{"num_train": 2000}`); None keeps the study's defaults.
        verbose: Keras progress verbosity.
        backup_every: backups of a model in training, every N steps
            (`"200"`) or seconds (`"60s"`); an interrupted study resumes
            from the last one with the noise and batches it would have had.

    Returns:
        The list of result rows (dicts).

    Example:

    >>> rows = run_study("runs/repro", seeds=(0, 1), steps=3000)
    """
    from keras_factorvae import metrics as metric_lib
    from keras_factorvae import visualize
    from keras_factorvae.saving import load_model

    os.makedirs(os.path.join(out, "models"), exist_ok=True)
    rows, study_start = [], time.time()
    for run, model_name, kwargs in methods:
        for seed in seeds:
            run_dir = os.path.join(out, "models", f"{run}_seed{seed}")
            os.makedirs(run_dir, exist_ok=True)
            done = os.path.join(run_dir, "done.json")
            if os.path.exists(done):
                with open(done) as f:
                    rows.append(json.load(f))
                continue
            config = _config(model_name, kwargs, seed, steps, steps_per_epoch,
                             batch_size, verbose, backup_every)
            model, data, seconds = _trained(config, run_dir)
            t0 = time.time()
            scores = metric_lib.evaluate(model, data, metrics=metrics, seed=seed,
                                         **(metric_sizes or {}))
            held_out = _held_out_losses(model, data, seed)
            row = {"run": run, "method": model_name, **kwargs, "seed": seed,
                   "steps": steps, "train_seconds": round(seconds, 1),
                   "metric_seconds": round(time.time() - t0, 1),
                   "reconstruction_loss": held_out["reconstruction_loss"],
                   "kl_loss": held_out["kl_loss"], **scores}
            with open(done, "w") as f:
                json.dump(row, f, indent=1)
            rows.append(row)
    _write_tables(out, rows)
    _plot(out, rows)
    data = None
    for run, _, _ in methods:
        mine = [r for r in rows if r["run"] == run]
        if not mine:
            continue
        best = max(mine, key=lambda r: r.get("factor_vae_score.eval_accuracy", 0))
        model = load_model(os.path.join(out, "models", f"{run}_seed{best['seed']}",
                                        "model.keras"))
        if data is None:
            from keras_factorvae import datasets

            data = datasets.load("dsprites")
            images = data.sample_observations(256, np.random.RandomState(0))
        visualize.traversal_grid(model, images,
                                 path=os.path.join(out, f"traversal_{run}.png"))
    with open(os.path.join(out, "study.json"), "w") as f:
        json.dump({"methods": [list(m) for m in methods], "seeds": list(seeds),
                   "steps": steps, "batch_size": batch_size,
                   "metric_sizes": metric_sizes, "backend": backend.name(),
                   "wall_seconds_this_invocation": round(time.time() - study_start, 1)},
                  f, indent=1)
    return rows


def _write_tables(out, rows):
    from keras_factorvae import reporting

    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    shown = ["run", "seed", "steps", "reconstruction_loss", "kl_loss",
             "factor_vae_score.eval_accuracy", "beta_vae_score.eval_accuracy",
             "mig.discrete_mig", "dci.disentanglement", "sap_score.SAP_score",
             "modularity_explicitness.modularity_score", "irs.IRS"]
    shown = [k for k in shown if k in keys]
    lines = reporting.markdown_table(shown, [
        [f"{row[k]:.4g}" if isinstance(row.get(k), float) else str(row.get(k, ""))
         for k in shown]
        for row in rows])
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def _plot(out, rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, key, title in zip(
        axes, ("factor_vae_score.eval_accuracy", "mig.discrete_mig"),
        ("FactorVAE score", "MIG"),
    ):
        for run in dict.fromkeys(r["run"] for r in rows):
            mine = [r for r in rows if r["run"] == run and key in r]
            ax.scatter([r["reconstruction_loss"] for r in mine],
                       [r[key] for r in mine], label=run)
        ax.set_xlabel("reconstruction loss (held out)")
        ax.set_ylabel(title)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "scores_vs_reconstruction.png"), dpi=90)
    plt.close(fig)
