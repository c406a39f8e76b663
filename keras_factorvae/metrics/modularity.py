"""Modularity and explicitness (Ridgeway & Mozer, 2018).

"Learning Deep Disentangled Embeddings With the F-Statistic Loss",
https://arxiv.org/abs/1802.05312; as implemented by disentanglement_lib's
`compute_modularity_explicitness`.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import MultiLabelBinarizer, label_binarize

from keras_factorvae.metrics import utils


def modularity_explicitness(
    ground_truth_data,
    representation_function,
    random_state,
    num_train=10000,
    num_test=5000,
    batch_size=16,
    num_bins=20,
    *,
    encode_batch_size=utils.DEFAULT_ENCODE_BATCH_SIZE,
):
    """Computes modularity and explicitness.

    Modularity uses the mutual information between 20-bin discretised codes
    and factors. Explicitness is the macro ROC-AUC of a one-vs-rest-scored
    `LogisticRegression()` predicting each factor from the standardised
    codes, averaged over factors.

    Deviations, only where the reference fails: a constant code dimension
    (the reference divides by a zero stddev and the classifier rejects the
    NaNs) is left at 0 after centring; when the test set lacks a class seen
    in training (the reference's one-hot then has the wrong width), the
    ROC-AUC uses the classifier's classes and skips classes without both
    positives and negatives.

    Args:
        ground_truth_data: `GroundTruthData`-like dataset.
        representation_function: maps a batch of observations to an
            `(n, num_codes)` array.
        random_state: `numpy.random.RandomState`.
        num_train: training points.
        num_test: test points.
        batch_size: points per call of `sample` (fixes the random stream).
        num_bins: histogram bins per code dimension.
        encode_batch_size: most observations per call of the representation
            function (does not change the result).

    Returns:
        Dict with `modularity_score`, `explicitness_score_train` and
        `explicitness_score_test`.

    Example:

    >>> modularity_explicitness(data, encoder_mean, np.random.RandomState(0))
    {'modularity_score': 0.99, 'explicitness_score_train': 0.97,
     'explicitness_score_test': 0.97}
    """
    utils.check_common(ground_truth_data, random_state, encode_batch_size)
    num_train = utils.check_int("num_train", num_train)
    num_test = utils.check_int("num_test", num_test)
    encoder = utils.Encoder(representation_function, encode_batch_size)
    mus_train, ys_train = utils.generate_batch_factor_code(
        ground_truth_data, encoder, num_train, random_state, batch_size)
    mus_test, ys_test = utils.generate_batch_factor_code(
        ground_truth_data, encoder, num_test, random_state, batch_size)
    mutual_information = utils.discrete_mutual_info(
        utils.histogram_discretize(mus_train, num_bins), ys_train)
    scores = {"modularity_score": float(modularity(mutual_information))}

    mus_train_norm, mean, stddev = utils.normalize_data(mus_train)
    mus_test_norm, _, _ = utils.normalize_data(mus_test, mean, stddev)
    explicitness = np.array([
        explicitness_per_factor(mus_train_norm, ys_train[i],
                                mus_test_norm, ys_test[i])
        for i in range(ys_train.shape[0])
    ])
    scores["explicitness_score_train"] = float(np.mean(explicitness[:, 0]))
    scores["explicitness_score_test"] = float(np.mean(explicitness[:, 1]))
    return scores


def explicitness_per_factor(mus_train, y_train, mus_test, y_test):
    """Train and test ROC-AUC of a logistic regression for one factor.

    Args:
        mus_train: `(num_codes, n_train)` standardised codes.
        y_train: `(n_train,)` factor values.
        mus_test: `(num_codes, n_test)` standardised codes.
        y_test: `(n_test,)` factor values.

    Returns:
        `(roc_train, roc_test)`.
    """
    clf = LogisticRegression().fit(mus_train.T, y_train)
    return (
        _roc_auc(clf, y_train, clf.predict_proba(mus_train.T)),
        _roc_auc(clf, y_test, clf.predict_proba(mus_test.T)),
    )


def _roc_auc(clf, y, proba):
    if np.array_equal(np.unique(y), clf.classes_):
        # The reference's path: one-hot columns are the sorted classes of y.
        one_hot = MultiLabelBinarizer().fit_transform(np.expand_dims(y, 1))
        return roc_auc_score(one_hot, proba)
    one_hot = label_binarize(y, classes=clf.classes_)
    if len(clf.classes_) == 2:
        one_hot = np.concatenate([1 - one_hot, one_hot], axis=1)
    keep = (one_hot.min(axis=0) == 0) & (one_hot.max(axis=0) == 1)
    if not keep.any():
        return np.nan
    return roc_auc_score(one_hot[:, keep], proba[:, keep])


def modularity(mutual_information):
    """Modularity from a `(num_codes, num_factors)` mutual information matrix.

    Each code scores `1 - (sum_j m_ij^2 - max_j m_ij^2) / (max_j m_ij^2 *
    (num_factors - 1))` (0 for a code with no information); the result is
    the mean over codes.
    """
    squared_mi = np.square(mutual_information)
    max_squared_mi = np.max(squared_mi, axis=1)
    numerator = np.sum(squared_mi, axis=1) - max_squared_mi
    denominator = max_squared_mi * (squared_mi.shape[1] - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        modularity_score = 1.0 - numerator / denominator
    modularity_score[max_squared_mi == 0.0] = 0.0
    return np.mean(modularity_score)
