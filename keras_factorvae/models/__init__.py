"""The model zoo; `get(name, **kwargs)` builds any model by name."""

from keras_factorvae.models.annealed_vae import AnnealedVAE
from keras_factorvae.models.base import BaseVAE
from keras_factorvae.models.beta_tcvae import BetaTCVAE
from keras_factorvae.models.beta_vae import BetaVAE
from keras_factorvae.models.dip_vae import DIPVAE
from keras_factorvae.models.factorvae import FactorVAE
from keras_factorvae.models.vae import VAE

MODELS = {
    "vae": VAE,
    "beta_vae": BetaVAE,
    "annealed_vae": AnnealedVAE,
    "beta_tcvae": BetaTCVAE,
    "dip_vae": DIPVAE,
    "factorvae": FactorVAE,
}


def get(name, **kwargs):
    """Builds a model of the zoo by name.

    Args:
        name: one of `keras_factorvae.models.MODELS` (e.g. `"factorvae"`).
        **kwargs: constructor arguments.

    Example:

    >>> model = get("factorvae", latent_dim=10, gamma=35.0)
    """
    key = str(name).lower().replace("-", "_")
    if key not in MODELS:
        raise ValueError(
            f"Unknown model {name!r}; known models: {sorted(MODELS)}."
        )
    return MODELS[key](**kwargs)
