"""Layers with faster, numerically equivalent implementations.

XLA:CPU runs the input-dilated convolutions behind `Conv2DTranspose` (and
behind the input gradient of strided convolutions) an order of magnitude
slower than plain stride-1 convolutions. `SubPixelConv2DTranspose` computes
exactly what `Conv2DTranspose(filters, 4, strides=2, padding="same")` computes,
with the same weights, as one stride-1 2x2 convolution followed by a
depth-to-space interleave ("sub-pixel" form). Outputs and gradients equal the
original's to float32 rounding (tests/test_layers.py); on JAX the conv
preset's decoder layers run their forward and backward passes many times
faster.

The two operations are each other's transpose, so each one's input gradient
is the other one's forward pass. `SubPixelGradConv2D` (the encoder's 4x4
stride-2 convolutions) and `SubPixelConv2DTranspose` give their backward pass
that form explicitly (`strided_conv2d`, `strided_conv2d_transpose`): the
input gradient runs as the fast forward op of the other layer, the kernel
gradient as the same dilated convolution XLA would run, which on JAX makes
the encoder's backward pass markedly faster.

Layers with few channels on one side (image inputs and the logits layer)
take two further rearrangements of the same sums, `space_to_depth_conv2d`
and `tap_matmul_conv2d_transpose`, where XLA:CPU's convolutions with a
handful of channels run slowly. The 2x2 stride-2 convolutions of the conv
preset take `patchify_conv2d`, one matrix product, whose kernel gradient
needs none of the activation transposes XLA's convolution gradient makes.
Which form each layer takes was chosen by timing them on JAX with
`keras_factorvae.backend.compile_options` in effect; the backends on which
these forms run at all are `keras_factorvae.backend.conv`'s choice (figures
in docs/benchmarks.md). On TensorFlow the logits layer alone takes
`tap_conv_conv2d_transpose`, where oneDNN's narrow transposed convolution
is the slow one. On torch, both layers run `torch.nn.functional`'s ops with
the bias (and the transposed convolution's padding) inside the op, the
logits layer's forward pass as a matrix product and a fold
(`keras_factorvae.backend.torch_conv`).
"""

import itertools

import numpy as np

import keras
from keras import ops

from keras_factorvae.backend import torch_conv
from keras_factorvae.backend.conv import FAST_BACKENDS  # noqa: F401 (public here)
from keras_factorvae.backend.conv import narrow_transposes_by_tap_conv
from keras_factorvae.backend.conv import rearranged_convolutions_pay

# Kernel taps feeding even (0) and odd (1) output rows/columns, in the order
# they meet the input padded by one pixel: out[2m] = x[m-1] w[3] + x[m] w[1],
# out[2m+1] = x[m] w[2] + x[m+1] w[0].
_TAPS = {0: [3, 1], 1: [2, 0]}

# Layers with at most this many input (encoder) or output (decoder) channels
# take the rearranged forms `space_to_depth_conv2d` and
# `tap_matmul_conv2d_transpose` (faster on JAX; see their docstrings).
NARROW_CHANNELS = 4


def _pad1(x):
    """Pads height and width by one pixel per side ("same" for 4x4, stride 2)."""
    return ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))


def subpixel_conv2d_transpose(x, kernel):
    """`conv2d_transpose(x, kernel, strides=2, padding="same")` for 4x4 kernels.

    Args:
        x: `(batch, h, w, c_in)`.
        kernel: `(4, 4, c_out, c_in)`, Keras' `Conv2DTranspose` layout.

    Returns:
        `(batch, 2h, 2w, c_out)`, without bias.
    """
    c_out = kernel.shape[2]
    phases = []
    for ry in (0, 1):
        for rx in (0, 1):
            k = ops.take(ops.take(kernel, _TAPS[ry], axis=0), _TAPS[rx], axis=1)
            phases.append(ops.transpose(k, (0, 1, 3, 2)))
    merged = ops.concatenate(phases, axis=-1)  # (2, 2, c_in, 4 c_out)
    padded = _pad1(x)
    y = ops.conv(padded, merged, strides=1, padding="valid")
    h, w = x.shape[1], x.shape[2]
    phases = [
        [
            y[:, ry : ry + h, rx : rx + w,
              (2 * ry + rx) * c_out : (2 * ry + rx + 1) * c_out]
            for rx in (0, 1)
        ]
        for ry in (0, 1)
    ]
    return _interleave(phases, h, w)


