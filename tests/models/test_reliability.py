"""NaN guard, safe loading, corrupted files, mixed precision."""

import keras
import numpy as np
import pytest

import keras_factorvae as kfv
from keras_factorvae.callbacks import TerminateOnNonFinite
from keras_factorvae.saving import load_model

pytestmark = pytest.mark.multibackend

SHAPE = (32, 32, 1)


def tiny(**kwargs):
    return kfv.FactorVAE(latent_dim=3, input_shape=SHAPE, discriminator_units=16,
                         discriminator_layers=1, seed=0, **kwargs)


def test_non_finite_term_stops_training_and_is_named(binary_images, capsys):
    model = tiny()
    model.compile()
    # A poisoned discriminator makes the TC term NaN; reconstruction and KL
    # stay finite.
    last = model.discriminator.layers[-1]
    last.kernel.assign(np.full(last.kernel.shape, np.nan, "float32"))
    history = model.fit(binary_images(32, SHAPE), epochs=3, batch_size=8, verbose=0)
    out = capsys.readouterr().out
    assert "non-finite loss term 'tc_loss'" in out
    assert "reconstruction_loss" not in out.split("(")[1]
    assert len(history.history["loss"]) == 1  # stopped in the first epoch


def test_guard_can_raise(binary_images):
    model = tiny()
    model.compile()
    last = model.discriminator.layers[-1]
    last.kernel.assign(np.full(last.kernel.shape, np.inf, "float32"))
    with pytest.raises(kfv.callbacks.NonFiniteLossError, match="tc_loss"):
        model.fit(binary_images(8, SHAPE), epochs=1, batch_size=8, verbose=0,
                  callbacks=[TerminateOnNonFinite(raise_error=True)])


def test_safe_mode_load_and_clear_errors_for_bad_files(tmp_path, binary_images):
    model = tiny()
    model.compile()
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x = binary_images(4, SHAPE)
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), rtol=1e-6)
    assert isinstance(load_model(path, expect=kfv.FactorVAE), kfv.FactorVAE)

    data = path.read_bytes()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated, corrupted"):
        load_model(truncated)
    corrupted = tmp_path / "corrupted.keras"
    flipped = bytearray(data)
    middle = len(flipped) // 2
    flipped[middle : middle + 64] = bytes(b ^ 0xFF for b in flipped[middle : middle + 64])
    corrupted.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupted|truncated"):
        load_model(corrupted)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.keras")
    with pytest.raises(ValueError, match="not a BetaVAE"):
        load_model(path, expect=kfv.BetaVAE)


@pytest.mark.parametrize("name", ["factorvae", "beta_tcvae", "dip_vae", "annealed_vae"])
def test_mixed_bfloat16_trains_with_float32_losses(name, binary_images):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        kwargs = dict(latent_dim=3, input_shape=SHAPE, seed=0)
        if name == "factorvae":
            kwargs.update(discriminator_units=16, discriminator_layers=1)
        model = kfv.models.get(name, **kwargs)
        model.compile()
        assert model.encoder.layers[-1].compute_dtype == "bfloat16"
        x = binary_images(16, SHAPE)
        history = model.fit(x, epochs=1, batch_size=8, verbose=0)
        for key, values in history.history.items():
            assert np.all(np.isfinite(values)), key
        logs = model._evaluation_logs(x[:8], None)
        assert all("float32" in str(v.dtype) for v in logs.values())
        assert all(v.dtype == "float32" for v in model.trainable_weights)
        # Codes reach users and the metrics as float32 (numpy cannot treat
        # bfloat16 as a number).
        codes = model.encode(x[:4])
        assert codes.dtype == np.float32 and codes.shape == (4, 3)
        scores = kfv.metrics.evaluate(model, ToyImages(), metrics=("mig",),
                                      num_train=40)
        assert 0.0 <= scores["mig.discrete_mig"] <= 1.0
    finally:
        keras.mixed_precision.set_global_policy("float32")


class ToyImages:
    """Two factors drawn as the brightness of two image halves."""

    num_factors = 2
    factors_num_values = [4, 4]
    observation_shape = SHAPE

    def sample_factors(self, num, random_state):
        return random_state.randint(4, size=(num, 2))

    def sample_observations_from_factors(self, factors, random_state):
        x = np.zeros((len(factors),) + tuple(SHAPE), np.float32)
        half = SHAPE[1] // 2
        x[:, :, :half] = factors[:, 0, None, None, None] / 3
        x[:, :, half:] = factors[:, 1, None, None, None] / 3
        return x


def test_mixed_float16_uses_one_loss_scale_per_update(binary_images):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = tiny()
        model.compile()
        lso = keras.optimizers.LossScaleOptimizer
        assert isinstance(model.optimizer, kfv.PairedOptimizer)
        assert isinstance(model.optimizer.vae_optimizer, lso)
        assert isinstance(model.optimizer.discriminator_optimizer, lso)
        history = model.fit(binary_images(16, SHAPE), epochs=1, batch_size=8, verbose=0)
        assert np.isfinite(history.history["loss"][0])
    finally:
        keras.mixed_precision.set_global_policy("float32")
