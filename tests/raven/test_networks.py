"""The solvers' networks: the multi-head loss and the answers-only set scorer, gradient-checked."""

import numpy as np
import pytest

import handgrad.layers as L
from handgrad import gradcheck, gradcheck_loss
from handgrad.raven.networks import (ENCODER_HEADS, PAIR_HEADS, MultiHeadLoss, SetScorer, pair_network,
                                     panel_encoder, set_scorer)


def _targets(rng, N, heads, regression):
    cls = np.stack([rng.integers(0, h, N) for h in heads], 1).astype(np.float64)
    return np.concatenate([cls, rng.standard_normal((N, regression))], 1)


@pytest.mark.parametrize("heads, regression", [((3, 5), 0), ((2, 4, 3), 2)], ids=["classes", "classes+regression"])
def test_multi_head_loss_gradient(heads, regression):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, sum(heads) + regression))
    gradcheck_loss(MultiHeadLoss(heads, regression, weight=0.7), z, _targets(rng, 5, heads, regression))


def test_multi_head_loss_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    heads, R = (4, 3), 2
    z = rng.standard_normal((6, sum(heads) + R))
    t = _targets(rng, 6, heads, R)
    loss = MultiHeadLoss(heads, R, weight=0.5)
    value = loss.forward(z, t)
    grad = loss.backward()
    zt = torch.tensor(z, requires_grad=True)
    ref = (torch.nn.functional.cross_entropy(zt[:, :4], torch.tensor(t[:, 0]).long())
           + torch.nn.functional.cross_entropy(zt[:, 4:7], torch.tensor(t[:, 1]).long())
           + 0.5 * torch.nn.functional.mse_loss(zt[:, 7:], torch.tensor(t[:, 2:])))
    ref.backward()
    np.testing.assert_allclose(value, ref.item(), rtol=1e-10)
    np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_multi_head_loss_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"expected prediction \(N, 9\)"):
        MultiHeadLoss((4, 3), 2).forward(np.zeros((2, 8)), np.zeros((2, 4)))


def test_set_scorer_gradient_and_shape():
    rng = np.random.default_rng(2)
    encoder = L.Sequential(L.Flatten(), L.Linear(12, 5, rng=rng, dtype=np.float64), L.Tanh())
    head = L.Sequential(L.Linear(10, 4, rng=rng, dtype=np.float64), L.Tanh(), L.Linear(4, 1, rng=rng, dtype=np.float64))
    net = SetScorer(encoder, head)
    x = rng.standard_normal((3, 4, 1, 3, 4))
    assert net(x).shape == (3, 4)
    gradcheck(net, x, rng=3)
    assert set(net.parameters()) == {"encoder.1.weight", "encoder.1.bias", "head.0.weight", "head.0.bias",
                                     "head.2.weight", "head.2.bias"}
    with pytest.raises(ValueError, match=r"\(N, n, C, H, W\)"):
        net(np.zeros((3, 1, 3, 4)))


def test_set_scorer_sees_the_other_choices():
    """Changing one choice changes the others' scores (through the mean of the features)."""
    net = set_scorer(16, rng=0)
    net.eval()
    x = np.random.default_rng(0).random((1, 3, 1, 16, 16)).astype(np.float32)
    y = x.copy()
    y[0, 2] = 0
    assert not np.allclose(net(x)[0, :2], net(y)[0, :2])


def test_network_output_shapes():
    x = np.zeros((2, 1, 40, 40), np.float32)
    assert panel_encoder(40, rng=0)(x).shape == (2, sum(ENCODER_HEADS))
    assert pair_network(40, rng=0)(np.zeros((2, 1, 40, 80), np.float32)).shape == (2, sum(PAIR_HEADS) + 2)
