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

On the CPU, a transposed convolution with at most `FOLD_MAX_FILTERS` output
channels (the decoder's logits layer) runs its forward pass as one matrix
product of the input with the kernel and `torch.nn.functional.fold`, which
adds the products into the output; oneDNN's transposed convolution with one
output channel runs far below its speed elsewhere. Its backward pass is torch's own
(`aten.convolution_backward`), which is fast for that shape while the
backward pass of the product-and-fold form is not.
"""

# Transposed convolutions with at most this many output channels take the
# product-and-fold forward pass.
FOLD_MAX_FILTERS = 4

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


_FOLD_FUNCTION = []


def _on_cpu(inputs):
    """Whether `inputs` lives on the CPU, where the fold form was measured."""
    device = getattr(inputs, "device", None)
    return getattr(device, "type", "cpu") == "cpu"


def _fold_function():
    """The product-and-fold transposed convolution as a
    `torch.autograd.Function` (made once, on first use, so that importing
    this module needs no torch)."""
    if _FOLD_FUNCTION:
        return _FOLD_FUNCTION[0]
    import torch
    import torch.nn.functional as F

    class FoldConvTranspose2d(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, kernel, bias, stride, padding):
            n, c, h, w = x.shape
            _, out, kh, kw = kernel.shape
            size = ((h - 1) * stride[0] - 2 * padding[0] + kh,
                    (w - 1) * stride[1] - 2 * padding[1] + kw)
            rows = x.permute(0, 2, 3, 1).reshape(n * h * w, c)
            cols = (rows @ kernel.reshape(c, out * kh * kw)).view(
                n, h * w, out * kh * kw).transpose(1, 2)
            y = F.fold(cols, size, (kh, kw), stride=stride, padding=padding)
            if bias is not None:
                y = y + bias.view(1, out, 1, 1)
            ctx.save_for_backward(x, kernel)
            ctx.stride, ctx.padding = stride, padding
            ctx.has_bias = bias is not None
            return y

        @staticmethod
        def backward(ctx, grad):
            x, kernel = ctx.saved_tensors
            needs = ctx.needs_input_grad
            grad_x, grad_kernel, grad_bias = torch.ops.aten.convolution_backward(
                grad, x, kernel, [kernel.shape[1]] if ctx.has_bias else None,
                list(ctx.stride), list(ctx.padding), [1, 1], True, [0, 0], 1,
                [needs[0], needs[1], ctx.has_bias and needs[2]])
            return grad_x, grad_kernel, grad_bias, None, None

    _FOLD_FUNCTION.append(FoldConvTranspose2d)
    return FoldConvTranspose2d


def _fold_conv_transpose2d(x, kernel, bias, stride, padding):
    return _fold_function().apply(x, kernel, bias, stride, padding)


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
    `torch.nn.functional.conv_transpose2d` with torch's own padding (with at
    most `FOLD_MAX_FILTERS` filters, the product-and-fold form); None where
    that does not apply (see the module's docstring).

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
    if layer.filters <= FOLD_MAX_FILTERS and _on_cpu(inputs):
        return _run(_fold_conv_transpose2d, layer, inputs, padding)
    import torch.nn.functional as F

    return _run(F.conv_transpose2d, layer, inputs, padding)
