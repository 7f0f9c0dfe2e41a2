"""Layers and losses against PyTorch in float64, with the same weights and inputs."""

import numpy as np
import pytest

import handgrad
from handgrad import layers as L
from handgrad import losses as Ls

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-10, 1e-12


def t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=RTOL, atol=ATOL)


def compare_layer(ours, theirs, x, rng, params=()):
    """Forward, input gradient and parameter gradients for a random upstream gradient."""
    y = ours(x)
    g = rng.standard_normal(y.shape)
    ours.zero_grad()
    gx = ours.backward(g)
    xt = t(x, grad=True)
    yt = theirs(xt)
    yt.backward(t(g))
    close(y, yt)
    close(gx, xt.grad)
    for name, tparam in params:
        close(ours.parameters()[name].grad, tparam.grad)


def test_linear():
    rng = np.random.default_rng(0)
    ours = L.Linear(5, 3, rng=rng, dtype=np.float64)
    theirs = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        theirs.weight.copy_(t(ours.weight.data))
        theirs.bias.copy_(t(ours.bias.data))
    compare_layer(ours, theirs, rng.standard_normal((4, 2, 5)), rng,
                  [("weight", theirs.weight), ("bias", theirs.bias)])


@pytest.mark.parametrize("ours, theirs", [
    (L.ReLU(), torch.nn.ReLU()),
    (L.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (L.Sigmoid(), torch.nn.Sigmoid()),
    (L.Tanh(), torch.nn.Tanh()),
    (L.Softmax(), torch.nn.Softmax(dim=-1)),
    (L.Softmax(axis=1), torch.nn.Softmax(dim=1)),
    (L.Flatten(), torch.nn.Flatten()),
    (L.Flatten(2), torch.nn.Flatten(2)),
], ids=["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Softmax-axis1", "Flatten", "Flatten-2"])
def test_parameter_free_layers(ours, theirs):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 2, 5)) * 3
    x += np.sign(x) * 0.05
    compare_layer(ours, theirs, x, rng)


def test_softmax_huge_inputs():
    x = np.array([[1e4, -1e4, 0.0, 9999.5]])
    close(L.Softmax()(x), torch.softmax(t(x), dim=-1))


@pytest.mark.parametrize("ours_cls, theirs_cls, shape", [
    (L.BatchNorm1d, torch.nn.BatchNorm1d, (8, 4)),
    (L.BatchNorm1d, torch.nn.BatchNorm1d, (5, 4, 6)),
    (L.BatchNorm2d, torch.nn.BatchNorm2d, (3, 4, 5, 6)),
], ids=["1d-NC", "1d-NCL", "2d"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_batchnorm_train_then_eval(ours_cls, theirs_cls, shape, affine):
    rng = np.random.default_rng(2)
    C = shape[1]
    ours = ours_cls(C, eps=1e-4, momentum=0.2, affine=affine, dtype=np.float64)
    theirs = theirs_cls(C, eps=1e-4, momentum=0.2, affine=affine).double()
    params = []
    if affine:
        gamma, beta = rng.uniform(0.5, 1.5, C), rng.standard_normal(C)
        ours.weight.data[...], ours.bias.data[...] = gamma, beta
        with torch.no_grad():
            theirs.weight.copy_(t(gamma))
            theirs.bias.copy_(t(beta))
        params = [("weight", theirs.weight), ("bias", theirs.bias)]
    for _ in range(3):                         # a few training steps: running statistics
        if affine:
            theirs.weight.grad = theirs.bias.grad = None
        compare_layer(ours, theirs, rng.normal(1.5, 2.0, shape), rng, params)
    close(ours.running_mean, theirs.running_mean)
    close(ours.running_var, theirs.running_var)
    ours.eval()
    theirs.eval()
    if affine:
        theirs.weight.grad = theirs.bias.grad = None
    compare_layer(ours, theirs, rng.normal(1.5, 2.0, shape), rng, params)


def test_dropout_eval_identity_and_train_formula():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 7))
    ours = L.Dropout(0.3, rng=0).eval()
    theirs = torch.nn.Dropout(0.3).eval()
    close(ours(x), theirs(t(x)))
    # training: torch's dropout with our mask is y = x * mask / (1 - p); apply the same mask
    ours.train()
    y = ours(x)
    mask = (y != 0).astype(np.float64)
    g = rng.standard_normal(x.shape)
    xt = t(x, grad=True)
    yt = xt * t(mask) / (1 - 0.3)
    yt.backward(t(g))
    close(y, yt)
    close(ours.backward(g), xt.grad)


