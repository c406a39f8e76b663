import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

# Before any test module imports Keras, as in users' scripts: the package
# chooses TensorFlow's CPU kernels before TensorFlow is imported.
import keras_factorvae  # noqa: E402,F401


@pytest.fixture
def binary_images():
    """A factory of random binary float32 image batches."""

    def make(n=16, shape=(32, 32, 1), seed=0):
        rng = np.random.RandomState(seed)
        return (rng.rand(n, *shape) > 0.5).astype("float32")

    return make
