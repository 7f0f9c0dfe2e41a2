"""The dense layer, Numba backend: the reference's products in parts, each part one BLAS
product inside a compiled driver (:mod:`._blocks`, :mod:`._team`), so that every core
multiplies and no part waits for Python's lock.

- ``Y = X W^T + b``: by blocks of rows (samples), each computed as ``Y^T = W X^T`` into
  the thread's buffer, then transposed with the bias added. A batch of fewer rows than
  threads (inference on one image) is cut by output features instead.
- ``dW = G^T X`` and ``db``: by blocks of output features (rows of ``dW``), each one
  product over the whole batch: no partial sums to add afterwards.
- ``dX = G W``: by blocks of rows.

The blocks of rows and of output features depend on the shapes alone, never on the
number of threads, so the results do not either (:func:`_blocks_of`). Each part reads a
whole operand (``W`` for rows, ``X`` for features), so the parts are few and large.

Other dtypes (float16, mixed) run the reference. Compiled code raises no floating-point
warnings: when the caller's ``np.errstate`` asks for them and a result is not finite, the
reference runs again so that NumPy reports it as it would have.
"""

import numpy as np

from ...functional import linear as reference
from ._blocks import as_rows, bounds, largest, run_blocks, run_driver, threads_for
from ._gemm import matmul
from ._jit import kernel
from ._spin import block_done, claim, finish, publish
from ._sums import run_sum


