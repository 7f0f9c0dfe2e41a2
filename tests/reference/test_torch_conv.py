"""Convolution forward and backward against torch.nn.functional.conv1d/2d/3d in float64.

"same" with stride > 1 has no torch equivalent: it is compared as a stride-1 "same"
convolution followed by subsampling; asymmetric padding goes through F.pad.
"""

import numpy as np
import pytest

from handgrad.layers import ConvNd

torch = pytest.importorskip("torch")
F = torch.nn.functional


def random_config(rng, nd):
    groups = int(rng.choice([1, 1, 2, 3]))
    cin, cout = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 4))
    k = tuple(int(v) for v in rng.integers(1, 5 if nd < 3 else 4, nd))
    s = tuple(int(v) for v in rng.integers(1, 4, nd))
    d = tuple(int(v) for v in rng.integers(1, 3, nd))
    kind = rng.choice(["int", "tuple", "pairs", "same", "valid"])
    padding = {"int": int(rng.integers(0, 3)), "tuple": tuple(int(v) for v in rng.integers(0, 3, nd)),
               "pairs": tuple((int(a), int(b)) for a, b in rng.integers(0, 3, (nd, 2))),
               "same": "same", "valid": "valid"}[kind]
    spatial = tuple(dd * (kk - 1) + 1 + int(rng.integers(0, 6 if nd < 3 else 3)) for kk, dd in zip(k, d))
    return cin, cout, k, s, d, padding, groups, (int(rng.integers(1, 4)), cin) + spatial


def torch_conv(x, w, b, nd, stride, pads, dilation, groups, same):
    flat = [p for pair in reversed(pads) for p in pair]     # F.pad wants the last dim first
    conv = getattr(F, f"conv{nd}d")
    if same:   # stride-1 "same", then keep every s-th output
        y = conv(F.pad(x, flat), w, b, stride=1, dilation=dilation, groups=groups)
        return y[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)]
    return conv(F.pad(x, flat), w, b, stride=stride, dilation=dilation, groups=groups)


@pytest.mark.parametrize("nd", [1, 2, 3], ids=["conv1d", "conv2d", "conv3d"])
def test_random_configs_match_torch(nd):
    rng = np.random.default_rng(100 + nd)
    worst = 0.0
    for _ in range(120):
        cin, cout, k, s, d, padding, groups, shape = random_config(rng, nd)
        bias = bool(rng.integers(0, 2))
        conv = ConvNd(nd, cin, cout, k, stride=s, padding=padding, dilation=d, groups=groups, bias=bias,
                      rng=rng, dtype=np.float64)
        if bias:
            conv.bias.data[:] = rng.standard_normal(cout)
        x = rng.standard_normal(shape)
        y = conv(x)
        g = rng.standard_normal(y.shape)
        dx = conv.backward(g)

        tx = torch.tensor(x, requires_grad=True)
        tw = torch.tensor(conv.weight.data, requires_grad=True)
        tb = torch.tensor(conv.bias.data, requires_grad=True) if bias else None
        ty = torch_conv(tx, tw, tb, nd, s, conv.pads, d, groups, padding == "same")
        ty.backward(torch.tensor(g))
        pairs = [(y, ty), (dx, tx.grad), (conv.weight.grad, tw.grad)]
        if bias:
            pairs.append((conv.bias.grad, tb.grad))
        for ours, theirs in pairs:
            np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-10,
                                       err_msg=f"config {shape} k={k} s={s} d={d} p={padding} g={groups}")
            worst = max(worst, float(np.max(np.abs(ours - theirs.detach().numpy()), initial=0.0)))
    print(f"conv{nd}d: max |handgrad - torch| over 120 configs = {worst:.2e}")


def test_lenet_sized_float32_close_to_torch():
    rng = np.random.default_rng(0)
    conv = ConvNd(2, 6, 16, 5, rng=rng)
    x = rng.standard_normal((8, 6, 14, 14)).astype(np.float32)
    y = conv(x)
    ty = F.conv2d(torch.from_numpy(x), torch.from_numpy(conv.weight.data), torch.from_numpy(conv.bias.data))
    np.testing.assert_allclose(y, ty.numpy(), rtol=1e-4, atol=1e-4)
