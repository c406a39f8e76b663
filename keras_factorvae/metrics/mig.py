"""Mutual Information Gap (Chen et al., 2018).

"Isolating Sources of Disentanglement in Variational Autoencoders",
https://arxiv.org/abs/1802.04942; as implemented by disentanglement_lib's
`compute_mig` with the study's 20-bin histogram discretizer.
"""

import numpy as np

from keras_factorvae.metrics import utils


def mig(
    ground_truth_data,
    representation_function,
    random_state,
    num_train=10000,
    batch_size=16,
    num_bins=20,
    *,
    encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
):
    """Computes the (discrete) mutual information gap.

    Codes of `num_train` points are discretised into `num_bins` equal-width
    bins per dimension; for every factor, the gap between the two largest
    mutual informations with a code dimension is divided by the factor's
    entropy, and the gaps are averaged over factors.

    Points are drawn with `sample(batch_size, random_state)` in turn, as in
    the reference; their observations are encoded in calls of up to
    `encode_batch_size` (codes are per observation, so this changes nothing).

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: maps a batch of observations to an
            `(n, num_codes)` array with `num_codes >= 2`.
        random_state: `numpy.random.RandomState`.
        num_train: number of points.
        batch_size: points per call of `sample` (fixes the random stream).
        num_bins: histogram bins per code dimension.
        encode_batch_size: most observations per call of the representation
            function.

    Returns:
        Dict with `discrete_mig`. A constant factor (entropy 0) makes it NaN,
        as in the reference.

    Example:

    >>> mig(data, encoder_mean, np.random.RandomState(0))
    {'discrete_mig': 0.93}
    """
    utils.check_common(ground_truth_data, random_state, encode_batch_size)
    num_train = utils.check_int("num_train", num_train)
    mus, ys = utils.generate_batch_factor_code(
        ground_truth_data, representation_function, num_train, random_state,
        batch_size, encode_batch_size)
    if mus.shape[0] < 2:
        raise ValueError(
            "MIG needs a representation of at least 2 dimensions, got "
            f"{mus.shape[0]}."
        )
    m = utils.discrete_mutual_info(
        utils.histogram_discretize(mus, num_bins), ys
    )
    return {"discrete_mig": float(mig_from_mutual_info(m, ys))}


def mig_from_mutual_info(mutual_info, ys):
    """MIG from a `(num_codes, num_factors)` mutual information matrix.

    Args:
        mutual_info: `m[i, j]` = MI (nats) between code `i` and factor `j`.
        ys: `(num_factors, num_points)` discrete factors (for the entropies).

    Returns:
        The mean over factors of `(top1 - top2) / H(factor)`.
    """
    entropy = utils.discrete_entropy(ys)
    sorted_m = np.sort(mutual_info, axis=0)[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.mean(np.divide(sorted_m[0] - sorted_m[1], entropy))
