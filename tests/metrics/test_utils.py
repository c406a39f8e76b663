import numpy as np
import pytest

from keras_factorvae.metrics import utils
from tests.metrics.toy import ToyData
from tests.metrics.toy import identity
from tests.metrics.toy import reference_batch_factor_code


@pytest.mark.parametrize("encode_batch_size", [1, 50, 2048])
def test_generate_batch_factor_code_matches_unbatched_loop(encode_batch_size):
    data = ToyData(noise=0.1)
    rs1, rs2 = np.random.RandomState(3), np.random.RandomState(3)
    calls = []

    def function(x):
        calls.append(len(x))
        return identity(x)

    codes, factors = utils.generate_batch_factor_code(
        data, function, 101, rs1, batch_size=16,
        encode_batch_size=encode_batch_size)
    ref_codes, ref_factors = reference_batch_factor_code(
        data, identity, 101, rs2, 16)
    np.testing.assert_array_equal(codes, ref_codes)
    np.testing.assert_array_equal(factors, ref_factors)
    assert codes.shape == (3, 101)
    # The random streams end in the same state.
    assert rs1.randint(1 << 30) == rs2.randint(1 << 30)
    assert max(calls) <= max(encode_batch_size, 16)
    if encode_batch_size == 2048:
        assert calls == [101]


def test_histogram_discretize_matches_numpy_histogram_bins():
    x = np.random.RandomState(0).randn(2, 500).astype(np.float32)
    d = utils.histogram_discretize(x, num_bins=20)
    assert d.min() == 1 and d.max() == 20
    for row, labels in zip(x, d):
        expected = np.digitize(row, np.histogram(row, 20)[1][:-1])
        np.testing.assert_array_equal(labels, expected)
        assert labels[np.argmax(row)] == 20
    # Two values land in the first and the last bin.
    two = utils.histogram_discretize(np.array([[0.0, 1.0, 0.0]]), 20)
    np.testing.assert_array_equal(two, [[1, 20, 1]])


def test_discrete_mutual_info_and_entropy_known_values():
    y = np.array([[0, 1, 0, 1, 0, 1, 0, 1]])
    same = y.copy()
    independent = np.array([[0, 0, 1, 1, 0, 0, 1, 1]])
    m = utils.discrete_mutual_info(np.vstack([same, independent]), y)
    np.testing.assert_allclose(m[:, 0], [np.log(2), 0.0], atol=1e-12)
    np.testing.assert_allclose(utils.discrete_entropy(
        np.array([[0, 1, 2, 3], [5, 5, 5, 5]])), [np.log(4), 0.0], atol=1e-12)


def test_normalize_data_constant_row_stays_finite():
    data = np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0]])
    norm, mean, std = utils.normalize_data(data)
    np.testing.assert_allclose(norm[0], [-1.2247449, 0.0, 1.2247449],
                               rtol=1e-6)
    np.testing.assert_array_equal(norm[1], 0.0)
    np.testing.assert_array_equal(std, [np.std([1, 2, 3]), 0.0])


@pytest.mark.parametrize(
    "function, message",
    [
        (lambda x: np.zeros(len(x)), "2-D"),
        (lambda x: np.zeros((len(x) + 1, 2)), "rows"),
        (lambda x: np.full((len(x), 2), np.nan), "NaN"),
        (lambda x: np.zeros((len(x), 2, 1)), "2-D"),
    ],
)
def test_bad_representation_raises(function, message):
    with pytest.raises(ValueError, match=message):
        utils.generate_batch_factor_code(
            ToyData(), function, 20, np.random.RandomState(0))


def test_changing_code_width_raises():
    widths = iter([2, 3])

    def function(x):
        return np.zeros((len(x), next(widths)))

    with pytest.raises(ValueError, match="earlier batch"):
        utils.generate_batch_factor_code(
            ToyData(), function, 40, np.random.RandomState(0),
            encode_batch_size=16)


def test_dataset_missing_interface_names_attributes():
    class Partial:
        num_factors = 2

        def sample_factors(self, num, random_state):
            return np.zeros((num, 2))

    with pytest.raises(ValueError) as info:
        utils.check_ground_truth_data(Partial())
    text = str(info.value)
    for name in ("factors_num_values", "observation_shape",
                 "sample_observations_from_factors"):
        assert name in text
    assert "sample_factors" not in text.split("missing:")[1]


def test_check_int_and_random_state():
    with pytest.raises(ValueError, match="num_train"):
        utils.check_int("num_train", 0)
    with pytest.raises(ValueError, match="batch_size"):
        utils.check_int("batch_size", 1.5)
    with pytest.raises(ValueError, match="batch_size"):
        utils.check_int("batch_size", None)
    assert utils.check_int("x", 3.0) == 3
    with pytest.raises(ValueError, match="RandomState"):
        utils.check_random_state(0)
