"""Weight initializers.

Each initializer is a callable ``init(shape, fan_in, fan_out, rng, dtype) -> array``.
Randomness comes only from the ``rng`` (a ``numpy.random.Generator``) passed in.

Fans follow the usual rule (see :func:`fans`): a linear weight ``(out, in)`` has
``fan_in = in``, ``fan_out = out``; a convolution weight ``(C_out, C_in, *k)`` has
``fan_in = C_in * prod(k)`` and ``fan_out = C_out * prod(k)``.

=================  ==========================================  ===========================
initializer        distribution                                 use
=================  ==========================================  ===========================
Constant(v)        every entry ``v``                            biases
UniformRandom      U[low, high)                                 the classic course default
Xavier             N(0, 2 / (fan_in + fan_out))                 tanh / sigmoid nets
XavierUniform      U(-a, a), a = sqrt(6 / (fan_in + fan_out))  tanh / sigmoid nets
He                 N(0, 2 / fan_in)                             ReLU nets
HeUniform          U(-a, a), a = sqrt(6 / fan_in)               ReLU nets
LeCun              N(0, 1 / fan_in)                             SELU / linear nets
LeCunUniform       U(-a, a), a = sqrt(3 / fan_in)               linear layers
=================  ==========================================  ===========================
"""

import math

import numpy as np

from ._checks import as_dtype
from .parameter import Parameter


def fans(shape):
    """Return ``(fan_in, fan_out)`` of a weight of the given shape.

    >>> fans((10, 784))
    (784, 10)
    >>> fans((16, 3, 5, 5))
    (75, 400)
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


class Initializer:
    """Base class: subclasses implement ``sample(shape, fan_in, fan_out, rng)`` in float64."""

    def __call__(self, shape, fan_in, fan_out, rng, dtype=np.float32):
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{type(self).__name__} expected rng to be a numpy.random.Generator, got {type(rng).__name__}")
        return np.asarray(self.sample(tuple(shape), fan_in, fan_out, rng), dtype=as_dtype(dtype))

    def sample(self, shape, fan_in, fan_out, rng):
        raise NotImplementedError

    def get_config(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Constant(Initializer):
    """Every entry equals ``value``."""

    def __init__(self, value=0.1):
        self.value = float(value)

    def sample(self, shape, fan_in, fan_out, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class UniformRandom(Initializer):
    """Uniform on ``[low, high)``."""

    def __init__(self, low=0.0, high=1.0):
        if not high > low:
            raise ValueError(f"UniformRandom expected high > low, got low={low}, high={high}")
        self.low, self.high = float(low), float(high)

    def sample(self, shape, fan_in, fan_out, rng):
        return rng.uniform(self.low, self.high, size=shape)

    def get_config(self):
        return {"low": self.low, "high": self.high}


class Xavier(Initializer):
    """Glorot normal: N(0, std^2), std = sqrt(2 / (fan_in + fan_out))."""

    def sample(self, shape, fan_in, fan_out, rng):
        return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=shape)


class XavierUniform(Initializer):
    """Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out))."""

    def sample(self, shape, fan_in, fan_out, rng):
        a = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a, size=shape)


class He(Initializer):
    """He (Kaiming) normal: N(0, std^2), std = sqrt(2 / fan_in)."""

    def sample(self, shape, fan_in, fan_out, rng):
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape)


class HeUniform(Initializer):
    """He (Kaiming) uniform: U(-a, a), a = sqrt(6 / fan_in)."""

    def sample(self, shape, fan_in, fan_out, rng):
        a = math.sqrt(6.0 / fan_in)
        return rng.uniform(-a, a, size=shape)


class LeCun(Initializer):
    """LeCun normal: N(0, std^2), std = sqrt(1 / fan_in)."""

    def sample(self, shape, fan_in, fan_out, rng):
        return rng.normal(0.0, math.sqrt(1.0 / fan_in), size=shape)


class LeCunUniform(Initializer):
    """LeCun uniform: U(-a, a), a = sqrt(3 / fan_in) (variance 1 / fan_in)."""

    def sample(self, shape, fan_in, fan_out, rng):
        a = math.sqrt(3.0 / fan_in)
        return rng.uniform(-a, a, size=shape)


def make_parameter(init, shape, fan_in, fan_out, rng, dtype, owner="layer"):
    """Run an initializer and wrap the result in a Parameter, checking shape and dtype."""
    if not callable(init):
        raise TypeError(f"{owner} expected an initializer (a callable), got {init!r}")
    data = np.asarray(init(shape, fan_in, fan_out, rng, dtype))
    if data.shape != tuple(shape):
        raise ValueError(f"{owner}: initializer {init!r} returned shape {data.shape}, expected {tuple(shape)}")
    return Parameter(data.astype(dtype, copy=False))
