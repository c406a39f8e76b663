"""The shared code table changes how often examples are encoded, not scores."""

import numpy as np
import pytest

from keras_factorvae import datasets
from keras_factorvae import metrics
from keras_factorvae.datasets.arrays import ArrayGroundTruthData
from keras_factorvae.metrics import code_table
from keras_factorvae.metrics import evaluate

SIZES = dict(num_train=150, num_eval=60, num_test=60,
             num_variance_estimate=200)
DCI = {"dci": {"num_train": 60, "num_test": 30}}  # 40-class GBTs are slow


class CountingModel:
    """A real Keras encoder; counts the observations it encodes."""

    def __init__(self):
        from keras_factorvae import models

        self.model = models.get("factorvae", preset="mlp", latent_dim=4,
                                seed=0)
        self.encoded = 0

    def encode(self, x):
        self.encoded += len(x)
        return self.model.encode(x)


def assert_same_scores(a, b):
    # An encoder's float rounding depends a little on the size of the batch
    # it is given (up to ~2e-7 here), and with the table every example is
    # encoded in another batch than without it.
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-7,
                                   err_msg=key)


@pytest.mark.multibackend
def test_every_score_is_unchanged_on_dsprites():
    data = datasets.DSprites()
    names = tuple(metrics.METRICS)
    model = CountingModel()
    direct = evaluate(model, data, metrics=names, seed=5, code_table=False,
                      metric_params=DCI, **SIZES)
    direct_passes, model.encoded = model.encoded, 0
    table = evaluate(model, data, metrics=names, seed=5, metric_params=DCI,
                     **SIZES)
    assert_same_scores(table, direct)
    assert 0 < model.encoded < direct_passes


def test_indices_follow_the_random_stream_of_the_observations():
    data = datasets.DSprites()
    wrapped, function = code_table.indexed(data, lambda x: x.reshape(len(x),
                                                                     -1))
    assert isinstance(wrapped, code_table.IndexedData)
    a, b = np.random.RandomState(1), np.random.RandomState(1)
    factors, indices = wrapped.sample(50, a)
    np.testing.assert_array_equal(factors, data.sample_factors(50, b))
    np.testing.assert_array_equal(indices[:, 0],
                                  data.factors_to_index(factors))
    assert a.randint(1 << 30) == b.randint(1 << 30)
    np.testing.assert_array_equal(
        function(indices), data.observations_from_indices(indices[:, 0])
        .reshape(50, -1))


def test_each_example_is_encoded_once_and_duplicate_rows_are_drawn_alike():
    # Two images per factor vector: the row is drawn from random_state.
    rng = np.random.RandomState(0)
    factors = np.repeat(np.stack(np.meshgrid(np.arange(4), np.arange(3),
                                             indexing="ij"), -1).reshape(-1, 2),
                        2, axis=0)
    images = rng.rand(len(factors), 5, 5, 1).astype("float32")
    data = ArrayGroundTruthData(images, factors)
    assert code_table.supports_indices(data)
    encoded = []

    def codes(x):
        encoded.append(len(x))
        return x.reshape(len(x), -1)[:, :3]

    names = ("mig", "sap_score", "factor_vae_score", "beta_vae_score")
    small = dict(num_train=100, num_eval=50, num_test=50,
                 num_variance_estimate=100)
    direct = evaluate(codes, data, metrics=names, code_table=False, **small)
    assert sum(encoded) > 10_000
    encoded.clear()
    assert evaluate(codes, data, metrics=names, **small) == direct
    assert sum(encoded) == len(images)  # 24 examples, each encoded once


def test_random_observation_models_are_not_indexed():
    def function(x):
        return x.reshape(len(x), -1)[:, :2]

    for data in (datasets.ColorDSprites(), datasets.NoisyDSprites()):
        assert not code_table.supports_indices(data)
        assert code_table.indexed(data, function) == (data, function)


def test_a_table_rejects_observations_that_are_not_indices():
    data = datasets.DSprites()
    table = code_table.CodeTable(data, lambda x: x.reshape(len(x), -1))
    with pytest.raises(ValueError, match=r"\(n, 1\) example indices"):
        table(np.zeros((4, 64, 64, 1), np.float32))
