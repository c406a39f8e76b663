"""Thread and memory-allocator settings for CPU training.

`configure_threads("auto")` gives the backend's intra-op pool, where the
package manages it (PyTorch, whose pool spin-waits on busy cores: see
`keras_factorvae.backend.threads`), the cores that are idle right now,
measured from /proc/stat over a quarter of a second (the load average lags
by a minute and counts processes that just ended), and at least one.

`configure_allocator` keeps freed memory in the process for reuse. A step
allocates and frees the same large temporaries every time (Keras' Adam on
torch makes five 16 MB ones per discriminator layer); with glibc's defaults
each comes from a fresh `mmap` and is paid again in page faults. Raising
glibc's mmap and trim thresholds above those sizes serves them from the heap
and makes the step faster on every backend (figures in docs/benchmarks.md).
The price is that up to the trim threshold of freed memory stays with the
process instead of going back to the system. Under JAX it also keeps every
thread on glibc's main arena: XLA's temporaries are too large for the
arenas of its own threads (`keras_factorvae.backend.threads`).
"""

import ctypes
import ctypes.util
import os
import time

from keras_factorvae.backend.threads import malloc_arena_max
from keras_factorvae.backend.threads import set_intra_op_threads

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def idle_cores():
    """Cores this process may use that other processes are not using."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    total = os.cpu_count() or cores
    try:
        first = _cpu_times()
        time.sleep(0.25)
        second = _cpu_times()
    except OSError:  # pragma: no cover - no /proc
        return cores
    busy_all = sum(b - a for a, b in zip(first, second))
    idle = (second[3] + second[4]) - (first[3] + first[4])
    if busy_all <= 0:
        return cores
    idle_cores = total * idle / busy_all
    return max(1, min(cores, int(idle_cores + 0.5)))


def _cpu_times():
    with open("/proc/stat") as f:
        return [int(v) for v in f.readline().split()[1:]]


def configure_threads(threads="auto"):
    """Sizes the backend's intra-op threads where the package manages them.

    Only PyTorch's pool is set (`keras_factorvae.backend.threads` says why);
    JAX and TensorFlow keep their own.

    Args:
        threads: `"auto"` (idle cores, see the module docstring), an int, or
            None to leave the setting alone.

    Returns:
        The number of threads set, or None.

    Example:

    >>> configure_threads("auto")
    """
    if threads is None:
        return None
    count = idle_cores if threads == "auto" else (lambda: int(threads))
    return set_intra_op_threads(count)


def configure_allocator(mmap_threshold=256 << 20, trim_threshold=512 << 20,
                        arena_max="auto"):
    """Raises glibc's malloc thresholds so large temporaries are reused.

    See the module docstring for why. Affects the whole process, all
    backends; a no-op where the C library is not glibc.

    Args:
        mmap_threshold: allocations at least this large (bytes) still get
            their own `mmap`.
        trim_threshold: free memory at the top of the heap beyond this is
            returned to the system.
        arena_max: most malloc arenas: an int, None for glibc's choice, or
            `"auto"`: 1 under JAX, else None
            (`keras_factorvae.backend.threads`, which says why). It binds
            only threads that have not allocated yet, so call this before
            the framework starts its pools. Left alone where the user set
            `MALLOC_ARENA_MAX` or a `glibc.malloc.arena_max` tunable.

    Returns:
        True if every setting asked for was applied (the arena count only
        where it is set here).

    Example:

    >>> configure_allocator()
    True
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # not glibc
        return False
    done = bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))) and bool(
        mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))
    if arena_max == "auto":
        arena_max = malloc_arena_max()
    user_set = "MALLOC_ARENA_MAX" in os.environ or "arena_max" in os.environ.get(
        "GLIBC_TUNABLES", "")
    if arena_max is not None and not user_set:
        done = bool(mallopt(_M_ARENA_MAX, int(arena_max))) and done
    return done
