"""Small data sets and models shared by the training tests."""

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
