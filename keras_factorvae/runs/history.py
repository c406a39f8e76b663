"""The per-epoch history of a run, read back from its CSVLogger file."""

import csv
import math
import os


def as_float(value):
    """`float(value)`, NaN for what is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def merge_history(csv_path):
    """Reads the CSVLogger file, keeps the last row of each epoch, rewrites it.

    A resumed run repeats the epochs after its last backup, so an epoch can
    have several rows; the last one is that of the run that finished it.

    Returns:
        Dict `{key: list}` with a 1-based `"epoch"`.
    """
    if not os.path.exists(csv_path):
        return {}
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    by_epoch = {}
    for row in rows:
        try:
            by_epoch[int(row["epoch"])] = row
        except (KeyError, TypeError, ValueError):
            continue
    if not by_epoch:
        return {}
    epochs = sorted(by_epoch)
    # CSVLogger adds `val_*` columns (all "NA") when fit has no validation.
    fields = [
        k for k in rows[0].keys()
        if k == "epoch" or any(
            math.isfinite(as_float(by_epoch[e].get(k))) for e in epochs)
    ]
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for epoch in epochs:
            writer.writerow({k: by_epoch[epoch].get(k) for k in fields})
    history = {"epoch": [e + 1 for e in epochs]}
    for key in fields:
        if key != "epoch":
            history[key] = [as_float(by_epoch[e].get(key)) for e in epochs]
    return history
