"""Initializers: fans, distribution statistics on large shapes, supports, validation."""

import math

import numpy as np
import pytest

from handgrad import init


@pytest.mark.parametrize("shape, fan_in, fan_out", [
    ((10, 784), 784, 10),                 # Linear weight (out, in)
    ((16, 3, 5, 5), 75, 400),             # Conv2d weight (C_out, C_in, KH, KW): 3*25, 16*25
    ((8, 4, 3), 12, 24),                  # Conv1d weight
    ((7,), 7, 7),                         # bias
    ((), 1, 1),                           # scalar
], ids=["linear", "conv2d", "conv1d", "vector", "scalar"])
def test_fans(shape, fan_in, fan_out):
    assert init.fans(shape) == (fan_in, fan_out)


FAN_IN, FAN_OUT = 200, 300
SHAPE = (FAN_OUT, FAN_IN)                 # 60,000 samples


@pytest.mark.parametrize("initializer, std", [
    (init.Xavier(), math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.He(), math.sqrt(2 / FAN_IN)),
    (init.LeCun(), math.sqrt(1 / FAN_IN)),
    (init.XavierUniform(), math.sqrt(6 / (FAN_IN + FAN_OUT)) / math.sqrt(3)),   # U(-a, a): std a / sqrt(3)
    (init.HeUniform(), math.sqrt(6 / FAN_IN) / math.sqrt(3)),
    (init.LeCunUniform(), math.sqrt(3 / FAN_IN) / math.sqrt(3)),
], ids=["Xavier", "He", "LeCun", "XavierUniform", "HeUniform", "LeCunUniform"])
def test_statistics(initializer, std):
    w = initializer(SHAPE, FAN_IN, FAN_OUT, np.random.default_rng(0), np.float64)
    n = w.size
    assert w.shape == SHAPE
    assert abs(w.mean()) < 5 * std / math.sqrt(n)            # mean 0 within 5 standard errors
    assert w.std() == pytest.approx(std, rel=0.02)           # sample std of 60k draws: ~0.3% error


@pytest.mark.parametrize("initializer, bound", [
    (init.XavierUniform(), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (init.HeUniform(), math.sqrt(6 / FAN_IN)),
    (init.LeCunUniform(), math.sqrt(3 / FAN_IN)),
], ids=["XavierUniform", "HeUniform", "LeCunUniform"])
def test_uniform_bounds(initializer, bound):
    w = initializer(SHAPE, FAN_IN, FAN_OUT, np.random.default_rng(1), np.float64)
    assert w.min() >= -bound and w.max() < bound
    assert w.max() > 0.99 * bound and w.min() < -0.99 * bound


def test_uniform_random_support_and_mean():
    w = init.UniformRandom(-0.5, 2.0)((400, 250), 250, 400, np.random.default_rng(2), np.float64)
    assert w.min() >= -0.5 and w.max() < 2.0
    assert w.mean() == pytest.approx(0.75, abs=5 * 2.5 / math.sqrt(12 * w.size))
    with pytest.raises(ValueError, match="UniformRandom expected high > low, got low=1, high=1"):
        init.UniformRandom(1, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_constant_and_dtype(dtype):
    w = init.Constant(0.25)((3, 4), 4, 3, np.random.default_rng(0), dtype)
    assert w.dtype == dtype
    np.testing.assert_array_equal(w, np.full((3, 4), 0.25, dtype))


def test_same_seed_same_weights():
    a = init.He()((5, 6), 6, 5, np.random.default_rng(9))
    b = init.He()((5, 6), 6, 5, np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32


def test_errors():
    with pytest.raises(TypeError, match="He expected rng to be a numpy.random.Generator, got int"):
        init.He()((2, 2), 2, 2, 0)
    with pytest.raises(TypeError, match="float32 or float64, got int32"):
        init.He()((2, 2), 2, 2, np.random.default_rng(0), np.int32)
    with pytest.raises(TypeError, match="expected an initializer"):
        init.make_parameter("he", (2, 2), 2, 2, np.random.default_rng(0), np.float32, "Linear")
    with pytest.raises(ValueError, match=r"returned shape \(3,\), expected \(2, 2\)"):
        init.make_parameter(lambda *a: np.zeros(3), (2, 2), 2, 2, np.random.default_rng(0), np.float32, "Linear")


def test_repr():
    assert repr(init.UniformRandom(0.0, 1.0)) == "UniformRandom(low=0.0, high=1.0)"
    assert repr(init.He()) == "He()"
