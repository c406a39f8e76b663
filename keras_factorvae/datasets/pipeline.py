"""Input pipelines over a `GroundTruthData`: tf.data, keras PyDataset, numpy.

Both pipelines serve the same batches, planned by `BatchPlan` (in
`batch_plan.py`, re-exported here): epoch `e` is
`steps_per_epoch` batches of `batch_size` indices of the dataset's canonical
order. With `shuffle`, the indices of an epoch are read off permutations drawn
by `numpy.random.RandomState([seed, e, stream])` (no repeats within an epoch
while it is smaller than the dataset); without, they run in order, continuing
from epoch to epoch. With `paired`, a second, independent batch (`stream` 1;
offset by half the dataset when not shuffled) comes with every batch, for
FactorVAE's discriminator. Batch `(e, s)` is rendered with
`RandomState([seed, e, s])` for the random parts of the observation model
(colour, noise, choice among matching images), so every batch is a pure
function of `(seed, e, s)`: deterministic, whichever thread renders it.

Observations come out as float32 in [0, 1], shape `(batch_size, H, W, C)`;
only full batches are served (`drop_remainder=True`).

TensorFlow is imported only inside `as_dataset`.
"""

import atexit
import itertools
import threading
import time

from keras_factorvae.datasets.batch_plan import BatchPlan


class _ExitGate:
    """Stops tf.data's calls into Python before the interpreter finalizes.

    `as_dataset` renders each batch in a `tf.numpy_function`, which runs on
    tf.data's own threads. Once CPython starts finalizing, a thread that asks
    for the GIL is terminated where it stands (CPython's rule since 3.2), so a
    batch a prefetch thread was rendering at exit never completes; destroying
    the still-referenced iterator (a module global, for instance) then waits
    for it forever, and the process hangs after its last line. At exit (atexit
    runs while threads can still take the GIL), the gate closes: renders that
    start from then on fail at once, and the handler waits until none has run
    for a moment, so that every prefetch buffer is full or holds an error and
    no thread of tf.data needs Python when finalization destroys the iterators.
    """

    QUIET_SECONDS = 0.2
    LIMIT_SECONDS = 10.0

    def __init__(self):
        self.closed = False
        self.in_flight = 0
        self.last_call = 0.0
        self._lock = threading.Lock()
        self._registered = False

    def arm(self):
        """Registers the exit handler (once, when a pipeline is built)."""
        with self._lock:
            if not self._registered:
                atexit.register(self.close)
                self._registered = True

    def __enter__(self):
        with self._lock:
            self.last_call = time.monotonic()
            if self.closed:
                raise RuntimeError("The interpreter is exiting; no more batches.")
            self.in_flight += 1

    def __exit__(self, *exc):
        with self._lock:
            self.in_flight -= 1
            self.last_call = time.monotonic()

    def close(self):
        with self._lock:
            self.closed = True
            start = time.monotonic()
        while time.monotonic() - start < self.LIMIT_SECONDS:
            with self._lock:
                idle = time.monotonic() - max(self.last_call, start)
                if self.in_flight == 0 and idle >= self.QUIET_SECONDS:
                    return
            time.sleep(0.02)


_EXIT_GATE = _ExitGate()


