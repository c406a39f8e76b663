"""`GroundTruthData.from_arrays` for a user's own labelled images."""

import numpy as np
import pytest

from keras_factorvae.datasets import ArrayGroundTruthData
from keras_factorvae.datasets import GroundTruthData
from keras_factorvae.datasets import PackedBinaryImages


def grid_data(num_values=(3, 4), copies=1, dtype=np.uint8, drop=None):
    """Images whose first pixel encodes the row, on a factor grid."""
    n = int(np.prod(num_values))
    factors = np.stack(np.unravel_index(np.arange(n), num_values), axis=-1)
    factors = np.tile(factors, (copies, 1))
    if drop is not None:
        factors = factors[~np.all(factors == drop, axis=1)]
    images = np.zeros((len(factors), 4, 4, 3), dtype)
    images[:, 0, 0, 0] = np.arange(len(factors))
    return images, factors


def test_uint8_images_are_scaled_and_indexed_by_factors():
    images, factors = grid_data()
    data = GroundTruthData.from_arrays(images, factors, ["colour", "size"])
    assert isinstance(data, ArrayGroundTruthData)
    assert data.factor_names == ("colour", "size")
    assert data.factors_num_values == [3, 4] and data.num_factors == 2
    assert tuple(data.observation_shape) == (4, 4, 3) and data.num_examples == 12
    assert data.is_complete_grid
    x = data.sample_observations_from_factors([[2, 1], [0, 3]], np.random.RandomState(0))
    assert x.dtype == np.float32 and x.shape == (2, 4, 4, 3)
    # Row of factors (2, 1) is 2 * 4 + 1 = 9; pixel 9 / 255.
    np.testing.assert_allclose(x[:, 0, 0, 0], [9 / 255, 3 / 255])
    np.testing.assert_array_equal(data.factors_to_index([[2, 1]]), [9])
    np.testing.assert_array_equal(data.index_to_factors([9, 3]), [[2, 1], [0, 3]])
    np.testing.assert_allclose(data.observations_from_indices([9])[0, 0, 0, 0], 9 / 255)


def test_complete_grid_samples_factors_independently():
    data = GroundTruthData.from_arrays(*grid_data())
    factors = data.sample_factors(5, np.random.RandomState(3))
    rs = np.random.RandomState(3)
    expected = np.stack([rs.randint(3, size=5), rs.randint(4, size=5)], axis=1)
    np.testing.assert_array_equal(factors, expected)


def test_several_matches_are_picked_at_random():
    images, factors = grid_data(copies=3)  # rows r, r + 12, r + 24 match
    data = GroundTruthData.from_arrays(images, factors)
    x = data.sample_observations_from_factors(
        np.tile([[1, 2]], (300, 1)), np.random.RandomState(0)
    )
    rows = np.round(x[:, 0, 0, 0] * 255).astype(int)
    assert set(rows) == {6, 18, 30}
    assert data.factors_to_index([[1, 2]])[0] == 6  # first match without rs


def test_missing_combination_is_named():
    images, factors = grid_data(drop=(1, 2))
    data = GroundTruthData.from_arrays(images, factors, ["colour", "size"])
    assert not data.is_complete_grid
    with pytest.raises(ValueError, match=r"\{'colour': 1, 'size': 2\}.*11 of 12"):
        data.sample_observations_from_factors([[0, 0], [1, 2]], np.random.RandomState(0))
    with pytest.raises(ValueError, match="'colour': 1, 'size': 2"):
        data.factors_to_index([[1, 2]])
    # An incomplete grid samples the factors of existing images instead.
    sampled = data.sample_factors(200, np.random.RandomState(0))
    assert not np.any(np.all(sampled == [1, 2], axis=1))
    data.sample(50, np.random.RandomState(1))  # never hits the hole


def test_bool_float_and_grayscale_images():
    _, factors = grid_data()
    bools = np.zeros((12, 5, 5), bool)
    bools[:, 2, 2] = True
    data = GroundTruthData.from_arrays(bools, factors)
    assert tuple(data.observation_shape) == (5, 5, 1)
    x = data.observations_from_indices(np.arange(12))
    assert x.sum() == 12 and x.dtype == np.float32
    floats = np.random.RandomState(0).rand(12, 2, 2, 1)
    data = GroundTruthData.from_arrays(floats, factors)
    np.testing.assert_allclose(data.observations_from_indices([5]), floats[5:6], rtol=1e-6)


@pytest.mark.parametrize(
    "images, factors, names, message",
    [
        (np.zeros((12, 4)), None, None, r"shape \(n, H, W\)"),
        (None, np.zeros((12, 2)), None, "integer class indices"),
        (None, np.zeros((12, 2, 1), int), None, r"shape \(num_images, num_factors\)"),
        (np.zeros((11, 4, 4), np.uint8), None, None, "11 images and 12 factor rows"),
        (None, None, ["a"], "1 factor names for 2 factors"),
        (np.full((12, 2, 2), 2.0), None, None, r"\[0, 1\]"),
        (np.zeros((12, 2, 2), np.int32), None, None, "uint8"),
        (None, -np.ones((12, 2), int), None, ">= 0"),
    ],
)
def test_bad_inputs_raise_clear_errors(images, factors, names, message):
    good_images, good_factors = grid_data()
    images = good_images if images is None else images
    factors = good_factors if factors is None else factors
    with pytest.raises(ValueError, match=message):
        GroundTruthData.from_arrays(images, factors, names)


def test_factors_num_values_must_cover_the_classes():
    images, factors = grid_data()
    data = GroundTruthData.from_arrays(images, factors, factors_num_values=[3, 5])
    assert not data.is_complete_grid
    with pytest.raises(ValueError, match="factors_num_values"):
        GroundTruthData.from_arrays(images, factors, factors_num_values=[3, 3])


def test_packed_binary_images_round_trip():
    images = np.random.RandomState(0).randint(0, 3, (10, 6, 5, 2)).astype(np.uint8)
    packed = PackedBinaryImages.pack(images)
    assert packed.packed.shape == (10, 6, 2) and len(packed) == 10
    np.testing.assert_array_equal(packed[np.array([3, 1])], images[[3, 1]] > 0)
    data = GroundTruthData.from_arrays(packed, np.arange(10)[:, None])
    x = data.sample_observations_from_factors([[7]], np.random.RandomState(0))
    np.testing.assert_array_equal(x[0], (images[7] > 0).astype(np.float32))
