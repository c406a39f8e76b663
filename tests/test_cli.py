"""The `keras-factorvae` command line: outputs, resume, errors, help.

Training runs in subprocesses under the current Keras backend with tiny
settings (latent 3, a 16-unit discriminator, batches of 8, a few steps);
they share one JAX compilation cache so only the first one compiles.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from keras_factorvae import cli
from tests.conftest import kill_after_backup

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--latent-dim", "3", "--discriminator-units", "16",
        "--discriminator-layers", "1", "--batch-size", "8"]


@pytest.fixture(scope="session")
def cli_env():
    """Environment of the subprocesses: backend, path, and (inherited from
    tests/conftest.py) the suite's JAX compilation cache."""
    env = dict(os.environ)
    env.setdefault("KERAS_BACKEND", "jax")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def run_cli(env, *args, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "keras_factorvae", *map(str, args)], env=env,
        capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def _png_size(path):
    with Image.open(path) as img:
        assert img.format == "PNG", path
        return img.size


# === Help and dispatch (in-process) ===


@pytest.mark.parametrize("command,text", [
    ("train", "--backup-every"),
    ("evaluate", "Recomputes disentanglement metrics"),
    ("traverse", "ordered by KL"),
    ("tune", "KerasTuner"),
    ("reproduce", "factorvae_gamma"),
    ("bench", "--warmup"),
])
def test_every_subcommand_has_help(command, text, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert text in " ".join(capsys.readouterr().out.split())


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "traverse", "tune", "bench",
                    "reproduce"):
        assert command in out


def test_reproduce_lists_experiments(capsys):
    assert cli.main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    assert "factorvae_gamma" in out and "beta_vae_beta" in out


# === Errors a user can act on (in-process: exit status and message) ===


def _error(capsys, argv):
    try:
        status = cli.main(argv)
    except SystemExit as exit_info:  # argparse errors
        status = exit_info.code
    err = capsys.readouterr().err
    assert status not in (0, None), err
    assert "Traceback" not in err
    return err


def test_missing_run_directory(tmp_path, capsys):
    err = _error(capsys, ["evaluate", "--run", str(tmp_path / "nope")])
    assert "does not exist" in err
    err = _error(capsys, ["traverse", "--run", str(tmp_path / "nope")])
    assert "does not exist" in err
    (tmp_path / "empty").mkdir()
    err = _error(capsys, ["evaluate", "--run", str(tmp_path / "empty")])
    assert "No model.keras" in err


def _fake_backup(run, step):
    (run / "backup").mkdir(parents=True)
    (run / "backup" / "weights_000000042.weights.h5").write_bytes(b"")
    (run / "backup" / "state.json").write_text(json.dumps(
        {"step": step, "weights": "weights_000000042.weights.h5"}))


def test_unfinished_run_says_how_to_resume(tmp_path, capsys):
    _fake_backup(tmp_path / "run", 42)
    err = _error(capsys, ["traverse", "--run", str(tmp_path / "run")])
    assert "has not finished" in err and "step 42" in err and "resume" in err


def test_model_of_the_wrong_kind(tmp_path, capsys):
    import keras

    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    plain.save(tmp_path / "plain.keras")
    err = _error(capsys, ["evaluate", "--model-path", str(tmp_path / "plain.keras"),
                          "--dataset", "dsprites"])
    assert "not a BaseVAE" in err and "keras_factorvae" in err
    (tmp_path / "junk.keras").write_text("not a model")
    err = _error(capsys, ["traverse", "--model-path", str(tmp_path / "junk.keras")])
    assert "not a valid .keras archive" in err


def test_unknown_dataset_lists_the_known_ones(capsys):
    from keras_factorvae.datasets import KNOWN_DATASETS

    err = _error(capsys, ["train", "--dataset", "mnist"])
    assert "unknown dataset 'mnist'" in err
    for names in KNOWN_DATASETS.values():
        for name in names:
            assert name in err


def test_unknown_model_lists_the_known_ones(capsys):
    err = _error(capsys, ["train", "--model", "gan"])
    assert "unknown model 'gan'" in err
    assert "factorvae" in err and "beta_tcvae" in err


def test_hyperparameter_of_another_model(tmp_path, capsys):
    err = _error(capsys, ["train", "--model", "beta_vae", "--gamma", "10",
                          "--out", str(tmp_path / "r")])
    assert "--gamma does not apply to beta_vae" in err
    assert "factorvae" in err


def test_unknown_metric(tmp_path, capsys):
    err = _error(capsys, ["train", "--metrics", "accuracy", "--out",
                          str(tmp_path / "r")])
    assert "Unknown metric" in err and "mig" in err


def test_tfds_data_missing_is_surfaced(tmp_path, capsys, monkeypatch):
    from keras_factorvae import datasets
    from keras_factorvae.datasets.tfds_sources import DataUnavailableError

    def offline(name, **kwargs):
        raise DataUnavailableError(
            f"tfds dataset {name!r} is not prepared at 'DIR' and its download "
            "host cannot be reached. To get it, on a machine with internet "
            "access run ...")

    monkeypatch.setattr(datasets, "load", offline)
    err = _error(capsys, ["train", "--dataset", "shapes3d", "--out",
                          str(tmp_path / "r")])
    assert "not prepared" in err and "To get it" in err


