"""Ground-truth datasets backed by in-memory arrays of labelled images.

The classes live in `ground_truth` (`ArrayGroundTruthData`, beside the base
class whose `from_arrays` builds it) and `batch_plan` (`PackedBinaryImages`);
this module keeps their historical import path.
"""

from keras_factorvae.datasets.batch_plan import PackedBinaryImages
from keras_factorvae.datasets.ground_truth import ArrayGroundTruthData

__all__ = ["ArrayGroundTruthData", "PackedBinaryImages"]
