"""keras-factorvae: a Keras 3 multi-backend zoo of disentangling VAEs.

TensorFlow is never imported here: the JAX and torch backends work where it
is absent. Sub-packages with heavy dependencies load on first use.
"""

import importlib

from keras_factorvae import compile_options

# Must run before Keras imports TensorFlow (see `compile_options`).
compile_options.prefer_tensorflow_onednn()

from keras_factorvae import losses
from keras_factorvae import models
from keras_factorvae import networks
from keras_factorvae.models import VAE
from keras_factorvae.models import AnnealedVAE
from keras_factorvae.models import BaseVAE
from keras_factorvae.models import BetaTCVAE
from keras_factorvae.models import BetaVAE
from keras_factorvae.models import DIPVAE
from keras_factorvae.models import FactorVAE
from keras_factorvae.optimizers import PairedOptimizer
from keras_factorvae.version import __version__

_LAZY = ("datasets", "metrics", "callbacks", "visualize", "tuning", "bench")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"keras_factorvae.{name}")
    raise AttributeError(f"module 'keras_factorvae' has no attribute {name!r}")
