"""The model zoo: regularisers against numpy, training, saving, registry."""

import math

import keras
import numpy as np
import pytest
from scipy.special import logsumexp

import keras_factorvae as kfv
from keras_factorvae.models.annealed_vae import annealed_capacity
from keras_factorvae.models.beta_tcvae import total_correlation
from keras_factorvae.models.dip_vae import covariance
from keras_factorvae.models.dip_vae import dip_regularizer

pytestmark = pytest.mark.multibackend

SHAPE = (32, 32, 1)
NAMES = ("vae", "beta_vae", "annealed_vae", "beta_tcvae", "dip_vae", "factorvae")


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _log_density(z, mean, logvar):
    return -0.5 * ((z - mean) ** 2 * np.exp(-logvar) + logvar + np.log(2 * np.pi))


def _np_tc(z, mean, logvar, estimator, n=None):
    m = len(z)
    log_q = _log_density(z[:, None], mean[None], logvar[None])  # (i, j, d)
    if estimator == "mws":
        const = 0.0 if n is None else math.log(n * m)
        log_qz = logsumexp(log_q.sum(2), axis=1) - const
        log_prod = (logsumexp(log_q, axis=1) - const).sum(1)
        return (log_qz - log_prod).mean()
    w = np.full((m, m), 1.0 / max(m - 1, 1))
    for i in range(m):
        w[i, (i + 1) % m] = (n - m + 1) / (n * (m - 1)) if m > 1 else 0
        w[i, i] = 1.0 / n
    log_w = np.log(w)
    log_qz = logsumexp(log_w + log_q.sum(2), axis=1)
    log_prod = logsumexp(log_w[:, :, None] + log_q, axis=1).sum(1)
    return (log_qz - log_prod).mean()


def _codes(m, d=3, seed=0):
    rng = np.random.RandomState(seed)
    mean = rng.randn(m, d).astype("float32")
    logvar = (rng.randn(m, d) * 0.5).astype("float32")
    z = (mean + np.exp(0.5 * logvar) * rng.randn(m, d)).astype("float32")
    return z, mean, logvar


@pytest.mark.parametrize("m", [1, 2, 7])
@pytest.mark.parametrize("estimator, n", [("mws", None), ("mws", 1000), ("mss", 1000)])
def test_total_correlation_matches_numpy(m, estimator, n):
    z, mean, logvar = _codes(m)
    got = _np(total_correlation(z, mean, logvar, estimator, n))
    np.testing.assert_allclose(got, _np_tc(z, mean, logvar, estimator, n), rtol=1e-4, atol=1e-4)


def test_mss_weights_by_hand_for_batch_of_two():
    # M = 2, N = 10: W = [[1/10, 9/10], [9/10, 1/10]].
    z, mean, logvar = _codes(2)
    log_q = _log_density(z[:, None], mean[None], logvar[None])
    w = np.array([[0.1, 0.9], [0.9, 0.1]])
    log_qz = np.log((w * np.exp(log_q.sum(2))).sum(1))
    log_prod = np.log((w[:, :, None] * np.exp(log_q)).sum(1)).sum(1)
    got = _np(total_correlation(z, mean, logvar, "mss", 10))
    np.testing.assert_allclose(got, (log_qz - log_prod).mean(), rtol=1e-4)


def test_dip_regularizer_matches_numpy():
    _, mean, logvar = _codes(6, 4)
    cov = np.cov(mean.T, bias=True)
    np.testing.assert_allclose(_np(covariance(mean)), cov, rtol=1e-4, atol=1e-6)
    off = cov - np.diag(np.diag(cov))
    expected = 2.0 * (off**2).sum() + 5.0 * ((np.diag(cov) - 1) ** 2).sum()
    got = _np(dip_regularizer(cov.astype("float32"), 2.0, 5.0))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # DIP-VAE-II adds the mean encoder variance to the diagonal.
    model = kfv.DIPVAE(variant="ii", lambda_od=2.0, latent_dim=4, input_shape=SHAPE)
    kl = 0.0
    _, logs = model.latent_loss(None, mean, logvar, mean, kl)
    cov2 = cov + np.diag(np.exp(logvar).mean(0))
    off2 = cov2 - np.diag(np.diag(cov2))
    expected2 = 2.0 * (off2**2).sum() + 2.0 * ((np.diag(cov2) - 1) ** 2).sum()
    np.testing.assert_allclose(_np(logs["dip_loss"]), expected2, rtol=1e-4)


