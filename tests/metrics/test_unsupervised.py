import numpy as np
import pytest

from keras_factorvae.metrics import unsupervised
from keras_factorvae.metrics.unsupervised import gaussian_total_correlation
from keras_factorvae.metrics.unsupervised import (
    gaussian_wasserstein_correlation)
from tests.metrics.toy import ToyData
from tests.metrics.toy import identity

rs = np.random.RandomState


@pytest.mark.parametrize("rho", [0.0, 0.3, -0.8])
def test_gaussian_scores_of_known_covariance(rho):
    cov = np.array([[1.0, rho], [rho, 1.0]])
    np.testing.assert_allclose(gaussian_total_correlation(cov),
                               -0.5 * np.log(1 - rho**2), atol=1e-12)
    np.testing.assert_allclose(
        gaussian_wasserstein_correlation(cov),
        4 - 2 * (np.sqrt(1 + rho) + np.sqrt(1 - rho)), atol=1e-10)


def test_scaled_diagonal_covariance_is_independent():
    cov = np.diag([0.5, 2.0, 3.0])
    np.testing.assert_allclose(gaussian_total_correlation(cov), 0.0,
                               atol=1e-12)
    np.testing.assert_allclose(gaussian_wasserstein_correlation(cov), 0.0,
                               atol=1e-10)


def test_end_to_end():
    data = ToyData()
    independent = unsupervised(data, identity, rs(0), num_train=1000)
    assert set(independent) == {
        "gaussian_total_correlation", "gaussian_wasserstein_correlation",
        "gaussian_wasserstein_correlation_norm", "mutual_info_score"}
    assert 0 <= independent["gaussian_total_correlation"] < 0.01
    assert independent["mutual_info_score"] < 0.02

    def correlated(x):
        x = identity(x)
        return np.stack([x[:, 0], x[:, 0] + 0.5 * x[:, 1], x[:, 2]], axis=1)

    dependent = unsupervised(data, correlated, rs(0), num_train=1000)
    assert dependent["gaussian_total_correlation"] > 0.3
    assert dependent["mutual_info_score"] > 0.1
    np.testing.assert_allclose(
        dependent["gaussian_wasserstein_correlation_norm"],
        dependent["gaussian_wasserstein_correlation"]
        / np.sum(np.var(correlated(data.sample(1000, rs(0))[1]), axis=0,
                        ddof=1)), rtol=0.1)


def test_rejects_too_few_points_or_dimensions():
    with pytest.raises(ValueError, match="num_train"):
        unsupervised(ToyData(), identity, rs(0), num_train=1)
    with pytest.raises(ValueError, match="at least 2"):
        unsupervised(ToyData(), lambda x: x[:, :1], rs(0), num_train=20)
