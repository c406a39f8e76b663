"""The one backend-specific piece of the zoo: running a model's updates.

A model describes one training step as a list of `Update`s, each a loss
function with the variables it trains and the optimizer that trains them
(the VAE update, then, for FactorVAE, the discriminator update). Loss
functions are written once with `keras.ops`; this module turns them into a
`train_step` / `test_step` for the active backend:

- TensorFlow: one `tf.GradientTape` per update.
- PyTorch: `torch.autograd.grad` per update, then the optimizer under
  `no_grad`.
- JAX: stateless. The trainer's state tuple is unpacked into a
  variable -> value map; every loss runs inside a `keras.StatelessScope`
  under `jax.value_and_grad`, optimizers use `stateless_apply` and metric
  trackers update inside a scope, so all updates land in the returned state.

On TensorFlow and PyTorch the optimizer runs through
`keras_factorvae.fused_adam.apply_gradients`: a plain Adam as one fused
update, any other optimizer through its own `apply`.

Updates run in order and see each other's results: the discriminator update
uses the parameters left by the VAE update (the VAE update never changes
them), and a `carry` passes tensors (the sampled codes) from one update to
the next.

`GRAPH_SPANS_UPDATES`: on PyTorch the autograd graph is kept until the last
update, so a later update can take gradients through tensors a former one
computed: FactorVAE's discriminator update reuses the logits of the VAE
update's `D(z)` instead of running that forward pass again. On TensorFlow
(one tape per update) and JAX (one `value_and_grad` per update) a carried
tensor is a constant to the next update, and the model recomputes what it
needs.
"""

import contextlib
import functools
from typing import Any
from typing import Callable
from typing import NamedTuple

import keras

from keras_factorvae.fused_adam import apply_gradients


class Update(NamedTuple):
    """One gradient update of a training step.

    Args:
        name: short name, e.g. `"vae"` or `"discriminator"`.
        variables: the trainable variables this update changes.
        optimizer: the optimizer that changes them.
        loss_fn: `loss_fn(x, x2, carry) -> (loss, logs, carry)`, where `logs`
            is a dict of scalar tensors and `carry` is passed to the next
            update.
    """

    name: str
    variables: list
    optimizer: Any
    loss_fn: Callable


def _scaled(optimizer, loss, replicas=False):
    """The loss whose gradient the optimizer expects.

    A `LossScaleOptimizer` (mixed_float16) multiplies it by its dynamic scale
    and divides the gradients back in `apply`. Under a `tf.distribute`
    strategy, gradients are summed over replicas, so each replica's loss is
    divided by their number (as Keras does for its own losses).
    """
    if replicas:
        import tensorflow as tf

        loss = loss / tf.cast(
            tf.distribute.get_strategy().num_replicas_in_sync, loss.dtype
        )
    return optimizer.scale_loss(loss)


class TensorFlowTrainStep:
    GRAPH_SPANS_UPDATES = False

    def train_step(self, data):
        import tensorflow as tf

        x, x2 = self._unpack_batch(data)
        logs, carry = {}, None
        for update in self._updates():
            with tf.GradientTape() as tape:
                loss, terms, carry = update.loss_fn(x, x2, carry)
                loss = _scaled(update.optimizer, loss, replicas=True)
            grads = tape.gradient(loss, update.variables)
            apply_gradients(update.optimizer, grads, update.variables)
            logs.update(terms)
        return self._track(logs)

    def test_step(self, data):
        x, x2 = self._unpack_batch(data)
        return self._track(self._evaluation_logs(x, x2))


class TorchTrainStep:
    GRAPH_SPANS_UPDATES = True

    def train_step(self, data):
        import torch

        x, x2 = self._unpack_batch(data)
        logs, carry = {}, None
        updates = self._updates()
        for i, update in enumerate(updates):
            loss, terms, carry = update.loss_fn(x, x2, carry)
            # `autograd.grad` walks only the paths to this update's own
            # weights: the discriminator's weight gradients are never
            # computed in the VAE update, and no `.grad` buffers are filled.
            # The in-place optimizer steps below touch no tensor that a later
            # update's paths read (those lead to its own weights only).
            values = [v.value for v in update.variables]
            grads = torch.autograd.grad(
                _scaled(update.optimizer, loss), values, allow_unused=True,
                retain_graph=i < len(updates) - 1,
            )
            grads = [
                torch.zeros_like(value) if g is None else g
                for g, value in zip(grads, values)
            ]
            with torch.no_grad():
                apply_gradients(update.optimizer, grads, update.variables)
            logs.update(terms)
        return self._track(logs)

    def test_step(self, data):
        x, x2 = self._unpack_batch(data)
        return self._track(self._evaluation_logs(x, x2))


