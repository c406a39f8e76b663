"""The batch plan and the decoding of stored observations.

This module imports nothing else of the package (numpy only), so every other
module of `datasets/` may import it:

- `decode_observations`: float32 observations in [0, 1] from the compact
  `(array, scale)` form of `GroundTruthData.raw_observations_from_indices`.
- `PackedBinaryImages`: binary images stored 8 pixels a byte.
- `BatchPlan`: which indices make up batch `step` of epoch `epoch`, a pure
  function of `(seed, epoch, step)`; both input pipelines (`pipeline.py`)
  serve its batches.
"""

import threading

import numpy as np


def decode_observations(array, scale):
    """float32 observations from `raw_observations_from_indices` output."""
    if scale is None:
        return array
    x = array.astype(np.float32)
    if scale != 1:
        x *= np.float32(scale)
    return x


class PackedBinaryImages:
    """Binary images stored with `np.packbits` (8 pixels a byte).

    Indexing with an int array returns uint8 images in {0, 1}. Used for
    dSprites, whose 737,280 images take 377 MB packed instead of 3 GB.

    Args:
        packed: uint8 array `(n, H, ceil(W * C / 8))`, each row of pixels
            (channels last) packed with `np.packbits`; see `pack`.
        shape: `(n, H, W, C)` of the unpacked images.
    """

    def __init__(self, packed, shape):
        self.packed = packed
        self.shape = tuple(int(s) for s in shape)

    @classmethod
    def pack(cls, images):
        """Packs a `(n, H, W[, C])` array; any value > 0 counts as 1."""
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[..., None]
        n, h, w, c = images.shape
        flat = images.reshape(n, h, w * c) > 0
        return cls(np.packbits(flat, axis=-1), (n, h, w, c))

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, indices):
        n, h, w, c = self.shape
        bits = np.unpackbits(self.packed[indices], axis=-1, count=w * c)
        return bits.reshape((-1, h, w, c))


class BatchPlan:
    """Which indices make up batch `step` of epoch `epoch`.

    Args:
        dataset: a `GroundTruthData`.
        batch_size: images per batch.
        shuffle: sample the indices at random (else in order).
        seed: non-negative int seeding every random choice.
        paired: also serve a second independent batch.
        steps_per_epoch: batches per epoch; defaults to
            `min(num_examples // batch_size, 1000)`.
    """

    def __init__(
        self, dataset, batch_size=64, shuffle=True, seed=0, paired=False,
        steps_per_epoch=None,
    ):
        n = int(dataset.num_examples)
        if not 1 <= batch_size <= n:
            raise ValueError(
                f"batch_size must be in [1, {n}] (the dataset size); got "
                f"{batch_size}."
            )
        if steps_per_epoch is None:
            steps_per_epoch = min(n // batch_size, 1000)
        if steps_per_epoch < 1:
            raise ValueError(
                f"steps_per_epoch must be >= 1; got {steps_per_epoch}."
            )
        if not 0 <= seed < 2**32:
            raise ValueError(f"seed must be in [0, 2**32); got {seed}.")
        self.dataset = dataset
        self.num_examples = n
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.paired = bool(paired)
        self.steps_per_epoch = int(steps_per_epoch)
        self._cache = {}  # the last two epochs computed: parallel readers straddle them
        self._lock = threading.Lock()

    def __getstate__(self):
        # For worker processes: the lock cannot be pickled, the cache is waste.
        state = dict(self.__dict__)
        state["_cache"], state["_lock"] = {}, None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def epoch_indices(self, epoch):
        """Index batches of an epoch: `(streams, steps, batch_size)`."""
        with self._lock:
            if epoch not in self._cache:
                streams = 2 if self.paired else 1
                self._cache[epoch] = np.stack(
                    [self._stream(epoch, s) for s in range(streams)]
                )
                # Evict the least recently computed epochs, never this one:
                # a resumed or interleaved run may go back to an earlier one.
                for old in list(self._cache)[:-2]:
                    del self._cache[old]
            return self._cache[epoch]

    def _stream(self, epoch, stream):
        n, need = self.num_examples, self.steps_per_epoch * self.batch_size
        if self.shuffle:
            rs = np.random.RandomState([self.seed, epoch, stream])
            flat = np.concatenate(
                [rs.permutation(n) for _ in range(-(-need // n))]
            )[:need]
        else:
            start = epoch * need + stream * (n // 2)
            flat = (start + np.arange(need, dtype=np.int64)) % n
        return flat.reshape(self.steps_per_epoch, self.batch_size)

    def raw_batch(self, epoch, step):
        """`raw_observations_from_indices` of each stream of a batch.

        Returns:
            A tuple (one item, two when `paired`) of `(array, scale)`.
        """
        indices = self.epoch_indices(epoch)[:, step]
        rs = _LazyRandomState([self.seed, epoch, step])
        return tuple(
            self.dataset.raw_observations_from_indices(i, rs) for i in indices
        )

    def batch(self, epoch, step):
        """The observations of batch `step` of `epoch`: `x` or `(x, x2)`."""
        raws = self.raw_batch(epoch, step)
        xs = tuple(decode_observations(*raw) for raw in raws)
        return xs if self.paired else xs[0]


class _LazyRandomState:
    """A `RandomState` seeded on first use: seeding one costs more than
    rendering a batch of dSprites, which needs none."""

    def __init__(self, seed):
        self._seed = seed
        self._state = None

    def __getattr__(self, name):
        if self._state is None:
            self._state = np.random.RandomState(self._seed)
        return getattr(self._state, name)
