"""Pooling against PyTorch (float64, 1e-10): forward and input gradient on random configurations."""

import numpy as np
import pytest

from handgrad import AvgPoolNd, GlobalAvgPool, GlobalMaxPool, MaxPoolNd

torch = pytest.importorskip("torch")
F = torch.nn.functional

TORCH_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
TORCH_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def random_config(rng, d):
    kernel = tuple(int(k) for k in rng.integers(1, 5, d))
    stride = kernel if rng.random() < 0.3 else tuple(int(s) for s in rng.integers(1, 5, d))
    pad = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    top = {1: 20, 2: 11, 3: 7}[d]
    size = tuple(int(rng.integers(max(1, k - 2 * p), top + 1)) for k, p in zip(kernel, pad))
    return kernel, stride, pad, size, bool(rng.random() < 0.5)


def compare(layer, torch_fn, x, rng, **torch_kwargs):
    """Max |difference| of the output and of dL/dx for L = sum(g * y) with a random g."""
    y = layer(x)
    g = rng.standard_normal(y.shape)
    gx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch_fn(xt, **torch_kwargs)
    yt.backward(torch.tensor(g))
    assert y.shape == tuple(yt.shape), (y.shape, tuple(yt.shape), torch_kwargs)
    return float(np.max(np.abs(y - yt.detach().numpy()))), float(np.max(np.abs(gx - xt.grad.numpy())))


@pytest.mark.parametrize("d", [1, 2, 3], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "integer-ties"])
def test_max_pool_matches_torch(d, ties):
    rng = np.random.default_rng(100 + d + 10 * ties)
    worst = 0.0
    for _ in range(100):
        kernel, stride, pad, size, ceil_mode = random_config(rng, d)
        shape = (2, 3) + size
        # integer values in a small range: many ties, which must be routed to the first maximum
        x = rng.integers(-3, 4, shape).astype(np.float64) if ties else rng.standard_normal(shape)
        layer = MaxPoolNd(d, kernel, stride, pad, ceil_mode)
        errors = compare(layer, TORCH_MAX[d], x, rng, kernel_size=kernel, stride=stride, padding=pad,
                         ceil_mode=ceil_mode)
        worst = max(worst, *errors)
    assert worst <= 1e-10, worst


@pytest.mark.parametrize("d", [1, 2, 3], ids=["1d", "2d", "3d"])
def test_avg_pool_matches_torch(d):
    rng = np.random.default_rng(200 + d)
    worst = 0.0
    for i in range(120):
        kernel, stride, pad, size, ceil_mode = random_config(rng, d)
        if d == 3:  # torch's avg_pool3d rejects inputs smaller than the kernel even with padding
            size = tuple(max(n, k) for n, k in zip(size, kernel))
        count_include_pad = bool(rng.random() < 0.5)
        divisor_override = int(rng.integers(1, 10)) if i % 5 == 0 and d > 1 else None  # torch: 2d/3d only
        x = rng.standard_normal((2, 3) + size)
        layer = AvgPoolNd(d, kernel, stride, pad, ceil_mode, count_include_pad, divisor_override)
        kwargs = dict(kernel_size=kernel, stride=stride, padding=pad, ceil_mode=ceil_mode,
                      count_include_pad=count_include_pad)
        if divisor_override is not None:
            kwargs["divisor_override"] = divisor_override
        worst = max(worst, *compare(layer, TORCH_AVG[d], x, rng, **kwargs))
    assert worst <= 1e-10, worst


@pytest.mark.parametrize("shape", [(4, 5, 7), (3, 4, 6, 5), (2, 3, 3, 4, 5)], ids=["1d", "2d", "3d"])
def test_global_pools_match_torch(shape):
    rng = np.random.default_rng(300)
    x = rng.standard_normal(shape)
    axes = tuple(range(2, len(shape)))
    avg = compare(GlobalAvgPool(), lambda t: t.mean(dim=axes), x, rng)
    mx = compare(GlobalMaxPool(), lambda t: t.flatten(2).max(dim=2).values, x, rng)
    assert max(*avg, *mx) <= 1e-10
