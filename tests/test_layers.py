"""The sub-pixel transposed convolution equals Conv2DTranspose."""

import keras
import numpy as np
import pytest

from keras_factorvae.layers import SubPixelConv2DTranspose
from keras_factorvae.layers import SubPixelGradConv2D
from keras_factorvae.layers import patchify_conv2d
from keras_factorvae.layers import space_to_depth_conv2d
from keras_factorvae.layers import strided_conv2d
from keras_factorvae.layers import strided_conv2d_transpose
from keras_factorvae.layers import subpixel_conv2d_transpose
from keras_factorvae.layers import tap_conv_conv2d_transpose
from keras_factorvae.layers import tap_matmul_conv2d_transpose

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


def _same_weights(ref_class, fast_class, filters, input_shape, kernel_size=4,
                  padding="same"):
    """A Keras layer and its fast twin, built with the same weights."""
    kwargs = dict(strides=2, padding=padding, activation="relu")
    ref = ref_class(filters, kernel_size, **kwargs)
    fast = fast_class(filters, kernel_size, **kwargs)
    ref.build(input_shape)
    fast.build(input_shape)
    fast.set_weights(ref.get_weights())
    return ref, fast


def _assert_same_outputs(a, b, x):
    np.testing.assert_allclose(keras.ops.convert_to_numpy(a(x)),
                               keras.ops.convert_to_numpy(b(x)), rtol=1e-5, atol=1e-5)


def test_layer_weights_and_outputs_match_and_it_saves(tmp_path):
    rng = np.random.RandomState(1)
    x = rng.randn(3, 5, 5, 4).astype("float32")
    ref, fast = _same_weights(keras.layers.Conv2DTranspose,
                              SubPixelConv2DTranspose, 6, x.shape)
    _assert_same_outputs(fast, ref, x)
    model = keras.Sequential([keras.Input((5, 5, 4)), fast])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[0], SubPixelConv2DTranspose)


def _grads(fn, *args):
    """Gradients of the scalar `fn(*args)` w.r.t. every argument."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.grad(fn, argnums=tuple(range(len(args))))(*args)
    if backend == "tensorflow":
        import tensorflow as tf

        variables = [tf.Variable(a) for a in args]
        with tf.GradientTape() as tape:
            loss = fn(*variables)
        return tape.gradient(loss, variables)
    import torch

    tensors = [torch.tensor(a, requires_grad=True) for a in args]
    fn(*tensors).backward()
    return [t.grad for t in tensors]


def _assert_same_grads(g_fast, g_ref):
    for a, b in zip(g_fast, g_ref):
        a, b = keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        assert np.abs(b).max() > 0
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())


def _squared_error(op, target):
    def loss(kernel, x):
        y = op(x, kernel)
        return keras.ops.sum((y - keras.ops.convert_to_tensor(target)) ** 2)

    return loss


def _conv_s2(x, kernel):
    return keras.ops.conv(x, kernel, strides=2, padding="same")


def _conv_transpose_s2(x, kernel):
    return keras.ops.conv_transpose(x, kernel, strides=2, padding="same")


def _assert_matches(op, ref_op, kernel, x, target, values=True):
    """`op` gives `ref_op`'s squared error (if `values`) and its gradients."""
    fast, ref = _squared_error(op, target), _squared_error(ref_op, target)
    if values:
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(fast(kernel, x)),
            keras.ops.convert_to_numpy(ref(kernel, x)), rtol=1e-5)
    _assert_same_grads(_grads(fast, kernel, x), _grads(ref, kernel, x))


def test_gradients_match_conv_transpose():
    rng = np.random.RandomState(2)
    x = rng.randn(2, 4, 4, 3).astype("float32")
    kernel = rng.randn(4, 4, 2, 3).astype("float32")
    target = rng.randn(2, 8, 8, 2).astype("float32")
    _assert_matches(subpixel_conv2d_transpose, _conv_transpose_s2, kernel, x,
                    target, values=False)


