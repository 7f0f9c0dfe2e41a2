"""N-dimensional convolution (cross-correlation) and the thin Conv1d/Conv2d/Conv3d.

Math: docs/convolution.md.  Implementation: the padded input is unfolded into
``cols (C_in*K, N*OUT)`` (handgrad/functional/im2col.py); forward, weight gradient and
column gradient are then one BLAS product each, per group.
"""

import math

import numpy as np

from .._checks import as_dtype, as_rng, check_input, check_positive_int
from ..functional.flat_unfold import flat_unfold, fold_flat, unfold_flat
from ..functional.im2col import col2im, im2col
from ..functional.shapes import leading, ntuple, output_size, parse_padding
from ..functional.windows import pad_into, unpad
from ..functional.workspace import Workspace
from ..init import Constant, He, make_parameter
from .base import Layer

_LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


class ConvNd(Layer):
    r"""Convolution over ``num_spatial_dims`` spatial dimensions (cross-correlation, no flip).

    Parameters
    ----------
    num_spatial_dims : int
        1, 2 or 3 (``Conv1d``/``Conv2d``/``Conv3d`` fix it).
    in_channels, out_channels : int
        Both must be divisible by ``groups``.
    kernel_size, stride, dilation : int or tuple of ``num_spatial_dims`` ints (each >= 1)
    padding : int, tuple of ints, tuple of ``(before, after)`` pairs, ``"valid"`` or ``"same"``
        ``"same"`` pads as a stride-1 convolution would (``before = d*(k-1)//2``, ``after`` the
        rest) and the stride then subsamples, giving ``ceil(n / s)`` outputs.
    groups : int
        Input and output channels are split into ``groups`` blocks; block ``g`` of the
        output sees only block ``g`` of the input.
    bias : bool
    weight_init : Initializer, default ``He()`` (fan_in = C_in / groups * K)
    bias_init : Initializer, default ``Constant(0.0)``
    rng : numpy.random.Generator or int, optional
    dtype : float32 (default) or float64
    max_cols_bytes : int
        Upper bound on the unfolded-window buffer; larger batches are processed in chunks
        (the windows are then recomputed in backward instead of being kept).
    input_grad : bool
        Compute dL/dx in ``backward`` (default). ``False`` is for a network's first layer,
        whose input is data: ``backward`` then updates the parameter gradients and returns
        ``None``, skipping the column-gradient product and col2im (PyTorch likewise skips
        the gradient of an input that does not require grad).

    Shape
    -----
    - Input: ``(N, C_in, *S)``; output: ``(N, C_out, *O)`` with, per dimension,
      ``O = floor((S + p_before + p_after - d*(k-1) - 1) / s) + 1``
    - ``weight``: ``(C_out, C_in / groups, *k)``; ``bias``: ``(C_out,)``

    Notes
    -----
    With :math:`g(c)` the group of channel :math:`c`, taps :math:`j` and padded input
    :math:`\tilde x`:

    .. math::
        y_{n,c,o} = b_c + \sum_{c' \in g(c)} \sum_j w_{c,c',j}\, \tilde x_{n,c',\, s o + d j}

    and with :math:`G = \partial L / \partial y`:

    .. math::
        \frac{\partial L}{\partial w_{c,c',j}} = \sum_{n,o} G_{n,c,o}\, \tilde x_{n,c', s o + d j},\quad
        \frac{\partial L}{\partial b_c} = \sum_{n,o} G_{n,c,o},\quad
        \frac{\partial L}{\partial \tilde x_{n,c',p}} = \sum_{c \in g(c')} \sum_{(j,o):\, s o + d j = p}
            w_{c,c',j}\, G_{n,c,o}

    and :math:`\partial L / \partial x` is the interior (unpadded part) of the last one.

    Examples
    --------
    >>> import numpy as np
    >>> conv = ConvNd(2, 3, 8, kernel_size=3, stride=(2, 1), padding="same", rng=0)
    >>> conv(np.zeros((4, 3, 9, 10), np.float32)).shape
    (4, 8, 5, 10)
    """

    max_cols_bytes_default = 128 * 2**20

    def __init__(self, num_spatial_dims, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, dilation=1, groups=1, bias=True, *, weight_init=None, bias_init=None,
                 rng=None, dtype=np.float32, max_cols_bytes=None, input_grad=True):
        super().__init__()
        name = type(self).__name__
        nd = check_positive_int(num_spatial_dims, "num_spatial_dims", name)
        if nd > 3:
            raise ValueError(f"{name} expected num_spatial_dims in 1..3, got {nd}")
        self.num_spatial_dims = nd
        self.in_channels = check_positive_int(in_channels, "in_channels", name)
        self.out_channels = check_positive_int(out_channels, "out_channels", name)
        self.groups = check_positive_int(groups, "groups", name)
        for label, c in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if c % self.groups:
                raise ValueError(f"{name} expected {label} divisible by groups={self.groups}, got {c}")
        self.kernel_size = ntuple(kernel_size, nd, "kernel_size", name)
        self.stride = ntuple(stride, nd, "stride", name)
        self.dilation = ntuple(dilation, nd, "dilation", name)
        self.padding_arg = padding if isinstance(padding, str) else _plain(padding)
        self.pads = parse_padding(padding, self.kernel_size, self.dilation, nd, name)
        self.dtype = as_dtype(dtype)
        self.max_cols_bytes = int(max_cols_bytes or self.max_cols_bytes_default)
        self.input_grad = bool(input_grad)
        rng = as_rng(rng)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        K = math.prod(self.kernel_size)
        fan_in, fan_out = shape[1] * K, self.out_channels * K
        self.weight = make_parameter(weight_init or He(), shape, fan_in, fan_out, rng, self.dtype, name)
        self.bias = None
        if bias:
            self.bias = make_parameter(bias_init or Constant(0.0), (self.out_channels,),
                                       fan_in, fan_out, rng, self.dtype, name)
        self._ws = Workspace()

    # -- shapes --------------------------------------------------------------
    def output_shape(self, spatial):
        """Output spatial sizes for input spatial sizes ``spatial`` (see Shape)."""
        return tuple(output_size(n, k, s, p, d) for n, k, s, p, d in
                     zip(spatial, self.kernel_size, self.stride, self.pads, self.dilation))

    def _check(self, x):
        nd, name = self.num_spatial_dims, type(self).__name__
        layout = _LAYOUTS[nd].replace("C", str(self.in_channels), 1)
        check_input(x, name, ndim=nd + 2, dtype=self.dtype, axis_size=(1, self.in_channels),
                    layout=layout)
        out = self.output_shape(x.shape[2:])
        if min(out) < 1:
            padded = tuple(n + p0 + p1 for n, (p0, p1) in zip(x.shape[2:], self.pads))
            spans = tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))
            raise ValueError(f"{name} input too small: spatial size {x.shape[2:]} (padded {padded}) "
                             f"is smaller than the dilated kernel {spans}")
        return out

    def _chunk(self, N, grid):
        """Samples per chunk so that the cols buffer stays under ``max_cols_bytes``."""
        per_sample = self.in_channels * math.prod(self.kernel_size) * math.prod(grid) * self.dtype.itemsize
        return max(1, min(N, self.max_cols_bytes // max(per_sample, 1)))

    def _flat_plan(self, spatial):
        """The :func:`flat_unfold` geometry when it applies (stride 1, no dimension after
        the first wider than the input), else ``None``."""
        if any(s != 1 for s in self.stride):
            return None
        return self._ws.computed("flat_plan", spatial, lambda: flat_unfold(
            spatial, self.kernel_size, self.dilation, self.pads))

    def _unfold(self, x, out, plan):
        """cols (C_in*K, n*prod(grid)) for the samples of ``x`` (a chunk), in reused buffers."""
        n, C = x.shape[:2]
        K = math.prod(self.kernel_size)
        if plan is not None:                                            # contiguous runs per tap
            buf = self._ws.zeroed_once(("flat", n), (C, n, plan.length), self.dtype)
            cols = self._ws.get(("cols", n), (C, K, n, plan.run), self.dtype)
            return unfold_flat(x, plan, buf, cols).reshape(C * K, n * plan.run)
        P = tuple(s + p0 + p1 for s, (p0, p1) in zip(x.shape[2:], self.pads))
        if any(p0 or p1 for p0, p1 in self.pads):
            xp = self._ws.zeroed_once(("xp", n), (C, n) + P, self.dtype)
            pad_into(x, self.pads, xp, lead=(1, 0))                     # (C, n, *P), border zero
        else:
            xp = x.swapaxes(0, 1)                                       # (C, n, *S) view
        cols = self._ws.get(("cols", n), (C,) + self.kernel_size + (n,) + out, self.dtype)
        im2col(xp, self.kernel_size, self.stride, self.dilation, out, cols)
        return cols.reshape(C * K, n * math.prod(out))

    # -- forward / backward --------------------------------------------------
    def forward(self, x):
        out = self._check(x)
        N, G, Co = x.shape[0], self.groups, self.out_channels
        plan = self._flat_plan(x.shape[2:])
        grid = out if plan is None else plan.grid                       # column grid per sample
        RUN = math.prod(grid)
        w = self.weight.data.reshape(G, Co // G, -1)                    # (G, Co/G, Ci/G*K)
        y = self._ws.output("y", (N, Co) + out, self.dtype)            # returned: never aliased
        bias = None if self.bias is None else self.bias.data.reshape((Co,) + (1,) * len(out))
        valid = leading(out)                                            # real outputs in the grid
        nb = self._chunk(N, grid)
        cols = None                                                     # stays None for an empty batch
        for n0 in range(0, N, nb):
            xc = x[n0:n0 + nb]
            n = xc.shape[0]
            cols = self._unfold(xc, out, plan).reshape(G, -1, n * RUN)  # (G, Ci/G*K, n*RUN)
            if self._per_sample():                                      # (n, Co, RUN): y's own layout
                direct = grid == out                                    # no junk columns: into y itself
                yt = y[n0:n0 + n].reshape(n, Co, RUN) if direct else self._ws.get(("yn", n), (n, Co, RUN), self.dtype)
                np.matmul(w[0], _by_sample(cols[0], n), out=yt)
                if direct:
                    if bias is not None:
                        yt += bias.reshape(Co, 1)                       # in place
                    continue
                yt = yt.reshape((n, Co) + grid)[valid]
            else:
                yt = self._ws.get(("yt", n), (G, Co // G, n * RUN), self.dtype)
                _gemm(w, cols, yt)                                      # (G, Co/G, n*RUN)
                yt = yt.reshape((Co, n) + grid)[valid].swapaxes(0, 1)   # (n, Co, *out) view
            if bias is not None:
                np.add(yt, bias, out=y[n0:n0 + n])                      # transpose + bias, one pass
            else:
                np.copyto(y[n0:n0 + n], yt)
        # keep the unfolded windows when the batch fit in one chunk; otherwise recompute them
        self._cache = (x, out, cols if nb >= N else None)
        return y

    def backward(self, grad_out):
        x, out, kept = self._saved()
        N, C, G, Co = x.shape[0], self.in_channels, self.groups, self.out_channels
        K = math.prod(self.kernel_size)
        if grad_out.shape != (N, Co) + out:
            raise ValueError(f"{type(self).__name__}.backward expected grad_out of shape "
                             f"{(N, Co) + out}, got {grad_out.shape}")
        w = self.weight.data.reshape(G, Co // G, -1)                    # (G, Co/G, Ci/G*K)
        gw = self.weight.grad.reshape(G, Co // G, -1)
        spatial = x.shape[2:]
        plan = self._flat_plan(spatial)
        grid = out if plan is None else plan.grid
        RUN = math.prod(grid)
        dx = self._ws.output("dx", x.shape, self.dtype) if self.input_grad else None
        nb = N if kept is not None else self._chunk(N, grid)
        for n0 in range(0, N, nb):
            n = min(nb, N - n0)
            cols = kept if kept is not None else self._unfold(x[n0:n0 + n], out, plan).reshape(G, -1, n * RUN)
            if dx is None and self._per_sample():                       # no transpose of dL/dy either
                gn = self._grad_columns(grad_out[n0:n0 + n], out, grid, by_sample=True)  # (n, Co, *grid)
                gn = gn.reshape(n, Co, RUN)
                if self.bias is not None:
                    self.bias.grad += gn.sum(axis=(0, 2))
                dwn = self._ws.get(("dwn", n), (n, Co, cols.shape[1]), self.dtype)
                np.matmul(gn, _by_sample(cols[0], n).swapaxes(1, 2), out=dwn)  # per-sample dW
                gw[0] += dwn.sum(axis=0)
                continue
            gt = self._grad_columns(grad_out[n0:n0 + n], out, grid)      # (Co, n, *grid)
            gt = gt.reshape(G, Co // G, n * RUN)
            if self.bias is not None:
                self.bias.grad += gt.reshape(Co, -1).sum(axis=1)
            dw = self._ws.get("dw", w.shape, self.dtype)
            _gemm(gt, cols.transpose(0, 2, 1), dw)                       # (G, Co/G, Ci/G*K)
            gw += dw
            if dx is None:                                              # input_grad=False
                continue
            # dL/dcols overwrites the windows dW has just read: one buffer instead of two
            # (7 MB each for a batch of 64 in the classic net's second conv), so the product
            # writes into memory that is still in cache. A later backward on the same
            # forward (gradcheck does that) unfolds the windows again.
            dcols = cols                                                # (G, Ci/G*K, n*RUN)
            _gemm(w.transpose(0, 2, 1), gt, dcols)
            if kept is not None:                                        # one chunk: the loop ends here
                self._cache = (x, out, None)
            if plan is not None:
                buf = self._ws.get(("dflat", n), (C, n, plan.length), self.dtype)
                dxc = fold_flat(dcols.reshape(C, K, n, RUN), plan, buf)  # (C, n, prod(S))
                np.copyto(dx[n0:n0 + n].reshape(n, C, -1), dxc.swapaxes(0, 1))
                continue
            P = tuple(s + p0 + p1 for s, (p0, p1) in zip(spatial, self.pads))
            dxp = self._ws.zeros(("dxp", n), (C, n) + P, self.dtype)    # (C, n, *P)
            col2im(dcols.reshape((C,) + self.kernel_size + (n,) + out), self.kernel_size,
                   self.stride, self.dilation, out, dxp)
            np.copyto(dx[n0:n0 + n], unpad(dxp, self.pads, spatial).swapaxes(0, 1))
        return dx

    def _grad_columns(self, grad_out, out, grid, by_sample=False):
        """dL/dy of a chunk laid out as GEMM columns ``(C_out, n, *grid)`` (``(n, C_out,
        *grid)`` with ``by_sample``), with zeros at the junk grid positions (they stay zero:
        only the real outputs are written)."""
        n, Co = grad_out.shape[:2]
        lead, g = ((n, Co), grad_out) if by_sample else ((Co, n), grad_out.swapaxes(0, 1))
        if grid == out:
            if by_sample:
                return grad_out
            G = self.groups                                             # forward's product buffer
            gt = self._ws.get(("yt", n), (G, Co // G, n * math.prod(grid)), self.dtype).reshape(lead + grid)
            np.copyto(gt, g)
            return gt
        gt = self._ws.zeroed_once(("gt_grid", by_sample, n), lead + grid, self.dtype)
        np.copyto(gt[leading(out)], g)
        return gt

    def _per_sample(self):
        """Thin products (``C_in * K <= 32``, one group) run as one GEMM per sample, whose
        output is already in ``(n, C_out, ...)`` order: they are memory-bound, and the
        transpose of ``(C_out, n*OUT)`` cost as much as the product."""
        return self.groups == 1 and self.in_channels * math.prod(self.kernel_size) <= 32

    # -- description ---------------------------------------------------------
    def macs(self, input_shape, output_shape):
        K = math.prod(self.kernel_size)
        return int(math.prod(output_shape)) * (self.in_channels // self.groups) * K

    def get_config(self):
        cfg = {"in_channels": self.in_channels, "out_channels": self.out_channels,
               "kernel_size": list(self.kernel_size), "stride": list(self.stride),
               "padding": self.padding_arg, "dilation": list(self.dilation),
               "groups": self.groups, "bias": self.bias is not None, "dtype": self.dtype.name}
        if not self.input_grad:
            cfg["input_grad"] = False
        if type(self) is ConvNd:
            cfg = {"num_spatial_dims": self.num_spatial_dims, **cfg}
        return cfg

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if any(p0 or p1 for p0, p1 in self.pads):
            s += f", padding={self.padding_arg!r}"
        if any(d != 1 for d in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        return s + f", bias={self.bias is not None}"


def _by_sample(cols, n):
    """``(C_in*K, n*RUN)`` columns viewed as ``n`` matrices ``(n, C_in*K, RUN)`` (no copy)."""
    return cols.reshape(cols.shape[0], n, -1).swapaxes(0, 1)


def _gemm(a, b, out):
    """``out[g] = a[g] @ b[g]`` for each group: one 2-D BLAS call per group (NumPy's stacked
    matmul does not reach BLAS for every stride pattern and was 10x slower here)."""
    for g in range(a.shape[0]):
        np.matmul(a[g], b[g], out=out[g])
    return out


def _plain(value):
    """Tuples -> lists (JSON-friendly) for get_config."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


class _FixedDimsConv(ConvNd):
    """ConvNd with ``num_spatial_dims`` fixed by the subclass's ``fixed_dims``."""

    fixed_dims = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, **kwargs):
        super().__init__(self.fixed_dims, in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, **kwargs)


class Conv1d(_FixedDimsConv):
    """1-D convolution over ``(N, C, L)``; see :class:`ConvNd` for parameters, shapes and math.

    >>> import numpy as np
    >>> Conv1d(2, 4, 3, rng=0)(np.zeros((5, 2, 10), np.float32)).shape
    (5, 4, 8)
    """

    fixed_dims = 1


class Conv2d(_FixedDimsConv):
    """2-D convolution over ``(N, C, H, W)``; see :class:`ConvNd` for parameters, shapes and math.

    >>> import numpy as np
    >>> Conv2d(1, 6, 5, padding=2, rng=0)(np.zeros((8, 1, 28, 28), np.float32)).shape
    (8, 6, 28, 28)
    """

    fixed_dims = 2


class Conv3d(_FixedDimsConv):
    """3-D convolution over ``(N, C, D, H, W)``; see :class:`ConvNd` for parameters, shapes and math.

    >>> import numpy as np
    >>> Conv3d(1, 2, (1, 3, 3), rng=0)(np.zeros((2, 1, 4, 6, 6), np.float32)).shape
    (2, 2, 4, 4, 4)
    """

    fixed_dims = 3
