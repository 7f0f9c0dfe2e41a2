"""The dense layer, Numba backend: the reference's products, one block at a time
(:mod:`._blocks`), so that on the main thread every core multiplies.

A batch of many rows (samples) is cut by rows: ``Y = X W^T + b`` and ``dX = G W`` row
block by row block, ``dW = G^T X`` and the bias gradient as one partial per block, added in
block order (the result does not depend on the number of threads). Each block's product
reads the whole weight matrix, so the blocks are few and large (:func:`_row_blocks`). A batch of fewer rows
than threads (inference on one image) is cut by features instead: ``Y``'s columns, ``dW``'s
rows, ``dX``'s columns.
"""

import numpy as np

from ._blocks import bounds, run_blocks, run_driver, threads_for
from ._gemm import matmul
from ._jit import kernel
from ._spin import block_done, claim, finish, publish


def _row_blocks(M):
    """Blocks of the ``M`` rows: two up to 256 rows, then one per 128 rows, at most 8. A
    count that depends on ``M`` alone (not on the threads), and blocks large enough that
    reading the weights once per block costs little: the Keras CNN's 64x9216 by 9216x128
    product took 3.2 ms forward and 6.6 ms backward in the former 14-row blocks (sized, as
    a convolution's, to the L2 cache), 1.6 and 3.5 ms in 32-row blocks (2 threads, AMD EPYC)."""
    return bounds(M, -(-M // min(8, max(2, -(-M // 128))))) if M > 1 else bounds(M, 1)


def _by_features(x, work):
    """Whether to cut by features: fewer rows than the threads the work may use."""
    return x.shape[0] < threads_for(work)


def _feature_blocks(n, work):
    return bounds(n, -(-n // threads_for(work)))


@kernel
def _forward_driver(ctl, epoch, main, tries, blocks, by_features, x, w, b, y):
    """``Y = X W^T + b`` block by block (rows, or with ``by_features`` output features) as one
    thread of a team (:mod:`._team`); ``b`` of size 0: no bias."""
    if main:
        publish(ctl, epoch)
    count = blocks.shape[0]
    i = claim(ctl, epoch, count)
    if i >= 0 and not by_features:
        most = 1
        for q in range(count):
            most = max(most, blocks[q, 1] - blocks[q, 0])
        yt = np.empty(w.shape[0] * most, y.dtype)
    while i >= 0:
        lo, hi = blocks[i, 0], blocks[i, 1]
        if by_features:
            matmul(x, w[lo:hi].T, y[:, lo:hi])
            if b.size:
                for r in range(y.shape[0]):
                    y[r, lo:hi] += b[lo:hi]
        else:
            # Y^T = W X^T: 25-30% faster than X W^T, whose W^T OpenBLAS reads across rows
            # (a 32x3136 block of the 3-conv net's dense layer: 349 -> 259 us, AMD EPYC)
            F, n = w.shape[0], hi - lo
            t = yt[:F * n].reshape((F, n))
            matmul(w, x[lo:hi].T, t)
            for r in range(n):
                row = y[lo + r]
                for f in range(F):
                    row[f] = t[f, r] + b[f] if b.size else t[f, r]
        block_done(ctl)
        i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)


@kernel
def _backward_driver(ctl, epoch, main, tries, blocks, part, g, x, w, dw, db, dx):
    """One part of the backward pass, block by block, as one thread of a team: ``part`` 0
    by rows (block ``i``'s partial ``dW`` and bias gradient into ``dw[i]``, ``db[i]``; its rows
    of ``dX``, if ``dx`` has any), 1 by output features (rows of ``dW``), 2 by input
    features (columns of ``dX``)."""
    if main:
        publish(ctl, epoch)
    count = blocks.shape[0]
    i = claim(ctl, epoch, count)
    while i >= 0:
        lo, hi = blocks[i, 0], blocks[i, 1]
        if part == 0:
            matmul(g[lo:hi].T, x[lo:hi], dw[i])
            db[i] = 0
            for r in range(lo, hi):
                db[i] += g[r]
            if dx.size:
                matmul(g[lo:hi], w, dx[lo:hi])
        elif part == 1:
            matmul(g[:, lo:hi].T, x, dw[0, lo:hi])
        else:
            matmul(g, w[:, lo:hi], dx[:, lo:hi])
        block_done(ctl)
        i = claim(ctl, epoch, count)
    return finish(ctl, epoch, main, count, tries)


#: rows from which the compiled drivers take a dense layer: OpenBLAS's sgemm has no
#: fast path for a product with one row, where NumPy's matmul calls sgemv (one image's
#: 9216 -> 128 layer: 250 us against 70 us, AMD EPYC)
MIN_ROWS = 4


def _compiled(rows, *arrays):
    """Whether the compiled drivers take these arrays: ``rows`` of them at least
    :data:`MIN_ROWS`, one floating dtype of BLAS's."""
    return (rows >= MIN_ROWS and len({a.dtype for a in arrays}) == 1
            and arrays[0].dtype in (np.float32, np.float64))


def _quiet():
    """Whether NumPy ignores overflow and invalid values here (``np.errstate``)."""
    state = np.geterr()
    return state["over"] == state["invalid"] == "ignore"


def linear_forward(x, w, b):
    """As :func:`handgrad.functional.linear.linear_forward`."""
    M, work = x.shape[0], x.shape[0] * w.size // 20             # ~0.05 ns per multiply-add
    y = np.empty((M, w.shape[0]), np.result_type(x, w))
    by_features = _by_features(x, work)
    blocks = _feature_blocks(w.shape[0], work) if by_features else _row_blocks(M)
    if _compiled(M, x, w, y, *(() if b is None else (b,))):
        bias = np.empty(0, y.dtype) if b is None else b
        rows = np.array(blocks, np.int64).reshape(-1, 2)
        run_driver(_forward_driver, (rows, by_features, np.ascontiguousarray(x), np.ascontiguousarray(w),
                                     np.ascontiguousarray(bias), y), len(rows), work)
        if _quiet() or np.isfinite(y).all():
            return y
        # an overflow: NumPy's products again, so that the caller's np.errstate warns or raises
    if by_features:
        def block(i, lo, hi):                              # output features lo..hi
            np.matmul(x, w[lo:hi].T, out=y[:, lo:hi])
            if b is not None:
                y[:, lo:hi] += b[lo:hi]
    else:
        def block(i, lo, hi):                              # rows (samples) lo..hi
            np.matmul(x[lo:hi], w.T, out=y[lo:hi])
            if b is not None:
                y[lo:hi] += b
    run_blocks(block, blocks, work)
    return y


def linear_backward(grad_y, x, w, input_grad=True):
    """As :func:`handgrad.functional.linear.linear_backward`."""
    M, work = x.shape[0], x.shape[0] * w.size // 20
    dx = np.empty(x.shape, grad_y.dtype) if input_grad else None
    compiled = _compiled(M, grad_y, x, w)
    if compiled:
        grad_y, x, w = (np.ascontiguousarray(a) for a in (grad_y, x, w))
    if _by_features(x, work):
        dw = np.empty(w.shape, grad_y.dtype)
        if compiled:
            none = np.empty((0, 0), grad_y.dtype)
            for part, (n, out) in ((1, (w.shape[0], dw)), (2, (w.shape[1], dx))):
                if out is None:
                    continue
                rows = np.array(_feature_blocks(n, work), np.int64).reshape(-1, 2)
                run_driver(_backward_driver, (rows, part, grad_y, x, w, dw[None], none, out if part == 2 else none),
                           len(rows), work)
            return dx, dw, grad_y.sum(axis=0)

        def out_block(i, lo, hi):                          # output features: dW rows, db
            np.matmul(grad_y[:, lo:hi].T, x, out=dw[lo:hi])

        def in_block(i, lo, hi):                           # input features: dX columns
            np.matmul(grad_y, w[:, lo:hi], out=dx[:, lo:hi])

        run_blocks(out_block, _feature_blocks(w.shape[0], work), work)
        if input_grad:
            run_blocks(in_block, _feature_blocks(w.shape[1], work), work)
        return dx, dw, grad_y.sum(axis=0)
    blocks = _row_blocks(M)
    dw_parts = np.empty((len(blocks),) + w.shape, grad_y.dtype)
    db_parts = np.empty((len(blocks), w.shape[0]), grad_y.dtype)
    if compiled:
        rows = np.array(blocks, np.int64).reshape(-1, 2)
        run_driver(_backward_driver, (rows, 0, grad_y, x, w, dw_parts, db_parts,
                                      dx if input_grad else np.empty((0, 0), grad_y.dtype)), len(rows), 2 * work)
        return dx, dw_parts.sum(axis=0), db_parts.sum(axis=0)

    def block(i, lo, hi):
        np.matmul(grad_y[lo:hi].T, x[lo:hi], out=dw_parts[i])
        np.sum(grad_y[lo:hi], axis=0, out=db_parts[i])
        if input_grad:
            np.matmul(grad_y[lo:hi], w, out=dx[lo:hi])

    run_blocks(block, blocks, 2 * work)
    return dx, dw_parts.sum(axis=0), db_parts.sum(axis=0)
