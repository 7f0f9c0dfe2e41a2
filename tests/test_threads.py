"""Threads per operation (handgrad._threads), the compiled backend's blocks and scratch
buffers, and what loading the backend does to the process (BLAS threads, malloc, no
OpenMP settings)."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from handgrad import _threads, backend
from handgrad.functional.sizes import parse_padding

ROOT = Path(__file__).resolve().parents[1]
numba_only = pytest.mark.skipif("numba" not in backend.available(), reason="numba not installed")


@pytest.fixture
def default_threads():
    yield
    _threads.set_threads(None)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_set_threads_rejects_what_is_not_a_positive_int(bad, default_threads):
    with pytest.raises(ValueError, match=f"set_threads expected a positive int or None, got {bad!r}"):
        backend.set_threads(bad)


def test_threads_from_call_then_environment_then_cores(monkeypatch, default_threads):
    monkeypatch.delenv("HANDGRAD_THREADS", raising=False)
    backend.set_threads(None)
    assert backend.threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("HANDGRAD_THREADS", "3")
    assert backend.threads() == len(os.sched_getaffinity(0))     # read once, when first needed
    backend.set_threads(None)                                    # ... and again after this
    assert backend.threads() == 3
    backend.set_threads(1)
    assert backend.threads() == 1
    monkeypatch.setenv("HANDGRAD_THREADS", "many")
    backend.set_threads(None)
    with pytest.raises(ValueError, match="HANDGRAD_THREADS expected a positive integer, got 'many'"):
        backend.threads()


def test_operations_split_only_on_the_main_thread_outside_workers():
    assert _threads.may_split()
    with _threads.one_thread_here():
        assert not _threads.may_split()
        with _threads.one_thread_here():
            assert not _threads.may_split()
        assert not _threads.may_split()
    assert _threads.may_split()
    seen = []
    t = threading.Thread(target=lambda: seen.append(_threads.may_split()))
    t.start()
    t.join()
    assert seen == [False]


@numba_only
def test_scratch_buffers_are_reused_per_thread_and_grow():
    from handgrad.kernels.numba._blocks import scratch
    a = scratch("test.buf", (4, 5), np.float32)
    b = scratch("test.buf", (2, 3), np.float32)
    assert a.shape == (4, 5) and b.shape == (2, 3) and a.dtype == np.float32
    assert np.shares_memory(a, b)                           # the same buffer, a smaller view
    c = scratch("test.buf", (100, 100), np.float64)         # larger: a new buffer
    assert c.shape == (100, 100) and c.dtype == np.float64
    other = []
    t = threading.Thread(target=lambda: other.append(scratch("test.buf", (4, 5), np.float32)))
    t.start()
    t.join()
    assert not np.shares_memory(other[0], scratch("test.buf", (4, 5), np.float32))


@numba_only
def test_blocks_cover_the_range_in_as_few_even_blocks_as_will_do():
    from handgrad.kernels.numba._blocks import bounds
    assert bounds(64, 41) == [(0, 32), (32, 64)]
    assert bounds(0, 5) == [] and bounds(3, 8) == [(0, 3)]
    for count in range(1, 80):
        for size in range(1, 30):
            blocks = bounds(count, size)
            sizes = [hi - lo for lo, hi in blocks]
            assert blocks[0][0] == 0 and blocks[-1][1] == count
            assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
            assert len(blocks) == -(-count // size) and max(sizes) <= size
            assert max(sizes) - min(sizes) <= 1


@numba_only
@pytest.mark.parametrize("stride", [1, 2])
def test_results_do_not_depend_on_threads_or_blocks(stride, monkeypatch, default_threads):
    """Each block writes its own part and partial sums are added in block order: for a block
    size, the same bits with one thread or two."""
    from handgrad.kernels.numba import _blocks
    ops = backend.ops("numba")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 3, 11, 10)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    args = ((stride, stride), parse_padding(1, (3, 3), (1, 1), 2, "test"), (1, 1), 1)
    monkeypatch.setattr(_blocks, "PARALLEL_MIN_WORK", 0)
    for block in (300, 2000, 2**20):
        monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", block)
        results = []
        for threads in (1, 2):
            backend.set_threads(threads)
            y, cache = ops.conv_forward(x, w, b, *args)
            results.append((y,) + ops.conv_backward(np.cos(y), cache))
        for one, two in zip(*results):
            np.testing.assert_array_equal(one, two)


def _python(code, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_WAIT_POLICY",
                                                             "HANDGRAD_KEEP_MEMORY")}
    full.update(env, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@numba_only
def test_loading_the_backend_pins_every_blas_and_sets_no_openmp_policy():
    code = ("import os, handgrad.kernels.numba, handgrad._blas as b; "
            "print([g() for _, g in b._openblases()], os.environ.get('OMP_WAIT_POLICY'))")
    counts, policy = _python(code).rsplit(" ", 1)
    assert policy == "None"
    assert counts.startswith("[1") and set(eval(counts)) == {1} and len(eval(counts)) >= 1


@numba_only
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_backend_keeps_freed_memory_unless_told_not_to():
    code = "import handgrad.kernels.numba, handgrad._memory as m; print(m.keep_freed_memory())"
    assert _python(code) == "True"
    assert _python(code, HANDGRAD_KEEP_MEMORY="0") == "False"
