"""Hyperparameter search for the zoo with KerasTuner.

`tune(...)` runs a search in one call; `FactorVAEHyperModel` /
`ZooHyperModel` plug into any KerasTuner tuner; `write_results` writes the
table, plot and best model; `configure_gpu_memory` lets several workers share
a GPU. See docs/tuning.md.

Dependencies: `keras-tuner` (which imports `grpcio` and `protobuf`); the
Bayesian tuner needs scikit-learn. Under the JAX and PyTorch backends
KerasTuner 1.4 does not import TensorFlow. Under the TensorFlow backend it
uses `tf.io.gfile` and, for every trial, `tensorboard` (which must be
installed). `import keras_factorvae` never imports this sub-package; it loads
on first access of `keras_factorvae.tuning`.
"""

from keras_factorvae.extras import require as _require

_require("keras_tuner")

from keras_factorvae.tuning.distributed import configure_gpu_memory  # noqa: E402
from keras_factorvae.tuning.distributed import is_chief
from keras_factorvae.tuning.distributed import is_worker
from keras_factorvae.tuning.distributed import serve_oracle
from keras_factorvae.tuning.hypermodel import DEFAULT_SEARCH
from keras_factorvae.tuning.hypermodel import FactorVAEHyperModel
from keras_factorvae.tuning.hypermodel import ZooHyperModel
from keras_factorvae.tuning.hypermodel import define_hyperparameter
from keras_factorvae.tuning.objectives import ReconstructionTCTradeoff
from keras_factorvae.tuning.objectives import gaussian_total_correlation
from keras_factorvae.tuning.objectives import get_objective
from keras_factorvae.tuning.objectives import held_out_images
from keras_factorvae.tuning.results import plot_trials
from keras_factorvae.tuning.results import trials_table
from keras_factorvae.tuning.results import write_results
from keras_factorvae.tuning.search import TUNERS
from keras_factorvae.tuning.search import make_tuner
from keras_factorvae.tuning.search import tune
