"""Tests of keras_factorvae.tuning, and the tiny setup they share."""

import glob
import json
import os
import time

import numpy as np

# A model small enough for a trial in seconds on a CPU. The MLP preset: on
# JAX, compiling (weight initialisers, steps) costs more than training here,
# and the MLP has far fewer shapes to compile than the conv preset. Eager
# steps: a jitted step is recompiled for every trial (gamma is a constant of
# it), which in one test process costs more than 2 steps of training.
TINY_MODEL = dict(latent_dim=3, preset="mlp", discriminator_units=16,
                  discriminator_layers=1)
TINY_RUN = dict(epochs=1, steps_per_epoch=2, batch_size=8, metric_sizes=100,
                num_held_out=64, verbose=0,
                compile_kwargs={"jit_compile": False}, **TINY_MODEL)


def squares_data():
    """32x32x1 images of a square; factors x (8 values), y (8), size (2).

    Returns:
        An `ArrayGroundTruthData` of the 128 images.
    """
    import keras_factorvae as kfv

    factors = np.stack(np.meshgrid(np.arange(8), np.arange(8), np.arange(2),
                                   indexing="ij"), axis=-1).reshape(-1, 3)
    images = np.zeros((len(factors), 32, 32, 1), dtype="float32")
    for image, (x, y, s) in zip(images, factors):
        side = 4 + 4 * s
        image[3 * y + 2 : 3 * y + 2 + side, 3 * x + 2 : 3 * x + 2 + side] = 1.0
    return kfv.datasets.GroundTruthData.from_arrays(
        images, factors, factor_names=("x", "y", "size"))


def make_fit_marker(path, hang_after=None):
    """A callback appending one JSON line per `fit` start to `path`.

    Each line holds the model's tuned weight (`gamma` or `beta`), the
    process id and `KERASTUNER_TUNER_ID`: enough to count how often each
    trial was trained, and by whom. With `hang_after=n`, the process's
    fit number `n + 1` and later hang (to be killed mid-trial).
    """
    import keras

    class FitMarker(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            value = getattr(self.model, "gamma", None)
            if value is None:
                value = getattr(self.model, "beta", None)
            record = {"value": value, "pid": os.getpid(),
                      "tuner_id": os.environ.get("KERASTUNER_TUNER_ID")}
            mine = [r for r in read_markers(path) if r["pid"] == os.getpid()]
            with open(path, "a") as f:
                f.write(json.dumps(record) + "\n")
            if hang_after is not None and len(mine) >= hang_after:
                time.sleep(3600)

    return FitMarker()


def read_markers(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_trials(project_dir):
    """`{trial_id: trial.json content}` of a KerasTuner project."""
    trials = {}
    for fname in glob.glob(os.path.join(project_dir, "trial_*", "trial.json")):
        try:
            with open(fname) as f:
                trial = json.load(f)
        except ValueError:  # Being written.
            continue
        trials[trial["trial_id"]] = trial
    return trials


def trial_value(trial, name="gamma"):
    return trial["hyperparameters"]["values"][name]


# The tuning script the subprocess tests run: tune() on squares_data with
# a FitMarker; the chief (or a single process) writes the results.
TUNE_SCRIPT = r"""
import argparse, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("--directory")
parser.add_argument("--project-name")
parser.add_argument("--max-trials", type=int)
parser.add_argument("--markers")
parser.add_argument("--hang-after", type=int, default=None)
parser.add_argument("--num-workers", type=int, default=None)
parser.add_argument("--results", default=None)
args = parser.parse_args()
if os.environ.get("KERAS_BACKEND") != "tensorflow":
    # As on a machine without TensorFlow: keras_factorvae.tuning and
    # KerasTuner must not need it on the other backends.
    sys.modules["tensorflow"] = None
import keras_factorvae as kfv
from tests.tuning import TINY_RUN, make_fit_marker, squares_data
# Jitted steps: one compilation per trial beats a fresh process compiling
# every eager op (JAX).
run = dict(TINY_RUN, compile_kwargs=None)
tuner = kfv.tuning.tune(
    squares_data(), objective="factor_vae_score", tuner="random",
    max_trials=args.max_trials, directory=args.directory,
    project_name=args.project_name, num_workers=args.num_workers,
    callbacks=[make_fit_marker(args.markers, args.hang_after)], **run)
if args.results and not kfv.tuning.is_worker():
    kfv.tuning.write_results(tuner, args.results)
print("DONE", os.environ.get("KERASTUNER_TUNER_ID", "-"), flush=True)
"""

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))


def tune_script_command(directory, project_name, max_trials, markers,
                        results=None):
    import sys

    command = [sys.executable, "-c", TUNE_SCRIPT,
               "--directory", str(directory), "--project-name", project_name,
               "--max-trials", str(max_trials), "--markers", str(markers)]
    if results is not None:
        command += ["--results", str(results)]
    return command


def subprocess_env(**updates):
    """The environment of the tuning subprocesses.

    They inherit the suite's JAX compilation cache (tests/conftest.py): the
    processes compile the same small ops, which costs more than their trials.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("KERAS_BACKEND", "jax")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(updates)
    return env
