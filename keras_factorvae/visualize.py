"""Pictures of what a model learned: latent traversals, reconstructions,
prior samples, per-dimension KL and training / sweep curves.

Every function returns its picture as a float32 numpy array in [0, 1] of
shape `(height, width, 3)` (a GIF: `(frames, height, width, 3)`), so that
notebooks can show it with `plt.imshow`, and writes a file when given a
`path` (PNG, or any format Pillow knows from the extension; GIF for
`traversal_gif`). Plots are drawn with matplotlib's object API on an Agg
canvas: the pyplot state and the notebook's backend are left alone.

Images are laid out as tiles on a grey background. In a traversal, one row
per latent dimension, ordered by the dimension's KL to the prior (most
informative first); inactive dimensions (KL below `inactive_kl` nats) are
dimmed and get a red bar at their left edge.

Example:

```python
import keras_factorvae as kfv

data = kfv.datasets.load("dsprites")
x = data.sample_observations(256, np.random.RandomState(0))
grid, info = kfv.visualize.traversal_grid(model, x, mode="sigma",
                                          path="traversal.png")
info["inactive"]            # e.g. [2, 5, 7]: dims with KL < 0.1 nats
kfv.visualize.traversal_gif(model, x, path="traversal.gif")
kfv.visualize.plot_kl(model, x, path="kl.png")
```
"""

import math
import os

import numpy as np

MODES = ("fixed", "sigma", "minmax")

# Colours (RGB in [0, 1]).
_BACKGROUND = 0.5
_RED = (0.86, 0.1, 0.1)
# Inactive rows are multiplied by this (dimmed, still legible).
_DIM = 0.35
# Height of the sweep progress bar under each GIF frame.
_PROGRESS = 2


# === Helpers ===


def _to_rgb(images):
    images = np.asarray(images, "float32")
    if images.shape[-1] == 1:
        return np.repeat(images, 3, axis=-1)
    if images.shape[-1] == 3:
        return images
    # Other channel counts (e.g. 2 or 4): show the first three / the first.
    if images.shape[-1] > 3:
        return images[..., :3]
    return np.repeat(images[..., :1], 3, axis=-1)


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

    img = np.clip(np.asarray(array) * 255.0 + 0.5, 0, 255).astype("uint8")
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    _makedirs_for(path)
    Image.fromarray(img).save(path)
    return path


def _makedirs_for(path):
    parent = os.path.dirname(os.fspath(path))
    if parent:
        os.makedirs(parent, exist_ok=True)


def tile_images(images, cols, pad=2, value=_BACKGROUND):
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
    images = _to_rgb(images)
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


def _as_images(model, x, num_images=256, seed=0):
    """Images from an array or a `GroundTruthData` (sampled with `seed`)."""
    if x is None:
        return None
    if hasattr(x, "sample_observations"):
        x = x.sample_observations(int(num_images), np.random.RandomState(seed))
    x = np.asarray(x, "float32")
    if x.ndim == 3 and len(model.image_shape) == 3 and model.image_shape[-1] == 1:
        x = x[..., None]
    if x.ndim != 4 or len(x) == 0:
        raise ValueError(
            "Expected a non-empty batch of images of shape (n,) + "
            f"{tuple(model.image_shape)}; received shape {x.shape}."
        )
    return x


def _bucket(n, batch_size):
    """Padded batch length: few distinct shapes, so JAX compiles few times."""
    if n >= batch_size:
        return batch_size
    return min(batch_size, max(32, 1 << max(0, int(n - 1).bit_length())))


def _padded_batches(x, batch_size):
    """Yields `(padded batch, true length)`; pads by repeating the last row."""
    for start in range(0, len(x), batch_size):
        chunk = x[start : start + batch_size]
        size = _bucket(len(chunk), batch_size)
        if size > len(chunk):
            pad = np.repeat(chunk[-1:], size - len(chunk), axis=0)
            chunk = np.concatenate([chunk, pad])
        yield chunk, min(batch_size, len(x) - start)


def decode(model, z, batch_size=256):
    """`model.decode(z)` on padded batches (see `posterior_stats`).

    Args:
        model: a model of the zoo.
        z: codes `(n, latent_dim)`.
        batch_size: codes per decoder call.

    Returns:
        float32 images `(n,) + image_shape` in [0, 1].
    """
    z = np.asarray(z, "float32")
    out = [np.asarray(model.decode(chunk))[:n]
           for chunk, n in _padded_batches(z, batch_size)]
    return np.concatenate(out).astype("float32")


