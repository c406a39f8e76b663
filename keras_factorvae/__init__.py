"""keras-factorvae: a Keras 3 multi-backend zoo of disentangling VAEs.

`import keras_factorvae` is cheap: it imports neither Keras nor a backend.
Every public name below loads on first use, so the command line answers
`--help` at once, and the JAX and torch backends work where TensorFlow is
absent. The zoo's classes are registered with Keras as soon as Keras is
imported (`keras_factorvae.registration`), so `keras.models.load_model`
reads saved models without `custom_objects`.

Example:

>>> import keras_factorvae as kfv
>>> model = kfv.FactorVAE(latent_dim=10, gamma=35.0)
"""

import importlib

from keras_factorvae import registration
from keras_factorvae.version import __version__

# Public name -> the module that defines it.
_CLASSES = {
    "VAE": "keras_factorvae.models",
    "AnnealedVAE": "keras_factorvae.models",
    "BaseVAE": "keras_factorvae.models",
    "BetaTCVAE": "keras_factorvae.models",
    "BetaVAE": "keras_factorvae.models",
    "DIPVAE": "keras_factorvae.models",
    "FactorVAE": "keras_factorvae.models",
    "PairedOptimizer": "keras_factorvae.optimizers",
}
# Sub-packages and modules reachable as attributes.
_MODULES = ("backend", "bench", "callbacks", "datasets", "losses", "metrics",
            "models", "networks", "tuning", "visualize")

__all__ = sorted(_CLASSES) + list(_MODULES) + ["__version__"]

registration.register_when_keras_is_imported()


def __getattr__(name):
    if name in _CLASSES:
        value = getattr(importlib.import_module(_CLASSES[name]), name)
    elif name in _MODULES:
        value = importlib.import_module(f"keras_factorvae.{name}")
    else:
        raise AttributeError(f"module 'keras_factorvae' has no attribute {name!r}")
    globals()[name] = value
    # Loading it may have imported Keras: register now if not yet done.
    registration.register_when_keras_is_imported()
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
