"""The reproduction study runs end to end and resumes without retraining."""

import os

from keras_factorvae.reproduce import run_study


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
    done = os.path.join(out, "models", "fvae_seed0", "done.json")
    model = os.path.join(out, "models", "fvae_seed0", "model.keras")
    stamps = (os.path.getmtime(done), os.path.getmtime(model))
    # Interrupted after the first model: the second is redone, the first not.
    os.remove(os.path.join(out, "models", "vae_seed0", "done.json"))
    again = run_study(out, **kwargs)
    assert (os.path.getmtime(done), os.path.getmtime(model)) == stamps
    assert [r["run"] for r in again] == ["vae", "fvae"]
    assert again[1] == rows[1]
