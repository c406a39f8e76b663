"""Vectorised, exact rasteriser of the dSprites images.

Geometry (the original generator drew vector shapes with Love2D on a canvas of
normalised size and its constants were never published, see
github.com/google-deepmind/dsprites-dataset issue 2; these were chosen to look
like the real images):

- Image coordinates: x = column, y = row (downwards), pixel `(r, c)` covers
  `[c, c + 1) x [r, r + 1)`; white (1) shape on black (0).
- The sprite centre is at `8.75 + 46.5 * pos` pixels on each axis, so it moves
  over pixels 8.75..55.25 in steps of exactly 1.5 px as posX / posY go 0..1
  (posY = 0 is the top row, as on Love2D's y-down canvas).
- At scale 1 the square is `sprite_size` (default 18) pixels wide, the ellipse
  has axes 1.2 and 0.6 times that (long axis along x at orientation 0), and the
  heart, the curve `(x^2 + y^2 - 1)^3 = x^2 y^3` upright, is 1.1 times as wide.
  Shapes rotate about their bounding-box centre, by `orientation` radians,
  clockwise on screen. Large rotated sprites near the border are clipped.
- Pixels are on when at least half of a `supersample x supersample` grid of
  sample points inside them falls in the shape (anti-alias, then threshold).

Exactness: the samples are aligned to the pixel grid, so translating a sprite
by whole pixels translates its raster exactly. A centre moves by 1.5 px a
step, so only two sub-pixel phases per axis exist: the 3 * 6 * 40 * 2 * 2 =
2,880 distinct base sprites are rasterised once, pasted in a padded canvas,
and every image is a 64 x 64 window of one of them, gathered with one fancy
index (no Python loop per image).
"""

import functools

import numpy as np

IMAGE_SIZE = 64
NUM_SHAPES, NUM_SCALES, NUM_ORIENTATIONS, NUM_POSITIONS = 3, 6, 40, 32
SCALES = np.linspace(0.5, 1.0, NUM_SCALES)
ORIENTATIONS = np.linspace(0.0, 2 * np.pi, NUM_ORIENTATIONS)
POSITIONS = np.linspace(0.0, 1.0, NUM_POSITIONS)
CENTRE_START = 8.75  # pixels, centre at pos = 0
CENTRE_STEP = 1.5  # pixels per position step: 46.5 px over the 31 steps

ELLIPSE_AXES = (1.2, 0.6)  # full axes, in units of sprite_size
HEART_WIDTH = 1.1  # in units of sprite_size
# Bounding box of the implicit heart: x in [-1.139, 1.139], y in [-1, 1.236].
_HEART_HALF_WIDTH = 1.139
_HEART_Y_MID = 0.118

# Integer part of each centre, and the window offset that puts it in place.
_CENTRE_FLOOR = np.floor(CENTRE_START + CENTRE_STEP * np.arange(NUM_POSITIONS))
_CENTRE_PHASE = (CENTRE_START + CENTRE_STEP * np.arange(2)) % 1.0  # .75, .25
_MAX_FLOOR = int(_CENTRE_FLOOR.max())
_WINDOW_OFFSET = (_MAX_FLOOR - _CENTRE_FLOOR).astype(np.intp)
_CANVAS_SIZE = IMAGE_SIZE + _MAX_FLOOR - int(_CENTRE_FLOOR.min())


def inside_shape(shape, u, v, size):
    """Whether sprite-local points `(u, v)` (x right, y down) lie in a shape.

    Args:
        shape: 0 square, 1 ellipse, 2 heart.
        u, v: arrays of coordinates relative to the sprite centre, in pixels.
        size: square side in pixels (sprite_size * scale).
    """
    if shape == 0:
        return np.maximum(np.abs(u), np.abs(v)) <= size / 2
    if shape == 1:
        a, b = ELLIPSE_AXES[0] * size / 2, ELLIPSE_AXES[1] * size / 2
        return (u / a) ** 2 + (v / b) ** 2 <= 1
    if shape == 2:
        unit = HEART_WIDTH * size / (2 * _HEART_HALF_WIDTH)
        x = u / unit
        y = _HEART_Y_MID - v / unit  # the heart's y axis points up
        r = x * x + y * y - 1
        return r * r * r - x * x * y * y * y <= 0
    raise ValueError(f"Unknown shape {shape}.")


