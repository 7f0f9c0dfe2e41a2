"""Optimizers: hand-computed steps, name-keyed state, dtypes, clipping and validation."""

import json

import numpy as np
import pytest

from handgrad import Linear, Parameter, ReLU, Sequential
from handgrad.optim import SGD, AdaGrad, Adam, AdamW, RMSprop, clip_grad_norm, join_state, split_state

W0 = [1.0, -2.0]
G = [0.5, 1.0]


def _run(cls, grads, **kwargs):
    """Apply one step per gradient in ``grads`` to w = W0; return w."""
    w = Parameter(np.array(W0))
    opt = cls({"w": w}, **kwargs)
    for g in grads:
        w.grad[...] = g
        opt.step()
    return w.data


# Every expected value below is worked out by hand from the update rule in the docstring.
HAND_CASES = [
    # plain: w - 0.1 g = [1 - 0.05, -2 - 0.1]
    ("sgd", SGD, [G], dict(lr=0.1), [0.95, -2.1]),
    # g1 = G + 0.1 w = [0.6, 0.8] = b1 -> w1 = [0.94, -2.08];
    # g2 = G + 0.1 w1 = [0.594, 0.792], b2 = 0.9 b1 + g2 = [1.134, 1.512] -> w2 = w1 - 0.1 b2
    ("sgd-momentum-wd", SGD, [G, G], dict(lr=0.1, momentum=0.9, weight_decay=0.1), [0.8266, -2.2312]),
    # b1 = G, w1 = [0.95, -2.1]; b2 = 0.9 G + (1 - 0.5) G = [0.7, 1.4] -> w2 = w1 - 0.1 b2
    ("sgd-dampening", SGD, [G, G], dict(lr=0.1, momentum=0.9, dampening=0.5), [0.88, -2.24]),
    # b1 = G, step direction G + 0.9 b1 = [0.95, 1.9] -> w1 = w0 - 0.1 [0.95, 1.9]
    ("sgd-nesterov", SGD, [G], dict(lr=0.1, momentum=0.9, nesterov=True), [0.905, -2.19]),
    # betas .5: m1 = [.25, .5], v1 = [.125, .5]; m^ = [.5, 1], sqrt v^ = [.5, 1] -> w1 = w0 - .1 [1, 1]
    # g2 = [-.5, 1]: m2 = [-.125, .75], v2 = [.1875, .75]; /0.75: m^ = [-1/6, 1], sqrt v^ = [.5, 1]
    # -> w2 = w1 - .1 [-1/3, 1]
    ("adam", Adam, [G, [-0.5, 1.0]], dict(lr=0.1, betas=(0.5, 0.5), eps=1e-300), [0.9 + 0.1 / 3, -2.2]),
    # L2: g = G + 1.0 w0 = [1.5, -1.0]; the first Adam step is lr * sign(g)
    ("adam-wd", Adam, [G], dict(lr=0.1, betas=(0.5, 0.5), eps=1e-300, weight_decay=1.0), [0.9, -1.9]),
    # g2 = [.1, 0]: v2 = [.0675, .25] < v1 = [.125, .5], so v_max = v1 and v^ = v1 / .75 = [1/6, 2/3];
    # m2 = [.175, .25], m^ = [.175, .25] / .75 -> w2 = w1 - .1 m^ / sqrt(v^)
    ("adam-amsgrad", Adam, [G, [0.1, 0.0]], dict(lr=0.1, betas=(0.5, 0.5), eps=1e-300, amsgrad=True),
     [0.9 - 0.1 * (0.175 / 0.75) / np.sqrt(1 / 6), -2.1 - 0.1 * (0.25 / 0.75) / np.sqrt(2 / 3)]),
    # decoupled: w0 (1 - 0.1 * 0.5) = [.95, -1.9], then - lr * sign(G)
    ("adamw", AdamW, [G], dict(lr=0.1, betas=(0.5, 0.5), eps=1e-300, weight_decay=0.5), [0.85, -2.0]),
    # s1 = G^2 -> w1 = w0 - .1 sign(G); s2 = 2 G^2 -> w2 = w1 - .1 / sqrt(2)
    ("adagrad", AdaGrad, [G, G], dict(lr=0.1, eps=1e-300), [0.9 - 0.1 / np.sqrt(2), -2.1 - 0.1 / np.sqrt(2)]),
    # same, but the second step uses lr / (1 + 1 * lr_decay) = 0.05
    ("adagrad-lr_decay", AdaGrad, [G, G], dict(lr=0.1, lr_decay=1.0, eps=1e-300),
     [0.9 - 0.05 / np.sqrt(2), -2.1 - 0.05 / np.sqrt(2)]),
    # s1 = 0.75 + G^2 = [1, 1.75] -> w1 = w0 - .1 [.5 / 1, 1 / sqrt(1.75)]
    ("adagrad-initial", AdaGrad, [G], dict(lr=0.1, eps=1e-300, initial_accumulator_value=0.75),
     [0.95, -2.0 - 0.1 / np.sqrt(1.75)]),
    # v1 = .25 G^2 = [.0625, .25], sqrt = [.25, .5], g / d = [2, 2] -> w1 = w0 - .01 [2, 2]
    ("rmsprop", RMSprop, [G], dict(lr=0.01, alpha=0.75, eps=1e-300), [0.98, -2.02]),
    # a1 = .25 G = [.125, .25]; v1 - a1^2 = [.046875, .1875] = (3/64) [1, 4]; g / d = 4 / sqrt(3)
    ("rmsprop-centered", RMSprop, [G], dict(lr=0.01, alpha=0.75, eps=1e-300, centered=True),
     [1.0 - 0.04 / np.sqrt(3), -2.0 - 0.04 / np.sqrt(3)]),
    # b1 = [2, 2] -> w1 = [.98, -2.02]; v2 = .75 v1 + .25 G^2 = (7/64) [1, 4], g / d = 4 / sqrt(7);
    # b2 = .5 * 2 + 4 / sqrt(7) -> w2 = w1 - .01 b2
    ("rmsprop-momentum", RMSprop, [G, G], dict(lr=0.01, alpha=0.75, eps=1e-300, momentum=0.5),
     [0.98 - 0.01 * (1 + 4 / np.sqrt(7)), -2.02 - 0.01 * (1 + 4 / np.sqrt(7))]),
]


