"""The compiled kernels' matrix product (handgrad/kernels/numba/_gemm.py): NumPy's OpenBLAS
called by name, and the stand-in used where that library is not found, both equal to NumPy."""

import ctypes
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("numba")

from numba import njit  # noqa: E402

from handgrad.kernels.numba import _gemm  # noqa: E402


@njit(cache=True)                     # compiled once per layout; a second run loads it
def _product(a, b, out):
    _gemm.matmul(a, b, out)


def layouts(rng, dtype):
    """``(a, b)`` pairs of every layout the kernels pass: C-ordered, transposed, slices of
    bigger arrays, single rows and columns."""
    big = rng.standard_normal((20, 30)).astype(dtype)
    a, b = rng.standard_normal((7, 5)).astype(dtype), rng.standard_normal((5, 9)).astype(dtype)
    return [(a, b), (np.ascontiguousarray(a.T).T, b), (a, np.ascontiguousarray(b.T).T),
            (big[2:9, 3:8], big[10:15, 1:10]), (a[:1], b), (a[:, :1], b[:1]), (a, b[:, :1])]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_matmul_refuses_operands_with_neither_rows_nor_columns_contiguous(dtype):
    """BLAS cannot take them; the kernels never pass them (copying them inside every
    product had cost each first run about 8 s of compiling)."""
    big = np.ones((20, 30), dtype)
    out = np.empty((7, 9), dtype)
    with pytest.raises(ValueError, match="rows or columns contiguous"):
        _product(big[2:9, 3:13:2], big[0:10:2, 4:13], out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_matmul_equals_numpy_for_every_layout(dtype):
    rng = np.random.default_rng(0)
    for a, b in layouts(rng, dtype):
        out = np.full((40, 40), np.nan, dtype)
        view = out[3:3 + a.shape[0], 5:5 + b.shape[1]]     # rows contiguous, ld > columns
        _product(a, b, view)
        want = np.einsum("ik,kj->ij", a.astype(np.float64), b.astype(np.float64))  # no BLAS: its
        # small-matrix kernels can raise a spurious "invalid value" flag in NumPy's matmul
        np.testing.assert_allclose(view, want, rtol={np.float32: 1e-6, np.float64: 1e-14}[dtype], atol=1e-6)
        view[...] = np.nan
        assert np.isnan(out).all()                           # nothing written outside out


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True), (True, True)])
def test_stand_in_equals_numpy(dtype, trans_a, trans_b):
    """The np.dot stand-in behind the same CBLAS signature (alpha, beta, leading dimensions)."""
    rng = np.random.default_rng(1)
    m, n, k = 4, 6, 3
    A = rng.standard_normal((k, m + 2) if trans_a else (m, k + 2)).astype(dtype)
    B = rng.standard_normal((n, k + 1) if trans_b else (k, n + 3)).astype(dtype)
    C = rng.standard_normal((m, n + 4)).astype(dtype)
    opa = A[:, :m].T if trans_a else A[:, :k]
    opb = B[:, :k].T if trans_b else B[:, :n]
    want = C.copy()
    want[:, :n] = 2.0 * opa @ opb + 0.5 * C[:, :n]
    gemm = _gemm._stand_in(np.dtype(dtype).type)
    ptr = ctypes.c_void_p
    gemm.ctypes(_gemm.ROW_MAJOR, _gemm.TRANS if trans_a else _gemm.NO_TRANS,
                _gemm.TRANS if trans_b else _gemm.NO_TRANS, m, n, k, 2.0, ptr(A.ctypes.data), A.shape[1],
                ptr(B.ctypes.data), B.shape[1], 0.5, ptr(C.ctypes.data), C.shape[1])
    np.testing.assert_allclose(C, want, rtol=1e-5)


def test_kernels_run_on_the_stand_in_without_numpys_openblas():
    """Where NumPy's OpenBLAS is not found the kernels link to the stand-in and still equal
    the reference (a fresh process; kernels loaded from the disk cache link by name too)."""
    code = textwrap.dedent("""
        import numpy as np
        import handgrad._blas
        handgrad._blas.numpy_openblas_function = lambda names: None
        from handgrad import backend, functional
        from handgrad.kernels.numba import _gemm
        assert _gemm.NUMPY_OPENBLAS is False
        rng = np.random.default_rng(0)
        x = rng.standard_normal((3, 2, 6, 6)); w = rng.standard_normal((4, 2, 3, 3))
        args = ((1, 1), ((1, 1), (1, 1)), (1, 1), 1)
        y, cache = backend.ops("numba").conv_forward(x, w, None, *args)
        y_ref, cache_ref = functional.conv_forward(x, w, None, *args)
        np.testing.assert_allclose(y, y_ref, rtol=1e-12)
        g = rng.standard_normal(y.shape)
        for a, e in zip(backend.ops("numba").conv_backward(g, cache)[:2], functional.conv_backward(g, cache_ref)[:2]):
            np.testing.assert_allclose(a, e, rtol=1e-12)
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
