"""Host-side checks of user data, run before any training starts.

Shape and dtype are checked again inside the training step at trace time;
values (range, NaN) can only be checked here, on arrays the host can see.
"""

import numpy as np


def check_images(x, image_shape, what="images"):
    """Validates a batch of images and returns it as a float32 numpy array.

    Raises:
        ValueError: wrong rank or shape, non-float dtype, NaN or infinite
            values, or values outside [0, 1].
    """
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy() if not hasattr(x, "detach") else x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim != 1 + len(image_shape):
        raise ValueError(
            f"Expected {what} of shape (n,) + {tuple(image_shape)} (rank "
            f"{1 + len(image_shape)}); received shape {x.shape}."
        )
    if tuple(x.shape[1:]) != tuple(image_shape):
        raise ValueError(
            f"{what.capitalize()} of shape {x.shape[1:]} do not match the "
            f"model's input_shape {tuple(image_shape)}."
        )
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"{what.capitalize()} must be floats in [0, 1]; received dtype "
            f"{x.dtype}. Convert with x.astype('float32') / 255 for uint8 images."
        )
    if x.size:
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{what.capitalize()} contain NaN or infinite values.")
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                f"{what.capitalize()} must lie in [0, 1]; received values in "
                f"[{lo:g}, {hi:g}]."
            )
    return x.astype("float32", copy=False)


def _first_batch(data):
    """The first element of a tf.data.Dataset or PyDataset, else None."""
    if hasattr(data, "take") and hasattr(data, "element_spec"):
        for element in data.take(1):
            return element
        return None
    if hasattr(data, "__getitem__") and hasattr(data, "on_epoch_end"):
        try:
            return data[0]
        except IndexError:
            return None
    return None


def check_input_data(x, y, image_shape):
    """Checks what a user passes to `fit` / `evaluate` before training.

    Numpy arrays are checked in full; for a `tf.data.Dataset` or a
    `keras.utils.PyDataset`, the first batch. Generators are left alone
    (peeking would consume them); the step still checks shapes and dtypes.
    """
    if isinstance(x, np.ndarray) or isinstance(x, (list, tuple)) and x and all(
        isinstance(a, np.ndarray) for a in x
    ):
        arrays = [x] if isinstance(x, np.ndarray) else list(x)
        check_images(arrays[0], image_shape)
        if len(arrays) > 1 and arrays[1].shape[1:] == arrays[0].shape[1:]:
            check_images(arrays[1], image_shape, "second batch images")
        if isinstance(y, np.ndarray) and y.shape[1:] == tuple(image_shape):
            check_images(y, image_shape, "second batch images")
        return
    batch = _first_batch(x)
    if batch is None:
        return
    if isinstance(batch, (tuple, list)):
        parts = list(batch)
    else:
        parts = [batch]
    check_images(parts[0], image_shape)
    if len(parts) > 1 and tuple(np.shape(parts[1])[1:]) == tuple(image_shape):
        check_images(parts[1], image_shape, "second batch images")
