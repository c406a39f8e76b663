"""Trials of `tune` train through the one engine, and resume mid-trial."""

import json

import keras
import keras_tuner
import numpy as np
import pytest

import keras_factorvae as kfv
from keras_factorvae.tuning.hypermodel import FactorVAEHyperModel
from tests.tuning import TINY_MODEL
from tests.tuning import TINY_RUN
from tests.tuning import squares_data


def test_each_trial_is_a_run_directory_of_the_engine(tmp_path):
    tuner = kfv.tuning.tune(
        squares_data(), objective="mig", max_trials=1, tuner="random",
        directory=tmp_path, project_name="p", **dict(TINY_RUN, epochs=2))
    trial = tuner.oracle.trials["0"]
    run = tmp_path / "p" / "trial_0" / "run"
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "finished" and record["steps_done"] == 4
    assert record["model_kwargs"]["gamma"] == trial.hyperparameters.get("gamma")
    history = json.loads((run / "history.json").read_text())
    assert history["epoch"] == [1, 2]
    # The objective is the best epoch of the engine's history.
    assert trial.score == max(history["val_discrete_mig"])
    assert not (run / "backup").exists()


class _Stop(keras.callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt


class _Scores(keras.callbacks.Callback):  # a scoring callback, per epoch
    def on_epoch_end(self, epoch, logs=None):
        logs["val_score"] = float(np.mean(keras.ops.convert_to_numpy(
            self.model.encoder.weights[0])))


def test_an_interrupted_trial_resumes_from_its_backup(tmp_path):
    data = squares_data()

    def hypermodel():
        return FactorVAEHyperModel(
            data.observation_shape, gamma=10.0, callbacks=[_Scores()],
            batch_size=8, steps_per_epoch=3, backup_every="1",
            compile_kwargs={"jit_compile": False}, **TINY_MODEL)

    def fit(out, *callbacks):
        hm = hypermodel()
        hp = keras_tuner.HyperParameters()
        model = hm.build(hp)
        history = hm.fit(hp, model, data, epochs=3, verbose=0,
                         callbacks=list(callbacks), run_directory=str(out))
        return model, history

    with pytest.raises(KeyboardInterrupt):
        fit(tmp_path / "cut", _Stop(at=3))  # mid-epoch 1, after a backup
    state = json.loads((tmp_path / "cut" / "backup" / "state.json").read_text())
    assert state["step"] == 2
    model, history = fit(tmp_path / "cut")
    whole, expected = fit(tmp_path / "whole")
    assert history.epoch == expected.epoch == [0, 1, 2]
    np.testing.assert_allclose(history.history["val_score"],
                               expected.history["val_score"], rtol=1e-5)
    for u, v in zip(model.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-6)
