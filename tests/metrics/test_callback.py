import copy

import keras
import numpy as np
import pytest

from keras_factorvae.callbacks.disentanglement import DisentanglementMetrics
from keras_factorvae.metrics import evaluate
from tests.metrics.toy import ToyData

pytestmark = pytest.mark.multibackend

PARAMS = dict(num_train=200, num_eval=100, num_variance_estimate=200)


class TinyAutoencoder(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.layers.Dense(3)
        self.decoder = keras.layers.Dense(3)

    def encode(self, x):
        return self.encoder(x)

    def call(self, x):
        return self.decoder(self.encoder(x))


def _fit(callbacks, epochs):
    keras.utils.set_random_seed(0)
    data = ToyData()
    x = data.sample_observations(256, np.random.RandomState(0))
    model = TinyAutoencoder()
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    history = model.fit(x, x, epochs=epochs, batch_size=64, verbose=0,
                        callbacks=callbacks)
    return model, history


def test_logs_reach_history_and_match_evaluate():
    data = ToyData()
    callback = DisentanglementMetrics(data, **PARAMS)
    model, history = _fit([callback], epochs=2)
    logs = history.history
    for key in ("val_discrete_mig", "val_factor_vae_score",
                "val_mig.discrete_mig", "val_factor_vae_score.train_accuracy",
                "val_factor_vae_score.num_active_dims"):
        assert len(logs[key]) == 2, key
    assert logs["val_discrete_mig"] == logs["val_mig.discrete_mig"]
    assert logs["val_factor_vae_score"] == logs[
        "val_factor_vae_score.eval_accuracy"]
    assert 0.0 <= logs["val_discrete_mig"][-1] <= 1.0
    # The last epoch's scores are those of the trained weights.
    final = evaluate(model, data, metrics=("mig", "factor_vae_score"),
                     **PARAMS)
    assert logs["val_mig.discrete_mig"][-1] == final["mig.discrete_mig"]
    assert logs["val_factor_vae_score"][-1] == final[
        "factor_vae_score.eval_accuracy"]


def test_every_n_epochs_and_prefix_and_early_stopping():
    callback = DisentanglementMetrics(
        ToyData(), metrics=("irs",), every_n_epochs=2, prefix="dis_",
        num_train=100)
    stop = keras.callbacks.EarlyStopping("dis_irs", mode="max", patience=5)
    # Skipped epochs have no score, which EarlyStopping warns about.
    with pytest.warns(UserWarning, match="dis_irs"):
        _, history = _fit([callback, stop], epochs=3)
    assert len(history.history["dis_irs"]) == 1  # after epoch 2 only
    assert stop.best == history.history["dis_irs"][0]
    assert "dis_irs.num_active_dims" in history.history
    assert "val_irs" not in history.history


def test_rejects_bad_arguments_early():
    with pytest.raises(ValueError, match="every_n_epochs"):
        DisentanglementMetrics(ToyData(), every_n_epochs=0)
    with pytest.raises(ValueError, match="Unknown metric"):
        DisentanglementMetrics(ToyData(), metrics=("mgi",))
    with pytest.raises(ValueError, match="num_test"):
        DisentanglementMetrics(ToyData(), metrics=("mig",), num_test=5)
    with pytest.raises(ValueError, match="observation_shape"):
        DisentanglementMetrics(object())


def test_model_without_encode():
    callback = DisentanglementMetrics(ToyData(), metrics=("mig",),
                                      num_train=50)
    callback.set_model(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(ValueError, match="encode"):
        callback.on_epoch_end(0, {})


def test_deepcopy_shares_the_dataset():
    # KerasTuner deep-copies callbacks for each trial.
    callback = DisentanglementMetrics(ToyData(), metrics=("mig",),
                                      num_train=50)
    clone = copy.deepcopy(callback)
    assert clone.ground_truth_data is callback.ground_truth_data
    assert clone.overrides == callback.overrides
    assert clone.overrides is not callback.overrides