def posterior_stats(model, x, batch_size=256):
    """Posterior means and log-variances of images, as numpy arrays.

    Args:
        model: a model of the zoo (anything with `encode_stats`).
        x: float images in [0, 1].
        batch_size: images per encoder call.

    Returns:
        `(mean, logvar)`, each `(n, latent_dim)`.
    """
    from keras import ops

    x = np.asarray(x, "float32")
    means, logvars = [], []
    # Padded to a few batch lengths: under JAX every new input shape of an
    # eager call compiles the network again.
    for chunk, n in _padded_batches(x, batch_size):
        mean, logvar = model.encode_stats(chunk)
        means.append(ops.convert_to_numpy(mean)[:n])
        logvars.append(ops.convert_to_numpy(logvar)[:n])
    return np.concatenate(means), np.concatenate(logvars)


def per_dimension_kl(model, x, batch_size=256):
    """Mean KL divergence (nats) to N(0, 1) of every latent dimension.

    Args:
        model: a model of the zoo.
        x: float images in [0, 1]; the KL is averaged over them.
        batch_size: images per encoder call.

    Returns:
        A float64 array `(latent_dim,)`; their sum is the model's `kl_loss`.

    Example:

    >>> per_dimension_kl(model, x).round(2)
    array([2.31, 0.  , 1.72, ...])
    """
    mean, logvar = posterior_stats(model, x, batch_size)
    mean, logvar = mean.astype("float64"), logvar.astype("float64")
    return (0.5 * (mean**2 + np.exp(logvar) - logvar - 1.0)).mean(0)


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


def _font(size):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has a single bitmap font
        return ImageFont.load_default()


def _draw_labels(grid, texts, tops, height, left, colour=(1.0, 1.0, 1.0)):
    """Writes `texts[i]` (may hold newlines) at rows `tops[i]` of the grid."""
    from PIL import Image
    from PIL import ImageDraw

    img = Image.fromarray(np.clip(grid * 255 + 0.5, 0, 255).astype("uint8"))
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


# === Traversals ===


