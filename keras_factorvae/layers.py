"""Layers with faster, numerically equivalent implementations.

XLA:CPU runs the input-dilated convolutions behind `Conv2DTranspose` (and
behind the input gradient of strided convolutions) an order of magnitude
slower than plain stride-1 convolutions. `SubPixelConv2DTranspose` computes
exactly what `Conv2DTranspose(filters, 4, strides=2, padding="same")` computes,
with the same weights, as one stride-1 2x2 convolution followed by a
depth-to-space interleave ("sub-pixel" form). Outputs and gradients equal the
original's to float32 rounding (tests/test_layers.py); on JAX a decoder layer
of the conv preset runs its forward and backward pass about 10x faster.
"""

import keras
from keras import ops

# Kernel taps feeding even (0) and odd (1) output rows/columns, in the order
# they meet the input padded by one pixel: out[2m] = x[m-1] w[3] + x[m] w[1],
# out[2m+1] = x[m] w[2] + x[m+1] w[0].
_TAPS = {0: [3, 1], 1: [2, 0]}

# Backends on which the sub-pixel form is the faster one (measured with
# `python -m keras_factorvae.bench`); elsewhere the native op runs.
FAST_BACKENDS = ("jax",)


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
    padded = ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    y = ops.conv(padded, merged, strides=1, padding="valid")
    h, w = x.shape[1], x.shape[2]
    rows = []
    for ry in (0, 1):
        cols = []
        for rx in (0, 1):
            i = 2 * ry + rx
            cols.append(y[:, ry : ry + h, rx : rx + w, i * c_out : (i + 1) * c_out])
        rows.append(ops.stack(cols, axis=3))  # (b, h, w, 2, c)
    out = ops.stack(rows, axis=2)  # (b, h, 2, w, 2, c)
    return ops.reshape(out, (-1, 2 * h, 2 * w, c_out))


@keras.saving.register_keras_serializable(package="keras_factorvae")
class SubPixelConv2DTranspose(keras.layers.Conv2DTranspose):
    """`Conv2DTranspose` that uses the sub-pixel form where that is faster.

    Same constructor, weights and results as `keras.layers.Conv2DTranspose`;
    with `kernel_size=4, strides=2, padding="same"`, channels-last data and
    no dilation, the forward pass on the backends in `FAST_BACKENDS` is
    computed by `subpixel_conv2d_transpose`.

    Args:
        Those of `keras.layers.Conv2DTranspose`.

    Example:

    >>> up = SubPixelConv2DTranspose(32, 4, strides=2, padding="same")
    >>> up(np.zeros((1, 8, 8, 64), "float32")).shape
    (1, 16, 16, 32)
    """

    def _subpixel_applies(self):
        return (
            keras.backend.backend() in FAST_BACKENDS
            and tuple(self.kernel_size) == (4, 4)
            and tuple(self.strides) == (2, 2)
            and self.padding == "same"
            and tuple(self.dilation_rate) == (1, 1)
            and self.data_format == "channels_last"
            and self.output_padding is None
        )

    def call(self, inputs):
        if not self._subpixel_applies():
            return super().call(inputs)
        outputs = subpixel_conv2d_transpose(inputs, self.kernel)
        if self.use_bias:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs
