"""Data parallelism through the backends' own engines (CPU devices).

JAX: `keras.distribution.DataParallel` over 2 host devices forced with
XLA_FLAGS; the step is one SPMD program, so `permute_dims` shuffles the
whole global batch and the losses equal the single-device ones.
TensorFlow: `tf.distribute.MirroredStrategy` over 2 logical CPUs; each
replica permutes its own share of the batch.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

JAX_SCRIPT = r"""
import json, sys
import numpy as np
import keras
import keras_factorvae as kfv
devices = keras.distribution.list_devices()
if sys.argv[1] == "2":
    assert len(devices) == 2, devices
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
keras.utils.set_random_seed(0)
rng = np.random.RandomState(0)
x = (rng.rand(32, 32, 32, 1) > 0.5).astype("float32")
model = kfv.FactorVAE(latent_dim=3, input_shape=(32, 32, 1), discriminator_units=16,
                      discriminator_layers=1, seed=3)
model.compile()
h = model.fit(x, epochs=2, batch_size=16, shuffle=False, verbose=0)
print("RESULT" + json.dumps(h.history))
"""


def _run(script, env, *args):
    out = subprocess.run([sys.executable, "-c", script, *args], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    line = [l for l in out.stdout.splitlines() if l.startswith("RESULT")][0]
    return json.loads(line[len("RESULT"):])


def test_jax_data_parallel_matches_one_device():
    env = dict(os.environ, KERAS_BACKEND="jax",
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    two = _run(JAX_SCRIPT, env, "2")
    one = _run(JAX_SCRIPT, dict(env, XLA_FLAGS=""), "1")
    for key in ("loss", "reconstruction_loss", "kl_loss", "tc_loss",
                "discriminator_loss", "discriminator_accuracy"):
        np.testing.assert_allclose(two[key], one[key], rtol=1e-4, atol=1e-5,
                                   err_msg=key)


TF_SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import keras_factorvae as kfv
rng = np.random.RandomState(0)
x = (rng.rand(32, 32, 32, 1) > 0.5).astype("float32")
keras.utils.set_random_seed(0)
build = lambda: kfv.VAE(latent_dim=3, input_shape=(32, 32, 1), seed=3)
if sys.argv[1] == "2":
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():
        model = build()
        model.compile(optimizer=keras.optimizers.SGD(1e-3))
else:
    model = build()
    model.compile(optimizer=keras.optimizers.SGD(1e-3))
# Codes are the posterior means: the step is deterministic, so a wrong
# gradient aggregation across replicas would show in the weights.
model._deterministic = True
h = model.fit(x, epochs=2, batch_size=16, shuffle=False, verbose=0)
w = float(sum(np.abs(v).sum() for v in model.get_weights()))
print("RESULT" + json.dumps({"loss": h.history["loss"], "w": w,
      "iterations": int(model.optimizer.iterations.numpy())}))
"""

FACTOR_TF_SCRIPT = r"""
import json
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
import keras_factorvae as kfv
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    model = kfv.FactorVAE(latent_dim=3, input_shape=(32, 32, 1),
                          discriminator_units=16, discriminator_layers=1)
    model.compile()
x = (np.random.RandomState(0).rand(32, 32, 32, 1) > 0.5).astype("float32")
h = model.fit(x, epochs=1, batch_size=16, verbose=0)
opt = model.optimizer
print("RESULT" + json.dumps({"loss": h.history["loss"],
    "d_iter": int(opt.discriminator_optimizer.iterations.numpy()),
    "v_iter": int(opt.vae_optimizer.iterations.numpy())}))
"""


def test_tf_mirrored_strategy_matches_one_device():
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    two = _run(TF_SCRIPT, env, "2")
    one = _run(TF_SCRIPT, env, "1")
    assert two["iterations"] == one["iterations"] == 4
    np.testing.assert_allclose(two["loss"], one["loss"], rtol=1e-4)
    np.testing.assert_allclose(two["w"], one["w"], rtol=1e-5)


def test_tf_mirrored_strategy_trains_factorvae():
    out = _run(FACTOR_TF_SCRIPT, dict(os.environ, KERAS_BACKEND="tensorflow"))
    assert np.all(np.isfinite(out["loss"]))
    assert out["d_iter"] == out["v_iter"] == 2
