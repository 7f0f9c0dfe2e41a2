"""Unfolding for stride-1 convolutions that keep the size of every spatial dimension but
the first (``"same"`` padding there): each kernel tap is one contiguous run per
(channel, sample), so im2col and col2im cost ``K`` long copies instead of ``K * N * O_1``
short rows. Math: docs/convolution.md, "Same-size rows".

Each sample is stored flat, padded along the first spatial dimension only::

    buf: (C, N, lo + P_1 * T + hi)      T = S_2 * ... * S_d (one "row" of the first dimension)

With strides ``T_i = S_{i+1} * ... * S_d`` of the unpadded dimensions 2..d, output ``o``
reads, at tap ``j``, padded row ``o_1 + d_1 j_1`` and input coordinates
``o_i + d_i j_i - p_i`` (``p_i`` the padding before): flat position

    flat(o) + off(j),   off(j) = d_1 j_1 T + sum_{i>=2} (d_i j_i - p_i) T_i

where ``flat(o)`` is the output's own flat index, because ``O_i = S_i`` for ``i >= 2``.
So tap ``j`` reads the run ``[lo + off(j), lo + off(j) + O_1 T)``. Where
``o_i + d_i j_i - p_i`` falls outside ``[0, S_i)`` the run has wrapped into the neighbouring
row instead of reading padding; those entries (a prefix or suffix of ``o_i``) are set to
zero after the copy ("fix-ups"). ``lo`` and ``hi`` are the zeros that the first and last
taps read before and after a sample.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FlatUnfold:
    """Geometry of the flat unfolding for one input size (see the module docstring)."""

    spatial: tuple    # S, input spatial sizes
    out: tuple        # O = (O_1, S_2, ..., S_d)
    first: int        # where sample row 0 starts in a buffer row: lo + p_1 * T
    length: int       # lo + P_1 * T + hi, one (channel, sample) of the buffer
    starts: tuple     # per tap (row-major over the kernel): lo + off(j)
    fixups: tuple     # per tap: index tuples into (..., O_1, ..., O_d) to zero

    @property
    def size(self):
        """Input samples per (channel, sample): ``prod(S)``."""
        return math.prod(self.spatial)

    @property
    def run(self):
        """Columns per (channel, sample): ``prod(O)``."""
        return math.prod(self.out)


def flat_unfold(spatial, kernel_size, dilation, pads):
    """The :class:`FlatUnfold` of a stride-1 convolution, or ``None`` when some dimension
    after the first changes size (``p_before + p_after != d * (k - 1)``)."""
    if any(p0 + p1 != d * (k - 1) for k, d, (p0, p1) in
           zip(kernel_size[1:], dilation[1:], pads[1:])):
        return None
    d = len(spatial)
    T = math.prod(spatial[1:])
    steps = [math.prod(spatial[i + 1:]) for i in range(d)]           # T_i; steps[0] == T
    (p0_first, p1_first) = pads[0]
    out = (spatial[0] + p0_first + p1_first - dilation[0] * (kernel_size[0] - 1),) + tuple(spatial[1:])
    lo = sum(p0 * t for (p0, _), t in zip(pads[1:], steps[1:]))
    hi = sum(p1 * t for (_, p1), t in zip(pads[1:], steps[1:]))
    starts, fixups = [], []
    for j in itertools.product(*(range(k) for k in kernel_size)):
        off = dilation[0] * j[0] * T + sum((dl * ji - p0) * t for dl, ji, (p0, _), t in
                                           zip(dilation[1:], j[1:], pads[1:], steps[1:]))
        starts.append(lo + off)
        fix = []
        for axis in range(1, d):
            shift = dilation[axis] * j[axis] - pads[axis][0]            # input = o_i + shift
            after = (slice(None),) * (d - 1 - axis)                    # the dimensions after `axis`
            if shift < 0:                                               # o_i < -shift: left padding
                fix.append((Ellipsis, slice(0, -shift)) + after)
            elif shift > 0:                                             # o_i >= S_i - shift: right padding
                fix.append((Ellipsis, slice(max(0, spatial[axis] - shift), None)) + after)
        fixups.append(tuple(fix))
    length = lo + (spatial[0] + p0_first + p1_first) * T + hi
    return FlatUnfold(tuple(spatial), out, lo + p0_first * T, length, tuple(starts), tuple(fixups))


def unfold_flat(x, plan, buf, cols):
    """im2col: fill ``cols`` ``(C, K, n, prod(O))`` from ``x`` ``(n, C, *S)``.

    ``buf`` ``(C, n, plan.length)`` must hold zeros outside the sample rows (zero it once:
    only the rows are written here).
    """
    n, C = x.shape[:2]
    np.copyto(buf[:, :, plan.first:plan.first + plan.size], x.reshape(n, C, -1).swapaxes(0, 1))
    grid = (C, n) + plan.out
    for tap, start in enumerate(plan.starts):
        np.copyto(cols[:, tap], buf[:, :, start:start + plan.run])
        block = cols[:, tap].reshape(grid)
        for index in plan.fixups[tap]:
            block[index] = 0
    return cols


def fold_flat(dcols, plan, buf):
    """col2im: add ``dcols`` ``(C, K, n, prod(O))`` back onto the samples they were read
    from, in ``buf`` ``(C, n, plan.length)`` (zero on entry). Returns the ``(C, n, prod(S))``
    view of the input gradient. The fix-up entries of ``dcols`` are zeroed first (they
    belong to padding, not to the neighbouring row the run wrapped into)."""
    C, _, n = dcols.shape[:3]
    grid = (C, n) + plan.out
    for tap, start in enumerate(plan.starts):
        block = dcols[:, tap]
        for index in plan.fixups[tap]:
            block.reshape(grid)[index] = 0
        run = buf[:, :, start:start + plan.run]
        run += block
    return buf[:, :, plan.first:plan.first + plan.size]
