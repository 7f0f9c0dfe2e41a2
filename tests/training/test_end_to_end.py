"""End to end: an MLP learns two interleaved spirals, and a few thousand MNIST digits."""

import numpy as np
import pytest

import handgrad as hg
from handgrad.optim import SGD
from handgrad.losses import CrossEntropyLoss
from handgrad.training import evaluate, fit

from .helpers import Loader, mlp


def spirals(rng, n_per_class=200, noise=0.15):
    """Two interleaved spirals in the plane: x (2N, 2) float32, labels (2N,)."""
    t = np.sqrt(rng.random(2 * n_per_class)) * 3 * np.pi                       # angle along the arm
    y = np.repeat([0, 1], n_per_class)
    r = t / (3 * np.pi) * 2
    sign = np.where(y == 0, 1.0, -1.0)
    x = np.stack([sign * r * np.cos(t), sign * r * np.sin(t)], axis=1)
    x += noise * r[:, None] * rng.standard_normal(x.shape) / 2
    return x.astype(np.float32), y


def test_mlp_learns_two_spirals():
    rng = np.random.default_rng(0)
    x, y = spirals(rng, 300)
    xt, yt = spirals(rng, 200)
    model = mlp(rng, sizes=(2, 64, 64, 2))
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    fit(model, CrossEntropyLoss(), opt, Loader(x, y, 32, rng=rng), epochs=60, verbose=False)
    assert evaluate(model, CrossEntropyLoss(), (xt, yt))["accuracy"] > 0.95


def test_mlp_learns_mnist_digits(mnist_dir):
    data = pytest.importorskip("handgrad.data.datasets")
    images, labels = data.load("mnist", "train", data_dir=mnist_dir.parent, download=False)
    x = (images[:6000].reshape(6000, -1) / 255).astype(np.float32)
    y = labels[:6000]
    rng = np.random.default_rng(0)
    model = mlp(rng, sizes=(784, 128, 10))
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    fit(model, CrossEntropyLoss(), opt, Loader(x[:5000], y[:5000], 64, rng=rng), epochs=4, verbose=False)
    assert evaluate(model, CrossEntropyLoss(), (x[5000:], y[5000:]))["accuracy"] >= 0.90
