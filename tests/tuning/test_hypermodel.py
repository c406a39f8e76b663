import keras
import keras_tuner
import numpy as np
import pytest

import keras_factorvae as kfv
from keras_factorvae.tuning import FactorVAEHyperModel
from keras_factorvae.tuning import ZooHyperModel
from keras_factorvae.tuning import define_hyperparameter
from tests.tuning import TINY_MODEL
from tests.tuning import squares_data

SHAPE = (32, 32, 1)


def _space(hp):
    return {p.name: p for p in hp.space}


def test_specs_map_to_hyperparameter_types():
    hp = keras_tuner.HyperParameters()
    define_hyperparameter(hp, "a", (1.0, 100.0))
    define_hyperparameter(hp, "b", (0.0, 1.0))
    define_hyperparameter(hp, "c", (1.0, 10.0, "reverse_log"))
    define_hyperparameter(hp, "d", [10, 20, 30])
    define_hyperparameter(hp, "e", 35.0)
    define_hyperparameter(hp, "f", {"min": 2, "max": 8, "type": "int",
                                    "sampling": "linear"})
    define_hyperparameter(hp, "g", {"min": 1e-5, "max": 1e-3})
    define_hyperparameter(hp, "h", {"values": [1, 2]})
    define_hyperparameter(hp, "i", lambda hp, n: hp.Int(n, 4, 12, step=4))
    space = _space(hp)
    assert isinstance(space["a"], keras_tuner.engine.hyperparameters.Float)
    assert space["a"].sampling == "log"
    assert (space["a"].min_value, space["a"].max_value) == (1.0, 100.0)
    assert space["b"].sampling == "linear"  # log needs lo > 0
    assert space["c"].sampling == "reverse_log"
    assert list(space["d"].values) == [10, 20, 30]
    assert type(space["e"]).__name__ == "Fixed" and hp.get("e") == 35.0
    assert type(space["f"]).__name__ == "Int" and space["f"].sampling == "linear"
    assert space["g"].sampling == "log"
    assert type(space["h"]).__name__ == "Choice"
    assert type(space["i"]).__name__ == "Int" and space["i"].step == 4


@pytest.mark.parametrize("spec", [(10.0, 1.0), (0.0, 1.0, "log"), (1, 2, 3, 4),
                                  [], {"min": 1}, object()])
def test_bad_specs_raise(spec):
    with pytest.raises(ValueError):
        define_hyperparameter(keras_tuner.HyperParameters(), "x", spec)


def test_factorvae_hypermodel_samples_gamma_log_uniform_by_default():
    hypermodel = FactorVAEHyperModel(SHAPE, **TINY_MODEL)
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    gamma = _space(hp)["gamma"]
    assert gamma.sampling == "log"
    assert (gamma.min_value, gamma.max_value) == (1.0, 100.0)
    assert isinstance(model, kfv.FactorVAE)
    assert model.latent_dim == 3 and model.image_shape == SHAPE
    assert model.gamma == pytest.approx(hp.get("gamma"))
    assert model.optimizer is not None  # compiled
    # Log-uniform: about as many samples below 10 as above.
    values = [gamma.random_sample(seed) for seed in range(400)]
    assert 1.0 <= min(values) and max(values) <= 100.0
    assert 0.4 < np.mean(np.array(values) < 10.0) < 0.6


def test_fixed_and_choice_gamma_and_trial_values_reach_the_model():
    fixed = FactorVAEHyperModel(SHAPE, gamma=35.0, **TINY_MODEL)
    assert fixed.build(keras_tuner.HyperParameters()).gamma == 35.0
    grid = FactorVAEHyperModel(SHAPE, gamma=[10.0, 40.0], **TINY_MODEL)
    hp = keras_tuner.HyperParameters()
    grid.build(hp)
    hp.values["gamma"] = 40.0  # what an oracle does for a trial
    assert grid.build(hp).gamma == 40.0


def test_zoo_hypermodel_tunes_other_models_and_learning_rate():
    hypermodel = ZooHyperModel(
        "beta_vae", SHAPE, search={"beta": (1, 10), "learning_rate": [3e-4]},
        latent_dim=3)
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert isinstance(model, kfv.BetaVAE)
    assert 1.0 <= model.beta <= 10.0 and model.beta == hp.get("beta")
    lr = keras.ops.convert_to_numpy(model.optimizer.learning_rate)
    assert lr == pytest.approx(3e-4)
    defaults = {"dip_vae": "lambda_od", "annealed_vae": "c_max",
                "beta_tcvae": "beta"}
    for name, key in defaults.items():
        hp = keras_tuner.HyperParameters()
        model = ZooHyperModel(name, SHAPE, latent_dim=3).build(hp)
        assert getattr(model, key) == pytest.approx(hp.get(key))


def test_hypermodel_arguments_are_checked():
    with pytest.raises(ValueError, match="Unknown model"):
        ZooHyperModel("nope", SHAPE)
    with pytest.raises(ValueError, match="both searched and fixed"):
        ZooHyperModel("beta_vae", SHAPE, search={"beta": (1, 2)}, beta=3.0)


def test_every_trial_starts_from_the_same_weights():
    hypermodel = FactorVAEHyperModel(SHAPE, **TINY_MODEL)
    first = hypermodel.build(keras_tuner.HyperParameters())
    keras.utils.set_random_seed(123)  # whatever ran in between
    second = hypermodel.build(keras_tuner.HyperParameters())
    for a, b in zip(first.encoder.weights, second.encoder.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b))
    other = FactorVAEHyperModel(SHAPE, seed=1, **TINY_MODEL).build(
        keras_tuner.HyperParameters())
    assert not np.array_equal(
        keras.ops.convert_to_numpy(first.encoder.weights[0]),
        keras.ops.convert_to_numpy(other.encoder.weights[0]))


def test_fit_builds_the_pipeline_and_runs_own_callbacks_first():
    seen = []

    class Writer(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_custom"] = 1.5

    class Reader(keras.callbacks.Callback):  # stands for the tuner's own
        def on_epoch_end(self, epoch, logs=None):
            seen.append(logs.get("val_custom"))

    writer = Writer()
    hypermodel = FactorVAEHyperModel(
        SHAPE, callbacks=[writer], batch_size=4, steps_per_epoch=2,
        compile_kwargs={"jit_compile": False}, **TINY_MODEL)
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    history = hypermodel.fit(hp, model, squares_data(), epochs=1, verbose=0,
                             callbacks=[Reader()])
    assert seen == [1.5]
    assert history.history["val_custom"] == [1.5]
    assert "tc_loss" in history.history
    # The hypermodel's callback was copied, not attached itself.
    assert writer.model is None