def _traversal_setup(model, x, mode, num_steps, limit, num_sigma, base_index,
                     order_by_kl, inactive_kl, num_images, seed):
    """Base code, row order, KL and per-dimension sweep values."""
    x = _as_images(model, x, num_images, seed)
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
        m, lv = means.astype("float64"), logvar.astype("float64")
        kl = (0.5 * (m**2 + np.exp(lv) - lv - 1.0)).mean(0)
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
    images = _to_rgb(decode(model, _traversal_codes(base, dims, values)))
    h, w = images.shape[1:3]
    inactive_set = set(inactive)
    for r, d in enumerate(dims):
        if d in inactive_set:
            images[r * num_steps : (r + 1) * num_steps] *= _DIM
    tiles = tile_images(images, num_steps, pad=pad)

    # Left margin: a red-bar strip (always) plus a label column (optional).
    bar = max(3, h // 16)
    label_width = 0
    if labels:
        label_width = int(np.clip(3.4 * h / 3, 40, 64)) if kl is not None else 30
    margin = bar + 1 + label_width
    grid = np.full((tiles.shape[0], margin + tiles.shape[1], 3), _BACKGROUND,
                   "float32")
    grid[:, margin:] = tiles
    row_tops = [pad + r * (h + pad) for r in range(len(dims))]
    col_lefts = [margin + pad + c * (w + pad) for c in range(num_steps)]
    for r, d in enumerate(dims):
        if d in inactive_set:
            grid[row_tops[r] : row_tops[r] + h, :bar] = _RED
    if labels:
        texts = [
            f"z{d}" if kl is None else f"z{d}\nKL {kl[d]:.2f}" for d in dims
        ]
        grid = _draw_labels(grid, texts, row_tops, h, bar + 3)
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
    images = _to_rgb(decode(model, _traversal_codes(base, dims, values)))
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
                frame_images[r] *= _DIM
        # Leave `bar` pixels above each tile for the inactive mark.
        framed = np.full((len(dims), h + bar + 1, w, 3), _BACKGROUND, "float32")
        framed[:, bar + 1 :] = frame_images
        for r, d in enumerate(dims):
            if d in inactive_set:
                framed[r, :bar] = _RED
        frame = tile_images(framed, cols, pad=pad)
        # A progress bar along the bottom shows where the sweep is (and keeps
        # frames distinct: GIF writers merge identical consecutive frames).
        progress = np.full((_PROGRESS + 1, frame.shape[1], 3), _BACKGROUND,
                           "float32")
        progress[1:, : max(1, round(frame.shape[1] * (t + 1) / num_steps))] = 0.9
        frames.append(np.concatenate([frame, progress]))
    frames = np.stack(frames)
    if path:
        _save_gif(frames, path, duration, bounce)
    info = {
        "dims": [int(d) for d in dims],
        "kl": None if kl is None else kl.copy(),
        "inactive": inactive,
        "values": values,
        "mode": mode,
        "inactive_kl": float(inactive_kl),
    }
    return frames, info


def _save_gif(frames, path, duration=120, bounce=False):
    from PIL import Image

    frames = np.clip(frames * 255.0 + 0.5, 0, 255).astype("uint8")
    if bounce and len(frames) > 2:
        frames = np.concatenate([frames, frames[-2:0:-1]])
    # One shared palette keeps colours steady between frames.
    first = Image.fromarray(frames[0]).quantize(colors=255)
    pictures = [first] + [
        Image.fromarray(f).quantize(palette=first) for f in frames[1:]
    ]
    _makedirs_for(path)
    pictures[0].save(
        path, save_all=True, append_images=pictures[1:], duration=int(duration),
        loop=0, disposal=1,
    )
    return path


# === Reconstructions and samples ===


def reconstructions(model, x, cols=None, sample=False, pad=2, path=None):
    """Input images above their reconstructions.

    Rows alternate: a row of inputs, then the row of their reconstructions
    (the decoded posterior means, or samples with `sample=True`).

    Args:
        model: a model of the zoo.
        x: float images in [0, 1] (e.g. 8 to 16 of them).
        cols: images per row pair (default: `min(len(x), 10)`).
        sample: decode reparameterised samples instead of the means.
        pad: pixels between tiles.
        path: optional output file.

    Returns:
        The RGB float32 grid.

    Example:

    >>> grid = reconstructions(model, x[:8], path="reconstructions.png")
    """
    x = _as_images(model, x)
    if sample:
        recon = decode(model, model.encode(x, sample=True))
    else:
        recon = decode(model, posterior_stats(model, x)[0])
    cols = min(len(x), 10) if cols is None else max(1, int(cols))
    pairs = []
    for start in range(0, len(x), cols):
        chunk = [x[start : start + cols], recon[start : start + cols]]
        for part in chunk:
            filler = np.full(
                (cols - len(part),) + part.shape[1:], _BACKGROUND, "float32"
            )
            pairs.append(np.concatenate([part, filler]))
    grid = tile_images(np.concatenate(pairs), cols, pad=pad)
    if path:
        save_image(grid, path)
    return grid


def prior_samples(model, num=16, cols=8, seed=0, temperature=1.0, pad=2,
                  path=None):
    """Images decoded from codes drawn from the prior N(0, I).

    Args:
        model: a model of the zoo.
        num: number of samples.
        cols: tiles per row.
        seed: seed of the codes (numpy `RandomState`).
        temperature: standard deviation of the codes.
        pad: pixels between tiles.
        path: optional output file.

    Returns:
        The RGB float32 grid.

    Example:

    >>> grid = prior_samples(model, num=32, path="samples.png")
    """
    z = np.random.RandomState(seed).normal(
        0.0, float(temperature), (int(num), int(model.latent_dim))
    )
    grid = tile_images(decode(model, z), cols, pad=pad)
    if path:
        save_image(grid, path)
    return grid


# === Plots ===


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _no_offset(ax):
    # "+2.839e3" offsets collide with the panel title: write full numbers.
    try:
        ax.ticklabel_format(axis="y", useOffset=False)
    except AttributeError:  # not a ScalarFormatter (e.g. log scale)
        pass


def _figure_array(fig, path=None):
    fig.tight_layout()
    fig.canvas.draw()
    array = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype("float32")
    array /= 255.0
    if path:
        save_image(array, path)
    return array


def plot_kl(model_or_kl, x=None, inactive_kl=0.1, sort=False, title=None,
            path=None):
    """Bar chart of the KL divergence to the prior of each latent dimension.

    Inactive dimensions (KL below `inactive_kl`) are drawn in red; the
    threshold is a dashed line.

    Args:
        model_or_kl: a model (then `x` is required) or a per-dimension KL
            array (e.g. `traversal_grid(...)[1]["kl"]`).
        x: images or a `GroundTruthData` to average the KL over.
        inactive_kl: threshold in nats.
        sort: order bars by decreasing KL (else by dimension).
        title: plot title.
        path: optional output file.

    Returns:
        The rendered RGB float32 image.

    Example:

    >>> plot_kl(model, x, path="kl.png")
    """
    if hasattr(model_or_kl, "encode_stats"):
        if x is None:
            raise ValueError("plot_kl(model, x): pass images `x` for a model.")
        kl = per_dimension_kl(model_or_kl, _as_images(model_or_kl, x))
    else:
        kl = np.asarray(model_or_kl, "float64").reshape(-1)
    dims = np.argsort(-kl, kind="stable") if sort else np.arange(len(kl))
    fig = _figure(max(3.5, 0.45 * len(kl) + 1.5), 3.0)
    ax = fig.add_subplot(1, 1, 1)
    colours = ["#d81b1b" if kl[d] < inactive_kl else "#1f77b4" for d in dims]
    ax.bar(np.arange(len(dims)), kl[dims], color=colours)
    ax.axhline(inactive_kl, color="0.4", linestyle="--", linewidth=1)
    ax.set_xticks(np.arange(len(dims)))
    ax.set_xticklabels([f"z{d}" for d in dims], fontsize=8)
    ax.set_ylabel("KL to prior (nats)")
    n_inactive = int((kl < inactive_kl).sum())
    ax.set_title(
        title or f"Per-dimension KL ({n_inactive} of {len(kl)} inactive "
        f"< {inactive_kl:g}, red)", fontsize=9,
    )
    return _figure_array(fig, path)


def load_history(source):
    """A history as a dict `{key: list of floats}`.

    Args:
        source: a `keras.callbacks.History`, a dict of lists, or the path of a
            `CSVLogger` CSV or a JSON dict (as written by
            `keras-factorvae train`). Missing values become NaN.

    Returns:
        Dict of lists; `"epoch"` (1-based) is included when known.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path.endswith(".json"):
            import json

            with open(path) as f:
                data = json.load(f)
        else:
            import csv

            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
            data = {}
            for row in rows:
                for key, value in row.items():
                    data.setdefault(key, []).append(_float(value))
            if "epoch" in data:  # CSVLogger counts from 0
                data["epoch"] = [e + 1 for e in data["epoch"]]
        return {k: [_float(v) for v in vals] for k, vals in data.items()}
    history = getattr(source, "history", source)
    data = {k: [_float(v) for v in vals] for k, vals in dict(history).items()}
    epochs = getattr(source, "epoch", None)
    if epochs and "epoch" not in data:
        data["epoch"] = [int(e) + 1 for e in epochs]
    return data


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def plot_history(history, keys=None, path=None, cols=4, title=None):
    """Metric-vs-epoch plots: one panel per logged key.

    Args:
        history: a `keras.callbacks.History`, a dict of lists, or a CSV / JSON
            path (see `load_history`).
        keys: keys to plot (default: every key but `epoch`). Keys missing
            from the history are skipped. A key logged on fewer epochs
            than the others (e.g. a `DisentanglementMetrics` score every `n`
            epochs, in a `History`) is drawn at epochs `n, 2n, ...`.
        path: optional output file.
        cols: panels per row.
        title: optional figure title.

    Returns:
        The rendered RGB float32 image.

    Example:

    >>> history = model.fit(ds, epochs=10, callbacks=[metrics_callback])
    >>> plot_history(history, ["loss", "val_discrete_mig"], path="curves.png")
    """
    data = load_history(history)
    epochs = data.get("epoch")
    if isinstance(keys, str):
        keys = [keys]
    keys = [k for k in (keys or data) if k in data and k != "epoch"]
    if not keys:
        raise ValueError(
            f"Nothing to plot: the history has keys {sorted(data)}."
        )
    num_epochs = max(len(data[k]) for k in keys)
    if not epochs or len(epochs) != num_epochs:
        epochs = list(range(1, num_epochs + 1))
    cols = max(1, min(int(cols), len(keys)))
    rows = math.ceil(len(keys) / cols)
    fig = _figure(3.0 * cols, 2.4 * rows + (0.3 if title else 0))
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        values = np.asarray(data[key], "float64")
        if len(values) == num_epochs:
            xs = np.asarray(epochs)
        else:  # logged every `every` epochs
            every = max(1, num_epochs // max(1, len(values)))
            xs = np.asarray(epochs)[every - 1 :: every][: len(values)]
        ok = np.isfinite(values)
        ax.plot(xs[ok], values[ok], marker="o" if ok.sum() <= 30 else None,
                markersize=3)
        _no_offset(ax)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    return _figure_array(fig, path)


def _records(results):
    """A table (list of dicts, dict of lists or DataFrame) as a list of dicts."""
    if hasattr(results, "to_dict"):  # pandas.DataFrame
        return results.to_dict("records")
    if isinstance(results, dict):
        lengths = {len(v) for v in results.values()}
        if len(lengths) != 1:
            raise ValueError("A dict of columns needs columns of equal length.")
        n = lengths.pop()
        return [{k: v[i] for k, v in results.items()} for i in range(n)]
    return [dict(r) for r in results]


def plot_metric_vs_gamma(results, metrics=None, x="gamma", group_by=None,
                         logx=None, path=None, cols=3, title=None):
    """Metrics against a hyper-parameter (default `gamma`), one panel each.

    Every run is a dot; the line joins the mean over runs (e.g. seeds) of
    each `x` value, with a band of +- one standard deviation. `group_by`
    draws one line per group (e.g. per model).

    Args:
        results: list of dicts (one per run), dict of columns, or a pandas
            DataFrame; each row has `x` and the metric keys.
        metrics: keys to plot (default: every numeric key except `x`,
            `group_by` and `seed`).
        x: the hyper-parameter column.
        group_by: optional column splitting the runs into lines.
        logx: logarithmic x axis (default: when all `x` > 0 and they span
            more than a factor 20).
        path: optional output file.
        cols: panels per row.
        title: optional figure title.

    Returns:
        The rendered RGB float32 image.

    Example:

    >>> runs = [{"gamma": g, "seed": s, "mig.discrete_mig": ...} ...]
    >>> plot_metric_vs_gamma(runs, ["mig.discrete_mig"], path="sweep.png")
    """
    rows_ = _records(results)
    if not rows_:
        raise ValueError("No results to plot.")
    if any(x not in r for r in rows_):
        raise ValueError(f"Every result needs the column {x!r}.")
    skip = {x, group_by, "seed"}
    if metrics is None:
        metrics = [
            k for k in rows_[0]
            if k not in skip and isinstance(rows_[0][k], (int, float, np.number))
            and not isinstance(rows_[0][k], bool)
        ]
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("No metric columns to plot.")
    xs_all = np.asarray([float(r[x]) for r in rows_])
    if logx is None:
        logx = bool(np.all(xs_all > 0) and xs_all.max() / xs_all.min() > 20)
    groups = {}
    for r in rows_:
        groups.setdefault(r.get(group_by) if group_by else None, []).append(r)
    cols = max(1, min(int(cols), len(metrics)))
    nrows = math.ceil(len(metrics) / cols)
    fig = _figure(3.3 * cols, 2.6 * nrows + (0.3 if title else 0))
    for i, metric in enumerate(metrics):
        ax = fig.add_subplot(nrows, cols, i + 1)
        for name, runs in groups.items():
            xs = np.asarray([float(r[x]) for r in runs])
            ys = np.asarray([_float(r.get(metric)) for r in runs])
            ok = np.isfinite(ys)
            points = ax.scatter(xs[ok], ys[ok], s=12, alpha=0.6,
                                label=None if name is None else str(name))
            uniq = np.unique(xs[ok])
            if len(uniq):
                mean = np.array([ys[ok][xs[ok] == u].mean() for u in uniq])
                std = np.array([ys[ok][xs[ok] == u].std() for u in uniq])
                colour = points.get_facecolor()[0]
                ax.plot(uniq, mean, color=colour)
                ax.fill_between(uniq, mean - std, mean + std, color=colour,
                                alpha=0.15)
        if logx:
            ax.set_xscale("log")
        _no_offset(ax)
        ax.set_xlabel(x, fontsize=8)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if group_by and i == 0:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return _figure_array(fig, path)
