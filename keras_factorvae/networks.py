"""Encoder, decoder and discriminator presets, sized from the input shape.

Presets (all for square images whose side is a power of two, 32 to 128):

- `"conv"`: disentanglement_lib's `conv_encoder` / `deconv_decoder` (the
  beta-VAE chairs network): Conv 32, 32, 64, 64 with kernels 4, 4, 2, 2,
  stride 2, ReLU -> Dense 256 -> Dense 2 * latent_dim. Decoder: Dense 256 ->
  Dense (side/16)^2 * 64 -> Conv2DTranspose 64, 32, 32, channels (kernel 4,
  stride 2). The transposed convolutions are `SubPixelConv2DTranspose`
  layers: the same weights and results, computed faster where the backend's
  native op is slow (see `keras_factorvae.layers`).
- `"conv_paper"`: the FactorVAE paper appendix: Conv 4x4 stride 2 at
  32, 32, 64, 64 -> Dense 128 -> Dense 2 * latent_dim; the decoder mirrors it.
- `"mlp"`: the beta-VAE / FactorVAE fully connected nets: flatten -> 1200 ->
  1200 -> 2 * latent_dim (ReLU); decoder latent -> 1200 x 3 (tanh, as in
  disentanglement_lib's `fc_decoder`) -> pixels.

Encoders output one `(batch, 2 * latent_dim)` tensor: the posterior means
followed by the log-variances. Decoders output logits of the image.
"""

import keras
from keras import layers

from keras_factorvae.backend import conv_data_format
from keras_factorvae.layers import SubPixelConv2DTranspose
from keras_factorvae.layers import SubPixelGradConv2D

PRESETS = ("conv", "conv_paper", "mlp")


def _conv_data_format():
    """Layout of the convolutions inside the preset networks.

    Inputs and outputs are always channels-last and the weights are the same
    either way; only the activations between the convolutions change layout,
    to the one the backend convolves natively
    (`keras_factorvae.backend.conv_data_format`).
    """
    return conv_data_format()


def check_image_shape(input_shape):
    """Validates a preset's `(side, side, channels)` input shape."""
    shape = tuple(input_shape) if input_shape is not None else None
    if shape is None or len(shape) != 3:
        raise ValueError(
            "`input_shape` must be (height, width, channels), "
            f"received {input_shape!r}."
        )
    side, width, channels = shape
    valid_sides = (32, 64, 128)
    if side != width or side not in valid_sides:
        raise ValueError(
            "The presets need square images with a side of 32, 64 or 128 "
            f"pixels; received input_shape={shape}. Pass your own `encoder=` "
            "and `decoder=` models for other shapes."
        )
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"Invalid channel count in input_shape={shape}.")
    return shape


def _conv_stack(preset):
    if preset == "conv":
        return [(32, 4), (32, 4), (64, 2), (64, 2)], 256
    return [(32, 4), (32, 4), (64, 4), (64, 4)], 128


def build_encoder(preset, input_shape, latent_dim, name="encoder"):
    """Builds a preset encoder as a functional `keras.Model`.

    Args:
        preset: one of `"conv"`, `"conv_paper"`, `"mlp"`.
        input_shape: `(side, side, channels)`.
        latent_dim: number of latent dimensions.
        name: model name.

    Example:

    >>> enc = build_encoder("conv", (64, 64, 1), 10)
    >>> enc.output_shape
    (None, 20)
    """
    input_shape = check_image_shape(input_shape)
    inputs = keras.Input(input_shape, name="images")
    x = inputs
    if preset == "mlp":
        x = layers.Flatten()(x)
        x = layers.Dense(1200, activation="relu", name="e1")(x)
        x = layers.Dense(1200, activation="relu", name="e2")(x)
    elif preset in ("conv", "conv_paper"):
        convs, hidden = _conv_stack(preset)
        data_format = _conv_data_format()
        if data_format == "channels_first":
            x = layers.Permute((3, 1, 2), name="to_channels_first")(x)
        for i, (filters, kernel) in enumerate(convs):
            x = SubPixelGradConv2D(
                filters, kernel, strides=2, padding="same",
                activation="relu", data_format=data_format, name=f"e{i + 1}",
            )(x)
        if data_format == "channels_first":
            # Flatten channels-last, so the next Dense's weights mean the
            # same on every backend.
            x = layers.Permute((2, 3, 1), name="to_channels_last")(x)
        x = layers.Flatten()(x)
        x = layers.Dense(hidden, activation="relu", name="e5")(x)
    else:
        raise ValueError(f"Unknown preset {preset!r}; known: {PRESETS}.")
    stats = layers.Dense(2 * latent_dim, name="stats")(x)
    return keras.Model(inputs, stats, name=name)


