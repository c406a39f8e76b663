"""Optional dependencies, and the error that names the extra to install.

`pip install keras-factorvae` pulls Keras, NumPy and what the models,
metrics and pictures need. TensorFlow pipelines, tensorflow-datasets and
KerasTuner come with extras: `[tensorflow]`, `[tfds]`, `[tuner]`, or
`[all]`.
"""

import importlib

# module -> (extra, what needs it)
EXTRAS = {
    "tensorflow": ("tensorflow", "tf.data pipelines and the TensorFlow backend"),
    "tensorflow_datasets": ("tfds", "datasets from tensorflow-datasets"),
    "keras_tuner": ("tuner", "the KerasTuner search (keras_factorvae.tuning)"),
}


def require(module):
    """Imports an optional dependency, or raises an error naming its extra.

    Args:
        module: a key of `EXTRAS` (e.g. `"tensorflow"`).

    Returns:
        The imported module.

    Raises:
        ImportError: the module is not installed; the message says which
            `pip install 'keras-factorvae[EXTRA]'` provides it.

    Example:

    >>> tf = require("tensorflow")
    """
    extra, purpose = EXTRAS[module]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{purpose} need(s) the `{module}` package, which is not "
            f"installed ({error}). Install it with "
            f"`pip install 'keras-factorvae[{extra}]'` (or `[all]`)."
        ) from error
