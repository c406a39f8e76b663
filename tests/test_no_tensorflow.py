"""The JAX and torch backends work where TensorFlow is absent."""

import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import sys
# Make every TensorFlow import fail, as on a machine without it.
for name in ("tensorflow", "tensorflow_datasets"):
    sys.modules[name] = None
import numpy as np
import keras
import keras_factorvae as kfv
assert "tensorflow" not in [m for m in sys.modules if sys.modules[m] is not None]
data = kfv.datasets.load("dsprites")
ds = data.as_py_dataset(batch_size=8, paired=True, steps_per_epoch=2)
model = kfv.FactorVAE(latent_dim=3, discriminator_units=8, discriminator_layers=1)
model.compile()
h = model.fit(ds, epochs=1, verbose=0)
assert np.isfinite(h.history["loss"][0])
print("OK", keras.backend.backend())
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_training_without_tensorflow(backend):
    env = dict(os.environ, KERAS_BACKEND=backend)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"OK {backend}" in out.stdout
