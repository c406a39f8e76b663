"""Ground-truth datasets and input pipelines.

Imports neither TensorFlow nor Keras: `load(..., source="tfds")` and
`as_dataset` import TensorFlow when called, `as_py_dataset` imports Keras.
"""

from keras_factorvae.datasets.batch_plan import BatchPlan
from keras_factorvae.datasets.batch_plan import PackedBinaryImages
from keras_factorvae.datasets.batch_plan import decode_observations
from keras_factorvae.datasets.dsprites import ColorDSprites
from keras_factorvae.datasets.dsprites import DSprites
from keras_factorvae.datasets.dsprites import NoisyDSprites
from keras_factorvae.datasets.ground_truth import ArrayGroundTruthData
from keras_factorvae.datasets.ground_truth import GroundTruthData
from keras_factorvae.datasets.loading import KNOWN_DATASETS
from keras_factorvae.datasets.loading import load
from keras_factorvae.datasets.pipeline import as_dataset
from keras_factorvae.datasets.pipeline import as_py_dataset
from keras_factorvae.datasets.pipeline import benchmark_pipeline
from keras_factorvae.datasets.tfds_sources import DataUnavailableError


def __getattr__(name):
    # The PyDataset subclass needs Keras: load it on first use only.
    if name == "GroundTruthPyDataset":
        from keras_factorvae.datasets.py_dataset import GroundTruthPyDataset

        return GroundTruthPyDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
