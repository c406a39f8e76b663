"""Keras callback logging disentanglement metrics during training."""

import copy

import keras

from keras_factorvae.metrics import utils
from keras_factorvae.metrics.evaluate import HEADLINES
from keras_factorvae.metrics.evaluate import check_metric_names
from keras_factorvae.metrics.evaluate import evaluate
from keras_factorvae.metrics.evaluate import resolve_params


class DisentanglementMetrics(keras.callbacks.Callback):
    """Computes disentanglement metrics at the end of training epochs.

    The metrics run on `self.model.encode` (the posterior mean) and their
    scores are written into the epoch's `logs`, so `History`,
    `TensorBoard`, `CSVLogger`, `EarlyStopping` and KerasTuner objectives
    placed after this callback see them. Each metric's headline value gets
    the key `prefix + name`:

    - `mig`: `val_discrete_mig` (discrete_mig),
    - `factor_vae_score`: `val_factor_vae_score` (eval_accuracy),
    - `beta_vae_score`: `val_beta_vae_score` (eval_accuracy),
    - `dci`: `val_dci_disentanglement` (disentanglement),
    - `sap_score`: `val_sap_score` (SAP_score),
    - `modularity_explicitness`: `val_modularity_score`,
    - `irs`: `val_irs` (IRS),
    - `unsupervised`: `val_gaussian_total_correlation`.

    Every score is also logged under `prefix + "<metric>.<score>"`, e.g.
    `val_factor_vae_score.train_accuracy` (see
    `keras_factorvae.metrics.evaluate`).

    The same `seed` is used at every epoch, so the sampled data are the same
    and changes reflect the model only. Keys appear only on evaluated epochs
    (every `every_n_epochs`-th, counting from 1); `EarlyStopping` warns on
    the other epochs and skips them (its patience counts evaluated epochs).

    Args:
        ground_truth_data: `GroundTruthData`-like dataset with factor labels.
        metrics: metric names (see `keras_factorvae.metrics.METRICS`).
        every_n_epochs: evaluate after epochs `n, 2n, ...`.
        prefix: prefix of the log keys.
        seed: seed of each metric's `numpy.random.RandomState`.
        **overrides: passed to `keras_factorvae.metrics.evaluate`, e.g.
            `num_train=2000`, `num_eval=1000`, `batch_size=1024` (encoder
            batch) or `metric_params={"mig": {"num_bins": 10}}`.

    Example:

    ```python
    callback = DisentanglementMetrics(
        dsprites, metrics=("mig", "factor_vae_score"), num_train=2000)
    model.fit(x, epochs=10, callbacks=[
        callback,
        keras.callbacks.EarlyStopping("val_factor_vae_score", mode="max"),
    ])
    ```
    """

    def __init__(self, ground_truth_data, metrics=("mig", "factor_vae_score"),
                 every_n_epochs=1, prefix="val_", seed=0, **overrides):
        super().__init__()
        self.ground_truth_data = utils.check_ground_truth_data(
            ground_truth_data)
        self.metrics = check_metric_names(metrics)
        self.every_n_epochs = utils.check_int("every_n_epochs", every_n_epochs)
        self.prefix = str(prefix)
        self.seed = seed
        shared = {k: v for k, v in overrides.items()
                  if k not in ("batch_size", "metric_params")}
        # Fail at construction, not after the first epoch of training.
        resolve_params(self.metrics, shared,
                                    overrides.get("metric_params"))
        if "batch_size" in overrides:
            utils.check_int("batch_size", overrides["batch_size"])
        self.overrides = overrides

    def __deepcopy__(self, memo):
        # KerasTuner deep-copies callbacks for every trial; the dataset (maybe
        # gigabytes of images) is shared instead of copied.
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            if key != "ground_truth_data":
                value = copy.deepcopy(value, memo)
            setattr(new, key, value)
        return new

    def compute(self):
        """Returns the prefixed scores of the current model."""
        if not hasattr(self.model, "encode"):
            raise ValueError(
                "DisentanglementMetrics needs a model with an `encode` method "
                f"(posterior mean); {type(self.model).__name__} has none."
            )
        results = evaluate(
            self.model, self.ground_truth_data, metrics=self.metrics,
            seed=self.seed, **self.overrides)
        logs = {}
        for name in self.metrics:
            log_name, key = HEADLINES[name]
            logs[self.prefix + log_name] = results[f"{name}.{key}"]
        for key, value in results.items():
            logs[self.prefix + key] = value
        return logs

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        scores = self.compute()
        if logs is not None:
            logs.update(scores)
