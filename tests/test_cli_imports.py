"""The command line's parsers load nothing heavy; the lazy package registers."""

import os
import subprocess
import sys

import pytest

from keras_factorvae.cli import choices
from keras_factorvae.cli.common import UsageError
from keras_factorvae.cli.common import run_arguments

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("keras", "tensorflow", "jax", "torch")


def _python(code, backend="tensorflow"):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="0")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_choices_equal_the_registries():
    from keras_factorvae.datasets import KNOWN_DATASETS
    from keras_factorvae.metrics import METRICS
    from keras_factorvae.models import MODELS

    assert choices.MODELS == tuple(sorted(MODELS))
    assert choices.METRICS == tuple(METRICS)
    assert choices.DATASETS == {k: tuple(v) for k, v in KNOWN_DATASETS.items()}


def test_parsers_and_help_import_no_backend():
    # TensorFlow's backend, where importing Keras would log (log level 0).
    code = (
        "import sys\n"
        "import keras_factorvae\n"
        "from keras_factorvae.cli import build_parser\n"
        "build_parser()\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
    for command in ("evaluate", "train", "traverse"):
        result = _python("import sys\nfrom keras_factorvae.cli import main\n"
                         f"sys.argv = ['keras-factorvae', '{command}', '--help']\n"
                         "sys.exit(main())")
        assert result.returncode == 0
        assert "usage: keras-factorvae " + command in result.stdout
        assert result.stderr == ""  # no log lines


@pytest.mark.parametrize("order", ["package_first", "keras_first"])
def test_saved_model_loads_after_a_lazy_import(order, tmp_path):
    first, second = (("keras_factorvae", "keras") if order == "package_first"
                     else ("keras", "keras_factorvae"))
    import keras_factorvae as kfv

    # Saved here (uncompiled, which once failed), loaded in a fresh process.
    path = tmp_path / "m.keras"
    kfv.VAE(latent_dim=2, input_shape=(32, 32, 1)).save(path)
    load = (f"import sys\nimport {first}\nimport {second}\n"
            f"m = keras.models.load_model({str(path)!r})\n"
            "print(type(m).__name__)\n")
    import keras

    result = _python(load, keras.backend.backend())
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "VAE"


def test_a_positional_path_is_a_run_or_a_model(tmp_path):
    def args(path=None, run=None, model_path=None):
        return type("Args", (), {"path": path, "run": run,
                                 "model_path": model_path})()

    model = tmp_path / "model.keras"
    model.write_text("")
    assert run_arguments(args(str(tmp_path))) == (str(tmp_path), None)
    assert run_arguments(args(str(model))) == (None, str(model))
    assert run_arguments(args(run="r")) == ("r", None)
    with pytest.raises(UsageError, match="once"):
        run_arguments(args(str(tmp_path), run="r"))
