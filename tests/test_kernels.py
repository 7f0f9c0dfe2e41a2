"""Every compiled backend's kernels equal the reference operations of handgrad.functional
(float64 to 1e-10, float32 to 1e-5 relative) over random configurations, through both the
parallel and the serial compilation."""

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import handgrad.functional as reference
from handgrad import backend
from handgrad.functional.pool_geometry import pool_geometry
from handgrad.functional.sizes import parse_padding

from .test_conv import conv_configs
from .test_pooling import pool_configs

COMPILED = [name for name in backend.available() if name != "numpy"]
pytestmark = pytest.mark.skipif(not COMPILED, reason="no compiled backend installed")
TOL = {np.float64: 1e-10, np.float32: 1e-5}
PATHS = pytest.mark.parametrize("parallel", [True, False], ids=["parallel", "serial"])


@contextlib.contextmanager
def compiled_path(name, parallel):
    """Run backend ``name``'s kernels in many small blocks over two threads even on the small
    test arrays, or serially in one block."""
    if name != "numba":
        yield
        return
    from handgrad import _threads
    from handgrad.kernels.numba import _blocks, _pace
    before = _blocks.PARALLEL_MIN_WORK, _blocks.BLOCK_ELEMENTS, _pace.MEASURE
    _blocks.PARALLEL_MIN_WORK, _blocks.BLOCK_ELEMENTS = (0, 64) if parallel else (2**62, 2**62)
    _pace.MEASURE = False                    # never choose one thread: test the team
    _threads.set_threads(2)
    try:
        yield
    finally:
        _blocks.PARALLEL_MIN_WORK, _blocks.BLOCK_ELEMENTS, _pace.MEASURE = before
        _threads.set_threads(None)


def close(actual, expected, dtype, scale=None):
    """Equal to ``TOL[dtype]`` relative to ``scale``, by default the largest magnitude of
    ``expected``."""
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    if scale is None:
        scale = float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(actual, expected, rtol=TOL[dtype], atol=TOL[dtype] * max(scale, 1e-30))


def conv_case(cfg, dtype, rng):
    """Input, weight, bias and the remaining arguments of a convolution drawn by ``conv_configs``."""
    x = rng.standard_normal(cfg["shape"]).astype(dtype)
    w = rng.standard_normal((cfg["cout"], cfg["cin"] // cfg["groups"]) + cfg["k"]).astype(dtype)
    b = rng.standard_normal(cfg["cout"]).astype(dtype) if cfg["bias"] else None
    pads = parse_padding(cfg["padding"], cfg["k"], cfg["d"], cfg["nd"], "test")
    return x, w, b, (cfg["s"], pads, cfg["d"], cfg["groups"])


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=40, deadline=None)
@given(cfg=conv_configs(), seed=st.integers(0, 2**16), input_grad=st.booleans())
def test_conv_equals_reference(name, dtype, cfg, seed, input_grad, parallel):
    with compiled_path(name, parallel):
        ops = backend.ops(name)
        x, w, b, args = conv_case(cfg, dtype, np.random.default_rng(seed))
        y, cache = ops.conv_forward(x, w, b, *args)
        y_ref, cache_ref = reference.conv_forward(x, w, b, *args)
        close(y, y_ref, dtype)
        g = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(dtype)
        got, want = ops.conv_backward(g, cache, input_grad), reference.conv_backward(g, cache_ref, input_grad)
        for a, e, scale in zip(got, want, gradient_scales(g, x, w, b, args, input_grad)):
            assert (a is None) == (e is None)
            if e is not None:
                close(a, e, dtype, scale)


def gradient_scales(g, x, w, b, args, input_grad):
    """The size of the sums behind each gradient, ``(dx, dW, db)`` of ``|g|``, ``|x|``,
    ``|w|``: rounding (the reference's float32 sums too) is relative to these, not to the
    result, which cancellation can make small (a bias gradient of -0.08 from 140 terms of
    size 1)."""
    magnitudes = [None if v is None else np.abs(v) for v in (x, w, b)]
    cache = reference.conv_forward(*magnitudes, *args)[1]
    return [None if v is None else float(np.max(v, initial=0.0))
            for v in reference.conv_backward(np.abs(g), cache, input_grad)]


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=40, deadline=None)
@given(cfg=conv_configs(), seed=st.integers(0, 2**16), input_grad=st.booleans())
def test_stride_one_conv_equals_reference(name, dtype, cfg, seed, input_grad, parallel):
    """Stride 1 everywhere: the compiled backend's padded-grid ("wide") path."""
    test_conv_equals_reference.hypothesis.inner_test(
        name, dtype, dict(cfg, s=(1,) * cfg["nd"]), seed, input_grad, parallel)


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=40, deadline=None)
@given(cfg=conv_configs(), seed=st.integers(0, 2**16), input_grad=st.booleans(), stride_one=st.booleans())
def test_conv_relu_equals_reference(name, dtype, cfg, seed, input_grad, stride_one, parallel):
    """The fused convolution + ReLU (both layouts: strided and stride 1)."""
    if stride_one:
        cfg = dict(cfg, s=(1,) * cfg["nd"])
    with compiled_path(name, parallel):
        ops = backend.ops(name)
        x, w, b, args = conv_case(cfg, dtype, np.random.default_rng(seed))
        y, mask, cache = ops.conv_relu_forward(x, w, b, *args)
        y_ref, mask_ref, cache_ref = reference.conv_relu_forward(x, w, b, *args)
        close(y, y_ref, dtype)
        z_ref = reference.conv_forward(x, w, b, *args)[0]
        clear = np.abs(z_ref) > 1e-3 * np.max(np.abs(z_ref), initial=0.0)   # no rounding can flip these
        assert mask.dtype == np.bool_ and mask.shape == y.shape
        np.testing.assert_array_equal(mask[clear], mask_ref[clear])
        g = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(dtype)
        got = ops.conv_relu_backward(g, mask_ref, cache, input_grad)
        want = reference.conv_relu_backward(g, mask_ref, cache_ref, input_grad)
        for a, e, scale in zip(got, want, gradient_scales(g, x, w, b, args, input_grad)):
            assert (a is None) == (e is None)
            if e is not None:
                close(a, e, dtype, scale)


