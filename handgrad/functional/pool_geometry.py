"""Pooling geometry: hyperparameter checks, output sizes and average-pooling divisors.

A pooling window of size ``k`` (per dimension) slides with stride ``s`` over the input
padded by ``(p0, p1)``. In *padded coordinates* output ``o`` reads ``[o*s, o*s + k)``;
in input coordinates it starts at ``o*s - p0``. Math: docs/pooling.md.
"""

from dataclasses import dataclass

import numpy as np

from .._memo import remembered
from .sizes import ntuple, output_size, parse_padding


@dataclass(frozen=True)
class PoolGeometry:
    """Sizes of one pooling call, per spatial dimension (all tuples of length ``d``)."""

    in_size: tuple    # input spatial sizes n
    kernel: tuple     # k
    stride: tuple     # s
    pads: tuple       # (p0, p1) pairs
    out: tuple        # output sizes

    @property
    def extent(self):
        """Padded-coordinate length that the windows cover: ``(out - 1) * s + k``."""
        return tuple((o - 1) * s + k for o, s, k in zip(self.out, self.stride, self.kernel))

    @property
    def full_pads(self):
        """Padding that makes every window fit: ``(p0, max(p1, extent - p0 - n))`` per
        dimension (``ceil_mode`` may add a last window that reaches past ``p1``)."""
        return tuple((p0, max(p1, e - p0 - n)) for (p0, p1), e, n in zip(self.pads, self.extent, self.in_size))


def pool_args(d, kernel_size, stride, padding, owner):
    """Validate pooling hyperparameters -> ``(kernel, stride, pads)`` tuples of length ``d``.

    ``stride=None`` means ``stride = kernel_size``. Padding on each side must be at most
    half the kernel (PyTorch's rule: otherwise a window could lie wholly in padding).
    """
    kernel = ntuple(kernel_size, d, "kernel_size", owner)
    stride = kernel if stride is None else ntuple(stride, d, "stride", owner)
    pads = parse_padding(padding, kernel, (1,) * d, d, owner)
    for k, (p0, p1) in zip(kernel, pads):
        if max(p0, p1) > k // 2:
            raise ValueError(f"{owner} expected padding at most half the kernel size (padding <= "
                             f"kernel_size // 2) in every dimension, got padding={padding!r} "
                             f"with kernel_size={kernel_size!r}")
    return kernel, stride, pads


@remembered
def pool_geometry(in_size, kernel, stride, pads, ceil_mode):
    """The :class:`PoolGeometry` of validated arguments for spatial input size ``in_size``
    (remembered: layers ask for it with every batch)."""
    out = tuple(output_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip(in_size, kernel, stride, pads))
    return PoolGeometry(tuple(in_size), kernel, stride, pads, out)


def check_output_size(geom, x_shape, owner):
    """Raise a clear error when some spatial output size would be zero."""
    if min(geom.out) >= 1:
        return
    hint = ""
    if len(x_shape) >= 4 and x_shape[-1] <= 4 < x_shape[1]:
        hint = "; is the data channels-last? handgrad expects channels-first (N, C, ...)"
    raise ValueError(f"{owner}: input spatial size {geom.in_size} is too small for kernel_size "
                     f"{geom.kernel} with padding {geom.pads}; the output size would be "
                     f"{geom.out} (input shape {tuple(x_shape)}){hint}")


def avg_divisor(geom, count_include_pad, divisor_override):
    """Divisor of each output position, shape ``out`` (or a scalar with ``divisor_override``).

    Per dimension, with window start ``a = o*s - p0`` in input coordinates (PyTorch's rule):
    ``count_include_pad`` counts ``min(a + k, n + p1) - a`` positions (padding, but not
    the area past it that ``ceil_mode`` may add), otherwise only the input positions
    ``min(a + k, n) - max(a, 0)``. The divisor is the product over dimensions.
    """
    if divisor_override is not None:
        return divisor_override
    div = np.ones(geom.out, np.int64)
    for axis, (n, k, s, (p0, p1), out) in enumerate(
            zip(geom.in_size, geom.kernel, geom.stride, geom.pads, geom.out)):
        start = np.arange(out) * s - p0
        end = np.minimum(start + k, n + p1)
        if count_include_pad:
            count = end - start
        else:
            count = np.minimum(end, n) - np.maximum(start, 0)
        shape = [1] * len(geom.out)
        shape[axis] = out
        div = div * count.reshape(shape)
    return div

