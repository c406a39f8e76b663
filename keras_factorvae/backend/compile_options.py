"""Compiler and kernel settings: XLA options for JAX, oneDNN for TensorFlow.

JAX: XLA:CPU hands every convolution to the YNNPACK library by default. For
the convolutions of the conv presets XLA's own (Eigen) convolutions are
faster, so the training and test steps are compiled with YNNPACK left out of
the convolutions; matrix products stay with YNNPACK (figures in
docs/benchmarks.md). The option is passed to the step's own `jax.jit`
(`compiler_options=`), not through the `XLA_FLAGS` environment variable: it
then changes only this library's compiled steps, and a jaxlib that does not
know the option is detected (one tiny compilation, once per process) and
left with its defaults, where an unknown `XLA_FLAGS` entry would abort the
process. Set `KERAS_FACTORVAE_XLA_OPTIONS=0` to compile with XLA's defaults.

TensorFlow: its oneDNN kernels (convolutions, matrix products, fused
post-ops) are on by default only on x86 CPUs with AVX-512 VNNI or newer
features; elsewhere TensorFlow runs Eigen's kernels, which are slower for
these networks on x86 (docs/benchmarks.md). `prefer_tensorflow_onednn` sets
`TF_ENABLE_ONEDNN_OPTS=1` on x86 unless the variable is already set. It must
run before TensorFlow's import (the command line, benchmark and examples
call it first); where TensorFlow was imported first, nothing changes. Set
`TF_ENABLE_ONEDNN_OPTS=0` to keep Eigen's kernels. oneDNN's results differ
from Eigen's by float rounding (TensorFlow says so in a log line).
"""

import functools
import os
import platform
import sys

_X86 = ("x86_64", "amd64", "i386", "i686", "x86")

# XLA:CPU's default YNNPACK fusion list (jaxlib 0.10) less
# INDIVIDUAL_CONVOLUTION: the compiled step equals the one
# `XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=-individual_convolution`
# gives. Passed per compilation, the option takes the full list, not the "-"
# form. Only CPU compilations take it; other platforms keep their defaults.
CPU_OPTIONS = {
    "xla_cpu_experimental_ynn_fusion_type":
        "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE",
}


@functools.lru_cache(maxsize=None)
def _accepted(platform):
    if platform != "cpu":
        return ()
    import jax

    try:
        jax.jit(lambda x: x + 1, compiler_options=CPU_OPTIONS).lower(1.0).compile()
    except Exception:  # a jaxlib without this option
        return ()
    return tuple(CPU_OPTIONS.items())


def jax_compiler_options():
    """The `compiler_options` for `jax.jit` of a training or test step.

    Returns:
        A dict (empty where the options do not apply: not on CPU, switched
        off by `KERAS_FACTORVAE_XLA_OPTIONS=0`, or unknown to this jaxlib).

    Example:

    >>> jax.jit(step, compiler_options=jax_compiler_options())
    """
    if os.environ.get("KERAS_FACTORVAE_XLA_OPTIONS", "1") == "0":
        return {}
    import jax

    return dict(_accepted(jax.default_backend()))


def prefer_tensorflow_onednn():
    """Turns TensorFlow's oneDNN kernels on, on x86, unless the user chose.

    Call it before anything imports TensorFlow; see the module docstring.

    Returns:
        True if `TF_ENABLE_ONEDNN_OPTS` was set here (before TensorFlow's
        import, so it takes effect).

    Example:

    >>> prefer_tensorflow_onednn()   # before `import tensorflow`
    True
    """
    if "TF_ENABLE_ONEDNN_OPTS" in os.environ or "tensorflow" in sys.modules:
        return False
    if platform.machine().lower() not in _X86:
        return False
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
    return True