# === A training run, killed and resumed (two subprocesses) ===


@pytest.fixture(scope="module")
def resumed_run(cli_env, tmp_path_factory):
    """`train` SIGKILLed mid-epoch at a random step, then rerun.

    Backups every 3 steps; the kill comes once the backup has passed a
    random step early in the second epoch, wherever the process then is.

    Returns:
        `(out, args, step of the backup resumed from, stdout of the rerun)`.
    """
    out = tmp_path_factory.mktemp("cli") / "run"
    args = ["train", *TINY, "--steps", "50", "--steps-per-epoch", "20",
            "--backup-every", "3", "--metric-size", "tiny", "--metrics", "mig",
            "factor_vae_score", "--out", out]
    kill_after = int(np.random.default_rng().integers(21, 32))
    kill_after_backup([sys.executable, "-m", "keras_factorvae", *map(str, args)],
                      out / "backup" / "state.json", kill_after, env=cli_env,
                      cwd=ROOT)
    # Killed during training: a backup and no final model.
    assert not (out / "model.keras").exists()
    step = json.loads((out / "backup" / "state.json").read_text())["step"]
    result = run_cli(cli_env, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, args, step, result.stdout


@pytest.mark.slow
@pytest.mark.multibackend
def test_resume_after_kill(resumed_run):
    out, _, step, stdout = resumed_run
    # Mostly inside the second epoch; the kill can land a backup or two later.
    assert 21 <= step < 50, step
    epoch, batch = divmod(step, 20)
    assert f"Resuming {out} from step {step} of 50 (epoch {epoch + 1} of 3, " \
        f"batch {batch};" in stdout
    # 50 steps in epochs of 20: 20, 20 and a last one of 10.
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3]
    assert np.all(np.isfinite(history["loss"])) and "tc_loss" in history
    rows = (out / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 4  # header + one row per epoch, none repeated
    assert "val_" not in rows[0]  # CSVLogger's empty validation columns
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "finished"
    assert run["epochs_done"] == 3 and run["steps_done"] == 50
    assert run["model_kwargs"]["discriminator_units"] == 16
    assert not (out / "backup").exists()


@pytest.mark.slow
@pytest.mark.multibackend
def test_resumed_run_equals_an_uninterrupted_run(resumed_run, cli_env,
                                                 tmp_path):
    # Same batches (the plan's epoch and step), same noise (the seed state is
    # part of the backup), same metric accumulators (restored after fit's
    # reset): the same epoch losses and the same final weights.
    import keras

    out, args, _, _ = resumed_run
    args = [str(a) for a in args[:-1]] + [str(tmp_path / "ref"), "--metrics",
                                          "none", "--traversal-every", "0"]
    result = run_cli(cli_env, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    resumed = json.loads((out / "history.json").read_text())
    reference = json.loads((tmp_path / "ref" / "history.json").read_text())
    exact = keras.backend.backend() == "jax"
    for key in ("loss", "reconstruction_loss", "tc_loss", "discriminator_loss"):
        if exact:
            assert resumed[key] == reference[key], key
        else:
            np.testing.assert_allclose(resumed[key], reference[key], rtol=1e-5)
    a = keras.models.load_model(out / "model.keras").get_weights()
    b = keras.models.load_model(tmp_path / "ref" / "model.keras").get_weights()
    assert len(a) == len(b)
    for u, v in zip(a, b):
        if exact:
            np.testing.assert_array_equal(u, v)
        else:
            np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-6)


def test_backup_every_rejects_bad_values(tmp_path, capsys):
    for bad in ("0", "-3", "1.5", "soon"):
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(
                ["train", "--backup-every", bad, "--out", str(tmp_path)])
        assert "--backup-every" in capsys.readouterr().err


@pytest.mark.slow
def test_train_writes_the_run_directory(resumed_run):
    out, _, _, stdout = resumed_run
    for name in ("model.keras", "history.csv", "history.json", "metrics.json",
                 "run.json", "report.md", "traversal.gif"):
        assert (out / name).is_file(), name
    scores = json.loads((out / "metrics.json").read_text())
    assert 0 <= scores["mig.discrete_mig"] <= 1
    assert 0 <= scores["factor_vae_score.eval_accuracy"] <= 1
    # Traversal: 3 rows (latent dims) of 64-pixel tiles, 9 columns, and a
    # label column.
    width, height = _png_size(out / "traversal.png")
    assert height == 3 * (64 + 2) + 2
    assert 9 * (64 + 2) + 2 < width <= 9 * (64 + 2) + 2 + 80
    for name in ("reconstructions.png", "curves.png", "kl.png", "samples.png",
                 "traversals/traversal_epoch_001.png",
                 "traversals/traversal_epoch_003.png"):
        _png_size(out / name)
    report = (out / "report.md").read_text()
    for text in ("mig.discrete_mig", "](traversal.png)", "](curves.png)",
                 "](kl.png)"):
        assert text in report
    assert "mig.discrete_mig" in stdout  # the scores are printed


@pytest.mark.slow
def test_finished_run_is_not_overwritten(resumed_run, capsys):
    out, args, _, _ = resumed_run
    before = (out / "model.keras").stat().st_mtime
    err = _error(capsys, [str(a) for a in args])
    assert "already holds a finished run" in err and "--overwrite" in err
    assert (out / "model.keras").stat().st_mtime == before


@pytest.mark.slow
def test_evaluate_and_traverse_a_run(resumed_run, cli_env, tmp_path):
    out = resumed_run[0]
    # A positional PATH: the model file here, the run directory below.
    result = run_cli(cli_env, "evaluate", out / "model.keras", "--metrics", "mig",
                     "--metric-size", "tiny", "--output", tmp_path / "m.json")
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads((tmp_path / "m.json").read_text())
    assert list(scores) == ["mig.discrete_mig"]
    assert "mig.discrete_mig" in result.stdout
    result = run_cli(cli_env, "traverse", out, "--mode", "sigma",
                     "--num-steps", "5", "--out", tmp_path / "pics")
    assert result.returncode == 0, result.stderr[-3000:]
    width, height = _png_size(tmp_path / "pics" / "traversal.png")
    assert height == 3 * 66 + 2 and 5 * 66 + 2 < width <= 5 * 66 + 2 + 80
    with Image.open(tmp_path / "pics" / "traversal.gif") as img:
        assert img.n_frames == 2 * 15 - 2  # 15 sweep values, bounced
    for name in ("reconstructions.png", "samples.png", "kl.png", "curves.png"):
        _png_size(tmp_path / "pics" / name)
    assert "rows by KL" in result.stdout


def test_resume_refuses_other_settings(tmp_path, capsys):
    out = tmp_path / "run"
    _fake_backup(out, 3)
    args = cli.build_parser().parse_args(
        ["train", *TINY, "--steps", "6", "--out", str(out)])
    config = cli.training_config(args).training_settings()
    (out / "run.json").write_text(json.dumps({**config, "batch_size": 64}))
    err = _error(capsys, ["train", *TINY, "--steps", "6", "--out", str(out)])
    assert "unfinished run with other settings" in err and "batch_size" in err


def test_python_m_entry_point_error(cli_env, tmp_path):
    result = run_cli(cli_env, "evaluate", "--run", tmp_path / "missing",
                     timeout=120)
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_precision_bf16_trains_in_bfloat16_and_is_recorded(tmp_path):
    import keras

    from keras_factorvae import runs

    with pytest.raises(runs.RunError, match="precision must be one of"):
        runs.TrainConfig(precision="fp8")
    seen = {}

    class Probe(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["compute"] = self.model.encoder.compute_dtype
            seen["variable"] = self.model.encoder.weights[0].dtype

    config = runs.TrainConfig(
        model="factorvae", model_kwargs={"latent_dim": 2, "preset": "mlp",
                                         "discriminator_units": 8,
                                         "discriminator_layers": 1},
        steps=3, batch_size=8, precision="bf16", metrics=(),
        pictures=False, verbose=0, traversal_every=0)
    original = keras.Model.fit

    def fit(model, *args, callbacks=None, **kwargs):
        return original(model, *args, callbacks=[Probe(), *(callbacks or [])],
                        **kwargs)

    keras.Model.fit = fit
    try:
        run = runs.train(config, str(tmp_path / "run"))
    finally:
        keras.Model.fit = original
    assert seen == {"compute": "bfloat16", "variable": "float32"}
    assert run.record["precision"] == "bf16"
    assert np.isfinite(run.history["loss"]).all()
    assert keras.config.dtype_policy().name == "float32"  # restored


def test_a_run_directory_in_use_is_refused_and_a_stale_lock_taken_over(
        tmp_path):
    import subprocess

    from keras_factorvae import runs
    from keras_factorvae.runs.directory import LOCK_FILE

    out = tmp_path / "run"
    out.mkdir()
    config = runs.TrainConfig(
        model="vae", model_kwargs={"latent_dim": 2, "preset": "mlp"},
        steps=2, batch_size=8, metrics=(), pictures=False, verbose=0,
        traversal_every=0)
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK_FILE).write_text(str(owner.pid))
        with pytest.raises(runs.RunError, match=f"in use by another training "
                           f"process \\(pid {owner.pid}\\)"):
            runs.train(config, str(out))
        assert not (out / "run.json").exists()  # refused before touching it
    finally:
        owner.kill()
        owner.wait()
    # The owner is gone (as after a SIGKILL): its lock no longer holds.
    run = runs.train(config, str(out))
    assert run.record["status"] == "finished"
    assert not (out / LOCK_FILE).exists()