@pytest.mark.parametrize("cls, grads, kwargs, expected", [c[1:] for c in HAND_CASES],
                         ids=[c[0] for c in HAND_CASES])
def test_hand_computed_steps(cls, grads, kwargs, expected):
    np.testing.assert_allclose(_run(cls, grads, **kwargs), expected, rtol=0, atol=1e-12)


ALL = [
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    (Adam, dict(lr=0.01, weight_decay=1e-3, amsgrad=True)),
    (AdamW, dict(lr=0.01)),
    (AdaGrad, dict(lr=0.05, lr_decay=0.01)),
    (RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
]
ALL_IDS = [c.__name__ for c, _ in ALL]


def _model(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return Sequential(Linear(3, 4, rng=rng, dtype=dtype), ReLU(), Linear(4, 2, rng=rng, dtype=dtype))


def _fake_grads(model, steps, seed=1):
    rng = np.random.default_rng(seed)
    return [{n: rng.normal(size=p.shape) for n, p in model.parameters().items()} for _ in range(steps)]


def _train(opt, model, grads):
    for g in grads:
        opt.zero_grad()
        for name, p in model.parameters().items():
            p.grad += g[name].astype(p.dtype)
        opt.step()


@pytest.mark.parametrize("cls, kwargs", ALL, ids=ALL_IDS)
def test_state_dict_round_trip_continues_like_uninterrupted(cls, kwargs, tmp_path):
    grads = _fake_grads(_model(), 10)
    # uninterrupted: 10 steps
    ref = _model()
    _train(cls(ref.parameters(), **kwargs), ref, grads)
    # interrupted after 5, saved through .npz + JSON, resumed in a fresh optimizer
    model = _model()
    opt = cls(model.parameters(), **kwargs)
    _train(opt, model, grads[:5])
    meta, arrays = split_state(opt.state_dict(), prefix="optimizer")
    np.savez(tmp_path / "opt.npz", **arrays)
    (tmp_path / "opt.json").write_text(json.dumps(meta))
    resumed = _model()
    resumed.load_state_dict(model.state_dict())
    opt2 = cls(resumed.parameters(), **kwargs)
    with np.load(tmp_path / "opt.npz") as archive:
        opt2.load_state_dict(join_state(json.loads((tmp_path / "opt.json").read_text()), dict(archive)))
    assert opt2.step_count == 5
    _train(opt2, resumed, grads[5:])
    for name, p in ref.parameters().items():
        np.testing.assert_array_equal(resumed.parameters()[name].data, p.data)


def test_state_is_keyed_by_parameter_names():
    model = _model()
    opt = Adam(model.parameters(), lr=0.1)
    _train(opt, model, _fake_grads(model, 1))
    state = opt.state_dict()
    assert list(state["state"]) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert set(state["state"]["0.weight"]) == {"exp_avg", "exp_avg_sq"}
    assert state["hyperparameters"] == {"lr": 0.1, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0,
                                        "amsgrad": False, "max_grad_norm": None}
    json.dumps(split_state(state)[0])            # everything but the arrays is JSON
    # the same names in another order load fine
    other = _model()
    opt2 = Adam(list(reversed(list(other.parameters().items()))), lr=0.5)
    opt2.load_state_dict(state)
    assert opt2.lr == 0.1
    np.testing.assert_array_equal(opt2.state["2.bias"]["exp_avg"], opt.state["2.bias"]["exp_avg"])


def test_zero_grad_resets_every_gradient():
    model = _model()
    for p in model.parameters().values():
        p.grad += 1.0
    SGD(model.parameters(), lr=0.1).zero_grad()
    assert all(not p.grad.any() for p in model.parameters().values())


@pytest.mark.parametrize("cls, kwargs", ALL, ids=ALL_IDS)
def test_float32_parameters_and_state_stay_float32(cls, kwargs):
    model = _model(np.float32)
    opt = cls(model.parameters(), **kwargs)
    _train(opt, model, _fake_grads(model, 3))
    for name, p in model.parameters().items():
        assert p.data.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[name].values())


def test_update_is_in_place():
    w = Parameter(np.array(W0))
    data = w.data
    opt = Adam({"w": w}, lr=0.1)
    w.grad[...] = G
    opt.step()
    assert w.data is data and w.grad.tolist() == G       # data updated in place, grad untouched


def test_clip_grad_norm_scales_to_max_norm():
    a, b = Parameter(np.zeros(2)), Parameter(np.zeros(1))
    a.grad[...] = [3.0, 4.0]
    b.grad[...] = [12.0]                                  # global norm sqrt(9 + 16 + 144) = 13
    total = clip_grad_norm({"a": a, "b": b}, 6.5)
    assert total == 13.0
    factor = 6.5 / (13.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3 * factor, 4 * factor], rtol=1e-15)
    np.testing.assert_allclose(b.grad, [12 * factor], rtol=1e-15)
    assert clip_grad_norm([a, b], 100.0) == pytest.approx(6.5, rel=1e-6)   # below the limit: unchanged
    np.testing.assert_allclose(b.grad, [12 * factor], rtol=1e-15)


