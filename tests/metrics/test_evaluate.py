import inspect

import numpy as np
import pytest

from keras_factorvae import metrics
from keras_factorvae.metrics import evaluate
from keras_factorvae.metrics import time_suite
from tests.metrics.toy import ToyData
from tests.metrics.toy import identity

FAST = ("beta_vae_score", "factor_vae_score", "mig", "sap_score",
        "modularity_explicitness", "irs", "unsupervised")
SMALL = dict(num_train=200, num_eval=100, num_test=100,
             num_variance_estimate=200)


class NumpyModel:
    """Any object with `encode` works; a (mean, log_var) tuple is accepted."""

    def __init__(self):
        self.calls = []

    def encode(self, x):
        self.calls.append(len(x))
        return identity(x), np.zeros((len(x), 3))


def test_flat_keys_and_independent_random_states():
    data = ToyData(noise=0.2)
    results = evaluate(identity, data, metrics=FAST, seed=3, **SMALL)
    for name in FAST:
        function = metrics.METRICS[name]
        accepted = inspect.signature(function).parameters
        alone = function(data, identity, np.random.RandomState(3),
                         **{k: v for k, v in SMALL.items() if k in accepted})
        assert {f"{name}.{k}": v for k, v in alone.items()} == {
            k: v for k, v in results.items() if k.startswith(name + ".")}
    assert results["mig.discrete_mig"] == evaluate(
        identity, data, metrics="mig", seed=3, num_train=200)[
            "mig.discrete_mig"]
    assert "factor_vae_score.num_active_dims" in results
    assert len(results) == 2 + 3 + 1 + 1 + 3 + 2 + 4


def test_model_with_encode_is_called_in_large_batches():
    model = NumpyModel()
    out = evaluate(model, ToyData(), metrics=("factor_vae_score",),
                   batch_size=1000, num_train=50, num_eval=20,
                   num_variance_estimate=2500)
    assert out["factor_vae_score.eval_accuracy"] == 1.0
    assert max(model.calls) == 1000
    assert model.calls[:3] == [1000, 1000, 500]


def test_overrides_and_metric_params():
    data = ToyData()
    base = evaluate(identity, data, metrics=("mig",), num_train=300)
    coarse = evaluate(identity, data, metrics=("mig",), num_train=300,
                      metric_params={"mig": {"num_bins": 2}})
    assert base != coarse
    with pytest.raises(ValueError, match="num_eval"):
        evaluate(identity, data, metrics=("mig",), num_eval=10)
    with pytest.raises(ValueError, match="Unknown metric"):
        evaluate(identity, data, metrics=("nope",))
    with pytest.raises(ValueError, match="no parameter"):
        evaluate(identity, data, metrics=("mig",),
                 metric_params={"mig": {"num_eval": 3}})
    with pytest.raises(ValueError, match="encode"):
        evaluate(object(), data, metrics=("mig",))
    with pytest.raises(ValueError, match="missing"):
        evaluate(identity, object(), metrics=("mig",))


def test_bad_encoder_output_is_reported():
    class Broken:
        def encode(self, x):
            return np.zeros((len(x) - 1, 2))

    with pytest.raises(ValueError, match="rows"):
        evaluate(Broken(), ToyData(), metrics=("mig",), num_train=50)


def test_time_suite():
    timings = time_suite(ToyData(), identity, metrics=("mig", "irs"),
                         num_train=100)
    assert list(timings) == ["mig", "irs"]
    assert all(t > 0 for t in timings.values())
    with pytest.raises(ValueError, match="num_eval"):
        time_suite(ToyData(), identity, metrics=("mig",), num_eval=5)