def _blocks_of(count):
    """Blocks of ``count`` rows or features: two up to 256, then one per 128, at most 8. A
    count that depends on ``count`` alone (not on the threads), and blocks large enough
    that reading the other operand once per block costs little: the Keras CNN's 64x9216 by
    9216x128 product took 3.2 ms forward and 6.6 ms backward in the former 14-row blocks
    (sized, as a convolution's, to the L2 cache), 1.6 and 3.5 ms in 32-row blocks (2
    threads, AMD EPYC)."""
    return bounds(count, -(-count // min(8, max(2, -(-count // 128))))) if count > 1 else bounds(count, 1)


def _parts(count, threads):
    """``count`` features in ``threads`` parts, as edges ``[0, ..., count]`` (int64)."""
    return np.array([count * q // threads for q in range(threads + 1)], np.int64)


@kernel
def rows_driver(ctl, epoch, main, tries, blocks, x, w, bias, y):
    """``y[lo:hi] = x[lo:hi] @ w.T + bias`` for block ``i`` of rows, as one thread of a team
    (:mod:`._team`). The product is taken as ``W X^T`` into the thread's buffer: 25-30%
    faster than ``X W^T``, whose ``W^T`` OpenBLAS reads across rows (a 32x3136 block of the
    3-conv net's dense layer: 347 -> 259 us, AMD EPYC)."""
    if main:
        publish(ctl, epoch)
    count = blocks.shape[0]
    i = claim(ctl, epoch, count)
    if i >= 0:
        N = w.shape[0]
        buf = np.empty(N * largest(blocks), y.dtype)
        while i >= 0:
            lo, hi = blocks[i, 0], blocks[i, 1]
            yt = buf[:N * (hi - lo)].reshape((N, hi - lo))
            matmul(w, x[lo:hi].T, yt)
            for r in range(hi - lo):
                row = y[lo + r]
                for j in range(N):
                    row[j] = yt[j, r] + bias[j]
            block_done(ctl)
            i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)


@kernel
def feature_driver(ctl, epoch, main, tries, edges, x, w, bias, y):
    """``y[:, lo:hi] = x @ w[lo:hi].T + bias[lo:hi]`` for part ``i`` of the output features
    (``lo, hi = edges[i], edges[i + 1]``), as one thread of a team: one image's dense layer
    on every core (the Keras CNN's 9216 -> 128 layer: 67 us on one thread, 38 on two, AMD
    EPYC)."""
    if main:
        publish(ctl, epoch)
    count = edges.shape[0] - 1
    i = claim(ctl, epoch, count)
    while i >= 0:
        lo, hi = edges[i], edges[i + 1]
        matmul(x, w[lo:hi].T, y[:, lo:hi])
        for r in range(x.shape[0]):
            row = y[r]
            for j in range(lo, hi):
                row[j] += bias[j]
        block_done(ctl)
        i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)


@kernel
def backward_driver(ctl, epoch, main, tries, features, rows, grad_t, grad_y, x, w, dw, db, dx):
    """Part ``i`` of the backward pass, as one thread of a team: the first parts are the
    blocks ``[lo, hi)`` of output features (``features``), ``dw[lo:hi] = grad_t[lo:hi] @ x``
    and ``db[lo:hi]`` the row sums of ``grad_t`` (``grad_y`` transposed); the rest are the
    blocks of ``rows``, ``dx[lo:hi] = grad_y[lo:hi] @ w``. (Every operand is a C-ordered
    block: one compiled product serves all.)"""
    if main:
        publish(ctl, epoch)
    parts = features.shape[0]
    count = parts + rows.shape[0]
    i = claim(ctl, epoch, count)
    while i >= 0:
        if i < parts:
            lo, hi = features[i, 0], features[i, 1]
            matmul(grad_t[lo:hi], x, dw[lo:hi])
            for j in range(lo, hi):
                db[j] = run_sum(grad_t[j])
        else:
            lo, hi = rows[i - parts, 0], rows[i - parts, 1]
            matmul(grad_y[lo:hi], w, dx[lo:hi])
        block_done(ctl)
        i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)


def _compiled(*arrays):
    """Whether the drivers take these operands: one dtype, float32 or float64, none empty."""
    dtype = arrays[0].dtype
    return dtype in (np.float32, np.float64) and all(a.dtype == dtype and a.size for a in arrays)


def _reported(*results):
    """Whether compiled results stand as they are: NumPy ignores overflow and invalid
    values here (``np.errstate``), or every result is finite."""
    state = np.geterr()
    if state["over"] == state["invalid"] == "ignore":
        return True
    return all(r is None or np.isfinite(r).all() for r in results)


def linear_forward(x, w, b):
    """As :func:`handgrad.functional.linear.linear_forward`."""
    if not _compiled(x, w, *(() if b is None else (b,))):
        return reference.linear_forward(x, w, b)
    x = np.ascontiguousarray(x)
    M, N = x.shape[0], w.shape[0]
    work = M * w.size // 20                                   # ~0.05 ns per multiply-add
    y = np.empty((M, N), x.dtype)
    bias = b if b is not None else np.zeros(N, x.dtype)
    threads = threads_for(work)
    if M < threads:                                           # one image, several threads
        run_driver(feature_driver, (_parts(N, threads), x, w, bias, y), threads, work)
    elif M == 1:
        # one image on one thread: NumPy's product, which takes it as a vector (matrix times
        # vector); OpenBLAS's sgemm has no such path (the Keras CNN's 9216 -> 128 layer:
        # 66 us, 236 as a product, AMD EPYC); as one block, so that the pace counts it
        run_blocks(lambda i, lo, hi: np.matmul(x, w.T, out=y), [(0, 1)], work)
        y += bias
    else:
        blocks = as_rows(_blocks_of(M))
        run_driver(rows_driver, (blocks, x, w, bias, y), len(blocks), work)
    if _reported(y):
        return y
    return reference.linear_forward(x, w, b)                  # so that np.errstate reports it


def linear_backward(grad_y, x, w, input_grad=True):
    """As :func:`handgrad.functional.linear.linear_backward`."""
    if not _compiled(grad_y, x, w):
        return reference.linear_backward(grad_y, x, w, input_grad)
    grad_y, x = np.ascontiguousarray(grad_y), np.ascontiguousarray(x)
    M, N = grad_y.shape
    dw, db = np.empty(w.shape, x.dtype), np.empty(N, x.dtype)
    dx = np.empty(x.shape, x.dtype) if input_grad else np.empty((0, 0), x.dtype)
    features, rows = as_rows(_blocks_of(N)), as_rows(_blocks_of(M) if input_grad else [])
    count = len(features) + len(rows)
    run_driver(backward_driver, (features, rows, np.ascontiguousarray(grad_y.T), grad_y, x, w, dw, db, dx),
               count, 2 * M * w.size // 20)
    dx = dx if input_grad else None
    if _reported(dx, dw, db):
        return dx, dw, db
    return reference.linear_backward(grad_y, x, w, input_grad)