def test_max_grad_norm_clips_before_the_step():
    w = Parameter(np.array([0.0, 0.0]))
    opt = SGD({"w": w}, lr=1.0, max_grad_norm=1.0)
    w.grad[...] = [6.0, 8.0]
    opt.step()
    assert opt.last_grad_norm == 10.0
    np.testing.assert_allclose(w.data, [-0.6, -0.8], rtol=1e-6)


@pytest.mark.parametrize("make, error, match", [
    (lambda p: SGD([np.zeros(2)], lr=0.1), TypeError, r"\(name, Parameter\) pairs.*model\.parameters\(\)"),
    (lambda p: SGD([p], lr=0.1), TypeError, r"\(name, Parameter\) pairs"),
    (lambda p: SGD(np.zeros(2), lr=0.1), TypeError, r"got a single ndarray"),
    (lambda p: SGD(p, lr=0.1), TypeError, r"got a single Parameter"),
    (lambda p: SGD({}, lr=0.1), ValueError, r"empty parameter list"),
    (lambda p: SGD([("a", p), ("a", Parameter(np.zeros(1)))], lr=0.1), ValueError, r"name 'a' twice"),
    (lambda p: SGD({"a": p, "b": p}, lr=0.1), ValueError, r"same Parameter as 'a' and 'b'"),
    (lambda p: SGD({"w": p}, lr=-0.1), ValueError, r"SGD expected lr in \[0, inf\), got -0.1"),
    (lambda p: SGD({"w": p}, lr="0.1"), TypeError, r"SGD expected lr to be a number, got str"),
    (lambda p: SGD({"w": p}, lr=0.1, momentum=-1), ValueError, r"momentum in \[0, 1\)"),
    (lambda p: SGD({"w": p}, lr=0.1, nesterov=True), ValueError, r"nesterov=True requires momentum > 0"),
    (lambda p: SGD({"w": p}, lr=0.1, nesterov=1), TypeError, r"nesterov to be a bool"),
    (lambda p: SGD({"w": p}, lr=0.1, max_grad_norm=0), ValueError, r"max_grad_norm in \(0, inf\)"),
    (lambda p: Adam({"w": p}, betas=(1.0, 0.9)), ValueError, r"Adam expected betas\[0\] in \[0, 1\), got 1.0"),
    (lambda p: AdamW({"w": p}, betas=(0.9, -0.1)), ValueError, r"AdamW expected betas\[1\] in \[0, 1\)"),
    (lambda p: Adam({"w": p}, betas=0.9), TypeError, r"betas to be a pair"),
    (lambda p: Adam({"w": p}, eps=-1e-8), ValueError, r"eps in \(0, inf\)"),
    (lambda p: Adam({"w": p}, weight_decay=-1), ValueError, r"weight_decay in \[0, inf\)"),
    (lambda p: AdaGrad({"w": p}, lr_decay=-1), ValueError, r"AdaGrad expected lr_decay in \[0, inf\)"),
    (lambda p: RMSprop({"w": p}, alpha=1.5), ValueError, r"RMSprop expected alpha in \[0, 1\], got 1.5"),
    (lambda p: RMSprop({"w": p}, centered="yes"), TypeError, r"centered to be a bool"),
], ids=["array-list", "unnamed-parameters", "bare-array", "bare-parameter", "empty", "duplicate-name",
        "shared-parameter", "negative-lr", "lr-type", "negative-momentum", "nesterov-no-momentum",
        "nesterov-type", "max_grad_norm", "beta1", "beta2", "betas-type", "eps", "weight_decay",
        "lr_decay", "alpha", "centered-type"])
