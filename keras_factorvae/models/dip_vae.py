"""DIP-VAE-I and -II (Kumar et al., ICLR 2018): moment matching of q(z)."""

import keras
from keras import ops

from keras_factorvae.models.base import BaseVAE

VARIANTS = ("i", "ii")


def covariance(mean):
    """Population covariance of the rows of `mean` (M, D) -> (D, D)."""
    mean = ops.convert_to_tensor(mean)
    centred = mean - ops.mean(mean, axis=0, keepdims=True)
    return ops.matmul(ops.transpose(centred), centred) / ops.cast(
        ops.shape(mean)[0], mean.dtype
    )


def dip_regularizer(cov, lambda_od, lambda_d):
    """lambda_od * sum_{i!=j} cov_ij^2 + lambda_d * sum_i (cov_ii - 1)^2."""
    cov = ops.convert_to_tensor(cov)
    diag = ops.diagonal(cov)
    off = cov - ops.diag(diag)
    return lambda_od * ops.sum(ops.square(off)) + lambda_d * ops.sum(
        ops.square(diag - 1.0)
    )


@keras.saving.register_keras_serializable(package="keras_factorvae")
class DIPVAE(BaseVAE):
    """DIP-VAE: penalises the covariance of the codes away from identity.

    Variant `"i"` penalises Cov[mu(x)]; variant `"ii"` penalises
    Cov[mu(x)] + E[diag(exp(logvar))], the covariance of q(z). Loss:
    `reconstruction + KL + dip_loss` (disentanglement_lib).

    Args:
        variant: `"i"` or `"ii"`.
        lambda_od: weight of the off-diagonal entries (>= 0).
        lambda_d: weight of the diagonal entries; defaults to
            `10 * lambda_od` for I and `lambda_od` for II.
        **kwargs: see `BaseVAE`.

    Example:

    >>> model = DIPVAE(variant="ii", lambda_od=10.0)
    """

    loss_names = BaseVAE.loss_names + ("dip_loss",)

    def __init__(self, variant="i", lambda_od=10.0, lambda_d=None, **kwargs):
        variant = str(variant).lower()
        if variant not in VARIANTS:
            raise ValueError(f"Unknown variant {variant!r}; known: {VARIANTS}.")
        if lambda_d is None:
            lambda_d = 10.0 * lambda_od if variant == "i" else lambda_od
        if float(lambda_od) < 0 or float(lambda_d) < 0:
            raise ValueError("lambda_od and lambda_d must be >= 0.")
        super().__init__(**kwargs)
        self.variant = variant
        self.lambda_od = float(lambda_od)
        self.lambda_d = float(lambda_d)

    def latent_loss(self, x, mean, logvar, z, kl):
        cov = covariance(mean)
        if self.variant == "ii":
            logvar = ops.convert_to_tensor(logvar)
            cov = cov + ops.diag(ops.mean(ops.exp(logvar), axis=0))
        dip = dip_regularizer(cov, self.lambda_od, self.lambda_d)
        return kl + dip, {"dip_loss": dip}

    def get_config(self):
        return {
            **super().get_config(),
            "variant": self.variant,
            "lambda_od": self.lambda_od,
            "lambda_d": self.lambda_d,
        }
