"""keras_factorvae.visualize: layouts, KL order, inactive marks, files.

A hand-made model with known posteriors makes every expectation exact: dim
`d`'s posterior mean is `SCALES[d] * pixel[d]`, so its KL to the prior is
known, and its decoder draws `sigmoid(z_d)` in pixel row `d`, so a tile
shows which dimension was swept and to what value.
"""

import numpy as np
import pytest
from PIL import Image

from keras_factorvae import visualize

SIDE = 8
SCALES = np.array([0.0, 2.0, 0.5, 1.0], "float32")  # KL order: 1, 3, 2, 0
ORDER = [1, 3, 2, 0]


class KnownModel:
    """encode_stats / encode / decode with closed-form behaviour."""

    latent_dim = len(SCALES)
    image_shape = (SIDE, SIDE, 1)

    def encode_stats(self, x):
        x = np.asarray(x, "float32").reshape(len(x), -1)
        mean = x[:, : self.latent_dim] * SCALES
        return mean, np.zeros_like(mean)

    def encode(self, x, sample=False):
        return self.encode_stats(x)[0]

    def decode(self, z):
        z = np.asarray(z, "float32")
        images = np.full((len(z), SIDE, SIDE, 1), 0.5, "float32")
        images[:, : self.latent_dim, :, 0] = (1 / (1 + np.exp(-z)))[:, :, None]
        return images


def _images(n=64, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (n, SIDE, SIDE, 1)).astype(
        "float32")


def _tile(grid, info, r, c):
    h, w = info["tile_shape"]
    top, left = info["row_tops"][r], info["col_lefts"][c]
    return grid[top : top + h, left : left + w]


def _logit(p):
    return np.log(p / (1 - p))


def test_grid_shape_is_dims_by_steps_and_png_matches(tmp_path):
    path = tmp_path / "t.png"
    grid, info = visualize.traversal_grid(KnownModel(), _images(), num_steps=7,
                                          path=path)
    h, w = info["tile_shape"]
    assert (h, w) == (SIDE, SIDE)
    assert len(info["row_tops"]) == KnownModel.latent_dim
    assert len(info["col_lefts"]) == 7
    # Tiles are evenly spaced and the grid ends one pad after the last tile.
    assert np.all(np.diff(info["row_tops"]) == h + 2)
    assert np.all(np.diff(info["col_lefts"]) == w + 2)
    assert grid.shape == (info["row_tops"][-1] + h + 2,
                          info["col_lefts"][-1] + w + 2, 3)
    assert grid.dtype == np.float32 and 0 <= grid.min() and grid.max() <= 1
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size == (grid.shape[1], grid.shape[0])


def test_rows_are_ordered_by_kl_and_sweep_their_dimension():
    x = _images()
    grid, info = visualize.traversal_grid(KnownModel(), x, num_steps=5,
                                          labels=False)
    assert info["dims"] == ORDER
    expected_kl = 0.5 * ((x.reshape(len(x), -1)[:, :4] * SCALES) ** 2).mean(0)
    np.testing.assert_allclose(info["kl"], expected_kl, rtol=1e-5)
    values = np.linspace(-2, 2, 5)
    for r, d in enumerate(info["dims"]):
        dim = 1.0 if d not in info["inactive"] else 0.35
        for c, v in enumerate(values):
            tile = _tile(grid, info, r, c)[..., 0]
            # Pixel row d shows sigmoid(value): that dimension is swept ...
            np.testing.assert_allclose(tile[d], dim / (1 + np.exp(-v)),
                                       atol=1e-5)
        # ... and the other code dims stay at the base image's code.
        others = [o for o in range(4) if o != d]
        first, last = _tile(grid, info, r, 0)[..., 0], _tile(grid, info, r, 4)[..., 0]
        np.testing.assert_allclose(first[others], last[others], atol=1e-6)


def test_order_by_index_when_asked():
    _, info = visualize.traversal_grid(KnownModel(), _images(), order_by_kl=False)
    assert info["dims"] == [0, 1, 2, 3]


def test_inactive_dims_are_dimmed_and_marked_red():
    grid, info = visualize.traversal_grid(KnownModel(), _images(), num_steps=4,
                                          inactive_kl=0.01)
    assert info["inactive"] == [0]
    h = info["tile_shape"][0]
    red = np.array([0.86, 0.1, 0.1])
    for r, d in enumerate(info["dims"]):
        top = info["row_tops"][r]
        bar = grid[top : top + h, 0]
        if d == 0:
            np.testing.assert_allclose(bar, np.tile(red, (h, 1)), atol=0.01)
            assert _tile(grid, info, r, 0).max() <= 0.35 + 1e-6
        else:
            assert not np.allclose(bar, red, atol=0.1)
            assert _tile(grid, info, r, 0).max() > 0.5
    # A higher threshold marks more dims.
    _, info = visualize.traversal_grid(KnownModel(), _images(), inactive_kl=0.1)
    assert info["inactive"] == [0, 2]


