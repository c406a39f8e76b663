import copy

import keras
import keras_tuner
import numpy as np
import pytest

import keras_factorvae as kfv
from keras_factorvae.metrics.unsupervised import (
    gaussian_total_correlation as reference_tc)
from keras_factorvae.tuning import ReconstructionTCTradeoff
from keras_factorvae.tuning import gaussian_total_correlation
from keras_factorvae.tuning import get_objective
from keras_factorvae.tuning import held_out_images
from tests.tuning import TINY_MODEL
from tests.tuning import squares_data


@pytest.mark.parametrize("name, key, direction, metric", [
    ("factor_vae_score", "val_factor_vae_score", "max", "factor_vae_score"),
    ("mig", "val_discrete_mig", "max", "mig"),
    ("discrete_mig", "val_discrete_mig", "max", "mig"),
    ("val_factor_vae_score", "val_factor_vae_score", "max",
     "factor_vae_score"),
    ("unsupervised", "val_recon_tc_tradeoff", "min", "unsupervised"),
    ("recon_tc_tradeoff", "val_recon_tc_tradeoff", "min", "unsupervised"),
])
def test_objectives_by_name(name, key, direction, metric):
    objective, computed = get_objective(name, has_ground_truth=True)
    assert (objective.name, objective.direction) == (key, direction)
    assert computed == metric


def test_default_objective_depends_on_ground_truth():
    assert get_objective(None, True)[0].name == "val_factor_vae_score"
    assert get_objective(None, False)[0].name == "val_recon_tc_tradeoff"
    custom = keras_tuner.Objective("loss", "min")
    assert get_objective(custom, False) == (custom, None)
    with pytest.raises(ValueError, match="ground-truth"):
        get_objective("mig", has_ground_truth=False)
    with pytest.raises(ValueError, match="Unknown objective"):
        get_objective("accuracy")


def test_gaussian_tc_matches_the_metric_and_survives_collapse():
    rs = np.random.RandomState(0)
    mixing = np.array([[1.0, 0.8, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    codes = rs.randn(5000, 3) @ mixing * np.array([0.1, 2.0, 30.0])
    expected = reference_tc(np.cov(codes, rowvar=False))
    assert expected > 0.1
    assert gaussian_total_correlation(codes) == pytest.approx(expected, rel=1e-4)
    assert gaussian_total_correlation(rs.randn(5000, 4)) < 0.01
    # A collapsed (constant) dimension: NaN for the metric, ignored here.
    collapsed = np.concatenate([codes, np.zeros((5000, 1))], axis=1)
    assert np.isnan(reference_tc(np.cov(collapsed, rowvar=False)))
    assert gaussian_total_correlation(collapsed) == pytest.approx(
        expected, rel=1e-4)
    # Perfectly dependent codes: large but finite.
    same = np.repeat(codes[:, :1], 2, axis=1)
    assert 5.0 < gaussian_total_correlation(same) < 20.0


def test_held_out_images_from_every_kind_of_dataset():
    data = squares_data()
    sampled = held_out_images(data, 20, seed=3)
    assert sampled.shape == (20, 32, 32, 1) and sampled.dtype == np.float32
    np.testing.assert_array_equal(sampled, held_out_images(data, 20, seed=3))
    images = data.sample_observations(50, np.random.RandomState(0))
    assert held_out_images(images, 10).shape == (10, 32, 32, 1)
    pairs = [(images[i : i + 8], images[i : i + 8]) for i in range(0, 48, 8)]
    np.testing.assert_array_equal(held_out_images(pairs, 20), images[:20])
    py = data.as_py_dataset(batch_size=8, paired=True, steps_per_epoch=3)
    assert held_out_images(py, 100).shape == (24, 32, 32, 1)


@pytest.mark.multibackend
def test_tradeoff_callback_writes_its_scores_into_the_logs():
    data = squares_data()
    images = data.sample_observations(40, np.random.RandomState(1))
    callback = ReconstructionTCTradeoff(images, tc_weight=3.0, batch_size=16)
    # KerasTuner deep-copies callbacks per trial: the images are shared.
    assert copy.deepcopy(callback).images is images
    model = kfv.FactorVAE(input_shape=(32, 32, 1), **TINY_MODEL)
    model.compile()
    history = model.fit(data.as_py_dataset(batch_size=8, steps_per_epoch=2),
                        epochs=2, verbose=0, callbacks=[callback])
    logs = {k: v[-1] for k, v in history.history.items()}
    assert len(history.history["val_recon_tc_tradeoff"]) == 2
    assert logs["val_recon_tc_tradeoff"] == pytest.approx(
        logs["val_reconstruction_loss"] + 3.0 * logs["val_gaussian_tc"])
    recon = model.compute_losses(images, sample=False)["reconstruction_loss"]
    assert logs["val_reconstruction_loss"] == pytest.approx(recon, rel=1e-4)
    assert logs["val_gaussian_tc"] == pytest.approx(
        gaussian_total_correlation(model.encode(images)), rel=1e-4)


def test_tradeoff_callback_checks_its_inputs():
    with pytest.raises(ValueError, match="images"):
        ReconstructionTCTradeoff(np.zeros((5, 32, 32)))
    with pytest.raises(ValueError, match="tc_weight"):
        ReconstructionTCTradeoff(np.zeros((5, 8, 8, 1)), tc_weight=-1)
    callback = ReconstructionTCTradeoff(np.zeros((5, 8, 8, 1)))
    callback.set_model(keras.Sequential([keras.layers.Dense(1)]))
    with pytest.raises(ValueError, match="model of the zoo"):
        callback.compute()
