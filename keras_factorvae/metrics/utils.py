"""Shared helpers of the disentanglement metrics.

Sampling, batched encoding with shape checks, histogram discretisation and
discrete mutual information, defined as in google-research's
disentanglement_lib so that scores agree value for value.

Data layout follows disentanglement_lib: codes are `(num_codes, num_points)`
and factors `(num_factors, num_points)` wherever a helper returns both.
"""

import numpy as np
import sklearn.metrics

# Observations gathered before one call to the representation function. Every
# sampling unit of the metrics (16, 64 and 2 * 64 observations) divides it, so
# all calls but the last one of a loop have the same shape (no retracing of a
# compiled encoder).
DEFAULT_ENCODE_BATCH_SIZE = 2048

_REQUIRED_ATTRIBUTES = (
    "num_factors",
    "factors_num_values",
    "observation_shape",
    "sample_factors",
    "sample_observations_from_factors",
)


def check_ground_truth_data(ground_truth_data):
    """Raises a `ValueError` naming what a dataset lacks of the interface.

    Args:
        ground_truth_data: object expected to follow disentanglement_lib's
            `GroundTruthData` interface.

    Returns:
        `ground_truth_data`, unchanged.
    """
    missing = [
        name
        for name in _REQUIRED_ATTRIBUTES
        if not hasattr(ground_truth_data, name)
    ]
    if missing:
        raise ValueError(
            f"`ground_truth_data` ({type(ground_truth_data).__name__}) does "
            "not follow the GroundTruthData interface; it is missing: "
            f"{', '.join(missing)}."
        )
    for name in ("sample_factors", "sample_observations_from_factors"):
        if not callable(getattr(ground_truth_data, name)):
            raise ValueError(
                f"`ground_truth_data.{name}` must be callable, got "
                f"{type(getattr(ground_truth_data, name)).__name__}."
            )
    check_int("ground_truth_data.num_factors", ground_truth_data.num_factors)
    return ground_truth_data


def check_int(name, value, minimum=1):
    """Raises a `ValueError` unless `value` is an integer >= `minimum`."""
    try:
        ok = not isinstance(value, bool) and int(value) == value
    except (TypeError, ValueError):
        ok = False
    if not ok or value < minimum:
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}, got {value!r}."
        )
    return int(value)


def check_random_state(random_state):
    if not isinstance(random_state, np.random.RandomState):
        raise ValueError(
            "`random_state` must be a numpy.random.RandomState, got "
            f"{type(random_state).__name__}."
        )
    return random_state


def check_common(ground_truth_data, random_state, encode_batch_size):
    check_ground_truth_data(ground_truth_data)
    check_random_state(random_state)
    check_int("encode_batch_size", encode_batch_size)


def sample(ground_truth_data, num, random_state):
    """Samples `num` factors and observations, as `GroundTruthData.sample`.

    Datasets without a `sample` method get the default implementation of the
    interface (factors first, then observations from them), which draws from
    `random_state` in the same order.
    """
    if hasattr(ground_truth_data, "sample"):
        return ground_truth_data.sample(num, random_state)
    factors = ground_truth_data.sample_factors(num, random_state)
    observations = ground_truth_data.sample_observations_from_factors(
        factors, random_state
    )
    return factors, observations


def sample_observations(ground_truth_data, num, random_state):
    """Samples `num` observations, as `GroundTruthData.sample_observations`."""
    if hasattr(ground_truth_data, "sample_observations"):
        return ground_truth_data.sample_observations(num, random_state)
    return sample(ground_truth_data, num, random_state)[1]


def check_codes(codes, num_rows, num_codes=None):
    """Validates one output of a representation function.

    Args:
        codes: what the representation function returned.
        num_rows: number of observations it was given.
        num_codes: expected number of columns (from earlier calls), or None.

    Returns:
        The output as a numpy array (dtype kept: the reference computes in
        whatever precision the encoder returns).
    """
    codes = np.asarray(codes)
    if codes.dtype.name == "bfloat16" or codes.dtype.name.startswith("float8"):
        # ml_dtypes' low-precision floats are not numpy numbers.
        codes = codes.astype(np.float32)
    if codes.ndim != 2:
        raise ValueError(
            "The representation function must return a 2-D array "
            f"(num_observations, num_codes); got shape {codes.shape}."
        )
    if codes.shape[0] != num_rows:
        raise ValueError(
            f"The representation function returned {codes.shape[0]} rows "
            f"for a batch of {num_rows} observations."
        )
    if num_codes is not None and codes.shape[1] != num_codes:
        raise ValueError(
            "The representation function returned codes of "
            f"{codes.shape[1]} dimensions, but {num_codes} for an earlier "
            "batch."
        )
    if codes.shape[1] < 1:
        raise ValueError("The representation function returned 0 codes.")
    if not np.issubdtype(codes.dtype, np.number) or np.issubdtype(
        codes.dtype, np.complexfloating
    ):
        raise ValueError(
            "The representation function must return real numbers, got "
            f"dtype {codes.dtype}."
        )
    if not np.all(np.isfinite(codes)):
        raise ValueError(
            "The representation function returned NaN or infinite values."
        )
    return codes


def to_numpy(codes):
    """A representation function's output (a tensor or array) as numpy."""
    if isinstance(codes, np.ndarray):
        return codes
    import keras

    return np.asarray(keras.ops.convert_to_numpy(codes))