def test_validation_errors(make, error, match):
    with pytest.raises(error, match=match):
        make(Parameter(np.zeros(2)))


def test_lr_assignment_is_validated():
    opt = SGD({"w": Parameter(np.zeros(2))}, lr=0.1)
    opt.lr = 0.5
    assert opt.lr == 0.5
    with pytest.raises(ValueError, match=r"lr in \[0, inf\)"):
        opt.lr = -1.0


def test_clip_grad_norm_errors():
    with pytest.raises(ValueError, match=r"clip_grad_norm expected max_norm in \(0, inf\)"):
        clip_grad_norm({"w": Parameter(np.zeros(1))}, 0.0)
    with pytest.raises(TypeError, match=r"clip_grad_norm expected Parameters, got ndarray"):
        clip_grad_norm([np.zeros(1)], 1.0)


def test_load_state_dict_errors():
    w = Parameter(np.zeros(2))
    opt = SGD({"w": w}, lr=0.1, momentum=0.9)
    opt.step()
    state = opt.state_dict()
    with pytest.raises(ValueError, match=r"Adam.load_state_dict received the state of a SGD optimizer"):
        Adam({"w": w}).load_state_dict(state)
    with pytest.raises(ValueError, match=r"missing \['v'\], unexpected \['w'\]"):
        SGD({"v": w}, lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match=r"'w'/'momentum_buffer' expected shape \(3,\), got \(2,\)"):
        SGD({"w": Parameter(np.zeros(3))}, lr=0.1).load_state_dict(state)
    bad = opt.state_dict()
    bad["hyperparameters"]["momentum"] = -1.0
    other = SGD({"w": w}, lr=0.3)
    with pytest.raises(ValueError, match=r"momentum in \[0, 1\)"):
        other.load_state_dict(bad)
    assert other.lr == 0.3 and other.momentum == 0.0 and other.step_count == 0   # left as it was


def test_repr_names_hyperparameters():
    opt = SGD({"w": Parameter(np.zeros(2))}, lr=0.1, momentum=0.9)
    assert repr(opt) == ("SGD(1 parameters, lr=0.1, momentum=0.9, dampening=0.0, nesterov=False, "
                         "weight_decay=0.0, max_grad_norm=None)")
