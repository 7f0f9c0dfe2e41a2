"""End to end: an MLP learns two interleaved spirals, and a few thousand MNIST digits."""

import numpy as np

import handgrad as hg
from handgrad.optim import SGD
from handgrad.losses import CrossEntropyLoss
from handgrad.training import evaluate, fit

from .helpers import mlp


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
    fit(model, CrossEntropyLoss(), opt, (x, y), batch_size=32, rng=rng, epochs=60, verbose=False)
    assert evaluate(model, CrossEntropyLoss(), (xt, yt))["accuracy"] > 0.95


def test_mlp_learns_mnist_digits(mnist_dir):
    images, labels = hg.data.load("mnist", "train", data_dir=mnist_dir.parent, download=False)
    x = images[:7000].reshape(7000, -1)                       # uint8 (N, 784); loaders scale to [0, 1]
    y = labels[:7000]
    rng = np.random.default_rng(0)
    model = mlp(rng, sizes=(784, 64, 10))
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    fit(model, CrossEntropyLoss(), opt, (x[:5000], y[:5000]), batch_size=64, rng=rng, epochs=4, verbose=False)
    assert evaluate(model, CrossEntropyLoss(), (x[5000:], y[5000:]))["accuracy"] >= 0.90   # 2,000 held out
