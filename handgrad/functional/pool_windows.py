"""Pooling windows: geometry, padded buffers, kernel-offset slices and average divisors.

A pooling window of size ``k`` (per dimension) slides with stride ``s`` over the input
padded by ``(p0, p1)``. In *padded coordinates* output ``o`` reads ``[o*s, o*s + k)``;
in input coordinates it starts at ``o*s - p0``. Rather than materialising every window,
the kernels loop over the ``prod(k)`` kernel offsets ``r``: for a fixed offset the
samples ``r, r+s, r+2s, ...`` of the padded input form a strided slice with the
output's shape, so each offset is one vectorized NumPy operation. Math: docs/pooling.md.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .shapes import ntuple, output_size, parse_padding


@dataclass(frozen=True)
class PoolGeometry:
    """Sizes of one pooling call, per spatial dimension (all tuples of length ``d``)."""

    in_size: tuple    # input spatial sizes n
    kernel: tuple     # k
    stride: tuple     # s
    pad: tuple        # (p0, p1) pairs
    out: tuple        # output sizes

    @property
    def extent(self):
        """Padded-coordinate length that the windows cover: ``(out - 1) * s + k``."""
        return tuple((o - 1) * s + k for o, s, k in zip(self.out, self.stride, self.kernel))

    @property
    def needs_buffer(self):
        """True when a window reaches padding (left padding or past the input's end)."""
        return any(p0 > 0 for p0, _ in self.pad) or any(e > n for e, n in zip(self.extent, self.in_size))

    @property
    def non_overlapping(self):
        """Each input sample is read by at most one window (stride == kernel, no padding read)."""
        return self.stride == self.kernel and not self.needs_buffer

    def offsets(self):
        """Kernel offsets in window scan order (row-major), as tuples."""
        return list(itertools.product(*(range(k) for k in self.kernel)))

    def offset_slices(self, offset):
        """Spatial slices of the (padded) input read by kernel offset ``offset``."""
        return tuple(slice(r, r + (o - 1) * s + 1, s) for r, o, s in zip(offset, self.out, self.stride))

    def interior(self):
        """Spatial slices (into the input, into the padded buffer) of the copied region."""
        src, dst = [], []
        for n, (p0, _), e in zip(self.in_size, self.pad, self.extent):
            m = min(n, e - p0)            # input samples that some window reads
            src.append(slice(0, m))
            dst.append(slice(p0, p0 + m))
        return tuple(src), tuple(dst)


def pool_args(d, kernel_size, stride, padding, owner):
    """Validate pooling hyperparameters -> ``(kernel, stride, pad)`` tuples of length ``d``.

    ``stride=None`` means ``stride = kernel_size``. Padding on each side must be at most
    half the kernel (PyTorch's rule: otherwise a window could lie wholly in padding).
    """
    kernel = ntuple(kernel_size, d, "kernel_size", owner)
    stride = kernel if stride is None else ntuple(stride, d, "stride", owner)
    pad = parse_padding(padding, kernel, (1,) * d, d, owner)
    for k, (p0, p1) in zip(kernel, pad):
        if max(p0, p1) > k // 2:
            raise ValueError(f"{owner} expected padding at most half the kernel size (padding <= "
                             f"kernel_size // 2) in every dimension, got padding={padding!r} "
                             f"with kernel_size={kernel_size!r}")
    return kernel, stride, pad


def pool_geometry(in_size, kernel, stride, pad, ceil_mode):
    """The :class:`PoolGeometry` of validated arguments for spatial input size ``in_size``."""
    out = tuple(output_size(n, k, s, p, 1, ceil_mode) for n, k, s, p in zip(in_size, kernel, stride, pad))
    return PoolGeometry(tuple(in_size), kernel, stride, pad, out)


def check_output_size(geom, x_shape, owner):
    """Raise a clear error when some spatial output size would be zero."""
    if min(geom.out) >= 1:
        return
    hint = ""
    if len(x_shape) >= 4 and x_shape[-1] <= 4 < x_shape[1]:
        hint = "; is the data channels-last? handgrad expects channels-first (N, C, ...)"
    raise ValueError(f"{owner}: input spatial size {geom.in_size} is too small for kernel_size "
                     f"{geom.kernel} with padding {geom.pad}; the output size would be "
                     f"{geom.out} (input shape {tuple(x_shape)}){hint}")


class Workspace:
    """Big buffers reused across calls (writing into fresh pages is slow).

    ``get`` returns the same array while the key (shape, dtype, fill) is unchanged;
    the part that callers overwrite each time must be overwritten in full by them.
    """

    def __init__(self):
        self._buffers = {}

    def get(self, name, shape, dtype, fill):
        key = (tuple(shape), np.dtype(dtype), fill)
        entry = self._buffers.get(name)
        if entry is None or entry[0] != key:
            entry = (key, np.full(shape, fill, dtype))
            self._buffers[name] = entry
        return entry[1]

    def computed(self, name, key, make):
        """``make()``, computed once and kept while ``key`` is unchanged (read-only use)."""
        entry = self._buffers.get(name)
        if entry is None or entry[0] != key:
            entry = (key, make())
            self._buffers[name] = entry
        return entry[1]


def padded_input(x, geom, fill, work):
    """``x`` padded with ``fill`` to the windows' extent (``x`` itself when no padding is read).

    The buffer comes from ``work`` and is reused: its border keeps ``fill`` from the
    first call and only the interior is copied each time.
    """
    if not geom.needs_buffer:
        return x
    N, C = x.shape[:2]
    xp = work.get("x_padded", (N, C) + geom.extent, x.dtype, fill)   # (N, C, *extent)
    src, dst = geom.interior()
    xp[(Ellipsis,) + dst] = x[(Ellipsis,) + src]
    return xp


def scatter_to_input(parts, x_shape, geom, dtype, work):
    """Sum per-offset contributions into dL/dx.

    ``parts`` yields ``(offset, array)`` with arrays of shape ``(N, C, *out)``; each is
    added at the samples that offset read. Overlapping windows (stride < kernel) add up.
    Contributions that land on padding are dropped.

    Offset ``r = q*s + a`` (per dimension, ``a = r mod s``) reads padded positions
    ``a + (q + o)*s``: all in *phase* ``a``. Each phase is accumulated in its own
    contiguous plane (phase ``a``, plane index ``q + o``), so the adds run over
    contiguous rows instead of stride-``s`` samples; the planes are then written once
    into the strided positions of dL/dx.
    """
    planes = {}
    for offset, part in parts:
        phase = tuple(r % s for r, s in zip(offset, geom.stride))
        if phase not in planes:
            plane_shape = tuple(-(-(e - a) // s) for e, a, s in zip(geom.extent, phase, geom.stride))
            planes[phase] = work.get(f"phase{phase}", x_shape[:2] + plane_shape, dtype, 0.0)
            planes[phase].fill(0)
        shift = tuple(slice(r // s, r // s + o) for r, s, o in zip(offset, geom.stride, geom.out))
        planes[phase][(Ellipsis,) + shift] += part
    gx = np.zeros(x_shape, dtype)
    for phase, plane in planes.items():
        src, dst = [], []
        for a, s, (p0, _), n, m in zip(phase, geom.stride, geom.pad, geom.in_size, plane.shape[2:]):
            j0 = max(0, -(-(p0 - a) // s))            # first plane index inside the input
            j1 = min(m, -(-(n + p0 - a) // s))        # one past the last
            first = a + j0 * s - p0                   # its input coordinate
            src.append(slice(j0, max(j0, j1)))
            dst.append(slice(first, first + max(0, j1 - j0) * s, s) if j1 > j0 else slice(0, 0))
        gx[(Ellipsis,) + tuple(dst)] = plane[(Ellipsis,) + tuple(src)]
    return gx


def flat_argmax(arg, geom, work):
    """Flat index into the padded grid ``(N, C, *extent)`` of each window's argmax.

    ``arg`` ``(N, C, *out)`` holds kernel-offset indices (row-major scan order). Output
    ``o`` with offset ``r`` reads padded position ``o*s + r``, so its flat index is
    ``base[o] + delta[r]`` with ``base[n, c, o] = flat(n, c, o*s)`` (kept in ``work``)
    and ``delta[r] = flat(0, 0, r)``. Returns a 1-D int64 array (what bincount takes).
    """
    N, C = arg.shape[:2]
    strides = [math.prod(geom.extent[axis + 1:]) for axis in range(len(geom.extent))]

    def make_base():
        base = np.arange(N * C, dtype=np.int64).reshape((N, C) + (1,) * len(geom.out))
        base = base * math.prod(geom.extent)
        for axis, (o, s, step) in enumerate(zip(geom.out, geom.stride, strides)):
            shape = [1] * len(geom.out)
            shape[axis] = o
            base = base + (np.arange(o, dtype=np.int64) * (s * step)).reshape(shape)
        return base                                                   # (N, C, *out)

    base = work.computed("flat_base", (arg.shape, geom), make_base)
    delta = np.array([sum(r * step for r, step in zip(offset, strides)) for offset in geom.offsets()],
                     np.int64)                                        # (prod(kernel),)
    flat = np.take(delta, arg)                                        # (N, C, *out)
    flat += base
    return flat.ravel()


def crop_to_input(grad_padded, x_shape, geom, dtype):
    """dL/dx (new array of ``dtype``) from a gradient over the padded grid: padding dropped."""
    src, dst = geom.interior()
    if all(sl.stop - sl.start == n for sl, n in zip(src, geom.in_size)):
        return grad_padded[(Ellipsis,) + dst].astype(dtype)          # windows read every sample
    gx = np.zeros(x_shape, dtype)                                     # floor mode left a tail unread
    gx[(Ellipsis,) + src] = grad_padded[(Ellipsis,) + dst]
    return gx


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
            zip(geom.in_size, geom.kernel, geom.stride, geom.pad, geom.out)):
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

