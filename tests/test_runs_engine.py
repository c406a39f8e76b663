"""The engine's time budget, its callbacks hook and the clock in its backups."""

import json

import keras
import numpy as np
import pytest

from keras_factorvae import runs

TINY = dict(model="vae", model_kwargs={"latent_dim": 2, "preset": "mlp"},
            batch_size=8, metrics=(), pictures=False, verbose=0,
            traversal_every=0)


def test_a_time_budget_stops_training_and_the_run_finishes_there(tmp_path):
    with pytest.raises(runs.RunError, match="max_seconds must be > 0"):
        runs.TrainConfig(max_seconds=0)
    config = runs.TrainConfig(steps=1000, steps_per_epoch=5, max_seconds=1e-3,
                              **TINY)
    run = runs.train(config, str(tmp_path / "run"))
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    # The first step ends past the budget: one step, one (short) epoch.
    assert record["steps_done"] == run.record["steps_done"] == 1
    assert record["epochs_done"] == 1 and record["status"] == "finished"
    assert record["steps"] == 1000 and record["max_seconds"] == 1e-3
    assert run.history["epoch"] == [1]
    assert (tmp_path / "run" / "model.keras").is_file()
    assert not (tmp_path / "run" / "backup").exists()


def test_callbacks_write_into_the_history_and_backups_keep_the_clock(tmp_path):
    seen = []

    class Marker(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["marker"] = float(epoch) + 0.5

    class Interrupt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
            if len(seen) == 3:
                raise KeyboardInterrupt

    config = runs.TrainConfig(steps=4, steps_per_epoch=2, backup_every="1",
                              **TINY)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        runs.train(config, str(out), callbacks=[Marker(), Interrupt()])
    state = json.loads((out / "backup" / "state.json").read_text())
    assert state["step"] == 2 and state["train_seconds"] > 0
    run = runs.train(config, str(out), callbacks=[Marker()])
    assert run.record["steps_done"] == 4
    assert run.history["marker"] == [0.5, 1.5]
    # The seconds before the interruption count.
    assert run.record["train_seconds"] >= state["train_seconds"]
    assert np.isfinite(run.history["loss"]).all()