def _phase_sum_kernel(c_out):
    """The 0/1 kernel `(3, 3, 16 c_out, 4 c_out)` that adds the padded tap
    maps of `tap_matmul_conv2d_transpose` into its four output phases:
    phase `(ry, rx)` at `(m, l)` takes tap `(_TAPS[ry][a], _TAPS[rx][b])`
    from offset `(ry + a, rx + b)`, for `a, b` in `{0, 1}`."""
    k = np.zeros((3, 3, 4, 4, c_out, 4, c_out), "float32")
    for ry, rx, a, b in itertools.product((0, 1), repeat=4):
        k[ry + a, rx + b, _TAPS[ry][a], _TAPS[rx][b], :, 2 * ry + rx, :] = (
            np.eye(c_out, dtype="float32"))
    return k.reshape(3, 3, 16 * c_out, 4 * c_out)


def _tap_products(x, kernel):
    """Every input pixel times all 16 taps: `(b, h, w, 16 c_out)`, the last
    axis ordered (tap row, tap column, output channel)."""
    c_in, c_out = x.shape[-1], kernel.shape[2]
    taps = ops.reshape(ops.transpose(kernel, (3, 0, 1, 2)), (c_in, 16 * c_out))
    return ops.matmul(x, taps)


def tap_conv_conv2d_transpose(x, kernel):
    """`tap_matmul_conv2d_transpose` with its shifted sums as one convolution.

    The tap products `(b h w, c_in) @ (c_in, 16 c_out)` as there, then a
    stride-1 3x3 convolution with a fixed 0/1 kernel adds each output
    phase's four shifted tap maps, and a depth-to-space interleave places
    the phases. Autodiff's gradient of this form is two matrix products and
    two ordinary convolutions, with no zero-filled slice gradients. For the
    logits layer on TensorFlow, whose native transposed convolution with one
    output channel oneDNN runs slowly, the whole step is faster this way
    (docs/benchmarks.md).

    Args:
        x: `(batch, h, w, c_in)`.
        kernel: `(4, 4, c_out, c_in)`, Keras' `Conv2DTranspose` layout.

    Returns:
        `(batch, 2h, 2w, c_out)`, without bias.

    Example:

    >>> x = np.zeros((1, 8, 8, 32), "float32")
    >>> tap_conv_conv2d_transpose(x, np.zeros((4, 4, 1, 32), "float32")).shape
    (1, 16, 16, 1)
    """
    h, w = x.shape[1], x.shape[2]
    c_out = kernel.shape[2]
    u = _pad1(_tap_products(x, kernel))  # (b, h + 2, w + 2, 16 c_out)
    sums = ops.convert_to_tensor(_phase_sum_kernel(c_out), dtype=u.dtype)
    y = ops.conv(u, sums, strides=1, padding="valid")  # (b, h, w, 4 c_out)
    y = ops.transpose(ops.reshape(y, (-1, h, w, 2, 2, c_out)), (0, 1, 3, 2, 4, 5))
    return ops.reshape(y, (-1, 2 * h, 2 * w, c_out))


def _interleave(phases, h, w):
    """`phases[ry][rx]`, each `(b, h, w, c)`, as one `(b, 2h, 2w, c)` image
    whose pixel `(2m + ry, 2l + rx)` is `phases[ry][rx][:, m, l]`."""
    rows = [ops.stack(cols, axis=3) for cols in phases]  # (b, h, w, 2, c)
    out = ops.stack(rows, axis=2)  # (b, h, 2, w, 2, c)
    return ops.reshape(out, (-1, 2 * h, 2 * w, out.shape[-1]))


