"""A layer instance appears once in a model: a second use is refused when the model is built.

A layer keeps the cache of one forward pass; used twice, its second forward would overwrite
what the first use's backward needs (``gradcheck(Sequential(lin, Tanh(), lin), x)`` used to
fail with a relative error of 0.95).
"""

import copy

import numpy as np
import pytest

import handgrad as hg
from handgrad.losses import MSELoss
from handgrad.optim import SGD
from handgrad.training import fit

F64 = dict(dtype=np.float64)


def test_sequential_refuses_a_layer_used_twice():
    lin = hg.Linear(3, 3, rng=0, **F64)
    with pytest.raises(ValueError, match=r"Sequential: the same Linear\(in_features=3, out_features=3, "
                                         r"bias=True\) instance is used twice in one model, at '0' and '2'"):
        hg.Sequential(lin, hg.Tanh(), lin)


def test_nested_and_stateless_layers_are_refused_too():
    relu = hg.ReLU()                                  # its cache is the mask of one forward
    with pytest.raises(ValueError, match=r"ReLU\(\) instance is used twice in one model, at '0.1' and '1'"):
        hg.Sequential(hg.Sequential(hg.Linear(2, 2, rng=0), relu), relu)
    block = hg.Sequential(hg.Linear(2, 2, rng=0), hg.ReLU())
    with pytest.raises(ValueError, match=r"Sequential\(.*\) instance is used twice in one model, at '0' and '1'"):
        hg.Sequential(block, block)


def test_append_refuses_and_leaves_the_model_as_it_was():
    lin = hg.Linear(2, 2, rng=0)
    net = hg.Sequential(lin, hg.ReLU())
    with pytest.raises(ValueError, match=r"Sequential.append: the same Linear.* at '0' and '2'"):
        net.append(lin)
    assert len(net) == 2


class _Twice(hg.Layer):
    """A hand-written container that runs one child twice (what the check exists for)."""

    def __init__(self, layer):
        super().__init__()
        self.first, self.second = layer, layer

    def forward(self, x):
        return self.second.forward(self.first.forward(x))

    def backward(self, grad_out):
        return self.first.backward(self.second.backward(grad_out))


def test_fit_refuses_a_model_that_holds_a_layer_twice():
    lin = hg.Linear(2, 2, rng=0, **F64)
    model = _Twice(lin)
    x = np.random.default_rng(0).normal(size=(8, 2))
    with pytest.raises(ValueError, match=r"fit: the same Linear\(.*\) instance is used twice in one model, "
                                         r"at 'first' and 'second'"):
        fit(model, MSELoss(), SGD(lin.parameters(), lr=0.1), (x, x), epochs=1, batch_size=4, verbose=False)


def test_a_copy_per_use_is_correct():
    # the fix the message suggests: the same starting weights, separate caches and gradients
    lin = hg.Linear(3, 3, rng=0, **F64)
    net = hg.Sequential(lin, hg.Tanh(), copy.deepcopy(lin))
    x = np.random.default_rng(1).normal(size=(4, 3))
    hg.gradcheck(net, x, rng=2)


def test_two_backward_passes_accumulate():
    # backward adds into .grad: two batches before one step give the sum of their gradients
    lin = hg.Linear(3, 2, rng=0, **F64)
    rng = np.random.default_rng(3)
    xs, gs = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 2))
    for x, g in zip(xs, gs):
        lin.forward(x)
        lin.backward(g)
    np.testing.assert_allclose(lin.weight.grad, gs[0].T @ xs[0] + gs[1].T @ xs[1], rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad, gs.sum(axis=(0, 1)), rtol=1e-12)
