"""`pip install keras-factorvae` into an empty venv trains, evaluates and
traverses on JAX without TensorFlow.

The venv has no system site packages and gets the package (from a copy of
its sources, as an sdist holds them) and `jax[cpu]` at the pinned versions of
constraints.txt, nothing else. The install needs the package registry; the
test fails if it fails (no skip). About a minute here with the registry's
files on disk; a download is cached under PIP_CACHE_DIR (~/.cache/pip).
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.slow


def _pinned(name):
    """The version constraints.txt pins `name` to."""
    with open(os.path.join(ROOT, "constraints.txt")) as f:
        for line in f:
            match = re.fullmatch(rf"{name}==(\S+)", line.strip())
            if match:
                return match.group(1)
    raise AssertionError(f"constraints.txt pins no {name}")


def _run(cmd, env, cwd, timeout):
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True,
                         text=True, timeout=timeout)
    return out


def _check(out, what):
    assert out.returncode == 0, (
        f"{what} failed ({out.returncode}):\n{out.stdout[-3000:]}\n"
        f"{out.stderr[-5000:]}")
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """An empty venv with `pip install <package> jax[cpu]==<pin>`: its bin
    directory and environment."""
    tmp = tmp_path_factory.mktemp("install")
    # The sources an sdist holds; building in a copy leaves no build/ or
    # egg-info behind in the checkout (a stale build/ could leak into a wheel).
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), src / name)
    shutil.copytree(os.path.join(ROOT, "keras_factorvae"),
                    src / "keras_factorvae",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    venv = tmp / "venv"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
                        "PIP_NO_CACHE_DIR", "PIP_REQUIRE_VIRTUALENV")}
    env["PIP_CACHE_DIR"] = os.environ.get(
        "PIP_CACHE_DIR", os.path.expanduser("~/.cache/pip"))
    env["PIP_NO_INPUT"] = "1"
    # The base interpreter, so that the venv sees none of the test venv's
    # packages (a venv made from a venv's python would not either, but this
    # says so).
    base = getattr(sys, "_base_executable", sys.executable)
    # No pip of its own (ensurepip takes seconds): this venv's pip installs
    # into it through `--python`, as its own pip would.
    _check(_run([base, "-m", "venv", "--without-pip", str(venv)], env, tmp,
                300), "venv")
    bin_dir = venv / "bin"
    start = time.perf_counter()
    _check(_run([sys.executable, "-m", "pip", "--python",
                 str(bin_dir / "python"), "install", "-q",
                 str(src), f"jax[cpu]=={_pinned('jax')}",
                 "-c", os.path.join(ROOT, "constraints.txt")],
                env, tmp, 1500), "pip install")
    print(f"pip install took {time.perf_counter() - start:.0f} s")
    env.update(KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3",
               PATH=str(bin_dir) + os.pathsep + env.get("PATH", ""),
               VIRTUAL_ENV=str(venv))
    return bin_dir, env, tmp


def test_the_core_install_has_no_tensorflow_and_names_missing_extras(installed):
    bin_dir, env, tmp = installed
    python = str(bin_dir / "python")
    script = (
        "from importlib import metadata\n"
        "for name in ('tensorflow', 'tensorflow-cpu', 'tensorflow-datasets',\n"
        "             'keras-tuner'):\n"
        "    try:\n"
        "        metadata.distribution(name)\n"
        "    except metadata.PackageNotFoundError:\n"
        "        continue\n"
        "    raise SystemExit(name + ' is installed')\n"
        "print('jax', metadata.version('jax'))\n")
    out = _check(_run([python, "-c", script], env, tmp, 120), "metadata")
    assert f"jax {_pinned('jax')}" in out.stdout, out.stdout
    script = (
        "import importlib.util, sys\n"
        "assert importlib.util.find_spec('tensorflow') is None\n"
        "try:\n"
        "    import tensorflow\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('tensorflow imported')\n"
        "import keras, keras_factorvae\n"
        "assert keras.backend.backend() == 'jax', keras.backend.backend()\n"
        "try:\n"
        "    keras_factorvae.tuning\n"
        "except ImportError as error:\n"
        "    print('ImportError:', error)\n"
        "else:\n"
        "    raise SystemExit('keras_factorvae.tuning imported')\n"
        "assert 'tensorflow' not in sys.modules\n"
        "print('file', keras_factorvae.__file__)\n")
    out = _check(_run([python, "-c", script], env, tmp, 300), "import")
    assert "[tuner]" in out.stdout, out.stdout
    # The installed copy, not the checkout.
    assert str(tmp / "venv") in out.stdout, out.stdout


def test_train_evaluate_traverse_on_jax_without_tensorflow(installed):
    bin_dir, env, tmp = installed
    cli = str(bin_dir / "keras-factorvae")
    run = tmp / "run"
    _check(_run([cli, "train", "--model", "factorvae", "--dataset", "dsprites",
                 "--steps", "4", "--steps-per-epoch", "4", "--batch-size", "8",
                 "--latent-dim", "2", "--discriminator-units", "8",
                 "--discriminator-layers", "1", "--metrics", "none",
                 "--traversal-every", "0", "--verbose", "0",
                 "--out", str(run)], env, tmp, 600), "train")
    for name in ("model.keras", "run.json", "history.json", "traversal.png"):
        assert (run / name).stat().st_size > 0, name
    history = json.loads((run / "history.json").read_text())
    losses = history["loss"] if isinstance(history, dict) else None
    assert losses and all(math.isfinite(v) for v in losses), history

    _check(_run([cli, "evaluate", "--run", str(run), "--metrics", "mig",
                 "--metric-size", "tiny"], env, tmp, 600), "evaluate")
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["mig.discrete_mig"] <= 1.0, metrics

    pictures = tmp / "pictures"
    _check(_run([cli, "traverse", "--run", str(run), "--out", str(pictures),
                 "--no-gif"], env, tmp, 600), "traverse")
    for name in ("traversal.png", "reconstructions.png", "samples.png"):
        assert (pictures / name).stat().st_size > 0, name
