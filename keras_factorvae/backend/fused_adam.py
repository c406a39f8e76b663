"""Keras' Adam update as one fused pass over each tensor, on TensorFlow and
PyTorch.

Keras applies Adam with one tensor operation per term of the update: on
TensorFlow six or seven graph ops per variable, on PyTorch ten `_foreach`
passes over all parameters, most of which allocate a full-size temporary.
For the 4M-parameter FactorVAE discriminator and the 13M-parameter MLP
preset these passes are memory-bound and cost about as much as the layers
themselves (docs/benchmarks.md). Fused, each tensor is read and written
once:

- TensorFlow: Keras' own `optimizer.apply`, compiled by XLA
  (`tf.function(jit_compile=True)`) inside the step. The ops are Keras'.
  (`tf.raw_ops.ResourceApplyAdam` was as fast, but it rounds `1 - beta_2`
  in float32, 1.3e-5 away from Keras' value for 0.999.)
- PyTorch: `torch._fused_adam_`. Torch places epsilon after its bias
  correction (`sqrt(v) / sqrt(1 - beta_2^t) + epsilon`), Keras before it. To
  keep Keras' formula, Keras' bias-corrected step size is computed as Keras
  computes it and passed in as the learning rate (a tensor, so a GPU is
  never synchronised), and torch's own correction is switched off by a step
  count at which `beta^t` is exactly 0 (`_NO_BIAS_CORRECTION_STEP`).

The results equal `optimizer.apply`'s to float rounding
(`tests/test_fused_adam.py` compares weights and slots over several steps).
The fused path is taken only for a plain `keras.optimizers.Adam`: no
amsgrad, weight decay, clipping, EMA, gradient accumulation, loss scaling,
variable constraints or distribution strategy, float32 throughout, on
TensorFlow only inside a compiled step, and on PyTorch not under
`torch.compile`. Anything else goes through
`optimizer.apply` unchanged. JAX needs none of this: XLA already fuses the
update inside the compiled step.

Example:

>>> apply_gradients(optimizer, grads, variables)  # as optimizer.apply would
"""

import functools
from typing import Callable
from typing import NamedTuple

import keras
from keras import ops

# Settings under which Keras' `apply` does more than Adam's update.
_UNFUSED_SETTINGS = (
    "amsgrad", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm",
    "use_ema", "gradient_accumulation_steps",
)

# beta ** 1e30 is exactly 0 for every 0 <= beta < 1, in float and double.
_NO_BIAS_CORRECTION_STEP = 1e30


def apply_gradients(optimizer, grads, variables):
    """Applies `grads` to `variables` as `optimizer.apply` does.

    Args:
        optimizer: a built Keras optimizer that tracks `variables`.
        grads: one gradient per variable.
        variables: the Keras variables to update.

    Returns:
        True if a fused Adam kernel did the update, False if
        `optimizer.apply` did.
    """
    fused = _FUSED.get(keras.backend.backend())
    if (
        fused is not None
        and _is_plain_adam(optimizer, grads, variables)
        and fused.usable(variables)
    ):
        fused.apply(optimizer, grads, variables)
        return True
    optimizer.apply(grads, variables)
    return False


def _is_plain_adam(optimizer, grads, variables):
    """True where `optimizer.apply` would run only Adam's `update_step`."""
    if not isinstance(optimizer, keras.optimizers.Adam):
        return False
    # A subclass may change the update; Keras' torch Adam is the only
    # subclass whose update is the same.
    if type(optimizer).__name__ != "Adam" or not type(
        optimizer
    ).__module__.startswith("keras."):
        return False
    if not optimizer.built or any(
        getattr(optimizer, name, None) for name in _UNFUSED_SETTINGS
    ):
        return False
    if getattr(optimizer, "loss_scale_factor", None) is not None:
        return False
    hyper = (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon)
    if not all(isinstance(h, (int, float)) for h in hyper) or not (
        0 <= optimizer.beta_1 < 1 and 0 <= optimizer.beta_2 < 1
    ):
        return False
    if not variables or len(grads) != len(variables):
        return False
    for v, g in zip(variables, grads):
        if (
            g is None
            or v.constraint is not None
            or getattr(v, "overwrite_with_gradient", False)
            or v.dtype != "float32"
            or keras.backend.standardize_dtype(g.dtype) != "float32"
            or type(g).__name__ == "IndexedSlices"
        ):
            return False
        try:
            optimizer._get_variable_index(v)
        except (KeyError, ValueError):
            return False
    return True


