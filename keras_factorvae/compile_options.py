"""XLA compiler options for the JAX backend's compiled steps.

Recent XLA:CPU releases (jaxlib 0.10 and later) hand every convolution to the
YNNPACK library by default. For the convolutions of the conv presets at
batch 64 this was slower than XLA's own (Eigen) convolutions: with YNNPACK
left out of the convolutions, a FactorVAE step ran 23% faster (8.4 vs 6.8
steps/s, medians of 4 alternated runs of `python -m keras_factorvae.bench`,
2-core CPU). Matrix products stay with YNNPACK.

The option is passed to the step's own `jax.jit` (`compiler_options=`), not
through the `XLA_FLAGS` environment variable: it then changes only this
library's compiled steps, and a jaxlib that does not know the option is
detected (one tiny compilation, once per process) and left with its
defaults, where an unknown `XLA_FLAGS` entry would abort the process.

Set the environment variable `KERAS_FACTORVAE_XLA_OPTIONS=0` to compile with
XLA's defaults.

TensorFlow: its oneDNN kernels (convolutions, matrix products, fused
post-ops) are on by default only on x86 CPUs with AVX-512 VNNI or newer
features; elsewhere TensorFlow runs Eigen's kernels. On an AVX2 CPU (AMD
EPYC, 2 cores) the FactorVAE step took 360 ms with Eigen and 150-180 ms with
oneDNN; on an AVX-512 CPU, where oneDNN is on by default, turning it off made
the step 2x slower. `prefer_tensorflow_onednn` (called when the package is
imported) therefore sets `TF_ENABLE_ONEDNN_OPTS=1` on x86 unless the
variable is already set. It must precede TensorFlow's import: where
TensorFlow was imported first, nothing changes. Set
`TF_ENABLE_ONEDNN_OPTS=0` to keep Eigen's kernels. oneDNN's results differ
from Eigen's by float rounding (TensorFlow says so in a log line).
"""

import functools
import os
import platform
import sys

_X86 = ("x86_64", "amd64", "i386", "i686", "x86")

# jaxlib 0.10's default YNNPACK fusion list less INDIVIDUAL_CONVOLUTION: the
# compiled step is the one `XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=
# -individual_convolution` gives (its optimized HLO compared equal). Passed
# per compilation, the option takes the full list, not the "-" form. The
# speed-up was measured on CPU; other platforms compile with defaults.
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
    except Exception:  # an older or newer jaxlib without this option
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

    See the module docstring for the measurements.

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
