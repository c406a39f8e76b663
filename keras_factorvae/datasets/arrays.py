"""Ground-truth datasets backed by in-memory arrays of labelled images."""

import numpy as np

from keras_factorvae.datasets.ground_truth import GroundTruthData
from keras_factorvae.datasets.ground_truth import decode_observations


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


class ArrayGroundTruthData(GroundTruthData):
    """A `GroundTruthData` over a user's own labelled images.

    Observations for a factor vector are looked up among the images carrying
    exactly those factors; when several match, one is picked at random with
    the `random_state` (the first one when a method takes no
    `random_state`). When the factor grid is incomplete, `sample_factors`
    draws the factor vectors of random images (so they always exist) instead
    of drawing each factor independently, and the methods that look up a
    missing combination raise a `ValueError` that names it.

    Indices of the canonical order (`num_examples`, `index_to_factors`,
    `observations_from_indices`) are row numbers of the arrays.

    Args:
        images: `(n, H, W)` or `(n, H, W, C)` array: uint8 (scaled by 1/255),
            bool, or float already in [0, 1]; or a `PackedBinaryImages`.
        factors: `(n, k)` integer array of class indices (>= 0).
        factor_names: optional sequence of `k` names.
        factors_num_values: optional number of values per factor; defaults to
            `factors.max(axis=0) + 1`.

    Example:

    ```python
    images = np.random.randint(0, 256, (12, 8, 8, 3), dtype="uint8")
    factors = np.stack(np.unravel_index(np.arange(12), (3, 4)), axis=-1)
    data = GroundTruthData.from_arrays(images, factors, ["colour", "size"])
    rs = np.random.RandomState(0)
    x = data.sample_observations_from_factors([[2, 3]], rs)
    ```
    """

    def __init__(
        self, images, factors, factor_names=None, factors_num_values=None
    ):
        self._images, self._scale = _check_images(images)
        n = len(self._images)
        factors = np.asarray(factors)
        if factors.ndim == 1:
            factors = factors[:, None]
        if factors.ndim != 2:
            raise ValueError(
                "`factors` must have shape (num_images, num_factors); got "
                f"shape {factors.shape}."
            )
        if factors.dtype.kind not in "iu":
            raise ValueError(
                "`factors` must be integer class indices; got dtype "
                f"{factors.dtype}. Map continuous values to classes first, "
                "e.g. with `np.unique(values, return_inverse=True)`."
            )
        if len(factors) != n:
            raise ValueError(
                f"`images` and `factors` must have the same length; got {n} "
                f"images and {len(factors)} factor rows."
            )
        if n == 0:
            raise ValueError("Need at least one image.")
        if factors.min() < 0:
            raise ValueError("`factors` must be >= 0 (class indices).")
        self._factors = factors.astype(np.int64)
        k = factors.shape[1]

        observed = self._factors.max(axis=0) + 1
        if factors_num_values is None:
            factors_num_values = observed
        factors_num_values = [int(v) for v in factors_num_values]
        if len(factors_num_values) != k or np.any(
            np.asarray(factors_num_values) < observed
        ):
            raise ValueError(
                f"`factors_num_values` must list {k} sizes, each larger than "
                f"the largest class index {observed - 1}; got "
                f"{factors_num_values}."
            )
        self._num_values = factors_num_values

        if factor_names is None:
            factor_names = [f"factor_{i}" for i in range(k)]
        factor_names = tuple(str(name) for name in factor_names)
        if len(factor_names) != k:
            raise ValueError(
                f"Got {len(factor_names)} factor names for {k} factors."
            )
        self._factor_names = factor_names

        # Sorted factor keys: lookups by factors are two binary searches.
        keys = np.ravel_multi_index(tuple(self._factors.T), self._num_values)
        self._order = np.argsort(keys, kind="stable")
        self._sorted_keys = keys[self._order]
        self._num_combinations = int(
            np.count_nonzero(np.diff(self._sorted_keys)) + 1
        )

    @property
    def factors_num_values(self):
        return list(self._num_values)

    @property
    def factor_names(self):
        return self._factor_names

    @property
    def observation_shape(self):
        return tuple(self._images.shape[1:])

    @property
    def num_examples(self):
        return len(self._images)

    @property
    def factors(self):
        """The `(n, k)` int64 factors of the rows."""
        return self._factors

    @property
    def is_complete_grid(self):
        """Whether every combination of factor values has an image."""
        return self._num_combinations == int(np.prod(self._num_values))

    def sample_factors(self, num, random_state):
        if self.is_complete_grid:
            return super().sample_factors(num, random_state)
        return self._factors[random_state.randint(self.num_examples, size=num)]

    def sample_observations_from_factors(self, factors, random_state):
        return self._get(self._rows(factors, random_state))

    def sample_indices_from_factors(self, factors, random_state):
        return self._rows(factors, random_state)

    def index_to_factors(self, indices):
        return self._factors[self._check_indices(indices)]

    def factors_to_index(self, factors, random_state=None):
        """Row of an image with the given factors, for each factor vector.

        Args:
            factors: int array-like `(n, num_factors)`.
            random_state: optional `RandomState` choosing among several
                matching rows; `None` takes the first matching row.
        """
        return self._rows(factors, random_state)

    def observations_from_indices(self, indices, random_state=None):
        return self._get(self._check_indices(indices))

    def raw_observations_from_indices(self, indices, random_state=None):
        return self._images[self._check_indices(indices)], self._scale

    def _get(self, rows):
        return decode_observations(self._images[rows], self._scale)

    def _rows(self, factors, random_state):
        factors = self.check_factors(factors)
        keys = np.ravel_multi_index(tuple(factors.T), self._num_values)
        first = np.searchsorted(self._sorted_keys, keys, side="left")
        count = np.searchsorted(self._sorted_keys, keys, side="right") - first
        missing = np.flatnonzero(count == 0)
        if missing.size:
            combo = dict(zip(self.factor_names, factors[missing[0]].tolist()))
            raise ValueError(
                f"No image has the factors {combo} ({missing.size} of the "
                f"{len(keys)} requested factor vectors have no image). The "
                f"factor grid is incomplete: {self._num_combinations} of "
                f"{int(np.prod(self._num_values))} combinations are present."
            )
        if random_state is not None:
            first = first + random_state.randint(0, count)
        return self._order[first]


def _check_images(images):
    """Returns `(array, scale)`; scale None means already float32 in [0, 1]."""
    if isinstance(images, PackedBinaryImages):
        return images, 1.0
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            "`images` must have shape (n, H, W) or (n, H, W, C); got shape "
            f"{images.shape}."
        )
    if images.dtype == np.uint8:
        return images, 1.0 / 255.0
    if images.dtype == bool:
        return images.view(np.uint8), 1.0
    if images.dtype.kind == "f":
        in_range = np.isfinite(images).all() and (
            images.min() >= 0 and images.max() <= 1
        )
        if images.size and not in_range:
            raise ValueError(
                "Float `images` must lie in [0, 1]; got values in "
                f"[{images.min()}, {images.max()}]."
            )
        return images.astype(np.float32, copy=False), None
    raise ValueError(
        f"`images` must be uint8 (0..255), bool or float in [0, 1]; got "
        f"dtype {images.dtype}."
    )