def _keras_alpha(optimizer):
    """Keras Adam's bias-corrected step size, computed as its update does."""
    lr = ops.cast(optimizer.learning_rate, "float32")
    local_step = ops.cast(optimizer.iterations + 1, "float32")
    beta_1_power = ops.power(ops.cast(optimizer.beta_1, "float32"), local_step)
    beta_2_power = ops.power(ops.cast(optimizer.beta_2, "float32"), local_step)
    return lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)


def _slots(optimizer, variables):
    index = [optimizer._get_variable_index(v) for v in variables]
    return (
        [optimizer._momentums[i].value for i in index],
        [optimizer._velocities[i].value for i in index],
    )


def _tensorflow_apply(optimizer, grads, variables):
    import tensorflow as tf

    # Keras' own update, compiled by XLA into one loop per variable.
    tf.function(lambda: optimizer.apply(grads, variables), jit_compile=True)()


def _torch_apply(optimizer, grads, variables):
    import torch

    with torch.no_grad():
        alpha = _keras_alpha(optimizer)
        momentums, velocities = _slots(optimizer, variables)
        params = [v.value for v in variables]
        step = torch.full(
            (), _NO_BIAS_CORRECTION_STEP, dtype=torch.float32,
            device=params[0].device,
        )
        torch._fused_adam_(
            params,
            [g.contiguous() for g in grads],
            momentums,
            velocities,
            [],
            [step] * len(params),
            lr=alpha,
            beta1=float(optimizer.beta_1),
            beta2=float(optimizer.beta_2),
            weight_decay=0.0,
            eps=float(optimizer.epsilon),
            amsgrad=False,
            maximize=False,
        )
        optimizer._iterations.assign_add(1)


def _tensorflow_usable(variables):
    import tensorflow as tf

    # Eagerly, a new XLA function per call would recompile every step. Under
    # a strategy Keras all-reduces the gradients and updates mirrored
    # variables per replica; that path stays Keras' own.
    return not tf.executing_eagerly() and not tf.distribute.has_strategy()


def _torch_usable(variables):
    import torch

    # Under `torch.compile` (`compile(jit_compile=True)`) the in-place fused
    # op fails functionalization; Keras' own update is traced instead.
    compiler = getattr(torch, "compiler", None)
    if compiler is not None and compiler.is_compiling():
        return False
    return _torch_has_fused_adam(variables[0].value.device.type)


@functools.lru_cache(maxsize=None)
def _torch_has_fused_adam(device_type):
    """Whether this torch has a fused Adam kernel for `device_type` (CPU
    support came in torch 2.4): tried once on one-element tensors."""
    import torch

    if not hasattr(torch, "_fused_adam_"):
        return False
    one = [torch.zeros(1, device=device_type) for _ in range(4)]
    try:
        torch._fused_adam_(
            one[:1], one[1:2], one[2:3], one[3:], [], [torch.ones((), device=device_type)],
            lr=0.0, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8,
            amsgrad=False, maximize=False,
        )
    except (RuntimeError, NotImplementedError):
        return False
    return True


class _Fused(NamedTuple):
    usable: Callable
    apply: Callable


_FUSED = {
    "tensorflow": _Fused(_tensorflow_usable, _tensorflow_apply),
    "torch": _Fused(_torch_usable, _torch_apply),
}
