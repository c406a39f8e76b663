"""The one batched inference path: `BaseVAE.posterior_stats` and its callers."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_factorvae import metrics
from keras_factorvae import models
from keras_factorvae import visualize
from keras_factorvae.metrics import utils as metric_utils
from keras_factorvae.models import inference

pytestmark = pytest.mark.multibackend

SHAPE = (32, 32, 1)


def small_model(seed=0):
    return models.get("beta_vae", latent_dim=3, input_shape=SHAPE,
                      preset="mlp", seed=seed)


def images(n, seed=0):
    return np.random.RandomState(seed).rand(n, *SHAPE).astype("float32")


def direct_stats(model, x):
    """One encoder call on the whole batch, no batching at all."""
    mean, logvar = model.encode_stats(ops.convert_to_tensor(x))
    return ops.convert_to_numpy(mean), ops.convert_to_numpy(logvar)


@pytest.mark.parametrize("batch_size", [1, 7, 256])
def test_batch_size_does_not_change_the_statistics(batch_size):
    model, x = small_model(), images(40)
    want_mean, want_logvar = direct_stats(model, x)
    mean, logvar = model.posterior_stats(x, batch_size=batch_size)
    assert mean.dtype == np.float32 and logvar.dtype == np.float32
    assert mean.shape == logvar.shape == (40, 3)
    # Float rounding depends a little on the batch an encoder is given.
    np.testing.assert_allclose(mean, want_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(logvar, want_logvar, rtol=1e-5, atol=1e-5)
    # Every caller of the path gives the same numbers.
    np.testing.assert_array_equal(model.encode(x, batch_size=batch_size), mean)
    got = visualize.posterior_stats(model, x, batch_size=batch_size)
    np.testing.assert_array_equal(got[0], mean)
    np.testing.assert_array_equal(got[1], logvar)


def test_padding_keeps_rows_and_order():
    x = np.arange(10)[:, None]
    batches = list(inference.padded_batches(x, 4))
    assert [(len(b), n) for b, n in batches] == [(4, 4), (4, 4), (4, 2)]
    batches = list(inference.padded_batches(np.arange(40)[:, None], 64))
    assert [(len(b), n) for b, n in batches] == [(64, 40)]  # bucketed to 64
    np.testing.assert_array_equal(batches[0][0][:40, 0], np.arange(40))
    np.testing.assert_array_equal(batches[0][0][40:, 0], 39)  # last row repeated
    with pytest.raises(ValueError, match="batch_size"):
        list(inference.padded_batches(x, 0))


def test_empty_input_gives_empty_float32_arrays():
    mean, logvar = small_model().posterior_stats(np.zeros((0,) + SHAPE, "float32"))
    assert mean.shape == logvar.shape == (0, 3)
    assert mean.dtype == logvar.dtype == np.float32


def test_images_are_validated():
    with pytest.raises(ValueError, match="do not match"):
        small_model().posterior_stats(np.zeros((2, 8, 8, 1), "float32"))


def test_mixed_bfloat16_gives_float32_numpy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = small_model()
        assert model.encoder.layers[-1].compute_dtype == "bfloat16"
        mean, logvar = model.posterior_stats(images(9), batch_size=4)
        assert isinstance(mean, np.ndarray) and mean.dtype == np.float32
        assert logvar.dtype == np.float32 and mean.shape == (9, 3)
        assert model.encode(images(9), sample=True).dtype == np.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_duck_typed_models_with_low_precision_outputs():
    class Stub:
        latent_dim = 2

        def encode_stats(self, x):
            flat = x.reshape(len(x), -1)[:, :2]
            return flat.astype("float16"), -flat.astype("float16")

    x = images(5)
    mean, logvar = inference.posterior_stats(Stub(), x, batch_size=2)
    assert mean.dtype == np.float32
    np.testing.assert_allclose(mean, x.reshape(5, -1)[:, :2], atol=1e-3)
    np.testing.assert_allclose(logvar, -mean)


def test_representation_function_of_a_model_is_its_encode():
    model, x = small_model(), images(30)
    function = metrics.make_representation_function(model, batch_size=7)
    assert isinstance(function, metric_utils.Encoder)
    assert function.encode_batch_size == 7
    # Chunks of 7 are other encoder batches than one of 30: rounding only.
    np.testing.assert_allclose(function(x), model.encode(x), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_array_equal(function(x[:7]), model.encode(x[:7]))
    # A metric wrapping it again chunks once, at its own size.
    wrapped = metric_utils.Encoder(function, 11)
    assert wrapped.function is function.function
    np.testing.assert_array_equal(
        wrapped(x), np.concatenate([model.encode(x[s : s + 11])
                                    for s in range(0, 30, 11)]))


def test_a_plain_callable_is_used_as_given():
    def codes(x):
        return x.reshape(len(x), -1)[:, :4]

    assert metrics.make_representation_function(codes) is codes


def test_encode_returning_a_tuple_uses_its_first_item():
    class TupleModel:
        def __init__(self):
            self.calls = []

        def encode(self, x):
            self.calls.append(len(x))
            return ops.convert_to_tensor(x.reshape(len(x), -1)[:, :2]), None

    model = TupleModel()
    function = metrics.make_representation_function(model, batch_size=4)
    x = images(10)
    got = function(x)
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, x.reshape(10, -1)[:, :2])
    assert model.calls == [4, 4, 2]
