"""The FactorVAE mechanism at equal steps: a larger gamma lowers TC.

The logged `tc_loss` is the discriminator's estimate, which the VAE update is
trained against, so it cannot judge the penalty. Two estimates no model
trains on (`metrics.total_correlation_estimates`: the Gaussian TC of the
posterior means and the minibatch-stratified TC of the sampled codes) must
both be lower at gamma 35 than at gamma 0 after the same steps, from the same
initial weights, on the same dSprites batches and noise.

Kept short for CI: the mlp preset, a 3x256 discriminator and Adam(1e-3) for
both updates, 150 steps. Margins seen at this setting (gamma 0 vs 35,
seeds 0-2, all three backends) are reported in benchmarks/mechanism.py's
results, docs/results/mechanism/README.md; the full-size comparison (conv
preset, the papers' optimisers, 3,000 steps) is there too.
"""

import keras
import pytest

import keras_factorvae as kfv
from keras_factorvae import reporting

pytestmark = [pytest.mark.multibackend, pytest.mark.slow]

SEED = 0
STEPS = 150


def tc_after_training(gamma, data):
    reporting.set_random_seed(SEED)  # same initial weights for every gamma
    model = kfv.FactorVAE(
        latent_dim=10, input_shape=data.observation_shape, preset="mlp",
        gamma=gamma, discriminator_units=256, discriminator_layers=3,
        seed=SEED,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        discriminator_optimizer=keras.optimizers.Adam(
            1e-3, beta_1=0.5, beta_2=0.9),
    )
    # A fresh dataset per model: the same paired batches for every gamma.
    train = data.as_py_dataset(
        batch_size=64, paired=True, seed=SEED, steps_per_epoch=STEPS
    )
    model.fit(train, epochs=1, verbose=0, shuffle=False)
    return kfv.metrics.total_correlation_estimates(
        model, data, num_points=1024, seed=SEED
    )


def test_larger_gamma_lowers_total_correlation_at_equal_steps():
    data = kfv.datasets.load("dsprites")
    low = tc_after_training(0.0, data)
    high = tc_after_training(35.0, data)
    for key in ("gaussian_tc_mean", "mss_tc_sampled"):
        assert high[key] < low[key], (key, low, high)
