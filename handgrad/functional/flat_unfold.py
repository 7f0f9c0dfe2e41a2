"""Unfolding for stride-1 convolutions whose output is no wider than the input in every
spatial dimension but the first (``"same"`` or ``"valid"`` there): each kernel tap is one
contiguous run per (channel, sample), so im2col and col2im cost ``K`` long copies instead
of ``K * N * O_1`` short rows. Math: docs/convolution.md, "Flat unfolding (stride 1)".

Each sample is stored flat, padded along the first spatial dimension only::

    buf: (C, N, lo + P_1 * T + hi)      T = S_2 * ... * S_d (one "row" of the first dimension)

The columns are laid out on the grid ``(O_1, S_2, ..., S_d)``: output ``o`` sits at the
same flat index ``flat(o)`` as input position ``(o_1, o_2, ..., o_d)`` would, and the grid
positions with ``o_i >= O_i`` (``i >= 2``; only when the output is narrower than the input)
are junk columns. With strides ``T_i = S_{i+1} * ... * S_d``, output ``o`` reads at tap
``j`` padded row ``o_1 + d_1 j_1`` and input coordinates ``o_i + d_i j_i - p_i`` (``p_i``
the padding before): flat position

    flat(o) + off(j),   off(j) = d_1 j_1 T + sum_{i>=2} (d_i j_i - p_i) T_i

so tap ``j`` reads the run ``[lo + off(j), lo + off(j) + O_1 T)``. Where
``o_i + d_i j_i - p_i`` falls outside ``[0, S_i)`` the run has wrapped into the neighbouring
row instead of reading padding; those entries of real outputs (a prefix or suffix of
``o_i``) are set to zero after the copy ("fix-ups"). ``lo`` and ``hi`` are the zeros that
the first and last taps read before and after a sample. Junk columns hold whatever their
run read: their outputs are never used, and their gradients are zero.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .shapes import leading


@dataclass(frozen=True)
class FlatUnfold:
    """Geometry of the flat unfolding for one input size (see the module docstring)."""

    spatial: tuple    # S, input spatial sizes
    out: tuple        # O, output spatial sizes
    grid: tuple       # (O_1, S_2, ..., S_d): the column grid, junk where o_i >= O_i
    first: int        # where sample row 0 starts in a buffer row: lo + p_1 * T
    length: int       # lo + P_1 * T + hi, one (channel, sample) of the buffer
    starts: tuple     # per tap (row-major over the kernel): lo + off(j)
    fixups: tuple     # per tap: index tuples into (..., *grid) to zero

    @property
    def size(self):
        """Input samples per (channel, sample): ``prod(S)``."""
        return math.prod(self.spatial)

    @property
    def run(self):
        """Columns per (channel, sample): ``prod(grid)``."""
        return math.prod(self.grid)

    @property
    def junk(self):
        """True when the grid has junk columns (some ``O_i < S_i``)."""
        return self.grid != self.out

    def valid(self):
        """Index of the real outputs in an array ending with the grid dimensions."""
        return leading(self.out)


def flat_unfold(spatial, kernel_size, dilation, pads):
    """The :class:`FlatUnfold` of a stride-1 convolution, or ``None`` when some dimension
    after the first would grow (``p_before + p_after > d * (k - 1)``)."""
    if any(p0 + p1 > d * (k - 1) for k, d, (p0, p1) in
           zip(kernel_size[1:], dilation[1:], pads[1:])):
        return None
    d = len(spatial)
    T = math.prod(spatial[1:])
    steps = [math.prod(spatial[i + 1:]) for i in range(d)]           # T_i; steps[0] == T
    out = tuple(n + p0 + p1 - dl * (k - 1) for n, k, dl, (p0, p1) in zip(spatial, kernel_size, dilation, pads))
    (p0_first, p1_first) = pads[0]
    lo = sum(p0 * t for (p0, _), t in zip(pads[1:], steps[1:]))
    hi = sum((dl * (k - 1) - p0) * t for k, dl, (p0, _), t in     # what the last tap reads past a sample
             zip(kernel_size[1:], dilation[1:], pads[1:], steps[1:]))
    starts, fixups = [], []
    for j in itertools.product(*(range(k) for k in kernel_size)):
        off = dilation[0] * j[0] * T + sum((dl * ji - p0) * t for dl, ji, (p0, _), t in
                                           zip(dilation[1:], j[1:], pads[1:], steps[1:]))
        starts.append(lo + off)
        fix = []
        for axis in range(1, d):
            shift = dilation[axis] * j[axis] - pads[axis][0]            # input = o_i + shift
            after = (slice(None),) * (d - 1 - axis)                    # the dimensions after `axis`
            # real outputs (o_i < O_i) whose input o_i + shift lies in the padding
            bad = slice(0, min(-shift, out[axis])) if shift < 0 else slice(max(0, spatial[axis] - shift), out[axis])
            if bad.start < bad.stop:
                fix.append((Ellipsis, bad) + after)
        fixups.append(tuple(fix))
    length = lo + (spatial[0] + p0_first + p1_first) * T + hi
    grid = out[:1] + tuple(spatial[1:])
    return FlatUnfold(tuple(spatial), out, grid, lo + p0_first * T, length, tuple(starts), tuple(fixups))


def unfold_flat(x, plan, buf, cols):
    """im2col: fill ``cols`` ``(C, K, n, prod(grid))`` from ``x`` ``(n, C, *S)``.

    ``buf`` ``(C, n, plan.length)`` must hold zeros outside the sample rows (zero it once:
    only the rows are written here).
    """
    n, C = x.shape[:2]
    np.copyto(buf[:, :, plan.first:plan.first + plan.size], x.reshape(n, C, -1).swapaxes(0, 1))
    grid = (C, n) + plan.grid
    for tap, start in enumerate(plan.starts):
        np.copyto(cols[:, tap], buf[:, :, start:start + plan.run])
        block = cols[:, tap].reshape(grid)
        for index in plan.fixups[tap]:
            block[index] = 0
    return cols


def fold_flat(dcols, plan, buf):
    """col2im: add ``dcols`` ``(C, K, n, prod(grid))`` back onto the samples they were read
    from, in ``buf`` ``(C, n, plan.length)`` (any content on entry). Returns the
    ``(C, n, prod(S))`` view of the input gradient. The fix-up entries of ``dcols`` are
    zeroed first (they belong to padding, not to the neighbouring row the run wrapped
    into); junk columns must be zero on entry (they are when ``dcols`` is computed from a
    gradient that is zero there).

    The first tap is copied rather than added, onto a buffer zeroed only outside its run
    (the same sums, in the same order, as zeroing everything and adding every tap)."""
    C, _, n = dcols.shape[:3]
    grid = (C, n) + plan.grid
    for tap, start in enumerate(plan.starts):
        block = dcols[:, tap]
        for index in plan.fixups[tap]:
            block.reshape(grid)[index] = 0
        run = buf[:, :, start:start + plan.run]
        if tap == 0:
            buf[:, :, :start] = 0
            buf[:, :, start + plan.run:] = 0
            np.copyto(run, block)
        else:
            run += block
    return buf[:, :, plan.first:plan.first + plan.size]
