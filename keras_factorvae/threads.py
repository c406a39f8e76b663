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

Under JAX the heap goes on transparent huge pages as well (the backend
module says why). The kernel grants them only to memory advised with
`madvise(MADV_HUGEPAGE)` where it runs THP in its `madvise` mode (the usual
default), and glibc advises its own memory only under a `glibc.malloc.hugetlb`
tunable, read when the process starts. So the heap is grown here by untouched
memory below the trim threshold (`malloc` and `free` of blocks below the mmap
threshold) and the whole heap advised at once; heap the process grows later
is not advised. The price: memory becomes resident 2 MB at a time, and the
kernel's khugepaged may fill partly used 2 MB ranges, so up to the grown heap
(about 450 MB with the default thresholds) can become resident.
"""

import ctypes
import ctypes.util
import os
import time

from keras_factorvae.backend.threads import heap_huge_pages
from keras_factorvae.backend.threads import malloc_arena_max
from keras_factorvae.backend.threads import set_intra_op_threads

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_MADV_HUGEPAGE = 14  # linux/mman.h
_THP_MODE = "/sys/kernel/mm/transparent_hugepage/enabled"


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
                        arena_max="auto", huge_pages="auto"):
    """Raises glibc's malloc thresholds so large temporaries are reused.

    See the module docstring for why. Affects the whole process, all
    backends; a no-op where the C library is not glibc.

    Args:
        mmap_threshold: allocations at least this large (bytes) still get
            their own `mmap` where no free heap chunk holds them.
        trim_threshold: free memory at the top of the heap beyond this is
            returned to the system.
        arena_max: most malloc arenas: an int, None for glibc's choice, or
            `"auto"`: 1 under JAX, else None
            (`keras_factorvae.backend.threads`, which says why). It binds
            only threads that have not allocated yet, so call this before
            the framework starts its pools. Left alone where the user set
            `MALLOC_ARENA_MAX` or a `glibc.malloc.arena_max` tunable.
        huge_pages: whether to put the heap on transparent huge pages (see
            the module docstring): a bool, or `"auto"`: True under JAX,
            else False. Left alone where the user set a `glibc.malloc.hugetlb`
            tunable or the kernel runs THP in its `never` mode.

    Returns:
        True if every setting asked for was applied (the arena count and the
        huge pages only where they are set here).

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
    if huge_pages == "auto":
        huge_pages = heap_huge_pages()
    user_hugetlb = "hugetlb" in os.environ.get("GLIBC_TUNABLES", "")
    if huge_pages and not user_hugetlb and _thp_grants_advised():
        done = _advise_heap_huge_pages(
            libc, trim_threshold * 7 // 8,
            min(64 << 20, mmap_threshold // 2)) and done
    return done


def _thp_mode():
    """The kernel's transparent huge page mode, or None where it has none."""
    try:
        with open(_THP_MODE) as f:
            text = f.read()
    except OSError:
        return None
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else None


def _thp_grants_advised():
    """Whether the kernel gives huge pages to memory advised for them."""
    return _thp_mode() in ("always", "madvise")


def _advise_heap_huge_pages(libc, reserve, block):
    """Grows the heap by `reserve` untouched bytes and advises all of it
    for huge pages; True if the kernel took the advice."""
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    blocks = [libc.malloc(block) for _ in range(max(1, reserve // max(block, 1)))]
    for pointer in blocks:
        libc.free(pointer)
    advised = False
    for start, end in _heap_mappings():
        advised = libc.madvise(start, end - start, _MADV_HUGEPAGE) == 0 or advised
    return advised


def _heap_mappings():
    """(start, end) of each of the process's `[heap]` mappings."""
    try:
        with open("/proc/self/maps") as f:
            lines = [line for line in f if line.rstrip().endswith("[heap]")]
    except OSError:  # pragma: no cover - no /proc
        return []
    return [tuple(int(v, 16) for v in line.split()[0].split("-")) for line in lines]
