"""The sub-pixel transposed convolution equals Conv2DTranspose."""

import keras
import numpy as np
import pytest

from keras_factorvae.layers import SubPixelConv2DTranspose
from keras_factorvae.layers import subpixel_conv2d_transpose

pytestmark = pytest.mark.multibackend


@pytest.mark.parametrize("shape, cin, cout", [((4, 4), 8, 5), ((7, 3), 3, 2)])
def test_subpixel_form_equals_conv_transpose(shape, cin, cout):
    rng = np.random.RandomState(0)
    x = rng.randn(2, *shape, cin).astype("float32")
    ref = keras.layers.Conv2DTranspose(cout, 4, strides=2, padding="same")
    expected = keras.ops.convert_to_numpy(ref(x))
    got = keras.ops.convert_to_numpy(
        subpixel_conv2d_transpose(x, ref.kernel) + ref.bias)
    assert got.shape == (2, 2 * shape[0], 2 * shape[1], cout)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_layer_weights_and_outputs_match_and_it_saves(tmp_path):
    rng = np.random.RandomState(1)
    x = rng.randn(3, 5, 5, 4).astype("float32")
    ref = keras.layers.Conv2DTranspose(6, 4, strides=2, padding="same", activation="relu")
    fast = SubPixelConv2DTranspose(6, 4, strides=2, padding="same", activation="relu")
    ref.build(x.shape)
    fast.build(x.shape)
    fast.set_weights(ref.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(fast(x)),
                               keras.ops.convert_to_numpy(ref(x)), rtol=1e-5, atol=1e-5)
    model = keras.Sequential([keras.Input((5, 5, 4)), fast])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[0], SubPixelConv2DTranspose)


def test_gradients_match_conv_transpose():
    rng = np.random.RandomState(2)
    x = rng.randn(2, 4, 4, 3).astype("float32")
    kernel = rng.randn(4, 4, 2, 3).astype("float32")
    target = rng.randn(2, 8, 8, 2).astype("float32")

    def loss_fast(k, xx):
        y = subpixel_conv2d_transpose(xx, k)
        return keras.ops.sum((y - keras.ops.convert_to_tensor(target)) ** 2)

    def loss_ref(k, xx):
        y = keras.ops.conv_transpose(xx, k, strides=2, padding="same")
        return keras.ops.sum((y - keras.ops.convert_to_tensor(target)) ** 2)

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        g_fast = jax.grad(loss_fast, argnums=(0, 1))(kernel, x)
        g_ref = jax.grad(loss_ref, argnums=(0, 1))(kernel, x)
    elif backend == "tensorflow":
        import tensorflow as tf

        grads = []
        for fn in (loss_fast, loss_ref):
            k, xx = tf.Variable(kernel), tf.Variable(x)
            with tf.GradientTape() as tape:
                loss = fn(k, xx)
            grads.append(tape.gradient(loss, [k, xx]))
        g_fast, g_ref = grads
    else:
        import torch

        grads = []
        for fn in (loss_fast, loss_ref):
            k = torch.tensor(kernel, requires_grad=True)
            xx = torch.tensor(x, requires_grad=True)
            fn(k, xx).backward()
            grads.append((k.grad, xx.grad))
        g_fast, g_ref = grads
    for a, b in zip(g_fast, g_ref):
        a, b = keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())
