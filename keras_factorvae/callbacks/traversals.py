"""Keras callback writing latent traversal pictures during training."""

import os
import sys
import warnings

import keras
import numpy as np

from keras_factorvae import visualize


class Traversals(keras.callbacks.Callback):
    """Writes a latent traversal picture every `every_n_epochs` epochs.

    Each picture is `keras_factorvae.visualize.traversal_grid` of the current
    model (rows ordered by KL, inactive dimensions dimmed with a red bar),
    written as `directory/filename.format(epoch=...)` (1-based epoch, e.g.
    `traversal_epoch_003.png`) and, when TensorBoard logging is on, as an
    image summary named `name` at step `epoch`.

    TensorBoard: with `tensorboard_log_dir=None` the callback looks for a
    `keras.callbacks.TensorBoard` among the callbacks of the same `fit` and
    writes into its `log_dir/train` run (next to the training scalars).
    Keras gives a callback no reference to its siblings, so at
    `on_train_begin` the callback walks up the call stack (a few frames) to
    the `keras.callbacks.CallbackList` that is calling it and searches its
    `callbacks`. Pass `tensorboard_log_dir="path"` to choose the directory
    yourself, or `tensorboard_log_dir=False` to never write summaries. The
    summaries are written with `tf.summary.image`, so they need TensorFlow
    (any Keras backend); without it they are skipped with a one-time
    warning. TensorFlow is imported only when a summary is written.

    Args:
        every_n_epochs: write after epochs `n, 2n, ...` (1-based).
        directory: where to write the pictures (created); None writes none.
        images: the images to encode (base image and KL estimate): an array
            `(n,) + image_shape` in [0, 1], a `GroundTruthData` (`num_images`
            are sampled once, with `seed`), or None to sweep around the prior
            mean (`mode="fixed"`, rows in index order).
        num_images: images sampled from a dataset.
        num_steps: columns of the traversal.
        mode: `"fixed"`, `"sigma"` or `"minmax"` (see `traversal_grid`).
        filename: file name template with an `{epoch}` field; its extension
            chooses the format.
        gif: also write an animated `traversal_gif` next to each picture.
        tensorboard_log_dir: see above.
        name: tag of the TensorBoard image summary.
        seed: seed of the image sample.
        **traversal_kwargs: more `traversal_grid` arguments (`limit`,
            `num_sigma`, `inactive_kl`, `base_index`, `labels`...).

    Example:

    ```python
    model.fit(train, epochs=20, callbacks=[
        keras.callbacks.TensorBoard("logs"),
        kfv.callbacks.Traversals(every_n_epochs=2, directory="pictures",
                                 images=data, mode="sigma"),
    ])
    # pictures/traversal_epoch_002.png, ... and an image tab in TensorBoard
    ```
    """

    # Logged once per process, not once per callback instance.
    _warned_no_tensorflow = False

    def __init__(
        self,
        every_n_epochs=1,
        directory=None,
        images=None,
        num_images=256,
        num_steps=9,
        mode="fixed",
        filename="traversal_epoch_{epoch:03d}.png",
        gif=False,
        tensorboard_log_dir=None,
        name="latent_traversal",
        seed=0,
        **traversal_kwargs,
    ):
        super().__init__()
        if int(every_n_epochs) < 1:
            raise ValueError(
                f"every_n_epochs must be >= 1, received {every_n_epochs}."
            )
        if mode not in visualize.MODES:
            raise ValueError(
                f"Unknown traversal mode {mode!r}; known: {visualize.MODES}."
            )
        if images is None and mode != "fixed":
            raise ValueError(
                f"mode={mode!r} needs `images` (an array or a dataset)."
            )
        if "{epoch" not in filename:
            raise ValueError(
                "`filename` needs an `{epoch}` field, e.g. "
                f"'traversal_epoch_{{epoch:03d}}.png'; received {filename!r}."
            )
        unknown = set(traversal_kwargs) - {
            "limit", "num_sigma", "base_index", "order_by_kl", "inactive_kl",
            "labels", "pad",
        }
        if unknown:
            raise ValueError(f"Unknown traversal argument(s) {sorted(unknown)}.")
        self.every_n_epochs = int(every_n_epochs)
        self.directory = None if directory is None else os.fspath(directory)
        self.num_images = int(num_images)
        self.num_steps = int(num_steps)
        self.mode = mode
        self.filename = filename
        self.gif = bool(gif)
        self.tensorboard_log_dir = tensorboard_log_dir
        self.name = name
        self.seed = seed
        self.traversal_kwargs = traversal_kwargs
        if images is not None and hasattr(images, "sample_observations"):
            # Sampled once: every epoch shows the same base image.
            images = images.sample_observations(
                self.num_images, np.random.RandomState(seed)
            )
        self.images = None if images is None else np.asarray(images, "float32")
        self.written = []  # paths written so far
        self._log_dir = None
        self._writer = None

    # === TensorBoard ===

    def _find_tensorboard(self):
        """The TensorBoard callback of the CallbackList calling us, or None."""
        frame = sys._getframe(1)
        for _ in range(12):
            if frame is None:
                break
            owner = frame.f_locals.get("self")
            if isinstance(owner, keras.callbacks.CallbackList):
                for callback in owner.callbacks:
                    if isinstance(callback, keras.callbacks.TensorBoard):
                        return callback
                return None
            frame = frame.f_back
        return None

    def _resolve_log_dir(self):
        if self.tensorboard_log_dir is False:
            return None
        if self.tensorboard_log_dir:
            return os.fspath(self.tensorboard_log_dir)
        tensorboard = self._find_tensorboard()
        if tensorboard is None:
            return None
        return os.path.join(tensorboard.log_dir, "train")

    def _write_summary(self, grid, step):
        if self._log_dir is None:
            return
        try:
            import tensorflow as tf
        except ImportError:
            if not Traversals._warned_no_tensorflow:
                warnings.warn(
                    "Traversals: TensorFlow is not installed, so traversal "
                    "images are not written to TensorBoard (the PNG files "
                    "still are).",
                    stacklevel=2,
                )
                Traversals._warned_no_tensorflow = True
            self._log_dir = None
            return
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self._log_dir)
        with self._writer.as_default():
            tf.summary.image(self.name, grid[None], step=step)
        self._writer.flush()

    # === Callback hooks ===

    def on_train_begin(self, logs=None):
        self._log_dir = self._resolve_log_dir()
        if self.directory is None and self._log_dir is None:
            warnings.warn(
                "Traversals has neither a `directory` nor a TensorBoard log "
                "directory: it will write nothing.",
                stacklevel=2,
            )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        self.write(epoch + 1)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def write(self, epoch):
        """Draws the current model's traversal and writes it for `epoch`.

        Returns:
            The grid (float32 RGB array).
        """
        path = None
        if self.directory is not None:
            os.makedirs(self.directory, exist_ok=True)
            path = os.path.join(self.directory, self.filename.format(epoch=epoch))
        grid, _ = visualize.traversal_grid(
            self.model, self.images, num_steps=self.num_steps, mode=self.mode,
            path=path, **self.traversal_kwargs,
        )
        if path:
            self.written.append(path)
            if self.gif:
                gif_path = os.path.splitext(path)[0] + ".gif"
                gif_kwargs = {
                    k: v for k, v in self.traversal_kwargs.items()
                    if k not in ("labels",)
                }
                visualize.traversal_gif(
                    self.model, self.images, path=gif_path,
                    num_steps=max(self.num_steps, 9), mode=self.mode,
                    **gif_kwargs,
                )
                self.written.append(gif_path)
        self._write_summary(grid, epoch)
        return grid
