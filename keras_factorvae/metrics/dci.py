"""Disentanglement, Completeness and Informativeness (Eastwood & Williams).

"A Framework for the Quantitative Evaluation of Disentangled
Representations", https://openreview.net/forum?id=By-7dz-AZ; as implemented
by disentanglement_lib's `compute_dci` (gradient boosted trees).
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.stats
from sklearn.ensemble import GradientBoostingClassifier

from keras_factorvae.metrics import utils


def dci(
    ground_truth_data,
    representation_function,
    random_state,
    num_train=10000,
    num_test=5000,
    batch_size=16,
    *,
    encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
    n_jobs=-1,
):
    """Computes the DCI scores.

    One `GradientBoostingClassifier` (sklearn defaults, as the reference)
    per factor predicts it from the codes; its feature importances form the
    `(num_codes, num_factors)` importance matrix. This is the slowest metric
    (minutes at the default sizes).

    Deviation from the reference: its classifiers get no `random_state`, so
    sklearn breaks exact ties between candidate splits with numpy's global
    random state and the scores change from run to run (at small sizes, by
    several percent). Here each factor's classifier gets a `random_state`
    drawn from `random_state` after the codes, so the same seed gives the
    same scores, whichever `n_jobs`; each run is still one of the
    reference's possible outcomes.

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: maps a batch of observations to an
            `(n, num_codes)` array.
        random_state: `numpy.random.RandomState`.
        num_train: training points.
        num_test: test points.
        batch_size: points per call of `sample` (fixes the random stream).
        encode_batch_size: most observations per call of the representation
            function (does not change the result).
        n_jobs: threads fitting the factors' classifiers (sklearn's tree
            building runs outside the GIL); -1 (default) uses every core
            this process may run on. Does not change the result.

    Returns:
        Dict with `disentanglement`, `completeness`, `informativeness_train`
        and `informativeness_test` (mean classification accuracies).

    Example:

    >>> dci(data, encoder_mean, np.random.RandomState(0), num_train=1000,
    ...     num_test=500)["disentanglement"]
    0.97
    """
    utils.check_common(ground_truth_data, random_state, encode_batch_size)
    num_train = utils.check_int("num_train", num_train)
    num_test = utils.check_int("num_test", num_test)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ValueError(
            f"`n_jobs` must be a non-zero integer (-1: all cores); received "
            f"{n_jobs!r}.")
    encoder = utils.Encoder(representation_function, encode_batch_size)
    mus_train, ys_train = utils.generate_batch_factor_code(
        ground_truth_data, encoder, num_train, random_state, batch_size)
    mus_test, ys_test = utils.generate_batch_factor_code(
        ground_truth_data, encoder, num_test, random_state, batch_size)
    seeds = random_state.randint(np.iinfo(np.int32).max,
                                 size=ys_train.shape[0])
    importance_matrix, train_acc, test_acc = compute_importance_gbt(
        mus_train, ys_train, mus_test, ys_test, n_jobs=n_jobs, seeds=seeds)
    return {
        "informativeness_train": float(train_acc),
        "informativeness_test": float(test_acc),
        "disentanglement": float(disentanglement(importance_matrix)),
        "completeness": float(completeness(importance_matrix)),
    }


def _fit_factor(x_train, y_train, x_test, y_test, seed):
    model = GradientBoostingClassifier(random_state=seed)
    model.fit(x_train, y_train)
    return (
        np.abs(model.feature_importances_),
        np.mean(model.predict(x_train) == y_train),
        np.mean(model.predict(x_test) == y_test),
    )


def _workers(n_jobs, num_jobs):
    if n_jobs > 0:
        return min(n_jobs, num_jobs)
    cores = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
             else os.cpu_count() or 1)
    return max(1, min(cores + 1 + n_jobs, num_jobs))


def compute_importance_gbt(x_train, y_train, x_test, y_test, n_jobs=1,
                           seeds=None):
    """Importance matrix and mean accuracies of one GBT per factor.

    Args:
        x_train: `(num_codes, n_train)` codes.
        y_train: `(num_factors, n_train)` factors.
        x_test: `(num_codes, n_test)` codes.
        y_test: `(num_factors, n_test)` factors.
        n_jobs: threads (see `dci`).
        seeds: one `random_state` per factor's classifier; None leaves them
            unseeded, as the reference.

    Returns:
        `(importance (num_codes, num_factors), train_accuracy,
        test_accuracy)`.
    """
    num_factors = y_train.shape[0]
    seeds = [None] * num_factors if seeds is None else [int(s) for s in seeds]
    jobs = [(x_train.T, y_train[i], x_test.T, y_test[i], seeds[i])
            for i in range(num_factors)]
    workers = _workers(n_jobs, num_factors)
    if workers == 1:
        fits = [_fit_factor(*job) for job in jobs]
    else:
        # Factors with more classes fit more trees: start them first.
        order = sorted(range(num_factors),
                       key=lambda i: -len(np.unique(y_train[i])))
        with ThreadPoolExecutor(workers) as pool:
            futures = {i: pool.submit(_fit_factor, *jobs[i]) for i in order}
            fits = [futures[i].result() for i in range(num_factors)]
    importance_matrix = np.stack([f[0] for f in fits], axis=1)
    train_acc = [f[1] for f in fits]
    test_acc = [f[2] for f in fits]
    return importance_matrix, np.mean(train_acc), np.mean(test_acc)


def disentanglement_per_code(importance_matrix):
    """1 - entropy (base num_factors) of each code's importance row."""
    return 1.0 - scipy.stats.entropy(
        importance_matrix.T + 1e-11, base=importance_matrix.shape[1]
    )


def disentanglement(importance_matrix):
    """Disentanglement: per-code scores weighted by each code's importance.

    Args:
        importance_matrix: `(num_codes, num_factors)` non-negative matrix.

    Returns:
        A scalar in [0, 1] (1: each code matters for a single factor).
    """
    per_code = disentanglement_per_code(importance_matrix)
    if importance_matrix.sum() == 0.0:
        importance_matrix = np.ones_like(importance_matrix)
    code_importance = importance_matrix.sum(axis=1) / importance_matrix.sum()
    return np.sum(per_code * code_importance)


def completeness_per_factor(importance_matrix):
    """1 - entropy (base num_codes) of each factor's importance column."""
    return 1.0 - scipy.stats.entropy(
        importance_matrix + 1e-11, base=importance_matrix.shape[0]
    )


def completeness(importance_matrix):
    """Completeness: per-factor scores weighted by each factor's importance.

    Args:
        importance_matrix: `(num_codes, num_factors)` non-negative matrix.

    Returns:
        A scalar in [0, 1] (1: each factor is captured by a single code).
    """
    per_factor = completeness_per_factor(importance_matrix)
    if importance_matrix.sum() == 0.0:
        importance_matrix = np.ones_like(importance_matrix)
    factor_importance = importance_matrix.sum(axis=0) / importance_matrix.sum()
    return np.sum(per_factor * factor_importance)
