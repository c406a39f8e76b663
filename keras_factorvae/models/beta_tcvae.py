"""beta-TCVAE (Chen et al., NeurIPS 2018): recon + KL + (beta - 1) * TC."""

import math

import keras
from keras import ops

from keras_factorvae.losses import gaussian_log_density
from keras_factorvae.models.base import BaseVAE

ESTIMATORS = ("mws", "mss")


def _log_importance_weights(batch_size, dataset_size):
    """log W of minibatch stratified sampling, shape (M, M).

    W_ii = 1/N, W_i,(i+1 mod M) = (N - M + 1) / (N (M - 1)), else 1/(M - 1):
    one stratified entry per row. (Chen et al.'s code also sets a second one
    in row M - 2, an indexing slip not copied here.) `batch_size` may be a
    traced scalar.
    """
    m = ops.cast(batch_size, "float32")
    n = float(dataset_size)
    rows = ops.expand_dims(ops.arange(batch_size), 1)
    cols = ops.expand_dims(ops.arange(batch_size), 0)
    diagonal = ops.equal(rows, cols)
    stratified = ops.equal(ops.mod(rows + 1, batch_size), cols)
    # With M = 1 these entries are never selected; keep them finite anyway.
    safe = ops.maximum(m - 1.0, 1.0)
    strat = ops.log((n - m + 1.0) / (n * safe))
    other = -ops.log(safe)
    return ops.where(
        diagonal, -math.log(n), ops.where(stratified, strat, other)
    )


def total_correlation(z, mean, logvar, estimator="mws", dataset_size=None):
    """Minibatch estimate of TC = E[log q(z) - sum_d log q(z_d)].

    `mws` (minibatch weighted sampling): log q(z_i) ~= logsumexp_j
    sum_d log q(z_i,d | x_j) - log(N M) and log prod_d q(z_i,d) ~= sum_d
    [logsumexp_j log q(z_i,d | x_j) - log(N M)]. With `dataset_size=None`
    the constants are left out, which is disentanglement_lib's exact value
    (the gradient is the same either way). `mss` (minibatch stratified
    sampling) weights the pairs with `_log_importance_weights` and needs N.

    Args:
        z: samples `(M, D)`; mean, logvar: posterior parameters `(M, D)`.
        estimator: `"mws"` or `"mss"`.
        dataset_size: N, the number of training examples.
    """
    z, mean, logvar = (ops.convert_to_tensor(t) for t in (z, mean, logvar))
    batch = ops.shape(z)[0]
    # log q(z_i,d | x_j) for every pair (i, j): shape (M, M, D).
    log_q = gaussian_log_density(
        ops.expand_dims(z, 1), ops.expand_dims(mean, 0), ops.expand_dims(logvar, 0)
    )
    if estimator == "mss":
        log_w = _log_importance_weights(batch, dataset_size)
        log_qz = ops.logsumexp(log_w + ops.sum(log_q, axis=2), axis=1)
        log_prod = ops.sum(
            ops.logsumexp(ops.expand_dims(log_w, 2) + log_q, axis=1), axis=1
        )
        return ops.mean(log_qz - log_prod)
    log_qz = ops.logsumexp(ops.sum(log_q, axis=2), axis=1)
    log_prod = ops.sum(ops.logsumexp(log_q, axis=1), axis=1)
    tc = ops.mean(log_qz - log_prod)
    if dataset_size is not None:
        log_nm = math.log(float(dataset_size)) + ops.log(ops.cast(batch, "float32"))
        tc = tc + (z.shape[1] - 1) * log_nm
    return tc


@keras.saving.register_keras_serializable(package="keras_factorvae")
class BetaTCVAE(BaseVAE):
    """beta-TCVAE: the total correlation of q(z) weighted by `beta - 1`.

    Loss `reconstruction + KL + (beta - 1) * TC` as in disentanglement_lib,
    with TC estimated on the batch (see `total_correlation`).

    Args:
        beta: total correlation weight (>= 0); 1 is the plain VAE.
        estimator: `"mws"` (default, disentanglement_lib) or `"mss"`.
        dataset_size: number of training examples N (needed by `"mss"`;
            with `"mws"` it only adds the log(N M) constants to the logged TC).
        **kwargs: see `BaseVAE`.

    Example:

    >>> model = BetaTCVAE(beta=6.0, estimator="mss", dataset_size=737280)
    """

    loss_names = BaseVAE.loss_names + ("tc_loss",)

    def __init__(self, beta=6.0, estimator="mws", dataset_size=None, **kwargs):
        if float(beta) < 0:
            raise ValueError(f"`beta` must be >= 0, received {beta!r}.")
        if estimator not in ESTIMATORS:
            raise ValueError(
                f"Unknown estimator {estimator!r}; known: {ESTIMATORS}."
            )
        if estimator == "mss" and (dataset_size is None or dataset_size < 2):
            raise ValueError("estimator='mss' needs dataset_size >= 2.")
        super().__init__(**kwargs)
        self.beta = float(beta)
        self.estimator = estimator
        self.dataset_size = None if dataset_size is None else int(dataset_size)

    def latent_loss(self, x, mean, logvar, z, kl):
        tc = total_correlation(z, mean, logvar, self.estimator, self.dataset_size)
        return kl + (self.beta - 1.0) * tc, {"tc_loss": tc}

    def get_config(self):
        return {
            **super().get_config(),
            "beta": self.beta,
            "estimator": self.estimator,
            "dataset_size": self.dataset_size,
        }
