"""Matplotlib figures: per-dimension KL, training curves and sweep results.

Plots are drawn with matplotlib's object API on an Agg canvas, so the
pyplot state and a notebook's backend are left alone. Each function returns
the rendered figure as a float32 RGB array in [0, 1] and writes it when
given a `path`.
"""

import math
import os

import numpy as np

from keras_factorvae.visualize.images import save_image
from keras_factorvae.visualize.inference import as_images
from keras_factorvae.visualize.inference import per_dimension_kl


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _no_offset(ax):
    # "+2.839e3" offsets collide with the panel title: write full numbers.
    try:
        ax.ticklabel_format(axis="y", useOffset=False)
    except AttributeError:  # not a ScalarFormatter (e.g. log scale)
        pass


def _figure_array(fig, path=None):
    fig.tight_layout()
    fig.canvas.draw()
    array = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype("float32")
    array /= 255.0
    if path:
        save_image(array, path)
    return array


def plot_kl(model_or_kl, x=None, inactive_kl=0.1, sort=False, title=None,
            path=None):
    """Bar chart of the KL divergence to the prior of each latent dimension.

    Inactive dimensions (KL below `inactive_kl`) are drawn in red; the
    threshold is a dashed line.

    Args:
        model_or_kl: a model (then `x` is required) or a per-dimension KL
            array (e.g. `traversal_grid(...)[1]["kl"]`).
        x: images or a `GroundTruthData` to average the KL over.
        inactive_kl: threshold in nats.
        sort: order bars by decreasing KL (else by dimension).
        title: plot title.
        path: optional output file.

    Returns:
        The rendered RGB float32 image.

    Example:

    >>> plot_kl(model, x, path="kl.png")
    """
    if hasattr(model_or_kl, "encode_stats"):
        if x is None:
            raise ValueError("plot_kl(model, x): pass images `x` for a model.")
        kl = per_dimension_kl(model_or_kl, as_images(model_or_kl, x))
    else:
        kl = np.asarray(model_or_kl, "float64").reshape(-1)
    dims = np.argsort(-kl, kind="stable") if sort else np.arange(len(kl))
    fig = _figure(max(3.5, 0.45 * len(kl) + 1.5), 3.0)
    ax = fig.add_subplot(1, 1, 1)
    colours = ["#d81b1b" if kl[d] < inactive_kl else "#1f77b4" for d in dims]
    ax.bar(np.arange(len(dims)), kl[dims], color=colours)
    ax.axhline(inactive_kl, color="0.4", linestyle="--", linewidth=1)
    ax.set_xticks(np.arange(len(dims)))
    ax.set_xticklabels([f"z{d}" for d in dims], fontsize=8)
    ax.set_ylabel("KL to prior (nats)")
    n_inactive = int((kl < inactive_kl).sum())
    ax.set_title(
        title or f"Per-dimension KL ({n_inactive} of {len(kl)} inactive "
        f"< {inactive_kl:g}, red)", fontsize=9,
    )
    return _figure_array(fig, path)


