"""Matrix products inside the compiled kernels, on NumPy's own OpenBLAS.

Numba's ``np.dot`` calls SciPy's BLAS. The OpenBLAS bundled with SciPy 1.17 (0.3.30) ran
the convolutions' products 10-25% slower here than the one bundled with NumPy 2.4
(0.3.31): a 32x144 by 144x888 product took 113 us against 90 us (AMD EPYC, one thread).
:func:`matmul` calls NumPy's CBLAS ``sgemm``/``dgemm`` instead. A kernel reaches it by
name (``handgrad_sgemm``, ``handgrad_dgemm``: external symbols that this module binds when
it loads), not by address, so compiled kernels can still be cached on disk. Where NumPy's
OpenBLAS cannot be found (another BLAS, another platform), the two names are bound to
compiled stand-ins that multiply with ``np.dot``.

``matmul(a, b, out)`` is ``out[...] = a @ b`` for 2-d arrays whose rows or columns are
contiguous (a C-ordered block, or its transpose ``.T``), ``out``'s rows contiguous; other
operands raise ``ValueError`` (copying them inside every product, a path compiled with
each of its signatures, had cost each first run about 8 s of compiling).
"""

import ctypes
import functools

import llvmlite.binding as llvm
import numpy as np
from numba import carray, cfunc, njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from ..._blas import numpy_openblas_function

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112          # CBLAS's enums


def _signature(dtype):
    """cblas_?gemm with 64-bit integers (NumPy's OpenBLAS is built with them)."""
    i32, i64, ptr = types.int32, types.int64, types.voidptr
    return types.void(i32, i32, i32, i64, i64, i64, dtype, ptr, i64, ptr, i64, dtype, ptr, i64)


@intrinsic
def _data(typingctx, arr):
    """The address of an array's first element, as ``void*``."""
    def codegen(context, builder, sig, args):
        return builder.bitcast(context.make_array(arr)(context, builder, args[0]).data, cgutils.voidptr_t)
    return types.voidptr(arr), codegen


@intrinsic
def _typed(typingctx, ptr, dtype):
    """``void*`` -> a pointer to ``dtype`` (for :func:`numba.carray`)."""
    target = dtype.dtype

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.CPointer(target)))
    return types.CPointer(target)(ptr, dtype), codegen


@functools.lru_cache(maxsize=None)
def _stand_in(dtype):
    """cblas_?gemm (row-major) written with ``np.dot``, for a platform without NumPy's OpenBLAS."""
    numba_dtype = types.float32 if dtype == np.float32 else types.float64

    @cfunc(_signature(numba_dtype))
    def gemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        kind = np.empty(0, dtype)
        A = carray(_typed(a, kind), (k, lda) if trans_a == TRANS else (m, lda))
        B = carray(_typed(b, kind), (n, ldb) if trans_b == TRANS else (k, ldb))
        C = carray(_typed(c, kind), (m, ldc))[:, :n]
        opa = np.ascontiguousarray(A[:, :m].T if trans_a == TRANS else A[:, :k])
        opb = np.ascontiguousarray(B[:, :k].T if trans_b == TRANS else B[:, :n])
        product = np.dot(opa, opb) * alpha
        if beta == 0:
            C[:] = product
        else:
            C[:] = product + beta * C
    return gemm


def _bind():
    """Bind ``handgrad_sgemm``/``handgrad_dgemm``; returns whether NumPy's OpenBLAS got them."""
    found = True
    for letter, dtype in (("s", np.float32), ("d", np.float64)):
        fn = numpy_openblas_function([f"scipy_cblas_{letter}gemm64_", f"cblas_{letter}gemm64_"])
        if fn is None:
            found, address = False, _stand_in(dtype).address
        else:
            address = ctypes.cast(fn, ctypes.c_void_p).value
        llvm.add_symbol(f"handgrad_{letter}gemm", address)
    return found


NUMPY_OPENBLAS = _bind()
_gemm = {types.float32: types.ExternalFunction("handgrad_sgemm", _signature(types.float32)),
         types.float64: types.ExternalFunction("handgrad_dgemm", _signature(types.float64))}


@njit(cache=True)
def _operand(a):
    """``(trans, ld)`` of a 2-d operand for row-major CBLAS: rows contiguous (as stored), or
    columns contiguous (the transpose of what is stored); ``(0, 0)`` for neither."""
    rows, cols = a.shape
    item = a.itemsize
    if cols <= 1 or a.strides[1] == item:
        return NO_TRANS, max(a.strides[0] // item if rows > 1 else cols, cols, 1)
    if rows <= 1 or a.strides[0] == item:
        return TRANS, max(a.strides[1] // item if cols > 1 else rows, rows, 1)
    return 0, 0


def matmul(a, b, out):
    """``out[...] = a @ b`` (Python; compiled kernels get the BLAS call below)."""
    np.matmul(a, b, out=out)


@overload(matmul)
def _matmul(a, b, out):
    gemm = _gemm[a.dtype]

    def impl(a, b, out):
        m, k = a.shape
        n = b.shape[1]
        if m == 0 or n == 0:
            return
        if k == 0:
            out[:] = 0
            return
        trans_a, lda = _operand(a)
        trans_b, ldb = _operand(b)
        trans_c, ldc = _operand(out)
        one, zero = a.dtype.type(1), a.dtype.type(0)
        if trans_a == 0 or trans_b == 0 or trans_c != NO_TRANS:
            raise ValueError("matmul expected operands with rows or columns contiguous")
        gemm(ROW_MAJOR, trans_a, trans_b, m, n, k, one, _data(a), lda, _data(b), ldb, zero, _data(out), ldc)
    return impl
