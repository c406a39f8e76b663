"""GPU memory: letting several processes share one GPU.

By default TensorFlow and JAX reserve (nearly) all GPU memory at their first
GPU use, so a second process on the same GPU would fail; PyTorch's caching
allocator grows on demand and needs nothing.

- TensorFlow: memory growth, set per visible GPU from inside the process
  before TensorFlow first uses a GPU.
- JAX: `XLA_PYTHON_CLIENT_PREALLOCATE=false` and optionally
  `XLA_PYTHON_CLIENT_MEM_FRACTION`, read when JAX creates its GPU client
  (first device use). The safe place for them is the environment a launcher
  gives the process (`gpu_sharing_environment`); `share_gpu_memory` sets
  them in this process, which works only before JAX's first device use.
"""

import os
import warnings

_PREALLOCATE = "XLA_PYTHON_CLIENT_PREALLOCATE"
_MEM_FRACTION = "XLA_PYTHON_CLIENT_MEM_FRACTION"


def share_gpu_memory(memory_fraction=None):
    """Lets this process share its GPU with others; call before the first
    GPU use.

    - TensorFlow: `tf.config.experimental.set_memory_growth(gpu, True)` for
      every visible GPU (TensorFlow is imported only when it is the Keras
      backend). It fails once TensorFlow has used the GPU; that is reported
      with a warning.
    - JAX: `XLA_PYTHON_CLIENT_PREALLOCATE=false` and, if given,
      `XLA_PYTHON_CLIENT_MEM_FRACTION`, in `os.environ`. Values already in
      the environment are kept.
    - PyTorch: nothing.

    Args:
        memory_fraction: optional fraction of GPU memory (0, 1] a JAX
            process may use; ignored by the other backends.

    Returns:
        A dict saying what was done: `{"backend": ..., "gpus": n or None,
        "memory_growth": bool, "env": {...}}`.
    """
    import keras

    backend = keras.backend.backend()
    report = {"backend": backend, "gpus": None, "memory_growth": False,
              "env": {}}
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        report["gpus"] = len(gpus)
        try:
            for gpu in gpus:
                tf.config.experimental.set_memory_growth(gpu, True)
            report["memory_growth"] = bool(gpus)
        except RuntimeError as error:
            # Raised once the GPUs are initialised; growth is then whatever
            # was configured first.
            warnings.warn(
                f"Could not enable GPU memory growth: {error}", stacklevel=3)
    elif backend == "jax":
        os.environ.setdefault(_PREALLOCATE, "false")
        if memory_fraction is not None:
            if not 0 < float(memory_fraction) <= 1:
                raise ValueError(
                    f"`memory_fraction` must be in (0, 1]; received "
                    f"{memory_fraction}."
                )
            os.environ.setdefault(
                _MEM_FRACTION, f"{float(memory_fraction):g}")
        report["env"] = {
            k: os.environ[k] for k in (_PREALLOCATE, _MEM_FRACTION)
            if k in os.environ
        }
        report["memory_growth"] = os.environ[_PREALLOCATE].lower() == "false"
    return report


def gpu_sharing_environment(memory_fraction=None):
    """Environment variables for a new process that shares a GPU.

    Only JAX reads environment variables for this; the other backends ignore
    them (TensorFlow's growth is set in the process by `share_gpu_memory`),
    so the variables are the same whatever the worker's backend.

    Args:
        memory_fraction: optional fraction of GPU memory the process may use.

    Returns:
        A dict of variable names to values.

    Example:

    >>> gpu_sharing_environment(0.45)
    {'XLA_PYTHON_CLIENT_PREALLOCATE': 'false', 'XLA_PYTHON_CLIENT_MEM_FRACTION': '0.45'}
    """
    env = {_PREALLOCATE: "false"}
    if memory_fraction is not None:
        env[_MEM_FRACTION] = f"{memory_fraction:.3g}"
    return env
