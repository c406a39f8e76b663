"""Training runs: one engine for the CLI, the examples and the studies.

Example:

>>> from keras_factorvae import runs
>>> config = runs.TrainConfig(model="factorvae", model_kwargs={"gamma": 35.0},
...                           steps=3000, paired=True)
>>> run = runs.train(config, "runs/fvae")   # rerun to resume after a kill
"""

import importlib

from keras_factorvae.runs.config import DEFAULT_BACKUP_EVERY
from keras_factorvae.runs.config import PRECISIONS
from keras_factorvae.runs.config import TRAINING_KEYS
from keras_factorvae.runs.config import RunError
from keras_factorvae.runs.config import TrainConfig
from keras_factorvae.runs.config import parse_backup_every

# The engine imports Keras; the settings above do not, so the command line
# builds its parsers from them without loading a backend.
_ENGINE = ("Run", "compute_metrics", "load_data", "train")

__all__ = [
    "PRECISIONS",
    "DEFAULT_BACKUP_EVERY",
    "TRAINING_KEYS",
    "Run",
    "RunError",
    "TrainConfig",
    "compute_metrics",
    "load_data",
    "parse_backup_every",
    "train",
]


def __getattr__(name):
    if name in _ENGINE:
        value = getattr(importlib.import_module("keras_factorvae.runs.engine"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_factorvae.runs' has no attribute {name!r}")
