"""Running a network that is a chain of stock layers, layer by layer.

Keras runs a functional model by walking its graph and calling every layer
through `Layer.__call__`, which binds arguments, opens dtype and name scopes
and propagates masks and the training flag before the layer's `call`.
TensorFlow and JAX trace a training step once, so that work is done once;
PyTorch runs eagerly and pays it at every call of every step (its share of
the FactorVAE step is in docs/benchmarks.md). `run` calls the layers' `call`
methods in order instead, where that computes exactly what `network(x)`
computes:

- the backend is one of `keras_factorvae.backend.DIRECT_CALL_BACKENDS`;
- the network is a functional model with one input and one output whose
  layers form a single chain (each layer's input is the previous layer's
  output);
- every layer is exactly of a type in `STOCK_LAYERS` (a subclass may add
  training-mode behaviour to `call`): layers without masks, without
  training-mode behaviour and without losses of their own;
- every layer computes in its variables' dtype (no mixed-precision autocast)
  and the input already has that dtype.

Anything else, the presets under `mixed_bfloat16` or a user's own network
included, runs through `network(x, training=...)` as usual.
"""

import weakref

import keras

from keras_factorvae.backend import calls_layers_directly
from keras_factorvae.layers import SubPixelConv2DTranspose
from keras_factorvae.layers import SubPixelGradConv2D

# Layer types whose `call(x)` is all that `__call__(x, training=...)` does for
# a float input of the layer's own dtype.
STOCK_LAYERS = (
    SubPixelGradConv2D,
    SubPixelConv2DTranspose,
    keras.layers.Dense,
    keras.layers.Conv2D,
    keras.layers.Conv2DTranspose,
    keras.layers.Flatten,
    keras.layers.Reshape,
    keras.layers.Permute,
    keras.layers.LeakyReLU,
    keras.layers.ReLU,
    keras.layers.Activation,
)

_CHAINS = weakref.WeakKeyDictionary()


def _single_input(layer):
    try:
        return layer.input
    except (AttributeError, ValueError):  # no node, or several
        return None


def chain_layers(network):
    """The layers of `network` in order if it is a chain of stock layers
    computing in their variables' dtype, else None.

    Args:
        network: a Keras model.

    Example:

    >>> chain_layers(model.discriminator)[0].name
    'dense_1'
    """
    try:
        return _CHAINS[network]
    except KeyError:
        layers = _CHAINS[network] = _chain(network)
        return layers


def _chain(network):
    try:
        from keras.src.models.functional import Functional
    except ImportError:  # pragma: no cover - a Keras without this module
        return None
    # Exactly a functional model: a subclass may override `call`.
    if type(network) is not Functional:
        return None
    inputs, outputs = network.inputs, network.outputs
    if len(inputs) != 1 or len(outputs) != 1:
        return None
    layers = [l for l in network.layers if not isinstance(l, keras.layers.InputLayer)]
    if not layers:
        return None
    previous = inputs[0]
    for layer in layers:
        if type(layer) not in STOCK_LAYERS or layer.compute_dtype != (
            layer.variable_dtype
        ):
            return None
        if _single_input(layer) is not previous:
            return None
        previous = layer.output
    return layers if previous is outputs[0] else None


def run(network, inputs, training=False):
    """`network(inputs, training=training)`, calling the layers' `call`
    methods in order where that is the same computation (see the module
    docstring).

    Args:
        network: a Keras model.
        inputs: a tensor.
        training: passed to `network` where it runs as usual (the chains'
            layers behave the same either way).

    Returns:
        The network's output.

    Example:

    >>> logits = run(model.discriminator, z)
    """
    if calls_layers_directly():
        layers = chain_layers(network)
        if layers is not None and keras.backend.standardize_dtype(
            inputs.dtype
        ) == layers[0].compute_dtype:
            # As `Layer.__call__` does: a numpy batch becomes a tensor.
            x = keras.ops.convert_to_tensor(inputs)
            for layer in layers:
                x = layer.call(x)
            return x
    return network(inputs, training=training)
