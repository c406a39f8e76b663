"""The disentanglement_lib-compatible interface, on DSprites and a toy subclass."""

import numpy as np
import pytest

from keras_factorvae.datasets import DSprites
from keras_factorvae.datasets import GroundTruthData


class Toy(GroundTruthData):
    """A 2 x 3 grid whose observation is a 1 x 1 x 2 image of the factors / 10."""

    factors_num_values = [2, 3]
    observation_shape = (1, 1, 2)

    def sample_observations_from_factors(self, factors, random_state):
        factors = self.check_factors(factors)
        return (factors / 10).astype(np.float32).reshape(-1, 1, 1, 2)


def test_dsprites_interface_values():
    data = DSprites()
    assert data.num_factors == 5
    assert data.factors_num_values == [3, 6, 40, 32, 32]
    assert data.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert tuple(data.observation_shape) == (64, 64, 1)
    assert data.num_examples == 737_280
    values = data.factor_values
    np.testing.assert_allclose(values[1], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert values[2][0] == 0 and values[2][-1] == pytest.approx(2 * np.pi)
    assert len(values[3]) == 32 and values[3][-1] == 1.0


def test_sample_factors_draws_like_disentanglement_lib():
    data = DSprites()
    factors = data.sample_factors(100, np.random.RandomState(7))
    # disentanglement_lib: one randint(size_i, size=num) per column, in order.
    rs = np.random.RandomState(7)
    expected = np.stack([rs.randint(s, size=100) for s in [3, 6, 40, 32, 32]], 1)
    np.testing.assert_array_equal(factors, expected)
    assert factors.dtype == np.int64


def test_sample_returns_factors_and_matching_observations():
    data = DSprites()
    factors, x = data.sample(8, np.random.RandomState(0))
    assert factors.shape == (8, 5) and x.shape == (8, 64, 64, 1)
    assert x.dtype == np.float32 and set(np.unique(x)) <= {0.0, 1.0}
    again = data.sample_observations_from_factors(factors, np.random.RandomState(1))
    np.testing.assert_array_equal(x, again)
    assert data.sample_observations(3, np.random.RandomState(0)).shape == (3, 64, 64, 1)


def test_index_order_is_the_original_file_order():
    data = DSprites()
    # posY fastest, shape slowest: hand-computed.
    index = (((1 * 6 + 2) * 40 + 3) * 32 + 4) * 32 + 5
    assert data.factors_to_index([[1, 2, 3, 4, 5]])[0] == index == 330_885
    np.testing.assert_array_equal(data.index_to_factors([index]), [[1, 2, 3, 4, 5]])
    np.testing.assert_array_equal(
        data.index_to_factors([0, 1, 32, 737_279]),
        [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [2, 5, 39, 31, 31]],
    )
    indices = np.random.RandomState(0).randint(data.num_examples, size=50)
    np.testing.assert_array_equal(
        data.factors_to_index(data.index_to_factors(indices)), indices
    )


def test_observations_from_indices_agrees_with_factors():
    data = DSprites()
    factors = data.sample_factors(6, np.random.RandomState(3))
    np.testing.assert_array_equal(
        data.observations_from_indices(data.factors_to_index(factors)),
        data.sample_observations_from_factors(factors, np.random.RandomState(0)),
    )


@pytest.mark.parametrize(
    "factors, message",
    [
        ([[0, 0, 0, 0]], r"shape \(n, 5\)"),
        ([[0, 6, 0, 0, 0]], r"'scale' must lie in \[0, 6\)"),
        ([[0, 0, -1, 0, 0]], "'orientation'"),
        ([[0.5, 0, 0, 0, 0]], "integer"),
    ],
)
def test_bad_factors_raise(factors, message):
    with pytest.raises(ValueError, match=message):
        DSprites().sample_observations_from_factors(factors, np.random.RandomState(0))


def test_bad_indices_raise():
    data = DSprites()
    with pytest.raises(IndexError):
        data.index_to_factors([737_280])
    with pytest.raises(ValueError, match="integers"):
        data.observations_from_indices([1.5])


def test_default_implementations_on_a_subclass():
    toy = Toy()
    assert toy.num_factors == 2 and toy.num_examples == 6
    assert toy.factor_names == ("factor_0", "factor_1")
    np.testing.assert_array_equal(toy.index_to_factors([5, 1]), [[1, 2], [0, 1]])
    x = toy.observations_from_indices([4])
    np.testing.assert_allclose(x.reshape(2), [0.1, 0.1])
    assert "Toy(factors={'factor_0': 2, 'factor_1': 3}" in repr(toy)
    # Integral floats are accepted as factors (metrics code may pass them).
    np.testing.assert_array_equal(toy.factors_to_index(np.array([[1.0, 2.0]])), [5])
