"""Loss terms shared by the model zoo, written with `keras.ops` only.

Every function takes backend tensors and returns a scalar averaged over the
batch (per-example sums over pixels or latent dimensions first), which is the
normalisation of disentanglement_lib and of the FactorVAE paper.
"""

import math

from keras import ops
from keras import random

# Log-variances outside this range carry no information a float32 VAE can use
# (std between 4.5e-5 and 2.2e4) and overflow `exp` in long runs at large gamma.
LOGVAR_MIN = -20.0
LOGVAR_MAX = 20.0

_LOG_2PI = math.log(2.0 * math.pi)


def clip_logvar(logvar):
    """Bounds log-variances so that `exp(logvar)` stays finite."""
    return ops.clip(logvar, LOGVAR_MIN, LOGVAR_MAX)


def bernoulli_reconstruction(x, logits):
    """Sigmoid cross-entropy summed over pixels, averaged over the batch.

    Uses the stable form `softplus(l) - l * x`, the same quantity as
    `tf.nn.sigmoid_cross_entropy_with_logits` (`softplus(l)` equals
    `max(l, 0) + log1p(exp(-|l|))`; every backend computes it without
    overflow, and on XLA:CPU it runs ~5x faster than that spelled-out form).

    Args:
        x: targets in [0, 1], shape `(batch, ...)`.
        logits: decoder logits, same shape as `x`.
    """
    logits = ops.convert_to_tensor(logits)
    x = ops.cast(x, logits.dtype)
    per_pixel = ops.softplus(logits) - logits * x
    return ops.mean(ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), 1))


def gaussian_reconstruction(x, logits):
    """Squared error between `x` and `sigmoid(logits)`, summed over pixels.

    This is disentanglement_lib's `l2_loss` with `activation="logits"`: a
    Gaussian likelihood of fixed variance up to constants.
    """
    logits = ops.convert_to_tensor(logits)
    x = ops.cast(x, logits.dtype)
    err = ops.square(x - ops.sigmoid(logits))
    return ops.mean(ops.sum(ops.reshape(err, (ops.shape(x)[0], -1)), 1))


RECONSTRUCTIONS = {
    "bernoulli": bernoulli_reconstruction,
    "gaussian": gaussian_reconstruction,
}


def gaussian_kl_terms(mean, logvar, xp=ops):
    """KL(N(mean, exp(logvar)) || N(0, 1)) of every element (nats).

    The one Gaussian-KL formula of the package: `gaussian_kl` (the loss) and
    `visualize.kl_to_prior` (numpy, float64) both compute it here.

    Args:
        mean, logvar: arrays of the same shape.
        xp: the array module: `keras.ops` (backend tensors, the default) or
            `numpy` (numpy arrays in their own precision).

    Returns:
        `0.5 * (mean**2 + exp(logvar) - logvar - 1)`, elementwise.
    """
    return 0.5 * (xp.square(mean) + xp.exp(logvar) - logvar - 1.0)


def gaussian_kl(mean, logvar):
    """KL(N(mean, exp(logvar)) || N(0, I)) summed over dims, batch mean."""
    mean, logvar = ops.convert_to_tensor(mean), ops.convert_to_tensor(logvar)
    return ops.mean(ops.sum(gaussian_kl_terms(mean, logvar), axis=1))


def sample_gaussian(mean, logvar, seed):
    """Reparameterised sample `mean + exp(logvar / 2) * eps`.

    With `seed=None` returns `mean` (used to compare backends exactly).
    """
    if seed is None:
        return mean
    eps = random.normal(ops.shape(mean), dtype=mean.dtype, seed=seed)
    return mean + ops.exp(0.5 * logvar) * eps


def permute_dims(z, seed):
    """Shuffles every latent column independently across the batch.

    Column `j` of the result is `z[perm_j, j]` for an independent random
    permutation `perm_j` per column, which turns samples of q(z) into samples
    of prod_j q(z_j) (Kim & Mnih 2018, Algorithm 1). Permuting within a row
    instead, a known bug of one popular PyTorch repository, leaves the
    dependence between dimensions intact.

    Args:
        z: latent codes, shape `(batch, latent_dim)`.
        seed: a `keras.random.SeedGenerator` (or int) for the permutations;
            `None` gives a fixed permutation (for reproducible comparisons).

    Example:

    >>> z = keras.ops.reshape(keras.ops.arange(12.0), (4, 3))
    >>> permute_dims(z, keras.random.SeedGenerator(0)).shape
    (4, 3)
    """
    # argsort of uniform noise is a uniform random permutation; it works under
    # jit on every backend, where keras has no batched permutation op.
    z = ops.convert_to_tensor(z)
    if seed is None:
        # Deterministic stand-in used to compare backends: column j is
        # rolled by j + 1 rows, which is still a per-column permutation.
        return ops.stack(
            [ops.roll(z[:, j], j + 1, axis=0) for j in range(z.shape[1])],
            axis=1,
        )
    noise = random.uniform(ops.shape(z), seed=seed)
    order = ops.argsort(noise, axis=0)
    return ops.take_along_axis(z, order, axis=0)


def gaussian_log_density(samples, mean, logvar):
    """Elementwise log N(samples; mean, exp(logvar))."""
    inv_var = ops.exp(-logvar)
    return -0.5 * (
        ops.square(samples - mean) * inv_var + logvar + _LOG_2PI
    )


def discriminator_cross_entropy(logits_real, logits_permuted):
    """FactorVAE discriminator loss 0.5 * (CE(D(z), 0) + CE(D(z_perm), 1)).

    Class 0 marks samples of q(z), class 1 samples of the product of its
    marginals, as in disentanglement_lib. Uses `log_softmax`, which is stable
    for large logits.
    """
    logits_real = ops.convert_to_tensor(logits_real)
    logits_permuted = ops.convert_to_tensor(logits_permuted)
    real = ops.log_softmax(logits_real, axis=-1)[:, 0]
    permuted = ops.log_softmax(logits_permuted, axis=-1)[:, 1]
    return -0.5 * (ops.mean(real) + ops.mean(permuted))


def discriminator_accuracy(logits_real, logits_permuted):
    """Fraction of real and permuted codes the discriminator classifies right."""
    logits_real = ops.convert_to_tensor(logits_real)
    logits_permuted = ops.convert_to_tensor(logits_permuted)
    real = ops.cast(logits_real[:, 0] >= logits_real[:, 1], "float32")
    permuted = ops.cast(logits_permuted[:, 1] > logits_permuted[:, 0], "float32")
    return 0.5 * (ops.mean(real) + ops.mean(permuted))


def density_ratio_tc(logits):
    """Total correlation estimate mean(D(z)[0] - D(z)[1]) (can be negative)."""
    logits = ops.convert_to_tensor(logits)
    return ops.mean(logits[:, 0] - logits[:, 1])
