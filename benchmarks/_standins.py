"""The benchmark's pooling, Flatten, Dropout, loss and optimizer: handgrad's own when they
exist, otherwise minimal local stand-ins (used only until those land on main)."""

import numpy as np

SOURCES = []

try:
    from handgrad.layers import MaxPool2d
    SOURCES.append("MaxPool2d=handgrad")
except ImportError:
    from handgrad.functional.windows import window_view
    from handgrad.layers import Layer
    SOURCES.append("MaxPool2d=stand-in")

    class MaxPool2d(Layer):
        def __init__(self, k, s=None, p=0):
            super().__init__()
            self.k, self.s, self.p = k, s or k, p

        def forward(self, x):
            N, C, H, W = x.shape
            k, s, p = self.k, self.s, self.p
            OH, OW = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
            xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf) if p else x
            win = window_view(xp, (k, k), (s, s), (1, 1), (OH, OW)).reshape(N, C, OH, OW, k * k)
            arg = win.argmax(-1)
            self._cache = (xp.shape, arg, (OH, OW), x.shape)
            return np.take_along_axis(win, arg[..., None], -1)[..., 0]

        def backward(self, g):
            pshape, arg, (OH, OW), xshape = self._saved()
            k, s, p = self.k, self.s, self.p
            dxp = np.zeros(pshape, g.dtype)
            for t in range(k * k):
                i, j = divmod(t, k)
                dxp[:, :, i:i + s * (OH - 1) + 1:s, j:j + s * (OW - 1) + 1:s] += np.where(arg == t, g, 0)
            return dxp[:, :, p:p + xshape[2], p:p + xshape[3]]

try:
    from handgrad.layers import Dropout, Flatten
    SOURCES.append("Flatten/Dropout=handgrad")
except ImportError:
    from handgrad.layers import Layer
    SOURCES.append("Flatten/Dropout=stand-in")

    class Flatten(Layer):
        def forward(self, x):
            self._cache = x.shape
            return x.reshape(x.shape[0], -1)

        def backward(self, g):
            return g.reshape(self._saved())

    class Dropout(Layer):
        def __init__(self, p, rng):
            super().__init__()
            self.p, self.rng = p, rng

        def forward(self, x):
            mask = (self.rng.random(x.shape, dtype=np.float32) >= self.p) / np.float32(1 - self.p)
            self._cache = mask.astype(x.dtype, copy=False)
            return x * self._cache

        def backward(self, g):
            return g * self._saved()

try:
    from handgrad.losses import CrossEntropyLoss
    SOURCES.append("CrossEntropyLoss=handgrad")
except ImportError:
    SOURCES.append("CrossEntropyLoss=stand-in")

    class CrossEntropyLoss:
        def forward(self, z, y):
            z = z - z.max(1, keepdims=True)
            e = np.exp(z)
            prob = e / e.sum(1, keepdims=True)
            self._cache = prob, y
            return -np.log(prob[np.arange(len(y)), y]).mean()

        def backward(self):
            prob, y = self._cache
            g = prob.copy()
            g[np.arange(len(y)), y] -= 1
            return g / len(y)

try:
    from handgrad.optim import SGD
    SOURCES.append("SGD=handgrad")
except ImportError:
    SOURCES.append("SGD=stand-in")

    class SGD:
        def __init__(self, params, lr, momentum):
            self.params, self.lr, self.momentum = dict(params), lr, momentum
            self.v = {n: np.zeros_like(p.data) for n, p in self.params.items()}

        def zero_grad(self):
            for p in self.params.values():
                p.grad.fill(0)

        def step(self):
            for n, p in self.params.items():
                v = self.v[n]
                v *= self.momentum
                v += p.grad
                p.data -= self.lr * v
