import numpy as np
import pytest
import sklearn.metrics

from keras_factorvae.metrics import mig
from keras_factorvae.metrics import utils
from keras_factorvae.metrics.mig import mig_from_mutual_info
from tests.metrics.toy import Noise
from tests.metrics.toy import ToyData
from tests.metrics.toy import identity
from tests.metrics.toy import reference_batch_factor_code
from tests.metrics.toy import rotated

rs = np.random.RandomState


def test_mig_from_given_mutual_information():
    ys = np.array([[0, 1] * 4, [0, 1, 2, 3] * 2])  # H = log 2, log 4
    m = np.array([[0.6, 0.1], [0.2, 1.0], [0.1, 0.3]])
    expected = np.mean([(0.6 - 0.2) / np.log(2), (1.0 - 0.3) / np.log(4)])
    np.testing.assert_allclose(mig_from_mutual_info(m, ys), expected)


def test_two_factor_toy_with_known_mutual_information():
    # Binary factors encoded exactly: each code has I = H(factor) = log 2
    # with its factor and the empirical (near 0) MI with the other one.
    data = ToyData(sizes=(2, 2))
    score = mig(data, identity, rs(0), num_train=1000)["discrete_mig"]
    _, ys = reference_batch_factor_code(data, identity, 1000, rs(0), 16)
    h = np.array([sklearn.metrics.mutual_info_score(y, y) for y in ys])
    cross = sklearn.metrics.mutual_info_score(ys[0], ys[1])
    np.testing.assert_allclose(score, np.mean((h - cross) / h), rtol=1e-12)
    assert score > 0.99


def test_matches_reference_formula_end_to_end():
    data = ToyData(noise=0.4)
    score = mig(data, rotated, rs(1), num_train=800)["discrete_mig"]
    mus, ys = reference_batch_factor_code(data, rotated, 800, rs(1), 16)
    discrete = np.zeros_like(mus)
    for i in range(mus.shape[0]):
        discrete[i] = np.digitize(mus[i], np.histogram(mus[i], 20)[1][:-1])
    m = utils.discrete_mutual_info(discrete, ys)
    h = utils.discrete_entropy(ys)
    top = np.sort(m, axis=0)[::-1]
    assert score == np.mean((top[0] - top[1]) / h)


def test_bounds():
    data = ToyData()
    perfect = mig(data, identity, rs(0), num_train=1000)["discrete_mig"]
    mixed = mig(data, rotated, rs(0), num_train=1000)["discrete_mig"]
    duplicated = mig(data, lambda x: np.concatenate([x, x], axis=1), rs(0),
                     num_train=1000)["discrete_mig"]
    random = mig(data, Noise(), rs(0), num_train=1000)["discrete_mig"]
    assert perfect > 0.95
    assert mixed < perfect - 0.2
    assert duplicated == 0.0  # two codes share the top MI of every factor
    assert 0.0 <= random < 0.05


def test_rejects_one_dimensional_code_and_bad_num_train():
    with pytest.raises(ValueError, match="at least 2"):
        mig(ToyData(), lambda x: x[:, :1], rs(0), num_train=50)
    with pytest.raises(ValueError, match="num_train"):
        mig(ToyData(), identity, rs(0), num_train=0)
