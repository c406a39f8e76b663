"""How the preset networks convolve on each backend.

- Data format: PyTorch convolves channels-first natively, and Keras
  transposes channels-last data around every torch convolution; the preset
  networks therefore run their convolutions channels-first on torch
  (transposing once on the way in and once on the way out) and
  channels-last elsewhere. Weights are the same either way.
- Rearranged kernels: the sub-pixel and related forms of
  `keras_factorvae.layers` compute the same sums as Keras' strided and
  transposed convolutions. They are faster where XLA:CPU's input-dilated
  and few-channel convolutions are slow, on JAX; TensorFlow and PyTorch run
  their native ops faster (`python -m keras_factorvae.bench` compares them),
  with one exception: TensorFlow's oneDNN runs a transposed convolution
  with one or a few output channels (the logits layer) several times slower
  per FLOP than its other convolutions, and there the tap-product form with
  a fixed phase-sum convolution (`tap_conv_conv2d_transpose`) is faster.
- On torch the convolution layers call `torch.nn.functional`'s ops with
  their bias and (for transposed convolutions) their padding, instead of
  Keras' separate bias add and output crop (`keras_factorvae.backend.torch_conv`).
"""

# Backends on which the rearranged forms of `keras_factorvae.layers` are
# the faster ones; elsewhere the native op runs.
FAST_BACKENDS = ("jax",)

# Backends on which a narrow transposed convolution (few output channels)
# runs as `keras_factorvae.layers.tap_conv_conv2d_transpose`.
TAP_CONV_BACKENDS = ("tensorflow",)


def conv_data_format():
    """`"channels_first"` on torch, `"channels_last"` elsewhere: the layout
    of the activations between the preset networks' convolutions."""
    import keras

    return "channels_first" if keras.backend.backend() == "torch" else "channels_last"


def rearranged_convolutions_pay():
    """Whether the rearranged convolution forms of `keras_factorvae.layers`
    are faster than the backend's native ops."""
    import keras

    return keras.backend.backend() in FAST_BACKENDS


def narrow_transposes_by_tap_conv():
    """Whether transposed convolutions with few output channels run faster
    as tap products and a phase-sum convolution than as the native op."""
    import keras

    return keras.backend.backend() in TAP_CONV_BACKENDS
