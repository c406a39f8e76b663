import numpy as np

from keras_factorvae.metrics import irs
from keras_factorvae.metrics.irs import scalable_disentanglement_score
from tests.metrics.toy import Noise
from tests.metrics.toy import ToyData
from tests.metrics.toy import constant
from tests.metrics.toy import identity
from tests.metrics.toy import with_dead_dim

rs = np.random.RandomState


def test_scalable_score_by_hand():
    g = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    z = np.array([[0.0], [2.0], [10.0], [12.0]])
    out = scalable_disentanglement_score(g, z, diff_quantile=1.0)
    # max deviation 6; groups of g0 deviate by 1, groups of g1 by 5.
    np.testing.assert_allclose(out["IRS_matrix"], [[1 - 1 / 6, 1 - 5 / 6]])
    np.testing.assert_allclose(out["avg_score"], 5 / 6)
    assert out["parents"].tolist() == [0]


def test_end_to_end():
    data = ToyData()
    perfect = irs(data, identity, rs(0), num_train=500)
    assert perfect["IRS"] > 0.95 and perfect["num_active_dims"] == 3
    dead = irs(data, with_dead_dim, rs(0), num_train=500)
    # True count of active dims (the reference returns the sum of codes).
    assert dead == perfect
    random = irs(data, Noise(), rs(0), num_train=500)
    assert random["IRS"] < 0.3
    assert irs(data, constant, rs(0), num_train=50) == {
        "IRS": 0.0, "num_active_dims": 0}