# The custom-gradient forms: the input gradient of each op is computed by the
# other's forward pass. Both kernel-gradient routes of the transposed form are
# covered (fewer than 8 output channels, and 8 or more), and both forward forms
# of the narrow one (tap products up to 4 output channels, sub-pixel above).
@pytest.mark.parametrize("c_out", [1, 6, 9])
def test_strided_conv2d_transpose_gradients_match(c_out):
    rng = np.random.RandomState(3)
    x = rng.randn(3, 4, 6, 5).astype("float32")
    kernel = rng.randn(4, 4, c_out, 5).astype("float32")
    target = rng.randn(3, 8, 12, c_out).astype("float32")
    _assert_matches(strided_conv2d_transpose, _conv_transpose_s2, kernel, x,
                    target, values=False)


def test_strided_conv2d_gradients_match():
    rng = np.random.RandomState(4)
    x = rng.randn(3, 8, 6, 5).astype("float32")
    kernel = rng.randn(4, 4, 5, 7).astype("float32")
    target = rng.randn(3, 4, 3, 7).astype("float32")
    _assert_matches(strided_conv2d, _conv_s2, kernel, x, target)


# The rearrangements used for layers with few output channels (the logits
# layer): tap products with shifted sums (JAX), or with the sums as a fixed
# convolution (TensorFlow); autodiff's gradients for both.
@pytest.mark.parametrize("form", [tap_matmul_conv2d_transpose,
                                  tap_conv_conv2d_transpose])
@pytest.mark.parametrize("shape, cin, cout", [((4, 6), 5, 1), ((3, 5), 2, 3)])
def test_tap_forms_equal_conv_transpose(form, shape, cin, cout):
    rng = np.random.RandomState(6)
    x = rng.randn(2, *shape, cin).astype("float32")
    kernel = rng.randn(4, 4, cout, cin).astype("float32")
    target = rng.randn(2, 2 * shape[0], 2 * shape[1], cout).astype("float32")
    _assert_matches(form, _conv_transpose_s2, kernel, x, target)


def test_the_logits_layer_takes_the_tap_conv_form_on_tensorflow_only(monkeypatch):
    from keras_factorvae import layers

    calls = []
    monkeypatch.setattr(layers, "tap_conv_conv2d_transpose",
                        lambda x, k: calls.append(1) or tap_conv_conv2d_transpose(x, k))
    logits = SubPixelConv2DTranspose(1, 4, strides=2, padding="same")
    wide = SubPixelConv2DTranspose(8, 4, strides=2, padding="same")
    x = np.random.RandomState(0).randn(2, 4, 4, 3).astype("float32")
    logits(x)
    wide(x)
    assert len(calls) == (1 if keras.backend.backend() == "tensorflow" else 0)


# Space-to-depth (4x4 kernels) and patchify (2x2 kernels, one matrix product).
@pytest.mark.parametrize("form, size, seed, shape, cin, cout", [
    (space_to_depth_conv2d, 4, 7, (8, 6), 1, 4),
    (space_to_depth_conv2d, 4, 7, (4, 10), 3, 2),
    (patchify_conv2d, 2, 8, (8, 6), 3, 4),
    (patchify_conv2d, 2, 8, (2, 4), 1, 2),
])
def test_block_forms_equal_strided_conv(form, size, seed, shape, cin, cout):
    rng = np.random.RandomState(seed)
    x = rng.randn(2, *shape, cin).astype("float32")
    kernel = rng.randn(size, size, cin, cout).astype("float32")
    target = rng.randn(2, shape[0] // 2, shape[1] // 2, cout).astype("float32")
    _assert_matches(form, _conv_s2, kernel, x, target)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_subpixel_grad_conv2d_with_2x2_kernel_matches_conv2d(padding):
    rng = np.random.RandomState(9)
    x = rng.randn(2, 6, 4, 3).astype("float32")
    ref, fast = _same_weights(keras.layers.Conv2D, SubPixelGradConv2D, 5,
                              x.shape, kernel_size=2, padding=padding)
    _assert_same_outputs(fast, ref, x)
    # On JAX the layer takes the matrix-product form; odd sizes take Keras'.
    expected = patchify_conv2d if keras.backend.backend() == "jax" else None
    assert fast._fast_form(keras.ops.convert_to_tensor(x)) is expected
    odd = rng.randn(2, 5, 4, 3).astype("float32")
    assert fast._fast_form(keras.ops.convert_to_tensor(odd)) is None
    _assert_same_outputs(fast, ref, odd)


# 3 input channels take the space-to-depth form, 6 the strided one.
@pytest.mark.parametrize("cin", [3, 6])
def test_subpixel_grad_conv2d_matches_conv2d_and_saves(tmp_path, cin):
    rng = np.random.RandomState(5)
    x = rng.randn(2, 8, 8, cin).astype("float32")
    ref, fast = _same_weights(keras.layers.Conv2D, SubPixelGradConv2D, 4, x.shape)
    _assert_same_outputs(fast, ref, x)
    # Odd sizes take the plain path (the sub-pixel gradient needs even ones).
    _assert_same_outputs(fast, ref, rng.randn(2, 7, 5, cin).astype("float32"))
    model = keras.Sequential([keras.Input((8, 8, cin)), fast])
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[0], SubPixelGradConv2D)


