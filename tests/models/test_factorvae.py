"""FactorVAE: paired updates, no leaks, logging, presets, errors, saving."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_factorvae as kfv

pytestmark = pytest.mark.multibackend

SHAPE = (32, 32, 1)


def tiny(**kwargs):
    args = dict(
        latent_dim=4, input_shape=SHAPE, gamma=10.0, discriminator_units=32,
        discriminator_layers=2, seed=1,
    )
    args.update(kwargs)
    return kfv.FactorVAE(**args)


def weights(model):
    return [np.array(keras.ops.convert_to_numpy(w)) for w in model.weights]


def snapshot(layer):
    return [np.array(keras.ops.convert_to_numpy(w)) for w in layer.weights]


def changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_fit_logs_every_term_and_both_optimizers_step(binary_images):
    x = binary_images(16, SHAPE)
    model = tiny()
    model.compile()
    history = model.fit(x, epochs=2, batch_size=8, verbose=0)
    for key in (
        "loss", "reconstruction_loss", "kl_loss", "tc_loss",
        "discriminator_loss", "discriminator_accuracy",
    ):
        assert key in history.history, key
        assert np.all(np.isfinite(history.history[key]))
    opt = model.optimizer
    assert int(keras.ops.convert_to_numpy(opt.vae_optimizer.iterations)) == 4
    assert int(keras.ops.convert_to_numpy(opt.discriminator_optimizer.iterations)) == 4
    # Adam's second moments of the discriminator are carried between steps.
    moments = [
        keras.ops.convert_to_numpy(v)
        for v in opt.discriminator_optimizer.variables
        if "velocity" in v.path
    ]
    assert moments and all(np.abs(m).sum() > 0 for m in moments)


def test_steps_per_execution_runs_every_batch(binary_images):
    """Several batches per compiled call (JAX, TensorFlow): every batch still
    makes one VAE and one discriminator update, and the weights match a
    model trained one batch per call to float rounding."""
    x = binary_images(16, SHAPE)
    if keras.backend.backend() == "torch":
        model = tiny()
        model.compile(steps_per_execution=2)
        with pytest.raises(ValueError, match="steps_per_execution"):
            model.fit(x, batch_size=4, verbose=0)
        return
    trained = []
    for steps_per_execution in (1, 2):
        keras.utils.set_random_seed(0)
        model = tiny()
        model.compile(steps_per_execution=steps_per_execution)
        model.fit(x, batch_size=4, epochs=1, shuffle=False, verbose=0)
        opt = model.optimizer
        assert int(keras.ops.convert_to_numpy(opt.vae_optimizer.iterations)) == 4
        assert int(keras.ops.convert_to_numpy(
            opt.discriminator_optimizer.iterations)) == 4
        trained.append(weights(model))
    for one, two in zip(*trained):
        np.testing.assert_allclose(one, two, rtol=1e-4, atol=1e-5)


def test_default_optimizers_follow_the_paper():
    model = tiny()
    model.compile()
    vae, disc = model.optimizer.vae_optimizer, model.optimizer.discriminator_optimizer
    assert isinstance(vae, keras.optimizers.Adam)
    assert (float(vae.learning_rate), vae.beta_1, vae.beta_2) == pytest.approx((1e-4, 0.9, 0.999))
    assert (float(disc.learning_rate), disc.beta_1, disc.beta_2) == pytest.approx((1e-4, 0.5, 0.9))


def test_vae_update_leaves_discriminator_untouched(binary_images):
    x = binary_images(8, SHAPE)
    model = tiny()
    # A frozen discriminator optimizer: any change to D must come from a leak
    # of the VAE update.
    model.compile(discriminator_optimizer=keras.optimizers.SGD(0.0))
    d0, e0, g0 = snapshot(model.discriminator), snapshot(model.encoder), snapshot(model.decoder)
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    assert not changed(d0, snapshot(model.discriminator))
    assert changed(e0, snapshot(model.encoder))
    assert changed(g0, snapshot(model.decoder))


def test_discriminator_update_leaves_encoder_and_decoder_untouched(binary_images):
    x = binary_images(8, SHAPE)
    model = tiny()
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    d0, e0, g0 = snapshot(model.discriminator), snapshot(model.encoder), snapshot(model.decoder)
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    assert changed(d0, snapshot(model.discriminator))
    assert not changed(e0, snapshot(model.encoder))
    assert not changed(g0, snapshot(model.decoder))


def test_discriminator_update_from_the_vae_updates_logits_is_exact(
    binary_images,
):
    # PyTorch's discriminator update takes D(z) from the VAE update's graph
    # (`GRAPH_SPANS_UPDATES`); forcing that where a carried tensor is a
    # constant (JAX, TensorFlow) would drop the real codes' gradient. The
    # backend's default step is compared with one that recomputes D(z).
    x, x2 = binary_images(8, SHAPE), binary_images(8, SHAPE, seed=5)
    models = []
    for recompute in (False, True):
        model = tiny(seed=3)
        if models:
            model.set_weights(models[0].get_weights())
        if recompute:
            model.GRAPH_SPANS_UPDATES = False
        model.compile(
            optimizer=keras.optimizers.SGD(1e-3),
            discriminator_optimizer=keras.optimizers.SGD(1e-2),
        )
        models.append(model)
    d0 = snapshot(models[0].discriminator)
    logs = [m.train_on_batch(x, x2, return_dict=True) for m in models]
    assert logs[0]["discriminator_loss"] == pytest.approx(
        logs[1]["discriminator_loss"], rel=1e-6
    )
    assert changed(d0, snapshot(models[0].discriminator))
    for a, b in zip(snapshot(models[0].discriminator),
                    snapshot(models[1].discriminator)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_tc_gradient_reaches_the_encoder_only(binary_images):
    x = binary_images(8, SHAPE)
    results = []
    for gamma in (0.0, 50.0):
        model = tiny(gamma=gamma, seed=7)
        if results:
            model.set_weights(results[0][0])
        init = weights(model)
        model.compile(
            optimizer=keras.optimizers.SGD(1e-3),
            discriminator_optimizer=keras.optimizers.SGD(0.0),
        )
        model.fit(x, epochs=1, batch_size=8, verbose=0, shuffle=False)
        results.append((init, snapshot(model.encoder), snapshot(model.decoder)))
    (_, enc0, dec0), (_, enc1, dec1) = results
    # Same weights, same noise: only the TC term differs, and it depends on
    # the decoder not at all, on the encoder through z.
    assert changed(enc0, enc1)
    for a, b in zip(dec0, dec1):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_evaluate_reports_the_same_terms_without_updating(binary_images):
    x = binary_images(16, SHAPE)
    model = tiny()
    model.compile()
    before = weights(model)
    logs = model.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    assert {"loss", "tc_loss", "discriminator_loss", "discriminator_accuracy"} <= set(logs)
    assert not changed(before, weights(model))


def test_paired_batches_feed_the_discriminator(binary_images):
    x, x2 = binary_images(16, SHAPE, seed=0), binary_images(16, SHAPE, seed=1)
    model = tiny()
    model.compile()
    history = model.fit(x, x2, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["discriminator_loss"][0])
    # The second batch changes the discriminator's permuted input.
    same = model.compute_losses(x[:8], sample=False)
    paired = model.compute_losses(x[:8], 1 - x[:8], sample=False)
    assert same["discriminator_loss"] != pytest.approx(paired["discriminator_loss"])
    assert same["tc_loss"] == pytest.approx(paired["tc_loss"])


def test_loss_is_the_sum_of_its_terms(binary_images):
    model = tiny(gamma=3.0)
    logs = model.compute_losses(binary_images(8, SHAPE), sample=False)
    total = logs["reconstruction_loss"] + logs["kl_loss"] + 3.0 * logs["tc_loss"]
    assert logs["loss"] == pytest.approx(total, rel=1e-5)


def test_encode_decode_shapes_and_ranges(binary_images):
    x = binary_images(5, SHAPE)
    model = tiny()
    z = model.encode(x)
    assert z.shape == (5, 4)
    np.testing.assert_allclose(z, model.encode(x))
    zs = model.encode(x, sample=True)
    assert zs.shape == (5, 4) and not np.allclose(zs, z)
    images = model.decode(z)
    assert images.shape == (5,) + SHAPE
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert isinstance(model.encoder, keras.Model)
    assert isinstance(model.decoder, keras.Model)
    assert isinstance(model.discriminator, keras.Model)


@pytest.mark.parametrize("preset", ["conv", "conv_paper", "mlp"])
@pytest.mark.parametrize("shape", [(32, 32, 1), (64, 64, 3), (128, 128, 2)])
def test_presets_are_sized_from_the_input_shape(preset, shape):
    model = kfv.FactorVAE(latent_dim=3, input_shape=shape, preset=preset,
                          discriminator_units=8, discriminator_layers=1)
    assert model.encoder.output_shape == (None, 6)
    assert model.decoder.output_shape == (None,) + shape


def test_conv_preset_matches_disentanglement_lib():
    model = kfv.FactorVAE(latent_dim=10, input_shape=(64, 64, 1))
    convs = [l for l in model.encoder.layers if isinstance(l, keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size[0], c.strides[0]) for c in convs] == [
        (32, 4, 2), (32, 4, 2), (64, 2, 2), (64, 2, 2)]
    dense = [l.units for l in model.encoder.layers if isinstance(l, keras.layers.Dense)]
    assert dense == [256, 20]
    deconvs = [l.filters for l in model.decoder.layers
               if isinstance(l, keras.layers.Conv2DTranspose)]
    assert deconvs == [64, 32, 32, 1]
    disc = [l.units for l in model.discriminator.layers if isinstance(l, keras.layers.Dense)]
    assert disc == [1000] * 6 + [2]


def test_custom_encoder_and_decoder(binary_images):
    enc = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(6)])
    dec = keras.Sequential([keras.Input((3,)), keras.layers.Dense(32 * 32),
                            keras.layers.Reshape((32, 32, 1))])
    model = kfv.FactorVAE(latent_dim=3, encoder=enc, decoder=dec,
                          discriminator_units=8, discriminator_layers=1)
    model.compile()
    before = [keras.ops.convert_to_numpy(w).copy() for w in enc.weights]
    model.fit(binary_images(8, SHAPE), epochs=1, batch_size=8, verbose=0)
    x = binary_images(2, SHAPE)
    # The custom encoder is the one trained, and its first half is the mean.
    assert any(not np.allclose(b, keras.ops.convert_to_numpy(w))
               for b, w in zip(before, enc.weights))
    np.testing.assert_allclose(model.encode(x),
                               keras.ops.convert_to_numpy(enc(x))[:, :3],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(latent_dim=0), "latent_dim"),
        (dict(gamma=-1.0), "gamma"),
        (dict(preset="resnet"), "preset"),
        (dict(reconstruction="poisson"), "reconstruction"),
        (dict(input_shape=(48, 48, 1)), "32, 64 or 128"),
        (dict(input_shape=(64, 32, 1)), "square"),
    ],
)
def test_bad_constructor_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiny(**kwargs)


def test_bad_training_data_raises_before_training(binary_images):
    model = tiny()
    model.compile()
    before = weights(model)
    x = binary_images(8, SHAPE)
    bad = {
        "rank": x[:, :, :, 0],
        "match the model": binary_images(8, (64, 64, 1)),
        "floats": (x * 255).astype("uint8"),
        "NaN": np.where(x > 0, np.nan, 0).astype("float32"),
        r"\[0, 1\]": x * 3.0,
    }
    for message, data in bad.items():
        with pytest.raises(ValueError, match=message):
            model.fit(data, epochs=1, batch_size=8, verbose=0)
    assert not changed(before, weights(model))


def test_save_and_load_round_trip(tmp_path, binary_images):
    x = binary_images(16, SHAPE)
    model = tiny()
    model.compile()
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, kfv.FactorVAE)
    assert loaded.gamma == model.gamma
    np.testing.assert_allclose(loaded.encode(x), model.encode(x), rtol=1e-6)
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    # Training resumes from the saved optimizer state.
    loaded.fit(x, epochs=1, batch_size=8, verbose=0)
    assert int(keras.ops.convert_to_numpy(
        loaded.optimizer.discriminator_optimizer.iterations)) == 4


_LOAD_AND_SCORE = """
import json, sys, numpy as np, keras
import keras_factorvae  # registers the classes
model = keras.models.load_model(sys.argv[1])
x = np.load(sys.argv[2])
print("LOSSES" + json.dumps(model.compute_losses(x[:8], x[8:], sample=False)))
model.fit(x, epochs=1, batch_size=8, verbose=0)
"""


def test_same_weights_give_same_losses_on_every_backend(tmp_path, binary_images):
    x = binary_images(16, SHAPE)
    model = tiny()
    model.compile()
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    path, data = str(tmp_path / "m.keras"), str(tmp_path / "x.npy")
    model.save(path)
    np.save(data, x)
    here = model.compute_losses(x[:8], x[8:], sample=False)
    for backend in ("jax", "tensorflow", "torch"):
        if backend == keras.backend.backend():
            continue
        env = dict(os.environ, KERAS_BACKEND=backend)
        out = subprocess.run(
            [sys.executable, "-c", _LOAD_AND_SCORE, path, data],
            env=env, capture_output=True, text=True, timeout=300,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        line = [l for l in out.stdout.splitlines() if l.startswith("LOSSES")][0]
        there = json.loads(line[len("LOSSES"):])
        for key in ("reconstruction_loss", "kl_loss", "tc_loss", "discriminator_loss"):
            assert there[key] == pytest.approx(here[key], rel=1e-4, abs=1e-5), (backend, key)
