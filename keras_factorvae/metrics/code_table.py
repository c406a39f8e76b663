"""Encode each example of a dataset once, however often the metrics draw it.

The metrics sample observations with replacement: at the default sizes the
suite draws about 2.9 million dSprites observations, but dSprites has 737,280
examples, so most draws repeat an earlier one. When a dataset's observation
of a factor vector is one of its examples (`sample_indices_from_factors`),
the metrics can run on example indices instead of images, and a table
encodes each index the first time it is drawn and serves its code from then
on. The metrics' random streams are untouched (the indices are drawn exactly
as the observations were) and each code is the representation function's
output for that example, so the scores are the same as without the table
whenever the representation function maps each observation independently of
the others in its batch (the metrics assume this already, see
`utils.generate_batch_factor_code`).
"""

import numpy as np

from keras_factorvae.metrics import utils

# Larger datasets are encoded on the fly: the table keeps a boolean and a
# code per example.
MAX_TABLE_EXAMPLES = 10_000_000


def supports_indices(ground_truth_data):
    """Whether `ground_truth_data` can give example indices for factors."""
    method = getattr(type(ground_truth_data), "sample_indices_from_factors",
                     None)
    if method is None or not hasattr(ground_truth_data,
                                     "observations_from_indices"):
        return False
    try:
        num_examples = int(ground_truth_data.num_examples)
        empty = np.zeros((0, ground_truth_data.num_factors), np.int64)
        ground_truth_data.sample_indices_from_factors(
            empty, np.random.RandomState(0))
    except (NotImplementedError, AttributeError, TypeError, ValueError):
        return False
    return 0 < num_examples <= MAX_TABLE_EXAMPLES


class IndexedData:
    """A dataset whose observations are the `(n, 1)` indices of its examples.

    Everything but the observations is the wrapped dataset's; the factors and
    the indices are drawn from `random_state` in the wrapped dataset's order.

    Args:
        ground_truth_data: a dataset for which `supports_indices` holds.
    """

    def __init__(self, ground_truth_data):
        self.data = ground_truth_data

    def __getattr__(self, name):
        if name == "data":  # not yet set (unpickling)
            raise AttributeError(name)
        return getattr(self.data, name)

    def sample_observations_from_factors(self, factors, random_state):
        indices = self.data.sample_indices_from_factors(factors, random_state)
        return np.asarray(indices, np.int64)[:, None]

    def sample(self, num, random_state):
        factors = self.data.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors,
                                                              random_state)

    def sample_observations(self, num, random_state):
        return self.sample(num, random_state)[1]


class CodeTable:
    """Representation function of `IndexedData`: codes looked up by index.

    Args:
        ground_truth_data: the dataset (not the `IndexedData` wrapper).
        representation_function: maps observations to `(n, num_codes)`.
        encode_batch_size: most observations per call of it.

    Example:

    >>> table = CodeTable(data, model.encode)
    >>> beta_vae_score(IndexedData(data), table, np.random.RandomState(0))
    """

    def __init__(self, ground_truth_data, representation_function,
                 encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE):
        self.data = ground_truth_data
        self.encoder = utils.Encoder(representation_function,
                                     encode_batch_size)
        self.known = np.zeros(int(ground_truth_data.num_examples), bool)
        self.codes = None
        self.num_encoded = 0

    def __call__(self, indices):
        indices = np.asarray(indices)
        if indices.ndim != 2 or indices.shape[1] != 1 or not np.issubdtype(
                indices.dtype, np.integer):
            raise ValueError(
                "A CodeTable maps (n, 1) example indices (the observations of "
                f"IndexedData) to codes; got an array of shape {indices.shape} "
                f"and dtype {indices.dtype}.")
        indices = indices[:, 0]
        # Sorted, so each example is rendered and encoded once, in order.
        new = np.unique(indices[~self.known[indices]])
        step = self.encoder.encode_batch_size
        for start in range(0, len(new), step):
            chunk = new[start : start + step]
            codes = self.encoder(self.data.observations_from_indices(chunk))
            if self.codes is None:
                self.codes = np.zeros((len(self.known), codes.shape[1]),
                                      codes.dtype)
            self.codes[chunk] = codes
            self.known[chunk] = True
            self.num_encoded += len(chunk)
        if self.codes is None:  # no indices at all
            return np.zeros((0, 0))
        return self.codes[indices]


def indexed(ground_truth_data, representation_function,
            encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE):
    """The dataset and representation function the metrics should get.

    Returns `(IndexedData, CodeTable)` when the dataset supports indices, so
    every example is encoded at most once across all metrics called with the
    pair; otherwise the arguments unchanged.

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: maps observations to `(n, num_codes)`.
        encode_batch_size: most observations per call of it.

    Example:

    >>> data, function = indexed(DSprites(), model.encode)
    >>> mig(data, function, np.random.RandomState(0))
    """
    if not supports_indices(ground_truth_data):
        return ground_truth_data, representation_function
    return (IndexedData(ground_truth_data),
            CodeTable(ground_truth_data, representation_function,
                      encode_batch_size))
