"""A search killed mid-trial resumes without redoing its completed trials."""

import os
import signal
import subprocess
import time

import pytest

from tests.tuning import read_markers
from tests.tuning import read_trials
from tests.tuning import subprocess_env
from tests.tuning import trial_value
from tests.tuning import tune_script_command


def _wait_for(predicate, process, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.1)
    return False


@pytest.mark.timeout(240)
def test_killed_search_resumes_without_rerunning_completed_trials(tmp_path):
    markers = tmp_path / "fits.jsonl"
    project = tmp_path / "tuning" / "resume"
    command = tune_script_command(
        directory=tmp_path / "tuning", project_name="resume", max_trials=3,
        markers=markers)
    env = subprocess_env()

    # Run 1: trial 0 completes; trial 1 hangs at the start of `fit`.
    first = subprocess.Popen(command + ["--hang-after", "1"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        started = _wait_for(
            lambda: read_trials(project).get("0", {}).get("status")
            == "COMPLETED" and len(read_markers(markers)) == 2,
            first, timeout=150)
        output = b"" if started else first.communicate(timeout=5)[0]
        assert started, output.decode()[-3000:]
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    before = read_trials(project)
    assert before["0"]["status"] == "COMPLETED"
    assert before["1"]["status"] == "RUNNING"  # killed mid-trial
    assert "2" not in before
    first_fits = read_markers(markers)
    assert [f["value"] for f in first_fits] == pytest.approx(
        [trial_value(before["0"]), trial_value(before["1"])])

    # Run 2: same directory, overwrite=False.
    second = subprocess.run(command, env=env, capture_output=True, text=True,
                            timeout=150)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-3000:]

    after = read_trials(project)
    assert sorted(after) == ["0", "1", "2"]
    assert all(t["status"] == "COMPLETED" for t in after.values())
    assert after["0"] == before["0"]  # untouched
    # The interrupted trial kept its id and values; it was trained again.
    assert trial_value(after["1"]) == trial_value(before["1"])
    second_fits = [f["value"] for f in read_markers(markers)[2:]]
    assert second_fits == pytest.approx(
        [trial_value(after["1"]), trial_value(after["2"])])
    assert trial_value(after["0"]) not in second_fits
    assert len({f["pid"] for f in read_markers(markers)}) == 2
