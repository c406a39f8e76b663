import csv
import importlib.util
import os

import pytest

from tests.tuning import ROOT


def _load(name):
    path = os.path.join(ROOT, "examples", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_tune_gamma_quick_writes_results(tmp_path, capsys):
    example = _load("tune_gamma")
    assert example.main(["--quick", "--max-trials", "1", "--tuner", "random",
                         "--directory", str(tmp_path)]) == 0
    results = tmp_path / "gamma_results"
    with open(results / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["trial_id"] for r in rows] == ["0"]
    assert rows[0]["status"] == "COMPLETED"
    assert 1.0 <= float(rows[0]["gamma"]) <= 100.0
    for name in ("results.png", "best_model.keras",
                 "best_hyperparameters.json"):
        assert (results / name).stat().st_size > 0
    assert '"best_hyperparameters"' in capsys.readouterr().out
