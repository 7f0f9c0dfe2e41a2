"""Sums of long runs of values, in float64, that the compiler may vectorize.

Written plainly, ``total += v[i]`` makes every addition wait for the one before (about
four cycles): float32 values are summed at about one per cycle. ``fastmath={"reassoc"}``
lets the compiler keep many running totals in vector registers and add them up at the
end: 4x faster here (AMD EPYC, 0.07 ns per value). Only these loops carry the flag. The
order of the additions is fixed by the compiled code, so a sum depends on its values only,
never on how many threads ran; it can differ in the last bits from machine to machine, as
a BLAS product does.
"""

from numba import njit

_sum = njit(cache=True, nogil=True, fastmath={"reassoc"})


@_sum
def run_sum(v):
    """sum of a 1-d ``v``, in float64."""
    total = 0.0
    for i in range(v.size):
        total += v[i]
    return total


@_sum
def run_sum_squares(v, shift):
    """sum of ``(v[i] - shift)**2`` over a 1-d ``v``, in float64."""
    total = 0.0
    for i in range(v.size):
        d = v[i] - shift
        total += d * d
    return total


@_sum
def run_sum_and_dot(u, v):
    """``(sum of u[i], sum of u[i] * v[i])`` over 1-d ``u`` and ``v`` of one size, in float64."""
    total, dot = 0.0, 0.0
    for i in range(u.size):
        total += u[i]
        dot += float(u[i]) * v[i]
    return total, dot


@_sum
def run_masked_sum_and_dot(u, mask, zero, v):
    """As :func:`run_sum_and_dot` of ``u`` taken where ``mask`` is set and ``zero`` (0 in
    ``u``'s dtype) elsewhere."""
    total, dot = 0.0, 0.0
    for i in range(u.size):
        w = u[i] if mask[i] else zero
        total += w
        dot += float(w) * v[i]
    return total, dot
