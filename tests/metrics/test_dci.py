import numpy as np
import pytest

from keras_factorvae.metrics import dci
from keras_factorvae.metrics.dci import completeness
from keras_factorvae.metrics.dci import compute_importance_gbt
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


def test_parallel_fits_keep_each_factor_in_its_column():
    # Code i carries factor i, so column i of the importance matrix must
    # peak at row i whichever process fitted it.
    rng = np.random.RandomState(0)
    y_train = rng.randint(0, 4, size=(3, 200))
    y_test = rng.randint(0, 4, size=(3, 80))
    x_train = y_train + 0.1 * rng.randn(3, 200)
    x_test = y_test + 0.1 * rng.randn(3, 80)
    importance, train_acc, test_acc = compute_importance_gbt(
        x_train, y_train, x_test, y_test, n_jobs=2, seeds=[1, 2, 3])
    assert importance.shape == (3, 3)
    np.testing.assert_array_equal(importance.argmax(axis=0), [0, 1, 2])
    assert train_acc == 1.0 and test_acc == 1.0
    serial = compute_importance_gbt(x_train, y_train, x_test, y_test,
                                    seeds=[1, 2, 3])[0]
    np.testing.assert_array_equal(importance, serial)
    with pytest.raises(ValueError, match="n_jobs"):
        dci(ToyData(), identity, np.random.RandomState(0), num_train=10,
            num_test=10, n_jobs=0)


def test_same_seed_same_scores_and_ties_follow_the_seed():
    # Coarse codes of few points: many candidate splits tie exactly, which
    # the reference breaks with numpy's global state (scores vary by run).
    data = ToyData(sizes=(3, 8, 6), noise=0.0)

    def coarse(x):
        return np.round(np.concatenate([x, x[:, ::-1]], axis=1) / 3)

    kwargs = dict(num_train=120, num_test=60)
    runs = []
    for n_jobs, global_seed in ((1, 0), (2, 1), (-1, 2)):
        np.random.seed(global_seed)
        runs.append(dci(data, coarse, np.random.RandomState(4), n_jobs=n_jobs,
                        **kwargs))
    assert runs[0] == runs[1] == runs[2]
    # The ties are there: unseeded, as in the reference, the global state
    # decides them.
    codes = coarse(data.sample_observations_from_factors(
        data.sample_factors(120, np.random.RandomState(0)), None)).T
    factors = data.sample_factors(120, np.random.RandomState(0)).T
    unseeded = []
    for global_seed in (0, 1):
        np.random.seed(global_seed)
        unseeded.append(compute_importance_gbt(codes, factors, codes,
                                               factors)[0])
    assert not np.array_equal(*unseeded)
