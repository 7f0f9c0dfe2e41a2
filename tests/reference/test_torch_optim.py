"""Optimizers and schedules against torch.optim: 20 steps in float64, equal to 1e-10."""

import numpy as np
import pytest

from handgrad import Parameter
from handgrad import optim

torch = pytest.importorskip("torch")

STEPS = 20
SHAPES = {"0.weight": (3, 4), "0.bias": (4,), "2.weight": (2, 3, 2)}

# (handgrad class, torch class, kwargs shared by both); lr is in the kwargs
OPTIMIZER_CASES = {
    "sgd": (optim.SGD, "SGD", dict(lr=0.1)),
    "sgd-momentum": (optim.SGD, "SGD", dict(lr=0.1, momentum=0.9)),
    "sgd-momentum-dampening-wd": (optim.SGD, "SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    "sgd-nesterov-wd": (optim.SGD, "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    "adam": (optim.Adam, "Adam", dict(lr=0.01)),
    "adam-wd": (optim.Adam, "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    "adam-amsgrad": (optim.Adam, "Adam", dict(lr=0.01, amsgrad=True)),
    "adam-amsgrad-wd": (optim.Adam, "Adam", dict(lr=0.02, weight_decay=0.05, amsgrad=True)),
    "adamw": (optim.AdamW, "AdamW", dict(lr=0.01)),
    "adamw-wd-amsgrad": (optim.AdamW, "AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    "adagrad": (optim.AdaGrad, "Adagrad", dict(lr=0.1)),
    "adagrad-decay-wd-init": (optim.AdaGrad, "Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                                             initial_accumulator_value=0.5, eps=1e-6)),
    "rmsprop": (optim.RMSprop, "RMSprop", dict(lr=0.01)),
    "rmsprop-centered": (optim.RMSprop, "RMSprop", dict(lr=0.01, centered=True)),
    "rmsprop-momentum-wd": (optim.RMSprop, "RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.8, weight_decay=0.1)),
    "rmsprop-centered-momentum": (optim.RMSprop, "RMSprop", dict(lr=0.005, momentum=0.5, centered=True,
                                                                 eps=1e-6)),
}


def _run_both(ours_cls, torch_name, kwargs, *, max_norm=None, steps=STEPS, seed=0):
    """Step both optimizers with the same gradients; return the max abs parameter difference."""
    rng = np.random.default_rng(seed)
    init = {name: rng.normal(size=shape) for name, shape in SHAPES.items()}
    grads = [{name: rng.normal(size=shape) * (1 + t) for name, shape in SHAPES.items()} for t in range(steps)]

    ours = {name: Parameter(a.copy()) for name, a in init.items()}
    theirs = {name: torch.tensor(a.copy(), requires_grad=True) for name, a in init.items()}
    opt = ours_cls(ours, max_grad_norm=max_norm, **kwargs)
    topt = getattr(torch.optim, torch_name)(list(theirs.values()), **kwargs)
    worst = 0.0
    for g in grads:
        for name in SHAPES:
            ours[name].grad[...] = g[name]
            theirs[name].grad = torch.tensor(g[name])
        opt.step()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(list(theirs.values()), max_norm)
        topt.step()
        for name in SHAPES:
            diff = np.max(np.abs(ours[name].data - theirs[name].detach().numpy()))
            worst = max(worst, float(diff))
    return worst


@pytest.mark.parametrize("case", list(OPTIMIZER_CASES), ids=list(OPTIMIZER_CASES))
def test_optimizer_matches_torch(case):
    ours_cls, torch_name, kwargs = OPTIMIZER_CASES[case]
    diff = _run_both(ours_cls, torch_name, kwargs)
    print(f"{case}: max |diff| = {diff:.3e}")
    assert diff < 1e-10


@pytest.mark.parametrize("case", ["sgd-momentum", "adam", "rmsprop-centered"])
def test_clipping_in_step_matches_torch_clip_grad_norm(case):
    ours_cls, torch_name, kwargs = OPTIMIZER_CASES[case]
    diff = _run_both(ours_cls, torch_name, kwargs, max_norm=1.5)
    print(f"{case} + clipping: max |diff| = {diff:.3e}")
    assert diff < 1e-10


def test_clip_grad_norm_matches_torch():
    rng = np.random.default_rng(3)
    grads = [rng.normal(size=s) for s in SHAPES.values()]
    ps = {str(i): Parameter(np.zeros_like(g)) for i, g in enumerate(grads)}
    for p, g in zip(ps.values(), grads):
        p.grad[...] = g
    ts = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(ts, grads):
        t.grad = torch.tensor(g)
    norm = optim.clip_grad_norm(ps, 0.7)
    tnorm = torch.nn.utils.clip_grad_norm_(ts, 0.7)
    assert abs(norm - float(tnorm)) < 1e-12
    for p, t in zip(ps.values(), ts):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------- schedules
def _pair(lr=0.5):
    ours = optim.SGD({"w": Parameter(np.zeros(2))}, lr=lr, momentum=0.9)
    theirs = torch.optim.SGD([torch.zeros(2, dtype=torch.float64, requires_grad=True)], lr=lr, momentum=0.9)
    return ours, theirs


def _sequences(make_ours, make_theirs, steps=STEPS, metrics=None):
    ours_opt, torch_opt = _pair()
    ours, theirs = make_ours(ours_opt), make_theirs(torch_opt)
    a, b = [ours_opt.lr], [torch_opt.param_groups[0]["lr"]]
    for t in range(steps):
        if metrics is None:
            ours.step()
            torch_opt.step()        # keeps torch from warning about the call order
            theirs.step()
        else:
            ours.step(metrics[t])
            theirs.step(metrics[t])
        a.append(ours_opt.lr)
        b.append(torch_opt.param_groups[0]["lr"])
    assert ours.get_last_lr() == a[-1]
    return np.array(a), np.array(b)


S = torch.optim.lr_scheduler
SCHEDULE_CASES = {
    "step": (lambda o: optim.StepLR(o, step_size=3, gamma=0.5), lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    "multistep": (lambda o: optim.MultiStepLR(o, [2, 5, 11], gamma=0.3),
                  lambda o: S.MultiStepLR(o, [2, 5, 11], gamma=0.3)),
    "exponential": (lambda o: optim.ExponentialLR(o, 0.9), lambda o: S.ExponentialLR(o, 0.9)),
    "cosine": (lambda o: optim.CosineAnnealingLR(o, T_max=20), lambda o: S.CosineAnnealingLR(o, T_max=20)),
    "cosine-restart-eta_min": (lambda o: optim.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
                               lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.01)),
    "warmup": (lambda o: optim.LinearWarmup(o, 6, start_factor=0.1),
               lambda o: S.LinearLR(o, start_factor=0.1, total_iters=6)),
    "warmup-cosine": (
        lambda o: optim.LinearWarmup(o, 5, start_factor=0.2, after=optim.CosineAnnealingLR(o, T_max=15, eta_min=0.001)),
        lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.2, total_iters=5),
                                     S.CosineAnnealingLR(o, T_max=15, eta_min=0.001)], milestones=[5])),
    "warmup-step": (
        lambda o: optim.LinearWarmup(o, 4, after=optim.StepLR(o, step_size=3, gamma=0.5)),
        lambda o: S.SequentialLR(o, [S.LinearLR(o, total_iters=4), S.StepLR(o, step_size=3, gamma=0.5)],
                                 milestones=[4])),
    "onecycle-cos": (lambda o: optim.OneCycleLR(o, max_lr=2.0, total_steps=21),
                     lambda o: S.OneCycleLR(o, max_lr=2.0, total_steps=21, cycle_momentum=False)),
    "onecycle-linear-three-phase": (
        lambda o: optim.OneCycleLR(o, max_lr=1.0, total_steps=21, pct_start=0.25, anneal_strategy="linear",
                                   div_factor=10, final_div_factor=100, three_phase=True),
        lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=21, pct_start=0.25, anneal_strategy="linear",
                               div_factor=10, final_div_factor=100, three_phase=True, cycle_momentum=False)),
}


@pytest.mark.parametrize("case", list(SCHEDULE_CASES), ids=list(SCHEDULE_CASES))
def test_schedule_matches_torch(case):
    make_ours, make_theirs = SCHEDULE_CASES[case]
    a, b = _sequences(make_ours, make_theirs)
    diff = float(np.max(np.abs(a - b)))
    print(f"{case}: max |diff| = {diff:.3e}")
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


METRICS = [1.0, 0.9, 0.95, 0.95, 0.9, 0.91, 0.92, 0.5, 0.5, 0.49995, 0.6, 0.7, 0.8, 0.9,
           0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
PLATEAU_CASES = {
    "min-rel": dict(mode="min", factor=0.5, patience=1),
    "min-abs-cooldown": dict(mode="min", factor=0.3, patience=0, threshold=0.05, threshold_mode="abs", cooldown=2),
    "max-rel-min_lr": dict(mode="max", factor=0.2, patience=2, min_lr=0.01),
    "max-abs": dict(mode="max", factor=0.5, patience=1, threshold=0.1, threshold_mode="abs", cooldown=1),
}


@pytest.mark.parametrize("case", list(PLATEAU_CASES), ids=list(PLATEAU_CASES))
def test_reduce_on_plateau_matches_torch(case):
    kw = PLATEAU_CASES[case]
    a, b = _sequences(lambda o: optim.ReduceLROnPlateau(o, **kw), lambda o: S.ReduceLROnPlateau(o, **kw),
                      metrics=METRICS)
    assert len(set(a)) > 1          # the lr did change
    diff = float(np.max(np.abs(a - b)))
    print(f"plateau {case}: max |diff| = {diff:.3e}")
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
