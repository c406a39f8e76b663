"""Procedural dSprites and the colour / noise variants of Locatello et al."""

import numpy as np

from keras_factorvae.datasets import sprite_renderer
from keras_factorvae.datasets.batch_plan import decode_observations
from keras_factorvae.datasets.ground_truth import GroundTruthData

SHAPE_NAMES = ("square", "ellipse", "heart")


class DSprites(GroundTruthData):
    """dSprites (Matthey et al. 2017), rendered on demand.

    The original factor grid and order: shape (square, ellipse, heart), scale
    (6 values in linspace(0.5, 1)), orientation (40 values in
    linspace(0, 2 pi), both ends included), posX and posY (32 values each in
    linspace(0, 1)); 737,280 binary 64 x 64 x 1 images, index
    `((((shape * 6 + scale) * 40 + orientation) * 32 + posX) * 32 + posY`
    (posY fastest), as in `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`.

    The images are drawn by `sprite_renderer` (see its docstring for the
    geometry: white shape on black, centre moving over pixels 8.75..55.25 as
    pos goes 0..1, x = column, y = row, posY = 0 at the top, square 18 px wide
    at scale 1). Rendering is deterministic and exact (base sprites shifted by
    whole pixels), needs no download, and any batch of indices renders in
    microseconds per image; `materialize` renders the whole set in seconds.
    The observation model is deterministic: `random_state` is unused.

    Args:
        sprite_size: side in pixels of the square at scale 1.

    Example:

    ```python
    data = DSprites()
    rs = np.random.RandomState(0)
    factors, images = data.sample(64, rs)   # images: (64, 64, 64, 1) float32
    sweep = data.factors_to_index([[2, 5, 0, x, 16] for x in range(32)])
    hearts = data.observations_from_indices(sweep)
    ```
    """

    def __init__(self, sprite_size=18.0):
        self.sprite_size = float(sprite_size)
        self._renderer = None

    def __getstate__(self):
        # Pickle (e.g. to worker processes) without the renderer: its window
        # view would be copied out at 25 GB. Workers rebuild it on first use.
        state = dict(self.__dict__)
        state["_renderer"] = None
        return state

    @property
    def renderer(self):
        # Built lazily (about a second) and shared between instances.
        if self._renderer is None:
            self._renderer = sprite_renderer.get_renderer(self.sprite_size)
        return self._renderer

    @property
    def factors_num_values(self):
        return [
            sprite_renderer.NUM_SHAPES,
            sprite_renderer.NUM_SCALES,
            sprite_renderer.NUM_ORIENTATIONS,
            sprite_renderer.NUM_POSITIONS,
            sprite_renderer.NUM_POSITIONS,
        ]

    @property
    def factor_names(self):
        return ("shape", "scale", "orientation", "posX", "posY")

    @property
    def factor_values(self):
        """The value of every class of every factor, as in the original file."""
        return [
            np.arange(1.0, 4.0),
            sprite_renderer.SCALES,
            sprite_renderer.ORIENTATIONS,
            sprite_renderer.POSITIONS,
            sprite_renderer.POSITIONS,
        ]

    @property
    def observation_shape(self):
        return (64, 64, 1)

    def render(self, indices):
        """uint8 `(n, 64, 64)` binary images (0 or 1) of the given indices."""
        return self.renderer.render(self._check_indices(indices))

    def sample_observations_from_factors(self, factors, random_state):
        return self.observations_from_indices(
            self.factors_to_index(factors), random_state
        )

    def sample_indices_from_factors(self, factors, random_state):
        # The observation model is deterministic: random_state is not drawn.
        return self.factors_to_index(factors)

    def observations_from_indices(self, indices, random_state=None):
        return decode_observations(
            *self.raw_observations_from_indices(indices, random_state)
        )

    def raw_observations_from_indices(self, indices, random_state=None):
        return self.render(indices)[..., None], 1.0

    def materialize(self, packed=True, chunk_size=16384):
        """Renders all 737,280 images, chunk by chunk.

        Args:
            packed: if True, returns `np.packbits(images, axis=-1)`, a uint8
                array `(737280, 64, 8)` (377 MB; `np.unpackbits(x, axis=-1)`
                restores the images); else uint8 `(737280, 64, 64)` in {0, 1}
                (3 GB), the layout of the original file's `imgs`.
            chunk_size: images rendered at a time.

        Returns:
            The uint8 array described above, in index order.
        """
        n = self.num_examples
        out = np.empty((n, 64, 8 if packed else 64), np.uint8)
        for start in range(0, n, chunk_size):
            stop = min(start + chunk_size, n)
            images = self.renderer.render(np.arange(start, stop))
            out[start:stop] = np.packbits(images, axis=-1) if packed else images
        return out


class ColorDSprites(DSprites):
    """dSprites with the sprite tinted by a random RGB colour (64 x 64 x 3).

    As in disentanglement_lib (Locatello et al. 2019): each observation is
    the binary image times a colour drawn from
    `random_state.uniform(0.5, 1, (n, 1, 1, 3))`, so the same `random_state`
    gives the same colours there and here. The factors are those of
    `DSprites`; the colour is noise, not a factor. `random_state=None`
    means `RandomState(0)`.
    """

    @property
    def observation_shape(self):
        return (64, 64, 3)

    sample_indices_from_factors = GroundTruthData.sample_indices_from_factors

    def raw_observations_from_indices(self, indices, random_state=None):
        binary = self.render(indices)
        random_state = random_state or np.random.RandomState(0)
        color = random_state.uniform(0.5, 1, (len(binary), 3))
        color = color.astype(np.float32)[:, None, None, :]
        out = np.empty(binary.shape + (3,), np.float32)
        # One channel at a time: broadcasting over a last axis of 3 is slow.
        for c in range(3):
            np.multiply(binary, color[..., c], out=out[..., c])
        return out, None


class NoisyDSprites(DSprites):
    """dSprites, white sprite on a uniform-noise background (64 x 64 x 3).

    As in disentanglement_lib: `min(image + noise, 1)`, every background
    pixel and channel independent uniform noise in [0, 1].

    Args:
        sprite_size: as in `DSprites`.
        float_noise: if True, draws the noise exactly as disentanglement_lib
            (`random_state.uniform(0, 1, (n, 64, 64, 3))`, float64), so the
            same `random_state` gives the same observations there and here;
            this is several times slower. By default the noise has 8 bits:
            uniform over {0, 1/255, ..., 1}, as if stored as a uint8 image.
    """

    def __init__(self, sprite_size=18.0, float_noise=False):
        super().__init__(sprite_size)
        self.float_noise = bool(float_noise)

    @property
    def observation_shape(self):
        return (64, 64, 3)

    sample_indices_from_factors = GroundTruthData.sample_indices_from_factors

    def raw_observations_from_indices(self, indices, random_state=None):
        binary = self.render(indices)
        random_state = random_state or np.random.RandomState(0)
        shape = binary.shape + (3,)
        if self.float_noise:
            noise = random_state.uniform(0, 1, shape)
            x = np.minimum(binary[..., None] + noise, 1)
            return x.astype(np.float32), None
        noise = random_state.randint(0, 256, shape, dtype=np.uint8)
        noise.reshape(-1, 3)[np.flatnonzero(binary)] = 255
        return noise, 1.0 / 255.0
