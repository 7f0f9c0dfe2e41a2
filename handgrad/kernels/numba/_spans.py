"""Which outputs of a row of windows read inside the input, for one kernel tap."""

from numba import njit


@njit(cache=True, inline="always")
def span(n, o, s, j, d, p):
    """The output range ``[lo, hi)`` along one dimension (``o`` outputs, stride ``s``) whose
    input sample ``o*s + j*d - p`` for tap ``j`` (dilation ``d``, left padding ``p``) lies
    inside ``[0, n)``."""
    first = j * d - p                          # input index of output 0
    lo = 0 if first >= 0 else (-first + s - 1) // s
    hi = 0 if first >= n else (n - 1 - first) // s + 1
    return min(lo, o), min(max(hi, 0), o)
