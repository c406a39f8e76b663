"""The backend's intra-op thread pool.

PyTorch's pool spin-waits: when another process holds one of its cores, a
step with one thread per core runs many times slower than one that leaves
the busy core alone, so under torch the package sizes the pool itself.
JAX (XLA) and TensorFlow size their own pools when they start and degrade
gracefully when cores are busy; they are left alone.

XLA:CPU (JAX) allocates a compiled step's temporaries on its own threads,
in blocks larger than a thread's own malloc arena can hold (64 MB), so glibc
maps each afresh every step and the step pays again in page faults; under
JAX the allocator keeps every thread on the main arena, which grows without
bound (`SINGLE_ARENA_BACKENDS`, `keras_factorvae.threads.configure_allocator`).
TensorFlow's and PyTorch's steps make no such blocks and keep glibc's arenas.

JAX's step ran a little faster with the heap on transparent huge pages
(about 2%, docs/benchmarks.md), likely because XLA:CPU transposes
activations for the convolutions' kernel gradients, reading a batch-major
tensor a whole image apart per element, and huge pages serve those reads
from far fewer TLB entries; under JAX the allocator asks the kernel for them
(`HUGE_PAGE_HEAP_BACKENDS`). TensorFlow's and PyTorch's steps gained nothing.

Keras is imported when a function is called, not with this module:
importing `keras_factorvae.threads` (to configure the allocator first) does
not import a framework.
"""

# Backends whose steps run on one malloc arena (see the module docstring).
SINGLE_ARENA_BACKENDS = ("jax",)

# Backends whose steps run on a heap backed by huge pages (see the module
# docstring).
HUGE_PAGE_HEAP_BACKENDS = ("jax",)


def malloc_arena_max():
    """The most malloc arenas for the backend's steps: 1 for the backends
    in `SINGLE_ARENA_BACKENDS`, else None (glibc's choice).

    Example:

    >>> malloc_arena_max()   # under KERAS_BACKEND=jax
    1
    """
    import keras

    return 1 if keras.backend.backend() in SINGLE_ARENA_BACKENDS else None


def heap_huge_pages():
    """Whether the backend's steps want the heap on huge pages: True for
    the backends in `HUGE_PAGE_HEAP_BACKENDS`.

    Example:

    >>> heap_huge_pages()   # under KERAS_BACKEND=jax
    True
    """
    import keras

    return keras.backend.backend() in HUGE_PAGE_HEAP_BACKENDS


def set_intra_op_threads(count):
    """Sizes the backend's intra-op pool where the package manages it (torch).

    Args:
        count: a callable without arguments giving the number of threads; it
            is called only where the number is used.

    Returns:
        The number of threads set, or None where the backend keeps its own.

    Example:

    >>> set_intra_op_threads(lambda: 2)
    """
    import keras

    if keras.backend.backend() != "torch":
        return None
    n = count()
    import torch

    torch.set_num_threads(n)
    return n


def intra_op_threads():
    """The size of the backend's intra-op pool where the package manages it
    (torch), else None."""
    import keras

    if keras.backend.backend() != "torch":
        return None
    import torch

    return torch.get_num_threads()
