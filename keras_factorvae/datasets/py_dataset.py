"""`keras.utils.PyDataset` over a `GroundTruthData` (no TensorFlow needed)."""

import keras

from keras_factorvae.datasets.batch_plan import BatchPlan


class GroundTruthPyDataset(keras.utils.PyDataset):
    """Batches of observations of a `GroundTruthData`, for `model.fit`.

    Item `i` is batch `i` of the current epoch of a `BatchPlan`: a float32
    array `(batch_size, H, W, C)` in [0, 1], or `(x, x2)` when `paired`.
    Items are pure functions of `(seed, epoch, i)`, so any worker may render
    any item. See `pipeline.as_py_dataset` for the arguments.

    Example:

    ```python
    train = GroundTruthPyDataset(DSprites(), batch_size=64, seed=1)
    x = train[0]  # (64, 64, 64, 1) float32
    ```
    """

    def __init__(
        self, dataset, batch_size=64, shuffle=True, seed=0, paired=False,
        repeat=True, steps_per_epoch=None, workers=1,
        use_multiprocessing=False, max_queue_size=10,
    ):
        super().__init__(
            workers=workers, use_multiprocessing=use_multiprocessing,
            max_queue_size=max_queue_size,
        )
        self.plan = BatchPlan(
            dataset, batch_size, shuffle, seed, paired, steps_per_epoch
        )
        self.repeat = bool(repeat)
        self.epoch = 0

    @property
    def dataset(self):
        return self.plan.dataset

    def __len__(self):
        return self.plan.steps_per_epoch

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch {index} out of range [0, {len(self)}).")
        return self.plan.batch(self.epoch if self.repeat else 0, index)

    def on_epoch_end(self):
        self.epoch += 1


class EpochSlice(keras.utils.PyDataset):
    """Batches `start..stop` of one epoch of a `GroundTruthPyDataset`.

    A run resumed mid-epoch trains on this first, then on the whole dataset
    from the next epoch on: the batches are those an uninterrupted run would
    have seen.

    Args:
        parent: the `GroundTruthPyDataset`.
        epoch: the epoch of the plan to serve.
        start, stop: the first and one-past-last batch of it.
    """

    def __init__(self, parent, epoch, start, stop=None):
        super().__init__()
        stop = len(parent) if stop is None else stop
        if not 0 <= start < stop <= len(parent):
            raise ValueError(
                f"Need 0 <= start < stop <= {len(parent)}; got {start}, {stop}.")
        self.parent, self.epoch = parent, int(epoch)
        self.start, self.stop = int(start), int(stop)

    def __len__(self):
        return self.stop - self.start

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch {index} out of range [0, {len(self)}).")
        return self.parent.plan.batch(self.epoch, self.start + index)
