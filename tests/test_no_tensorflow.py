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


MISSING = r"""
import sys
for name in ("tensorflow", "tensorflow_datasets", "keras_tuner"):
    sys.modules[name] = None
import keras_factorvae as kfv
data = kfv.datasets.load("dsprites")
for what, call in [
    ("tensorflow", lambda: data.as_dataset(batch_size=8)),
    ("tuner", lambda: kfv.tuning),
    ("tfds", lambda: kfv.datasets.load("shapes3d", source="tfds")),
]:
    try:
        call()
    except ImportError as error:
        print(what, "->", error)
    else:
        raise SystemExit(f"{what}: no ImportError")
"""


def test_a_missing_extra_is_named():
    env = dict(os.environ, KERAS_BACKEND="jax")
    out = subprocess.run([sys.executable, "-c", MISSING], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert len(lines) == 3, out.stdout
    for line, extra in zip(lines, ("tensorflow", "tuner", "tfds")):
        assert f"pip install 'keras-factorvae[{extra}]'" in line, line
