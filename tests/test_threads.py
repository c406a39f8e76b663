"""CPU runtime settings: the allocator thresholds take effect, and only
torch's thread pool is sized."""

import os
import platform
import subprocess
import sys
import textwrap

import pytest

# The scripts run in a fresh process: other tests (the CLI's `train`)
# configure the allocator too, and a heap that already holds large free chunks
# serves any request without a new mapping, whatever the thresholds. They
# count glibc's mapped blocks (mallinfo2).
_MALLINFO = textwrap.dedent("""
    import ctypes, ctypes.util
    from keras_factorvae.threads import configure_allocator

    class MallInfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.mallinfo2.restype = MallInfo2
    libc.malloc.restype = ctypes.c_void_p
""")
_SCRIPT = _MALLINFO + textwrap.dedent("""
    mapped = lambda: libc.mallinfo2().hblks
    before = mapped()
    libc.malloc(16 << 20)  # a discriminator layer's Adam temporary
    default_maps = mapped() - before
    assert configure_allocator(mmap_threshold=64 << 20, trim_threshold=128 << 20,
                               huge_pages=False)  # no grown heap
    before = mapped()
    libc.malloc(16 << 20)
    tuned_maps = mapped() - before
    before = mapped()
    libc.malloc(80 << 20)  # above the new threshold
    big_maps = mapped() - before
    print(default_maps, tuned_maps, big_maps)
""")


def _glibc():
    name, version = platform.libc_ver()
    try:
        return name == "glibc" and tuple(map(int, version.split(".")[:2])) >= (2, 33)
    except ValueError:
        return False


@pytest.mark.skipif(not _glibc(), reason="needs glibc >= 2.33 (mallinfo2)")
def test_large_temporaries_come_from_the_heap_after_configuring():
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
        env=dict(os.environ, KERAS_BACKEND="jax"), check=True)
    default_maps, tuned_maps, big_maps = map(int, out.stdout.split()[-3:])
    assert default_maps == 1  # glibc's default: its own mapping
    assert tuned_maps == 0  # configured: from the heap
    assert big_maps == 1  # above the threshold: still its own mapping


@pytest.mark.multibackend
def test_configure_threads_sizes_torchs_pool_only(monkeypatch):
    import keras

    from keras_factorvae import backend
    from keras_factorvae import threads

    assert threads.configure_threads(None) is None
    if keras.backend.backend() != "torch":
        # JAX and TensorFlow keep their own pools; nothing is measured.
        monkeypatch.setattr(threads, "idle_cores", lambda: 1 / 0)
        assert threads.configure_threads("auto") is None
        assert threads.configure_threads(1) is None
        assert backend.intra_op_threads() is None
        return
    import torch

    before = torch.get_num_threads()
    try:
        assert threads.configure_threads(1) == 1
        assert torch.get_num_threads() == backend.intra_op_threads() == 1
        monkeypatch.setattr(threads, "idle_cores", lambda: 2)
        assert threads.configure_threads("auto") == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


# A block above a thread arena's 64 MB limit, allocated on a new thread, as
# XLA allocates a compiled step's temporaries.
_ARENA_SCRIPT = _MALLINFO + textwrap.dedent("""
    import sys, threading
    arg = sys.argv[1]
    configure_allocator(arena_max={"none": None, "auto": "auto"}.get(arg, arg))
    maps = []

    def allocate():
        before = libc.mallinfo2().hblks
        libc.malloc(100 << 20)
        maps.append(libc.mallinfo2().hblks - before)

    thread = threading.Thread(target=allocate)
    thread.start()
    thread.join()
    print(maps[0])
""")


@pytest.mark.skipif(not _glibc(), reason="needs glibc >= 2.33 (mallinfo2)")
@pytest.mark.parametrize("arena_max, env, maps", [
    ("none", {}, 1),  # glibc's arenas: the thread's own maps the block
    ("1", {}, 0),  # one arena: from the main heap
    ("auto", {"KERAS_BACKEND": "jax"}, 0),
    ("auto", {"KERAS_BACKEND": "torch"}, 1),  # torch keeps glibc's arenas
    ("1", {"MALLOC_ARENA_MAX": "8"}, 1),  # the user's setting wins
])
def test_arena_max_keeps_a_threads_large_blocks_on_the_heap(arena_max, env, maps):
    out = _run(_ARENA_SCRIPT, arena_max, env, unset="MALLOC_ARENA_MAX")
    assert int(out.split()[-1]) == maps


def _run(script, arg, env, unset):
    """`script` in a fresh JAX process, `unset` removed from and `env` added
    to this environment; its standard output."""
    environ = {k: v for k, v in os.environ.items() if k != unset}
    environ.update({"KERAS_BACKEND": "jax", **env})
    return subprocess.run([sys.executable, "-c", script, arg], capture_output=True,
                          text=True, env=environ, check=True).stdout


# The heap's mappings after configuring: bytes advised for huge pages (the
# `hg` VmFlag), bytes in all, and bytes resident.
_HUGE_SCRIPT = textwrap.dedent("""
    import re, sys
    from keras_factorvae.threads import configure_allocator

    configure_allocator(huge_pages={"auto": "auto", "on": True}[sys.argv[1]])
    advised = size = resident = 0
    with open("/proc/self/smaps") as f:
        blocks = re.split(r"\\n(?=[0-9a-f]+-[0-9a-f]+ )", f.read())
    for block in blocks:
        lines = block.splitlines()
        if not lines[0].rstrip().endswith("[heap]"):
            continue
        start, end = (int(v, 16) for v in lines[0].split()[0].split("-"))
        fields = dict(line.split(":", 1) for line in lines[1:])
        size += end - start
        advised += (end - start) * ("hg" in fields["VmFlags"].split())
        resident += int(fields["Rss"].split()[0]) << 10
    print(advised, size, resident)
""")


@pytest.mark.parametrize("huge_pages, env, advised", [
    ("auto", {"KERAS_BACKEND": "jax"}, True),
    ("on", {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}, False),  # the user's
])
def test_huge_pages_advise_a_grown_heap_without_touching_it(huge_pages, env, advised):
    out = _run(_HUGE_SCRIPT, huge_pages, env, unset="GLIBC_TUNABLES")
    advised_bytes, size, resident = map(int, out.split()[-3:])
    from keras_factorvae.threads import _thp_grants_advised

    if advised and _glibc() and _thp_grants_advised():
        # Grown by 7/8 of the 512 MB trim threshold, all of it advised, and
        # the growth left untouched.
        assert advised_bytes == size >= 448 << 20
        assert resident < size - (400 << 20)
    else:
        assert advised_bytes == 0


def test_only_jax_asks_for_huge_pages(monkeypatch):
    import keras

    from keras_factorvae.backend import threads

    for name, wanted in [("jax", True), ("tensorflow", False), ("torch", False)]:
        monkeypatch.setattr(keras.backend, "backend", lambda name=name: name)
        assert threads.heap_huge_pages() is wanted
