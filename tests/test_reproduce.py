"""The reproduction study runs end to end and resumes without retraining."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_factorvae.reproduce import run_study
from tests.conftest import kill_after_backup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_study_writes_results_and_resumes(tmp_path):
    out = str(tmp_path / "study")
    methods = [("vae", "vae", {}), ("fvae", "factorvae", {"gamma": 10.0})]
    kwargs = dict(methods=methods, seeds=(0,), steps=2, steps_per_epoch=1,
                  batch_size=8, metrics=("factor_vae_score", "mig"),
                  metric_sizes=dict(num_train=60, num_eval=30,
                                    num_variance_estimate=60), verbose=0)
    rows = run_study(out, **kwargs)
    assert [r["run"] for r in rows] == ["vae", "fvae"]
    for name in ("results.csv", "results.md", "scores_vs_reconstruction.png",
                 "traversal_vae.png", "traversal_fvae.png", "study.json"):
        assert os.path.getsize(os.path.join(out, name)) > 0, name
    assert "mig.discrete_mig" in rows[0] and rows[1]["gamma"] == 10.0
    # Each model is a run directory of the one engine (runs.train).
    record = json.loads(
        (tmp_path / "study" / "models" / "fvae_seed0" / "run.json").read_text())
    assert record["status"] == "finished" and record["steps_done"] == 2
    assert record["model"] == "factorvae" and record["paired"] is True
    assert record["model_kwargs"] == {"latent_dim": 10, "preset": "conv",
                                      "seed": 0, "gamma": 10.0}
    assert rows[1]["train_seconds"] == round(record["train_seconds"], 1)
    for name in ("history.csv", "history.json", "model.keras"):
        assert (tmp_path / "study" / "models" / "fvae_seed0" / name).is_file()
    assert not (tmp_path / "study" / "models" / "fvae_seed0" / "backup").exists()
    done = os.path.join(out, "models", "fvae_seed0", "done.json")
    model = os.path.join(out, "models", "fvae_seed0", "model.keras")
    stamps = (os.path.getmtime(done), os.path.getmtime(model))
    # Interrupted after the first model: the second is redone, the first not.
    os.remove(os.path.join(out, "models", "vae_seed0", "done.json"))
    again = run_study(out, **kwargs)
    assert (os.path.getmtime(done), os.path.getmtime(model)) == stamps
    assert [r["run"] for r in again] == ["vae", "fvae"]
    assert again[1] == rows[1]


# A study of one FactorVAE, run in a subprocess so that it can be SIGKILLed.
STUDY = """
import sys
from keras_factorvae.reproduce import run_study
run_study(sys.argv[1], methods=[("fvae", "factorvae", {"gamma": 10.0})],
          seeds=(0,), steps=30, steps_per_epoch=10, batch_size=8,
          metrics=("mig",), metric_sizes=dict(num_train=60),
          verbose=0, backup_every="2")
"""


# The study trains through the engine (`runs.train`), whose resume is checked
# on every backend in tests/test_cli.py (a killed `train` ends as an
# uninterrupted one); what is the study's own - skipping finished runs,
# resuming the one cut off, its done.json rows - does not depend on the
# backend, so it runs once, in the JAX pass.
@pytest.mark.slow
def test_killed_study_resumes_as_if_never_stopped(tmp_path):
    import keras

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = tmp_path / "study.py"
    script.write_text(STUDY)

    def study(out):
        result = subprocess.run([sys.executable, str(script), str(out)], env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]

    killed = tmp_path / "killed"
    state = killed / "models" / "fvae_seed0" / "backup" / "state.json"
    # The kill lands a little after the backup it waits for, so the backup
    # on record can be a later one: anywhere inside training is a resume.
    kill_after = int(np.random.default_rng().integers(11, 17))
    kill_after_backup([sys.executable, str(script), str(killed)], state,
                      kill_after, env=env)
    step = json.loads(state.read_text())["step"]
    assert kill_after <= step < 30, step
    assert not (killed / "models" / "fvae_seed0" / "done.json").exists()
    study(killed)
    study(tmp_path / "whole")

    def weights(out):
        path = out / "models" / "fvae_seed0" / "model.keras"
        return keras.models.load_model(path).get_weights()

    exact = keras.backend.backend() == "jax"
    for u, v in zip(weights(killed), weights(tmp_path / "whole"), strict=True):
        if exact:
            np.testing.assert_array_equal(u, v)
        else:
            np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-6)
    rows = [json.loads((out / "models" / "fvae_seed0" / "done.json").read_text())
            for out in (killed, tmp_path / "whole")]
    for key in ("reconstruction_loss", "kl_loss", "mig.discrete_mig"):
        np.testing.assert_allclose(rows[0][key], rows[1][key], rtol=1e-4)