@st.composite
def winograd_configs(draw):
    """3x3 convolutions of 2-d images with stride 1 and enough input channels for the
    Numba backend's Winograd kernels (handgrad/kernels/numba/conv_winograd.py): odd and
    even sizes (a last tile half outside), every kind of padding, batches of 2 or more."""
    kind = draw(st.sampled_from(["int", "pairs", "same", "valid"]))
    padding = {"int": draw(st.integers(0, 2)), "same": "same", "valid": "valid",
               "pairs": tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))}[kind]
    cin = draw(st.integers(8, 12))
    size = tuple(draw(st.integers(3, 11)) for _ in range(2))
    return dict(nd=2, cin=cin, cout=draw(st.integers(1, 9)), k=(3, 3), s=(1, 1), d=(1, 1), padding=padding,
                groups=1, shape=(draw(st.integers(2, 7)), cin) + size, bias=draw(st.booleans()))


def test_winograd_configs_take_the_winograd_kernels():
    """The configurations below do reach conv_winograd (and its minimum of channels holds)."""
    pytest.importorskip("numba")
    from handgrad.kernels.numba import conv as numba_conv
    x, w, b, args = conv_case(dict(nd=2, cin=8, cout=3, k=(3, 3), s=(1, 1), d=(1, 1), padding=1, groups=1,
                                   shape=(4, 8, 5, 6), bias=True), np.float32, np.random.default_rng(0))
    assert numba_conv.conv_forward(x, w, b, *args)[1][-1] is not None          # U: Winograd's weights
    x7 = x[:, :numba_conv.WINOGRAD_MIN_CHANNELS - 1]
    assert numba_conv.conv_forward(x7, w[:, :x7.shape[1]], b, *args)[1][-1] is None


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=40, deadline=None)
@given(cfg=winograd_configs(), seed=st.integers(0, 2**16), input_grad=st.booleans())
def test_winograd_conv_equals_reference(name, dtype, cfg, seed, input_grad, parallel):
    test_conv_equals_reference.hypothesis.inner_test(name, dtype, cfg, seed, input_grad, parallel)


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=40, deadline=None)
@given(cfg=winograd_configs(), seed=st.integers(0, 2**16), input_grad=st.booleans())
def test_winograd_conv_relu_equals_reference(name, dtype, cfg, seed, input_grad, parallel):
    test_conv_relu_equals_reference.hypothesis.inner_test(name, dtype, cfg, seed, input_grad, True, parallel)


@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=30, deadline=None)
@given(cfg=winograd_configs(), seed=st.integers(0, 2**16), threads=st.integers(2, 5),
       samples=st.integers(1, 4), relu=st.booleans(), input_grad=st.booleans())
