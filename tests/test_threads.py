"""CPU runtime settings: the allocator thresholds take effect."""

import ctypes
import ctypes.util
import platform

import pytest

from keras_factorvae.threads import configure_allocator


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("needs glibc >= 2.33 (mallinfo2)")
    libc.mallinfo2.restype = _MallInfo2
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_large_temporaries_come_from_the_heap_after_configuring():
    libc = _libc()
    assert configure_allocator(mmap_threshold=64 << 20, trim_threshold=128 << 20)
    mapped = libc.mallinfo2().hblks
    small = libc.malloc(16 << 20)  # a discriminator layer's Adam temporary
    assert libc.mallinfo2().hblks == mapped
    big = libc.malloc(80 << 20)  # above the threshold: still its own mapping
    assert libc.mallinfo2().hblks == mapped + 1
    libc.free(small)
    libc.free(big)
    configure_allocator()
