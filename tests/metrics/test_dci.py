import numpy as np
import pytest

from keras_factorvae.metrics import dci
from keras_factorvae.metrics.dci import completeness
from keras_factorvae.metrics.dci import disentanglement
from tests.metrics.toy import Noise
from tests.metrics.toy import ToyData
from tests.metrics.toy import identity


def test_scores_from_given_importance_matrix():
    # code 0 -> factor 0 only; code 1 -> both factors equally.
    r = np.array([[1.0, 0.0], [1.0, 1.0]])
    # D: code weights 1/3, 2/3; per-code 1 - H: 1, 0.
    np.testing.assert_allclose(disentanglement(r), 1 / 3, atol=1e-9)
    # C: factor weights 2/3, 1/3; per-factor 1 - H: 0, 1.
    np.testing.assert_allclose(completeness(r), 1 / 3, atol=1e-9)
    np.testing.assert_allclose(disentanglement(np.eye(3)), 1.0, atol=1e-9)
    np.testing.assert_allclose(completeness(np.eye(3)), 1.0, atol=1e-9)
    np.testing.assert_allclose(disentanglement(np.ones((3, 3))), 0.0,
                               atol=1e-9)
    # One code for all factors: disentanglement 0, completeness 1.
    one_code = np.array([[1.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(disentanglement(one_code), 0.0, atol=1e-9)
    np.testing.assert_allclose(completeness(one_code), 1.0, atol=1e-9)


def test_end_to_end_perfect_and_random_codes():
    data = ToyData(sizes=(2, 3))
    perfect = dci(data, identity, np.random.RandomState(0), num_train=150,
                  num_test=60)
    assert set(perfect) == {"disentanglement", "completeness",
                            "informativeness_train", "informativeness_test"}
    assert perfect["disentanglement"] > 0.9
    assert perfect["completeness"] > 0.9
    assert perfect["informativeness_test"] == 1.0
    random = dci(data, Noise(2), np.random.RandomState(0), num_train=150,
                 num_test=60)
    assert random["informativeness_test"] < 0.75
    assert random["informativeness_train"] > random["informativeness_test"]


def test_rejects_bad_sizes():
    with pytest.raises(ValueError, match="num_test"):
        dci(ToyData(), identity, np.random.RandomState(0), num_train=10,
            num_test=0)
