"""On-the-fly image augmentation, vectorized over the batch.

Every transform is called as ``t(x, rng)`` on a batch ``x`` of shape (N, C, H, W) and returns
a new batch of the same shape and dtype; randomness comes only from the Generator ``rng``
(the :class:`~handgrad.data.DataLoader` passes its own). Each sample gets its own random
parameters, and all samples are processed together by index arithmetic (no Python loop
over samples).
"""

import numbers

import numpy as np

from .._checks import as_rng, check_probability


def _check_batch(x, owner):
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        got = x.shape if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{owner} expected a batch of shape (N, C, H, W), got {got}")
    return x.shape


def _check_nonneg(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner} expected {name} to be a number, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{owner} expected {name} >= 0, got {value}")
    return value


class RandomShift:
    """Translate each image by up to ``max_shift`` pixels in x and y, filling with ``fill``.

    This is the classic "pad by p, random crop back to H x W" augmentation with p = max_shift.

    Examples
    --------
    >>> x = np.ones((5, 1, 28, 28), np.float32)
    >>> RandomShift(2)(x, np.random.default_rng(0)).shape
    (5, 1, 28, 28)
    """

    def __init__(self, max_shift=2, fill=0.0):
        self.max_shift = int(_check_nonneg(max_shift, "max_shift", "RandomShift"))
        self.fill = fill

    def __call__(self, x, rng=None):
        N, C, H, W = _check_batch(x, "RandomShift")
        rng = as_rng(rng)
        m = self.max_shift
        dy, dx = rng.integers(-m, m + 1, (2, N))
        rows = np.arange(H)[None, :] - dy[:, None]                  # (N, H) source row
        cols = np.arange(W)[None, :] - dx[:, None]                  # (N, W) source column
        valid = ((rows >= 0) & (rows < H))[:, :, None] & ((cols >= 0) & (cols < W))[:, None, :]
        r = np.clip(rows, 0, H - 1)[:, None, :, None]
        c = np.clip(cols, 0, W - 1)[:, None, None, :]
        out = x[np.arange(N)[:, None, None, None], np.arange(C)[None, :, None, None], r, c]
        return np.where(valid[:, None], out, np.asarray(self.fill, x.dtype)).astype(x.dtype)

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift})"


class RandomRotation:
    r"""Rotate each image about its centre by an angle drawn uniformly from
    [-max_degrees, max_degrees], with bilinear (or nearest) sampling.

    Output pixel :math:`p` reads the input at :math:`R(-\alpha)(p - c) + c`; samples falling
    outside the image read ``fill``.
    """

    def __init__(self, max_degrees=10.0, mode="bilinear", fill=0.0):
        self.max_degrees = float(_check_nonneg(max_degrees, "max_degrees", "RandomRotation"))
        if mode not in ("bilinear", "nearest"):
            raise ValueError(f"RandomRotation expected mode 'bilinear' or 'nearest', got {mode!r}")
        self.mode, self.fill = mode, fill

    def __call__(self, x, rng=None):
        N, C, H, W = _check_batch(x, "RandomRotation")
        rng = as_rng(rng)
        alpha = np.deg2rad(rng.uniform(-self.max_degrees, self.max_degrees, N))
        cos, sin = np.cos(alpha)[:, None, None], np.sin(alpha)[:, None, None]
        yy, xx = np.mgrid[0:H, 0:W]
        u, v = xx - (W - 1) / 2, yy - (H - 1) / 2                   # offsets from the centre
        src_x = cos * u + sin * v + (W - 1) / 2                     # (N, H, W)
        src_y = -sin * u + cos * v + (H - 1) / 2
        flat = x.reshape(N, C, H * W)
        pad = np.asarray(self.fill, x.dtype)

        def sample(iy, ix):                                         # (N, C, H, W), fill outside
            inside = (iy >= 0) & (iy < H) & (ix >= 0) & (ix < W)
            idx = (np.clip(iy, 0, H - 1) * W + np.clip(ix, 0, W - 1)).reshape(N, 1, H * W)
            vals = np.take_along_axis(flat, np.broadcast_to(idx, (N, C, H * W)), axis=2)
            return np.where(inside[:, None], vals.reshape(N, C, H, W), pad)

        if self.mode == "nearest":
            return sample(np.rint(src_y).astype(np.int64), np.rint(src_x).astype(np.int64)).astype(x.dtype)
        y0, x0 = np.floor(src_y).astype(np.int64), np.floor(src_x).astype(np.int64)
        fy, fx = (src_y - y0)[:, None], (src_x - x0)[:, None]       # (N, 1, H, W)
        out = ((1 - fy) * (1 - fx) * sample(y0, x0) + (1 - fy) * fx * sample(y0, x0 + 1)
               + fy * (1 - fx) * sample(y0 + 1, x0) + fy * fx * sample(y0 + 1, x0 + 1))
        if np.issubdtype(x.dtype, np.integer):
            out = np.rint(out)
        return out.astype(x.dtype)

    def __repr__(self):
        return f"RandomRotation(max_degrees={self.max_degrees}, mode={self.mode!r})"


class RandomFlip:
    """Mirror each image left-right (and/or up-down) with probability ``p``.

    Off by default in digit pipelines: a mirrored digit is usually not a digit.
    """

    def __init__(self, horizontal=True, vertical=False, p=0.5):
        self.horizontal, self.vertical = bool(horizontal), bool(vertical)
        self.p = check_probability(p, "p", "RandomFlip", include_one=True)

    def __call__(self, x, rng=None):
        _check_batch(x, "RandomFlip")
        rng = as_rng(rng)
        out = x.copy()
        for enabled, axis in ((self.horizontal, 3), (self.vertical, 2)):
            if enabled:
                pick = rng.random(len(x)) < self.p
                out[pick] = np.flip(out[pick], axis=axis)
        return out

    def __repr__(self):
        return f"RandomFlip(horizontal={self.horizontal}, vertical={self.vertical}, p={self.p})"


class Compose:
    """Apply transforms in order: ``Compose(RandomShift(2), RandomRotation(10))``."""

    def __init__(self, *transforms):
        for t in transforms:
            if not callable(t):
                raise TypeError(f"Compose expected callables, got {type(t).__name__}")
        self.transforms = transforms

    def __call__(self, x, rng=None):
        rng = as_rng(rng)
        for t in self.transforms:
            x = t(x, rng)
        return x

    def __repr__(self):
        return f"Compose({', '.join(map(repr, self.transforms))})"
