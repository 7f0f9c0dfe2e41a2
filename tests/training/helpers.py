"""Small data sets, models and a loader shared by the training tests.

``Loader`` follows handgrad.data.DataLoader's interface (iterable of (x, y) batches with
len(), shuffled by its ``rng``), for use until that lands on main.
"""

import numpy as np

import handgrad as hg


def blobs(rng, n_per_class=100, classes=3, dim=2, spread=0.6, dtype=np.float32):
    """Gaussian blobs around fixed, well separated centres: x (N, dim), integer labels (N,)."""
    angle = 2 * np.pi * np.arange(classes) / classes
    centres = np.zeros((classes, dim))
    centres[:, 0], centres[:, 1] = 3 * np.cos(angle), 3 * np.sin(angle)        # on a circle of radius 3
    y = np.repeat(np.arange(classes), n_per_class)
    x = centres[y] + spread * rng.standard_normal((len(y), dim))
    order = rng.permutation(len(y))
    return x[order].astype(dtype), y[order]


def mlp(rng, sizes=(2, 16, 3), dtype=np.float32):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(hg.Linear(a, b, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(hg.ReLU())
    return hg.Sequential(*layers)


class Loader:
    """Shuffling mini-batch loader holding its Generator as ``rng``."""

    def __init__(self, x, y, batch_size, rng=None, shuffle=True):
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(len(self.x)) if self.shuffle else np.arange(len(self.x))
        for i in range(0, len(order), self.batch_size):
            idx = order[i:i + self.batch_size]
            yield self.x[idx], self.y[idx]
