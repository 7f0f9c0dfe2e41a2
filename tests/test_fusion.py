"""A convolution and the ReLU after it run by Sequential as one operation: the same values,
gradients and layer states as the two layers run one after the other."""

import numpy as np
import pytest

from handgrad import backend
from handgrad import layers as L

BACKENDS = backend.available()


def net(rng, dtype=np.float32):
    return L.Sequential(L.Conv2d(2, 4, 3, padding=1, rng=rng, dtype=dtype), L.ReLU(),
                        L.MaxPool2d(2),
                        L.Conv2d(4, 3, 3, stride=2, bias=False, rng=rng, dtype=dtype), L.ReLU(),
                        L.Flatten(), L.Linear(3 * 2 * 2, 5, rng=rng, dtype=dtype), L.ReLU())


def one_by_one(model, x, g, input_grad=True):
    """Forward and backward through the layers one at a time (no fusion)."""
    for layer in model:
        x = layer.forward(x)
    for i, layer in enumerate(reversed(model.layers)):
        if not input_grad and i == len(model) - 1:
            layer.backward_params(g)
            return x, None
        g = layer.backward(g)
    return x, g


@pytest.fixture(params=BACKENDS)
def use_backend(request):
    before = backend.get()
    backend.set_backend(request.param)
    yield request.param
    backend.set_backend(before)


def test_steps_pair_a_conv_with_the_relu_after_it():
    model = net(0)
    assert [tuple(type(layer).__name__ for layer in step) for step in model.steps()] == [
        ("Conv2d", "ReLU"), ("MaxPool2d",), ("Conv2d", "ReLU"), ("Flatten",), ("Linear",), ("ReLU",)]

    class MyReLU(L.ReLU):                          # a subclass may compute something else
        pass

    for other in (L.LeakyReLU(), MyReLU(), L.MaxPool2d(2)):
        assert [len(step) for step in L.Sequential(L.Conv2d(1, 1, 1), other).steps()] == [1, 1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("input_grad", [True, False], ids=["backward", "backward_params"])
def test_fused_equals_layer_by_layer(use_backend, dtype, input_grad):
    rng = np.random.default_rng(3)
    fused, plain = net(7, dtype), net(7, dtype)
    x = rng.standard_normal((5, 2, 10, 10)).astype(dtype)
    g = rng.standard_normal((5, 5)).astype(dtype)
    y = fused.forward(x)
    dx = fused.backward(g) if input_grad else fused.backward_params(g)
    y_plain, dx_plain = one_by_one(plain, x, g, input_grad)
    np.testing.assert_array_equal(y, y_plain)
    if input_grad:
        np.testing.assert_array_equal(dx, dx_plain)
    else:
        assert dx is None
    for (name, p), q in zip(fused.parameters().items(), plain.parameters().values()):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)
        assert np.any(p.grad != 0), name


def test_each_layer_can_run_backward_alone_after_a_fused_forward(use_backend):
    rng = np.random.default_rng(0)
    model, plain = L.Sequential(L.Conv2d(2, 3, 3, rng=1), L.ReLU()), L.Sequential(L.Conv2d(2, 3, 3, rng=1), L.ReLU())
    x = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    g = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.forward(x), plain[1].forward(plain[0].forward(x)))
    conv, relu = model
    dz = relu.backward(g)                              # the mask the fused forward left
    np.testing.assert_array_equal(dz, plain[1].backward(g))
    np.testing.assert_array_equal(conv.backward(dz), plain[0].backward(dz))
    np.testing.assert_array_equal(conv.weight.grad, plain[0].weight.grad)


