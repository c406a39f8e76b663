"""The model zoo; `get(name, **kwargs)` builds any model by name."""

from keras_factorvae.models.base import BaseVAE
from keras_factorvae.models.factorvae import FactorVAE
from keras_factorvae.models.vae import VAE

MODELS = {
    "vae": VAE,
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
