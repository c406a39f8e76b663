"""Image io and layout: RGB conversion, tile grids, labels, PNG and GIF files.

Model-free helpers shared by the traversals, reconstructions and plots of
`keras_factorvae.visualize`. Images are float arrays in [0, 1].
"""

import math
import os

import numpy as np

# Grey level of the background between tiles.
BACKGROUND = 0.5
# Colour (RGB in [0, 1]) of the bar that marks an inactive latent dimension.
INACTIVE_RED = (0.86, 0.1, 0.1)
# Inactive rows are multiplied by this: dimmed, still legible.
INACTIVE_DIM = 0.35


def to_rgb(images):
    """Images `(..., channels)` as three-channel float32 images.

    Args:
        images: float images; one channel is repeated, more than three keep
            the first three, two keep the first.

    Returns:
        A float32 array of the same shape with 3 channels.
    """
    images = np.asarray(images, "float32")
    if images.shape[-1] == 1:
        return np.repeat(images, 3, axis=-1)
    if images.shape[-1] == 3:
        return images
    if images.shape[-1] > 3:
        return images[..., :3]
    return np.repeat(images[..., :1], 3, axis=-1)


def make_parent_dirs(path):
    """Creates the parent directories of `path` (if it has any).

    Args:
        path: a file path.
    """
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, exist_ok=True)


def _to_uint8(array):
    return np.clip(np.asarray(array) * 255.0 + 0.5, 0, 255).astype("uint8")


def save_image(array, path):
    """Writes a float image in [0, 1] (`(h, w)`, `(h, w, 1)` or `(h, w, 3)`).

    The format follows the extension (PNG, JPEG, ...); parent directories
    are created.

    Args:
        array: float array in [0, 1].
        path: output file.

    Returns:
        `path`.
    """
    from PIL import Image

    img = _to_uint8(array)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    make_parent_dirs(path)
    Image.fromarray(img).save(path)
    return path


def save_gif(frames, path, duration=120, bounce=False):
    """Writes float RGB frames `(n, h, w, 3)` in [0, 1] as a looping GIF.

    Args:
        frames: the frames.
        path: output file (parent directories are created).
        duration: milliseconds per frame.
        bounce: also play the frames backwards (without repeating the ends).

    Returns:
        `path`.
    """
    from PIL import Image

    frames = _to_uint8(frames)
    if bounce and len(frames) > 2:
        frames = np.concatenate([frames, frames[-2:0:-1]])
    # One shared palette keeps colours steady between frames.
    first = Image.fromarray(frames[0]).quantize(colors=255)
    pictures = [first] + [
        Image.fromarray(f).quantize(palette=first) for f in frames[1:]
    ]
    make_parent_dirs(path)
    pictures[0].save(
        path, save_all=True, append_images=pictures[1:], duration=int(duration),
        loop=0, disposal=1,
    )
    return path


def tile_images(images, cols, pad=2, value=BACKGROUND):
    """Lays `(n, h, w, c)` images out on a grid of `cols` columns.

    Args:
        images: float images in [0, 1].
        cols: tiles per row; rows are `ceil(n / cols)`.
        pad: pixels between and around tiles.
        value: background grey level.

    Returns:
        A float32 RGB array `(rows * (h + pad) + pad, cols * (w + pad) + pad,
        3)`.
    """
    images = to_rgb(images)
    n, h, w, _ = images.shape
    cols = max(1, int(cols))
    rows = max(1, math.ceil(n / cols))
    grid = np.full(
        (rows * (h + pad) + pad, cols * (w + pad) + pad, 3), value, "float32"
    )
    for i in range(n):
        r, c = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top : top + h, left : left + w] = images[i]
    return grid


def _font(size):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has a single bitmap font
        return ImageFont.load_default()


def draw_labels(grid, texts, tops, height, left, colour=(1.0, 1.0, 1.0)):
    """Writes text labels into an RGB grid, one per row of tiles.

    Args:
        grid: float RGB image in [0, 1].
        texts: the labels; a label may hold newlines.
        tops: pixel row of the top of each label's tile row.
        height: tile height; the font size and vertical centring follow it.
        left: pixel column where the text starts.
        colour: RGB text colour in [0, 1].

    Returns:
        A new float32 RGB image.
    """
    from PIL import Image
    from PIL import ImageDraw

    img = Image.fromarray(_to_uint8(grid))
    draw = ImageDraw.Draw(img)
    size = int(np.clip(height // 3, 8, 14))
    font = _font(size)
    fill = tuple(int(255 * c) for c in colour)
    for text, top in zip(texts, tops):
        lines = text.split("\n")
        y = top + max(0, (height - len(lines) * (size + 2)) // 2)
        for line in lines:
            draw.text((left, y), line, fill=fill, font=font)
            y += size + 2
    return np.asarray(img, "float32") / 255.0
