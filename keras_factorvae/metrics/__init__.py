"""Disentanglement metrics, value for value with disentanglement_lib.

Every metric takes `(ground_truth_data, representation_function,
random_state, **params)` like disentanglement_lib's `compute_*` functions,
defaults to the settings of Locatello et al. (2019) and returns a dict with
the reference's keys. `evaluate` runs several on a model with `encode`.

Example:

>>> import numpy as np
>>> from keras_factorvae import metrics
>>> metrics.mig(data, encoder_mean, np.random.RandomState(0))
{'discrete_mig': 0.42}
>>> metrics.evaluate(model, data, metrics=("mig", "factor_vae_score"))
{'mig.discrete_mig': 0.42, 'factor_vae_score.train_accuracy': 0.81, ...}
"""

from keras_factorvae.metrics.beta_vae import beta_vae_score
from keras_factorvae.metrics.code_table import indexed
from keras_factorvae.metrics.dci import dci
from keras_factorvae.metrics.evaluate import HEADLINES
from keras_factorvae.metrics.evaluate import METRICS
from keras_factorvae.metrics.evaluate import evaluate
from keras_factorvae.metrics.evaluate import make_representation_function
from keras_factorvae.metrics.factor_vae import factor_vae_score
from keras_factorvae.metrics.irs import irs
from keras_factorvae.metrics.mig import mig
from keras_factorvae.metrics.modularity import modularity_explicitness
from keras_factorvae.metrics.sap import sap_score
from keras_factorvae.metrics.timing import time_suite
from keras_factorvae.metrics.total_correlation import total_correlation_estimates
from keras_factorvae.metrics.unsupervised import unsupervised
from keras_factorvae.metrics.utils import generate_batch_factor_code

__all__ = [
    "HEADLINES",
    "METRICS",
    "beta_vae_score",
    "dci",
    "evaluate",
    "factor_vae_score",
    "generate_batch_factor_code",
    "indexed",
    "irs",
    "make_representation_function",
    "mig",
    "modularity_explicitness",
    "sap_score",
    "time_suite",
    "total_correlation_estimates",
    "unsupervised",
]