def test_winograd_bands_equal_reference(name, dtype, cfg, seed, threads, samples, relu, input_grad):
    """Fewer samples than threads through Winograd (inference on one image): each image's
    tile rows are cut into bands, one per thread (conv_winograd.band_driver); the backward
    after it too."""
    from handgrad import _threads
    from handgrad.kernels.numba import _blocks, _pace
    before = _blocks.PARALLEL_MIN_WORK, _pace.MEASURE
    _blocks.PARALLEL_MIN_WORK, _pace.MEASURE = 0, False
    _threads.set_threads(threads)
    try:
        cfg = dict(cfg, shape=(min(samples, threads - 1),) + cfg["shape"][1:])
        x, w, b, args = conv_case(cfg, dtype, np.random.default_rng(seed))
        ops = backend.ops(name)
        y_ref, mask_ref, cache_ref = reference.conv_relu_forward(x, w, b, *args)
        if relu:
            y, mask, cache = ops.conv_relu_forward(x, w, b, *args)
            np.testing.assert_array_equal(mask, y > 0)
        else:
            (y, cache), (y_ref, cache_ref) = ops.conv_forward(x, w, b, *args), reference.conv_forward(x, w, b, *args)
        close(y, y_ref, dtype)
        assert cache[-1] is not None                              # Winograd's weights: its path ran
        g = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(dtype)
        got, want = ((ops.conv_relu_backward(g, mask_ref, cache, input_grad),
                      reference.conv_relu_backward(g, mask_ref, cache_ref, input_grad)) if relu else
                     (ops.conv_backward(g, cache, input_grad), reference.conv_backward(g, cache_ref, input_grad)))
        for a, e, scale in zip(got, want, gradient_scales(g, x, w, b, args, input_grad)):
            assert (a is None) == (e is None)
            if e is not None:
                close(a, e, dtype, scale)
    finally:
        _blocks.PARALLEL_MIN_WORK, _pace.MEASURE = before
        _threads.set_threads(None)


@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=30, deadline=None)
@given(cfg=conv_configs(), seed=st.integers(0, 2**16), threads=st.integers(2, 5))
def test_few_samples_split_by_positions_equal_reference(name, dtype, cfg, seed, threads):
    """Fewer samples than threads (inference on one image): the compiled backend splits each
    sample's output positions among the threads instead."""
    from handgrad import _threads
    from handgrad.kernels.numba import _blocks, conv
    before = _blocks.PARALLEL_MIN_WORK, conv.MIN_POSITIONS_PER_PART
    _blocks.PARALLEL_MIN_WORK, conv.MIN_POSITIONS_PER_PART = 0, 1
    _threads.set_threads(threads)
    try:
        cfg = dict(cfg, s=(1,) * cfg["nd"], shape=(1,) + cfg["shape"][1:])
        x, w, b, args = conv_case(cfg, dtype, np.random.default_rng(seed))
        close(backend.ops(name).conv_forward(x, w, b, *args)[0], reference.conv_forward(x, w, b, *args)[0], dtype)
        close(backend.ops(name).conv_relu_forward(x, w, b, *args)[0],
              reference.conv_relu_forward(x, w, b, *args)[0], dtype)
    finally:
        _blocks.PARALLEL_MIN_WORK, conv.MIN_POSITIONS_PER_PART = before
        _threads.set_threads(None)


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=40, deadline=None)
@given(cfg=pool_configs())
def test_pooling_equals_reference(name, kind, dtype, cfg, parallel):
    with compiled_path(name, parallel):
        rng = np.random.default_rng(cfg["seed"])
        ops = backend.ops(name)
        shape = (2, 3) + cfg["size"]
        x = (rng.integers(-2, 3, shape) if cfg["ties"] else rng.standard_normal(shape)).astype(dtype)
        geom = pool_geometry(cfg["size"], cfg["kernel"], cfg["stride"],
                             tuple((p, p) for p in cfg["pad"]), cfg["ceil_mode"])
        if min(geom.out) < 1:
            return
        extra = (cfg["count_include_pad"], cfg["divisor_override"]) if kind == "avg" else ()
        forward, backward = f"{kind}_pool_forward", f"{kind}_pool_backward"
        y, cache = getattr(ops, forward)(x, geom, *extra)
        y_ref, cache_ref = getattr(reference, forward)(x, geom, *extra)
        close(y, y_ref, dtype)
        g = rng.standard_normal(y.shape).astype(dtype)
        close(getattr(ops, backward)(g, cache), getattr(reference, backward)(g, cache_ref), dtype)


