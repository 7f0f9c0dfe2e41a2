"""Small data sets and stand-ins shared by the training tests.

The stand-ins (softmax cross-entropy, MSE, SGD with momentum, a step schedule, a
shuffling loader) follow the interfaces of handgrad.losses / handgrad.optim /
handgrad.data, for use until those land on main.
"""

import numpy as np

import handgrad as hg
from handgrad.io import register_layer


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


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(scores) against integer labels."""

    def forward(self, scores, y):
        z = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        self._cache = p, y
        return float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-300)))

    def backward(self):
        p, y = self._cache
        g = p.copy()
        g[np.arange(len(y)), y] -= 1
        return g / len(y)


class MSE:
    def forward(self, pred, y):
        self._cache = pred - y
        return float(np.mean(self._cache ** 2))

    def backward(self):
        d = self._cache
        return 2 * d / d.size


class SGD:
    """SGD with momentum over a params dict (name -> Parameter); state keyed by name."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        self.params, self.lr, self.momentum = dict(params), lr, momentum
        self.velocity = {k: np.zeros_like(p.data) for k, p in self.params.items()}
        self.steps = 0

    def zero_grad(self):
        for p in self.params.values():
            p.zero_grad()

    def step(self):
        for k, p in self.params.items():
            v = self.velocity[k]
            v *= self.momentum
            v += p.grad
            p.data -= self.lr * v
        self.steps += 1

    def state_dict(self):
        return {"lr": self.lr, "steps": self.steps, "velocity": {k: v.copy() for k, v in self.velocity.items()}}

    def load_state_dict(self, state):
        self.lr, self.steps = state["lr"], state["steps"]
        for k, v in state["velocity"].items():
            self.velocity[k][...] = v


class StepLR:
    def __init__(self, optimizer, step_size, gamma=0.5):
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.base_lr, self.count = optimizer.lr, 0

    def step(self):
        self.count += 1
        self.optimizer.lr = self.base_lr * self.gamma ** (self.count // self.step_size)

    def get_last_lr(self):
        return self.optimizer.lr

    def state_dict(self):
        return {"count": self.count, "base_lr": self.base_lr}

    def load_state_dict(self, state):
        self.count, self.base_lr = state["count"], state["base_lr"]


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


@register_layer
class RandomNoise(hg.Layer):
    """A layer holding a Generator (like Dropout): adds N(0, 0.01) noise in training mode."""

    def __init__(self, rng=None):
        super().__init__()
        self.rng = rng if rng is not None else np.random.default_rng(0)

    def forward(self, x):
        self._cache = True
        return x + 0.01 * self.rng.standard_normal(x.shape).astype(x.dtype) if self.training else x

    def backward(self, grad_out):
        self._saved()
        return grad_out
