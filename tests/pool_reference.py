"""A slow, obviously correct pooling reference: Python loops over every output and window sample.

Used by tests/test_pooling.py to check the vectorized kernels. It follows the
definitions in docs/pooling.md literally (and PyTorch's divisor rule).
"""

import itertools

import numpy as np


def _windows(in_size, kernel, stride, pad, out):
    """For each output position: the list of window samples in scan order, in input
    coordinates, each paired with whether it lies inside the input."""
    for o in itertools.product(*(range(m) for m in out)):
        start = [oi * s - p0 for oi, s, (p0, _) in zip(o, stride, pad)]
        samples = []
        for r in itertools.product(*(range(k) for k in kernel)):
            i = tuple(a + ri for a, ri in zip(start, r))
            inside = all(0 <= ii < n for ii, n in zip(i, in_size))
            samples.append((i, inside))
        yield o, start, samples


def reference_pool(x, kind, kernel, stride, pad, out,
                   count_include_pad=True, divisor_override=None, g=None):
    """Forward ``y`` and, if ``g`` is given, ``dL/dx`` for ``L = sum(g * y)``.

    ``kind`` is "max" or "avg"; ``pad`` is a tuple of (before, after) pairs.
    """
    N, C = x.shape[:2]
    in_size = x.shape[2:]
    y = np.zeros((N, C) + tuple(out))
    gx = np.zeros(x.shape)
    for n, c in itertools.product(range(N), range(C)):
        for o, start, samples in _windows(in_size, kernel, stride, pad, out):
            if kind == "max":
                best, best_at = -np.inf, None
                for i, inside in samples:          # padding is -inf: never strictly greater
                    value = x[(n, c) + i] if inside else -np.inf
                    if best_at is None or value > best:
                        best, best_at = value, (i, inside)
                y[(n, c) + o] = best
                if g is not None and best_at[1]:
                    gx[(n, c) + best_at[0]] += g[(n, c) + o]
            else:
                total = sum(x[(n, c) + i] for i, inside in samples if inside)
                if divisor_override is not None:
                    divisor = divisor_override
                elif count_include_pad:
                    divisor = 1
                    for a, k, m, (_, p1) in zip(start, kernel, in_size, pad):
                        divisor *= min(a + k, m + p1) - a
                else:
                    divisor = sum(1 for _, inside in samples if inside)
                y[(n, c) + o] = total / divisor
                if g is not None:
                    for i, inside in samples:
                        if inside:
                            gx[(n, c) + i] += g[(n, c) + o] / divisor
    return y, gx