def tap_matmul_conv2d_transpose(x, kernel):
    """`subpixel_conv2d_transpose` as one matrix product and shifted sums.

    Every input pixel is multiplied by all 16 taps at once
    (`(b h w, c_in) @ (c_in, 16 c_out)`), then each output phase adds its
    four shifted tap maps. For layers with few output channels (the logits
    layer) a convolution with `4 * c_out` outputs runs poorly on XLA:CPU,
    and this form is several times faster. For wide layers the
    `(b, h, w, 16 c_out)` intermediate costs more than it saves.

    Args:
        x: `(batch, h, w, c_in)`.
        kernel: `(4, 4, c_out, c_in)`, Keras' `Conv2DTranspose` layout.
    """
    h, w = x.shape[1], x.shape[2]
    c_out = kernel.shape[2]
    u = ops.reshape(_tap_products(x, kernel), (-1, h, w, 4, 4, c_out))
    u = ops.pad(u, ((0, 0), (1, 1), (1, 1), (0, 0), (0, 0), (0, 0)))
    phases = [
        [
            sum(
                u[:, ry + a : ry + a + h, rx + b : rx + b + w,
                  _TAPS[ry][a], _TAPS[rx][b], :]
                for a in (0, 1)
                for b in (0, 1)
            )
            for rx in (0, 1)
        ]
        for ry in (0, 1)
    ]
    return _interleave(phases, h, w)


