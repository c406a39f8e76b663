"""tf.data and PyDataset pipelines, fed to Keras on every backend."""

import keras
import numpy as np
import pytest

from keras_factorvae.datasets import ColorDSprites
from keras_factorvae.datasets import DSprites
from keras_factorvae.datasets import GroundTruthData
from keras_factorvae.datasets import NoisyDSprites
from keras_factorvae.datasets import as_dataset
from keras_factorvae.datasets import as_py_dataset
from keras_factorvae.datasets import benchmark_pipeline

pytestmark = pytest.mark.multibackend


def uint8_data():
    rs = np.random.RandomState(0)
    images = rs.randint(0, 256, (40, 8, 8, 3)).astype(np.uint8)
    return GroundTruthData.from_arrays(images, np.arange(40)[:, None])


def test_py_dataset_batches():
    ds = DSprites().as_py_dataset(batch_size=8, seed=1, steps_per_epoch=3)
    assert isinstance(ds, keras.utils.PyDataset) and len(ds) == 3
    x = ds[2]
    assert x.shape == (8, 64, 64, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(ds[2], x)
    with pytest.raises(IndexError):
        ds[3]
    ds.on_epoch_end()
    assert not np.array_equal(ds[2], x)  # next epoch, new indices


def test_py_dataset_without_repeat_serves_the_same_epoch():
    ds = as_py_dataset(DSprites(), batch_size=8, repeat=False, steps_per_epoch=2)
    x = ds[0]
    ds.on_epoch_end()
    np.testing.assert_array_equal(ds[0], x)


def test_paired_py_dataset_yields_two_batches():
    x, x2 = as_py_dataset(ColorDSprites(), batch_size=4, paired=True)[0]
    assert x.shape == x2.shape == (4, 64, 64, 3)
    assert not np.array_equal(x, x2)


@pytest.mark.parametrize(
    "data", [DSprites(), ColorDSprites(), NoisyDSprites(), uint8_data()],
    ids=["dsprites", "color", "noisy", "uint8_arrays"],
)
def test_tf_and_py_pipelines_serve_identical_batches(data):
    tf = pytest.importorskip("tensorflow")
    kwargs = dict(batch_size=4, seed=2, paired=True, steps_per_epoch=2)
    py_ds = as_py_dataset(data, **kwargs)
    tf_batches = list(as_dataset(data, **kwargs).take(3))  # crosses an epoch
    expected = [py_ds[0], py_ds[1]]
    py_ds.on_epoch_end()
    expected.append(py_ds[0])
    for (x, x2), (y, y2) in zip(tf_batches, expected):
        assert x.dtype == tf.float32 and tuple(x.shape) == y.shape
        np.testing.assert_array_equal(x.numpy(), y)
        np.testing.assert_array_equal(x2.numpy(), y2)


def test_tf_dataset_without_repeat_is_one_epoch():
    pytest.importorskip("tensorflow")
    ds = DSprites().as_dataset(batch_size=4, repeat=False, steps_per_epoch=3)
    batches = [x.numpy() for x in ds]
    assert len(batches) == 3 and batches[0].shape == (4, 64, 64, 1)
    assert set(np.unique(batches[0])) == {0.0, 1.0}


def tiny_model():
    inputs = keras.Input((64, 64, 1))
    h = keras.layers.AveragePooling2D(8)(inputs)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(64 * 64, activation="sigmoid")(h)
    outputs = keras.layers.Reshape((64, 64, 1))(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_fit_and_predict_on_the_py_dataset():
    model = tiny_model()
    # Paired batches unpack as (x, y) for a plain model: here x2 is the target.
    train = as_py_dataset(DSprites(), batch_size=8, paired=True, steps_per_epoch=2)
    history = model.fit(train, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    predict = as_py_dataset(DSprites(), batch_size=8, steps_per_epoch=2)
    assert model.predict(predict, verbose=0).shape == (16, 64, 64, 1)


def test_fit_on_the_tf_dataset():
    pytest.importorskip("tensorflow")
    model = tiny_model()
    train = as_dataset(DSprites(), batch_size=8, paired=True)
    history = model.fit(train, epochs=1, steps_per_epoch=2, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("kind", ["numpy", "py", "tf"])
def test_benchmark_pipeline_reports_images_per_second(kind):
    if kind == "tf":
        pytest.importorskip("tensorflow")
    rate = benchmark_pipeline(DSprites(), batch_size=8, steps=3, kind=kind, warmup=1)
    assert rate > 0


def test_benchmark_pipeline_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="kind"):
        benchmark_pipeline(DSprites(), kind="torch")
