"""The tile transforms of Winograd's F(2x2, 3x3) (:mod:`.conv_winograd` holds the algorithm,
its matrices and the drivers that run these): the weights' ``U = G w G^T`` and
``dW = G^T dU G``, the input tiles' ``V = B^T d B`` and its adjoint, the output tiles'
``Y = A^T M A`` and its adjoint ``dM = A dY A^T``. Each is a loop of additions and
halvings over 2x2 or 4x4 tiles, written out entry by entry.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _g_times(a, b, d, h):
    """G times the column (a, b, d): (a, (a + b + d)/2, (a - b + d)/2, d); ``h`` is 1/2 in
    the arrays' dtype (a literal 0.5 would turn float32 into float64)."""
    return a, (a + b + d) * h, (a - b + d) * h, d


@njit(cache=True, nogil=True)
def _gt_times(u0, u1, u2, u3, h):
    """G^T times the column (u0, u1, u2, u3): (u0 + (u1 + u2)/2, (u1 - u2)/2, (u1 + u2)/2 + u3)."""
    return u0 + (u1 + u2) * h, (u1 - u2) * h, (u1 + u2) * h + u3


@njit(cache=True, nogil=True)
def weights_to_tiles(w, U):
    """U[4i + j, o*C_in + c] = (G w[o, c] G^T)[i, j]: 16 matrices ``(C_out, C_in)``, one per
    row of ``U``. (NumPy's batched products of 3x3 matrices took 0.23 ms for a 64x32
    layer.)"""
    Co, Ci = w.shape[:2]
    h = np.full(1, 0.5, U.dtype)[0]
    for o in range(Co):
        for c in range(Ci):
            f, q = w[o, c], o * Ci + c
            # G f, column by column ...
            a0, a1, a2, a3 = _g_times(f[0, 0], f[1, 0], f[2, 0], h)
            b0, b1, b2, b3 = _g_times(f[0, 1], f[1, 1], f[2, 1], h)
            d0, d1, d2, d3 = _g_times(f[0, 2], f[1, 2], f[2, 2], h)
            # ... then times G^T: row i of G f is (a_i, b_i, d_i)
            U[0, q], U[1, q], U[2, q], U[3, q] = _g_times(a0, b0, d0, h)
            U[4, q], U[5, q], U[6, q], U[7, q] = _g_times(a1, b1, d1, h)
            U[8, q], U[9, q], U[10, q], U[11, q] = _g_times(a2, b2, d2, h)
            U[12, q], U[13, q], U[14, q], U[15, q] = _g_times(a3, b3, d3, h)


@njit(cache=True, nogil=True)
def tiles_to_weights(dU_parts, dW):
    """dW[o, c] = G^T dU[:, o*C_in + c] G (``dU[4i + j]``: its 4x4 matrix), ``dU`` the sum of
    the sets ``dU_parts (parts, 16, >= C_out*C_in)`` in order, added into the first set
    (row by row: the sums run as vector instructions)."""
    Co, Ci = dW.shape[:2]
    dU = dU_parts[0]
    for k in range(1, dU_parts.shape[0]):
        for xi in range(16):
            row, part = dU[xi], dU_parts[k, xi]
            for q in range(Co * Ci):
                row[q] += part[q]
    h = np.full(1, 0.5, dW.dtype)[0]
    for o in range(Co):
        for c in range(Ci):
            q = o * Ci + c
            # G^T u, column by column ...
            a0, a1, a2 = _gt_times(dU[0, q], dU[4, q], dU[8, q], dU[12, q], h)
            b0, b1, b2 = _gt_times(dU[1, q], dU[5, q], dU[9, q], dU[13, q], h)
            d0, d1, d2 = _gt_times(dU[2, q], dU[6, q], dU[10, q], dU[14, q], h)
            e0, e1, e2 = _gt_times(dU[3, q], dU[7, q], dU[11, q], dU[15, q], h)
            # ... then times G: row i of G^T u is (a_i, b_i, d_i, e_i)
            dW[o, c, 0, 0], dW[o, c, 0, 1], dW[o, c, 0, 2] = _gt_times(a0, b0, d0, e0, h)
            dW[o, c, 1, 0], dW[o, c, 1, 1], dW[o, c, 1, 2] = _gt_times(a1, b1, d1, e1, h)
            dW[o, c, 2, 0], dW[o, c, 2, 1], dW[o, c, 2, 2] = _gt_times(a2, b2, d2, e2, h)


