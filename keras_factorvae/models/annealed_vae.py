"""AnnealedVAE (Burgess et al. 2018): reconstruction + gamma * |KL - C|."""

import keras
from keras import ops

from keras_factorvae.models.base import BaseVAE


def annealed_capacity(step, c_max, iteration_threshold):
    """Capacity C = min(c_max, c_max * step / iteration_threshold)."""
    step = ops.cast(step, "float32")
    return ops.minimum(c_max, c_max * step / float(iteration_threshold))


@keras.saving.register_keras_serializable(package="keras_factorvae")
class AnnealedVAE(BaseVAE):
    """AnnealedVAE: the KL is pulled towards a capacity C that grows linearly.

    `C` follows the optimizer's iteration count (the number of VAE updates
    done so far), so a model saved and loaded with its optimizer resumes the
    schedule where it stopped. Before `compile`, C is 0.

    Args:
        gamma: weight of `|KL - C|` (>= 0).
        c_max: final capacity in nats (>= 0).
        iteration_threshold: steps over which C grows from 0 to `c_max` (> 0).
        **kwargs: see `BaseVAE`.

    Example:

    >>> model = AnnealedVAE(gamma=1000.0, c_max=25.0, iteration_threshold=100000)
    """

    loss_names = BaseVAE.loss_names + ("capacity",)

    def __init__(self, gamma=1000.0, c_max=25.0, iteration_threshold=100000, **kwargs):
        if float(gamma) < 0 or float(c_max) < 0 or int(iteration_threshold) < 1:
            raise ValueError(
                "AnnealedVAE needs gamma >= 0, c_max >= 0 and "
                f"iteration_threshold >= 1; received {gamma}, {c_max}, "
                f"{iteration_threshold}."
            )
        super().__init__(**kwargs)
        self.gamma = float(gamma)
        self.c_max = float(c_max)
        self.iteration_threshold = int(iteration_threshold)

    def latent_loss(self, x, mean, logvar, z, kl):
        optimizer = getattr(self, "optimizer", None)
        step = 0 if optimizer is None else optimizer.iterations
        c = annealed_capacity(step, self.c_max, self.iteration_threshold)
        return self.gamma * ops.abs(kl - c), {"capacity": c}

    def get_config(self):
        return {
            **super().get_config(),
            "gamma": self.gamma,
            "c_max": self.c_max,
            "iteration_threshold": self.iteration_threshold,
        }