def loss_pair(ours, theirs, prediction, target, torch_target):
    value = ours(prediction, target)
    grad = ours.backward()
    pt = t(prediction, grad=True)
    lt = theirs(pt, torch_target)
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=RTOL, abs=ATOL)
    close(grad, pt.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.35], ids=["nosmooth", "smooth0.1", "smooth0.35"])
@pytest.mark.parametrize("target_kind", ["labels", "probs"])
def test_cross_entropy(reduction, smoothing, target_kind):
    rng = np.random.default_rng(4)
    z = rng.standard_normal((6, 5)) * 3
    if target_kind == "labels":
        y = rng.integers(0, 5, 6)
        ty = torch.tensor(y)
    else:
        y = rng.dirichlet(np.ones(5), 6)
        ty = t(y)
    loss_pair(Ls.CrossEntropyLoss(reduction, label_smoothing=smoothing),
              torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing), z, y, ty)


def test_cross_entropy_extreme_logits():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
    y = np.array([1, 0])
    loss_pair(Ls.CrossEntropyLoss(label_smoothing=0.1),
              torch.nn.CrossEntropyLoss(label_smoothing=0.1), z, y, torch.tensor(y))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_categorical_cross_entropy_is_nll_of_log(reduction):
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.ones(4), 5)
    y = rng.integers(0, 4, 5)
    loss_pair(Ls.CategoricalCrossEntropy(reduction), lambda pt, ty: torch.nn.functional.nll_loss(
        torch.log(pt), ty, reduction=reduction), p, y, torch.tensor(y))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse(reduction):
    rng = np.random.default_rng(6)
    p, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss_pair(Ls.MSELoss(reduction), torch.nn.MSELoss(reduction=reduction), p, y, t(y))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits(reduction):
    rng = np.random.default_rng(7)
    z = rng.standard_normal((5, 3)) * 4
    z[0, :2] = [1e4, -1e4]
    y = rng.uniform(0, 1, (5, 3))
    loss_pair(Ls.BCEWithLogitsLoss(reduction), torch.nn.BCEWithLogitsLoss(reduction=reduction), z, y, t(y))


def test_model_with_every_layer():
    """A small net chaining the layers: the whole backward pass against torch."""
    rng = np.random.default_rng(8)
    ours = handgrad.Sequential(L.BatchNorm2d(2, dtype=np.float64), L.Flatten(),
                               L.Linear(18, 6, rng=rng, dtype=np.float64), L.Tanh(),
                               L.Linear(6, 4, rng=rng, dtype=np.float64))
    theirs = torch.nn.Sequential(torch.nn.BatchNorm2d(2), torch.nn.Flatten(), torch.nn.Linear(18, 6),
                                 torch.nn.Tanh(), torch.nn.Linear(6, 4)).double()
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(t(ours.parameters()[name].data))
    x, y = rng.standard_normal((5, 2, 3, 3)), rng.integers(0, 4, 5)
    loss = Ls.CrossEntropyLoss()
    value = loss(ours(x), y)
    ours.zero_grad()
    ours.backward(loss.backward())
    lt = torch.nn.functional.cross_entropy(theirs(t(x)), torch.tensor(y))
    lt.backward()
    assert value == pytest.approx(lt.item(), rel=RTOL)
    for name, p in theirs.named_parameters():
        close(ours.parameters()[name].grad, p.grad)
