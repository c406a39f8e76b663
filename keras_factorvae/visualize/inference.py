"""Model calls for pictures: input images, batched encoding and decoding.

Encoding goes through the zoo's one batched inference path
(`keras_factorvae.models.inference`): eager calls on numpy batches padded to
a few lengths (under JAX every new input shape of an eager call compiles the
network again). Decoding pads the same way.
"""

import numpy as np

from keras_factorvae import losses
from keras_factorvae.models import inference as model_inference
from keras_factorvae.models.inference import padded_batches


def as_images(model, x, num_images=256, seed=0):
    """Images for `model` from an array or a `GroundTruthData`.

    Args:
        model: a model of the zoo (anything with `image_shape`).
        x: images `(n,) + image_shape` in [0, 1] (single-channel images may
            omit the channel axis), a `GroundTruthData` (anything with
            `sample_observations`), or None.
        num_images: images sampled when `x` is a dataset.
        seed: seed of that sample (numpy `RandomState`).

    Returns:
        A float32 array `(n,) + image_shape`, or None when `x` is None.

    Raises:
        ValueError: `x` is not a non-empty batch of images.
    """
    if x is None:
        return None
    if hasattr(x, "sample_observations"):
        x = x.sample_observations(int(num_images), np.random.RandomState(seed))
    x = np.asarray(x, "float32")
    if x.ndim == 3 and len(model.image_shape) == 3 and model.image_shape[-1] == 1:
        x = x[..., None]
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(
            "Expected a non-empty batch of images of shape (n,) + "
            f"{tuple(model.image_shape)}; received shape {x.shape}."
        )
    return x


def decode(model, z, batch_size=256):
    """`model.decode(z)` on padded batches (see `posterior_stats`).

    Args:
        model: a model of the zoo.
        z: codes `(n, latent_dim)`.
        batch_size: codes per decoder call.

    Returns:
        float32 images `(n,) + image_shape` in [0, 1].
    """
    z = np.asarray(z, "float32")
    out = [np.asarray(model.decode(chunk))[:n]
           for chunk, n in padded_batches(z, batch_size)]
    return np.concatenate(out).astype("float32")


def posterior_stats(model, x, batch_size=256):
    """Posterior means and log-variances of images, as numpy arrays.

    `models.inference.posterior_stats` on float32 images (the one batched
    inference path; `BaseVAE.posterior_stats` also validates the images).

    Args:
        model: a model of the zoo (anything with `encode_stats`).
        x: float images in [0, 1].
        batch_size: images per encoder call.

    Returns:
        `(mean, logvar)`, each a float32 array `(n, latent_dim)`.
    """
    return model_inference.posterior_stats(
        model, np.asarray(x, "float32"), batch_size)


def kl_to_prior(mean, logvar):
    """Mean KL divergence (nats) to N(0, 1) of each latent dimension.

    Args:
        mean: posterior means `(n, latent_dim)`.
        logvar: posterior log-variances `(n, latent_dim)`.

    Returns:
        A float64 array `(latent_dim,)`: the KL of each dimension, averaged
        over the `n` posteriors.
    """
    mean = np.asarray(mean, "float64")
    logvar = np.asarray(logvar, "float64")
    return losses.gaussian_kl_terms(mean, logvar, xp=np).mean(0)


def per_dimension_kl(model, x, batch_size=256):
    """Mean KL divergence (nats) to N(0, 1) of every latent dimension.

    Args:
        model: a model of the zoo.
        x: float images in [0, 1]; the KL is averaged over them.
        batch_size: images per encoder call.

    Returns:
        A float64 array `(latent_dim,)`; their sum is the model's `kl_loss`.

    Example:

    >>> per_dimension_kl(model, x).round(2)
    array([2.31, 0.  , 1.72, ...])
    """
    return kl_to_prior(*posterior_stats(model, x, batch_size))
