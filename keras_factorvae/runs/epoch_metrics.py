"""Headline disentanglement scores logged with the epoch's losses."""

from keras_factorvae.callbacks.disentanglement import DisentanglementMetrics


class EpochMetrics(DisentanglementMetrics):
    """Headline scores every n epochs, NaN on the others.

    CSVLogger fixes its columns at the first epoch, so every epoch logs the
    same keys.

    Args:
        data: a `GroundTruthData`.
        metrics: metric names.
        every: epochs between evaluations.
        size: sample sizes (`reporting.METRIC_SIZES` key or int).
        seed: seed of the metrics.
    """

    def __init__(self, data, metrics, every, size, seed):
        from keras_factorvae import reporting
        from keras_factorvae.metrics import HEADLINES

        super().__init__(data, metrics=metrics, every_n_epochs=every, seed=seed,
                         **reporting.metric_overrides(metrics, size))
        self.keys = [self.prefix + HEADLINES[m][0] for m in self.metrics]

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if (epoch + 1) % self.every_n_epochs:
            logs.update({k: float("nan") for k in self.keys})
            return
        scores = self.compute()
        logs.update({k: scores[k] for k in self.keys})
