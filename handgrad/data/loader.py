"""Mini-batches over in-memory arrays, normalization, and a seeded train/validation split.

The loader never copies the whole data set: each epoch draws a permutation of indices and each
batch gathers only its own rows (``x[idx]``), converts them to float and applies the transform.
"""

import numpy as np

from .._checks import as_dtype, as_rng, check_positive_int, check_probability


def to_float(x, dtype=np.float32):
    """Convert to ``dtype``; uint8 images are scaled from [0, 255] to [0, 1]."""
    if x.dtype == np.uint8:
        return x.astype(dtype) * dtype(1 / 255)
    return x.astype(dtype, copy=False)


class Standardize:
    r"""Per-channel standardization :math:`(x - \mu_c) / \sigma_c`, statistics from training data.

    Parameters
    ----------
    mean, std : float or array of shape (C,), optional
        Known statistics; otherwise call :meth:`fit` on the training split (never on the
        validation or test split).

    Examples
    --------
    >>> x = np.arange(8, dtype=np.float32).reshape(2, 1, 2, 2)
    >>> s = Standardize().fit(x)
    >>> float(s(x).mean()), float(s(x).std())
    (0.0, 1.0)
    """

    def __init__(self, mean=None, std=None):
        self.mean = None if mean is None else np.asarray(mean, np.float64)
        self.std = None if std is None else np.asarray(std, np.float64)

    def fit(self, x, chunk=10000):
        """Compute the per-channel mean and std of ``x`` (N, C, ...) as :func:`to_float` sees it.

        Works in chunks, in float64, so a uint8 data set is never converted whole.
        """
        C = x.shape[1]
        total, sq, count = np.zeros(C), np.zeros(C), 0
        for start in range(0, len(x), chunk):
            part = to_float(x[start:start + chunk], np.float64)
            part = part.reshape(len(part), C, -1)                   # (n, C, H*W)
            total += part.sum(axis=(0, 2))
            sq += (part * part).sum(axis=(0, 2))
            count += part.shape[0] * part.shape[2]
        self.mean = total / count
        self.std = np.sqrt(np.maximum(sq / count - self.mean ** 2, 0)) + 1e-12
        return self

    def __call__(self, x, rng=None):
        if self.mean is None:
            raise RuntimeError("Standardize used before fit(); call fit(x_train) first")
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = self.mean.reshape(shape).astype(x.dtype)
        std = self.std.reshape(shape).astype(x.dtype)
        return (x - mean) / std

    def __repr__(self):
        return f"Standardize(mean={self.mean}, std={self.std})"


class DataLoader:
    """Iterate over ``(x_batch, y_batch)`` mini-batches of arrays.

    Parameters
    ----------
    x : numpy.ndarray, shape (N, ...)
        uint8 images are converted to ``dtype`` and scaled to [0, 1]; floats are cast.
    y : numpy.ndarray, shape (N, ...)
        Targets, yielded unchanged (gathered per batch).
    batch_size : int
    shuffle : bool
        Draw a new permutation from ``rng`` at the start of every epoch.
    rng : numpy.random.Generator or int, optional
        Source of the order and of the transform's randomness.
    drop_last : bool
        Skip the last batch if it is smaller than ``batch_size``.
    transform : callable ``f(x_batch, rng) -> x_batch``, optional
        Applied to each float batch (e.g. :class:`Standardize`, augmentations).
    dtype : float32 (default) or float64

    Examples
    --------
    >>> x = np.zeros((10, 1, 28, 28), np.uint8); y = np.arange(10)
    >>> loader = DataLoader(x, y, batch_size=4, shuffle=True, rng=0)
    >>> len(loader), [xb.shape[0] for xb, yb in loader]
    (3, [4, 4, 2])
    """

    def __init__(self, x, y, batch_size=32, shuffle=False, rng=None, drop_last=False,
                 transform=None, dtype=np.float32):
        if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
            raise TypeError(f"DataLoader expected NumPy arrays x and y, got "
                            f"{type(x).__name__} and {type(y).__name__}")
        if len(x) != len(y):
            raise ValueError(f"DataLoader expected as many targets as samples, got "
                             f"x with {len(x)} and y with {len(y)}")
        self.x, self.y = x, y
        self.batch_size = check_positive_int(batch_size, "batch_size", "DataLoader")
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.rng = as_rng(rng, "DataLoader rng")
        self.transform = transform
        self.dtype = as_dtype(dtype, "DataLoader dtype").type

    def __len__(self):
        """Batches per epoch."""
        n, b = len(self.x), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        n = len(self.x)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            xb = to_float(self.x[idx], self.dtype)           # only this batch is copied
            if self.transform is not None:
                xb = self.transform(xb, self.rng)
            yield xb, self.y[idx]

    def __repr__(self):
        return (f"DataLoader(n={len(self.x)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")


def train_val_split(x, y, val_fraction, rng=None, stratify=False):
    """Split arrays into a training and a validation part, at random.

    Parameters
    ----------
    x, y : numpy.ndarray with the same first dimension
    val_fraction : float in (0, 1)
    rng : numpy.random.Generator or int, optional
    stratify : bool
        Keep each class's proportion (``y`` holds class labels): each class contributes
        ``round(val_fraction * n_class)`` samples to validation.

    Returns
    -------
    (x_train, y_train), (x_val, y_val)

    Examples
    --------
    >>> (xt, yt), (xv, yv) = train_val_split(np.arange(10), np.arange(10) % 2, 0.2, rng=0)
    >>> len(xt), len(xv)
    (8, 2)
    """
    check_probability(val_fraction, "val_fraction", "train_val_split")
    if val_fraction == 0:
        raise ValueError("train_val_split expected val_fraction in (0, 1), got 0")
    if len(x) != len(y):
        raise ValueError(f"train_val_split expected x and y of the same length, got {len(x)} and {len(y)}")
    rng = as_rng(rng)
    n = len(x)
    if stratify:
        val = []
        for c in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == c))
            val.append(members[:int(round(val_fraction * len(members)))])
        val = np.concatenate(val)
    else:
        val = rng.permutation(n)[:int(round(val_fraction * n))]
    val = rng.permutation(val)
    train = np.setdiff1d(np.arange(n), val)
    train = rng.permutation(train)
    return (x[train], y[train]), (x[val], y[val])
