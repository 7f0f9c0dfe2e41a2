"""Pooling windows: geometry, stride-phase planes, argmax indices and average divisors.

A pooling window of size ``k`` (per dimension) slides with stride ``s`` over the input
padded by ``(p0, p1)``. In *padded coordinates* output ``o`` reads ``[o*s, o*s + k)``;
in input coordinates it starts at ``o*s - p0``. Rather than materialising every window,
the kernels loop over the ``prod(k)`` kernel offsets ``r``: for a fixed offset the
samples ``r, r+s, r+2s, ...`` of the padded input are read by all windows at once, one
contiguous run in the phase planes of :class:`PhaseLayout`. Math: docs/pooling.md.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .shapes import leading, ntuple, output_size, parse_padding


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


@dataclass(frozen=True)
class PhaseLayout:
    """The padded input split by stride phase into planes on which every kernel offset
    reads one contiguous run (docs/pooling.md, "Phase planes").

    Per dimension, padded coordinate ``p = a + s*j`` has phase ``a = p mod s`` and plane
    index ``j``. Output ``o`` with kernel offset ``r = s*q + a`` reads ``p = o*s + r =
    a + s*(o + q)``: plane ``a`` at index ``o + q``. Each plane is stored as ``(N, C, *Q)``
    with ``Q = ceil(extent / s)`` and flattened; laying the outputs on the same ``(N, C, *Q)``
    grid ("wide" outputs, the positions ``o >= out`` being junk), offset ``r`` reads the whole
    flattened plane shifted by ``shift(q) = sum_i q_i * prod(Q[i+1:])``, one vector operation
    over ``N*C*prod(Q)`` values with long contiguous runs.
    """

    geom: PoolGeometry
    plane: tuple      # Q per dimension
    phases: tuple     # the phases some kernel offset reads
    taps: tuple       # per kernel offset (scan order): (plane number, flat shift)

    @property
    def slack(self):
        """Extra entries after the last plane value that shifted runs read (junk outputs only)."""
        return max(shift for _, shift in self.taps)

    def wide_size(self, lead):
        """Values in the wide grid ``(lead, *Q)`` flattened; ``lead = N*C``."""
        return lead * math.prod(self.plane)

    def valid(self):
        """Index of the real outputs ``(..., :out_1, ..., :out_d)`` in a wide ``(N, C, *Q)`` view."""
        return leading(self.geom.out)

    def phase_slices(self, phase):
        """(input slices, plane slices): the input samples that plane ``phase`` holds.

        Plane index ``j`` holds input coordinate ``a + s*j - p0``; only the samples that
        some window reads (:meth:`PoolGeometry.interior`) are copied, the rest of the
        plane is padding.
        """
        src, dst = [], []
        read, _ = self.geom.interior()
        for a, s, (p0, _), m, q in zip(phase, self.geom.stride, self.geom.pad,
                                       (sl.stop for sl in read), self.plane):
            j0 = max(0, -(-(p0 - a) // s))            # first plane index inside the input
            j1 = min(q, -(-(m + p0 - a) // s))        # one past the last one read
            first = a + j0 * s - p0                   # its input coordinate
            count = max(0, j1 - j0)
            dst.append(slice(j0, j0 + count))
            src.append(slice(first, first + (count - 1) * s + 1, s) if count else slice(0, 0))
        return tuple(src), tuple(dst)


def phase_layout(geom):
    """The :class:`PhaseLayout` of a pooling geometry."""
    plane = tuple(-(-e // s) for e, s in zip(geom.extent, geom.stride))
    steps = [math.prod(plane[axis + 1:]) for axis in range(len(plane))]
    phases, taps = [], []
    for offset in geom.offsets():
        phase = tuple(r % s for r, s in zip(offset, geom.stride))
        if phase not in phases:
            phases.append(phase)
        shift = sum((r // s) * step for r, s, step in zip(offset, geom.stride, steps))
        taps.append((phases.index(phase), shift))
    return PhaseLayout(geom, plane, tuple(phases), tuple(taps))


def split_phases(x, layout, fill, work):
    """Planes ``(len(phases), N*C*prod(Q) + slack)`` holding the ``fill``-padded ``x`` by phase.

    The buffer comes from ``work``: padding and slack keep ``fill`` from the first call,
    only the input samples are copied each time.
    """
    N, C = x.shape[:2]
    size = layout.wide_size(N * C)
    planes = work.filled_once("planes", (len(layout.phases), size + layout.slack), x.dtype, fill)
    for plane, phase in zip(planes, layout.phases):
        src, dst = layout.phase_slices(phase)
        plane[:size].reshape((N, C) + layout.plane)[(Ellipsis,) + dst] = x[(Ellipsis,) + src]
    return planes


def merge_phases(planes, x_shape, layout, dtype, work):
    """dL/dx (an output buffer of ``work``) from gradient planes laid out as by
    :func:`split_phases`: each plane's input samples are written to their stride-``s``
    positions, padding dropped."""
    N, C = x_shape[:2]
    size = layout.wide_size(N * C)
    gx = work.output("gx", x_shape, dtype)
    gx.fill(0)
    for plane, phase in zip(planes, layout.phases):
        src, dst = layout.phase_slices(phase)
        gx[(Ellipsis,) + src] = plane[:size].reshape((N, C) + layout.plane)[(Ellipsis,) + dst]
    return gx


def flat_argmax(arg, geom, work, padded=True):
    """Flat index of each window's argmax, into the padded grid ``(N, C, *extent)`` or, with
    ``padded=False``, into the input ``(N, C, *in_size)``.

    ``arg`` ``(N, C, *out)`` holds kernel-offset indices (row-major scan order). Output
    ``o`` with offset ``r`` reads padded position ``o*s + r`` (input position
    ``o*s + r - p0``), so its flat index is ``base[o] + delta[r]`` with
    ``base[n, c, o] = flat(n, c, o*s)`` (or ``flat(n, c, o*s - p0)``, kept in ``work``) and
    ``delta[r] = flat(0, 0, r)``. Into the input grid this is right only for maxima that
    lie inside the input (the caller checks). Returns a 1-D int64 array (what bincount takes).
    """
    N, C = arg.shape[:2]
    sizes = geom.extent if padded else geom.in_size
    corner = [0] * len(sizes) if padded else [p0 for p0, _ in geom.pad]
    strides = [math.prod(sizes[axis + 1:]) for axis in range(len(sizes))]

    def make_base():
        base = np.arange(N * C, dtype=np.int64).reshape((N, C) + (1,) * len(geom.out))
        base = base * math.prod(sizes)
        for axis, (o, s, p0, step) in enumerate(zip(geom.out, geom.stride, corner, strides)):
            shape = [1] * len(geom.out)
            shape[axis] = o
            base = base + ((np.arange(o, dtype=np.int64) * s - p0) * step).reshape(shape)
        return base                                                   # (N, C, *out)

    base = work.computed(f"flat_base_{padded}", (arg.shape, geom), make_base)
    delta = work.computed(f"flat_delta_{padded}", geom, lambda: np.array(
        [sum(r * step for r, step in zip(offset, strides)) for offset in geom.offsets()], np.int64))
    flat = work.get("flat_index", arg.shape, np.int64)               # (N, C, *out)
    np.take(delta, arg, out=flat, mode="clip")                      # "raise" would buffer `out`
    flat += base
    return flat.ravel()


def crop_to_input(grad_padded, x_shape, geom, dtype, work):
    """dL/dx (an output buffer of ``work``, in ``dtype``) from a gradient over the padded
    grid: padding dropped."""
    src, dst = geom.interior()
    gx = work.output("gx", x_shape, dtype)
    if any(sl.stop - sl.start < n for sl, n in zip(src, geom.in_size)):
        gx.fill(0)                                                    # floor mode left a tail unread
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

