"""Backend-neutral (de)serialisation helpers.

Keras' built-in optimizers are backend-specific classes at run time (under
torch `keras.optimizers.Adam` is a `TorchAdam`); serialising them with their
module path makes a file saved under torch unloadable elsewhere. Built-in
optimizers are therefore stored by their public class name only.
"""

import keras


def serialize_optimizer(optimizer):
    """Returns a config that any backend can turn back into `optimizer`."""
    if type(optimizer).__module__.startswith("keras."):
        name = type(optimizer).__name__
        if name.startswith("Torch") and hasattr(keras.optimizers, name[5:]):
            name = name[5:]
        return {"class_name": name, "config": optimizer.get_config()}
    return keras.saving.serialize_keras_object(optimizer)


def deserialize_optimizer(config):
    """Inverse of `serialize_optimizer`; passes optimizer instances through."""
    if config is None or isinstance(config, keras.optimizers.Optimizer):
        return config
    if isinstance(config, str):
        return keras.optimizers.get(config)
    if "module" not in config and hasattr(keras.optimizers, config["class_name"]):
        cls = getattr(keras.optimizers, config["class_name"])
        return cls.from_config(config["config"])
    return keras.saving.deserialize_keras_object(config)
