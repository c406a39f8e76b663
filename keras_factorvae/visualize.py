"""Pictures of what a model learned: latent traversals and training curves.

Every function returns the image as a numpy array (so notebooks can show it)
and writes a PNG when given a `path`.
"""

import numpy as np


def _save_png(array, path):
    from PIL import Image

    img = np.clip(array * 255.0 + 0.5, 0, 255).astype("uint8")
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    Image.fromarray(img).save(path)


def _tile(images, rows, cols, pad=1, value=0.5):
    n, h, w, c = images.shape
    grid = np.full(
        (rows * (h + pad) + pad, cols * (w + pad) + pad, c), value, "float32"
    )
    for i in range(min(n, rows * cols)):
        r, col = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = images[i]
    return grid


def per_dimension_kl(model, x):
    """Mean KL to the prior of every latent dimension over the images `x`."""
    from keras import ops

    mean, logvar = model.encode_stats(x)
    mean, logvar = ops.convert_to_numpy(mean), ops.convert_to_numpy(logvar)
    return (0.5 * (mean**2 + np.exp(logvar) - logvar - 1)).mean(0)


def traversal_grid(
    model, x, num_steps=9, limit=2.0, path=None, order_by_kl=True,
    inactive_kl=0.01,
):
    """Latent traversal: one row per latent dimension, columns sweep a range.

    The base code is the posterior mean of `x[0]`; row `j` replaces its
    dimension `j` with `num_steps` values in `[-limit, limit]`. Rows are sorted
    by their KL to the prior (most informative first) and inactive dimensions
    (KL below `inactive_kl` nats) are dimmed.

    Args:
        model: a trained model of the zoo.
        x: images; the first is the base image, all of them estimate the KL.
        num_steps: columns per row.
        limit: half-width of the sweep, in prior standard deviations.
        path: optional PNG path.
        order_by_kl: sort rows by KL.
        inactive_kl: KL threshold marking a dimension inactive.

    Returns:
        `(grid, dims)`: the float image in [0, 1] and the row order.

    Example:

    >>> grid, dims = traversal_grid(model, images[:256], path="trav.png")
    """
    x = np.asarray(x, "float32")
    base = model.encode(x[:1])[0]
    kl = per_dimension_kl(model, x)
    dims = np.argsort(-kl) if order_by_kl else np.arange(model.latent_dim)
    values = np.linspace(-limit, limit, num_steps, dtype="float32")
    codes = np.repeat(base[None], len(dims) * num_steps, 0)
    for r, d in enumerate(dims):
        codes[r * num_steps : (r + 1) * num_steps, d] = values
    images = model.decode(codes)
    for r, d in enumerate(dims):
        if kl[d] < inactive_kl:
            images[r * num_steps : (r + 1) * num_steps] *= 0.35
    grid = _tile(images, len(dims), num_steps)
    if path:
        _save_png(grid, path)
    return grid, dims


def reconstructions(model, x, path=None):
    """Inputs (top row) above their reconstructions (bottom row)."""
    x = np.asarray(x, "float32")
    recon = model.decode(model.encode(x))
    grid = _tile(np.concatenate([x, recon]), 2, len(x))
    if path:
        _save_png(grid, path)
    return grid


def plot_history(history, path, keys=None):
    """Training curves of a `History` (or its dict), one panel per key."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = getattr(history, "history", history)
    keys = keys or [k for k in hist if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8))
    for ax, key in zip(np.atleast_1d(axes), keys):
        ax.plot(np.arange(1, len(hist[key]) + 1), hist[key])
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
