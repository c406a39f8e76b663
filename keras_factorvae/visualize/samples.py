"""Decoded pictures: reconstructions of images and samples from the prior."""

import numpy as np

from keras_factorvae.visualize.images import BACKGROUND
from keras_factorvae.visualize.images import save_image
from keras_factorvae.visualize.images import tile_images
from keras_factorvae.visualize.inference import as_images
from keras_factorvae.visualize.inference import decode
from keras_factorvae.visualize.inference import posterior_stats


def reconstructions(model, x, cols=None, sample=False, pad=2, path=None):
    """Input images above their reconstructions.

    Rows alternate: a row of inputs, then the row of their reconstructions
    (the decoded posterior means, or samples with `sample=True`).

    Args:
        model: a model of the zoo.
        x: float images in [0, 1] (e.g. 8 to 16 of them).
        cols: images per row pair (default: `min(len(x), 10)`).
        sample: decode reparameterised samples instead of the means.
        pad: pixels between tiles.
        path: optional output file.

    Returns:
        The RGB float32 grid.

    Example:

    >>> grid = reconstructions(model, x[:8], path="reconstructions.png")
    """
    x = as_images(model, x)
    if sample:
        recon = decode(model, model.encode(x, sample=True))
    else:
        recon = decode(model, posterior_stats(model, x)[0])
    cols = min(len(x), 10) if cols is None else max(1, int(cols))
    pairs = []
    for start in range(0, len(x), cols):
        chunk = [x[start : start + cols], recon[start : start + cols]]
        for part in chunk:
            filler = np.full(
                (cols - len(part),) + part.shape[1:], BACKGROUND, "float32"
            )
            pairs.append(np.concatenate([part, filler]))
    grid = tile_images(np.concatenate(pairs), cols, pad=pad)
    if path:
        save_image(grid, path)
    return grid


def prior_samples(model, num=16, cols=8, seed=0, temperature=1.0, pad=2,
                  path=None):
    """Images decoded from codes drawn from the prior N(0, I).

    Args:
        model: a model of the zoo.
        num: number of samples.
        cols: tiles per row.
        seed: seed of the codes (numpy `RandomState`).
        temperature: standard deviation of the codes.
        pad: pixels between tiles.
        path: optional output file.

    Returns:
        The RGB float32 grid.

    Example:

    >>> grid = prior_samples(model, num=32, path="samples.png")
    """
    z = np.random.RandomState(seed).normal(
        0.0, float(temperature), (int(num), int(model.latent_dim))
    )
    grid = tile_images(decode(model, z), cols, pad=pad)
    if path:
        save_image(grid, path)
    return grid
