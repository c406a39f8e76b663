"""A pair of optimizers behind one `keras.optimizers.Optimizer`.

FactorVAE trains the VAE and the discriminator with different Adam settings.
Keras' trainers carry exactly one optimizer's state (on JAX the jitted step
only threads `model.optimizer.variables` through), so both sub-optimizers
live in one `PairedOptimizer`, whose `variables` are the union of theirs. The
training step calls each sub-optimizer on its own variables.
"""

import keras

from keras_factorvae.serialization import deserialize_optimizer
from keras_factorvae.serialization import serialize_optimizer


def default_vae_optimizer():
    """Adam(1e-4, beta_1=0.9, beta_2=0.999, epsilon=1e-8), as in the papers."""
    return keras.optimizers.Adam(
        learning_rate=1e-4, beta_1=0.9, beta_2=0.999, epsilon=1e-8
    )


def default_discriminator_optimizer():
    """Adam(1e-4, beta_1=0.5, beta_2=0.9, epsilon=1e-8), as in the paper."""
    return keras.optimizers.Adam(
        learning_rate=1e-4, beta_1=0.5, beta_2=0.9, epsilon=1e-8
    )


@keras.saving.register_keras_serializable(package="keras_factorvae")
class PairedOptimizer(keras.optimizers.Optimizer):
    """Holds the VAE optimizer and the discriminator optimizer as one.

    `iterations` is the VAE optimizer's step count. `apply` dispatches each
    gradient to the sub-optimizer that owns its variable, so the pair also
    works where Keras calls `optimizer.apply` itself.

    Args:
        vae_optimizer: optimizer (or its config) for encoder and decoder.
        discriminator_optimizer: optimizer (or config) for the discriminator.
        name: optimizer name.

    Example:

    >>> opt = PairedOptimizer(keras.optimizers.Adam(1e-4),
    ...                       keras.optimizers.Adam(1e-4, beta_1=0.5))
    """

    def __init__(
        self, vae_optimizer, discriminator_optimizer, name="paired_optimizer",
        **kwargs,
    ):
        kwargs.pop("learning_rate", None)
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self.vae_optimizer = deserialize_optimizer(vae_optimizer)
        self.discriminator_optimizer = deserialize_optimizer(
            discriminator_optimizer
        )
        self._owner = {}

    def build_pair(self, vae_variables, discriminator_variables):
        """Builds both sub-optimizers on their own variable lists."""
        if not self.vae_optimizer.built:
            self.vae_optimizer.build(list(vae_variables))
        if not self.discriminator_optimizer.built:
            self.discriminator_optimizer.build(list(discriminator_variables))
        for v in vae_variables:
            self._owner[id(v)] = self.vae_optimizer
        for v in discriminator_variables:
            self._owner[id(v)] = self.discriminator_optimizer
        if not self.built:
            super().build(list(vae_variables) + list(discriminator_variables))

    def build(self, variables):
        # Keras calls build(all trainable variables) when loading; the split
        # needs the model, which calls `build_pair` itself.
        if not self.built:
            super().build(variables)

    @property
    def variables(self):
        return (
            self._variables[:]
            + self.vae_optimizer.variables
            + self.discriminator_optimizer.variables
        )

    @property
    def iterations(self):
        return self.vae_optimizer.iterations

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        groups = {}
        for g, v in zip(grads, trainable_variables):
            opt = self._owner.get(id(v))
            if opt is None:
                raise ValueError(
                    f"Variable {v.path} was not given to build_pair()."
                )
            groups.setdefault(id(opt), (opt, [], []))
            groups[id(opt)][1].append(g)
            groups[id(opt)][2].append(v)
        for opt, gs, vs in groups.values():
            opt.apply(gs, vs)

    # The sub-optimizers are attributes, so Keras' saver stores their
    # variables itself; storing them here too would write them twice.
    def save_own_variables(self, store):
        for i, variable in enumerate(self._variables):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        for i, variable in enumerate(self._variables):
            if str(i) in store:
                variable.assign(store[str(i)])

    def wrap_for_loss_scaling(self):
        """Wraps both sub-optimizers in `LossScaleOptimizer`s (float16)."""
        lso = keras.optimizers.LossScaleOptimizer
        if not isinstance(self.vae_optimizer, lso):
            self.vae_optimizer = lso(self.vae_optimizer)
        if not isinstance(self.discriminator_optimizer, lso):
            self.discriminator_optimizer = lso(self.discriminator_optimizer)

    def get_config(self):
        # Loss scaling follows the dtype policy at compile time; store the
        # optimizers themselves.
        def inner(opt):
            return getattr(opt, "inner_optimizer", opt)

        return {
            "name": self.name,
            "vae_optimizer": serialize_optimizer(inner(self.vae_optimizer)),
            "discriminator_optimizer": serialize_optimizer(
                inner(self.discriminator_optimizer)
            ),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)
