"""`chains.run`: the preset networks' layers called in order compute what
Keras' own call computes, and anything that is not a stock chain keeps it."""

import keras
import numpy as np
import pytest

import keras_factorvae as kfv
from keras_factorvae import chains
from keras_factorvae import networks

pytestmark = pytest.mark.multibackend

SHAPE = (32, 32, 1)


def _presets():
    return {
        "conv_encoder": networks.build_encoder("conv", SHAPE, 3),
        "conv_decoder": networks.build_decoder("conv", SHAPE, 3),
        "mlp_encoder": networks.build_encoder("mlp", SHAPE, 3),
        "discriminator": networks.build_discriminator(3, units=16, num_layers=2),
    }


def _input(network, n=4, dtype="float32"):
    shape = (n,) + tuple(network.inputs[0].shape[1:])
    return np.random.RandomState(0).rand(*shape).astype(dtype)


def test_preset_networks_are_chains_and_run_as_keras_calls_them(monkeypatch):
    for name, network in _presets().items():
        layers = chains.chain_layers(network)
        assert layers is not None, name
        assert layers == [
            l for l in network.layers if not isinstance(l, keras.layers.InputLayer)
        ]
        x = _input(network)
        expected = keras.ops.convert_to_numpy(network(x))
        for direct in (False, True):
            monkeypatch.setattr(chains, "calls_layers_directly", lambda: direct)
            for given in (x, keras.ops.convert_to_tensor(x)):  # numpy, tensor
                got = chains.run(network, given)
                np.testing.assert_allclose(
                    keras.ops.convert_to_numpy(got), expected, rtol=1e-6,
                    atol=1e-6, err_msg=f"{name}, direct={direct}")


def test_the_direct_path_skips_keras_layer_calls_where_the_backend_asks(monkeypatch):
    network = _presets()["discriminator"]
    x = keras.ops.convert_to_tensor(_input(network))
    calls = []
    original = keras.layers.Layer.__call__

    def counting(self, *args, **kwargs):
        calls.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.layers.Layer, "__call__", counting)
    chains.run(network, x)
    if kfv.backend.calls_layers_directly():
        assert calls == []
    else:
        assert network.name in calls
    # The backends' choice: only the eager one pays Keras' work every step.
    assert kfv.backend.calls_layers_directly() == (
        keras.backend.backend() == "torch")


def test_what_is_not_a_stock_float_chain_runs_through_keras(monkeypatch):
    monkeypatch.setattr(chains, "calls_layers_directly", lambda: True)
    inputs = keras.Input((6,))
    dropout = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dropout(0.5)(
        keras.layers.Dense(4)(inputs))))
    a, b = keras.layers.Dense(3)(inputs), keras.layers.Dense(3)(inputs)
    branches = keras.Model(inputs, keras.layers.Add()([a, b]))
    skip = keras.layers.Dense(6)
    hidden = skip(inputs)
    reused = keras.Model(inputs, keras.layers.Dense(2)(skip(hidden)))

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x) * 2.0

    class NoisyDense(keras.layers.Dense):  # a stock type's subclass
        def call(self, x, training=None):
            return super().call(x) + (1.0 if training else 0.0)

    subclass = keras.Model(inputs, NoisyDense(2)(inputs))
    for network in (dropout, branches, reused, Subclassed(), subclass):
        assert chains.chain_layers(network) is None, network
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        mixed = networks.build_discriminator(3, units=8, num_layers=1)
    finally:
        keras.config.set_dtype_policy(previous)
    assert chains.chain_layers(mixed) is None
    # A float64 input is cast by Keras' call; the chain leaves it to Keras.
    network = _presets()["discriminator"]
    x = _input(network, dtype="float64")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(chains.run(network, keras.ops.convert_to_tensor(x))),
        keras.ops.convert_to_numpy(network(x)), rtol=1e-6)


@pytest.mark.parametrize("preset", ["conv", "mlp"])
def test_training_steps_are_the_same_either_way(monkeypatch, binary_images, preset):
    x, x2 = binary_images(8, SHAPE), binary_images(8, SHAPE, seed=5)
    results = []
    for direct in (False, True):
        monkeypatch.setattr(chains, "calls_layers_directly", lambda: direct)
        model = kfv.FactorVAE(latent_dim=3, input_shape=SHAPE, preset=preset,
                              discriminator_units=16, discriminator_layers=2,
                              seed=1)
        if results:
            model.set_weights(results[0][0])
        init = model.get_weights()
        model.compile(optimizer=keras.optimizers.SGD(1e-2),
                      discriminator_optimizer=keras.optimizers.SGD(1e-2))
        for _ in range(2):
            logs = model.train_on_batch(x, x2, return_dict=True)
        results.append((init, model.get_weights(), logs))
    (init, w0, logs0), (_, w1, logs1) = results
    assert any(not np.array_equal(a, b) for a, b in zip(init, w0))
    for a, b in zip(w0, w1):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for key in logs0:
        assert logs0[key] == pytest.approx(logs1[key], rel=1e-5, abs=1e-6)
