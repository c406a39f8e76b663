"""KerasTuner's chief/worker mode, the worker launcher and GPU settings."""

import csv
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from keras_factorvae.tuning import distributed
from tests.tuning import ROOT
from tests.tuning import read_markers
from tests.tuning import read_trials
from tests.tuning import subprocess_env
from tests.tuning import trial_value
from tests.tuning import tune_script_command

LAUNCHER = os.path.join(ROOT, "examples", "launch_tuning_workers.py")


def _finish(processes, timeout):
    """Waits for all; kills the rest on timeout. Returns their outputs."""
    deadline = time.time() + timeout
    outputs = {}
    try:
        for name, process in processes.items():
            out, _ = process.communicate(
                timeout=max(1.0, deadline - time.time()))
            outputs[name] = (process.returncode, out)
    except subprocess.TimeoutExpired:
        for name, process in processes.items():
            if process.poll() is None:
                process.kill()
            out = process.communicate()[0]
            outputs.setdefault(name, (process.returncode, out))
        report = "\n".join(f"--- {n} (rc {rc}):\n{o[-1500:]}"
                           for n, (rc, o) in outputs.items())
        pytest.fail(f"Distributed search timed out.\n{report}")
    return outputs


@pytest.mark.timeout(240)
def test_chief_and_two_workers_run_every_trial_once(tmp_path):
    markers = tmp_path / "fits.jsonl"
    directory = tmp_path / "tuning"
    results = tmp_path / "results"
    command = tune_script_command(
        directory=directory, project_name="dist", max_trials=3,
        markers=markers, results=results)
    envs = distributed.process_environments(2, gpus=[], host="127.0.0.1")
    assert [tuner_id for tuner_id, _ in envs] == ["chief", "tuner0", "tuner1"]
    processes = {}
    for tuner_id, env in envs:
        extra = ["--num-workers", "2"] if tuner_id == "chief" else []
        processes[tuner_id] = subprocess.Popen(
            command + extra, env=subprocess_env(**env), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    outputs = _finish(processes, timeout=200)
    for name, (rc, out) in outputs.items():
        assert rc == 0 and f"DONE {name}" in out, f"{name}:\n{out[-3000:]}"

    trials = read_trials(directory / "dist")
    assert sorted(trials) == ["0", "1", "2"]
    assert all(t["status"] == "COMPLETED" for t in trials.values())
    fits = read_markers(markers)
    # Each trial was trained exactly once, by a worker, never the chief.
    assert Counter(round(f["value"], 9) for f in fits) == Counter(
        round(trial_value(t), 9) for t in trials.values())
    assert {f["tuner_id"] for f in fits} <= {"tuner0", "tuner1"}
    # The chief wrote the results of all trials.
    with open(results / "results.csv") as f:
        assert sorted(r["trial_id"] for r in csv.DictReader(f)) == [
            "0", "1", "2"]
    assert (results / "best_model.keras").stat().st_size > 0


def test_process_environments():
    envs = dict(distributed.process_environments(
        4, gpus=["2", "5"], workers_per_gpu=2, port=1234))
    assert envs["chief"]["CUDA_VISIBLE_DEVICES"] == ""
    assert [envs[f"tuner{i}"]["CUDA_VISIBLE_DEVICES"] for i in range(4)] == [
        "2", "2", "5", "5"]
    for env in envs.values():
        assert env["KERASTUNER_ORACLE_PORT"] == "1234"
    assert envs["tuner0"]["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert float(envs["tuner0"]["XLA_PYTHON_CLIENT_MEM_FRACTION"]) == 0.45
    with pytest.raises(ValueError, match="do not fit"):
        distributed.process_environments(3, gpus=["0"])
    assert distributed.visible_gpus({"CUDA_VISIBLE_DEVICES": "1, 3"}) == [
        "1", "3"]
    assert distributed.visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []


def test_roles_from_environment():
    chief = {"KERASTUNER_ORACLE_IP": "127.0.0.1",
             "KERASTUNER_ORACLE_PORT": "1", "KERASTUNER_TUNER_ID": "chief"}
    worker = dict(chief, KERASTUNER_TUNER_ID="tuner3")
    assert distributed.is_chief(chief) and not distributed.is_worker(chief)
    assert distributed.is_worker(worker) and not distributed.is_chief(worker)
    assert not distributed.is_worker({}) and not distributed.is_chief({})


def test_launcher_dry_run_prints_one_worker_per_visible_gpu():
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="0,1")
    out = subprocess.run(
        [sys.executable, LAUNCHER, "--dry-run", "--port", "4321", "--",
         "python", "examples/tune_gamma.py", "--quick"],
        env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 3
    chief, worker0, worker1 = lines
    assert "KERASTUNER_TUNER_ID=chief" in chief
    assert "CUDA_VISIBLE_DEVICES=''" in chief
    assert chief.endswith("tune_gamma.py --quick --num-workers 2")
    for i, line in enumerate((worker0, worker1)):
        assert f"KERASTUNER_TUNER_ID=tuner{i}" in line
        assert f"CUDA_VISIBLE_DEVICES={i} " in line
        assert "XLA_PYTHON_CLIENT_PREALLOCATE=false" in line
        assert line.endswith("tune_gamma.py --quick")
    for line in lines:
        assert "KERASTUNER_ORACLE_IP=127.0.0.1" in line
        assert "KERASTUNER_ORACLE_PORT=4321" in line


def test_worker_environment_without_memory_fraction():
    envs = dict(distributed.process_environments(1, port=1234))
    assert envs["tuner0"] == {
        "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": "1234",
        "KERASTUNER_TUNER_ID": "tuner0",
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


def test_configure_gpu_memory_per_backend(monkeypatch):
    import keras

    monkeypatch.delenv("XLA_PYTHON_CLIENT_PREALLOCATE", raising=False)
    monkeypatch.delenv("XLA_PYTHON_CLIENT_MEM_FRACTION", raising=False)
    report = distributed.configure_gpu_memory(memory_fraction=0.3)
    backend = keras.backend.backend()
    assert report["backend"] == backend
    if backend == "jax":
        assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
        assert os.environ["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.3"
        assert report["memory_growth"]
        with pytest.raises(ValueError):
            distributed.configure_gpu_memory(memory_fraction=1.5)
    elif backend == "tensorflow":
        assert report["gpus"] is not None
    else:
        assert report == {"backend": backend, "gpus": None,
                          "memory_growth": False, "env": {}}
