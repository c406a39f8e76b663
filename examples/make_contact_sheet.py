"""Draws docs/dsprites_contact_sheet.png: samples and factor sweeps of DSprites.

Run from the repository root:

    python examples/make_contact_sheet.py [output.png]
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from keras_factorvae import datasets  # noqa: E402

COLUMNS = 16
BASE = {"shape": 2, "scale": 5, "orientation": 0, "posX": 16, "posY": 16}


def sweep(data, factor):
    """Images of `factor` over (at most 16 of) its values, others fixed."""
    k = data.factor_names.index(factor)
    values = np.unique(
        np.linspace(0, data.factors_num_values[k] - 1, COLUMNS).round()
    ).astype(int)
    base = [BASE[name] for name in data.factor_names]
    factors = np.tile(base, (len(values), 1))
    factors[:, k] = values
    return data.observations_from_indices(data.factors_to_index(factors))


def to_rgb(images):
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def row(images):
    canvas = np.full((66, COLUMNS * 66, 3), 0.35, np.float32)
    for i, image in enumerate(to_rgb(images)[:COLUMNS]):
        canvas[1:65, i * 66 + 1 : i * 66 + 65] = image
    return canvas


def main(path="docs/dsprites_contact_sheet.png"):
    data = datasets.DSprites()
    rs = np.random.RandomState(0)
    samples = data.sample_observations(4 * COLUMNS, rs)
    rows = [("samples" if i == 0 else "", row(samples[i::4])) for i in range(4)]
    rows += [(f, row(sweep(data, f))) for f in data.factor_names]
    for variant in (datasets.ColorDSprites(), datasets.NoisyDSprites()):
        name = type(variant).__name__.replace("DSprites", "")
        rows.append((name, row(variant.sample_observations(COLUMNS, rs))))
    fig, axes = plt.subplots(len(rows), 1, figsize=(16, 1.1 * len(rows)))
    for ax, (label, image) in zip(axes, rows):
        ax.imshow(image, interpolation="nearest")
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        "keras_factorvae.datasets.DSprites: 64 random samples; one row per "
        "factor sweep (from heart, scale 1, orientation 0, posX = posY = 0.5); "
        "Color and Noisy variants",
        fontsize=11,
    )
    fig.subplots_adjust(
        left=0.08, right=0.99, top=0.95, bottom=0.01, hspace=0.1
    )
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
