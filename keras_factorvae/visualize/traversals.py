"""Latent traversals: sweep values, the traversal grid and the animated GIF.

A traversal decodes a base code with one latent dimension swept over a
range of values. Rows (or tiles of a GIF frame) are ordered by the
dimension's KL to the prior (most informative first); inactive dimensions
(KL below `inactive_kl` nats) are dimmed and marked with a red bar.
"""

import numpy as np

from keras_factorvae.visualize.images import BACKGROUND
from keras_factorvae.visualize.images import INACTIVE_DIM
from keras_factorvae.visualize.images import INACTIVE_RED
from keras_factorvae.visualize.images import draw_labels
from keras_factorvae.visualize.images import save_gif
from keras_factorvae.visualize.images import save_image
from keras_factorvae.visualize.images import tile_images
from keras_factorvae.visualize.images import to_rgb
from keras_factorvae.visualize.inference import as_images
from keras_factorvae.visualize.inference import decode
from keras_factorvae.visualize.inference import kl_to_prior
from keras_factorvae.visualize.inference import posterior_stats

MODES = ("fixed", "sigma", "minmax")

# Height of the sweep progress bar under each GIF frame.
_PROGRESS = 2


def traversal_values(
    means, mode="fixed", num_steps=9, limit=2.0, num_sigma=2.0
):
    """The values each latent dimension sweeps in a traversal.

    Args:
        means: `(n, latent_dim)` posterior means of the images (the
            aggregate posterior); unused by `mode="fixed"` except for its
            width.
        mode: `"fixed"`: `[-limit, limit]` for every dimension;
            `"sigma"`: `mean_j +- num_sigma * std_j` of the posterior means
            (a dimension that does not vary keeps a constant row);
            `"minmax"`: `[min_j, max_j]` of the posterior means.
        num_steps: values per dimension.
        limit: half-width of the `"fixed"` sweep.
        num_sigma: half-width of the `"sigma"` sweep, in standard deviations.

    Returns:
        A float32 array `(latent_dim, num_steps)`.
    """
    if mode not in MODES:
        raise ValueError(f"Unknown traversal mode {mode!r}; known: {MODES}.")
    if int(num_steps) < 1:
        raise ValueError(f"num_steps must be >= 1, received {num_steps}.")
    means = np.asarray(means, "float64")
    steps = np.linspace(0.0, 1.0, int(num_steps)) if num_steps > 1 else np.array(
        [0.5]
    )
    if mode == "fixed":
        low = np.full(means.shape[1], -float(limit))
        high = -low
    elif mode == "sigma":
        center, std = means.mean(0), means.std(0)
        low, high = center - num_sigma * std, center + num_sigma * std
    else:
        low, high = means.min(0), means.max(0)
    return (low[:, None] + (high - low)[:, None] * steps[None]).astype("float32")


def _traversal_setup(model, x, mode, num_steps, limit, num_sigma, base_index,
                     order_by_kl, inactive_kl, num_images, seed):
    """Base code, row order, KL and per-dimension sweep values."""
    x = as_images(model, x, num_images, seed)
    latent_dim = int(model.latent_dim)
    if x is None:
        # Without images there is no posterior: sweep around the prior mean.
        if mode != "fixed":
            raise ValueError(
                f"mode={mode!r} needs images (the aggregate posterior); pass "
                "`x` or use mode='fixed'."
            )
        means = np.zeros((1, latent_dim), "float32")
        base = means[0]
        kl = None
    else:
        means, logvar = posterior_stats(model, x)
        if not 0 <= base_index < len(x):
            raise ValueError(
                f"base_index={base_index} is out of range for {len(x)} images."
            )
        base = means[base_index]
        kl = kl_to_prior(means, logvar)
    if kl is not None and order_by_kl:
        # Stable sort: equal KLs keep their dimension order.
        dims = np.argsort(-kl, kind="stable")
    else:
        dims = np.arange(latent_dim)
    inactive = (
        [] if kl is None else [int(d) for d in np.flatnonzero(kl < inactive_kl)]
    )
    values = traversal_values(means, mode, num_steps, limit, num_sigma)
    return base, dims, kl, inactive, values