@njit(cache=True, nogil=True)
def pad_tiles(x, before, xq):
    """xq (n, C, Hq, Wq) = x (n, C, H, W) placed at ``before`` (rows, columns), zeros around;
    rows that fall outside ``xq`` (``before[0]`` may be negative: a band of the grid) are
    left out."""
    n, C, H, W = x.shape
    Hq = xq.shape[2]
    xq[:] = 0
    for s in range(n):
        for c in range(C):
            for i in range(max(0, -before[0]), min(H, Hq - before[0])):
                src, dst = x[s, c, i], xq[s, c, before[0] + i, before[1]:]
                for j in range(W):
                    dst[j] = src[j]


@njit(cache=True, nogil=True)
def input_transform(xq, TH, TW, V):
    """V[4i + j, c*L + s*T + ty*TW + tx] = (B^T d B)[i, j] for the 4x4 tile d of xq[s, c] at
    (2 ty, 2 tx) (``L = n*T``: V[k] holds the matrix (C, L) of :func:`planes`)."""
    n, C = xq.shape[:2]
    T = TH * TW
    L = n * T
    for s in range(n):
        for c in range(C):
            plane = xq[s, c]
            for ty in range(TH):
                r0, r1, r2, r3 = plane[2 * ty], plane[2 * ty + 1], plane[2 * ty + 2], plane[2 * ty + 3]
                at = c * L + s * T + ty * TW
                for tx in range(TW):
                    e = 2 * tx
                    # rows of B^T d, column by column
                    a0, a1, a2, a3 = r0[e] - r2[e], r1[e] + r2[e], r2[e] - r1[e], r1[e] - r3[e]
                    b0, b1, b2, b3 = (r0[e + 1] - r2[e + 1], r1[e + 1] + r2[e + 1], r2[e + 1] - r1[e + 1],
                                      r1[e + 1] - r3[e + 1])
                    c0, c1, c2, c3 = (r0[e + 2] - r2[e + 2], r1[e + 2] + r2[e + 2], r2[e + 2] - r1[e + 2],
                                      r1[e + 2] - r3[e + 2])
                    d0, d1, d2, d3 = (r0[e + 3] - r2[e + 3], r1[e + 3] + r2[e + 3], r2[e + 3] - r1[e + 3],
                                      r1[e + 3] - r3[e + 3])
                    t = at + tx
                    # ... then times B: columns (a, b, c, d) -> (a - c, b + c, c - b, b - d)
                    V[0, t], V[1, t], V[2, t], V[3, t] = a0 - c0, b0 + c0, c0 - b0, b0 - d0
                    V[4, t], V[5, t], V[6, t], V[7, t] = a1 - c1, b1 + c1, c1 - b1, b1 - d1
                    V[8, t], V[9, t], V[10, t], V[11, t] = a2 - c2, b2 + c2, c2 - b2, b2 - d2
                    V[12, t], V[13, t], V[14, t], V[15, t] = a3 - c3, b3 + c3, c3 - b3, b3 - d3


@njit(cache=True, nogil=True)
def output_transform(M, bias, TH, TW, y, mask):
    """y[s, o, 2ty + i, 2tx + j] = (A^T m A)[i, j] + bias[o] for the tile m = M[:, o*L + t]
    (outputs past the edge dropped); with a ``mask`` of y's shape (size 0: none), the ReLU
    of that too and ``mask = y > 0``."""
    n, Co, O1, O2 = y.shape
    T = TH * TW
    L = n * T
    relu = mask.size > 0
    zero = np.zeros(1, y.dtype)[0]
    for s in range(n):
        for o in range(Co):
            bo = bias[o]
            for ty in range(TH):
                a = 2 * ty
                two = a + 1 < O1                     # the tile's second row is inside
                y0, y1 = y[s, o, a], y[s, o, a + 1 if two else a]
                base = o * L + s * T + ty * TW
                for tx in range(TW):
                    t = base + tx
                    # rows of A^T m (m[i, j] = M[4i + j]), then times A
                    p0 = M[0, t] + M[4, t] + M[8, t]
                    p1 = M[1, t] + M[5, t] + M[9, t]
                    p2 = M[2, t] + M[6, t] + M[10, t]
                    p3 = M[3, t] + M[7, t] + M[11, t]
                    q0 = M[4, t] - M[8, t] - M[12, t]
                    q1 = M[5, t] - M[9, t] - M[13, t]
                    q2 = M[6, t] - M[10, t] - M[14, t]
                    q3 = M[7, t] - M[11, t] - M[15, t]
                    v00, v01 = p0 + p1 + p2 + bo, p1 - p2 - p3 + bo
                    v10, v11 = q0 + q1 + q2 + bo, q1 - q2 - q3 + bo
                    b = 2 * tx
                    y0[b] = v00
                    if b + 1 < O2:
                        y0[b + 1] = v01
                    if two:
                        y1[b] = v10
                        if b + 1 < O2:
                            y1[b + 1] = v11
    if relu:
        # the ReLU as a pass of its own over the block (in cache): a plain vector loop, where
        # in the tile loop its selects compiled to branches on data, a coin toss each (the
        # 3-conv net's second layer: 39 -> 24 us per sample)
        yf, mf = y.reshape(y.size), mask.reshape(mask.size)
        for i in range(yf.size):
            v = yf[i]
            positive = v > 0
            mf[i] = positive
            yf[i] = v if positive else zero