class Encoder:
    """Calls a representation function in chunks and checks every output.

    The metrics' side of encoding: any callable (a user's own function, or
    `make_representation_function`'s call of a model's batched `encode`) is
    called on at most `encode_batch_size` observations at a time, and each
    output is checked (`check_codes`). Wrapping an `Encoder` wraps its
    function (one level of chunks and checks, at the new batch size).

    Args:
        representation_function: maps a batch of observations to an
            `(n, num_codes)` array.
        encode_batch_size: most observations per call.
    """

    def __init__(self, representation_function, encode_batch_size):
        if isinstance(representation_function, Encoder):
            representation_function = representation_function.function
        if not callable(representation_function):
            raise ValueError(
                "`representation_function` must be callable, got "
                f"{type(representation_function).__name__}."
            )
        self.function = representation_function
        self.encode_batch_size = check_int(
            "encode_batch_size", encode_batch_size
        )
        self.num_codes = None

    def __call__(self, observations):
        n = len(observations)
        outputs = []
        for start in range(0, n, self.encode_batch_size):
            chunk = observations[start : start + self.encode_batch_size]
            codes = check_codes(self.function(chunk), len(chunk),
                                self.num_codes)
            self.num_codes = codes.shape[1]
            outputs.append(codes)
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)


def groups(num_units, unit_size, encode_batch_size):
    """Splits `num_units` sampling units into groups encoded by one call."""
    per_group = max(1, encode_batch_size // unit_size)
    for start in range(0, num_units, per_group):
        yield min(per_group, num_units - start)


def generate_batch_factor_code(
    ground_truth_data,
    representation_function,
    num_points,
    random_state,
    batch_size=16,
    encode_batch_size=DEFAULT_ENCODE_BATCH_SIZE,
):
    """Samples factors and encodes the matching observations.

    Data are drawn with `ground_truth_data.sample(batch_size, random_state)`
    in turn, exactly as disentanglement_lib's function of the same name, but
    the observations of many such batches are concatenated and encoded by one
    call of at most `encode_batch_size` observations. The representation
    function maps each observation independently, so its codes are the same
    as with one call per batch of `batch_size`.

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: maps observations to `(n, num_codes)` codes.
        num_points: number of points to sample.
        random_state: `numpy.random.RandomState`.
        batch_size: points drawn per call of `sample` (fixes the random
            stream: 16 in the reference).
        encode_batch_size: most observations per call of the representation
            function.

    Returns:
        `(codes, factors)`: `(num_codes, num_points)` and
        `(num_factors, num_points)` arrays.

    Example:

    >>> codes, factors = generate_batch_factor_code(
    ...     data, lambda x: x, 100, np.random.RandomState(0))
    """
    num_points = check_int("num_points", num_points)
    batch_size = check_int("batch_size", batch_size)
    encoder = (
        representation_function
        if isinstance(representation_function, Encoder)
        else Encoder(representation_function, encode_batch_size)
    )
    num_batches = -(-num_points // batch_size)
    all_factors, all_codes = [], []
    done = 0
    for group in groups(num_batches, batch_size, encoder.encode_batch_size):
        observations = []
        for _ in range(group):
            n = min(num_points - done, batch_size)
            factors, obs = sample(ground_truth_data, n, random_state)
            all_factors.append(np.asarray(factors))
            observations.append(np.asarray(obs))
            done += n
        all_codes.append(encoder(np.concatenate(observations)))
    return (
        np.transpose(np.concatenate(all_codes)),
        np.transpose(np.concatenate(all_factors)),
    )


def histogram_discretize(target, num_bins=20):
    """Discretises each row of `target` into `num_bins` equal-width bins.

    Same binning as disentanglement_lib's histogram discretizer:
    `np.digitize` against the left edges of `np.histogram`, so labels run
    from 1 to `num_bins` (the row maximum falls in bin `num_bins`).

    Args:
        target: `(num_rows, num_points)` array.
        num_bins: number of bins per row.

    Returns:
        `(num_rows, num_points)` int64 array of bin labels.
    """
    num_bins = check_int("num_bins", num_bins)
    target = np.asarray(target)
    discretized = np.zeros(target.shape, dtype=np.int64)
    for i, row in enumerate(target):
        edges = np.histogram_bin_edges(row, num_bins)
        discretized[i] = np.digitize(row, edges[:-1])
    return discretized


def discrete_mutual_info(mus, ys):
    """Mutual information (nats) between rows of two discrete arrays.

    Args:
        mus: `(num_codes, num_points)` discrete codes.
        ys: `(num_factors, num_points)` discrete factors.

    Returns:
        `(num_codes, num_factors)` matrix `m[i, j] = I(mus[i]; ys[j])`
        computed with `sklearn.metrics.mutual_info_score(ys[j], mus[i])`.
    """
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            m[i, j] = sklearn.metrics.mutual_info_score(ys[j], mus[i])
    return m


def discrete_entropy(ys):
    """Entropy (nats) of each row of a discrete `(num_factors, n)` array."""
    return np.array(
        [sklearn.metrics.mutual_info_score(y, y) for y in ys], dtype=float
    )


def normalize_data(data, mean=None, stddev=None):
    """Standardises each row of `data`; returns `(data, mean, stddev)`.

    A constant row (stddev 0) is divided by 1 instead of 0: the reference
    divides by 0 and its classifiers then fail on NaN inputs, so this only
    changes cases the reference cannot score.
    """
    if mean is None:
        mean = np.mean(data, axis=1)
    if stddev is None:
        stddev = np.std(data, axis=1)
    safe = np.where(stddev == 0, 1, stddev)
    return (data - mean[:, np.newaxis]) / safe[:, np.newaxis], mean, stddev