def test_dip_lambda_d_defaults():
    assert kfv.DIPVAE(variant="i", lambda_od=3.0, input_shape=SHAPE).lambda_d == 30.0
    assert kfv.DIPVAE(variant="ii", lambda_od=3.0, input_shape=SHAPE).lambda_d == 3.0


def test_annealed_capacity_schedule():
    got = [float(_np(annealed_capacity(s, 25.0, 100))) for s in (0, 40, 100, 500)]
    np.testing.assert_allclose(got, [0.0, 10.0, 25.0, 25.0])


def _make(name, **kwargs):
    base = dict(latent_dim=3, input_shape=SHAPE, seed=2)
    if name == "factorvae":
        base.update(discriminator_units=16, discriminator_layers=1)
    base.update(kwargs)
    return kfv.models.get(name, **base)


@pytest.mark.parametrize("name", NAMES)
def test_every_model_trains_saves_and_reloads(name, tmp_path, binary_images):
    x = binary_images(12, SHAPE)
    model = _make(name)
    model.compile()
    history = model.fit(x, epochs=1, batch_size=4, verbose=0)
    for key, values in history.history.items():
        assert np.all(np.isfinite(values)), key
    own = {"annealed_vae": "capacity", "beta_tcvae": "tc_loss", "dip_vae": "dip_loss",
           "factorvae": "tc_loss"}
    if name in own:
        assert own[name] in history.history
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), rtol=1e-6)


def test_annealed_capacity_follows_iterations_across_save(tmp_path, binary_images):
    x = binary_images(12, SHAPE)
    model = _make("annealed_vae", c_max=10.0, iteration_threshold=6)
    model.compile()
    model.fit(x, epochs=1, batch_size=4, verbose=0)  # 3 steps
    path = str(tmp_path / "a.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert int(_np(loaded.optimizer.iterations)) == 3
    logs = loaded.compute_losses(x[:4])
    assert logs["capacity"] == pytest.approx(5.0)


@pytest.mark.parametrize("name, kwargs", [("beta_vae", dict(beta=1.0)),
                                          ("beta_tcvae", dict(beta=1.0)),
                                          ("beta_tcvae", dict(beta=1.0, estimator="mss",
                                                              dataset_size=100))])
def test_beta_one_equals_the_plain_vae(name, kwargs, binary_images):
    x = binary_images(6, SHAPE)
    vae = _make("vae")
    other = _make(name, **kwargs)
    other.set_weights(vae.get_weights())
    a = vae.compute_losses(x, sample=False)
    b = other.compute_losses(x, sample=False)
    assert b["loss"] == pytest.approx(a["loss"], rel=1e-6)
    assert a["loss"] == pytest.approx(a["reconstruction_loss"] + a["kl_loss"], rel=1e-6)


def test_beta_weights_the_kl(binary_images):
    x = binary_images(6, SHAPE)
    model = _make("beta_vae", beta=4.0)
    logs = model.compute_losses(x, sample=False)
    assert logs["loss"] == pytest.approx(
        logs["reconstruction_loss"] + 4.0 * logs["kl_loss"], rel=1e-5)


def test_registry_builds_by_name_and_rejects_unknown_names():
    for name in NAMES:
        assert type(_make(name)) is kfv.models.MODELS[name]
    with pytest.raises(ValueError, match="known models.*beta_tcvae"):
        kfv.models.get("wae")


@pytest.mark.parametrize("name, kwargs", [
    ("beta_vae", dict(beta=-1)), ("annealed_vae", dict(iteration_threshold=0)),
    ("beta_tcvae", dict(estimator="mc")), ("beta_tcvae", dict(estimator="mss")),
    ("dip_vae", dict(variant="iii")), ("dip_vae", dict(lambda_od=-1.0)),
])
def test_bad_zoo_arguments_raise(name, kwargs):
    with pytest.raises(ValueError):
        _make(name, **kwargs)
