"""Convolution: the fast layer against the loop reference, gradient checks, golden cases, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import gradcheck
from handgrad.layers import Conv1d, Conv2d, Conv3d, ConvNd, ReLU, Sequential
from handgrad.init import Constant

from .conv_reference import loop_conv

F64 = np.float64


@st.composite
def conv_configs(draw):
    nd = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 2, 3]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 4 if nd < 3 else 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    kind = draw(st.sampled_from(["int", "tuple", "pairs", "same", "valid"]))
    padding = {"int": draw(st.integers(0, 2)), "tuple": tuple(draw(st.integers(0, 2)) for _ in range(nd)),
               "pairs": tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(nd)),
               "same": "same", "valid": "valid"}[kind]
    # every spatial size large enough for the dilated kernel without padding
    size = tuple(draw(st.integers(dd * (kk - 1) + 1, dd * (kk - 1) + (5 if nd < 3 else 3)))
                 for kk, dd in zip(k, d))
    batch = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    return dict(nd=nd, cin=cin, cout=cout, k=k, s=s, d=d, padding=padding, groups=groups,
                shape=(batch, cin) + size, bias=bias)


def build(cfg, rng, **kw):
    return ConvNd(cfg["nd"], cfg["cin"], cfg["cout"], cfg["k"], stride=cfg["s"], padding=cfg["padding"],
                  dilation=cfg["d"], groups=cfg["groups"], bias=cfg["bias"], rng=rng, dtype=F64,
                  bias_init=lambda shape, *a, **k: rng.standard_normal(shape), **kw)


@settings(max_examples=120, deadline=None)
@given(cfg=conv_configs(), seed=st.integers(0, 2**16))
def test_matches_loop_reference(cfg, seed):
    rng = np.random.default_rng(seed)
    conv = build(cfg, rng)
    x = rng.standard_normal(cfg["shape"])
    y = conv(x)
    g = rng.standard_normal(y.shape)
    dx = conv.backward(g)
    b = conv.bias.data if conv.bias is not None else None
    ry, rdx, rdw, rdb = loop_conv(x, conv.weight.data, b, cfg["s"], conv.pads, cfg["d"], cfg["groups"], g)
    np.testing.assert_allclose(y, ry, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, rdx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.weight.grad, rdw, rtol=1e-10, atol=1e-12)
    if b is not None:
        np.testing.assert_allclose(conv.bias.grad, rdb, rtol=1e-10, atol=1e-12)


GRADCHECK = [
    # id, nd, cin, cout, kernel, stride, padding, dilation, groups, input spatial
    ("1d-k3", 1, 2, 3, 3, 1, 0, 1, 1, (7,)),
    ("1d-even-k-same-s2", 1, 2, 2, 4, 2, "same", 1, 1, (9,)),
    ("2d-k3-p1", 2, 2, 3, 3, 1, 1, 1, 1, (5, 6)),
    ("2d-1x1", 2, 3, 2, 1, 1, 0, 1, 1, (4, 4)),
    ("2d-stride-3x2", 2, 2, 2, 3, (3, 2), 1, 1, 1, (8, 7)),
    ("2d-asym-pad", 2, 1, 2, (2, 3), 1, ((0, 2), (1, 0)), 1, 1, (5, 5)),
    ("2d-dilation2", 2, 2, 2, 3, 1, 2, 2, 1, (6, 6)),
    ("2d-groups2", 2, 4, 6, 3, 2, "same", 1, 2, (6, 5)),
    ("2d-depthwise", 2, 3, 3, 3, 1, 1, 1, 3, (5, 5)),
    ("2d-kernel-covers-input", 2, 2, 2, 5, 1, 1, 1, 1, (3, 3)),
    ("3d-k2-s2", 3, 2, 2, 2, 2, 0, 1, 1, (4, 5, 4)),
    ("3d-same-dil", 3, 1, 2, 3, 1, "same", (1, 2, 1), 1, (3, 5, 4)),
]


@pytest.mark.parametrize("cid,nd,cin,cout,k,s,p,d,groups,spatial", GRADCHECK, ids=[c[0] for c in GRADCHECK])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_gradcheck(cid, nd, cin, cout, k, s, p, d, groups, spatial, bias):
    rng = np.random.default_rng(7)
    conv = ConvNd(nd, cin, cout, k, stride=s, padding=p, dilation=d, groups=groups, bias=bias,
                  rng=rng, dtype=F64)
    report = gradcheck(conv, rng.standard_normal((2, cin) + spatial), rng=rng)
    assert report.passed and report.max_rel_err < 1e-6, str(report)


def test_outputs_are_not_reused_buffers():
    rng = np.random.default_rng(0)
    conv = Conv2d(1, 2, 3, padding=1, rng=rng)
    x1, x2 = rng.random((2, 1, 5, 5), dtype=np.float32), rng.random((2, 1, 5, 5), dtype=np.float32)
    y1 = conv(x1)
    kept = y1.copy()
    conv(x2)
    np.testing.assert_array_equal(y1, kept)


def test_golden_blur():
    image = np.arange(16, dtype=F64).reshape(1, 1, 4, 4)
    blur = Conv2d(1, 1, 3, padding=1, weight_init=Constant(1 / 9), dtype=F64)
    y = blur(image)[0, 0]
    np.testing.assert_allclose(y[1:3, 1:3], [[5, 6], [9, 10]])
    np.testing.assert_allclose(y[0, 0], (0 + 1 + 4 + 5) / 9)       # zero padding at the corner
    np.testing.assert_allclose(y[3, 3], (10 + 11 + 14 + 15) / 9)


def test_golden_sobel_proves_cross_correlation():
    # dark left half, bright right half: a vertical edge rising to the right
    image = np.array([[0, 0, 1, 1]] * 4, dtype=F64).reshape(1, 1, 4, 4)
    sobel = Conv2d(1, 1, 3, bias=False, dtype=F64)
    sobel.weight.data[0, 0] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    y = sobel(image)[0, 0]
    # correlation: sum(w * window) = (1 + 2 + 1) * (1 - 0) = +4; a flipped kernel would give -4
    np.testing.assert_allclose(y, [[4, 4], [4, 4]])


@pytest.mark.parametrize("cls,shape,out", [(Conv1d, (2, 3, 10), (2, 5, 8)),
                                           (Conv2d, (2, 3, 6, 7), (2, 5, 4, 5)),
                                           (Conv3d, (2, 3, 4, 5, 6), (2, 5, 2, 3, 4))],
                         ids=["1d", "2d", "3d"])
def test_thin_wrappers_and_config(cls, shape, out):
    conv = cls(3, 5, 3, rng=0)
    assert conv(np.zeros(shape, np.float32)).shape == out
    cfg = conv.get_config()
    assert cfg["in_channels"] == 3 and cfg["kernel_size"] == [3] * (len(shape) - 2)
    assert cls(**cfg).get_config() == cfg
    assert conv.macs(shape[1:], out[1:]) == np.prod(out[1:]) * 3 * 3 ** (len(shape) - 2)


def test_same_padding_output_is_ceil_n_over_s():
    conv = Conv2d(1, 1, 4, stride=(3, 2), padding="same", rng=0)
    assert conv(np.zeros((1, 1, 10, 7), np.float32)).shape == (1, 1, 4, 4)


@pytest.mark.parametrize("make,x,error,match", [
    (lambda: Conv2d(3, 4, 3), np.zeros((2, 1, 8, 8), np.float32), ValueError, r"\(N, 3, H, W\)"),
    (lambda: Conv2d(3, 4, 3), np.zeros((2, 8, 8, 3), np.float32), ValueError, "channels-last"),
    (lambda: Conv2d(3, 4, 3), np.zeros((3, 8, 8), np.float32), ValueError, r"3-D"),
    (lambda: Conv2d(1, 4, 5), np.zeros((2, 1, 4, 9), np.float32), ValueError, "input too small"),
    (lambda: Conv2d(1, 4, 3), np.zeros((2, 1, 8, 8)), TypeError, "float32 parameters but received a float64"),
    (lambda: Conv1d(1, 4, 3), [[[1.0, 2.0, 3.0]]], TypeError, "NumPy array"),
], ids=["wrong-channels", "channels-last", "wrong-rank", "too-small", "dtype", "list"])
def test_bad_input(make, x, error, match):
    with pytest.raises(error, match=match):
        make()(x)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(stride=-1), ValueError, "stride >= 1"),
    (dict(kernel_size=0), ValueError, "kernel_size >= 1"),
    (dict(kernel_size=(3, 3, 3)), TypeError, "kernel_size to be an int or a tuple of 2"),
    (dict(padding=-1), ValueError, "padding >= 0"),
    (dict(padding="full"), ValueError, "'same' or 'valid'"),
    (dict(dilation=0), ValueError, "dilation >= 1"),
    (dict(groups=2), ValueError, "in_channels divisible by groups=2"),
    (dict(in_channels=3.0), TypeError, "in_channels to be an int"),
], ids=["negative-stride", "zero-kernel", "kernel-rank", "negative-padding", "unknown-padding",
        "zero-dilation", "groups", "float-channels"])
def test_bad_hyperparameters(kwargs, error, match):
    args = dict(in_channels=3, out_channels=4, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        Conv2d(**args)


def test_num_spatial_dims_checked():
    with pytest.raises(ValueError, match="num_spatial_dims in 1..3"):
        ConvNd(4, 1, 1, 3)


def test_backward_checks_grad_shape():
    conv = Conv1d(1, 2, 3, rng=0)
    conv(np.zeros((2, 1, 5), np.float32))
    with pytest.raises(ValueError, match=r"grad_out of shape \(2, 2, 3\)"):
        conv.backward(np.zeros((2, 2, 4), np.float32))


@pytest.mark.parametrize("nd,cin,k,padding,bias", [
    (2, 2, 3, 1, True),
    (2, 1, 5, 0, True),
    (1, 3, 4, "same", False),
    (3, 1, 3, (1, 0, 1), True),
    (2, 4, 3, 1, True),
], ids=["2d-same", "2d-valid", "1d", "3d", "2d-wide"])
def test_backward_params_skips_dx_but_keeps_parameter_grads(nd, cin, k, padding, bias):
    """A model's first layer reads data: training calls backward_params, which returns
    None and adds the same parameter gradients as backward."""
    rng = np.random.default_rng(5)
    make = lambda: ConvNd(nd, cin, 3, k, padding=padding, bias=bias, rng=np.random.default_rng(0), dtype=F64)
    full, first = make(), make()
    x = rng.standard_normal((4, cin) + (7,) * nd)
    y = full(x)
    np.testing.assert_array_equal(first(x), y)
    g = rng.standard_normal(y.shape)
    full.backward(g)
    assert first.backward_params(g) is None
    np.testing.assert_allclose(first.weight.grad, full.weight.grad, rtol=1e-12, atol=1e-12)
    _, _, rdw, rdb = loop_conv(x, full.weight.data, full.bias.data if bias else None, (1,) * nd,
                               full.pads, (1,) * nd, 1, g)
    np.testing.assert_allclose(first.weight.grad, rdw, rtol=1e-10, atol=1e-12)
    if bias:
        np.testing.assert_allclose(first.bias.grad, rdb, rtol=1e-10, atol=1e-12)


def test_sequential_backward_params_skips_only_the_first_layer():
    rng = np.random.default_rng(8)
    make = lambda: Sequential(Conv2d(1, 2, 3, rng=np.random.default_rng(0), dtype=F64), ReLU(),
                              Conv2d(2, 2, 3, rng=np.random.default_rng(1), dtype=F64))
    full, skip = make(), make()
    x = rng.standard_normal((2, 1, 7, 7))
    g = rng.standard_normal(full(x).shape)
    skip(x)
    assert full.backward(g).shape == x.shape
    assert skip.backward_params(g) is None
    for name, p in full.parameters().items():
        np.testing.assert_allclose(skip.parameters()[name].grad, p.grad, rtol=1e-12)


@pytest.mark.parametrize("stride", [1, 2])
def test_empty_batch(stride):
    conv = Conv2d(2, 3, 3, stride=stride, padding=1, rng=0)
    y = conv(np.zeros((0, 2, 6, 6), np.float32))
    assert y.shape == (0, 3, 6 // stride, 6 // stride)
    assert conv.backward(np.zeros_like(y)).shape == (0, 2, 6, 6)
    assert not conv.weight.grad.any()


def test_input_gradients_held_by_caller_are_not_overwritten():
    rng = np.random.default_rng(6)
    conv = Conv1d(2, 2, 3, rng=rng, dtype=F64)
    x = rng.standard_normal((3, 2, 8))
    conv(x)
    dx1 = conv.backward(np.ones((3, 2, 6)))
    kept = dx1.copy()
    conv(x)
    conv.backward(2 * np.ones((3, 2, 6)))
    np.testing.assert_array_equal(dx1, kept)


@pytest.mark.parametrize("stride,groups", [(1, 1), (2, 1), (1, 2)])
def test_second_backward_after_one_forward_is_refused(stride, groups):
    """A second backward on one forward would add the weight gradient twice: it is refused
    (the shared check in layers/base.py) and leaves the gradients of the first as they were;
    the next forward/backward pair gives the fresh layer's answer."""
    rng = np.random.default_rng(7)
    make = lambda: Conv2d(4, 6, 3, stride=stride, padding=1, groups=groups,
                          rng=np.random.default_rng(1), dtype=F64)
    conv, fresh = make(), make()
    x = rng.standard_normal((3, 4, 7, 6))
    y = conv(x)
    g1, g2 = rng.standard_normal(y.shape), rng.standard_normal(y.shape)
    dx1 = conv.backward(g1).copy()
    w1 = conv.weight.grad.copy()
    with pytest.raises(RuntimeError, match=r"Conv2d.backward\(\) was called twice after one forward"):
        conv.backward(g2)
    np.testing.assert_array_equal(conv.weight.grad, w1)
    fresh(x)
    np.testing.assert_allclose(dx1, fresh.backward(g1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w1, fresh.weight.grad, rtol=1e-12, atol=1e-12)
    conv(x)
    dx2 = conv.backward(g2)
    fresh.zero_grad()
    fresh(x)
    np.testing.assert_allclose(dx2, fresh.backward(g2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.weight.grad - w1, fresh.weight.grad, rtol=1e-10, atol=1e-12)


STRIDE1_CASES = [  # nd, kernel, padding, dilation, groups: shapes that once took special paths
    (2, 3, 1, 1, 1),
    (2, (2, 5), "same", (2, 1), 2),
    (3, 3, ((0, 2), (1, 1), (2, 0)), (1, 1, 1), 1),      # first dim changes size
    (1, 4, ((3, 1),), 2, 1),
    (2, 3, 0, 1, 1),                                     # "valid": narrower rows
    (2, 3, ((1, 1), (0, 1)), 1, 1),
    (3, (2, 3, 3), ((0, 0), (0, 1), (1, 0)), (1, 2, 1), 1),
    (3, 2, ((1, 0), (0, 2), (1, 1)), 1, 1),              # a later dimension grows
    (2, 3, ((0, 0), (2, 2)), 1, 1),
]


@pytest.mark.parametrize("nd,k,p,d,groups", STRIDE1_CASES, ids=[f"case{i}" for i in range(len(STRIDE1_CASES))])
def test_stride1_cases_match_loop_reference(nd, k, p, d, groups):
    rng = np.random.default_rng(11)
    conv = ConvNd(nd, 2 * groups, 2 * groups, k, padding=p, dilation=d, groups=groups, rng=rng, dtype=F64,
                  bias_init=lambda shape, *a, **kw: rng.standard_normal(shape))
    x = rng.standard_normal((3, 2 * groups) + (7,) * nd)
    y = conv(x)
    g = rng.standard_normal(y.shape)
    dx = conv.backward(g)
    ry, rdx, rdw, rdb = loop_conv(x, conv.weight.data, conv.bias.data, (1,) * nd, conv.pads, conv.dilation, groups, g)
    np.testing.assert_allclose(y, ry, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, rdx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.weight.grad, rdw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.bias.grad, rdb, rtol=1e-10, atol=1e-12)


def test_fit_skips_the_first_layers_input_gradient():
    """Training never asks the first layer for dL/d(data): its backward_params runs."""
    from handgrad.losses import CrossEntropyLoss
    from handgrad.optim import SGD
    from handgrad.training import fit
    from handgrad.layers import Flatten, Linear

    calls = []

    class Spy(Conv2d):
        def backward(self, grad_out):
            calls.append("backward")
            return super().backward(grad_out)

        def backward_params(self, grad_out):
            calls.append("backward_params")
            return super().backward_params(grad_out)

    rng = np.random.default_rng(0)
    model = Sequential(Spy(1, 2, 3, rng=rng), ReLU(), Flatten(), Linear(2 * 4 * 4, 3, rng=rng))
    x = rng.random((8, 1, 6, 6), dtype=np.float32)
    y = rng.integers(0, 3, 8)
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (x, y), epochs=1,
        batch_size=4, verbose=False, rng=0)
    assert calls == ["backward_params", "backward_params"]
