"""The layer contract (STYLE.md), checked for every layer case in tests/cases/."""

import numpy as np
import pytest

import handgrad
from handgrad import gradcheck

from .cases import all_cases

CASES = all_cases()
IDS = [c.id for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_contract(case, dtype):
    rng = np.random.default_rng(0)
    layer = case.make(rng, dtype)
    x = case.input(rng, dtype)
    x_before = x.copy()

    # backward before forward is an error in the wrong order
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones(1, dtype))

    y = layer(x)
    assert y.dtype == dtype, f"{case.id}: output dtype {y.dtype}, expected {np.dtype(dtype)}"
    np.testing.assert_array_equal(x, x_before, err_msg="forward mutated its input")

    g = rng.standard_normal(y.shape).astype(dtype)
    g_before = g.copy()
    layer.zero_grad()
    gx = layer.backward(g)
    np.testing.assert_array_equal(g, g_before, err_msg="backward mutated grad_out")
    assert gx.shape == x.shape and gx.dtype == dtype

    params = layer.parameters()
    assert tuple(params) == case.param_names
    for name, p in params.items():
        assert isinstance(p, handgrad.Parameter)
        assert p.dtype == dtype and p.grad.shape == p.data.shape, name

    # backward accumulates: a second identical backward doubles the parameter gradients
    first = {n: p.grad.copy() for n, p in params.items()}
    layer.forward(x)
    layer.backward(g)
    for n, p in params.items():
        np.testing.assert_allclose(p.grad, 2 * first[n], rtol=1e-5, atol=1e-6, err_msg=n)
    layer.zero_grad()
    assert all(not p.grad.any() for p in params.values())

    text = repr(layer)
    assert text.startswith(type(layer).__name__ + "(")


@pytest.mark.parametrize("case", [c for c in CASES if c.gradcheck], ids=[c.id for c in CASES if c.gradcheck])
def test_gradcheck(case):
    rng = np.random.default_rng(1)
    layer = case.make(rng, np.float64)
    x = case.input(rng, np.float64)
    report = gradcheck(layer, x, rng=rng, **case.gradcheck_kwargs)
    assert report.passed


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_checks_grad_out_and_call_order(case):
    """The shared checks of layers/base.py, for every layer: grad_out of the last output's
    shape and dtype, and one backward per forward. A refused call changes no gradient."""
    rng = np.random.default_rng(0)
    layer = case.make(rng, np.float32)
    y = layer(case.input(rng, np.float32))
    name = type(layer).__name__
    g = rng.standard_normal(y.shape).astype(np.float32)
    wrong_shape = np.zeros(y.shape[:-1] + (y.shape[-1] + 1,), np.float32)
    with pytest.raises(ValueError, match=rf"{name}.backward expected grad_out of shape"):
        layer.backward(wrong_shape)
    with pytest.raises(TypeError, match=rf"{name}.backward expected grad_out of dtype float32 .*got float64"):
        layer.backward(g.astype(np.float64))
    with pytest.raises(TypeError, match=rf"{name}.backward expected grad_out to be a NumPy array"):
        layer.backward(g.tolist())
    layer.zero_grad()
    layer.backward(g)                                   # the refused calls did not disarm it
    grads = {n: p.grad.copy() for n, p in layer.parameters().items()}
    with pytest.raises(RuntimeError, match=rf"{name}.backward\(\) was called twice after one forward"):
        layer.backward(g)
    for n, p in layer.parameters().items():
        np.testing.assert_array_equal(p.grad, grads[n], err_msg=n)
