"""Pooling layers: loop reference, golden cases, ties, gradient checks and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handgrad import (AvgPool1d, AvgPool2d, AvgPool3d, AvgPoolNd, GlobalAvgPool, GlobalMaxPool, MaxPool1d,
                      MaxPool2d, MaxPool3d, MaxPoolNd, gradcheck)

from .cases.pooling import distinct
from .pool_reference import reference_pool


# -- random configurations against the loop reference ----------------------------

@st.composite
def pool_configs(draw):
    d = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(d))
    same = draw(st.booleans())                      # stride == kernel often: the fast path
    stride = kernel if same else tuple(draw(st.integers(1, 4)) for _ in range(d))
    pad = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(max(1, k - 2 * p), 7 if d < 3 else 5)) for k, p in zip(kernel, pad))
    return dict(d=d, kernel=kernel, stride=stride, pad=pad, size=size,
                ceil_mode=draw(st.booleans()), count_include_pad=draw(st.booleans()),
                divisor_override=draw(st.sampled_from([None, None, 3])),
                ties=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


@pytest.mark.parametrize("kind", ["max", "avg"])
@settings(max_examples=300, deadline=None)
@given(cfg=pool_configs())
def test_matches_loop_reference(kind, cfg):
    rng = np.random.default_rng(cfg["seed"])
    shape = (2, 2) + cfg["size"]
    # integer values make ties common: they must go to the first maximum
    x = rng.integers(-2, 3, shape).astype(np.float64) if cfg["ties"] else rng.standard_normal(shape)
    if kind == "max":
        layer = MaxPoolNd(cfg["d"], cfg["kernel"], cfg["stride"], cfg["pad"], cfg["ceil_mode"])
    else:
        layer = AvgPoolNd(cfg["d"], cfg["kernel"], cfg["stride"], cfg["pad"], cfg["ceil_mode"],
                          cfg["count_include_pad"], cfg["divisor_override"])
    y = layer(x)
    g = rng.standard_normal(y.shape)
    gx = layer.backward(g)
    pairs = tuple((p, p) for p in cfg["pad"])
    y_ref, gx_ref = reference_pool(x, kind, cfg["kernel"], cfg["stride"], pairs, y.shape[2:],
                                   cfg["count_include_pad"], cfg["divisor_override"], g)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, gx_ref, rtol=1e-12, atol=1e-12)


# -- golden cases (hand-computed) -------------------------------------------------

def test_max_pool_2x2_of_arange():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    layer = MaxPool2d(2)
    np.testing.assert_array_equal(layer(x)[0, 0], [[5, 7], [13, 15]])
    gx = layer.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = np.zeros((4, 4))
    expected[1, 1], expected[1, 3], expected[3, 1], expected[3, 3] = 1, 2, 3, 4
    np.testing.assert_array_equal(gx[0, 0], expected)


def test_avg_pool_2x2_of_arange():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    layer = AvgPool2d(2)
    np.testing.assert_array_equal(layer(x)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    gx = layer.backward(np.array([[[[4.0, 8.0], [0.0, 4.0]]]]))
    np.testing.assert_array_equal(gx[0, 0], [[1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 1, 1], [0, 0, 1, 1]])


@pytest.mark.parametrize("count_include_pad, expected", [
    (True, [1 / 3, 2, 4, 2.5]),      # divisors 3, 3, 3, 2: padding counts, the ceil overhang does not
    (False, [1 / 2, 2, 4, 5]),       # divisors 2, 3, 3, 1: input samples only
], ids=["include-pad", "exclude-pad"])
def test_avg_pool_padding_ceil_mode_divisors(count_include_pad, expected):
    # k=3, s=2, p=1, n=6, ceil: windows start at -1, 1, 3, 5 -> [-1..1], [1..3], [3..5], [5..7]
    layer = AvgPool1d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=count_include_pad)
    np.testing.assert_allclose(layer(np.arange(6.0).reshape(1, 1, 6))[0, 0], expected, rtol=1e-15)


def test_max_pool_ceil_mode_keeps_partial_window():
    layer = MaxPool1d(2, ceil_mode=True)
    np.testing.assert_array_equal(layer(np.arange(5.0).reshape(1, 1, 5))[0, 0], [1, 3, 4])
    np.testing.assert_array_equal(MaxPool1d(2)(np.arange(5.0).reshape(1, 1, 5))[0, 0], [1, 3])


def test_divisor_override():
    y = AvgPool1d(2, divisor_override=1)(np.arange(4.0).reshape(1, 1, 4))
    np.testing.assert_array_equal(y[0, 0], [1, 5])


@pytest.mark.parametrize("layer, x, expected", [
    (MaxPool1d(2), [3.0, 3.0, 1.0, 1.0], [1, 0, 1, 0]),
    (MaxPool1d(3, stride=1), [1.0, 5.0, 2.0, 0.0], [0, 2, 0, 0]),      # overlapping windows add up
    (MaxPool1d(3, stride=2, padding=1), [2.0, 2.0, 2.0, 2.0], [1, 1, 0, 0]),
    (MaxPool1d(3, stride=2), [1.0, 4.0, 2.0, 3.0, 0.0, 9.0], [0, 1, 0, 1, 0, 0]),   # last sample unread
], ids=["tie-first", "overlap-accumulates", "tie-with-padding", "unread-tail"])
def test_max_pool_gradient_routing(layer, x, expected):
    x = np.array(x).reshape(1, 1, -1)
    y = layer(x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(y))[0, 0], expected)


def test_tie_in_2d_goes_to_first_in_scan_order():
    layer = MaxPool2d(2)
    layer(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1, 1)))[0, 0], [[1, 0], [0, 0]])


def test_global_pools_of_arange():
    x = np.arange(8.0).reshape(1, 2, 2, 2)
    avg, mx = GlobalAvgPool(), GlobalMaxPool()
    np.testing.assert_array_equal(avg(x), [[1.5, 5.5]])
    np.testing.assert_array_equal(mx(x), [[3.0, 7.0]])
    np.testing.assert_array_equal(avg.backward(np.array([[4.0, 8.0]])).reshape(2, 4), [[1] * 4, [2] * 4])
    np.testing.assert_array_equal(mx.backward(np.array([[4.0, 8.0]])).reshape(2, 4), [[0, 0, 0, 4], [0, 0, 0, 8]])


def test_reused_buffers_do_not_leak_between_calls(rng):
    layer = MaxPool2d(3, stride=2, padding=1)
    x1, x2 = rng.standard_normal((2, 1, 2, 7, 7))
    y1 = layer(x1).copy()
    gx1 = layer.backward(np.ones_like(y1))
    gx1_copy = gx1.copy()
    layer(x2)
    layer.backward(np.full_like(y1, 2.0))
    np.testing.assert_array_equal(gx1, gx1_copy)         # earlier result not overwritten
    np.testing.assert_array_equal(layer(x1), y1)          # padding border still -inf


@pytest.mark.parametrize("layer", [MaxPool2d(3, stride=2, padding=1), MaxPool2d(2), AvgPool2d(3, stride=2, padding=1)],
                         ids=["max-overlap", "max-2x2", "avg-overlap"])
def test_empty_batch(layer):
    y = layer(np.zeros((0, 2, 6, 6), np.float32))
    assert y.shape == (0, 2, 3, 3)
    assert layer.backward(np.zeros_like(y)).shape == (0, 2, 6, 6)


def test_windows_whose_maximum_is_minus_inf_do_not_misroute_gradients():
    """A window of only -inf (input and padding) keeps its argmax on the padding; its
    gradient is dropped instead of landing on another sample or channel."""
    x = np.full((1, 2, 4, 4), -np.inf)
    x[0, 1, 3, 3] = 1.0                                # channel 1: one finite value
    layer = MaxPool2d(3, stride=2, padding=1)
    y = layer(x)
    np.testing.assert_array_equal(y[0, 1], [[-np.inf, -np.inf], [-np.inf, 1.0]])
    gx = layer.backward(np.arange(1.0, 9.0).reshape(1, 2, 2, 2))
    expected = np.zeros_like(x)
    expected[0, 0, 1, 1] = 4.0                          # window (1, 1) of channel 0: first offset in the input
    expected[0, 1, 3, 3] = 8.0                          # the finite maximum of channel 1
    np.testing.assert_array_equal(gx, expected)


# -- gradient checks (float64, no ties) ------------------------------------------

GRAD_LAYERS = [
    ("max1d-k3s2p1-ceil", lambda: MaxPool1d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 9)),
    ("max2d-2x2", lambda: MaxPool2d(2), (2, 3, 6, 6)),
    ("max2d-k3s2p1", lambda: MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 6)),
    ("max2d-overlap", lambda: MaxPool2d((3, 2), stride=1), (1, 2, 5, 5)),
    ("max3d-k2s1p1", lambda: MaxPool3d(2, stride=1, padding=1), (1, 2, 3, 3, 3)),
    ("avg1d-ceil-excl", lambda: AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 8)),
    ("avg2d-2x2", lambda: AvgPool2d(2), (2, 3, 6, 6)),
    ("avg2d-k3s2p1", lambda: AvgPool2d(3, stride=2, padding=1), (2, 2, 7, 6)),
    ("avg3d-override", lambda: AvgPool3d(2, stride=1, divisor_override=5), (1, 2, 3, 4, 3)),
    ("global-avg", GlobalAvgPool, (2, 3, 4, 5)),
    ("global-max", GlobalMaxPool, (2, 3, 4, 5)),
]


@pytest.mark.parametrize("make, shape", [c[1:] for c in GRAD_LAYERS], ids=[c[0] for c in GRAD_LAYERS])
def test_gradcheck(make, shape):
    rng = np.random.default_rng(7)
    report = gradcheck(make(), distinct(rng, shape, np.float64), rng=rng)
    assert report.passed and report.max_rel_err < 1e-6, str(report)


# -- errors -----------------------------------------------------------------------

@pytest.mark.parametrize("make, error, match", [
    (lambda: MaxPool2d(0), ValueError, r"MaxPool2d expected kernel_size >= 1"),
    (lambda: MaxPool2d(2, stride=-1), ValueError, r"MaxPool2d expected stride >= 1"),
    (lambda: AvgPool1d(2, padding=-1), ValueError, r"AvgPool1d expected padding >= 0"),
    (lambda: MaxPool2d(3, padding=2), ValueError, r"padding at most half the kernel size.*padding=2"),
    (lambda: AvgPool3d((2, 2, 2), padding=(0, 2, 0)), ValueError, r"padding at most half"),
    (lambda: MaxPool2d(2.0), TypeError, r"kernel_size to be an int or a tuple of 2 ints"),
    (lambda: MaxPool2d((2, 2, 2)), TypeError, r"kernel_size to be an int or a tuple of 2 ints"),
    (lambda: MaxPool1d(2, ceil_mode=1), TypeError, r"ceil_mode to be a bool"),
    (lambda: AvgPool2d(2, count_include_pad="yes"), TypeError, r"count_include_pad to be a bool"),
    (lambda: AvgPool2d(2, divisor_override=0), ValueError, r"divisor_override >= 1"),
], ids=["zero-kernel", "negative-stride", "negative-padding", "padding-over-half", "padding-over-half-3d",
        "float-kernel", "kernel-length", "ceil-mode-type", "count-include-pad-type", "zero-divisor"])
def test_bad_hyperparameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer, x, error, match", [
    (MaxPool2d(2), np.zeros((32, 28, 28)), ValueError,
     r"MaxPool2d expected input of shape \(N, C, H, W\), got \(32, 28, 28\) \(3-D\)"),
    (AvgPool1d(2), np.zeros((4, 3, 2, 8)), ValueError, r"AvgPool1d expected input of shape \(N, C, L\)"),
    (MaxPool2d(2), np.zeros((32, 28, 28, 1)), ValueError,
     r"too small for kernel_size \(2, 2\).*output size would be \(14, 0\).*channels-last"),
    (MaxPool3d(3), np.zeros((1, 1, 2, 5, 5)), ValueError, r"output size would be \(0, 1, 1\)"),
    (MaxPool1d(2), np.zeros((1, 1, 4), np.int64), TypeError, r"floating-point array"),
    (GlobalAvgPool(), np.zeros((4, 3)), ValueError, r"GlobalAvgPool expected input of shape \(N, C, \*spatial\)"),
], ids=["rank-2d", "rank-1d", "channels-last", "output-size-0", "int-input", "global-rank"])
def test_bad_inputs(layer, x, error, match):
    with pytest.raises(error, match=match):
        layer(x)


@pytest.mark.parametrize("layer", [MaxPool2d(2), AvgPool2d(2), GlobalAvgPool(), GlobalMaxPool()],
                         ids=["max", "avg", "global-avg", "global-max"])
def test_backward_before_forward(layer):
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 1, 1, 1)))


def test_config_and_repr():
    layer = AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
    assert layer.get_config() == {"kernel_size": [3, 3], "stride": [2, 2], "padding": 1, "ceil_mode": False,
                                  "count_include_pad": False, "divisor_override": None}
    assert MaxPoolNd(1, 2).get_config()["num_spatial_dims"] == 1
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=0, ceil_mode=False)"
    assert MaxPool2d(2).macs((3, 4, 4), (3, 2, 2)) == 48


def test_large_window_uses_wide_offset_index(rng):
    # 7x7x7 = 343 kernel offsets: more than uint8 can index
    x = distinct(rng, (1, 2, 7, 7, 7), np.float64)
    layer = MaxPool3d(7)
    y = layer(x)
    np.testing.assert_array_equal(y.ravel(), x.reshape(2, -1).max(axis=1))
    gx = layer.backward(np.array([2.0, 3.0]).reshape(1, 2, 1, 1, 1))
    expected = np.zeros((2, 343))
    expected[[0, 1], x.reshape(2, -1).argmax(axis=1)] = [2.0, 3.0]
    np.testing.assert_array_equal(gx.reshape(2, 343), expected)