def build_decoder(preset, input_shape, latent_dim, name="decoder"):
    """Builds a preset decoder (latent codes to image logits).

    Args:
        preset: one of `"conv"`, `"conv_paper"`, `"mlp"`.
        input_shape: the image shape `(side, side, channels)` to produce.
        latent_dim: number of latent dimensions.
        name: model name.

    Example:

    >>> dec = build_decoder("conv", (64, 64, 1), 10)
    >>> dec.output_shape
    (None, 64, 64, 1)
    """
    side, _, channels = check_image_shape(input_shape)
    inputs = keras.Input((latent_dim,), name="codes")
    if preset == "mlp":
        x = inputs
        for i in range(3):
            x = layers.Dense(1200, activation="tanh", name=f"d{i + 1}")(x)
        x = layers.Dense(side * side * channels, name="d4")(x)
        logits = layers.Reshape((side, side, channels), name="logits")(x)
        return keras.Model(inputs, logits, name=name)
    if preset not in ("conv", "conv_paper"):
        raise ValueError(f"Unknown preset {preset!r}; known: {PRESETS}.")
    _, hidden = _conv_stack(preset)
    base = side // 16
    x = layers.Dense(hidden, activation="relu", name="d1")(inputs)
    x = layers.Dense(base * base * 64, activation="relu", name="d2")(x)
    x = layers.Reshape((base, base, 64))(x)
    data_format = _conv_data_format()
    if data_format == "channels_first":
        x = layers.Permute((3, 1, 2), name="to_channels_first")(x)
    for i, filters in enumerate((64, 32, 32)):
        x = SubPixelConv2DTranspose(
            filters, 4, strides=2, padding="same", activation="relu",
            data_format=data_format, name=f"d{i + 3}",
        )(x)
    logits = SubPixelConv2DTranspose(
        channels, 4, strides=2, padding="same", data_format=data_format,
        name="logits",
    )(x)
    if data_format == "channels_first":
        logits = layers.Permute((2, 3, 1), name="to_channels_last")(logits)
    return keras.Model(inputs, logits, name=name)


def build_discriminator(latent_dim, units=1000, num_layers=6, name="discriminator"):
    """The FactorVAE discriminator: an MLP with 2 output logits.

    `num_layers` counts the hidden layers (disentanglement_lib reads the paper
    as 6 hidden layers of 1000 units; the popular PyTorch repositories use 5
    hidden layers, i.e. `num_layers=5`). Each hidden layer is Dense + LeakyReLU
    (0.2).

    Args:
        latent_dim: size of the codes it classifies.
        units: width of every hidden layer.
        num_layers: number of hidden layers.
        name: model name.

    Example:

    >>> d = build_discriminator(10)
    >>> d.output_shape
    (None, 2)
    """
    if units < 1 or num_layers < 0:
        raise ValueError(
            "discriminator_units must be >= 1 and discriminator_layers >= 0; "
            f"received {units} and {num_layers}."
        )
    inputs = keras.Input((latent_dim,), name="codes")
    x = inputs
    for i in range(num_layers):
        x = layers.Dense(units, name=f"dense_{i + 1}")(x)
        x = layers.LeakyReLU(negative_slope=0.2, name=f"leaky_relu_{i + 1}")(x)
    logits = layers.Dense(2, name="logits")(x)
    return keras.Model(inputs, logits, name=name)
