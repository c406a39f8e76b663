"""Seeding a fresh process on any backend."""

import random
import sys

import numpy as np


def set_random_seed(seed):
    """`keras.utils.set_random_seed`, without importing TensorFlow needlessly.

    Keras draws the seeds of its initializers and `SeedGenerator`s from
    Python's `random`, so seeding Python and NumPy (and torch under the torch
    backend) makes a fresh process reproducible. `keras.utils.set_random_seed`
    also seeds TensorFlow whenever it is installed, which imports it (seconds)
    even under JAX or torch; this calls it only under the TensorFlow backend
    or when TensorFlow is already imported.

    Args:
        seed: int.

    Example:

    >>> set_random_seed(0)
    """
    import keras

    if (keras.backend.backend() == "tensorflow"
            or sys.modules.get("tensorflow") is not None):
        keras.utils.set_random_seed(seed)
        return
    random.seed(seed)
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)
