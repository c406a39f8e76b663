"""Separated Attribute Predictability (Kumar et al., 2018).

"Variational Inference of Disentangled Latent Concepts from Unlabeled
Observations", https://openreview.net/forum?id=H1kG7GZAW, Section 3; as
implemented by disentanglement_lib's `compute_sap`.
"""

import warnings

import numpy as np
from sklearn import svm
from sklearn.exceptions import ConvergenceWarning

from keras_factorvae.metrics import utils


def sap_score(
    ground_truth_data,
    representation_function,
    random_state,
    num_train=10000,
    num_test=5000,
    batch_size=16,
    continuous_factors=False,
    *,
    encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
):
    """Computes the SAP score.

    For discrete factors (the study's setting) each pair (code `i`, factor
    `j`) gets the test accuracy of a `LinearSVC(C=0.01,
    class_weight="balanced")` predicting factor `j` from code `i` alone; for
    continuous factors, the squared correlation on the training points. The
    score is the mean over factors of the gap between the two best codes.
    The SVMs' convergence warnings are silenced (dozens per call).

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: maps a batch of observations to an
            `(n, num_codes)` array with `num_codes >= 2`.
        random_state: `numpy.random.RandomState`.
        num_train: training points.
        num_test: test points (drawn even for continuous factors, as the
            reference does, so the random stream is the same).
        batch_size: points per call of `sample` (fixes the random stream).
        continuous_factors: whether factors are continuous.
        encode_batch_size: most observations per call of the representation
            function (does not change the result).

    Returns:
        Dict with `SAP_score`.

    Example:

    >>> sap_score(data, encoder_mean, np.random.RandomState(0))
    {'SAP_score': 0.61}
    """
    utils.check_common(ground_truth_data, random_state, encode_batch_size)
    num_train = utils.check_int("num_train", num_train)
    num_test = utils.check_int("num_test", num_test)
    encoder = utils.Encoder(representation_function, encode_batch_size)
    mus, ys = utils.generate_batch_factor_code(
        ground_truth_data, encoder, num_train, random_state, batch_size)
    mus_test, ys_test = utils.generate_batch_factor_code(
        ground_truth_data, encoder, num_test, random_state, batch_size)
    if mus.shape[0] < 2:
        raise ValueError(
            "SAP needs a representation of at least 2 dimensions, got "
            f"{mus.shape[0]}."
        )
    score_matrix = compute_score_matrix(
        mus, ys, mus_test, ys_test, continuous_factors)
    return {"SAP_score": float(compute_avg_diff_top_two(score_matrix))}


def compute_score_matrix(mus, ys, mus_test, ys_test, continuous_factors):
    """`(num_codes, num_factors)` predictability of each factor by each code.

    Args:
        mus: `(num_codes, n_train)` codes.
        ys: `(num_factors, n_train)` factors.
        mus_test: `(num_codes, n_test)` codes.
        ys_test: `(num_factors, n_test)` factors.
        continuous_factors: squared correlation if True, else LinearSVC test
            accuracy.

    Returns:
        The score matrix.
    """
    score_matrix = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            if continuous_factors:
                cov = np.cov(mus[i], ys[j], ddof=1)
                if cov[0, 0] > 1e-12:
                    score_matrix[i, j] = cov[0, 1] ** 2 / (
                        cov[0, 0] * cov[1, 1])
            else:
                classifier = svm.LinearSVC(C=0.01, class_weight="balanced")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    classifier.fit(mus[i][:, np.newaxis], ys[j])
                pred = classifier.predict(mus_test[i][:, np.newaxis])
                score_matrix[i, j] = np.mean(pred == ys_test[j])
    return score_matrix


def compute_avg_diff_top_two(matrix):
    """Mean over columns of the gap between the two largest entries."""
    sorted_matrix = np.sort(matrix, axis=0)
    return np.mean(sorted_matrix[-1] - sorted_matrix[-2])
