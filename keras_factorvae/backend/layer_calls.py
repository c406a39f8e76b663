"""Backends on which the training step calls chains of layers directly.

PyTorch runs the step eagerly, so Keras' per-call work around every layer
(`keras_factorvae.chains`) is paid at every step; TensorFlow and JAX pay it
once, when they trace the step, and keep Keras' own calls.
"""

DIRECT_CALL_BACKENDS = ("torch",)


def calls_layers_directly():
    """Whether `keras_factorvae.chains.run` calls the layers' `call` methods
    on the active backend.

    Example:

    >>> calls_layers_directly()   # under KERAS_BACKEND=torch
    True
    """
    import keras

    return keras.backend.backend() in DIRECT_CALL_BACKENDS
