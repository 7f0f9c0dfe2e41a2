"""Every kernel works on three spatial dimensions: 1-d and 2-d calls get leading size-1
dimensions (kernel 1, stride 1, dilation 1, no padding), which cost nothing in the loops."""


def as_3d(shape, *per_dim):
    """``(N, C, *S)`` -> ``(N, C, D, H, W)``, and each per-dimension tuple padded to three
    entries with its neutral value (pairs of pads with ``(0, 0)``, the rest with 1)."""
    nd = len(shape) - 2
    extra = 3 - nd
    shape3 = tuple(shape[:2]) + (1,) * extra + tuple(shape[2:])
    out = [shape3]
    for values in per_dim:
        values = tuple(values)
        neutral = (0, 0) if values and isinstance(values[0], tuple) else 1
        out.append((neutral,) * extra + values)
    return out