class SpriteRenderer:
    """Renders dSprites images from their indices in the original order.

    Args:
        sprite_size: side in pixels of the square at scale 1.
        supersample: sample points per pixel along each axis.
    """

    def __init__(self, sprite_size=18.0, supersample=4):
        if not 0 < sprite_size <= 40:
            raise ValueError(
                f"sprite_size must be in (0, 40]; got {sprite_size}."
            )
        self.sprite_size = float(sprite_size)
        self.supersample = int(supersample)
        self._canvas = self._build_canvas()
        # windows[b, sy, sx] is the 64 x 64 image of base sprite b shifted.
        self._windows = np.lib.stride_tricks.sliding_window_view(
            self._canvas, (IMAGE_SIZE, IMAGE_SIZE), axis=(1, 2)
        )

    def _base_sprites(self, shape, scale):
        """Rasters `(orientation, phase_y, phase_x, P, P)` of a shape, scale."""
        ss = self.supersample
        patch = 2 * int(np.ceil(self.sprite_size)) + 2
        # Sample points of the patch, relative to the centre of pixel patch/2.
        offsets = ((np.arange(patch * ss) + 0.5) / ss - patch // 2).astype(
            np.float32
        )
        # float32 keeps the build fast; rounding makes 2*pi the same raster as
        # 0 and keeps the result identical across CPUs' sin/cos variants.
        theta = ORIENTATIONS[:, None, None, None, None]
        cos = np.round(np.cos(theta), 12).astype(np.float32)
        sin = np.round(np.sin(theta), 12).astype(np.float32)
        phase = _CENTRE_PHASE.astype(np.float32)
        dy = offsets[None, None, None, :, None] - phase[:, None, None, None]
        dx = offsets[None, None, None, None, :] - phase[:, None, None]
        u = dx * cos + dy * sin
        v = dy * cos - dx * sin
        hit = inside_shape(shape, u, v, self.sprite_size * scale)
        hits = hit.reshape(hit.shape[:3] + (patch, ss, patch, ss)).sum(
            axis=(4, 6)
        )
        return (2 * hits >= ss * ss).astype(np.uint8)

    def _build_canvas(self):
        patch = 2 * int(np.ceil(self.sprite_size)) + 2
        n = NUM_SHAPES * NUM_SCALES * NUM_ORIENTATIONS * 4
        canvas = np.zeros((n, _CANVAS_SIZE, _CANVAS_SIZE), np.uint8)
        canvas = canvas.reshape(
            NUM_SHAPES, NUM_SCALES, NUM_ORIENTATIONS, 2, 2,
            _CANVAS_SIZE, _CANVAS_SIZE,
        )
        top = _MAX_FLOOR - patch // 2
        for shape in range(NUM_SHAPES):
            for i, scale in enumerate(SCALES):
                canvas[shape, i, ..., top : top + patch, top : top + patch] = (
                    self._base_sprites(shape, scale)
                )
        return canvas.reshape(n, _CANVAS_SIZE, _CANVAS_SIZE)

    def render(self, indices):
        """uint8 `(n, 64, 64)` images in {0, 1} for int `indices`.

        The index is that of the original file: posY varies fastest, shape
        slowest (`((((shape * 6 + scale) * 40 + orientation) * 32 + posX)
        * 32 + posY`).
        """
        indices = np.asarray(indices, dtype=np.int64)
        pos_y = indices % NUM_POSITIONS
        pos_x = (indices // NUM_POSITIONS) % NUM_POSITIONS
        base = (indices // NUM_POSITIONS**2) * 4 + (pos_y % 2) * 2 + pos_x % 2
        return self._windows[base, _WINDOW_OFFSET[pos_y], _WINDOW_OFFSET[pos_x]]


@functools.lru_cache(maxsize=4)
def get_renderer(sprite_size=18.0, supersample=4):
    """A shared `SpriteRenderer` (building one takes about a second)."""
    return SpriteRenderer(sprite_size, supersample)
