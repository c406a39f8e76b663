"""Tests of keras_factorvae.tuning, and the tiny setup they share."""

import numpy as np

# A model small enough for a trial in seconds on a CPU.
TINY_MODEL = dict(latent_dim=3, discriminator_units=16, discriminator_layers=1)
TINY_RUN = dict(epochs=1, steps_per_epoch=2, batch_size=8, metric_sizes=100,
                num_held_out=64, verbose=0, **TINY_MODEL)


def squares_data():
    """32x32x1 images of a 6x6 square; factors x (8 values), y (8), size (2).

    Returns:
        An `ArrayGroundTruthData` of the 128 images.
    """
    import keras_factorvae as kfv

    factors = np.stack(np.meshgrid(np.arange(8), np.arange(8), np.arange(2),
                                   indexing="ij"), axis=-1).reshape(-1, 3)
    images = np.zeros((len(factors), 32, 32, 1), dtype="float32")
    for image, (x, y, s) in zip(images, factors):
        side = 4 + 4 * s
        image[3 * y + 2 : 3 * y + 2 + side, 3 * x + 2 : 3 * x + 2 + side] = 1.0
    return kfv.datasets.GroundTruthData.from_arrays(
        images, factors, factor_names=("x", "y", "size"))
