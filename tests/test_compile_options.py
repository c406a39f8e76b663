"""The JAX step's XLA options: applied where known, skipped where not."""

import keras
import pytest

from keras_factorvae import compile_options

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="options of JAX's compiler")


@pytest.fixture
def fresh_cache():
    compile_options._accepted.cache_clear()
    yield
    compile_options._accepted.cache_clear()


def test_cpu_options_are_accepted_by_this_jaxlib(fresh_cache):
    assert compile_options.jax_compiler_options() == compile_options.CPU_OPTIONS


def test_switched_off_by_environment(monkeypatch, fresh_cache):
    monkeypatch.setenv("KERAS_FACTORVAE_XLA_OPTIONS", "0")
    assert compile_options.jax_compiler_options() == {}


def test_unknown_option_falls_back_to_defaults(monkeypatch, fresh_cache):
    monkeypatch.setattr(compile_options, "CPU_OPTIONS",
                        {"xla_cpu_no_such_option_anywhere": "1"})
    assert compile_options.jax_compiler_options() == {}


def test_trainer_jit_carries_the_options_only_while_building():
    import jax
    from keras.src.backend.jax import trainer

    from keras_factorvae.models.train_step import _jit_with_compiler_options

    with _jit_with_compiler_options():
        assert trainer.jit.keywords == {
            "compiler_options": compile_options.jax_compiler_options()}
    assert trainer.jit is jax.jit