@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("geometry", sorted(__import__("handgrad.kernels.numba.pooling",
                                                       fromlist=["COMMON"]).COMMON), ids=str)
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_each_compiled_max_pool_geometry_equals_reference(name, geometry, ceil_mode):
    """Every window geometry with a kernel of its own, on sizes that fit and sizes that leave a
    window hanging over the edge, with ties (small integers), -inf and, in one plane, NaN."""
    (_, kk, _), (_, st, _), (_, pad, _) = geometry
    rng = np.random.default_rng(kk * 100 + st * 10 + pad)
    ops = backend.ops(name)
    for size in (7, 8, 9, 12):
        x = rng.integers(-3, 4, (2, 3, size, size + 1)).astype(np.float32)
        x[0, 1, ::3, ::2] = -np.inf
        x[1, 2, 1, 2] = np.nan
        try:
            geom = pool_geometry((size, size + 1), (kk, kk), (st, st), ((pad, pad), (pad, pad)), ceil_mode)
        except ValueError:
            continue
        y, cache = ops.max_pool_forward(x, geom)
        y_ref, cache_ref = reference.max_pool_forward(x, geom)
        np.testing.assert_array_equal(y, y_ref)
        g = rng.integers(-4, 5, y.shape).astype(np.float32)      # sums of small integers: exact
        np.testing.assert_array_equal(ops.max_pool_backward(g, cache), reference.max_pool_backward(g, cache_ref))


@PATHS
@pytest.mark.parametrize("name", COMPILED)
def test_max_pool_nan_and_minus_inf_as_reference(name, parallel):
    with compiled_path(name, parallel):
        ops = backend.ops(name)
        x = np.full((1, 2, 4, 4), -np.inf)
        x[0, 1, 3, 3] = 1.0
        x[0, 1, 0, 1] = np.nan
        geom = pool_geometry((4, 4), (3, 3), (2, 2), ((1, 1), (1, 1)), False)
        y, cache = ops.max_pool_forward(x, geom)
        y_ref, cache_ref = reference.max_pool_forward(x, geom)
        np.testing.assert_array_equal(y, y_ref)                 # NaN where NaN, -inf where -inf
        g = np.arange(1.0, 9.0).reshape(y.shape)
        np.testing.assert_array_equal(ops.max_pool_backward(g, cache), reference.max_pool_backward(g, cache_ref))


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=4), seed=st.integers(0, 2**16))
def test_relu_equals_reference(name, dtype, shape, seed, parallel):
    with compiled_path(name, parallel):
        rng = np.random.default_rng(seed)
        ops = backend.ops(name)
        x = rng.standard_normal(shape).astype(dtype)
        x.flat[0] = 0.0                                         # the kink: mask False, y 0
        if x.size > 1:
            x.flat[1] = np.nan
        y, mask = ops.relu_forward(x)
        y_ref, mask_ref = reference.relu_forward(x)
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_array_equal(mask, mask_ref)
        g = rng.standard_normal(x.shape).astype(dtype)
        np.testing.assert_array_equal(ops.relu_backward(g, mask), reference.relu_backward(g, mask_ref))


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 20), c=st.integers(1, 12), seed=st.integers(0, 2**16),
       soft=st.booleans(), scale=st.sampled_from([1.0, 0.1]))
def test_softmax_cross_entropy_equals_reference(name, dtype, n, c, seed, soft, scale, parallel):
    with compiled_path(name, parallel):
        rng = np.random.default_rng(seed)
        ops = backend.ops(name)
        z = (rng.standard_normal((n, c)) * 30).astype(dtype)    # large logits: the shift matters
        t = rng.dirichlet(np.ones(c), n) if soft else np.eye(c)[rng.integers(0, c, n)]
        t = t.astype(dtype)
        loss, grad = ops.softmax_cross_entropy(z, t, scale)
        loss_ref, grad_ref = reference.softmax_cross_entropy(z, t, scale)
        assert loss == pytest.approx(loss_ref, rel=TOL[dtype], abs=TOL[dtype])
        # each entry p * sum(t) - t is a difference of terms of size up to 1 (times scale):
        # float32 rounding of p shows relative to that size, not to the difference
        close(grad, grad_ref, dtype, scale=scale)


