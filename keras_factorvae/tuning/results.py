"""Tables, plots and the best model of a finished search."""

import csv
import json
import math
import os

# Columns looked up in each trial's metrics (values at the trial's best
# epoch), in table order; absent ones are left out.
METRIC_COLUMNS = (
    "loss", "reconstruction_loss", "kl_loss", "tc_loss",
    "val_reconstruction_loss", "val_gaussian_tc", "val_recon_tc_tradeoff",
    "val_factor_vae_score", "val_discrete_mig",
)


def _finite_or_none(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def trials_table(tuner):
    """One row per trial: ids, hyperparameters, objective and metrics.

    Args:
        tuner: a `keras_tuner.Tuner` (its oracle must be local: a
            non-distributed tuner or the chief).

    Returns:
        A list of dicts sorted by trial id, with keys `trial_id`, `status`,
        `objective` (the trial's score), `objective_name`, the
        hyperparameter values and the `METRIC_COLUMNS` the trial logged.
    """
    oracle = tuner.oracle
    objective = oracle.objective
    objective_name = getattr(objective, "name", str(objective))
    rows = []
    for trial_id in sorted(oracle.trials, key=lambda t: (len(t), t)):
        trial = oracle.trials[trial_id]
        row = {
            "trial_id": trial.trial_id,
            "status": str(trial.status),
            "objective_name": objective_name,
            "objective_direction": getattr(objective, "direction", None),
            "objective": _finite_or_none(trial.score),
        }
        for name, value in trial.hyperparameters.values.items():
            # KerasTuner's own bookkeeping (Hyperband's tuner/epochs...).
            if not name.startswith("tuner/"):
                row[name] = value
        for name in METRIC_COLUMNS:
            if trial.metrics.exists(name):
                # The tuner reports every metric once, at the epoch where
                # the objective was best.
                row[name] = _finite_or_none(
                    trial.metrics.get_last_value(name))
        rows.append(row)
    return rows


def _x_parameter(rows, x=None):
    if x is not None:
        return x
    for name in ("gamma", "beta", "c_max", "lambda_od"):
        if any(name in row for row in rows):
            return name
    skip = {"trial_id", "status", "objective_name", "objective_direction",
            "objective", *METRIC_COLUMNS}
    for row in rows:
        for name, value in row.items():
            if name not in skip and isinstance(value, (int, float)):
                return name
    return None


def plot_trials(rows, path, x=None):
    """Plots objective, reconstruction and TC against a hyperparameter.

    Three panels: the objective; the reconstruction loss (training and
    held-out); the TC estimates (the model's own `tc_loss` where it logs
    one, and the Gaussian TC of the codes). The best trial is starred. Log
    x axis when all values are positive.

    Args:
        rows: `trials_table` rows.
        path: the PNG file to write.
        x: the hyperparameter on the x axis; by default `gamma` (or `beta`,
            `c_max`, `lambda_od`, else the first numeric one).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Figure + Agg canvas, not pyplot: no global state, no display needed.
    x = _x_parameter(rows, x)
    done = [r for r in rows if x is not None and
            isinstance(r.get(x), (int, float))]
    done.sort(key=lambda r: r[x])
    fig = Figure(figsize=(12, 3.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    objective_name = rows[0]["objective_name"] if rows else "objective"
    panels = [
        (axes[0], [("objective", objective_name)], "objective"),
        (axes[1], [("reconstruction_loss", "train"),
                   ("val_reconstruction_loss", "held-out")],
         "reconstruction loss (nats)"),
        (axes[2], [("tc_loss", "model's tc_loss (train)"),
                   ("val_gaussian_tc", "Gaussian TC of codes")],
         "total correlation estimate (nats)"),
    ]
    scored = [r for r in done if r.get("objective") is not None]
    if scored:
        pick = max if rows[0].get("objective_direction") == "max" else min
        best = pick(scored, key=lambda r: r["objective"])
        axes[0].plot([best[x]], [best["objective"]], marker="*", color="red",
                     markersize=14, linestyle="none", label="best")
    xs_all = [r[x] for r in done]
    for ax, series, ylabel in panels:
        for key, label in series:
            pts = [(r[x], r[key]) for r in done if r.get(key) is not None]
            if pts:
                ax.plot(*zip(*pts), marker="o", label=label)
        ax.set_xlabel(x or "trial")
        ax.set_ylabel(ylabel)
        if xs_all and min(xs_all) > 0:
            ax.set_xscale("log")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{len(done)} trials")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def write_results(tuner, directory, x=None, save_best_model=True):
    """Writes the results of a search: table, plot and best model.

    Files written in `directory`:

    - `results.csv`, `results.json`: `trials_table(tuner)`;
    - `results.png`: `plot_trials` (objective, reconstruction and TC
      against `x`, e.g. gamma);
    - `best_hyperparameters.json`;
    - `best_model.keras`: the best trial's model at its best epoch. KerasTuner
      checkpoints weights only, so the model is rebuilt from the hypermodel
      with the best hyperparameters and the weights loaded
      (`tuner.get_best_models`), then saved in Keras' format; it reloads
      with `keras.models.load_model` without `custom_objects`.

    Call it on a non-distributed tuner or on the chief (whose oracle holds
    the trials), never on a worker.

    Args:
        tuner: the tuner `tune` returned (or any `keras_tuner.Tuner` of the
            zoo's hypermodels).
        directory: output directory (created).
        x: the hyperparameter of the plot's x axis.
        save_best_model: whether to write `best_model.keras`.

    Returns:
        A dict of the written paths (`csv`, `json`, `png`,
        `best_hyperparameters`, `best_model`).

    Example:

    ```python
    tuner = kfv.tuning.tune(data, max_trials=20, directory="runs/tuning")
    paths = kfv.tuning.write_results(tuner, "runs/tuning/results")
    model = keras.models.load_model(paths["best_model"])
    ```
    """
    os.makedirs(directory, exist_ok=True)
    rows = trials_table(tuner)
    paths = {
        "csv": os.path.join(directory, "results.csv"),
        "json": os.path.join(directory, "results.json"),
        "png": os.path.join(directory, "results.png"),
    }
    columns = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with open(paths["csv"], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    with open(paths["json"], "w") as f:
        json.dump(rows, f, indent=2)
    plot_trials(rows, paths["png"], x=x)

    completed = [r for r in rows if r["objective"] is not None]
    if completed:
        best_hp = tuner.get_best_hyperparameters(1)[0]
        paths["best_hyperparameters"] = os.path.join(
            directory, "best_hyperparameters.json")
        with open(paths["best_hyperparameters"], "w") as f:
            json.dump(best_hp.values, f, indent=2)
        if save_best_model:
            paths["best_model"] = os.path.join(directory, "best_model.keras")
            tuner.get_best_models(1)[0].save(paths["best_model"])
    return paths
