"""PyTorch's own padded, bias-fused ops for the preset networks' convolutions.

Keras' torch backend adds a convolution layer's bias as an op of its own
after the convolution (one more pass over the output, and one more in the
backward pass), and runs a "same" transposed convolution unpadded and then
slices Keras' window out of the larger output; the slice's backward pass
zero-fills the larger gradient and copies the window into it. The ops of
`torch.nn.functional` take the bias, and take the padding themselves
wherever Keras' window is centred (the crop or padding is the same on both
sides of every spatial axis), so the same sums run with fewer full-size
passes. Elsewhere (other backends, dilation, groups, output padding,
off-centre windows) these functions return None and the layer runs Keras'
own op.
"""

# Backends whose convolution layers run through these functions.
TORCH_CONV_BACKENDS = ("torch",)


def _symmetric(total):
    """Half of an even padding total, None for an odd one."""
    return total // 2 if total % 2 == 0 else None


def _conv_padding(layer, spatial):
    """Torch's symmetric `padding` for Keras' Conv2D padding, or None."""
    if layer.padding == "valid":
        return (0, 0)
    pads = []
    for size, k, s in zip(spatial, layer.kernel_size, layer.strides):
        if size is None:
            return None
        total = max((-(-size // s) - 1) * s + k - size, 0)
        pads.append(_symmetric(total))
    return None if None in pads else tuple(pads)


def _transpose_padding(layer):
    """Torch's symmetric `padding` for Keras' "same" Conv2DTranspose, or None.

    Keras' "same" transposed convolution crops `k - s` rows (and columns)
    from the unpadded output, half on each side when `k - s` is even.
    """
    if layer.padding != "same" or layer.output_padding is not None:
        return None
    pads = []
    for k, s in zip(layer.kernel_size, layer.strides):
        pads.append(_symmetric(k - s) if k >= s else None)
    return None if None in pads else tuple(pads)


def _applies(layer, inputs):
    import keras

    return (
        keras.backend.backend() in TORCH_CONV_BACKENDS
        and len(inputs.shape) == 4
        and tuple(layer.dilation_rate) == (1, 1)
        and getattr(layer, "groups", 1) == 1
    )


def _run(op, layer, inputs, padding):
    """`op` on channels-first data, the layer's kernel in torch's layout."""
    from keras import ops

    x = ops.convert_to_tensor(inputs)
    channels_last = layer.data_format == "channels_last"
    if channels_last:
        x = x.permute(0, 3, 1, 2)
    # Keras' (kh, kw, a, b) kernel as torch's (b, a, kh, kw).
    kernel = ops.convert_to_tensor(layer.kernel).permute(3, 2, 0, 1)
    bias = ops.convert_to_tensor(layer.bias) if layer.use_bias else None
    y = op(x, kernel, bias, stride=tuple(layer.strides), padding=padding)
    if channels_last:
        y = y.permute(0, 2, 3, 1)
    return y


def conv2d(layer, inputs):
    """A `keras.layers.Conv2D` layer's convolution and bias, before its
    activation, as one `torch.nn.functional.conv2d`; None where that does
    not apply (see the module's docstring).

    Args:
        layer: a built `keras.layers.Conv2D` (or subclass).
        inputs: the layer's input tensor.

    Example:

    >>> y = conv2d(layer, x)
    >>> y = layer.call(x) if y is None else layer.activation(y)
    """
    if not _applies(layer, inputs):
        return None
    spatial = (inputs.shape[2:4] if layer.data_format == "channels_first"
               else inputs.shape[1:3])
    padding = _conv_padding(layer, spatial)
    if padding is None:
        return None
    import torch.nn.functional as F

    return _run(F.conv2d, layer, inputs, padding)


def conv2d_transpose(layer, inputs):
    """A "same" `keras.layers.Conv2DTranspose` layer's transposed
    convolution and bias, before its activation, as one
    `torch.nn.functional.conv_transpose2d` with torch's own padding; None
    where that does not apply (see the module's docstring).

    Args:
        layer: a built `keras.layers.Conv2DTranspose` (or subclass).
        inputs: the layer's input tensor.

    Example:

    >>> y = conv2d_transpose(layer, x)
    """
    if not _applies(layer, inputs):
        return None
    padding = _transpose_padding(layer)
    if padding is None:
        return None
    import torch.nn.functional as F

    return _run(F.conv_transpose2d, layer, inputs, padding)
