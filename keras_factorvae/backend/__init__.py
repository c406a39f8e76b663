"""Everything that differs per Keras backend, behind small named functions.

One place for the backend branches: code elsewhere in the package calls
these instead of asking which backend is active. (The training step's
branches live in `models/train_step.py`.) Importing this package imports
neither Keras nor a framework, so `prefer_tensorflow_onednn` can run before
TensorFlow is imported.

- `name`: the active backend's name, for records.
- `set_random_seed` (`seeding`): seeding without importing TensorFlow.
- `apply_gradients` (`fused_adam`): Adam as one fused kernel per tensor.
- `jax_compiler_options`, `prefer_tensorflow_onednn` (`compile_options`).
- `set_intra_op_threads`, `intra_op_threads`, `malloc_arena_max`,
  `heap_huge_pages` (`threads`).
- `conv_data_format`, `rearranged_convolutions_pay`,
  `narrow_transposes_by_tap_conv` (`conv`).
- `torch_conv.conv2d`, `torch_conv.conv2d_transpose`: torch's own padded,
  bias-fused ops for the convolution layers, and a product-and-fold forward
  pass for transposed ones with few filters (None on other backends).
- `share_gpu_memory`, `gpu_sharing_environment` (`devices`).
- `calls_layers_directly` (`layer_calls`): where `keras_factorvae.chains`
  runs a chain of layers without Keras' per-call work (PyTorch).
"""

from keras_factorvae.backend.compile_options import jax_compiler_options
from keras_factorvae.backend.compile_options import prefer_tensorflow_onednn
from keras_factorvae.backend.conv import conv_data_format
from keras_factorvae.backend.conv import narrow_transposes_by_tap_conv
from keras_factorvae.backend.conv import rearranged_convolutions_pay
from keras_factorvae.backend.devices import gpu_sharing_environment
from keras_factorvae.backend.devices import share_gpu_memory
from keras_factorvae.backend.layer_calls import DIRECT_CALL_BACKENDS
from keras_factorvae.backend.layer_calls import calls_layers_directly
from keras_factorvae.backend.seeding import set_random_seed
from keras_factorvae.backend.threads import heap_huge_pages
from keras_factorvae.backend.threads import intra_op_threads
from keras_factorvae.backend.threads import malloc_arena_max
from keras_factorvae.backend.threads import set_intra_op_threads

__all__ = [
    "DIRECT_CALL_BACKENDS", "apply_gradients", "calls_layers_directly",
    "conv_data_format", "gpu_sharing_environment",
    "heap_huge_pages", "intra_op_threads", "jax_compiler_options",
    "malloc_arena_max", "name", "narrow_transposes_by_tap_conv",
    "prefer_tensorflow_onednn", "rearranged_convolutions_pay",
    "set_intra_op_threads", "set_random_seed", "share_gpu_memory",
]


def name():
    """The active Keras backend's name (`keras.backend.backend()`)."""
    import keras

    return keras.backend.backend()


def apply_gradients(optimizer, grads, variables):
    """What `optimizer.apply(grads, variables)` does, as a fused Adam kernel
    where the backend has one (`keras_factorvae.backend.fused_adam`).

    Returns:
        True if a fused kernel did the update.
    """
    from keras_factorvae.backend import fused_adam

    return fused_adam.apply_gradients(optimizer, grads, variables)