def as_dataset(
    dataset, batch_size=64, shuffle=True, seed=0, paired=False, repeat=True,
    steps_per_epoch=None,
):
    """A `tf.data.Dataset` of observation batches of a `GroundTruthData`.

    Batch numbers come from a `tf.data` counter; each is rendered on demand
    by a `tf.numpy_function` (no copy of the dataset is made), then
    prefetched. Works as input to `model.fit` on every Keras backend.

    Args:
        dataset: a `GroundTruthData`.
        batch_size: images per batch; only full batches are served.
        shuffle: sample indices at random (see `BatchPlan`).
        seed: seed of every random choice.
        paired: serve `(x, x2)`, two independent batches.
        repeat: if True the dataset is infinite (epoch after epoch of
            `BatchPlan`); else it holds the `steps_per_epoch` batches of
            epoch 0.
        steps_per_epoch: batches per epoch of the plan; defaults to
            `min(num_examples // batch_size, 1000)`.

    Returns:
        A `tf.data.Dataset` of float32 `(batch_size, H, W, C)` tensors, or of
        pairs of them.

    Example:

    ```python
    ds = as_dataset(DSprites(), batch_size=64, paired=True)
    x, x2 = next(iter(ds))
    ```
    """
    from keras_factorvae.extras import require

    tf = require("tensorflow")
    plan = BatchPlan(
        dataset, batch_size, shuffle, seed, paired, steps_per_epoch
    )
    steps = plan.steps_per_epoch
    # The dtype and scale of the raw arrays, from one batch: uint8 batches
    # cross into TensorFlow at a quarter of the size and are cast there.
    probe = plan.raw_batch(0, 0)[0]
    dtype, scale = tf.as_dtype(probe[0].dtype), probe[1]
    shape = (plan.batch_size,) + tuple(dataset.observation_shape)
    num_outputs = 2 if paired else 1
    _EXIT_GATE.arm()

    def render(global_step):
        with _EXIT_GATE:
            epoch, step = divmod(int(global_step), steps)
            return tuple(array for array, _ in plan.raw_batch(epoch, step))

    def tf_render(global_step):
        outputs = tf.numpy_function(
            render, [global_step], [dtype] * num_outputs, stateful=False
        )
        xs = []
        for x in outputs:
            x.set_shape(shape)
            if scale is not None:
                x = tf.cast(x, tf.float32)
                if scale != 1:
                    x = x * tf.constant(scale, tf.float32)
            xs.append(x)
        return tuple(xs) if paired else xs[0]

    if repeat:
        counter = tf.data.Dataset.counter()
    else:
        counter = tf.data.Dataset.range(steps)
    return counter.map(
        tf.autograph.experimental.do_not_convert(tf_render),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    ).prefetch(tf.data.AUTOTUNE)


def as_py_dataset(
    dataset, batch_size=64, shuffle=True, seed=0, paired=False, repeat=True,
    steps_per_epoch=None, workers=1, use_multiprocessing=False,
    max_queue_size=10,
):
    """A TensorFlow-free `keras.utils.PyDataset` of observation batches.

    Item `i` is batch `i` of the current epoch of the `BatchPlan` (an array,
    or a tuple `(x, x2)` when `paired`); an epoch has `steps_per_epoch`
    items, and `on_epoch_end` moves to the next epoch's indices when
    `repeat` (else every epoch serves epoch 0 again).

    Args:
        dataset: a `GroundTruthData`.
        batch_size, shuffle, seed, paired, repeat, steps_per_epoch: as in
            `as_dataset`.
        workers, use_multiprocessing, max_queue_size: as in
            `keras.utils.PyDataset`.

    Returns:
        A `GroundTruthPyDataset`.

    Example:

    ```python
    train = as_py_dataset(DSprites(), batch_size=64, paired=True)
    model.fit(train, epochs=3)
    ```
    """
    from keras_factorvae.datasets.py_dataset import GroundTruthPyDataset

    return GroundTruthPyDataset(
        dataset, batch_size=batch_size, shuffle=shuffle, seed=seed,
        paired=paired, repeat=repeat, steps_per_epoch=steps_per_epoch,
        workers=workers, use_multiprocessing=use_multiprocessing,
        max_queue_size=max_queue_size,
    )


def benchmark_pipeline(dataset, batch_size=64, steps=200, kind="tf", warmup=5):
    """Measures how fast a pipeline delivers images.

    Args:
        dataset: a `GroundTruthData`.
        batch_size: images per batch.
        steps: timed batches.
        kind: `"tf"` (`as_dataset`, iterated eagerly: the tensors stay in
            TensorFlow, as `fit` would consume them), `"py"`
            (`as_py_dataset`, indexed like Keras does) or `"numpy"`
            (`BatchPlan.batch`, the rendering alone).
        warmup: untimed batches first (tf.data start-up, renderer build).

    Returns:
        Images per second (float).

    Example:

    ```python
    benchmark_pipeline(DSprites(), kind="py")  # e.g. 300000.0
    ```
    """
    total = warmup + steps
    if kind == "numpy":
        plan = BatchPlan(dataset, batch_size, steps_per_epoch=total)
        batches = (plan.batch(0, s) for s in range(total))
    elif kind == "py":
        py_ds = as_py_dataset(dataset, batch_size, steps_per_epoch=total)
        batches = (py_ds[s] for s in range(total))
    elif kind == "tf":
        batches = iter(as_dataset(dataset, batch_size))
    else:
        raise ValueError(f"kind must be 'tf', 'py' or 'numpy'; got {kind!r}.")
    for batch in itertools.islice(batches, warmup):
        pass
    start = time.perf_counter()
    for batch in itertools.islice(batches, steps):
        pass
    elapsed = time.perf_counter() - start
    return steps * batch_size / elapsed