@pytest.mark.parametrize("mode", ["fixed", "sigma", "minmax"])
def test_modes_sweep_the_documented_ranges(mode):
    x = _images()
    means = KnownModel().encode(x)
    grid, info = visualize.traversal_grid(KnownModel(), x, num_steps=3,
                                          mode=mode, limit=1.5, num_sigma=2.0,
                                          labels=False)
    if mode == "fixed":
        low, high = np.full(4, -1.5), np.full(4, 1.5)
    elif mode == "sigma":
        low = means.mean(0) - 2 * means.std(0)
        high = means.mean(0) + 2 * means.std(0)
    else:
        low, high = means.min(0), means.max(0)
    np.testing.assert_allclose(info["values"][:, 0], low, atol=1e-5)
    np.testing.assert_allclose(info["values"][:, -1], high, atol=1e-5)
    # The decoded tiles show those values (active rows: not dimmed).
    r = info["dims"].index(1)
    shown = _tile(grid, info, r, 2)[1, 0, 0]
    np.testing.assert_allclose(_logit(shown), high[1], atol=1e-3)


def test_base_image_and_prior_centred_traversal():
    x = _images()
    grid, info = visualize.traversal_grid(KnownModel(), x, base_index=3,
                                          labels=False, num_steps=2)
    r = info["dims"].index(3)  # row sweeping dim 3: dim 1 keeps x[3]'s code
    base = KnownModel().encode(x[3:4])[0]
    np.testing.assert_allclose(_logit(_tile(grid, info, r, 0)[1, 0, 0]),
                               base[1], atol=1e-3)
    grid, info = visualize.traversal_grid(KnownModel(), None, num_steps=3)
    assert info["kl"] is None and info["inactive"] == []
    assert info["dims"] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="needs images"):
        visualize.traversal_grid(KnownModel(), None, mode="sigma")
    with pytest.raises(ValueError, match="Unknown traversal mode"):
        visualize.traversal_grid(KnownModel(), x, mode="range")


