"""The one batched inference path of the zoo: posterior statistics as numpy.

`BaseVAE.posterior_stats` and `BaseVAE.encode` (and through them the metrics'
representation functions, the pictures of `visualize` and the CLI) encode
images here: the encoder runs eagerly on numpy batches padded to a few
lengths (under JAX every new input shape of an eager call compiles the
network again), and the statistics come back as float32 numpy arrays under
every backend and dtype policy (a `mixed_bfloat16` encoder computes in
bfloat16; `encode_stats` casts to float32).
"""

import numpy as np
from keras import ops


def _bucket(n, batch_size):
    """Padded batch length: few distinct shapes, so JAX compiles few times."""
    if n >= batch_size:
        return batch_size
    return min(batch_size, max(32, 1 << max(0, int(n - 1).bit_length())))


def padded_batches(x, batch_size):
    """Splits an array into batches padded to a few distinct lengths.

    Args:
        x: array `(n, ...)`.
        batch_size: longest batch.

    Yields:
        `(batch, length)`: the batch, padded by repeating its last row, and
        how many of its rows are real.
    """
    batch_size = int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}.")
    for start in range(0, len(x), batch_size):
        chunk = x[start : start + batch_size]
        size = _bucket(len(chunk), batch_size)
        if size > len(chunk):
            pad = np.repeat(chunk[-1:], size - len(chunk), axis=0)
            chunk = np.concatenate([chunk, pad])
        yield chunk, min(batch_size, len(x) - start)


def to_float32(value):
    """A tensor or array (bfloat16 included) as a float32 numpy array."""
    return np.asarray(ops.convert_to_numpy(value)).astype(np.float32, copy=False)


def posterior_stats(model, x, batch_size=256):
    """Posterior means and log-variances of images, as float32 numpy arrays.

    Args:
        model: anything with `encode_stats(batch)` returning `(mean, logvar)`
            tensors or arrays (a model of the zoo, or a stand-in); with
            `latent_dim` when `x` may be empty.
        x: float images in [0, 1], `(n,) + image_shape` (validated by the
            caller: `BaseVAE.posterior_stats` checks them).
        batch_size: most images per encoder call.

    Returns:
        `(mean, logvar)`, each a float32 array `(n, latent_dim)`; row `i`
        does not depend on `batch_size` beyond float rounding (~1e-7).
    """
    means, logvars = [], []
    for chunk, n in padded_batches(x, batch_size):
        mean, logvar = model.encode_stats(chunk)
        means.append(to_float32(mean)[:n])
        logvars.append(to_float32(logvar)[:n])
    if not means:
        empty = np.zeros((0, int(model.latent_dim)), np.float32)
        return empty, empty.copy()
    return np.concatenate(means), np.concatenate(logvars)