def load_history(source):
    """A history as a dict `{key: list of floats}`.

    Args:
        source: a `keras.callbacks.History`, a dict of lists, or the path of a
            `CSVLogger` CSV or a JSON dict (as written by
            `keras-factorvae train`). Missing values become NaN.

    Returns:
        Dict of lists; `"epoch"` (1-based) is included when known.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path.endswith(".json"):
            import json

            with open(path) as f:
                data = json.load(f)
        else:
            import csv

            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
            data = {}
            for row in rows:
                for key, value in row.items():
                    data.setdefault(key, []).append(_float(value))
            if "epoch" in data:  # CSVLogger counts from 0
                data["epoch"] = [e + 1 for e in data["epoch"]]
        return {k: [_float(v) for v in vals] for k, vals in data.items()}
    history = getattr(source, "history", source)
    data = {k: [_float(v) for v in vals] for k, vals in dict(history).items()}
    epochs = getattr(source, "epoch", None)
    if epochs and "epoch" not in data:
        data["epoch"] = [int(e) + 1 for e in epochs]
    return data


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def plot_history(history, keys=None, path=None, cols=4, title=None):
    """Metric-vs-epoch plots: one panel per logged key.

    Args:
        history: a `keras.callbacks.History`, a dict of lists, or a CSV / JSON
            path (see `load_history`).
        keys: keys to plot (default: every key but `epoch`). Keys missing
            from the history are skipped. A key logged on fewer epochs
            than the others (e.g. a `DisentanglementMetrics` score every `n`
            epochs, in a `History`) is drawn at epochs `n, 2n, ...`.
        path: optional output file.
        cols: panels per row.
        title: optional figure title.

    Returns:
        The rendered RGB float32 image.

    Example:

    >>> history = model.fit(ds, epochs=10, callbacks=[metrics_callback])
    >>> plot_history(history, ["loss", "val_discrete_mig"], path="curves.png")
    """
    data = load_history(history)
    epochs = data.get("epoch")
    if isinstance(keys, str):
        keys = [keys]
    keys = [k for k in (keys or data) if k in data and k != "epoch"]
    if not keys:
        raise ValueError(
            f"Nothing to plot: the history has keys {sorted(data)}."
        )
    num_epochs = max(len(data[k]) for k in keys)
    if not epochs or len(epochs) != num_epochs:
        epochs = list(range(1, num_epochs + 1))
    cols = max(1, min(int(cols), len(keys)))
    rows = math.ceil(len(keys) / cols)
    fig = _figure(3.0 * cols, 2.4 * rows + (0.3 if title else 0))
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        values = np.asarray(data[key], "float64")
        if len(values) == num_epochs:
            xs = np.asarray(epochs)
        else:  # logged every `every` epochs
            every = max(1, num_epochs // max(1, len(values)))
            xs = np.asarray(epochs)[every - 1 :: every][: len(values)]
        ok = np.isfinite(values)
        ax.plot(xs[ok], values[ok], marker="o" if ok.sum() <= 30 else None,
                markersize=3)
        _no_offset(ax)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    return _figure_array(fig, path)


def _records(results):
    """A table (list of dicts, dict of lists or DataFrame) as a list of dicts."""
    if hasattr(results, "to_dict"):  # pandas.DataFrame
        return results.to_dict("records")
    if isinstance(results, dict):
        lengths = {len(v) for v in results.values()}
        if len(lengths) != 1:
            raise ValueError("A dict of columns needs columns of equal length.")
        n = lengths.pop()
        return [{k: v[i] for k, v in results.items()} for i in range(n)]
    return [dict(r) for r in results]


def plot_metric_vs_gamma(results, metrics=None, x="gamma", group_by=None,
                         logx=None, path=None, cols=3, title=None):
    """Metrics against a hyper-parameter (default `gamma`), one panel each.

    Every run is a dot; the line joins the mean over runs (e.g. seeds) of
    each `x` value, with a band of +- one standard deviation. `group_by`
    draws one line per group (e.g. per model).

    Args:
        results: list of dicts (one per run), dict of columns, or a pandas
            DataFrame; each row has `x` and the metric keys.
        metrics: keys to plot (default: every numeric key except `x`,
            `group_by` and `seed`).
        x: the hyper-parameter column.
        group_by: optional column splitting the runs into lines.
        logx: logarithmic x axis (default: when all `x` > 0 and they span
            more than a factor 20).
        path: optional output file.
        cols: panels per row.
        title: optional figure title.

    Returns:
        The rendered RGB float32 image.

    Example:

    >>> runs = [{"gamma": g, "seed": s, "mig.discrete_mig": ...} ...]
    >>> plot_metric_vs_gamma(runs, ["mig.discrete_mig"], path="sweep.png")
    """
    rows_ = _records(results)
    if not rows_:
        raise ValueError("No results to plot.")
    if any(x not in r for r in rows_):
        raise ValueError(f"Every result needs the column {x!r}.")
    skip = {x, group_by, "seed"}
    if metrics is None:
        metrics = [
            k for k in rows_[0]
            if k not in skip and isinstance(rows_[0][k], (int, float, np.number))
            and not isinstance(rows_[0][k], bool)
        ]
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("No metric columns to plot.")
    xs_all = np.asarray([float(r[x]) for r in rows_])
    if logx is None:
        logx = bool(np.all(xs_all > 0) and xs_all.max() / xs_all.min() > 20)
    groups = {}
    for r in rows_:
        groups.setdefault(r.get(group_by) if group_by else None, []).append(r)
    cols = max(1, min(int(cols), len(metrics)))
    nrows = math.ceil(len(metrics) / cols)
    fig = _figure(3.3 * cols, 2.6 * nrows + (0.3 if title else 0))
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(nrows, cols, i + 1)
        for name, runs in groups.items():
            xs = np.asarray([float(r[x]) for r in runs])
            ys = np.asarray([_float(r.get(metric)) for r in runs])
            ok = np.isfinite(ys)
            points = ax.scatter(xs[ok], ys[ok], s=12, alpha=0.6,
                                label=None if name is None else str(name))
            uniq = np.unique(xs[ok])
            if len(uniq):
                mean = np.array([ys[ok][xs[ok] == u].mean() for u in uniq])
                std = np.array([ys[ok][xs[ok] == u].std() for u in uniq])
                colour = points.get_facecolor()[0]
                ax.plot(uniq, mean, color=colour)
                ax.fill_between(uniq, mean - std, mean + std, color=colour,
                                alpha=0.15)
        if logx:
            ax.set_xscale("log")
        _no_offset(ax)
        ax.set_xlabel(x, fontsize=8)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if group_by and i == 0:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return _figure_array(fig, path)
