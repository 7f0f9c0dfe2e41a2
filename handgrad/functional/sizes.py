"""Per-dimension arguments, padding rules and output sizes shared by convolution and pooling.

For one spatial dimension of size ``n``, kernel ``k``, stride ``s``, dilation ``d`` and
padding ``(p0, p1)`` (before, after), the dilated kernel spans ``d*(k-1)+1`` samples and

    out = floor((n + p0 + p1 - d*(k-1) - 1) / s) + 1          (ceil_mode: ceil instead of floor)

``padding="same"`` pads as a stride-1 convolution would, ``p0 = (d*(k-1)) // 2`` and
``p1 = d*(k-1) - p0`` (so even kernels put the extra sample after), and the stride then
subsamples, giving ``ceil(n / s)`` outputs.
"""

import numbers


def ntuple(value, n, name, owner, minimum=1):
    """An int or a length-``n`` sequence of ints -> tuple of ``n`` ints, each >= ``minimum``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        values = tuple(int(v) for v in value)
    else:
        raise TypeError(f"{owner} expected {name} to be an int or a tuple of {n} ints, got {value!r}")
    bad = [v for v in values if v < minimum]
    if bad:
        raise ValueError(f"{owner} expected {name} >= {minimum} in every dimension, got {value!r}")
    return values


def parse_padding(padding, kernel_size, dilation, n, owner):
    """Normalize ``padding`` to a tuple of ``n`` ``(before, after)`` pairs.

    Accepts an int, a tuple of ``n`` ints, a tuple of ``n`` ``(before, after)`` pairs,
    ``"valid"`` (no padding) or ``"same"`` (stride-1 'same' padding, see module docs).
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * n
        if mode == "same":
            pairs = []
            for k, d in zip(kernel_size, dilation):
                total = d * (k - 1)
                pairs.append((total // 2, total - total // 2))
            return tuple(pairs)
        raise ValueError(f"{owner} expected padding to be an int, a tuple, 'same' or 'valid', got {padding!r}")
    if isinstance(padding, (tuple, list)) and len(padding) == n and all(
            isinstance(p, (tuple, list)) for p in padding):
        pairs = []
        for p in padding:
            if len(p) != 2:
                raise ValueError(f"{owner} expected each padding pair to be (before, after), got {padding!r}")
            pairs.append(tuple(ntuple(tuple(p), 2, "padding", owner, minimum=0)))
        return tuple(pairs)
    single = ntuple(padding, n, "padding", owner, minimum=0)
    return tuple((p, p) for p in single)


def output_size(n, k, s, pad, d=1, ceil_mode=False):
    """Output length of one dimension (see module docs). ``pad`` is ``(before, after)``."""
    span = n + pad[0] + pad[1] - d * (k - 1) - 1
    if span < 0:
        return 0
    if ceil_mode:
        out = -(-span // s) + 1
        # PyTorch rule: the last window must start inside the input or the left padding
        if (out - 1) * s >= n + pad[0]:
            out -= 1
        return out
    return span // s + 1

