import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")


@pytest.fixture
def binary_images():
    """A factory of random binary float32 image batches."""

    def make(n=16, shape=(32, 32, 1), seed=0):
        rng = np.random.RandomState(seed)
        return (rng.rand(n, *shape) > 0.5).astype("float32")

    return make
