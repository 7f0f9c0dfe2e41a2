"""A learnable tensor and the gradient that accumulates into it; the dtype a model computes in."""

import numpy as np


class Parameter:
    """A learnable array ``data`` with a gradient ``grad`` of the same shape and dtype.

    Layers add (``+=``) into ``grad`` during ``backward``; optimizers read it in
    ``step`` and ``zero_grad`` resets it. ``data`` is updated in place by optimizers,
    so references held elsewhere (e.g. by a cache) stay valid.
    """

    __slots__ = ("data", "grad")

    def __init__(self, data):
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            raise TypeError(f"Parameter expected a floating-point array, got dtype {data.dtype}")
        self.data = data
        self.grad = np.zeros_like(data)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self):
        return self.data.size

    def zero_grad(self):
        self.grad[...] = 0

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


def model_dtype(model):
    """The dtype ``model`` computes in: its first parameter's (float32 for a model without any).

    Layers produce outputs in their parameters' dtype and refuse other float inputs, so this
    is the dtype the loaders, ``predict`` and the commands convert data to.
    """
    for p in model.parameters().values():
        return p.dtype
    return np.dtype(np.float32)
