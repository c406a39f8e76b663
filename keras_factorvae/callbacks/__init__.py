"""Callbacks: metrics during training, traversal pictures, NaN guard."""

import importlib

from keras_factorvae.callbacks.nan_guard import NonFiniteLossError
from keras_factorvae.callbacks.nan_guard import TerminateOnNonFinite

_LAZY = {
    "DisentanglementMetrics": "keras_factorvae.callbacks.disentanglement",
    "Traversals": "keras_factorvae.callbacks.traversals",
}


def __getattr__(name):
    # Loaded on first use: the metrics pull in scikit-learn.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
