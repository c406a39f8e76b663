"""Unsupervised scores of a representation (no factor labels used).

Gaussian total correlation, Gaussian Wasserstein dependency and mean
pairwise mutual information of the codes; as implemented by
disentanglement_lib's `unsupervised_metrics`.
"""

import numpy as np
import scipy.linalg

from keras_factorvae.metrics import utils


def unsupervised(
    ground_truth_data,
    representation_function,
    random_state,
    num_train=10000,
    batch_size=16,
    num_bins=20,
    *,
    encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
):
    """Computes the unsupervised scores of the codes.

    Args:
        ground_truth_data: `GroundTruthData`-like dataset (only sampled).
        representation_function: maps a batch of observations to an
            `(n, num_codes)` array with `num_codes >= 2`.
        random_state: `numpy.random.RandomState`.
        num_train: number of points (>= 2).
        batch_size: points per call of `sample` (fixes the random stream).
        num_bins: histogram bins per code dimension for the mutual
            information.
        encode_batch_size: most observations per call of the representation
            function (does not change the result).

    Returns:
        Dict with `gaussian_total_correlation`,
        `gaussian_wasserstein_correlation`,
        `gaussian_wasserstein_correlation_norm` (divided by the total
        variance) and `mutual_info_score` (mean MI in nats over ordered
        pairs of distinct code dimensions). A constant dimension makes the
        total correlation NaN or infinite, as in the reference.

    Example:

    >>> unsupervised(data, encoder_mean, np.random.RandomState(0))
    {'gaussian_total_correlation': 0.01, ...}
    """
    utils.check_common(ground_truth_data, random_state, encode_batch_size)
    num_train = utils.check_int("num_train", num_train, minimum=2)
    mus, _ = utils.generate_batch_factor_code(
        ground_truth_data, representation_function, num_train, random_state,
        batch_size, encode_batch_size)
    num_codes = mus.shape[0]
    if num_codes < 2:
        raise ValueError(
            "The unsupervised scores need a representation of at least 2 "
            f"dimensions, got {num_codes}."
        )
    cov_mus = np.cov(mus)
    scores = {
        "gaussian_total_correlation": float(
            gaussian_total_correlation(cov_mus)),
        "gaussian_wasserstein_correlation": float(
            gaussian_wasserstein_correlation(cov_mus)),
    }
    scores["gaussian_wasserstein_correlation_norm"] = float(
        scores["gaussian_wasserstein_correlation"] / np.sum(np.diag(cov_mus)))
    mus_discrete = utils.histogram_discretize(mus, num_bins)
    mutual_info = utils.discrete_mutual_info(mus_discrete, mus_discrete)
    np.fill_diagonal(mutual_info, 0)
    scores["mutual_info_score"] = float(
        np.sum(mutual_info) / (num_codes**2 - num_codes))
    return scores


def gaussian_total_correlation(cov):
    """Total correlation (nats) of a Gaussian with covariance `cov`.

    The KL divergence between the Gaussian and the product of its marginals:
    `0.5 * (sum(log(diag(cov))) - log(det(cov)))`.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * (
            np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])


def gaussian_wasserstein_correlation(cov):
    """Squared 2-Wasserstein-type dependency of a Gaussian on its marginals.

    `2 tr(cov) - 2 tr(sqrtm(diag(var) @ cov))`, as the reference computes
    it. The real part is returned: `sqrtm` may leave a round-off imaginary
    part that the reference keeps as a complex number.
    """
    sqrtm = scipy.linalg.sqrtm(cov * np.expand_dims(np.diag(cov), axis=1))
    return np.real(2 * np.trace(cov) - 2 * np.trace(sqrtm))
