import numpy as np
import pytest

from keras_factorvae.metrics import sap_score
from keras_factorvae.metrics.sap import compute_avg_diff_top_two
from keras_factorvae.metrics.sap import compute_score_matrix
from tests.metrics.toy import Noise
from tests.metrics.toy import ToyData
from tests.metrics.toy import identity

rs = np.random.RandomState


def test_from_given_score_matrix():
    scores = np.array([[0.9, 0.2], [0.5, 0.8], [0.1, 0.7]])
    np.testing.assert_allclose(compute_avg_diff_top_two(scores),
                               np.mean([0.9 - 0.5, 0.8 - 0.7]))


def test_continuous_score_matrix_is_squared_correlation():
    r = np.random.RandomState(0)
    y = r.randn(1, 400)
    mus = np.vstack([2 * y[0] + 1, r.randn(400), np.zeros(400)])
    m = compute_score_matrix(mus, y, mus, y, continuous_factors=True)
    np.testing.assert_allclose(m[0, 0], 1.0)
    assert m[1, 0] < 0.05
    assert m[2, 0] == 0.0  # constant code


def test_end_to_end():
    data = ToyData(sizes=(2, 2, 2))
    perfect = sap_score(data, identity, rs(0), num_train=300, num_test=150)
    random = sap_score(data, Noise(), rs(0), num_train=300, num_test=150)
    assert perfect["SAP_score"] > 0.4
    assert random["SAP_score"] < 0.15
    duplicated = sap_score(data, lambda x: np.concatenate([x, x], axis=1),
                           rs(0), num_train=300, num_test=150,
                           continuous_factors=True)
    assert duplicated["SAP_score"] == pytest.approx(0.0, abs=1e-12)


def test_rejects_one_dimensional_code():
    with pytest.raises(ValueError, match="at least 2"):
        sap_score(ToyData(), lambda x: x[:, :1], rs(0), num_train=30,
                  num_test=30)
