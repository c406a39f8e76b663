"""Per-backend compile settings: the JAX step's XLA options (applied where
known, skipped where not) and TensorFlow's oneDNN default."""

import os
import subprocess
import sys

import keras
import pytest

from keras_factorvae.backend import compile_options

jax_only = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="options of JAX's compiler")


@pytest.fixture
def fresh_cache():
    compile_options._accepted.cache_clear()
    yield
    compile_options._accepted.cache_clear()


@jax_only
def test_cpu_options_are_accepted_by_this_jaxlib(fresh_cache):
    assert compile_options.jax_compiler_options() == compile_options.CPU_OPTIONS


@jax_only
def test_switched_off_by_environment(monkeypatch, fresh_cache):
    monkeypatch.setenv("KERAS_FACTORVAE_XLA_OPTIONS", "0")
    assert compile_options.jax_compiler_options() == {}


@jax_only
def test_unknown_option_falls_back_to_defaults(monkeypatch, fresh_cache):
    monkeypatch.setattr(compile_options, "CPU_OPTIONS",
                        {"xla_cpu_no_such_option_anywhere": "1"})
    assert compile_options.jax_compiler_options() == {}


@jax_only
def test_trainer_jit_carries_the_options_only_while_building():
    import jax
    from keras.src.backend.jax import trainer

    from keras_factorvae.models.train_step import _jit_with_compiler_options

    with _jit_with_compiler_options():
        assert trainer.jit.keywords == {
            "compiler_options": compile_options.jax_compiler_options()}
    assert trainer.jit is jax.jit


@pytest.fixture
def before_tensorflow(monkeypatch):
    """As if TensorFlow were not imported yet and the user had not chosen."""
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.setattr(compile_options.platform, "machine", lambda: "x86_64")


@pytest.mark.multibackend
def test_onednn_is_turned_on_on_x86(before_tensorflow):
    assert compile_options.prefer_tensorflow_onednn()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"


@pytest.mark.multibackend
def test_onednn_keeps_the_users_choice(before_tensorflow, monkeypatch):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert not compile_options.prefer_tensorflow_onednn()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"


@pytest.mark.multibackend
def test_onednn_untouched_after_tensorflow_or_off_x86(before_tensorflow,
                                                      monkeypatch):
    monkeypatch.setattr(compile_options.platform, "machine", lambda: "arm64")
    assert not compile_options.prefer_tensorflow_onednn()
    monkeypatch.setattr(compile_options.platform, "machine", lambda: "AMD64")
    monkeypatch.setitem(sys.modules, "tensorflow", object())
    assert not compile_options.prefer_tensorflow_onednn()
    assert "TF_ENABLE_ONEDNN_OPTS" not in os.environ


@pytest.mark.multibackend
def test_onednn_is_set_before_any_framework_is_imported():
    """In a fresh process: importing `keras_factorvae.backend` imports no
    framework and sets nothing, so `prefer_tensorflow_onednn` called next
    still precedes TensorFlow's import."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    code = (
        "import os, platform, sys\n"
        "from keras_factorvae import backend\n"
        "from keras_factorvae.backend import compile_options\n"
        "frameworks = [m for m in ('keras', 'tensorflow', 'jax', 'torch')\n"
        "              if m in sys.modules]\n"
        "before = os.environ.get('TF_ENABLE_ONEDNN_OPTS')\n"
        "backend.prefer_tensorflow_onednn()\n"
        "print(frameworks, before, os.environ.get('TF_ENABLE_ONEDNN_OPTS'),\n"
        "      platform.machine().lower() in compile_options._X86)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out[:2] == ["[]", "None"]
    assert out[2:] == (["1", "True"] if out[3] == "True" else ["None", "False"])


def test_old_module_path_reexports():
    from keras_factorvae import compile_options as old

    assert old.jax_compiler_options is compile_options.jax_compiler_options
    assert old.prefer_tensorflow_onednn is compile_options.prefer_tensorflow_onednn
    assert old.CPU_OPTIONS is compile_options.CPU_OPTIONS
