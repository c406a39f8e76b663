import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from keras_factorvae.metrics import beta_vae_score
from tests.metrics.toy import Noise
from tests.metrics.toy import ToyData
from tests.metrics.toy import identity
from tests.metrics.toy import rotated

SMALL = dict(batch_size=8, num_train=300, num_eval=150)


def _unbatched(data, function, random_state, batch_size, num_train, num_eval):
    """The reference's algorithm, one representation call per batch."""

    def points(num):
        x, y = None, np.zeros(num, dtype=np.int64)
        for i in range(num):
            index = random_state.randint(data.num_factors)
            f1 = data.sample_factors(batch_size, random_state)
            f2 = data.sample_factors(batch_size, random_state)
            f2[:, index] = f1[:, index]
            o1 = data.sample_observations_from_factors(f1, random_state)
            o2 = data.sample_observations_from_factors(f2, random_state)
            feature = np.mean(np.abs(function(o1) - function(o2)), axis=0)
            if x is None:
                x = np.zeros((num, feature.shape[0]))
            x[i], y[i] = feature, index
        return x, y

    x, y = points(num_train)
    model = LogisticRegression(random_state=random_state).fit(x, y)
    train = np.mean(model.predict(x) == y)
    xe, ye = points(num_eval)
    return {"train_accuracy": train, "eval_accuracy": model.score(xe, ye)}


@pytest.mark.parametrize("function", [identity, rotated,
                                      lambda x: rotated(x).astype("float32")])
def test_matches_unbatched_reference_algorithm(function):
    data = ToyData(noise=0.3)
    ours = beta_vae_score(data, function, np.random.RandomState(7),
                          encode_batch_size=100, **SMALL)
    ref = _unbatched(data, function, np.random.RandomState(7), **SMALL)
    assert ours == ref


def test_perfect_code_is_perfect_and_noise_is_near_chance():
    data = ToyData()
    perfect = beta_vae_score(data, identity, np.random.RandomState(0), **SMALL)
    assert perfect == {"train_accuracy": 1.0, "eval_accuracy": 1.0}
    random = beta_vae_score(data, Noise(), np.random.RandomState(0), **SMALL)
    assert random["eval_accuracy"] < 0.55  # chance is 1/3


def test_batches_encoder_calls():
    sizes = []

    def function(x):
        sizes.append(len(x))
        return identity(x)

    beta_vae_score(ToyData(), function, np.random.RandomState(0),
                   batch_size=64, num_train=100, num_eval=50)
    # 100 + 50 points of 2 x 64 observations in calls of 2048.
    assert sizes == [2048] * 6 + [512] + [2048] * 3 + [256]


@pytest.mark.parametrize("param", ["batch_size", "num_train", "num_eval"])
def test_rejects_out_of_range(param):
    with pytest.raises(ValueError, match=param):
        beta_vae_score(ToyData(), identity, np.random.RandomState(0),
                       **{**SMALL, param: 0})
