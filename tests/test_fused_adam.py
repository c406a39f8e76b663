import keras
import numpy as np
import pytest

from keras_factorvae import backend
from keras_factorvae import models
from keras_factorvae.backend import fused_adam

pytestmark = pytest.mark.multibackend

FUSED_BACKENDS = ("tensorflow", "torch")
SHAPES = [(7, 5), (5,), (3, 4, 2, 6)]


def _variables(seed):
    rng = np.random.RandomState(seed)
    return [keras.Variable(rng.randn(*s).astype("float32")) for s in SHAPES]


def _grads(step):
    rng = np.random.RandomState(100 + step)
    # Some entries tiny, so epsilon's placement shows in the update.
    return [
        keras.ops.convert_to_tensor(
            (rng.randn(*s) * rng.choice([1.0, 1e-9], size=s)).astype("float32")
        )
        for s in SHAPES
    ]


def _run(optimizer, fused, steps=5):
    variables = _variables(0)
    optimizer.build(variables)
    used = []

    def apply(grads):
        used.append(fused_adam.apply_gradients(optimizer, grads, variables))

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # The fused TensorFlow update runs only in a compiled step.
        apply = tf.function(apply)
    for step in range(steps):
        grads = _grads(step)
        if fused:
            apply(grads)
        else:
            optimizer.apply(grads, variables)
    return variables, optimizer, used


def _state(variables, optimizer):
    return [keras.ops.convert_to_numpy(v) for v in variables] + [
        keras.ops.convert_to_numpy(v) for v in optimizer.variables
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(learning_rate=1e-2),
        # The FactorVAE discriminator's settings.
        dict(learning_rate=1e-2, beta_1=0.5, beta_2=0.9, epsilon=1e-8),
        dict(
            learning_rate=keras.optimizers.schedules.ExponentialDecay(
                1e-2, decay_steps=1, decay_rate=0.5
            )
        ),
    ],
)
def test_fused_adam_matches_keras_apply(kwargs):
    ref_vars, ref_opt, _ = _run(keras.optimizers.Adam(**kwargs), fused=False)
    vars_, opt, used = _run(keras.optimizers.Adam(**kwargs), fused=True)
    expected_fused = keras.backend.backend() in FUSED_BACKENDS
    # (tf.function traces once, so TensorFlow records one call.)
    assert set(used) == {expected_fused}
    assert int(keras.ops.convert_to_numpy(opt.iterations)) == 5
    # The updates (5 steps of about lr each) agree to float rounding.
    for got, want in zip(_state(vars_, opt), _state(ref_vars, ref_opt)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    # The weights moved: lr 1e-2 for 5 steps is far above the tolerance.
    for got, init in zip(vars_, _variables(0)):
        moved = keras.ops.convert_to_numpy(got) - keras.ops.convert_to_numpy(init)
        assert np.abs(moved).max() > 1e-3


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: keras.optimizers.Adam(1e-2, amsgrad=True),
        lambda: keras.optimizers.Adam(1e-2, clipnorm=0.1),
        lambda: keras.optimizers.Adam(1e-2, weight_decay=0.1),
        lambda: keras.optimizers.AdamW(1e-2),
        lambda: keras.optimizers.SGD(1e-2),
    ],
)
def test_other_optimizers_go_through_apply(optimizer):
    ref_vars, ref_opt, _ = _run(optimizer(), fused=False, steps=2)
    vars_, opt, used = _run(optimizer(), fused=True, steps=2)
    assert set(used) == {False}
    for got, want in zip(_state(vars_, opt), _state(ref_vars, ref_opt)):
        # Equal but for graph vs eager rounding on TensorFlow.
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


def test_inside_a_jit_compiled_step():
    """`compile(jit_compile=True)`. TensorFlow: the fused update nests in the
    XLA-compiled step. PyTorch: under `torch.compile` the in-place fused op
    cannot be functionalized, so the traced step takes Keras' own update.
    JAX: nothing is routed; XLA fuses Keras' update in the compiled step."""
    backend = keras.backend.backend()
    if backend == "jax":
        assert "jax" not in fused_adam._FUSED
        return
    ref_vars, ref_opt, _ = _run(keras.optimizers.Adam(1e-2), fused=False, steps=1)
    optimizer = keras.optimizers.Adam(1e-2)
    variables = _variables(0)
    optimizer.build(variables)
    used = []

    def step(grads):
        used.append(fused_adam.apply_gradients(optimizer, grads, variables))

    if backend == "torch":
        import torch

        torch.compile(step, backend="aot_eager")(_grads(0))
        assert used == [False]
    else:
        import tensorflow as tf

        tf.function(step, jit_compile=True)(_grads(0))
        assert used == [True]
    for got, want in zip(_state(variables, optimizer), _state(ref_vars, ref_opt)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_subclass_of_adam_is_not_fused():
    class MyAdam(keras.optimizers.Adam):
        pass

    assert not fused_adam._is_plain_adam(
        MyAdam(1e-3), _grads(0), _variables(0)
    )


def test_factorvae_training_matches_unfused(binary_images, monkeypatch):
    """FactorVAE's `fit` runs both updates fused and gets Keras' weights."""
    x = binary_images(n=16, shape=(32, 32, 1))
    lr = 1e-3

    def train():
        keras.utils.set_random_seed(0)
        model = models.get(
            "factorvae", latent_dim=3, input_shape=(32, 32, 1), preset="mlp",
            discriminator_units=8, discriminator_layers=2, seed=1,
        )
        model.compile(
            optimizer=keras.optimizers.Adam(lr),
            discriminator_optimizer=keras.optimizers.Adam(
                lr, beta_1=0.5, beta_2=0.9
            ),
        )
        model.build((None, 32, 32, 1))
        init = [keras.ops.convert_to_numpy(w) for w in model.weights]
        model.fit(x, batch_size=4, epochs=1, shuffle=False, verbose=0)
        return init, [keras.ops.convert_to_numpy(w) for w in model.weights]

    calls = []
    backend = keras.backend.backend()
    if backend in FUSED_BACKENDS:
        entry = fused_adam._FUSED[backend]

        def spy(optimizer, grads, variables):
            calls.append(len(variables))
            entry.apply(optimizer, grads, variables)

        monkeypatch.setitem(fused_adam._FUSED, backend, entry._replace(apply=spy))
    init, fused = train()
    if backend in FUSED_BACKENDS:
        # Both updates went through the fused path (TensorFlow traces once).
        assert len(calls) >= 2 and len(set(calls)) == 2
    monkeypatch.setattr(fused_adam, "_FUSED", {})
    _, unfused = train()
    moved = max(np.abs(w - w0).max() for w, w0 in zip(unfused, init))
    assert moved > lr
    # 4 steps of at most about lr each: a mis-wired update would differ by
    # O(lr); rounding differences stay far below.
    for got, want in zip(fused, unfused):
        np.testing.assert_allclose(got, want, rtol=0, atol=lr / 50)


def test_old_path_and_package_function_apply_the_same_update():
    from keras_factorvae.fused_adam import apply_gradients

    assert apply_gradients is fused_adam.apply_gradients
    optimizer = keras.optimizers.Adam(1e-2)
    variables = _variables(0)
    optimizer.build(variables)
    fused = backend.apply_gradients(optimizer, _grads(0), variables)
    assert fused == (keras.backend.backend() == "torch")  # TF: only compiled
    ref_vars, ref_opt, _ = _run(keras.optimizers.Adam(1e-2), fused=False, steps=1)
    for got, want in zip(_state(variables, optimizer), _state(ref_vars, ref_opt)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
