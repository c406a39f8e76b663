import numpy as np
import pytest

from keras_factorvae.metrics import factor_vae_score
from tests.metrics.toy import Noise
from tests.metrics.toy import ToyData
from tests.metrics.toy import constant
from tests.metrics.toy import identity
from tests.metrics.toy import rotated
from tests.metrics.toy import with_dead_dim

SMALL = dict(batch_size=16, num_train=300, num_eval=150,
             num_variance_estimate=500)


def _unbatched(data, function, random_state, batch_size, num_train, num_eval,
               num_variance_estimate):
    """The reference's algorithm, one representation call per vote."""
    variances = np.var(
        function(data.sample_observations(num_variance_estimate,
                                          random_state)), axis=0, ddof=1)
    active = np.sqrt(variances) >= 0.05

    def votes(num):
        v = np.zeros((data.num_factors, variances.shape[0]), dtype=np.int64)
        for _ in range(num):
            k = random_state.randint(data.num_factors)
            f = data.sample_factors(batch_size, random_state)
            f[:, k] = f[0, k]
            z = function(data.sample_observations_from_factors(f,
                                                               random_state))
            local = np.var(z, axis=0, ddof=1)
            v[k, np.argmin(local[active] / variances[active])] += 1
        return v

    train = votes(num_train)
    classifier, cols = np.argmax(train, axis=0), np.arange(train.shape[1])
    evals = votes(num_eval)
    return {
        "train_accuracy": np.sum(train[classifier, cols]) / np.sum(train),
        "eval_accuracy": np.sum(evals[classifier, cols]) / np.sum(evals),
        "num_active_dims": int(np.sum(active)),
    }


@pytest.mark.parametrize("function", [identity, rotated, with_dead_dim,
                                      lambda x: rotated(x).astype("float32")])
def test_matches_unbatched_reference_algorithm(function):
    data = ToyData(noise=0.3)
    ours = factor_vae_score(data, function, np.random.RandomState(5),
                            encode_batch_size=100, **SMALL)
    ref = _unbatched(data, function, np.random.RandomState(5), **SMALL)
    assert ours == ref


def test_known_answers():
    data = ToyData()
    rs = np.random.RandomState
    assert factor_vae_score(data, identity, rs(0), **SMALL) == {
        "train_accuracy": 1.0, "eval_accuracy": 1.0, "num_active_dims": 3}
    # A dead dimension is pruned; the true count is returned (the reference
    # would report 4, the total number of dimensions).
    dead = factor_vae_score(data, with_dead_dim, rs(0), **SMALL)
    assert dead == {"train_accuracy": 1.0, "eval_accuracy": 1.0,
                    "num_active_dims": 3}
    # Mixing two factors makes their votes ambiguous.
    mixed = factor_vae_score(data, rotated, rs(0), **SMALL)
    assert 0.4 < mixed["eval_accuracy"] < 0.95
    random = factor_vae_score(data, Noise(), rs(0), **SMALL)
    assert random["eval_accuracy"] < 0.6
    assert factor_vae_score(data, constant, rs(0), **SMALL) == {
        "train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}


def test_batches_encoder_calls():
    sizes = []

    def function(x):
        sizes.append(len(x))
        return identity(x)

    factor_vae_score(ToyData(), function, np.random.RandomState(0),
                     num_train=64, num_eval=32)
    # 10000 variance points, then 64 + 32 votes of 64 observations.
    assert sizes == [2048] * 4 + [1808] + [2048] * 2 + [2048]


@pytest.mark.parametrize("param, value", [("batch_size", 1), ("num_train", 0),
                                          ("num_eval", -1),
                                          ("num_variance_estimate", 1),
                                          ("prune_threshold", -0.1)])
def test_rejects_out_of_range(param, value):
    with pytest.raises(ValueError, match=param):
        factor_vae_score(ToyData(), identity, np.random.RandomState(0),
                         **{**SMALL, param: value})
