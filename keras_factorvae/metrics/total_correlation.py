"""Estimates of a trained model's total correlation that no model trains on.

FactorVAE's logged `tc_loss` is its own discriminator's estimate, which the
VAE update is trained against; judging the model by it is circular. These
are two independent readings of the same quantity on images sampled from the
data:

- `gaussian_tc_mean`: the Gaussian total correlation of the posterior means
  (`-0.5 log det` of their correlation matrix), as in the unsupervised
  metrics of disentanglement_lib.
- `mss_tc_sampled`: beta-TCVAE's minibatch-stratified estimate (Chen et al.
  2018) of TC of the sampled codes, averaged over batches of `batch_size`.
"""

import numpy as np

from keras_factorvae.metrics.unsupervised import gaussian_total_correlation


def total_correlation_estimates(model, data, num_points=2048, batch_size=256,
                                seed=0, stats_fn=None):
    """Both TC estimates of `model`'s codes of `data`.

    Args:
        model: a model of the zoo (`encode_stats`, `latent_dim`); may be None
            when `stats_fn` is given.
        data: a `GroundTruthData` (sampled with `seed`).
        num_points: images to encode (a multiple of `batch_size`).
        batch_size: minibatch size of the stratified estimate (it is biased
            downwards for small batches; compare models at one size).
        seed: seed of the sampled images and codes.
        stats_fn: optional function mapping a batch of images to numpy
            `(mean, logvar)`, for an encoder that is not a model of the zoo
            (e.g. another framework's); default: `model.encode_stats`.

    Returns:
        Dict `{"gaussian_tc_mean": float, "mss_tc_sampled": float}` (nats).

    Example:

    >>> total_correlation_estimates(model, kfv.datasets.load("dsprites"))
    {'gaussian_tc_mean': 0.41, 'mss_tc_sampled': 1.9}
    """
    from keras import ops

    from keras_factorvae.models.beta_tcvae import total_correlation

    if num_points % batch_size:
        raise ValueError(
            f"num_points ({num_points}) must be a multiple of batch_size "
            f"({batch_size})."
        )
    if stats_fn is None:
        def stats_fn(x):
            return model.posterior_stats(x, batch_size=batch_size)

    rng = np.random.RandomState(seed)
    x = data.sample_observations(num_points, rng)
    means, logvars = [], []
    for start in range(0, num_points, batch_size):
        mean, logvar = stats_fn(x[start : start + batch_size])
        means.append(np.asarray(mean, dtype="float64"))
        logvars.append(np.asarray(logvar, dtype="float64"))
    mean, logvar = np.concatenate(means), np.concatenate(logvars)
    z = mean + np.exp(0.5 * logvar) * rng.standard_normal(mean.shape)
    mss = [
        float(ops.convert_to_numpy(total_correlation(
            z[s : s + batch_size].astype("float32"),
            mean[s : s + batch_size].astype("float32"),
            logvar[s : s + batch_size].astype("float32"),
            estimator="mss", dataset_size=data.num_examples,
        )))
        for s in range(0, num_points, batch_size)
    ]
    cov = np.cov(mean, rowvar=False)
    return {
        "gaussian_tc_mean": float(gaussian_total_correlation(cov)),
        "mss_tc_sampled": float(np.mean(mss)),
    }
