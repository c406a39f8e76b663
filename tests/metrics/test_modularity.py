import numpy as np

from keras_factorvae.metrics import modularity_explicitness
from keras_factorvae.metrics.modularity import modularity
from tests.metrics.toy import Noise
from tests.metrics.toy import ToyData
from tests.metrics.toy import identity
from tests.metrics.toy import with_dead_dim

rs = np.random.RandomState
SMALL = dict(num_train=400, num_test=200)


def test_modularity_from_given_mutual_information():
    assert modularity(np.array([[1.0, 0.0], [0.0, 2.0]])) == 1.0
    # code 0 equally informative of both factors (0); code 1 has no MI (0).
    assert modularity(np.array([[1.0, 1.0], [0.0, 0.0]])) == 0.0
    # code 0: 1 - 1 / 4; code 1: 1.
    np.testing.assert_allclose(
        modularity(np.array([[2.0, 1.0], [0.0, 0.5]])), (0.75 + 1.0) / 2)
    # 3 factors: 1 - (1 + 1) / (9 * 2).
    np.testing.assert_allclose(modularity(np.array([[3.0, 1.0, 1.0]])),
                               1 - 2 / 18)


def test_end_to_end_bounds():
    data = ToyData()
    perfect = modularity_explicitness(data, identity, rs(0), **SMALL)
    assert perfect["modularity_score"] > 0.95
    assert perfect["explicitness_score_train"] > 0.9
    assert perfect["explicitness_score_test"] > 0.9
    random = modularity_explicitness(data, Noise(), rs(0), **SMALL)
    assert abs(random["explicitness_score_test"] - 0.5) < 0.1
    assert random["modularity_score"] < perfect["modularity_score"]


def test_constant_dimension_does_not_break_explicitness():
    # The reference divides by a zero stddev and fails on the NaNs.
    data = ToyData()
    dead = modularity_explicitness(data, with_dead_dim, rs(0), **SMALL)
    perfect = modularity_explicitness(data, identity, rs(0), **SMALL)
    np.testing.assert_allclose(dead["explicitness_score_test"],
                               perfect["explicitness_score_test"], atol=1e-3)
    # The dead code has no MI and scores 0, diluting the mean over 4 codes.
    np.testing.assert_allclose(dead["modularity_score"],
                               perfect["modularity_score"] * 3 / 4)
