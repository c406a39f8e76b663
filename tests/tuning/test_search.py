import csv
import json
import os

import keras
import numpy as np
import pytest

import keras_factorvae as kfv
from tests.tuning import TINY_RUN
from tests.tuning import make_fit_marker
from tests.tuning import read_markers
from tests.tuning import squares_data


@pytest.mark.multibackend
def test_quick_tune_results_and_best_model(tmp_path):
    data = squares_data()
    tuner = kfv.tuning.tune(
        data, objective="mig", max_trials=2, tuner="random",
        directory=tmp_path, project_name="p", **TINY_RUN)
    trials = tuner.oracle.trials
    assert sorted(trials) == ["0", "1"]
    assert all(str(t.status) == "COMPLETED" for t in trials.values())
    assert tuner.oracle.objective.name == "val_discrete_mig"
    for trial in trials.values():
        assert trial.score == trial.metrics.get_last_value("val_discrete_mig")
        assert 1.0 <= trial.hyperparameters.get("gamma") <= 100.0

    paths = kfv.tuning.write_results(tuner, tmp_path / "results")
    with open(paths["csv"]) as f:
        rows = list(csv.DictReader(f))
    with open(paths["json"]) as f:
        assert json.load(f) == kfv.tuning.trials_table(tuner)
    assert [r["trial_id"] for r in rows] == ["0", "1"]
    for row in rows:
        trial = trials[row["trial_id"]]
        assert float(row["gamma"]) == pytest.approx(
            trial.hyperparameters.get("gamma"))
        assert float(row["objective"]) == pytest.approx(trial.score)
        for column in ("reconstruction_loss", "tc_loss",
                       "val_reconstruction_loss", "val_gaussian_tc"):
            assert np.isfinite(float(row[column])), column
    with open(paths["png"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"

    # The best model: rebuilt + the best trial's checkpoint, reloadable
    # without custom_objects.
    best_hp = tuner.get_best_hyperparameters(1)[0]
    with open(paths["best_hyperparameters"]) as f:
        assert json.load(f) == best_hp.values
    loaded = keras.models.load_model(paths["best_model"])
    assert isinstance(loaded, kfv.FactorVAE)
    assert loaded.gamma == pytest.approx(best_hp.get("gamma"))
    reference = tuner.get_best_models(1)[0]
    for a, b in zip(loaded.weights, reference.weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a),
                                   keras.ops.convert_to_numpy(b))


def test_unsupervised_tune_of_another_model_and_in_process_resume(tmp_path):
    images = squares_data().sample_observations(64, np.random.RandomState(0))
    marker = tmp_path / "fits.jsonl"
    run = {k: v for k, v in TINY_RUN.items()
           if not k.startswith("discriminator")}
    kwargs = dict(objective=None, tuner="bayesian", directory=tmp_path,
                  project_name="u", model="beta_vae",
                  search={"beta": (1.0, 10.0)},
                  callbacks=[make_fit_marker(str(marker))], **run)
    tuner = kfv.tuning.tune(images, max_trials=2, **kwargs)
    objective = tuner.oracle.objective
    assert (objective.name, objective.direction) == (
        "val_recon_tc_tradeoff", "min")
    scores = {t.trial_id: t.score for t in tuner.oracle.trials.values()}
    assert len(scores) == 2 and all(np.isfinite(list(scores.values())))
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == min(scores.values())  # minimised
    assert len(read_markers(marker)) == 2

    # Same project, overwrite=False: the 2 trials are kept, only the third
    # one is trained.
    tuner = kfv.tuning.tune(images, max_trials=3, **kwargs)
    assert sorted(tuner.oracle.trials) == ["0", "1", "2"]
    assert {t.trial_id: t.score for t in tuner.oracle.trials.values()
            if t.trial_id != "2"} == scores
    fits = read_markers(marker)
    assert len(fits) == 3
    assert fits[2]["value"] == pytest.approx(
        tuner.oracle.trials["2"].hyperparameters.get("beta"))
    table = kfv.tuning.trials_table(tuner)
    assert [row["trial_id"] for row in table] == ["0", "1", "2"]
    assert "beta" in table[0] and "tc_loss" not in table[0]
    kfv.tuning.plot_trials(table, tmp_path / "plot.png")  # x: beta
    assert os.path.getsize(tmp_path / "plot.png") > 0


def test_tune_rejects_bad_arguments(tmp_path):
    data = squares_data()
    with pytest.raises(ValueError, match="Unknown tuner"):
        kfv.tuning.tune(data, tuner="grid", directory=tmp_path, **TINY_RUN)
    with pytest.raises(ValueError, match="ground-truth"):
        kfv.tuning.tune(data.sample_observations(8, np.random.RandomState(0)),
                        objective="mig", directory=tmp_path, **TINY_RUN)