def test_fused_backward_keeps_the_call_order_checks():
    model = L.Sequential(L.Conv2d(1, 2, 3, rng=0), L.ReLU())
    x = np.ones((2, 1, 5, 5), np.float32)
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(np.ones((2, 2, 3, 3), np.float32))
    model.forward(x)
    with pytest.raises(ValueError, match=r"expected grad_out of shape \(2, 2, 3, 3\)"):
        model.backward(np.ones((2, 2, 3, 4), np.float32))
    with pytest.raises(TypeError, match="dtype float32"):
        model.backward(np.ones((2, 2, 3, 3), np.float64))
    model.backward(np.ones((2, 2, 3, 3), np.float32))    # the failed calls changed nothing
    with pytest.raises(RuntimeError, match="twice"):
        model.backward(np.ones((2, 2, 3, 3), np.float32))


def test_fused_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    model = L.Sequential(L.Conv2d(3, 4, 3, stride=2, padding=1, rng=2, dtype=np.float64), L.ReLU())
    conv = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(model[0].weight.data))
        conv.bias.copy_(torch.from_numpy(model[0].bias.data))
    x = rng.standard_normal((3, 3, 9, 9))
    g = rng.standard_normal((3, 4, 5, 5))
    tx = torch.from_numpy(x).requires_grad_()
    ty = torch.relu(conv(tx))
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(model.forward(x), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.backward(g), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model[0].weight.grad, conv.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model[0].bias.grad, conv.bias.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_a_subclass_with_its_own_forward_or_backward_is_not_fused():
    class Spy(L.Conv2d):
        def backward(self, grad_out):
            return super().backward(grad_out)

    assert [len(step) for step in L.Sequential(Spy(1, 1, 1), L.ReLU()).steps()] == [1, 1]
    assert [len(step) for step in L.Sequential(L.Conv2d(1, 1, 1), L.ReLU()).steps()] == [2]


def bn_net(seed, dtype):
    return L.Sequential(L.Conv2d(2, 3, 3, padding=1, bias=False, rng=seed, dtype=dtype),
                        L.BatchNorm2d(3, dtype=dtype), L.ReLU(), L.Flatten(),
                        L.Linear(3 * 5 * 5, 4, bias=False, rng=seed, dtype=dtype),
                        L.BatchNorm1d(4, affine=False, dtype=dtype), L.ReLU())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_and_relu_fused_equal_layer_by_layer(use_backend, dtype, training):
    assert [len(step) for step in bn_net(0, dtype).steps()] == [1, 2, 1, 1, 2]
    rng = np.random.default_rng(4)
    fused, plain = bn_net(2, dtype).train(training), bn_net(2, dtype).train(training)
    for model in (fused, plain):                        # non-trivial running statistics and beta
        model[1].running_mean[:] = [0.1, -0.2, 0.3]
        model[1].bias.data[:] = [0.2, -0.1, 0.0]
    x = rng.standard_normal((6, 2, 5, 5)).astype(dtype)
    g = rng.standard_normal((6, 4)).astype(dtype)
    y, dx = fused.forward(x), fused.backward(g)
    y_plain, dx_plain = one_by_one(plain, x, g)
    np.testing.assert_array_equal(y, y_plain)
    # backward sums the masked gradient in a loop of its own, which the compiler may
    # vectorize with another order of additions: equal to the last bits, not bit for bit
    rtol = {np.float32: 1e-6, np.float64: 1e-13}[dtype]
    np.testing.assert_allclose(dx, dx_plain, rtol=rtol, atol=rtol * np.abs(dx_plain).max())
    for (name, p), q in zip(fused.parameters().items(), plain.parameters().values()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=rtol, atol=rtol * np.abs(q.grad).max(), err_msg=name)
        assert np.any(p.grad != 0), name
    for (name, b), c in zip(fused.buffers().items(), plain.buffers().values()):
        np.testing.assert_array_equal(b, c, err_msg=name)


def test_a_layer_whose_forward_is_observed_is_not_fused():
    """summary() observes each layer by shadowing its forward: the pair then runs unfused."""
    conv, relu = L.Conv2d(1, 1, 1), L.ReLU()
    relu.forward = relu.forward
    assert [len(step) for step in L.Sequential(conv, relu).steps()] == [1, 1]