def space_to_depth_conv2d(x, kernel):
    """`conv(x, kernel, strides=2, padding="same")` for 4x4 kernels and even
    sizes, as a stride-1 2x2 convolution of the padded input's 2x2 blocks.

    With `c_in` = 1 (the first encoder layer) XLA:CPU runs this form's
    forward pass faster than the strided convolution (the rearranged input
    is small); autodiff's kernel gradient is a plain stride-1 one.

    Args:
        x: `(batch, h, w, c_in)` with even `h` and `w`.
        kernel: `(4, 4, c_in, c_out)`.
    """
    h, w, c_in = x.shape[1], x.shape[2], x.shape[3]
    c_out = kernel.shape[3]
    padded = _pad1(x)
    blocks = ops.reshape(padded, (-1, h // 2 + 1, 2, w // 2 + 1, 2, c_in))
    blocks = ops.reshape(
        ops.transpose(blocks, (0, 1, 3, 2, 4, 5)),
        (-1, h // 2 + 1, w // 2 + 1, 4 * c_in))
    # kernel[2a + ry, 2b + rx] multiplies block (p + a, q + b)'s pixel (ry, rx).
    k = ops.reshape(kernel, (2, 2, 2, 2, c_in, c_out))
    k = ops.reshape(ops.transpose(k, (0, 2, 1, 3, 4, 5)), (2, 2, 4 * c_in, c_out))
    return ops.conv(blocks, k, strides=1, padding="valid")


def patchify_conv2d(x, kernel):
    """`conv(x, kernel, strides=2)` for 2x2 kernels and even sizes, as one
    matrix product of the input's non-overlapping 2x2 blocks.

    With even sizes "same" and "valid" padding agree (nothing is padded).
    Autodiff's kernel gradient is then a plain matrix product of the blocks
    and the upstream gradient; XLA:CPU's gradient of the convolution first
    transposes the activations so that the batch is the contracted axis,
    which on JAX made the step slower (docs/benchmarks.md).

    Args:
        x: `(batch, h, w, c_in)` with even `h` and `w`.
        kernel: `(2, 2, c_in, c_out)`.
    """
    h, w, c_in = x.shape[1], x.shape[2], x.shape[3]
    blocks = ops.reshape(x, (-1, h // 2, 2, w // 2, 2, c_in))
    blocks = ops.reshape(
        ops.transpose(blocks, (0, 1, 3, 2, 4, 5)), (-1, h // 2, w // 2, 4 * c_in))
    return ops.matmul(blocks, ops.reshape(kernel, (4 * c_in, kernel.shape[3])))


def _kernel_gradient(x, dy):
    """Gradient w.r.t. the kernel of `conv(x, k, strides=2, padding="same")`.

    For 4x4 kernels and even spatial sizes ("same" pads one pixel per side):
    `dk[i, j, c, o] = sum_{n, p, q} x_pad[n, 2p + i, 2q + j, c] dy[n, p, q, o]`,
    a stride-1 convolution over the batch with `dy` as a 2-dilated kernel.
    """
    padded = _pad1(x)
    lhs = ops.transpose(padded, (3, 1, 2, 0))  # (c, h + 2, w + 2, batch)
    rhs = ops.transpose(dy, (1, 2, 0, 3))  # (h / 2, w / 2, batch, o)
    dk = ops.conv(lhs, rhs, strides=1, padding="valid", dilation_rate=2)
    return ops.transpose(dk, (1, 2, 0, 3))


def _with_input_gradient(x, kernel, y, input_gradient):
    """`y`, a function of `x`, with `input_gradient(upstream, kernel)` as its
    gradient w.r.t. `x`; `kernel` is a constant here (its own gradient flows
    through `y`)."""

    @ops.custom_gradient
    def attach(x, kernel, y):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return (
                input_gradient(upstream, kernel),
                ops.zeros_like(kernel),
                upstream,
            )

        return y, grad

    return attach(x, ops.stop_gradient(ops.convert_to_tensor(kernel)), y)


def strided_conv2d(x, kernel):
    """`conv(x, kernel, strides=2, padding="same")` for 4x4 kernels.

    Same result and kernel gradient as `keras.ops.conv`; the input gradient
    is computed by `subpixel_conv2d_transpose` (a stride-1 convolution)
    instead of the input-dilated convolution autodiff would produce.

    Args:
        x: `(batch, h, w, c_in)` with even `h` and `w`.
        kernel: `(4, 4, c_in, c_out)`.
    """
    x = ops.convert_to_tensor(x)
    y = ops.conv(ops.stop_gradient(x), kernel, strides=2, padding="same")
    return _with_input_gradient(x, kernel, y, subpixel_conv2d_transpose)


def strided_conv2d_transpose(x, kernel):
    """`subpixel_conv2d_transpose` whose input gradient is a strided conv.

    The input gradient of a transposed convolution is the plain strided
    convolution (`keras.ops.conv`), cheaper than differentiating the
    sub-pixel form. The kernel gradient is autodiff's through the sub-pixel
    form's 2x2 convolution, except for layers with fewer than 8 output
    channels (the logits layer), where `_kernel_gradient` is faster on
    XLA:CPU (with `keras_factorvae.backend.compile_options`' settings).

    Args:
        x: `(batch, h, w, c_in)`.
        kernel: `(4, 4, c_out, c_in)`, Keras' `Conv2DTranspose` layout.
    """

    def input_gradient(upstream, kernel):
        return ops.conv(upstream, kernel, strides=2, padding="same")

    x = ops.convert_to_tensor(x)
    if kernel.shape[2] >= 8:
        y = subpixel_conv2d_transpose(ops.stop_gradient(x), kernel)
        return _with_input_gradient(x, kernel, y, input_gradient)

    forward = (
        tap_matmul_conv2d_transpose if kernel.shape[2] <= NARROW_CHANNELS
        else subpixel_conv2d_transpose
    )

    @ops.custom_gradient
    def conv_transpose(x, kernel):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return input_gradient(upstream, kernel), _kernel_gradient(upstream, x)

        return forward(x, kernel), grad

    return conv_transpose(x, kernel)


def _stride2(layer, size):
    """Whether `layer` is a `size`x`size`, stride-2, channels-last, undilated
    convolution."""
    return (
        tuple(layer.kernel_size) == (size, size)
        and tuple(layer.strides) == (2, 2)
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.data_format == "channels_last"
    )


def _fast_stride2(layer, size):
    """`_stride2` on a backend where the faster forms pay."""
    return rearranged_convolutions_pay() and _stride2(layer, size)


def _fast_4x4_stride2(layer):
    """`_fast_stride2` for 4x4 kernels with "same" padding."""
    return _fast_stride2(layer, 4) and layer.padding == "same"


def _call(layer, inputs, conv, torch_op, keras_call):
    """The layer's output by `conv` (a rearranged form, or None), else by
    torch's fused op where it applies, else by Keras' own `call`."""
    if conv is not None:
        return _add_bias_and_activate(layer, conv(inputs, layer.kernel))
    fused = torch_op(layer, inputs)
    if fused is None:
        return keras_call(inputs)
    return fused if layer.activation is None else layer.activation(fused)


def _add_bias_and_activate(layer, outputs):
    if layer.use_bias:
        outputs = outputs + layer.bias
    if layer.activation is not None:
        outputs = layer.activation(outputs)
    return outputs


@keras.saving.register_keras_serializable(package="keras_factorvae")
class SubPixelGradConv2D(keras.layers.Conv2D):
    """`Conv2D` whose backward pass takes the fast route where that pays.

    Same constructor, weights and results as `keras.layers.Conv2D`; with
    `kernel_size=4, strides=2, padding="same"`, channels-last data, even
    spatial sizes and no dilation, on the backends where these forms pay
    (`keras_factorvae.backend.conv`), the convolution runs as
    `strided_conv2d`: the same forward op, with the input gradient computed
    in sub-pixel form. With at most 4 input channels
    (image inputs) it runs as `space_to_depth_conv2d` instead, and with
    `kernel_size=2, strides=2` as `patchify_conv2d`. On torch, where the
    padding is the same on both sides, it runs `torch.nn.functional.conv2d`
    with the bias inside the op (`keras_factorvae.backend.torch_conv`).

    Args:
        Those of `keras.layers.Conv2D`.

    Example:

    >>> down = SubPixelGradConv2D(32, 4, strides=2, padding="same")
    >>> down(np.zeros((1, 16, 16, 3), "float32")).shape
    (1, 8, 8, 32)
    """

    def _fast_form(self, inputs):
        """The faster form of this convolution, or None for Keras' own."""
        even = all(
            size is not None and size % 2 == 0 for size in inputs.shape[1:3]
        )
        if not even or self.groups != 1:
            return None
        if _fast_4x4_stride2(self):
            return (space_to_depth_conv2d
                    if inputs.shape[-1] <= NARROW_CHANNELS else strided_conv2d)
        # 2x2 windows at stride 2 never overlap: "same" and "valid" agree.
        if _fast_stride2(self, 2):
            return patchify_conv2d
        return None

    def call(self, inputs):
        return _call(self, inputs, self._fast_form(inputs), torch_conv.conv2d,
                     super().call)


@keras.saving.register_keras_serializable(package="keras_factorvae")
class SubPixelConv2DTranspose(keras.layers.Conv2DTranspose):
    """`Conv2DTranspose` that uses the sub-pixel form where that is faster.

    Same constructor, weights and results as `keras.layers.Conv2DTranspose`;
    with `kernel_size=4, strides=2, padding="same"`, channels-last data and
    no dilation, on the backends where these forms pay
    (`keras_factorvae.backend.conv`), it runs as
    `strided_conv2d_transpose` (the sub-pixel form, or for at most 4 output
    channels `tap_matmul_conv2d_transpose`). On TensorFlow, such a layer
    with at most 4 output channels runs as `tap_conv_conv2d_transpose`. On
    torch, where Keras' crop is the same on both sides, it runs
    `torch.nn.functional.conv_transpose2d` with that padding and the bias
    inside the op, and with at most 4 filters a matrix product and
    `torch.nn.functional.fold` forward (`keras_factorvae.backend.torch_conv`).

    Args:
        Those of `keras.layers.Conv2DTranspose`.

    Example:

    >>> up = SubPixelConv2DTranspose(32, 4, strides=2, padding="same")
    >>> up(np.zeros((1, 8, 8, 64), "float32")).shape
    (1, 16, 16, 32)
    """

    def _fast_form(self):
        """The faster form of this transposed convolution, or None."""
        if (self.output_padding is not None or self.padding != "same"
                or not _stride2(self, 4)):
            return None
        if rearranged_convolutions_pay():
            return strided_conv2d_transpose
        if self.filters <= NARROW_CHANNELS and narrow_transposes_by_tap_conv():
            return tap_conv_conv2d_transpose
        return None

    def call(self, inputs):
        return _call(self, inputs, self._fast_form(),
                     torch_conv.conv2d_transpose, super().call)