def test_backend_choices_of_forms_and_layout():
    """The rearranged forms run on JAX only; torch's presets convolve
    channels-first, the others channels-last."""
    from keras_factorvae import backend
    from keras_factorvae import layers
    from keras_factorvae import networks

    name = keras.backend.backend()
    assert backend.rearranged_convolutions_pay() == (name == "jax")
    assert layers.FAST_BACKENDS == ("jax",)
    assert backend.narrow_transposes_by_tap_conv() == (name == "tensorflow")
    want = "channels_first" if name == "torch" else "channels_last"
    assert backend.conv_data_format() == networks._conv_data_format() == want


# torch's own padded, bias-fused ops (`backend.torch_conv`): centred windows
# take them, off-centre ones (odd padding totals) Keras' op, transposed ones
# with few filters the product-and-fold form; values and the gradients of
# input, kernel and bias equal Keras' layer's either way.
@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
@pytest.mark.parametrize("transpose, kernel_size, strides, padding, size, fused, filters", [
    (True, 4, 2, "same", (4, 6), True, 5),
    (True, 4, 2, "same", (4, 6), True, 1),
    (True, 3, 1, "same", (5, 4), True, 5),
    (True, 3, 1, "same", (5, 4), True, 2),
    (True, 3, 2, "same", (4, 4), False, 5),
    (True, 4, 2, "valid", (4, 4), False, 5),
    (False, 4, 2, "same", (8, 6), True, 5),
    (False, 3, 1, "same", (5, 4), True, 5),
    (False, 2, 2, "valid", (5, 4), True, 5),
    (False, 4, 2, "same", (7, 7), False, 5),
])
def test_torch_fused_convolutions_match_keras(data_format, transpose, kernel_size,
                                              strides, padding, size, fused, filters):
    from keras_factorvae.backend import torch_conv

    ref_class, fast_class, op = (
        (keras.layers.Conv2DTranspose, SubPixelConv2DTranspose,
         torch_conv.conv2d_transpose) if transpose else
        (keras.layers.Conv2D, SubPixelGradConv2D, torch_conv.conv2d))
    rng = np.random.RandomState(10)
    shape = ((2, 3, *size) if data_format == "channels_first" else (2, *size, 3))
    x = rng.randn(*shape).astype("float32")
    kwargs = dict(strides=strides, padding=padding, activation="relu",
                  data_format=data_format)
    ref = ref_class(filters, kernel_size, **kwargs)
    fast = fast_class(filters, kernel_size, **kwargs)
    ref.build(shape)
    fast.build(shape)
    ref.bias.assign(rng.randn(filters).astype("float32"))
    fast.set_weights(ref.get_weights())
    taken = op(fast, keras.ops.convert_to_tensor(x)) is not None
    assert taken == (fused and keras.backend.backend() == "torch")
    _assert_same_outputs(fast, ref, x)
    if keras.backend.backend() != "torch":
        return
    import torch

    grads = []
    for layer in (fast, ref):
        xt = torch.tensor(x, requires_grad=True)
        y = layer(xt)
        target = torch.tensor(np.random.RandomState(11).randn(*y.shape).astype("float32"))
        ((y - target) ** 2).sum().backward()
        grads.append([xt.grad, layer.kernel.value.grad, layer.bias.value.grad])
    _assert_same_grads(*grads)
