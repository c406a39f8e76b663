import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")

# The suite asks for TensorFlow's oneDNN kernels on x86, as the command line
# does, before any test module imports Keras (and so TensorFlow).
from keras_factorvae.backend import prefer_tensorflow_onednn  # noqa: E402

prefer_tensorflow_onednn()

# One persistent JAX compilation cache for the suite's processes and every
# subprocess they start (they inherit the environment): most subprocess tests
# start a fresh Python that compiles the same small models, which costs more
# than the steps they run. It lives in the checkout's .pytest_cache, so a
# clean clone starts cold; a cached executable is the one XLA compiled, so
# exact-equality tests hold either way.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(
    _ROOT, ".pytest_cache", "jax_compilation_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

# pytest-xdist workers share the machine's cores. PyTorch's OpenMP pool (and
# OpenBLAS's) spin-waits on a core that another worker holds, so each worker,
# and every subprocess it starts, gets its share of the cores (the effect on
# the suite's time is in docs/testing.md).
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _CORES = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
              else os.cpu_count() or 1)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, _CORES // _WORKERS)))


@pytest.fixture
def binary_images():
    """A factory of random binary float32 image batches."""

    def make(n=16, shape=(32, 32, 1), seed=0):
        rng = np.random.RandomState(seed)
        return (rng.rand(n, *shape) > 0.5).astype("float32")

    return make


def kill_after_backup(command, state_path, step, env=None, cwd=None,
                       timeout=300):
    """Starts `command`, SIGKILLs it once `state_path` records `step` or later.

    `state_path` is a backup's `state.json` (`keras_factorvae.runs.backup`);
    the kill lands wherever the process then is, mid-step included.
    """
    import json
    import signal
    import subprocess
    import time

    process = subprocess.Popen(command, env=env, cwd=cwd,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    try:
        while True:
            assert process.poll() is None, process.stderr.read()[-3000:]
            assert time.time() < deadline, f"no backup of step {step} in time"
            try:
                if json.loads(state_path.read_text())["step"] >= step:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()


def load_benchmark(name):
    """Imports `benchmarks/<name>.py` (scripts, not a package) as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        name, os.path.join(_ROOT, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
