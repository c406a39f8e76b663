"""Every example script runs end to end with `--quick` (in a subprocess)."""

import csv
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from tests.test_cli import ROOT
from tests.test_cli import cli_env  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


def run_example(env, name, *args):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", name), "--quick",
         *map(str, args)],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _png_size(path):
    with Image.open(path) as img:
        assert img.format == "PNG", path
        return img.size


def test_demo(cli_env, tmp_path):  # noqa: F811
    # A budget no loaded CI machine spends on 6 quick steps (--quick: 1 min).
    run_example(cli_env, "demo.py", "--out", tmp_path, "--minutes", "10")
    report = (tmp_path / "report.md").read_text()
    for text in ("factor_vae_score.eval_accuracy", "mig.discrete_mig",
                 "](curves.png)", "](traversal.png)"):
        assert text in report
    # 10 latent dims: 10 rows of 64-pixel tiles.
    assert _png_size(tmp_path / "traversal.png")[1] == 10 * 66 + 2
    for name in ("curves.png", "kl.png", "reconstructions.png",
                 "traversals/traversal_epoch_001.png",
                 "traversals/traversal_epoch_002.png"):
        _png_size(tmp_path / name)
    scores = json.loads((tmp_path / "metrics.json").read_text())
    assert 0 <= scores["factor_vae_score.eval_accuracy"] <= 1
    assert (tmp_path / "model.keras").is_file()
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["dataset"] == "dsprites"  # for `keras-factorvae ... --run`
    # A run directory of the one engine (runs.train), finished in full.
    assert run["status"] == "finished" and run["steps_done"] == run["steps"] == 6
    assert run["max_seconds"] == 600.0 and run["metric_seconds"] >= 0
    assert f"for 6 steps ({run['train_seconds']:.0f} s" in report
    assert "demo report" in report
    assert not (tmp_path / "backup").exists()
    # A finished demo is replaced by the next one (not refused).
    run_example(cli_env, "demo.py", "--out", tmp_path, "--minutes", "1e-6")
    run = json.loads((tmp_path / "run.json").read_text())
    # The time budget stopped training after its first step.
    assert run["steps_done"] == 1 < run["steps"] == 6
    assert run["epochs_done"] == 1
    assert "for 1 steps" in (tmp_path / "report.md").read_text()
    assert not (tmp_path / "traversals" / "traversal_epoch_002.png").exists()


def test_train_dsprites(cli_env, tmp_path):  # noqa: F811
    run_example(cli_env, "train_dsprites.py", "--out", tmp_path)
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    # DisentanglementMetrics logged its scores each epoch.
    assert all(0 <= float(r["val_discrete_mig"]) <= 1 for r in rows)
    _png_size(tmp_path / "metrics_vs_epoch.png")
    _png_size(tmp_path / "traversals" / "traversal_epoch_002.png")
    assert "## Metrics during training" in (tmp_path / "report.md").read_text()
    assert not (tmp_path / "backup").exists()  # BackupAndRestore cleaned up


def test_compare_models(cli_env, tmp_path):  # noqa: F811
    from keras_factorvae.models import MODELS

    run_example(cli_env, "compare_models.py", "--out", tmp_path)
    with open(tmp_path / "comparison.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["model"] for r in rows] == list(MODELS)
    for row in rows:
        assert 0 <= float(row["mig.discrete_mig"]) <= 1
        assert float(row["reconstruction_loss"]) > 0
    table = (tmp_path / "comparison.md").read_text()
    assert table.count("\n| ") >= len(MODELS) + 1
    _png_size(tmp_path / "comparison.png")
    # 32 x 32 tiles, 3 latent dims.
    assert _png_size(tmp_path / "traversal_factorvae.png")[1] == 3 * 34 + 2


def test_custom_dataset(cli_env, tmp_path):  # noqa: F811
    result = run_example(cli_env, "custom_dataset.py", "--out", tmp_path)
    assert "brightness" in result.stdout  # the dataset's factor names
    scores = json.loads((tmp_path / "metrics.json").read_text())
    assert {"mig.discrete_mig", "factor_vae_score.eval_accuracy",
            "sap_score.SAP_score"} <= set(scores)
    assert _png_size(tmp_path / "traversal.png")[1] == 3 * 34 + 2
    assert "](traversal.png)" in (tmp_path / "report.md").read_text()
