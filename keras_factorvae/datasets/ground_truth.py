"""The `GroundTruthData` interface shared by every dataset of the zoo."""

import numpy as np


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
        from keras_factorvae.datasets.arrays import ArrayGroundTruthData

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


def decode_observations(array, scale):
    """float32 observations from `raw_observations_from_indices` output."""
    if scale is None:
        return array
    x = array.astype(np.float32)
    if scale != 1:
        x *= np.float32(scale)
    return x
