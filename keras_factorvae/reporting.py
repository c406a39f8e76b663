"""Run directories: metric sizes, the standard pictures and `report.md`.

Shared by `keras-factorvae train` / `traverse` / `reproduce` and
`examples/demo.py`, so that every run directory looks the same:

    model.keras  history.csv  history.json  metrics.json  run.json
    traversal.png  traversal.gif  reconstructions.png  samples.png  kl.png
    curves.png  report.md

Example:

```python
from keras_factorvae import reporting

sizes = reporting.metric_overrides(("mig", "factor_vae_score"), "small")
scores = kfv.metrics.evaluate(model, data, ("mig", "factor_vae_score"), **sizes)
pictures = reporting.save_pictures(model, data, "runs/x", history=history)
reporting.write_report("runs/x", "My run", ["Trained 1000 steps."], scores,
                       pictures)
```
"""

import inspect
import json
import math
import os

import numpy as np

from keras_factorvae.backend import set_random_seed  # noqa: F401 (public here too)

# Sample sizes of the metrics. `points` metrics (mig, sap_score,
# modularity_explicitness, dci, irs, unsupervised) encode `num_train` +
# `num_test` images; the `factor_vae_score` and `beta_vae_score` draw a batch
# of 64 images per training / evaluation point, so they get far fewer points.
# "full" keeps each metric's own defaults (disentanglement_lib's, as in
# Locatello et al. 2019): many minutes on a CPU.
METRIC_SIZES = {
    "tiny": {  # smoke tests only: the scores are noise
        "points": dict(num_train=200, num_test=100),
        "factor_vae_score": dict(num_train=20, num_eval=10,
                                 num_variance_estimate=100),
        "beta_vae_score": dict(num_train=20, num_eval=10),
    },
    "small": {
        "points": dict(num_train=2000, num_test=1000),
        "factor_vae_score": dict(num_train=500, num_eval=300,
                                 num_variance_estimate=2000),
        "beta_vae_score": dict(num_train=300, num_eval=150),
    },
    "medium": {
        "points": dict(num_train=5000, num_test=2500),
        "factor_vae_score": dict(num_train=2000, num_eval=1000,
                                 num_variance_estimate=5000),
        "beta_vae_score": dict(num_train=2000, num_eval=1000),
    },
    "full": {},
}

DEFAULT_METRICS = ("factor_vae_score", "beta_vae_score", "mig", "sap_score",
                   "modularity_explicitness")

PICTURES = {
    "traversal": "traversal.png",
    "traversal_gif": "traversal.gif",
    "reconstructions": "reconstructions.png",
    "samples": "samples.png",
    "kl": "kl.png",
    "curves": "curves.png",
}


