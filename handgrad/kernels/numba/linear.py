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
def feature_driver(ctl, epoch, main, tries, edges, x, w, bias, y):
    """``y[:, lo:hi] = x @ w[lo:hi].T + bias[lo:hi]`` for part ``i`` of the output features
    (``lo, hi = edges[i], edges[i + 1]``), as one thread of a team (:mod:`._team`): one
    image's dense layer on every core, without Python's lock between the parts."""
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


def _quiet():
    """Whether NumPy ignores overflow and invalid values here (``np.errstate``): compiled
    code raises no floating-point warnings."""
    state = np.geterr()
    return state["over"] == state["invalid"] == "ignore"


def linear_forward(x, w, b):
    """As :func:`handgrad.functional.linear.linear_forward`."""
    M, work = x.shape[0], x.shape[0] * w.size // 20             # ~0.05 ns per multiply-add
    y = np.empty((M, w.shape[0]), np.result_type(x, w))
    threads = threads_for(work)
    if M < threads and x.dtype == w.dtype and x.dtype in (np.float32, np.float64) and w.shape[0] >= threads:
        # one image: the features in one part per thread, compiled (the Keras CNN's
        # 9216 -> 128 layer at batch 1: 67 us on one thread, 38 on two, AMD EPYC)
        edges = np.array([w.shape[0] * q // threads for q in range(threads + 1)])
        bias = b if b is not None else np.zeros(w.shape[0], w.dtype)
        run_driver(feature_driver, (edges, np.ascontiguousarray(x), w, bias, y), threads, work)
        if _quiet() or np.isfinite(y).all():
            return y
        # an overflow: NumPy's products again, so that the caller's np.errstate warns or raises
    if M < threads:                                        # by features (:func:`_by_features`)
        def block(i, lo, hi):                              # output features lo..hi
            np.matmul(x, w[lo:hi].T, out=y[:, lo:hi])
            if b is not None:
                y[:, lo:hi] += b[lo:hi]
        blocks = _feature_blocks(w.shape[0], work)
    else:
        def block(i, lo, hi):                              # rows (samples) lo..hi
            # Y^T = W X^T: 25-30% faster than X W^T, whose W^T OpenBLAS reads across rows
            # (a 32x3136 block of the 3-conv net's dense layer: 347 -> 259 us, AMD EPYC)
            yt = np.matmul(w, x[lo:hi].T)
            if b is not None:
                np.add(yt.T, b, out=y[lo:hi])
            else:
                y[lo:hi] = yt.T
        blocks = _row_blocks(M)
    run_blocks(block, blocks, work)
    return y


def linear_backward(grad_y, x, w, input_grad=True):
    """As :func:`handgrad.functional.linear.linear_backward`."""
    M, work = x.shape[0], x.shape[0] * w.size // 20
    dx = np.empty(x.shape, grad_y.dtype) if input_grad else None
    if _by_features(x, work):
        dw = np.empty(w.shape, grad_y.dtype)

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

    def block(i, lo, hi):
        np.matmul(grad_y[lo:hi].T, x[lo:hi], out=dw_parts[i])
        np.sum(grad_y[lo:hi], axis=0, out=db_parts[i])
        if input_grad:
            np.matmul(grad_y[lo:hi], w, out=dx[lo:hi])

    run_blocks(block, blocks, 2 * work)
    return dx, dw_parts.sum(axis=0), db_parts.sum(axis=0)
