"""Stops training on a non-finite loss and names the term that went bad."""

import math

import keras
import numpy as np


class NonFiniteLossError(RuntimeError):
    """Raised by `TerminateOnNonFinite(raise_error=True)`."""


class TerminateOnNonFinite(keras.callbacks.Callback):
    """Stops `fit` when a logged loss term becomes NaN or infinite.

    Unlike `keras.callbacks.TerminateOnNaN`, the message names the loss
    terms that went bad, the components (reconstruction, KL, TC, ...) before
    their sum `loss`, so that a blow-up of e.g. the TC estimate at large
    gamma is told apart from a reconstruction problem. Models of the zoo add
    this callback to `fit` themselves unless one is passed.

    Args:
        raise_error: raise `NonFiniteLossError` instead of stopping quietly
            after printing the message.

    Example:

    >>> model.fit(ds, epochs=10, callbacks=[TerminateOnNonFinite()])
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error
        self.message = None

    def on_train_batch_end(self, batch, logs=None):
        bad = []
        for key, value in (logs or {}).items():
            try:
                value = float(np.asarray(keras.ops.convert_to_numpy(value)))
            except (TypeError, ValueError):
                continue
            if not math.isfinite(value):
                bad.append((key, value))
        if not bad:
            return
        # Components first, in the model's order (the VAE's terms before the
        # discriminator's); `loss` is their sum and goes bad with any of them.
        order = list(getattr(self.model, "loss_names", ()))

        def rank(kv):
            key = kv[0]
            if key == "loss":
                return len(order) + 1
            return order.index(key) if key in order else len(order)

        bad.sort(key=rank)
        names = ", ".join(f"{k}={v}" for k, v in bad)
        self.message = (
            f"Training stopped at batch {batch}: non-finite loss term "
            f"'{bad[0][0]}' ({names}). Lower the learning rate or the "
            "regulariser weight, or check the inputs."
        )
        self.model.stop_training = True
        print(self.message)
        if self.raise_error:
            raise NonFiniteLossError(self.message)
