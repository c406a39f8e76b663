"""FactorVAE's density-ratio TC estimate against the analytic Gaussian answer.

A pass-through encoder makes the discriminator see codes of a known law:
images `(1, 1, d)` hold `0.5 + z / 16` for `z ~ N(0, R)` (inside [0, 1], as
`fit` requires, for |z| < 8), the encoder maps them back to `mean = z` and
outputs a log-variance of -30, below the clip floor `LOGVAR_MIN = -20`
(noise std 4.5e-5). With `gamma = 0` and an encoder without weights nothing
the VAE update does reaches the codes, so only the discriminator learns, and
its mean logit difference on fresh codes must match the total correlation of
N(0, R), `-0.5 * log det R`. Everything goes through the public API:
`FactorVAE(encoder=, decoder=)`, `compile`, `fit(x, x2)`, `compute_losses`.
"""

import keras
import numpy as np
import pytest
from keras import ops

import keras_factorvae as kfv
from keras_factorvae import losses

pytestmark = pytest.mark.multibackend

LATENT = 6
PAIRS = ((0, 1), (2, 3), (4, 5))
RHO = 0.8
SCALE = 16.0  # codes per unit of pixel value
TRAIN_SIZE = 16384
BATCH = 512
EPOCHS = 10  # 320 discriminator steps
EVAL_SIZE = 16384
BAND = 0.2  # relative tolerance of the TC estimate


def correlation(rho):
    r = np.eye(LATENT)
    for i, j in PAIRS:
        r[i, j] = r[j, i] = rho
    return r


def gaussian_tc(r):
    return -0.5 * np.linalg.slogdet(r)[1]


def to_images(z):
    return (0.5 + z / SCALE).astype("float32").reshape(len(z), 1, 1, LATENT)


def pass_through_model(seed):
    images = keras.Input((1, 1, LATENT))
    flat = keras.layers.Flatten()(images)
    mean = keras.layers.Rescaling(SCALE, offset=-0.5 * SCALE)(flat)
    logvar = keras.layers.Rescaling(0.0, offset=losses.LOGVAR_MIN - 10.0)(flat)
    encoder = keras.Model(
        images, keras.layers.Concatenate()([mean, logvar]), name="pass_through"
    )
    codes = keras.Input((LATENT,))
    logits = keras.layers.Reshape((1, 1, LATENT))(keras.layers.Dense(LATENT)(codes))
    decoder = keras.Model(codes, logits, name="trivial_decoder")
    assert not encoder.trainable_weights
    return kfv.FactorVAE(
        latent_dim=LATENT, encoder=encoder, decoder=decoder, gamma=0.0,
        discriminator_units=64, discriminator_layers=2, seed=seed,
    )


def estimate(rho, seed=0):
    """Trains the discriminator on N(0, R) codes; TC and accuracy on fresh ones."""
    keras.utils.set_random_seed(seed)
    rng = np.random.RandomState(seed)
    chol = np.linalg.cholesky(correlation(rho))

    def draw(n):
        return to_images(rng.standard_normal((n, LATENT)) @ chol.T)

    model = pass_through_model(seed)
    model.compile(
        discriminator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9)
    )
    # Two independent batches per step: the second one is permuted for the
    # discriminator's "product of marginals" class (paper, Algorithm 2).
    model.fit(
        draw(TRAIN_SIZE), draw(TRAIN_SIZE), batch_size=BATCH, epochs=EPOCHS,
        verbose=0,
    )
    logs = model.compute_losses(draw(EVAL_SIZE), draw(EVAL_SIZE))
    return logs["tc_loss"], logs["discriminator_accuracy"]


def test_pass_through_encoder_returns_the_codes():
    z = np.random.RandomState(0).standard_normal((8, LATENT))
    model = pass_through_model(seed=0)
    mean, logvar = model.encode_stats(to_images(z))
    np.testing.assert_allclose(ops.convert_to_numpy(mean), z, atol=1e-5)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(logvar), np.full((8, LATENT), losses.LOGVAR_MIN)
    )


def test_estimate_matches_the_gaussian_total_correlation():
    true_tc = gaussian_tc(correlation(RHO))
    assert true_tc == pytest.approx(1.5325, abs=1e-3)  # 3 * -0.5 log(1 - 0.64)
    tc, accuracy = estimate(RHO)
    assert abs(tc - true_tc) <= BAND * true_tc, (tc, true_tc)
    assert accuracy > 0.75, accuracy


def test_estimate_is_zero_for_independent_codes():
    tc, accuracy = estimate(0.0)
    assert abs(tc) < 0.1, tc
    assert 0.45 <= accuracy <= 0.55, accuracy


def _identity(z, seed):
    return ops.convert_to_tensor(z)


def _row_shuffle(z, seed):
    """One permutation for every column: a shuffle of whole rows."""
    z = ops.convert_to_tensor(z)
    if seed is None:
        return ops.flip(z, axis=0)
    order = ops.argsort(keras.random.uniform((ops.shape(z)[0],), seed=seed))
    return ops.take(z, order, axis=0)


@pytest.mark.parametrize("wrong", [_identity, _row_shuffle], ids=["identity", "row_shuffle"])
def test_a_wrong_permutation_misses_the_band(monkeypatch, wrong):
    """Permutations that keep the rows intact leave the second class with the
    joint law q(z): the discriminator cannot tell the classes apart and the
    estimate collapses to ~0, far outside the band a correct one meets."""
    monkeypatch.setattr(losses, "permute_dims", wrong)
    true_tc = gaussian_tc(correlation(RHO))
    tc, accuracy = estimate(RHO)
    assert abs(tc - true_tc) > BAND * true_tc, (tc, true_tc)
    assert abs(tc) < 0.2, tc
    assert accuracy < 0.56, accuracy