@pytest.mark.parametrize("name", COMPILED)
def test_kernels_run_serially_in_worker_threads(name):
    """Data-parallel workers call the kernels from several threads at once."""
    from concurrent.futures import ThreadPoolExecutor
    ops = backend.ops(name)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    want = reference.conv_forward(x, w, None, (1, 1), ((1, 1), (1, 1)), (1, 1), 1)[0]
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: ops.conv_forward(x, w, None, (1, 1), ((1, 1), (1, 1)),
                                                           (1, 1), 1)[0], range(6)))
    for y in results:
        close(y, want, np.float32)


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=30, deadline=None)
@given(m=st.integers(0, 40), n_in=st.integers(1, 30), n_out=st.integers(1, 30),
       bias=st.booleans(), input_grad=st.booleans(), seed=st.integers(0, 2**16))
def test_linear_equals_reference(name, dtype, m, n_in, n_out, bias, input_grad, seed, parallel):
    with compiled_path(name, parallel):
        rng = np.random.default_rng(seed)
        ops = backend.ops(name)
        x = rng.standard_normal((m, n_in)).astype(dtype)
        w = rng.standard_normal((n_out, n_in)).astype(dtype)
        b = rng.standard_normal(n_out).astype(dtype) if bias else None
        close(ops.linear_forward(x, w, b), reference.linear_forward(x, w, b), dtype,
              scale=float(np.abs(x).sum(axis=1).max(initial=0) * np.abs(w).max() + 1))
        g = rng.standard_normal((m, n_out)).astype(dtype)
        got, want = ops.linear_backward(g, x, w, input_grad), reference.linear_backward(g, x, w, input_grad)
        for a, e in zip(got, want):
            assert (a is None) == (e is None)
            if e is not None:
                close(a, e, dtype, scale=float(np.abs(e).max(initial=0) + m))


@PATHS
@pytest.mark.parametrize("name", COMPILED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 7), min_size=2, max_size=5), affine=st.booleans(),
       seed=st.integers(0, 2**16), offset=st.sampled_from([0.0, 30.0]), relu=st.booleans())
def test_batch_norm_equals_reference(name, dtype, shape, affine, seed, offset, relu, parallel):
    """Batch normalization, and with ``relu`` the fused batch norm + ReLU."""
    shape[0] = max(shape[0], 2)                                 # at least two values per channel
    with compiled_path(name, parallel):
        rng = np.random.default_rng(seed)
        ops = backend.ops(name)
        # an offset makes the mean matter; in float32 it costs the reference itself (float32
        # sums) digits at the 1e-5 level, so float32 compares centred data
        x = (rng.standard_normal(shape) + (offset if dtype == np.float64 else 0.0)).astype(dtype)
        C = shape[1]
        weight = rng.standard_normal(C).astype(dtype) if affine else None
        bias = rng.standard_normal(C).astype(dtype) if affine else None
        if relu:
            (*got, mask), (*want, mask_ref) = (
                (r[0], *r[2:], r[1]) for r in (ops.batch_norm_relu_forward(x, weight, bias, 1e-5),
                                               reference.batch_norm_relu_forward(x, weight, bias, 1e-5)))
            z = reference.batch_norm_forward(x, weight, bias, 1e-5)[0]
            clear = np.abs(z) > 1e-3 * (np.abs(z).max() + 1.0)        # no rounding can flip these
            np.testing.assert_array_equal(mask[clear], mask_ref[clear])
        else:
            got = ops.batch_norm_forward(x, weight, bias, 1e-5)
            want = reference.batch_norm_forward(x, weight, bias, 1e-5)
        for a, e in zip(got[:3], want[:3]):
            close(a, e, dtype, scale=float(np.abs(e).max()) + 1.0)
        g = rng.standard_normal(x.shape).astype(dtype)
        # dL/dx is a difference of terms of size |gamma| / sigma * |g| (it cancels to 0 for a
        # channel of two values): rounding shows relative to that size; the sums to M |g|
        M = x.size // C
        terms = float(np.abs(want[3][1]).max() * (np.abs(weight).max() if affine else 1.0)) * 3
        scales = [terms * float(np.abs(g).max()), M * float(np.abs(g).max()), M * float(np.abs(g).max())]
        if relu:
            pairs = ops.batch_norm_relu_backward(g, mask_ref, got[3]), \
                reference.batch_norm_relu_backward(g, mask_ref, want[3])
        else:
            pairs = ops.batch_norm_backward(g, got[3]), reference.batch_norm_backward(g, want[3])
        for a, e, scale in zip(*pairs, scales):
            assert (a is None) == (e is None)
            if e is not None:
                close(a, e, dtype, scale=scale)
