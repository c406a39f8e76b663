"""The base VAE every model of the zoo derives from."""

import keras
import numpy as np
from keras import ops

from keras_factorvae import chains
from keras_factorvae import losses
from keras_factorvae import networks
from keras_factorvae.callbacks.nan_guard import TerminateOnNonFinite
from keras_factorvae.models import inference
from keras_factorvae.models.train_step import Update
from keras_factorvae.models.train_step import backend_train_step
from keras_factorvae.optimizers import default_vae_optimizer
from keras_factorvae.serialization import deserialize_optimizer
from keras_factorvae.serialization import serialize_optimizer
from keras_factorvae.validation import check_images
from keras_factorvae.validation import check_input_data


@keras.saving.register_keras_serializable(package="keras_factorvae")
class BaseVAE(backend_train_step(), keras.Model):
    """A Gaussian-posterior VAE with a custom, multi-backend training step.

    The loss is `reconstruction + latent_loss`, where the reconstruction is
    summed over pixels and the latent loss (the KL divergence to N(0, I)
    summed over latent dims, here) is averaged over the batch, as in
    disentanglement_lib. Models of the zoo override `latent_loss` only, and
    FactorVAE adds a discriminator update.

    The model is trained with `fit` on batches of float images in [0, 1]
    (numpy arrays, `tf.data`, `keras.utils.PyDataset` or any iterable a Keras
    backend accepts). A batch may also be a pair `(x, x2)` of two batches;
    only FactorVAE uses `x2` (see there), the other models ignore it.

    Args:
        latent_dim: number of latent dimensions (>= 1).
        input_shape: image shape `(side, side, channels)`; the presets take
            square sides of 32, 64 or 128 and any channel count.
        preset: `"conv"` (disentanglement_lib), `"conv_paper"` (FactorVAE
            paper appendix) or `"mlp"`; see `keras_factorvae.networks`.
        reconstruction: `"bernoulli"` (sigmoid cross-entropy on logits) or
            `"gaussian"` (squared error on `sigmoid(logits)`).
        encoder: optional Keras model mapping images to `(batch,
            2 * latent_dim)` (means, then log-variances); replaces the preset.
        decoder: optional Keras model mapping codes to image logits.
        seed: seed of the model's noise (sampling, permutations).

    Example:

    >>> model = keras_factorvae.VAE(latent_dim=4, input_shape=(32, 32, 1))
    >>> model.compile()
    >>> model.fit(np.random.rand(8, 32, 32, 1).astype("float32") > 0.5 ...)
    """

    # Names logged by `fit` / `evaluate`, in display order.
    loss_names = ("loss", "reconstruction_loss", "kl_loss")

    def __init__(
        self,
        latent_dim=10,
        input_shape=(64, 64, 1),
        preset="conv",
        reconstruction="bernoulli",
        encoder=None,
        decoder=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(latent_dim, (int, np.integer)) or latent_dim < 1:
            raise ValueError(
                f"`latent_dim` must be an integer >= 1, received {latent_dim!r}."
            )
        if reconstruction not in losses.RECONSTRUCTIONS:
            raise ValueError(
                f"Unknown reconstruction {reconstruction!r}; known: "
                f"{sorted(losses.RECONSTRUCTIONS)}."
            )
        if isinstance(encoder, dict):
            encoder = keras.saving.deserialize_keras_object(encoder)
        if isinstance(decoder, dict):
            decoder = keras.saving.deserialize_keras_object(decoder)
        if (encoder is None) != (decoder is None):
            raise ValueError("Pass both `encoder=` and `decoder=`, or neither.")
        if encoder is None and preset not in networks.PRESETS:
            raise ValueError(
                f"Unknown preset {preset!r}; known: {networks.PRESETS}."
            )
        self.latent_dim = int(latent_dim)
        self.preset = preset if encoder is None else None
        self.reconstruction = reconstruction
        self.seed = seed
        self._custom_networks = encoder is not None

        # === Layers ===
        if encoder is None:
            self.image_shape = networks.check_image_shape(input_shape)
            encoder = networks.build_encoder(preset, self.image_shape, latent_dim)
            decoder = networks.build_decoder(preset, self.image_shape, latent_dim)
        else:
            self.image_shape = tuple(encoder.input_shape[1:])
            if encoder.output_shape[-1] != 2 * latent_dim:
                raise ValueError(
                    f"The encoder must output 2 * latent_dim = {2 * latent_dim}"
                    f" values per image; it outputs {encoder.output_shape}."
                )
        self.encoder = encoder
        self.decoder = decoder
        self.seed_generator = keras.random.SeedGenerator(seed)

        # === Metrics ===
        self._trackers = [keras.metrics.Mean(name=n) for n in self.loss_names]
        self.built = True

    # === Encoding and decoding ===

    def encode_stats(self, x, training=False):
        """Posterior means and (bounded) log-variances of a batch, as tensors.

        float32 under any dtype policy: the losses and the metrics take them
        in float32 (a `mixed_bfloat16` encoder computes in bfloat16).
        """
        stats = ops.cast(chains.run(self.encoder, x, training=training), "float32")
        mean = stats[:, : self.latent_dim]
        logvar = losses.clip_logvar(stats[:, self.latent_dim :])
        return mean, logvar

    def call(self, inputs, training=False):
        mean, _ = self.encode_stats(inputs, training=training)
        return ops.sigmoid(chains.run(self.decoder, mean, training=training))

    def posterior_stats(self, x, batch_size=256):
        """Posterior means and log-variances of images, as numpy arrays.

        The batched inference path of the zoo (`models.inference`): the
        metrics, the pictures of `visualize` and the CLI encode through it.

        Args:
            x: float images in [0, 1], shape `(n,) + input_shape`.
            batch_size: most images per encoder call.

        Returns:
            `(mean, logvar)`, float32 numpy arrays `(n, latent_dim)` under
            every backend and dtype policy.
        """
        x = check_images(x, self.image_shape)
        return inference.posterior_stats(self, x, batch_size)

    def encode(self, x, sample=False, batch_size=256):
        """Encodes images to latent codes.

        Args:
            x: float images in [0, 1], shape `(n,) + input_shape`.
            sample: return reparameterised samples instead of the means.
            batch_size: images per encoder call.

        Returns:
            A float32 numpy array of shape `(n, latent_dim)`.
        """
        mean, logvar = self.posterior_stats(x, batch_size)
        if not sample:
            return mean
        eps = ops.convert_to_numpy(
            keras.random.normal(mean.shape, seed=self.seed_generator)
        )
        return mean + np.exp(0.5 * logvar) * eps

    def decode(self, z, batch_size=256):
        """Decodes latent codes to images in [0, 1] (numpy, `(n,) + shape`)."""
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected codes of shape (n, {self.latent_dim}), "
                f"received {z.shape}."
            )
        out = [
            ops.convert_to_numpy(ops.sigmoid(self.decoder(z[s : s + batch_size])))
            for s in range(0, len(z), batch_size)
        ]
        return np.concatenate(out) if out else np.zeros((0,) + self.image_shape)

    # === Losses ===

    def latent_loss(self, x, mean, logvar, z, kl):
        """What the model adds to the reconstruction loss.

        Args:
            x: the batch of images.
            mean, logvar: posterior parameters, `(batch, latent_dim)`.
            z: the reparameterised sample.
            kl: the batch-averaged KL divergence to the prior.

        Returns:
            `(loss_term, logs)`: a scalar and a dict of extra logged scalars;
            or `(loss_term, logs, carry)`, where `carry` is a dict of tensors
            that the model's later updates read (see `train_step`).
        """
        return kl, {}

    def _reconstruction_loss(self, x, logits):
        return losses.RECONSTRUCTIONS[self.reconstruction](x, logits)

    def _vae_loss(self, x, x2, carry):
        mean, logvar = self.encode_stats(x, training=True)
        z = losses.sample_gaussian(mean, logvar, self._noise_seed())
        logits = chains.run(self.decoder, z, training=True)
        # Losses are computed in float32 even under mixed precision.
        mean, logvar, z = (ops.cast(t, "float32") for t in (mean, logvar, z))
        recon = self._reconstruction_loss(x, ops.cast(logits, "float32"))
        kl = losses.gaussian_kl(mean, logvar)
        term, extra, *more = self.latent_loss(x, mean, logvar, z, kl)
        loss = recon + term
        logs = {"loss": loss, "reconstruction_loss": recon, "kl_loss": kl}
        logs.update(extra)
        carry = {"z": ops.stop_gradient(z)}
        if more:
            carry.update(more[0])
        return loss, logs, carry

    def _noise_seed(self):
        # `compute_losses(sample=False)` swaps the noise for its mean.
        return None if getattr(self, "_deterministic", False) else self.seed_generator

    @property
    def vae_variables(self):
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    def _loss_functions(self):
        """`(name, variables, loss_fn)` of every update, in order."""
        return [("vae", self.vae_variables, self._vae_loss)]

    def _optimizer_for(self, name):
        return self.optimizer

    def _updates(self):
        return [
            Update(name, variables, self._optimizer_for(name), fn)
            for name, variables, fn in self._loss_functions()
        ]

    def _evaluation_logs(self, x, x2):
        logs, carry = {}, None
        for _, _, loss_fn in self._loss_functions():
            _, terms, carry = loss_fn(x, x2, carry)
            logs.update(terms)
        return logs

    def compute_losses(self, x, x2=None, sample=True):
        """All logged loss terms of a batch, without updating anything.

        Args:
            x: a batch of images.
            x2: optional second batch (FactorVAE's discriminator input).
            sample: if False, codes are the posterior means and FactorVAE's
                permutation is a fixed one, so that the same weights give the
                same numbers on every backend.

        Returns:
            A dict of Python floats keyed like the `fit` logs.
        """
        x = check_images(x, self.image_shape)
        x2 = None if x2 is None else check_images(x2, self.image_shape)
        self._deterministic = not sample
        try:
            logs = self._evaluation_logs(x, x2)
        finally:
            self._deterministic = False
        return {k: float(ops.convert_to_numpy(v)) for k, v in logs.items()}

    # === Training ===

    def _unpack_batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = self._check_batch(x, "x")
        x2 = None
        # A second element shaped like the images is FactorVAE's second
        # batch; anything else (labels, factors) is ignored.
        if y is not None and len(y.shape) == 4 and tuple(y.shape[1:]) == tuple(
            x.shape[1:]
        ):
            x2 = self._check_batch(y, "x2")
        return x, x2

    def _check_batch(self, x, what):
        if len(x.shape) != 4:
            raise ValueError(
                f"Expected {what} batches of images of rank 4 "
                f"(batch,) + {self.image_shape}; received shape {tuple(x.shape)}."
            )
        if tuple(x.shape[1:]) != tuple(self.image_shape):
            raise ValueError(
                f"Images of shape {tuple(x.shape[1:])} do not match the model's "
                f"input_shape {self.image_shape}."
            )
        if "float" not in str(x.dtype):
            raise ValueError(
                f"Images must be floats in [0, 1]; received dtype {x.dtype}. "
                "Convert with x.astype('float32') / 255 for uint8 images."
            )
        return x

    def _track(self, logs):
        for tracker in self._trackers:
            if tracker.name in logs:
                tracker.update_state(ops.stop_gradient(logs[tracker.name]))
        return {t.name: t.result() for t in self._trackers}

    @property
    def metrics(self):
        return list(self._trackers)

    def compile(self, optimizer=None, **kwargs):
        """Configures training; `optimizer` defaults to the papers' Adam.

        Args:
            optimizer: optimizer (instance, name or config) of the VAE;
                defaults to Adam(1e-4, beta_1=0.9, beta_2=0.999).
            **kwargs: passed to `keras.Model.compile` (e.g. `jit_compile`,
                `steps_per_execution`); `loss` and `metrics` are not used.
        """
        optimizer = deserialize_optimizer(optimizer) or default_vae_optimizer()
        super().compile(optimizer=optimizer, **kwargs)
        self._build_optimizers()

    def _build_optimizers(self):
        self.optimizer.build(self.vae_variables)

    def get_compile_config(self):
        # An uncompiled model saves without a compile config, as in Keras.
        if not self.compiled:
            return None
        return {"optimizer": serialize_optimizer(self.optimizer)}

    def compile_from_config(self, config):
        self.compile(optimizer=deserialize_optimizer(config["optimizer"]))

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit` after checking the data; adds a NaN guard.

        Unless a `TerminateOnNonFinite` (or `keras.callbacks.TerminateOnNaN`)
        is passed, one is added, so that a non-finite loss stops training
        with a message naming the term that went bad.
        """
        check_input_data(x, y, self.image_shape)
        callbacks = list(kwargs.pop("callbacks", None) or [])
        guards = (TerminateOnNonFinite, keras.callbacks.TerminateOnNaN)
        if not any(isinstance(c, guards) for c in callbacks):
            callbacks.append(TerminateOnNonFinite())
        return super().fit(x, y, *args, callbacks=callbacks, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        check_input_data(x, y, self.image_shape)
        return super().evaluate(x, y, *args, **kwargs)

    # === Saving ===

    _SEED_STATE_KEY = "seed_generator_state"

    def save_own_variables(self, store):
        """Saves the model's own variables and its noise state.

        Keras leaves `SeedGenerator` states out of `save`/`save_weights`, so a
        model trained on after `load_model` would draw other noise
        (reparameterisation, FactorVAE's permutations) than one that never
        stopped. The state is saved beside the variables, under its own key.
        """
        super().save_own_variables(store)
        store[self._SEED_STATE_KEY] = self.seed_generator.state

    def load_own_variables(self, store):
        """Loads what `save_own_variables` wrote (older files: no noise state)."""
        keys = list(store.keys())
        if self._SEED_STATE_KEY in keys:
            self.seed_generator.state.assign(store[self._SEED_STATE_KEY])
            store = {k: store[k] for k in keys if k != self._SEED_STATE_KEY}
        super().load_own_variables(store)

    # === Config ===

    def get_config(self):
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "latent_dim": self.latent_dim,
            "input_shape": list(self.image_shape),
            "preset": self.preset,
            "reconstruction": self.reconstruction,
            "seed": self.seed,
        }
        if self._custom_networks:
            config["encoder"] = keras.saving.serialize_keras_object(self.encoder)
            config["decoder"] = keras.saving.serialize_keras_object(self.decoder)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["input_shape"] = tuple(config["input_shape"])
        return cls(**config)
