"""FactorVAE (Kim & Mnih, ICML 2018, "Disentangling by Factorising")."""

import keras
from keras import ops

from keras_factorvae import chains
from keras_factorvae import losses
from keras_factorvae import networks
from keras_factorvae.models.base import BaseVAE
from keras_factorvae.optimizers import PairedOptimizer
from keras_factorvae.optimizers import default_discriminator_optimizer
from keras_factorvae.optimizers import default_vae_optimizer
from keras_factorvae.serialization import deserialize_optimizer


@keras.saving.register_keras_serializable(package="keras_factorvae")
class FactorVAE(BaseVAE):
    """A VAE whose total correlation is penalised through a discriminator.

    Loss of the VAE update: `reconstruction + KL + gamma * TC`, where
    `TC = mean(D(z)[:, 0] - D(z)[:, 1])` is the density-ratio estimate from
    the discriminator's logits (class 0: codes from q(z), class 1: codes
    from the product of its marginals). It can be negative. The VAE update
    changes the encoder and decoder only.

    Discriminator update (after the VAE update, same step): cross-entropy
    `0.5 * (CE(D(z), 0) + CE(D(permute_dims(z')), 1))` with both codes
    treated as constants, which changes the discriminator only.

    Where z' comes from: if a batch is a pair `(x, x2)` (e.g. from
    `dataset.as_dataset(paired=True)`), z' is sampled from `x2`, an
    independent second batch, as in the paper's Algorithm 2. If a batch is a
    single array, z' is the same batch's z, permuted: the disentanglement_lib
    behaviour, and the default since plain image batches are what most
    pipelines yield.

    Args:
        latent_dim, input_shape, preset, reconstruction, encoder, decoder,
            seed: see `BaseVAE`.
        gamma: weight of the total correlation term (>= 0).
        discriminator_units: width of the discriminator's hidden layers.
        discriminator_layers: number of hidden layers (disentanglement_lib's
            6; the popular PyTorch repositories use 5).
        discriminator: optional Keras model mapping codes to 2 logits.

    Example:

    >>> model = FactorVAE(latent_dim=10, input_shape=(64, 64, 1), gamma=35.0)
    >>> model.compile()   # Adam(1e-4, 0.9, 0.999) and Adam(1e-4, 0.5, 0.9)
    >>> model.fit(images, epochs=1, batch_size=64)
    >>> z = model.encode(images[:10])
    """

    loss_names = BaseVAE.loss_names + (
        "tc_loss",
        "discriminator_loss",
        "discriminator_accuracy",
    )

    def __init__(
        self,
        latent_dim=10,
        input_shape=(64, 64, 1),
        preset="conv",
        gamma=35.0,
        discriminator_units=1000,
        discriminator_layers=6,
        discriminator=None,
        **kwargs,
    ):
        if gamma is None or float(gamma) < 0:
            raise ValueError(f"`gamma` must be >= 0, received {gamma!r}.")
        super().__init__(
            latent_dim=latent_dim, input_shape=input_shape, preset=preset,
            **kwargs,
        )
        self.gamma = float(gamma)
        self.discriminator_units = int(discriminator_units)
        self.discriminator_layers = int(discriminator_layers)
        if isinstance(discriminator, dict):
            discriminator = keras.saving.deserialize_keras_object(discriminator)
        self._custom_discriminator = discriminator is not None
        # === Layers ===
        self.discriminator = discriminator or networks.build_discriminator(
            self.latent_dim, self.discriminator_units, self.discriminator_layers
        )

    # === Losses ===

    def latent_loss(self, x, mean, logvar, z, kl):
        logits = ops.cast(
            chains.run(self.discriminator, z, training=False), "float32"
        )
        tc = losses.density_ratio_tc(logits)
        return kl + self.gamma * tc, {"tc_loss": tc}, {"logits_real": logits}

    def _discriminator_loss(self, x, x2, carry):
        z = carry["z"]
        if x2 is None:
            z_other = z
        else:
            mean, logvar = self.encode_stats(x2, training=True)
            z_other = losses.sample_gaussian(mean, logvar, self._noise_seed())
        z_perm = ops.stop_gradient(
            losses.permute_dims(ops.cast(z_other, "float32"), self._noise_seed())
        )
        logits_real, logits_perm = self._discriminate(carry, z_perm)
        loss = losses.discriminator_cross_entropy(logits_real, logits_perm)
        acc = losses.discriminator_accuracy(logits_real, logits_perm)
        logs = {"discriminator_loss": loss, "discriminator_accuracy": acc}
        return loss, logs, carry

    def _discriminate(self, carry, z_perm):
        """Discriminator logits of the codes z and of the permuted codes."""
        z = carry["z"]
        if self._custom_discriminator:
            # A custom discriminator may use batch statistics or dropout, so
            # it runs again in training mode, the batches kept apart.
            return (
                ops.cast(self.discriminator(z, training=True), "float32"),
                ops.cast(self.discriminator(z_perm, training=True), "float32"),
            )
        if self.GRAPH_SPANS_UPDATES:
            # The built-in discriminator has no training-mode behaviour and
            # its weights are as the VAE update's D(z) saw them: those logits
            # give the same loss and the same weight gradients, one forward
            # pass sooner. It is the PyTorch repositories' graph; the step
            # differentiates it w.r.t. the discriminator's weights alone, so
            # neither their in-place error nor their leak into the encoder.
            return carry["logits_real"], ops.cast(
                chains.run(self.discriminator, z_perm, training=True), "float32"
            )
        # The built-in one treats rows independently, and one call on 2B rows
        # runs faster than two calls on B.
        batch = ops.shape(z)[0]
        both = ops.concatenate([ops.cast(z, z_perm.dtype), z_perm], axis=0)
        logits = ops.cast(
            chains.run(self.discriminator, both, training=True), "float32"
        )
        return logits[:batch], logits[batch:]

    def _loss_functions(self):
        return super()._loss_functions() + [
            (
                "discriminator",
                self.discriminator.trainable_variables,
                self._discriminator_loss,
            )
        ]

    def _optimizer_for(self, name):
        if name == "discriminator":
            return self.optimizer.discriminator_optimizer
        return self.optimizer.vae_optimizer

    # === Training ===

    def compile(self, optimizer=None, discriminator_optimizer=None, **kwargs):
        """Configures training with one optimizer per update.

        Args:
            optimizer: the VAE optimizer; defaults to Adam(1e-4, 0.9, 0.999).
                A `PairedOptimizer` sets both at once.
            discriminator_optimizer: defaults to Adam(1e-4, 0.5, 0.9).
            **kwargs: passed to `keras.Model.compile`.
        """
        optimizer = deserialize_optimizer(optimizer)
        if not isinstance(optimizer, PairedOptimizer):
            optimizer = PairedOptimizer(
                optimizer or default_vae_optimizer(),
                deserialize_optimizer(discriminator_optimizer)
                or default_discriminator_optimizer(),
            )
        elif discriminator_optimizer is not None:
            raise ValueError(
                "Pass `discriminator_optimizer` or a PairedOptimizer, not both."
            )
        keras.Model.compile(self, optimizer=optimizer, **kwargs)
        if isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
            # Keras wraps the whole pair under mixed_float16; each update
            # needs its own dynamic loss scale instead.
            self.optimizer = self.optimizer.inner_optimizer
            self.optimizer.wrap_for_loss_scaling()
        self.optimizer.build_pair(
            self.vae_variables, self.discriminator.trainable_variables
        )

    # === Config ===

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "gamma": self.gamma,
                "discriminator_units": self.discriminator_units,
                "discriminator_layers": self.discriminator_layers,
            }
        )
        if self._custom_discriminator:
            config["discriminator"] = keras.saving.serialize_keras_object(
                self.discriminator
            )
        return config
