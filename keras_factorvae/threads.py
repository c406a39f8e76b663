"""Thread settings for CPU training.

With two cores, PyTorch's intra-op thread pool spin-waits: when another
process holds one of the cores, a two-thread step can run ten times slower
than a one-thread step (measured on the 2-core CI machine). `auto` therefore
gives PyTorch only the cores that are idle right now (the cores this process
may use, minus the 1-minute load average of the others), and at least one.
JAX (XLA) and TensorFlow size their own pools when they start and degrade
gracefully; they are left alone.
"""

import os


def idle_cores():
    """Cores this process may use that other processes are not using."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except OSError:  # pragma: no cover
        busy = 0.0
    return max(1, min(cores, int(round(cores - busy))))


def configure_threads(threads="auto"):
    """Sets PyTorch's intra-op threads when torch is the Keras backend.

    Args:
        threads: `"auto"` (idle cores, see the module docstring), an int, or
            None to leave the setting alone.

    Returns:
        The number of threads set, or None.

    Example:

    >>> configure_threads("auto")
    """
    import keras

    if threads is None or keras.backend.backend() != "torch":
        return None
    n = idle_cores() if threads == "auto" else int(threads)
    import torch

    torch.set_num_threads(n)
    return n