@njit(cache=True, nogil=True)
def masked(g, mask, out):
    """out = g where ``mask`` is set, 0 elsewhere (the ReLU's backward), as one vector loop:
    inside the tile loop the selects compiled to branches on data."""
    gf, mf, of = g.reshape(g.size), mask.reshape(mask.size), out.reshape(out.size)
    zero = np.zeros(1, g.dtype)[0]
    for i in range(gf.size):
        of[i] = gf[i] if mf[i] else zero


@njit(cache=True, nogil=True)
def gradient_transform(g, TH, TW, dM, db):
    """dM[4i + j, o*L + t] = (A dy A^T)[i, j] for the 2x2 tile dy of g[s, o] (0 past the
    edge); ``db[o]`` = the sum of g[:, o]."""
    n, Co, O1, O2 = g.shape
    T = TH * TW
    L = n * T
    zero = np.zeros(1, g.dtype)[0]
    db[:] = 0
    for s in range(n):
        for o in range(Co):
            total = zero
            for ty in range(TH):
                a = 2 * ty
                row = a + 1 < O1
                g0, g1 = g[s, o, a], g[s, o, a + 1 if row else a]
                for tx in range(TW):
                    b = 2 * tx
                    col = b + 1 < O2
                    y00 = g0[b]
                    y01 = g0[b + 1] if col else zero
                    y10 = g1[b] if row else zero
                    y11 = g1[b + 1] if row and col else zero
                    total += (y00 + y01) + (y10 + y11)
                    # A y: rows (y0, y0 + y1, y0 - y1, -y1), then the same along the columns
                    r = ((y00, y01), (y00 + y10, y01 + y11), (y00 - y10, y01 - y11), (-y10, -y11))
                    t = o * L + s * T + ty * TW + tx
                    for i in range(4):
                        u0, u1 = r[i]
                        dM[4 * i, t] = u0
                        dM[4 * i + 1, t] = u0 + u1
                        dM[4 * i + 2, t] = u0 - u1
                        dM[4 * i + 3, t] = -u1
            db[o] += total


@njit(cache=True, nogil=True)
def input_gradient(dV, TH, TW, before, dxq, dx):
    """dxq[s, c] += B dv B^T at each tile's place (dv = dV[:, c*L + t]), then dx = the interior
    of dxq (the adjoint of :func:`pad_tiles` and :func:`input_transform`)."""
    n, C, H, W = dx.shape
    T = TH * TW
    L = n * T
    dxq[:] = 0
    for s in range(n):
        for c in range(C):
            plane = dxq[s, c]
            for ty in range(TH):
                for tx in range(TW):
                    t = c * L + s * T + ty * TW + tx
                    a, b = 2 * ty, 2 * tx
                    # B v: rows (v0, v1 - v2 + v3, -v0 + v1 + v2, -v3) of v_i = dV[4i:4i+4] ...
                    for i in range(4):
                        if i == 0:
                            u0, u1, u2, u3 = dV[0, t], dV[1, t], dV[2, t], dV[3, t]
                        elif i == 1:
                            u0 = dV[4, t] - dV[8, t] + dV[12, t]
                            u1 = dV[5, t] - dV[9, t] + dV[13, t]
                            u2 = dV[6, t] - dV[10, t] + dV[14, t]
                            u3 = dV[7, t] - dV[11, t] + dV[15, t]
                        elif i == 2:
                            u0 = -dV[0, t] + dV[4, t] + dV[8, t]
                            u1 = -dV[1, t] + dV[5, t] + dV[9, t]
                            u2 = -dV[2, t] + dV[6, t] + dV[10, t]
                            u3 = -dV[3, t] + dV[7, t] + dV[11, t]
                        else:
                            u0, u1, u2, u3 = -dV[12, t], -dV[13, t], -dV[14, t], -dV[15, t]
                        # ... then times B^T, the same along the row, added in place
                        line = plane[a + i]
                        line[b] += u0
                        line[b + 1] += u1 - u2 + u3
                        line[b + 2] += -u0 + u1 + u2
                        line[b + 3] += -u3
            for i in range(H):
                src, dst = plane[before[0] + i, before[1]:], dx[s, c, i]
                for j in range(W):
                    dst[j] = src[j]
