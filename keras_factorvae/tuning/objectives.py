"""Tuning objectives: supervised disentanglement scores or a label-free one.

Supervised (ground-truth factors available): a headline score of
`keras_factorvae.callbacks.DisentanglementMetrics`, maximised, e.g.
`val_factor_vae_score` (the FactorVAE paper's own metric, the default) or
`val_discrete_mig`.

Unsupervised (no factors): `val_recon_tc_tradeoff`, minimised, written by
the `ReconstructionTCTradeoff` callback; see there for what it measures and
why it was chosen.
"""

import copy

import keras
import keras_tuner
import numpy as np

from keras_factorvae.metrics.evaluate import HEADLINES

# Objective names selecting a `DisentanglementMetrics` score (maximised).
SUPERVISED = {
    name: log_name for name, (log_name, _) in HEADLINES.items()
    if name != "unsupervised"
}
# Aliases: the log names themselves ("discrete_mig", ...).
_ALIASES = {log_name: name for name, log_name in SUPERVISED.items()}
UNSUPERVISED = ("unsupervised", "recon_tc_tradeoff")
TRADEOFF_KEY = "recon_tc_tradeoff"


def gaussian_total_correlation(codes, ridge=1e-6):
    """Total correlation (nats) of a Gaussian fitted to codes.

    `TC = -0.5 * log det(R)` with `R` the correlation matrix of the active
    code dimensions: the same value as
    `keras_factorvae.metrics.unsupervised.gaussian_total_correlation(cov)`
    (the TC of a Gaussian does not depend on the scales), but defined for
    collapsed models: dimensions with (numerically) zero variance carry no
    information and are left out instead of making the result NaN, and
    `ridge * I` is added to `R` so that perfectly dependent codes give a
    large finite value rather than infinity (which would break the Bayesian
    tuner's Gaussian process).

    Args:
        codes: `(n, d)` array, e.g. posterior means.
        ridge: added to the diagonal of the correlation matrix.

    Returns:
        A float >= 0 (0 with fewer than two active dimensions).

    Example:

    >>> gaussian_total_correlation(np.random.randn(1000, 4))  # close to 0
    """
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(
            f"Expected codes of shape (n >= 2, d); received {codes.shape}."
        )
    std = codes.std(axis=0)
    active = std > 1e-8 * max(1.0, float(np.abs(codes).max()))
    if active.sum() < 2:
        return 0.0
    corr = np.corrcoef(codes[:, active], rowvar=False)
    corr = corr + ridge * np.eye(len(corr))
    sign, logdet = np.linalg.slogdet(corr)
    # The ridge keeps `corr` positive definite; the correction makes an
    # independent sample's TC 0 rather than slightly negative.
    baseline = len(corr) * np.log1p(ridge)
    return float(max(0.0, -0.5 * (logdet - baseline)))


class ReconstructionTCTradeoff(keras.callbacks.Callback):
    """The label-free objective `reconstruction + tc_weight * TC`.

    At the end of every `every_n_epochs`-th epoch, on a fixed sample of
    held-out images (the same for every epoch and every trial):

    - `val_reconstruction_loss`: the model's reconstruction loss (nats per
      image for the Bernoulli likelihood) from the posterior means,
    - `val_gaussian_tc`: the total correlation of the posterior means under
      a Gaussian fit (`gaussian_total_correlation`),
    - `val_recon_tc_tradeoff = val_reconstruction_loss + tc_weight *
      val_gaussian_tc`, the unsupervised tuning objective (minimised).

    Why this objective: without factor labels, disentanglement cannot be
    measured (Locatello et al. 2019), so the tuner can only trade off what
    FactorVAE itself trades off: fidelity against dependence between codes.
    Both terms are in nats, so `tc_weight=1` is the neutral exchange rate;
    larger values favour more factorised codes. The TC term uses a Gaussian
    fit rather than the model's own `tc_loss` because (1) each trial trains
    its own discriminator, so their density-ratio estimates are not on a
    common scale and can be negative; (2) it exists for every model of the
    zoo; (3) it costs one encoder pass and a `d x d` determinant. It sees
    only linear (second-order) dependence: a proxy, cheap and transparent,
    not a disentanglement score. UDR (Duan et al. 2020) is a stronger
    label-free alternative but needs several trained models per setting.

    Args:
        images: float images in [0, 1], `(n, H, W, C)` (see
            `held_out_images`).
        tc_weight: weight of the TC term (>= 0).
        every_n_epochs: evaluate after epochs `n, 2n, ...`.
        prefix: prefix of the log keys.
        batch_size: images per model call.

    Example:

    ```python
    images = held_out_images(train_ds, 1000)
    model.fit(train_ds, epochs=5, callbacks=[ReconstructionTCTradeoff(images)])
    ```
    """

    def __init__(self, images, tc_weight=1.0, every_n_epochs=1, prefix="val_",
                 batch_size=256):
        super().__init__()
        images = np.asarray(images, dtype="float32")
        if images.ndim != 4 or len(images) < 2:
            raise ValueError(
                "Expected at least 2 images of shape (n, H, W, C); received "
                f"{images.shape}."
            )
        if float(tc_weight) < 0:
            raise ValueError(f"`tc_weight` must be >= 0, received {tc_weight}.")
        self.images = images
        self.tc_weight = float(tc_weight)
        self.every_n_epochs = int(every_n_epochs)
        self.prefix = str(prefix)
        self.batch_size = int(batch_size)

    def __deepcopy__(self, memo):
        # KerasTuner deep-copies callbacks for every trial: share the images.
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if key != "images":
                value = copy.deepcopy(value, memo)
            setattr(new, key, value)
        return new

    def compute(self):
        """Returns the prefixed scores of the current model."""
        model = self.model
        if not hasattr(model, "compute_losses") or not hasattr(model, "encode"):
            raise ValueError(
                "ReconstructionTCTradeoff needs a model of the zoo (with "
                f"`compute_losses` and `encode`); got {type(model).__name__}."
            )
        total = 0.0
        for start in range(0, len(self.images), self.batch_size):
            batch = self.images[start : start + self.batch_size]
            # Posterior means, no noise: the same weights give the same value.
            losses = model.compute_losses(batch, sample=False)
            total += losses["reconstruction_loss"] * len(batch)
        recon = total / len(self.images)
        tc = gaussian_total_correlation(
            model.encode(self.images, batch_size=self.batch_size)
        )
        return {
            self.prefix + "reconstruction_loss": float(recon),
            self.prefix + "gaussian_tc": tc,
            self.prefix + TRADEOFF_KEY: float(recon + self.tc_weight * tc),
        }

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        if logs is not None:
            logs.update(self.compute())


