"""`BatchPlan`: which indices each batch holds (numpy only)."""

import pickle

import numpy as np
import pytest

from keras_factorvae.datasets import BatchPlan
from keras_factorvae.datasets import ColorDSprites
from keras_factorvae.datasets import DSprites
from keras_factorvae.datasets import GroundTruthData


def small_data(n=12):
    images = np.arange(n, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 1), np.uint8)
    return GroundTruthData.from_arrays(images, np.arange(n)[:, None])


def test_default_steps_per_epoch():
    assert BatchPlan(DSprites(), 64).steps_per_epoch == 1000  # capped
    assert BatchPlan(small_data(12), 5).steps_per_epoch == 2  # 12 // 5


def test_shuffled_epoch_has_no_repeats_and_is_deterministic():
    plan = BatchPlan(DSprites(), batch_size=64, seed=3, steps_per_epoch=50)
    epoch0 = plan.epoch_indices(0)
    assert epoch0.shape == (1, 50, 64)
    assert len(np.unique(epoch0)) == 50 * 64
    again = BatchPlan(DSprites(), batch_size=64, seed=3, steps_per_epoch=50)
    np.testing.assert_array_equal(again.epoch_indices(0), epoch0)
    # numpy RandomState seeded by (seed, epoch, stream): a hand-made check.
    expected = np.random.RandomState([3, 0, 0]).permutation(737_280)[: 50 * 64]
    np.testing.assert_array_equal(epoch0.reshape(-1), expected)
    assert not np.array_equal(plan.epoch_indices(1), epoch0)
    other_seed = BatchPlan(DSprites(), batch_size=64, seed=4, steps_per_epoch=50)
    assert not np.array_equal(other_seed.epoch_indices(0), epoch0)


def test_epochs_longer_than_the_data_use_every_index_evenly():
    plan = BatchPlan(small_data(12), batch_size=5, steps_per_epoch=6)  # 30 draws
    counts = np.bincount(plan.epoch_indices(0).reshape(-1), minlength=12)
    assert counts.min() >= 2 and counts.max() <= 3


def test_unshuffled_batches_run_in_order_across_epochs():
    plan = BatchPlan(small_data(12), batch_size=5, shuffle=False, steps_per_epoch=2)
    np.testing.assert_array_equal(
        plan.epoch_indices(0)[0], [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    )
    np.testing.assert_array_equal(
        plan.epoch_indices(1)[0], [[10, 11, 0, 1, 2], [3, 4, 5, 6, 7]]
    )
    paired = BatchPlan(small_data(12), 5, shuffle=False, paired=True, steps_per_epoch=2)
    np.testing.assert_array_equal(paired.epoch_indices(0)[1][0], [6, 7, 8, 9, 10])


def test_paired_batches_are_independent():
    plan = BatchPlan(DSprites(), batch_size=32, paired=True, steps_per_epoch=4)
    x, x2 = plan.batch(0, 1)
    assert x.shape == x2.shape == (32, 64, 64, 1)
    first, second = plan.epoch_indices(0)
    assert len(np.intersect1d(first, second)) < 10  # two different permutations
    np.testing.assert_array_equal(x, DSprites().observations_from_indices(first[1]))


def test_random_observation_parts_depend_on_seed_epoch_and_step():
    plan = BatchPlan(ColorDSprites(), batch_size=8, seed=5, steps_per_epoch=3)
    x = plan.batch(2, 1)
    indices = plan.epoch_indices(2)[0, 1]
    expected = ColorDSprites().observations_from_indices(
        indices, np.random.RandomState([5, 2, 1])
    )
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(plan.batch(2, 1), x)


def test_uint8_arrays_are_scaled():
    plan = BatchPlan(small_data(12), batch_size=4, shuffle=False)
    np.testing.assert_allclose(plan.batch(0, 0)[:, 0, 0, 0], np.arange(4) / 255)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"batch_size": 13}, r"batch_size must be in \[1, 12\]"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 4, "steps_per_epoch": 0}, "steps_per_epoch"),
        ({"batch_size": 4, "seed": -1}, "seed"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchPlan(small_data(12), **kwargs)


def test_plans_pickle_small_for_worker_processes():
    plan = BatchPlan(ColorDSprites(), batch_size=4, paired=True, steps_per_epoch=3)
    x, x2 = plan.batch(1, 2)  # builds the renderer and the index cache
    payload = pickle.dumps(plan)
    assert len(payload) < 10_000
    copy = pickle.loads(payload)
    np.testing.assert_array_equal(copy.batch(1, 2)[1], x2)