class _ValueStore:
    """Current values of Keras variables inside a stateless JAX step."""

    def __init__(self):
        self._values = {}
        self._variables = {}

    def bind(self, variables, values):
        for v, value in zip(variables, values):
            self._values[id(v)] = value
            self._variables[id(v)] = v

    def get(self, variables):
        return [self._values[id(v)] for v in variables]

    def mapping(self, overrides=None):
        pairs = dict(self._values)
        if overrides:
            pairs.update(overrides)
        return [(self._variables[k], value) for k, value in pairs.items()]

    def collect(self, scope, variables):
        for v in variables:
            value = scope.get_current_value(v)
            if value is not None:
                self._values[id(v)] = value


@contextlib.contextmanager
def _jit_with_compiler_options():
    """Lets Keras' JAX trainer compile its step functions with
    `compile_options.jax_compiler_options()`: its own `jit` is swapped for
    the duration of `make_*_function`, so sharding, donation and the rest of
    the trainer's logic stay Keras'."""
    import jax

    from keras_factorvae.compile_options import jax_compiler_options

    options = jax_compiler_options()
    try:
        from keras.src.backend.jax import trainer
    except ImportError:  # pragma: no cover - a Keras without this module
        trainer = None
    if not options or getattr(trainer, "jit", None) is not jax.jit:
        yield
        return
    trainer.jit = functools.partial(jax.jit, compiler_options=options)
    try:
        yield
    finally:
        trainer.jit = jax.jit


class JaxTrainStep:
    GRAPH_SPANS_UPDATES = False

    def make_train_function(self, force=False):
        with _jit_with_compiler_options():
            return super().make_train_function(force)

    def make_test_function(self, force=False):
        with _jit_with_compiler_options():
            return super().make_test_function(force)

    def _jax_store(self, state, with_optimizer):
        store = _ValueStore()
        groups = [self.trainable_variables, self.non_trainable_variables]
        if with_optimizer:
            groups.append(self.optimizer.variables)
        groups.append(self.metrics_variables)
        for variables, values in zip(groups, state):
            store.bind(variables, values)
        return store, groups

    def _jax_loss(self, update, store, x, x2, carry):
        """`value_and_grad` of one update's loss w.r.t. its variables."""
        import jax

        def loss_of(values, carry):
            overrides = {id(v): val for v, val in zip(update.variables, values)}
            with keras.StatelessScope(store.mapping(overrides)) as scope:
                loss, terms, carry = update.loss_fn(x, x2, carry)
                loss = _scaled(update.optimizer, loss)
            # The seed generators advance inside the loss.
            non_trainable = [
                scope.get_current_value(v) for v in self.non_trainable_variables
            ]
            return loss, (terms, carry, non_trainable)

        grad_fn = jax.value_and_grad(loss_of, has_aux=True)
        (_, (terms, carry, non_trainable)), grads = grad_fn(
            store.get(update.variables), carry
        )
        for v, value in zip(self.non_trainable_variables, non_trainable):
            if value is not None:
                store.bind([v], [value])
        return terms, carry, grads

    def train_step(self, state, data):
        store, groups = self._jax_store(state, with_optimizer=True)
        x, x2 = self._unpack_batch(data)
        logs, carry = {}, None
        for update in self._updates():
            terms, carry, grads = self._jax_loss(update, store, x, x2, carry)
            optimizer = update.optimizer
            new_values, new_state = optimizer.stateless_apply(
                store.get(optimizer.variables), grads, store.get(update.variables)
            )
            store.bind(update.variables, new_values)
            store.bind(optimizer.variables, new_state)
            logs.update(terms)
        with keras.StatelessScope(store.mapping()) as scope:
            logs = self._track(logs)
        store.collect(scope, self.metrics_variables)
        return logs, tuple(store.get(g) for g in groups)

    def test_step(self, state, data):
        store, groups = self._jax_store(state, with_optimizer=False)
        x, x2 = self._unpack_batch(data)
        with keras.StatelessScope(store.mapping()) as scope:
            logs = self._track(self._evaluation_logs(x, x2))
        store.collect(scope, self.non_trainable_variables + self.metrics_variables)
        return logs, tuple(store.get(g) for g in groups)


_STEPS = {
    "tensorflow": TensorFlowTrainStep,
    "torch": TorchTrainStep,
    "jax": JaxTrainStep,
}


def backend_train_step():
    """The train/test step mixin for the active Keras backend."""
    backend = keras.backend.backend()
    if backend not in _STEPS:
        raise RuntimeError(
            f"keras_factorvae supports the jax, tensorflow and torch backends; "
            f"the active backend is {backend!r}."
        )
    return _STEPS[backend]
