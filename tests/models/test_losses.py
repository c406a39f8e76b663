"""Loss terms against plain numpy computations of the formulas."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_factorvae import losses

pytestmark = pytest.mark.multibackend


def _np(x):
    return ops.convert_to_numpy(x)


def test_bernoulli_reconstruction_matches_numpy():
    rng = np.random.RandomState(0)
    x = (rng.rand(3, 4, 4, 1) > 0.5).astype("float32")
    logits = (rng.randn(3, 4, 4, 1) * 5).astype("float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(3, -1).sum(1).mean()
    got = _np(losses.bernoulli_reconstruction(x, logits))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_bernoulli_reconstruction_is_finite_for_huge_logits():
    x = np.array([[[[1.0]], [[0.0]]]], "float32")
    logits = np.array([[[[-1e4]], [[1e4]]]], "float32")
    got = _np(losses.bernoulli_reconstruction(x, logits))
    np.testing.assert_allclose(got, 2e4, rtol=1e-6)


def test_gaussian_reconstruction_matches_numpy():
    rng = np.random.RandomState(1)
    x = rng.rand(2, 3, 3, 2).astype("float32")
    logits = rng.randn(2, 3, 3, 2).astype("float32")
    expected = ((x - 1 / (1 + np.exp(-logits))) ** 2).reshape(2, -1).sum(1).mean()
    got = _np(losses.gaussian_reconstruction(x, logits))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


KL_MEAN = np.array([[1.0, 0.0], [0.5, -2.0]], "float32")
KL_LOGVAR = np.array([[0.0, np.log(2.0)], [-1.0, 0.0]], "float32")
# KL(N(m, e^l) || N(0, 1)) = (m^2 + e^l - l - 1) / 2, element by element:
# row 0: (1 + 1 - 0 - 1) / 2 = 1/2 and (0 + 2 - ln 2 - 1) / 2 = (1 - ln 2) / 2;
# row 1: (1/4 + 1/e + 1 - 1) / 2 and (4 + 1 - 0 - 1) / 2 = 2.
KL_BY_HAND = np.array([[0.5, (1 - np.log(2)) / 2],
                       [(0.25 + np.exp(-1)) / 2, 2.0]])


def test_kl_terms_by_hand_in_numpy_and_keras_ops():
    terms = losses.gaussian_kl_terms(KL_MEAN.astype("float64"),
                                     KL_LOGVAR.astype("float64"), xp=np)
    assert isinstance(terms, np.ndarray) and terms.dtype == np.float64
    np.testing.assert_allclose(terms, KL_BY_HAND, rtol=1e-7)
    got = _np(losses.gaussian_kl_terms(ops.convert_to_tensor(KL_MEAN),
                                       ops.convert_to_tensor(KL_LOGVAR)))
    np.testing.assert_allclose(got, KL_BY_HAND, rtol=1e-6)


def test_kl_matches_closed_form():
    got = _np(losses.gaussian_kl(KL_MEAN, KL_LOGVAR))
    # Summed over dimensions, averaged over the batch: 1.4811831...
    np.testing.assert_allclose(got, KL_BY_HAND.sum(1).mean(), rtol=1e-6)
    np.testing.assert_allclose(got, 1.4811831, rtol=1e-6)


def test_kl_to_prior_is_the_per_dimension_mean_of_the_same_formula():
    from keras_factorvae.visualize import kl_to_prior

    per_dim = kl_to_prior(KL_MEAN, KL_LOGVAR)
    assert per_dim.dtype == np.float64
    np.testing.assert_allclose(per_dim, KL_BY_HAND.mean(0), rtol=1e-7)
    # Its sum is the loss's KL.
    np.testing.assert_allclose(per_dim.sum(),
                               _np(losses.gaussian_kl(KL_MEAN, KL_LOGVAR)),
                               rtol=1e-6)


def test_discriminator_loss_tc_and_accuracy_by_hand():
    real = np.array([[2.0, 0.0], [0.0, 1.0]], "float32")
    perm = np.array([[0.0, 3.0], [1.0, 0.0]], "float32")

    def log_softmax(a):
        return a - np.log(np.exp(a).sum(1, keepdims=True))

    expected = -0.5 * (log_softmax(real)[:, 0].mean() + log_softmax(perm)[:, 1].mean())
    got = _np(losses.discriminator_cross_entropy(real, perm))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(_np(losses.density_ratio_tc(real)), 0.5, rtol=1e-6)
    # real: row 0 right, row 1 wrong; permuted: row 0 right, row 1 wrong.
    np.testing.assert_allclose(_np(losses.discriminator_accuracy(real, perm)), 0.5)


def test_discriminator_loss_is_finite_for_huge_logits():
    real = np.array([[-1e4, 1e4]], "float32")
    perm = np.array([[1e4, -1e4]], "float32")
    got = _np(losses.discriminator_cross_entropy(real, perm))
    np.testing.assert_allclose(got, 2e4, rtol=1e-6)


def test_clip_logvar_bounds_values():
    got = _np(losses.clip_logvar(np.array([-1e9, 0.0, 1e9], "float32")))
    np.testing.assert_array_equal(got, [losses.LOGVAR_MIN, 0.0, losses.LOGVAR_MAX])


def test_permute_dims_permutes_each_column_independently():
    n, d = 64, 6
    z = np.arange(n * d, dtype="float32").reshape(n, d)
    out = _np(losses.permute_dims(z, keras.random.SeedGenerator(3)))
    for j in range(d):
        # Every column holds exactly the original column's values.
        np.testing.assert_array_equal(np.sort(out[:, j]), z[:, j])
    # Rows are mixed: the source row of each entry differs across columns.
    source_rows = (out // d).astype(int)
    assert (source_rows != source_rows[:, :1]).any(axis=1).mean() > 0.9
    # And the columns are shuffled (not the identity).
    assert (out != z).mean() > 0.9


def test_permute_dims_differs_between_calls():
    z = np.arange(200, dtype="float32").reshape(40, 5)
    seed = keras.random.SeedGenerator(0)
    a = _np(losses.permute_dims(z, seed))
    b = _np(losses.permute_dims(z, seed))
    assert (a != b).any()


def test_deterministic_permutation_is_a_per_column_roll():
    z = np.arange(12, dtype="float32").reshape(4, 3)
    out = _np(losses.permute_dims(z, None))
    for j in range(3):
        np.testing.assert_array_equal(out[:, j], np.roll(z[:, j], j + 1))
