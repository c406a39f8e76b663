"""The plain VAE (Kingma & Welling 2014): reconstruction + KL."""

import keras

from keras_factorvae.models.base import BaseVAE


@keras.saving.register_keras_serializable(package="keras_factorvae")
class VAE(BaseVAE):
    """The plain VAE: `reconstruction + KL(q(z|x) || N(0, I))`.

    Args:
        See `BaseVAE`.

    Example:

    >>> model = VAE(latent_dim=10, input_shape=(64, 64, 1))
    >>> model.compile()
    """
