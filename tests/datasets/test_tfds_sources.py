"""tensorflow-datasets sources, offline with `tfds.testing.mock_data`."""

import socket
import time

import numpy as np
import pytest

from keras_factorvae.datasets import load
from keras_factorvae.datasets import tfds_sources

pytestmark = pytest.mark.multibackend
tfds = pytest.importorskip("tensorflow_datasets")

EXPECTED = {
    "dsprites": (("shape", "scale", "orientation", "posX", "posY"), [3, 6, 40, 32, 32]),
    "shapes3d": (
        ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation"),
        [10, 10, 10, 8, 4, 15],
    ),
    "smallnorb": (("category", "instance", "elevation", "azimuth", "lighting"), [5, 10, 9, 18, 6]),
}


@pytest.fixture
def mock_tfds(monkeypatch):
    # mock_data never downloads; skip the connectivity check in front of it.
    monkeypatch.setattr(tfds_sources, "network_available", lambda *a, **k: True)
    with tfds.testing.mock_data(num_examples=20):
        yield


def read_directly(name):
    builder = tfds.builder(name)
    return next(iter(tfds.as_numpy(builder.as_dataset(split="train", batch_size=20))))


@pytest.mark.parametrize("name", ["dsprites", "shapes3d", "smallnorb"])
def test_labels_become_factors(mock_tfds, name):
    data = load(name, source="tfds")
    raw = read_directly(name)
    names, sizes = EXPECTED[name]
    assert data.factor_names == names and data.factors_num_values == sizes
    labels = [k for k in tfds_sources.TFDS_FACTORS[name]]
    np.testing.assert_array_equal(data.factors, np.stack([raw[k] for k in labels], 1))
    assert data.num_examples == 20
    rs = np.random.RandomState(0)
    x = data.sample_observations_from_factors(data.factors[:4], rs)
    assert x.dtype == np.float32 and x.min() >= 0 and x.max() <= 1


def test_dsprites_pixels_become_binary(mock_tfds):
    data = load("dsprites", source="tfds")
    raw = read_directly("dsprites")["image"]
    assert raw.max() > 1  # mock pixels are 0..254, real ones 0/1
    x = data.observations_from_indices(np.arange(20))
    assert x.shape == (20, 64, 64, 1)
    np.testing.assert_array_equal(x, (raw > 0).astype(np.float32))


def test_shapes3d_pixels_are_scaled(mock_tfds):
    data = load("shapes3d")  # tfds is the only source of shapes3d
    raw = read_directly("shapes3d")["image"]
    np.testing.assert_allclose(
        data.observations_from_indices(np.arange(20)), raw / 255.0, rtol=1e-6
    )


def test_smallnorb_is_resized_to_64_unless_asked(mock_tfds):
    assert tuple(load("smallnorb").observation_shape) == (64, 64, 1)
    full = load("smallnorb", image_size=None)
    assert tuple(full.observation_shape) == (96, 96, 1)
    raw = read_directly("smallnorb")["image"]
    np.testing.assert_allclose(full.observations_from_indices([3])[0], raw[3] / 255.0, rtol=1e-6)


def test_offline_fails_fast_with_instructions(monkeypatch, tmp_path):
    monkeypatch.setattr(tfds_sources, "network_available", lambda *a, **k: False)
    start = time.monotonic()
    with pytest.raises(tfds_sources.DataUnavailableError) as info:
        load("dsprites", source="tfds", data_dir=str(tmp_path))
    assert time.monotonic() - start < 20
    message = str(info.value)
    assert str(tmp_path) in message and "download_and_prepare" in message
    assert "cannot be reached" in message and "load('dsprites')" in message


def test_download_false_does_not_touch_the_network(monkeypatch, tmp_path):
    def forbidden(*args, **kwargs):
        raise AssertionError("network checked")

    monkeypatch.setattr(tfds_sources, "network_available", forbidden)
    with pytest.raises(tfds_sources.DataUnavailableError, match="download=False"):
        load("shapes3d", data_dir=str(tmp_path), download=False)


def test_network_check_respects_its_timeout():
    # A server that accepts connections and never answers.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        start = time.monotonic()
        assert not tfds_sources.network_available("127.0.0.1", port, timeout=0.5)
        assert time.monotonic() - start < 1.5
    # Nobody listening: refused at once.
    assert not tfds_sources.network_available("127.0.0.1", port, timeout=5)
    assert time.monotonic() - start < 3
