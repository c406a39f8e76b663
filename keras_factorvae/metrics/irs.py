"""Interventional Robustness Score (Suter et al., 2019).

"Interventional Robustness of Deep Latent Variable Models",
https://arxiv.org/abs/1811.00007; as
implemented by disentanglement_lib's `compute_irs`.
"""

import numpy as np

from keras_factorvae.metrics import utils


def irs(
    ground_truth_data,
    representation_function,
    random_state,
    diff_quantile=0.99,
    num_train=10000,
    batch_size=16,
    num_bins=20,
    *,
    encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
):
    """Computes the Interventional Robustness Score.

    Factors are discretised into `num_bins` histogram bins (as the
    reference does, through the study's discretizer); constant code
    dimensions are dropped before scoring.

    `num_active_dims` is the number of non-constant code dimensions. The
    reference returns `np.sum(active_mus)`, the sum of the code values
    themselves; this function returns the count (`IRS` is unaffected).

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: maps a batch of observations to an
            `(n, num_codes)` array.
        random_state: `numpy.random.RandomState`.
        diff_quantile: quantile of the within-group deviations (1.0 for the
            paper's maximum).
        num_train: number of points.
        batch_size: points per call of `sample` (fixes the random stream).
        num_bins: histogram bins per factor.
        encode_batch_size: most observations per call of the representation
            function (does not change the result).

    Returns:
        Dict with `IRS` (0 if no dimension is active) and `num_active_dims`.

    Example:

    >>> irs(data, encoder_mean, np.random.RandomState(0))
    {'IRS': 0.88, 'num_active_dims': 10}
    """
    utils.check_common(ground_truth_data, random_state, encode_batch_size)
    num_train = utils.check_int("num_train", num_train)
    if not 0.0 <= diff_quantile <= 1.0:
        raise ValueError(
            f"`diff_quantile` must be in [0, 1], got {diff_quantile!r}."
        )
    mus, ys = utils.generate_batch_factor_code(
        ground_truth_data, representation_function, num_train, random_state,
        batch_size, encode_batch_size)
    ys_discrete = utils.histogram_discretize(ys, num_bins)
    active_mus = mus[mus.var(axis=1) > 0.0]
    if active_mus.shape[0] == 0:
        score = 0.0
    else:
        score = scalable_disentanglement_score(
            ys_discrete.T, active_mus.T, diff_quantile)["avg_score"]
    return {"IRS": float(score), "num_active_dims": int(active_mus.shape[0])}


def scalable_disentanglement_score(gen_factors, latents, diff_quantile=0.99):
    """IRS of latents given discrete generative factors.

    Args:
        gen_factors: `(num_points, num_factors)` discrete factors.
        latents: `(num_points, num_latents)` codes.
        diff_quantile: quantile of the within-group deviations.

    Returns:
        Dict with `disentanglement_scores` (per latent), `avg_score` (their
        mean weighted by each latent's maximal deviation), `parents`,
        `IRS_matrix` `(num_latents, num_factors)` and `max_deviations`.
    """
    num_latents = latents.shape[1]
    num_factors = gen_factors.shape[1]
    max_deviations = np.max(np.abs(latents - latents.mean(axis=0)), axis=0)
    cum_deviations = np.zeros([num_latents, num_factors])
    for i in range(num_factors):
        values = np.unique(gen_factors[:, i])
        for value in values:
            # Deviation from E[z | g_i = value] within the group.
            group = latents[gen_factors[:, i] == value]
            diffs = np.abs(group - np.mean(group, axis=0))
            cum_deviations[:, i] += np.quantile(diffs, q=diff_quantile, axis=0)
        cum_deviations[:, i] /= values.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        irs_matrix = 1.0 - cum_deviations / max_deviations[:, np.newaxis]
    disentanglement_scores = irs_matrix.max(axis=1)
    if np.sum(max_deviations) > 0.0:
        avg_score = np.average(disentanglement_scores, weights=max_deviations)
    else:
        avg_score = np.mean(disentanglement_scores)
    return {
        "disentanglement_scores": disentanglement_scores,
        "avg_score": avg_score,
        "parents": irs_matrix.argmax(axis=1),
        "IRS_matrix": irs_matrix,
        "max_deviations": max_deviations,
    }