def metric_sizes(size):
    """The `METRIC_SIZES` entry of a name, or the one an integer implies.

    An integer `n` means `num_train=n`, `num_test=n // 2` points, and `n // 4`
    (training) / `n // 8` (evaluation) batches for the two batch metrics.
    """
    if isinstance(size, str) and size.isdigit():
        size = int(size)
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        n = int(size)
        if n < 8:
            raise ValueError(f"An integer metric size must be >= 8, got {n}.")
        return {
            "points": dict(num_train=n, num_test=n // 2),
            "factor_vae_score": dict(num_train=n // 4, num_eval=n // 8,
                                     num_variance_estimate=n),
            "beta_vae_score": dict(num_train=n // 4, num_eval=n // 8),
        }
    if size not in METRIC_SIZES:
        raise ValueError(
            f"Unknown metric size {size!r}; use one of {sorted(METRIC_SIZES)} "
            "or an integer."
        )
    return METRIC_SIZES[size]


def metric_overrides(metrics, size="small"):
    """Keyword arguments of `metrics.evaluate` for a named sample size.

    Args:
        metrics: metric names.
        size: a key of `METRIC_SIZES` or an integer (see `metric_sizes`).

    Returns:
        Dict with the per-metric sizes under `metric_params`, e.g.
        `{"metric_params": {"mig": {"num_train": 200}}}`; empty for "full".

    Example:

    >>> metric_overrides(("mig",), "tiny")
    {'metric_params': {'mig': {'num_train': 200}}}
    """
    from keras_factorvae.metrics import METRICS

    sizes = metric_sizes(size)
    params = {}
    for name in metrics:
        if name not in METRICS:
            raise ValueError(
                f"Unknown metric {name!r}; known: {sorted(METRICS)}."
            )
        accepted = set(inspect.signature(METRICS[name]).parameters)
        chosen = sizes.get(name, sizes.get("points", {}))
        chosen = {k: v for k, v in chosen.items() if k in accepted}
        if chosen:
            params[name] = chosen
    return {"metric_params": params} if params else {}


def json_safe(value):
    """Replaces NaN / inf by None and numpy scalars by Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def write_json(data, path):
    """Writes `data` as indented JSON (NaN -> null) atomically."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(json_safe(data), f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return path


def curve_keys(model, history):
    """History keys worth a curve: the model's losses and metric scores."""
    names = tuple(getattr(model, "loss_names", ())) if model else ()
    return [
        k for k in history
        if k != "epoch" and (k in names or k.startswith("val_") or not names)
        and "." not in k  # per-score duplicates of the headline metrics
    ]


def save_pictures(model, images, directory, history=None, num_steps=9,
                  mode="fixed", inactive_kl=0.1, gif=True, seed=0,
                  curves_title=None):
    """Writes the standard pictures of a model into `directory`.

    Args:
        model: a model of the zoo.
        images: images or a `GroundTruthData` (256 are sampled with `seed`):
            the traversal base (the first), KL estimate and reconstructions.
        directory: output directory (created).
        history: optional `History`, dict or CSV / JSON path for
            `curves.png`.
        num_steps: traversal columns.
        mode: traversal mode (see `visualize.traversal_grid`).
        inactive_kl: KL threshold of inactive dimensions (nats).
        gif: also write `traversal.gif`.
        seed: seed of the image sample and of the prior samples.
        curves_title: optional title of `curves.png`.

    Returns:
        Dict `{picture name: path}` (keys of `PICTURES` that were written)
        plus `"traversal_info"`, the `info` dict of the traversal.
    """
    from keras_factorvae import visualize

    os.makedirs(directory, exist_ok=True)
    images = visualize.as_images(model, images, 256, seed)

    def path(key):
        return os.path.join(directory, PICTURES[key])

    out = {}
    _, info = visualize.traversal_grid(
        model, images, num_steps=num_steps, mode=mode, inactive_kl=inactive_kl,
        path=path("traversal"),
    )
    out["traversal"] = path("traversal")
    out["traversal_info"] = info
    if gif:
        visualize.traversal_gif(
            model, images, path=path("traversal_gif"), num_steps=15, mode=mode,
            inactive_kl=inactive_kl, bounce=True,
        )
        out["traversal_gif"] = path("traversal_gif")
    visualize.reconstructions(model, images[:10], path=path("reconstructions"))
    out["reconstructions"] = path("reconstructions")
    visualize.prior_samples(model, num=16, seed=seed, path=path("samples"))
    out["samples"] = path("samples")
    visualize.plot_kl(info["kl"], inactive_kl=inactive_kl, path=path("kl"))
    out["kl"] = path("kl")
    if history is not None:
        data = visualize.load_history(history)
        keys = curve_keys(model, data)
        if keys and any(len(data[k]) for k in keys):
            visualize.plot_history(data, keys, path=path("curves"),
                                   title=curves_title)
            out["curves"] = path("curves")
    return out


def markdown_table(headers, rows):
    """The lines of a markdown table: the package's one table writer.

    Args:
        headers: the column names.
        rows: sequences of cells, one per column; each cell is written with
            `str` (format numbers first), a `|` in it escaped as `\\|`.

    Returns:
        A list of lines: the header, the `|---|` rule, one line per row.

    Raises:
        ValueError: a row has not one cell per column.

    Example:

    >>> markdown_table(["metric", "value"], [["mig", "0.3100"]])
    ['| metric | value |', '|---|---|', '| mig | 0.3100 |']
    """
    def line(cells):
        cells = (str(cell).replace("|", "\\|") for cell in cells)
        return "| " + " | ".join(cells) + " |"

    headers = list(headers)
    lines = [line(headers), "|" + "---|" * len(headers)]
    for row in rows:
        row = list(row)
        if len(row) != len(headers):
            raise ValueError(
                f"A table row has {len(row)} cells for {len(headers)} "
                f"columns {headers}: {row}."
            )
        lines.append(line(row))
    return lines


def metric_table(scores):
    """Markdown rows of a `metrics.evaluate` dict, headline scores first."""
    from keras_factorvae.metrics import HEADLINES

    headline = {f"{name}.{key}" for name, (_, key) in HEADLINES.items()}
    first = [k for k in scores if k in headline]
    rest = sorted(k for k in scores if k not in headline)
    rows = [[f"**{key}**", f"**{format_score(scores[key])}**"] for key in first]
    rows += [[key, format_score(scores[key])] for key in rest]
    return markdown_table(["metric", "value"], rows)


def format_score(value):
    """A metric score as printed in tables: 4 decimals, `n/a` if missing.

    Args:
        value: a number, None, or anything else (printed with `str`).

    Returns:
        The text; None and non-finite numbers are `"n/a"`.
    """
    if value is None:
        return "n/a"
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.4f}" if math.isfinite(value) else "n/a"


def write_report(directory, title, summary, scores=None, pictures=None,
                 notes=(), filename="report.md"):
    """Writes a one-page markdown report of a run.

    Args:
        directory: the run directory (pictures are linked relative to it).
        title: page title.
        summary: list of paragraphs (markdown) under the title.
        scores: optional flat metric dict (`metrics.evaluate` output).
        pictures: optional dict from `save_pictures`.
        notes: extra markdown lines at the end.
        filename: report file name.

    Returns:
        The report's path.
    """
    pictures = pictures or {}
    lines = [f"# {title}", ""]
    for paragraph in summary:
        lines += [paragraph, ""]
    if scores:
        lines += ["## Disentanglement metrics", ""] + metric_table(scores) + [""]

    def link(key, heading, caption=None):
        if key in pictures:
            name = os.path.basename(pictures[key])
            lines.extend([f"## {heading}", ""])
            if caption:
                lines.extend([caption, ""])
            lines.extend([f"![{key}]({name})", ""])

    link("curves", "Training curves")
    info = pictures.get("traversal_info") or {}
    caption = None
    if info:
        values = np.asarray(info["values"])
        sweep = {
            "fixed": f"over [{values.min():g}, {values.max():g}]",
            "sigma": "over +-2 standard deviations of the encoded means",
            "minmax": "over the range of the encoded means",
        }.get(info["mode"], "")
        inactive = info.get("inactive") or []
        caption = (
            "One row per latent dimension, ordered by KL to the prior "
            f"(largest first); columns sweep the dimension {sweep}. Dimmed "
            "rows with a red left bar are inactive (KL < "
            f"{info.get('inactive_kl', 0.1):g} nats)"
            + (": " + ", ".join(f"z{d}" for d in inactive) + "."
               if inactive else "; none is.")
        )
    link("traversal", "Latent traversal", caption)
    if "traversal_gif" in pictures:
        name = os.path.basename(pictures["traversal_gif"])
        lines += [f"Animated: [{name}]({name})", ""]
    link("kl", "KL per latent dimension")
    link("reconstructions", "Reconstructions",
         "Inputs (odd rows) above their reconstructions (even rows).")
    link("samples", "Samples from the prior")
    lines += list(notes)
    path = os.path.join(directory, filename)
    with open(path, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    return path
