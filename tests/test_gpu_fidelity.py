"""Dry runs of the GPU fidelity study (benchmarks/gpu_fidelity.sh / .py) on the CPU.

The whole GPU path at a tiny budget: the shell script (wheels skipped), both
models in parallel processes with TensorFlow made unimportable (the GPU
machine has none), the merged tables; and the wall-clock guard cutting a
training call short and evaluating the step it reached.
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = ("factorvae_gamma35", "beta_vae_beta4")
TINY = ["--steps", "10", "--eval-every", "10", "--checkpoint-every", "10",
        "--steps-per-execution", "5", "--metric-size", "tiny",
        "--metrics", "mig", "factor_vae_score"]


def _load_fidelity():
    spec = importlib.util.spec_from_file_location(
        "gpu_fidelity", os.path.join(ROOT, "benchmarks", "gpu_fidelity.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_shell_script_writes_the_tables_of_both_runs(tmp_path):
    block = tmp_path / "no_tensorflow"
    block.mkdir()
    (block / "sitecustomize.py").write_text(
        "import sys\n"
        "sys.modules['tensorflow'] = None\n"
        "sys.modules['tensorflow_datasets'] = None\n")
    out, work = tmp_path / "out", tmp_path / "work"
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHON=sys.executable,
               OUT=str(out), WORK=str(work), WHEELS="",
               PYTHONPATH=str(block), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        ["bash", os.path.join(ROOT, "benchmarks", "gpu_fidelity.sh"), *TINY],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    names = set(os.listdir(out))
    assert {"curve.json", "curve.md", "curve.png", "study.json",
            "gpu_fidelity.log"} <= names
    assert {f"traversal_{r}.png" for r in RUNS} <= names
    assert len(names) <= 8  # what a device run brings back
    rows = json.loads((out / "curve.json").read_text())
    assert sorted((r["run"], r["step"]) for r in rows) == sorted(
        (r, 10) for r in RUNS)
    assert all("mig.discrete_mig" in r and "gaussian_tc_mean" in r for r in rows)
    table = (out / "curve.md").read_text()
    assert all(f"| {r} | 10 |" in table for r in RUNS)
    study = json.loads((out / "study.json").read_text())
    assert study["return_codes"] == {r: 0 for r in RUNS}
    assert study["fidelity"]["stopped"] == ["finished"]
    assert {n: v["step"] for n, v in study["fidelity"]["runs"].items()} == {
        r: 10 for r in RUNS}


def test_deadline_cuts_training_and_evaluates_the_step_reached(
        tmp_path, monkeypatch):
    fidelity = _load_fidelity()
    make_callback = fidelity._deadline_callback
    calls = []

    def cut_second_call(stop_at):
        calls.append(stop_at)
        # The second training call finds its deadline already passed.
        return make_callback(stop_at if len(calls) == 1 else 0.0)

    monkeypatch.setattr(fidelity, "_deadline_callback", cut_second_call)
    out = tmp_path / "study"
    args = fidelity.parse_args(
        ["--out", str(out), "--runs", "beta_vae_beta4", "--steps", "20",
         "--eval-every", "20", "--checkpoint-every", "10",
         "--steps-per-execution", "5", "--metric-size", "tiny",
         "--metrics", "mig"])
    rows = fidelity.run_study(args)
    assert len(calls) == 2
    assert [(r["run"], r["step"], r.get("partial")) for r in rows] == [
        ("beta_vae_beta4", 15, True)]
    study = json.loads((out / "study.json").read_text())
    assert study["fidelity"]["stopped"] == "deadline"
    assert [c["steps"] for c in study["fidelity"]["runs"]["beta_vae_beta4"]
            ["chunks"]] == [10, 5]
    run_dir = out / "beta_vae_beta4"
    # Only the full chunk was saved; a resume restarts there.
    assert json.loads((run_dir / "state.json").read_text())["step"] == 10
    assert sorted(p.name for p in run_dir.glob("checkpoint_*")) == [
        "checkpoint_000010.keras"]
    assert "| beta_vae_beta4 | 15 |" in (out / "curve.md").read_text()
    assert (out / "curve.png").exists()