def held_out_images(dataset, num=1000, seed=0):
    """A fixed sample of float images from any dataset the tuner accepts.

    Args:
        dataset: a `GroundTruthData` (sampled with `RandomState(seed)`), a
            numpy array of images (a random subset), or a fit-able dataset
            (`keras.utils.PyDataset`, `tf.data.Dataset`, any iterable of
            batches; the first `num` images are taken). Batches that are
            tuples, such as `(x, x2)` or `(x, y)`, contribute `x`.
        num: number of images.
        seed: seed of the sampling.

    Returns:
        float32 array `(num', H, W, C)` with `num' <= num`.

    Example:

    >>> held_out_images(kfv.datasets.load("dsprites"), 500).shape
    (500, 64, 64, 1)
    """
    num = int(num)
    if hasattr(dataset, "sample_observations"):
        return np.asarray(dataset.sample_observations(
            num, np.random.RandomState(seed)), dtype="float32")
    if isinstance(dataset, np.ndarray):
        rs = np.random.RandomState(seed)
        index = rs.choice(len(dataset), min(num, len(dataset)), replace=False)
        return np.asarray(dataset[np.sort(index)], dtype="float32")
    if isinstance(dataset, keras.utils.PyDataset):
        batches = (dataset[i] for i in range(len(dataset)))
    else:
        batches = iter(dataset)
    images, count = [], 0
    for batch in batches:
        while isinstance(batch, (tuple, list)):
            batch = batch[0]
        batch = keras.ops.convert_to_numpy(batch).astype("float32")
        images.append(batch)
        count += len(batch)
        if count >= num:
            break
    if not images:
        raise ValueError("The dataset yielded no batch.")
    return np.concatenate(images)[:num]


def get_objective(objective=None, has_ground_truth=True, prefix="val_"):
    """Resolves an objective name to a `keras_tuner.Objective`.

    Args:
        objective: `"factor_vae_score"`, `"mig"` (or any
            `DisentanglementMetrics` metric name, or its log name such as
            `"discrete_mig"`), `"unsupervised"` (alias
            `"recon_tc_tradeoff"`), a `keras_tuner.Objective` (used as is;
            the caller logs its value), or `None`: `"factor_vae_score"` with
            ground truth, else `"unsupervised"`.
        has_ground_truth: whether factor labels are available.
        prefix: the callbacks' log prefix.

    Returns:
        `(keras_tuner.Objective, metric)`: `metric` is the
        `DisentanglementMetrics` metric name to compute, `"unsupervised"`
        for the trade-off, or `None` for a user's `Objective`.

    Example:

    >>> get_objective("mig")
    (Objective(name="val_discrete_mig", direction="max"), 'mig')
    """
    if isinstance(objective, (keras_tuner.Objective, list)):
        return objective, None
    if objective is None:
        objective = "factor_vae_score" if has_ground_truth else "unsupervised"
    if not isinstance(objective, str):
        raise ValueError(
            f"`objective` must be a name or a keras_tuner.Objective; "
            f"received {objective!r}."
        )
    name = objective.lower()
    if name.startswith(prefix):
        name = name[len(prefix):]
    if name in UNSUPERVISED:
        return keras_tuner.Objective(prefix + TRADEOFF_KEY, "min"), "unsupervised"
    name = _ALIASES.get(name, name)
    if name in SUPERVISED:
        if not has_ground_truth:
            raise ValueError(
                f"Objective {objective!r} needs ground-truth factors: pass "
                "`ground_truth_data=`, or use objective='unsupervised'."
            )
        return keras_tuner.Objective(prefix + SUPERVISED[name], "max"), name
    raise ValueError(
        f"Unknown objective {objective!r}; choose from "
        f"{sorted(SUPERVISED) + ['unsupervised']} or pass a "
        "keras_tuner.Objective."
    )
