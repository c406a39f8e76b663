"""beta-VAE (Higgins et al., ICLR 2017): reconstruction + beta * KL."""

import keras

from keras_factorvae.models.base import BaseVAE


@keras.saving.register_keras_serializable(package="keras_factorvae")
class BetaVAE(BaseVAE):
    """beta-VAE: the KL term weighted by `beta` (> 1 favours disentangling).

    Args:
        beta: weight of the KL divergence (>= 0); 1 is the plain VAE.
        **kwargs: see `BaseVAE`.

    Example:

    >>> model = BetaVAE(beta=4.0, latent_dim=10, input_shape=(64, 64, 1))
    """

    def __init__(self, beta=4.0, **kwargs):
        if beta is None or float(beta) < 0:
            raise ValueError(f"`beta` must be >= 0, received {beta!r}.")
        super().__init__(**kwargs)
        self.beta = float(beta)

    def latent_loss(self, x, mean, logvar, z, kl):
        return self.beta * kl, {}

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}
