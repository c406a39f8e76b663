"""The `GroundTruthData` interface of the zoo, and `ArrayGroundTruthData`.

`ArrayGroundTruthData` (a user's labelled images) lives beside the base class
so that `GroundTruthData.from_arrays` needs no import; `arrays.py` re-exports
it. `decode_observations` is re-exported from `batch_plan`.
"""

import numpy as np

from keras_factorvae.datasets.batch_plan import PackedBinaryImages
from keras_factorvae.datasets.batch_plan import decode_observations


class GroundTruthData:
    """Base class for datasets generated from discrete ground-truth factors.

    The interface is that of google-research `disentanglement_lib`
    (`num_factors`, `factors_num_values`, `observation_shape`,
    `sample_factors`, `sample_observations_from_factors`, `sample`), so
    metrics and datasets written for that library plug in unchanged. Every
    `random_state` is a `numpy.random.RandomState`.

    On top of it, datasets expose a canonical order of their examples:
    `num_examples`, `index_to_factors` and `factors_to_index`, and
    `observations_from_indices`, which the input pipelines use. The default
    order is the full factor grid with the last factor varying fastest
    (`np.ravel_multi_index`); datasets backed by arrays use their row order.

    Observations are float32 arrays in [0, 1] of shape `(n, H, W, C)`;
    factors are int64 class indices of shape `(n, num_factors)`.

    Subclasses implement `factors_num_values`, `observation_shape` and
    `sample_observations_from_factors`, and may override `factor_names` and
    `observations_from_indices` (e.g. to render straight from indices).

    Example:

    ```python
    data = keras_factorvae.datasets.DSprites()
    rs = np.random.RandomState(0)
    factors, x = data.sample(16, rs)      # (16, 5) int64, (16, 64, 64, 1)
    same = data.sample_observations_from_factors(factors, rs)
    ```
    """

    @property
    def factors_num_values(self):
        """List with the number of values of each factor."""
        raise NotImplementedError

    @property
    def observation_shape(self):
        """Shape `(H, W, C)` of one observation."""
        raise NotImplementedError

    @property
    def factor_names(self):
        """Tuple of factor names, `("factor_0", ...)` unless overridden."""
        return tuple(f"factor_{i}" for i in range(self.num_factors))

    @property
    def num_factors(self):
        return len(self.factors_num_values)

    @property
    def num_examples(self):
        """Number of distinct examples in the canonical order."""
        return int(np.prod(self.factors_num_values, dtype=np.int64))

    def sample_factors(self, num, random_state):
        """Samples `num` factor vectors, each factor uniform and independent.

        Draws column by column with `random_state.randint`, as
        disentanglement_lib does, so a given `random_state` yields the same
        factors there and here.

        Args:
            num: number of factor vectors.
            random_state: `numpy.random.RandomState`.

        Returns:
            int64 array of shape `(num, num_factors)`.
        """
        factors = np.zeros((num, self.num_factors), dtype=np.int64)
        for i, size in enumerate(self.factors_num_values):
            factors[:, i] = random_state.randint(size, size=num)
        return factors

    def sample_observations_from_factors(self, factors, random_state):
        """Samples one observation for each row of `factors`.

        Args:
            factors: int array of shape `(n, num_factors)`.
            random_state: `numpy.random.RandomState`, for the datasets whose
                observations are random given the factors.

        Returns:
            float32 array of shape `(n,) + observation_shape` in [0, 1].
        """
        raise NotImplementedError

    def sample_indices_from_factors(self, factors, random_state):
        """Indices of the observations `sample_observations_from_factors` gives.

        For datasets whose every observation is a stored (or rendered) example
        of the canonical order: returns the index of the example that
        `sample_observations_from_factors(factors, random_state)` would return
        for each row, drawing from `random_state` exactly as it does, so the
        metrics can look codes up by index (`metrics.code_table`). Datasets
        whose observations are random given the example (colour, noise) do
        not have this and raise `NotImplementedError`.

        Returns:
            int64 array of shape `(n,)`.
        """
        raise NotImplementedError(
            f"{type(self).__name__} observations are not indexed examples."
        )

    def sample(self, num, random_state):
        """Samples `num` factor vectors and their observations.

        Returns:
            Tuple `(factors, observations)`.
        """
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(
            factors, random_state
        )

    def sample_observations(self, num, random_state):
        """Samples `num` observations (factors drawn uniformly)."""
        return self.sample(num, random_state)[1]

    def index_to_factors(self, indices):
        """Maps indices of the canonical order to factor vectors.

        Args:
            indices: int array-like of shape `(n,)`.

        Returns:
            int64 array of shape `(n, num_factors)`.
        """
        indices = self._check_indices(indices)
        return np.stack(
            np.unravel_index(indices, self.factors_num_values), axis=-1
        ).astype(np.int64)

    def factors_to_index(self, factors):
        """Maps factor vectors to indices of the canonical order.

        Args:
            factors: int array-like of shape `(n, num_factors)`.

        Returns:
            int64 array of shape `(n,)`.
        """
        factors = self.check_factors(factors)
        return np.ravel_multi_index(
            tuple(factors.T), self.factors_num_values
        ).astype(np.int64)

    def observations_from_indices(self, indices, random_state=None):
        """Observations of the examples at `indices` of the canonical order.

        Args:
            indices: int array-like of shape `(n,)`.
            random_state: `numpy.random.RandomState` for random observation
                models (colour tint, noise...); `None` uses
                `RandomState(0)`, so repeated calls agree.

        Returns:
            float32 array of shape `(n,) + observation_shape` in [0, 1].
        """
        if random_state is None:
            random_state = np.random.RandomState(0)
        return self.sample_observations_from_factors(
            self.index_to_factors(indices), random_state
        )

    def raw_observations_from_indices(self, indices, random_state=None):
        """`observations_from_indices` before the conversion to float32.

        Pipelines move the compact form (e.g. uint8) and convert late: in
        TensorFlow for `as_dataset`. The observations are
        `decode_observations(array, scale)`.

        Returns:
            `(array, scale)`: a uint8 array and the float factor that maps it
            to [0, 1], or a float32 array and `None`.
        """
        return self.observations_from_indices(indices, random_state), None

    def check_factors(self, factors):
        """Validates a factor batch; returns it as an int64 `(n, k)` array."""
        factors = np.asarray(factors)
        if factors.ndim != 2 or factors.shape[1] != self.num_factors:
            raise ValueError(
                f"Expected factors of shape (n, {self.num_factors}) for "
                f"factors {self.factor_names}; got shape {factors.shape}."
            )
        if factors.dtype.kind not in "iu":
            if factors.dtype.kind != "f" or not np.all(
                factors == np.round(factors)
            ):
                raise ValueError(
                    "Factors must be integer class indices; got dtype "
                    f"{factors.dtype}."
                )
        factors = factors.astype(np.int64)
        sizes = np.asarray(self.factors_num_values)
        bad = (factors < 0) | (factors >= sizes)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(
                f"Factor {self.factor_names[col]!r} must lie in "
                f"[0, {sizes[col]}); got {factors[row, col]} (row {row})."
            )
        return factors

    def _check_indices(self, indices):
        indices = np.asarray(indices)
        if indices.dtype.kind not in "iu":
            raise ValueError(f"Indices must be integers; got {indices.dtype}.")
        indices = indices.astype(np.int64).reshape(-1)
        if indices.size and (
            indices.min() < 0 or indices.max() >= self.num_examples
        ):
            raise IndexError(
                f"Indices must lie in [0, {self.num_examples}); got "
                f"[{indices.min()}, {indices.max()}]."
            )
        return indices

    # Input pipelines (thin wrappers, see `pipeline.py`).

    def as_dataset(
        self, batch_size=64, shuffle=True, seed=0, paired=False, repeat=True,
        steps_per_epoch=None,
    ):
        """A `tf.data.Dataset` of batches; see `pipeline.as_dataset`."""
        from keras_factorvae.datasets import pipeline

        return pipeline.as_dataset(
            self, batch_size=batch_size, shuffle=shuffle, seed=seed,
            paired=paired, repeat=repeat, steps_per_epoch=steps_per_epoch,
        )

    def as_py_dataset(
        self, batch_size=64, shuffle=True, seed=0, paired=False, repeat=True,
        steps_per_epoch=None, **kwargs,
    ):
        """A `keras.utils.PyDataset`; see `pipeline.as_py_dataset`."""
        from keras_factorvae.datasets import pipeline

        return pipeline.as_py_dataset(
            self, batch_size=batch_size, shuffle=shuffle, seed=seed,
            paired=paired, repeat=repeat, steps_per_epoch=steps_per_epoch,
            **kwargs,
        )

    @classmethod
    def from_arrays(
        cls, images, factors, factor_names=None, factors_num_values=None
    ):
        """Wraps a user's labelled images; see `ArrayGroundTruthData`."""
        return ArrayGroundTruthData(
            images, factors, factor_names=factor_names,
            factors_num_values=factors_num_values,
        )

    def __repr__(self):
        sizes = dict(zip(self.factor_names, self.factors_num_values))
        return (
            f"{type(self).__name__}(factors={sizes}, "
            f"observation_shape={tuple(self.observation_shape)})"
        )


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