def _traversal_codes(base, dims, values):
    num_steps = values.shape[1]
    codes = np.repeat(base[None].astype("float32"), len(dims) * num_steps, 0)
    for r, d in enumerate(dims):
        codes[r * num_steps : (r + 1) * num_steps, d] = values[d]
    return codes


def traversal_grid(
    model,
    x=None,
    num_steps=9,
    mode="fixed",
    limit=2.0,
    num_sigma=2.0,
    base_index=0,
    order_by_kl=True,
    inactive_kl=0.1,
    labels=True,
    pad=2,
    num_images=256,
    seed=0,
    path=None,
):
    """Latent traversal: one row per latent dimension, columns sweep a range.

    The base code is the posterior mean of `x[base_index]`; row `r` decodes
    it with dimension `info["dims"][r]` replaced by `num_steps` values (see
    `traversal_values` for the three `mode`s). Rows are sorted by the
    dimension's KL to the prior averaged over `x` (most informative first).
    Dimensions whose KL is below `inactive_kl` nats are inactive: their row
    is dimmed and gets a red bar at its left edge. A label column names each
    row's dimension and KL (`labels=False` removes the text, not the bar).

    Args:
        model: a model of the zoo (`encode_stats`, `decode`, `latent_dim`).
        x: images `(n,) + image_shape` in [0, 1], or a `GroundTruthData`
            (`num_images` are sampled with `seed`), or None to sweep around
            the prior mean `z = 0` (`mode="fixed"` only; no KL, no order).
        num_steps: columns.
        mode: `"fixed"` (`[-limit, limit]`), `"sigma"` (`+- num_sigma`
            standard deviations of the encoded means around their mean) or
            `"minmax"` (range of the encoded means).
        limit: half-width of the `"fixed"` sweep.
        num_sigma: half-width of the `"sigma"` sweep.
        base_index: which image of `x` gives the base code.
        order_by_kl: sort rows by KL (else by dimension index).
        inactive_kl: KL threshold (nats) below which a dimension is inactive.
        labels: write `z<dim>` and its KL left of each row.
        pad: pixels between tiles.
        num_images: images sampled when `x` is a dataset.
        seed: seed of that sample.
        path: optional output file (PNG).

    Returns:
        `(grid, info)`: the RGB float32 image and a dict with `dims` (the
        dimension shown in each row), `kl` (per dimension, by index; None
        without images), `inactive` (sorted inactive dimension indices),
        `values` (`(latent_dim, num_steps)` sweep of each dimension, by
        index), `mode`, and the layout: `tile_shape` `(h, w)`, `row_tops`
        and `col_lefts` (pixel offsets of the tiles), so that tile `(r, c)`
        is `grid[row_tops[r]:row_tops[r]+h, col_lefts[c]:col_lefts[c]+w]`.

    Example:

    >>> grid, info = traversal_grid(model, images[:256], mode="sigma",
    ...                             path="traversal.png")
    >>> grid.shape, info["inactive"]
    ((686, 676, 3), [1, 4, 6, 8])
    """
    base, dims, kl, inactive, values = _traversal_setup(
        model, x, mode, num_steps, limit, num_sigma, base_index, order_by_kl,
        inactive_kl, num_images, seed,
    )
    num_steps = values.shape[1]
    images = to_rgb(decode(model, _traversal_codes(base, dims, values)))
    h, w = images.shape[1:3]
    inactive_set = set(inactive)
    for r, d in enumerate(dims):
        if d in inactive_set:
            images[r * num_steps : (r + 1) * num_steps] *= INACTIVE_DIM
    tiles = tile_images(images, num_steps, pad=pad)

    # Left margin: a red-bar strip (always) plus a label column (optional).
    bar = max(3, h // 16)
    label_width = 0
    if labels:
        label_width = int(np.clip(3.4 * h / 3, 40, 64)) if kl is not None else 30
    margin = bar + 1 + label_width
    grid = np.full((tiles.shape[0], margin + tiles.shape[1], 3), BACKGROUND,
                   "float32")
    grid[:, margin:] = tiles
    row_tops = [pad + r * (h + pad) for r in range(len(dims))]
    col_lefts = [margin + pad + c * (w + pad) for c in range(num_steps)]
    for r, d in enumerate(dims):
        if d in inactive_set:
            grid[row_tops[r] : row_tops[r] + h, :bar] = INACTIVE_RED
    if labels:
        texts = [
            f"z{d}" if kl is None else f"z{d}\nKL {kl[d]:.2f}" for d in dims
        ]
        grid = draw_labels(grid, texts, row_tops, h, bar + 3)
    info = {
        "dims": [int(d) for d in dims],
        "kl": None if kl is None else kl.copy(),
        "inactive": inactive,
        "values": values,
        "mode": mode,
        "inactive_kl": float(inactive_kl),
        "tile_shape": (int(h), int(w)),
        "row_tops": row_tops,
        "col_lefts": col_lefts,
    }
    if path:
        save_image(grid, path)
    return grid, info


def traversal_gif(
    model,
    x=None,
    path=None,
    num_steps=15,
    mode="fixed",
    limit=2.0,
    num_sigma=2.0,
    base_index=0,
    order_by_kl=True,
    inactive_kl=0.1,
    cols=None,
    duration=120,
    bounce=False,
    pad=2,
    num_images=256,
    seed=0,
):
    """Animated traversal: one frame per sweep value, all dims side by side.

    Frame `t` shows, for every latent dimension (ordered by KL as in
    `traversal_grid`), the base code with that dimension set to its `t`-th
    sweep value. Inactive dimensions are dimmed and get a red bar above
    their tile; a light bar under the tiles grows with `t`.

    Args:
        model, x, mode, limit, num_sigma, base_index, order_by_kl,
        inactive_kl, pad, num_images, seed: as in `traversal_grid`.
        path: optional output `.gif`.
        num_steps: frames (sweep values).
        cols: tiles per row of a frame (default: all dimensions in one row).
        duration: milliseconds per frame.
        bounce: also play the sweep backwards in the file (the returned
            array always has one frame per sweep value).

    Returns:
        `(frames, info)`: a float32 array `(num_steps, height, width, 3)` and
        the `info` dict of `traversal_grid` (without the layout keys).

    Example:

    >>> frames, info = traversal_gif(model, x, path="traversal.gif")
    >>> frames.shape
    (15, 70, 662, 3)
    """
    base, dims, kl, inactive, values = _traversal_setup(
        model, x, mode, num_steps, limit, num_sigma, base_index, order_by_kl,
        inactive_kl, num_images, seed,
    )
    num_steps = values.shape[1]
    images = to_rgb(decode(model, _traversal_codes(base, dims, values)))
    h, w = images.shape[1:3]
    # (rows, steps) -> (steps, rows): frame t holds every row's t-th image.
    images = images.reshape((len(dims), num_steps) + images.shape[1:])
    images = np.swapaxes(images, 0, 1).copy()
    cols = len(dims) if cols is None else max(1, int(cols))
    bar = max(3, h // 16)
    inactive_set = set(inactive)
    frames = []
    for t in range(num_steps):
        frame_images = images[t]
        for r, d in enumerate(dims):
            if d in inactive_set:
                frame_images[r] *= INACTIVE_DIM
        # Leave `bar` pixels above each tile for the inactive mark.
        framed = np.full((len(dims), h + bar + 1, w, 3), BACKGROUND, "float32")
        framed[:, bar + 1 :] = frame_images
        for r, d in enumerate(dims):
            if d in inactive_set:
                framed[r, :bar] = INACTIVE_RED
        frame = tile_images(framed, cols, pad=pad)
        # A progress bar along the bottom shows where the sweep is (and keeps
        # frames distinct: GIF writers merge identical consecutive frames).
        progress = np.full((_PROGRESS + 1, frame.shape[1], 3), BACKGROUND,
                           "float32")
        progress[1:, : max(1, round(frame.shape[1] * (t + 1) / num_steps))] = 0.9
        frames.append(np.concatenate([frame, progress]))
    frames = np.stack(frames)
    if path:
        save_gif(frames, path, duration, bounce)
    info = {
        "dims": [int(d) for d in dims],
        "kl": None if kl is None else kl.copy(),
        "inactive": inactive,
        "values": values,
        "mode": mode,
        "inactive_kl": float(inactive_kl),
    }
    return frames, info