def test_dataset_input_is_sampled():
    from keras_factorvae.datasets import GroundTruthData

    images = (np.arange(16 * 64).reshape(16, SIDE, SIDE, 1) % 7 / 6.0).astype(
        "float32")
    factors = np.stack([np.arange(16) // 4, np.arange(16) % 4], -1)
    data = GroundTruthData.from_arrays(images, factors)
    grid_a, info_a = visualize.traversal_grid(KnownModel(), data, seed=1)
    grid_b, info_b = visualize.traversal_grid(KnownModel(), data, seed=1)
    np.testing.assert_array_equal(grid_a, grid_b)
    assert info_a["dims"] == info_b["dims"]


def test_traversal_gif_has_one_frame_per_value(tmp_path):
    path = tmp_path / "t.gif"
    frames, info = visualize.traversal_gif(KnownModel(), _images(), path=path,
                                           num_steps=6, inactive_kl=0.01)
    assert frames.shape[0] == 6 and frames.shape[-1] == 3
    # All dims side by side: 4 tiles (+ the bar strip above each) in a row.
    bar = 3
    progress = 3  # the sweep's progress bar under the tiles
    assert frames.shape[1:3] == (SIDE + bar + 1 + 4 + progress,
                                 4 * (SIDE + 2) + 2)
    lengths = (frames[:, -1, :, 0] > 0.8).sum(1)
    assert np.all(np.diff(lengths) > 0)
    with Image.open(path) as img:
        assert img.format == "GIF"
        assert img.n_frames == 6
        assert img.size == (frames.shape[2], frames.shape[1])
    # Tile r of frame t shows dim dims[r] at its t-th value; dim 0 is red-marked.
    for r, d in enumerate(info["dims"]):
        left = 2 + r * (SIDE + 2)
        top_bar = frames[0, 2, left]
        if d == 0:
            np.testing.assert_allclose(top_bar, [0.86, 0.1, 0.1], atol=0.01)
        else:
            shown = frames[-1, 2 + bar + 1 + d, left, 0]
            np.testing.assert_allclose(_logit(shown), 2.0, atol=1e-3)
    visualize.traversal_gif(KnownModel(), _images(), path=path, num_steps=6,
                            bounce=True)
    with Image.open(path) as img:
        assert img.n_frames == 10  # forwards, then backwards without the ends


def test_reconstructions_and_prior_samples(tmp_path):
    x = _images(12)
    grid = visualize.reconstructions(KnownModel(), x, cols=5,
                                     path=tmp_path / "r.png")
    # 12 images in rows of 5: 3 pairs of rows (inputs, reconstructions).
    assert grid.shape == (6 * (SIDE + 2) + 2, 5 * (SIDE + 2) + 2, 3)
    # Row 0 holds inputs, row 1 their reconstructions.
    np.testing.assert_allclose(grid[2 : 2 + SIDE, 2 : 2 + SIDE, 0],
                               np.clip(x[0, ..., 0], 0, 1) * 0 + x[0, ..., 0],
                               atol=1e-6)
    recon = KnownModel().decode(KnownModel().encode(x[:1]))[0, ..., 0]
    top = 2 + SIDE + 2
    np.testing.assert_allclose(grid[top : top + SIDE, 2 : 2 + SIDE, 0], recon,
                               atol=1e-6)
    samples = visualize.prior_samples(KnownModel(), num=10, cols=4, seed=3,
                                      path=tmp_path / "s.png")
    assert samples.shape == (3 * (SIDE + 2) + 2, 4 * (SIDE + 2) + 2, 3)
    again = visualize.prior_samples(KnownModel(), num=10, cols=4, seed=3)
    np.testing.assert_array_equal(samples, again)
    for name in ("r.png", "s.png"):
        with Image.open(tmp_path / name) as img:
            assert img.format == "PNG"


def test_plot_kl(tmp_path):
    array = visualize.plot_kl(KnownModel(), _images(), path=tmp_path / "kl.png")
    assert array.ndim == 3 and array.shape[-1] == 3
    with Image.open(tmp_path / "kl.png") as img:
        assert img.size == (array.shape[1], array.shape[0])
    # Inactive bars are red: some strongly red pixels exist.
    red = (array[..., 0] > 0.7) & (array[..., 1] < 0.3) & (array[..., 2] < 0.3)
    assert red.sum() > 10
    array = visualize.plot_kl([1.0, 2.0, 3.0], inactive_kl=0.1)
    red = (array[..., 0] > 0.7) & (array[..., 1] < 0.3) & (array[..., 2] < 0.3)
    assert red.sum() == 0
    with pytest.raises(ValueError, match="pass images"):
        visualize.plot_kl(KnownModel())


class _History:
    def __init__(self):
        self.history = {"loss": [3.0, 2.0, 1.5, 1.0], "val_mig": [0.1, 0.3]}
        self.epoch = [0, 1, 2, 3]


def test_plot_history_sources(tmp_path):
    array = visualize.plot_history(_History(), path=tmp_path / "h.png")
    assert array.shape[-1] == 3 and array.shape[1] > array.shape[0]
    with Image.open(tmp_path / "h.png") as img:
        assert img.format == "PNG"
    csv = tmp_path / "history.csv"
    csv.write_text("epoch,loss,val_mig\n0,3.0,NA\n1,2.0,0.2\n")
    data = visualize.load_history(str(csv))
    assert data["epoch"] == [1, 2] and np.isnan(data["val_mig"][0])
    assert visualize.plot_history(str(csv), ["loss", "val_mig"]).ndim == 3
    with pytest.raises(ValueError, match="Nothing to plot"):
        visualize.plot_history({"loss": [1.0]}, keys=["mig"])


def test_plot_metric_vs_gamma(tmp_path):
    rows = [{"gamma": g, "seed": s, "model": m, "mig": g / 100 + s / 10}
            for g in (10, 40, 100) for s in (0, 1) for m in ("a", "b")]
    array = visualize.plot_metric_vs_gamma(rows, group_by="model",
                                           path=tmp_path / "g.png")
    assert array.ndim == 3
    columns = {"gamma": [1.0, 2.0], "mig": [0.1, 0.2], "fvs": [0.5, 0.6]}
    one = visualize.plot_metric_vs_gamma(columns, "mig")
    two = visualize.plot_metric_vs_gamma(columns)  # both metric columns
    assert two.shape[1] > one.shape[1]
    with pytest.raises(ValueError, match="column 'beta'"):
        visualize.plot_metric_vs_gamma(rows, "mig", x="beta")


# === The Traversals callback ===


def _tiny_vae():
    import keras
    from keras import ops

    class TinyVAE(keras.Model):
        """A Keras model with the zoo's encode_stats / encode / decode."""

        latent_dim = 2
        image_shape = (SIDE, SIDE, 1)

        def __init__(self):
            super().__init__()
            self.enc = keras.layers.Dense(4)
            self.dec = keras.layers.Dense(SIDE * SIDE)

        def encode_stats(self, x):
            h = self.enc(ops.reshape(ops.convert_to_tensor(x), (-1, SIDE * SIDE)))
            return h[:, :2], h[:, 2:]

        def encode(self, x, sample=False):
            return ops.convert_to_numpy(self.encode_stats(x)[0])

        def decode(self, z):
            out = ops.sigmoid(self.dec(ops.convert_to_tensor(z, "float32")))
            return ops.convert_to_numpy(out).reshape(-1, SIDE, SIDE, 1)

        def call(self, x):
            mean, _ = self.encode_stats(x)
            return ops.reshape(ops.sigmoid(self.dec(mean)), (-1, SIDE, SIDE, 1))

    keras.utils.set_random_seed(0)
    model = TinyVAE()
    model.compile(optimizer="sgd", loss="mse")
    return model


def _binary(n=32):
    return (_images(n) > 0).astype("float32")


@pytest.mark.multibackend
def test_traversals_callback_writes_every_n_epochs(tmp_path):
    from keras_factorvae.callbacks.traversals import Traversals

    x = _binary()
    callback = Traversals(every_n_epochs=2, directory=tmp_path / "pics",
                          images=x, num_steps=5, gif=True,
                          tensorboard_log_dir=False)
    model = _tiny_vae()
    model.fit(x, x, epochs=5, batch_size=16, verbose=0, callbacks=[callback])
    names = sorted(p.name for p in (tmp_path / "pics").iterdir())
    assert names == ["traversal_epoch_002.gif", "traversal_epoch_002.png",
                     "traversal_epoch_004.gif", "traversal_epoch_004.png"]
    expected, info = visualize.traversal_grid(model, x, num_steps=5)
    with Image.open(tmp_path / "pics" / "traversal_epoch_004.png") as img:
        assert img.size == (expected.shape[1], expected.shape[0])
    with Image.open(tmp_path / "pics" / "traversal_epoch_004.gif") as img:
        assert img.n_frames == 9


def test_traversals_callback_validates_arguments():
    from keras_factorvae.callbacks.traversals import Traversals

    with pytest.raises(ValueError, match="every_n_epochs"):
        Traversals(every_n_epochs=0)
    with pytest.raises(ValueError, match="needs `images`"):
        Traversals(mode="sigma")
    with pytest.raises(ValueError, match="epoch"):
        Traversals(filename="t.png")
    with pytest.raises(ValueError, match="Unknown traversal argument"):
        Traversals(limits=3)


def test_traversals_finds_the_tensorboard_callback_of_the_same_fit(tmp_path):
    import keras

    from keras_factorvae.callbacks.traversals import Traversals

    tensorboard = keras.callbacks.TensorBoard(str(tmp_path / "logs"))
    # Only the lookup is tested here (no TensorFlow needed).
    tensorboard.on_train_begin = lambda logs=None: None
    callback = Traversals(directory=tmp_path)
    keras.callbacks.CallbackList([callback, tensorboard], model=_tiny_vae()
                                 ).on_train_begin()
    assert callback._log_dir == str(tmp_path / "logs" / "train")
    alone = Traversals(directory=tmp_path)
    keras.callbacks.CallbackList([alone], model=_tiny_vae()).on_train_begin()
    assert alone._log_dir is None
    explicit = Traversals(directory=tmp_path, tensorboard_log_dir=tmp_path / "x")
    explicit.on_train_begin()
    assert explicit._log_dir == str(tmp_path / "x")


def test_traversals_skip_tensorboard_without_tensorflow(tmp_path, monkeypatch):
    import sys

    import keras

    from keras_factorvae.callbacks import traversals

    if keras.backend.backend() == "tensorflow":
        pytest.skip("the TensorFlow backend cannot run without TensorFlow")

    # As on a machine without TensorFlow: importing it fails.
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.setattr(traversals.Traversals, "_warned_no_tensorflow", False)
    callback = traversals.Traversals(directory=tmp_path / "pics",
                                     images=_binary(),
                                     tensorboard_log_dir=tmp_path / "tb")
    callback.set_model(_tiny_vae())
    callback.on_train_begin()
    with pytest.warns(UserWarning, match="TensorFlow is not installed"):
        callback.on_epoch_end(0)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        callback.on_epoch_end(1)
    # Warned once only (other libraries' warnings, e.g. torch's numpy
    # deprecations, are not ours to count).
    assert not [w for w in caught if "TensorFlow" in str(w.message)]
    assert not (tmp_path / "tb").exists()
    assert (tmp_path / "pics" / "traversal_epoch_002.png").exists()


def test_traversals_write_tensorboard_images(tmp_path):
    tf = pytest.importorskip("tensorflow")
    import keras

    from keras_factorvae.callbacks.traversals import Traversals

    x = _binary()
    model = _tiny_vae()
    model.fit(x, x, epochs=2, batch_size=16, verbose=0, callbacks=[
        keras.callbacks.TensorBoard(str(tmp_path / "logs")),
        Traversals(images=x, num_steps=3),  # TensorBoard only
    ])
    tags = []
    for path in (tmp_path / "logs" / "train").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "images":
                    tags.append((value.tag, event.step))
    assert sorted(tags) == [("latent_traversal", 1), ("latent_traversal", 2)]
