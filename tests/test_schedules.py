"""Learning-rate schedules: hand-computed values, composition, state dicts and errors."""

import json
import math

import numpy as np
import pytest

from handgrad import Parameter
from handgrad.optim import (SGD, CosineAnnealingLR, ExponentialLR, LinearWarmup, MultiStepLR, OneCycleLR,
                            ReduceLROnPlateau, StepLR)


def _opt(lr=1.0):
    return SGD({"w": Parameter(np.zeros(2))}, lr=lr)


def _lrs(sched, steps):
    """The lr after construction and after each of ``steps`` calls of step()."""
    out = [sched.optimizer.lr]
    for _ in range(steps):
        sched.step()
        out.append(sched.optimizer.lr)
        assert sched.get_last_lr() == out[-1]
    return out


c = math.cos
HAND_CASES = [
    # 1 * 0.5 ** (t // 2)
    ("step", lambda o: StepLR(o, step_size=2, gamma=0.5), 5, [1, 1, .5, .5, .25, .25]),
    # one factor 0.1 per milestone passed (1, then 3)
    ("multistep", lambda o: MultiStepLR(o, [1, 3], gamma=0.1), 4, [1, .1, .1, .01, .01]),
    # 1 * 0.5 ** t
    ("exponential", lambda o: ExponentialLR(o, 0.5), 3, [1, .5, .25, .125]),
    # 0.1 + 0.45 (1 + cos(pi t / 4)); past T_max = 4 the cosine rises again
    ("cosine", lambda o: CosineAnnealingLR(o, T_max=4, eta_min=0.1), 6,
     [1, .1 + .45 * (1 + c(math.pi / 4)), .55, .1 + .45 * (1 - c(math.pi / 4)), .1,
      .1 + .45 * (1 - c(math.pi / 4)), .55]),
    # 1 * (0.2 + 0.8 t / 4) for t < 4, then constant
    ("warmup", lambda o: LinearWarmup(o, 4, start_factor=0.2), 5, [.2, .4, .6, .8, 1, 1]),
    # warm-up over 2 steps from 0, then StepLR counting from 0: 1, 1, .5, .5, ...
    ("warmup-step", lambda o: LinearWarmup(o, 2, start_factor=0.0, after=StepLR(o, step_size=2, gamma=0.5)), 6,
     [0, .5, 1, 1, .5, .5, .25]),
    # two phases: initial 0.1 -> max 1 until step 0.3*10 - 1 = 2, then -> 0.1/100 = 0.001 at step 9;
    # linear: phase 1 slope 0.45/step, phase 2 from 1 at step 2 down to 0.001 at step 9
    ("onecycle-linear", lambda o: OneCycleLR(o, 1.0, 10, div_factor=10, final_div_factor=100,
                                             anneal_strategy="linear"), 9,
     [.1, .55, 1] + [1 + (0.001 - 1) * k / 7 for k in range(1, 8)]),
    # cos: halfway through phase 1 (step 1 of 0..2) is the mean of 0.1 and 1
    ("onecycle-cos", lambda o: OneCycleLR(o, 1.0, 10, div_factor=10, final_div_factor=100), 2, [.1, .55, 1]),
    # three phases, pct 0.25 of 9: ends at 1.25, 2.5, 8: 0.1 -> 1 -> 0.1 -> 0.001
    ("onecycle-three-phase", lambda o: OneCycleLR(o, 1.0, 9, pct_start=0.25, div_factor=10,
                                                  final_div_factor=100, anneal_strategy="linear",
                                                  three_phase=True), 3,
     [.1, .1 + .9 / 1.25, 1 - .9 * 0.75 / 1.25, .1 - .099 * 0.5 / 5.5]),
]


@pytest.mark.parametrize("make, steps, expected", [h[1:] for h in HAND_CASES], ids=[h[0] for h in HAND_CASES])
def test_hand_computed_values(make, steps, expected):
    sched = make(_opt(1.0))
    np.testing.assert_allclose(_lrs(sched, steps), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose([sched.lr_at(t) for t in range(steps + 1)], expected, rtol=0, atol=1e-12)


def test_lr_at_is_pure():
    opt = _opt(1.0)
    sched = CosineAnnealingLR(opt, T_max=10)
    [sched.lr_at(t) for t in range(20)]
    assert sched.last_step == 0 and opt.lr == 1.0


def test_warmup_hands_over_to_after_with_its_own_counter():
    opt = _opt(0.4)
    cos = CosineAnnealingLR(opt, T_max=4)
    warm = LinearWarmup(opt, 3, start_factor=0.25, after=cos)
    lrs = _lrs(warm, 7)
    # 0.4 (0.25 + 0.75 t / 3) for t < 3, then 0.2 (1 + cos(pi k / 4)) for k = t - 3
    expected = [0.1, 0.2, 0.3] + [0.2 * (1 + math.cos(math.pi * k / 4)) for k in range(5)]
    np.testing.assert_allclose(lrs, expected, rtol=0, atol=1e-12)
    assert cos.last_step == 4 and cos.get_last_lr() == lrs[-1]


def test_reduce_on_plateau_by_hand():
    opt = _opt(1.0)
    sched = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    lrs = []
    # 1.0 best; 0.99995 is no relative improvement of 1e-4 (bad 1); 1.0 bad 2 > patience -> 0.5,
    # cooldown 1; 2.0 bad but in cooldown (reset); 2.0 bad 1; 2.0 bad 2 -> 0.25; ... -> floor 0.2
    for metric in [1.0, 0.99995, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 0.1]:
        sched.step(metric)
        lrs.append(opt.lr)
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2]
    assert sched.best == 0.1 and sched.num_bad_steps == 0


def test_reduce_on_plateau_max_mode_abs_threshold():
    opt = _opt(1.0)
    sched = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, threshold=0.05, threshold_mode="abs")
    for metric in [0.5, 0.56, 0.6]:        # +0.06 improves, +0.04 does not -> reduce once
        sched.step(metric)
    assert opt.lr == pytest.approx(0.1) and sched.best == 0.56


SAVE_CASES = {
    "step": lambda o: StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda o: MultiStepLR(o, [2, 4], gamma=0.5),
    "cosine": lambda o: CosineAnnealingLR(o, T_max=8),
    "warmup-cosine": lambda o: LinearWarmup(o, 3, after=CosineAnnealingLR(o, T_max=8)),
    "onecycle": lambda o: OneCycleLR(o, 1.0, 12),
}


@pytest.mark.parametrize("make", list(SAVE_CASES.values()), ids=list(SAVE_CASES))
def test_state_dict_round_trip(make):
    ref = make(_opt(0.3))
    expected = _lrs(ref, 10)
    first = make(_opt(0.3))
    _lrs(first, 4)
    state = json.loads(json.dumps(first.state_dict()))      # plain JSON
    opt = _opt(0.3)
    resumed = make(opt)
    resumed.load_state_dict(state)
    assert opt.lr == expected[4]
    assert [resumed.optimizer.lr] + _lrs(resumed, 6)[1:] == expected[4:]


def test_plateau_state_dict_round_trip():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85, 0.85]
    ref = ReduceLROnPlateau(_opt(), factor=0.5, patience=1)
    for m in metrics:
        ref.step(m)
    first = ReduceLROnPlateau(_opt(), factor=0.5, patience=1)
    for m in metrics[:4]:
        first.step(m)
    opt = _opt()
    resumed = ReduceLROnPlateau(opt, factor=0.5, patience=1)
    resumed.load_state_dict(json.loads(json.dumps(first.state_dict())))
    for m in metrics[4:]:
        resumed.step(m)
    # bad steps: 0.95 x2 -> 0.5; 0.95, then 0.8 best; 0.85 x2 -> 0.25; 0.85 x2 -> 0.125
    assert opt.lr == ref.optimizer.lr == 0.125
    assert resumed.state_dict() == ref.state_dict()


def test_onecycle_holds_final_lr_then_refuses_to_step():
    sched = OneCycleLR(_opt(), 1.0, 4, div_factor=10, final_div_factor=10)
    lrs = _lrs(sched, 4)
    assert lrs[3] == lrs[4] == pytest.approx(0.01)
    with pytest.raises(ValueError, match=r"OneCycleLR.step\(\) called 5 times, but total_steps=4"):
        sched.step()


@pytest.mark.parametrize("make, error, match", [
    (lambda o: StepLR(None, 2), TypeError, r"StepLR expected an Optimizer, got NoneType"),
    (lambda o: StepLR(o, 0), ValueError, r"StepLR expected step_size >= 1, got 0"),
    (lambda o: StepLR(o, 2.5), TypeError, r"StepLR expected step_size to be an int"),
    (lambda o: StepLR(o, 2, gamma=0), ValueError, r"StepLR expected gamma in \(0, inf\)"),
    (lambda o: MultiStepLR(o, [3, 2]), ValueError, r"strictly increasing milestones, got \(3, 2\)"),
    (lambda o: MultiStepLR(o, [0]), ValueError, r"milestones to be ints >= 1"),
    (lambda o: ExponentialLR(o, -0.5), ValueError, r"ExponentialLR expected gamma in \(0, inf\)"),
    (lambda o: CosineAnnealingLR(o, 0), ValueError, r"CosineAnnealingLR expected T_max >= 1"),
    (lambda o: CosineAnnealingLR(o, 5, eta_min=-1), ValueError, r"eta_min in \[0, inf\)"),
    (lambda o: LinearWarmup(o, 0), ValueError, r"LinearWarmup expected warmup_steps >= 1"),
    (lambda o: LinearWarmup(o, 3, start_factor=1.5), ValueError, r"start_factor in \[0, 1\]"),
    (lambda o: LinearWarmup(o, 3, after=ReduceLROnPlateau(o)), TypeError,
     r"after to be a closed-form Schedule.*got ReduceLROnPlateau"),
    (lambda o: LinearWarmup(o, 3, after=StepLR(_opt(), 2)), ValueError, r"after to drive the same optimizer"),
    (lambda o: ReduceLROnPlateau(o, mode="up"), ValueError, r"mode 'min' or 'max', got 'up'"),
    (lambda o: ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, r"threshold_mode 'rel' or 'abs'"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, r"factor in \[0, 1\), got 1.0"),
    (lambda o: ReduceLROnPlateau(o, patience=-1), ValueError, r"patience >= 0, got -1"),
    (lambda o: ReduceLROnPlateau(o).step("low"), TypeError, r"metric to be a number, got str"),
    (lambda o: OneCycleLR(o, 1.0, 1), ValueError, r"total_steps >= 2, got 1"),
    (lambda o: OneCycleLR(o, 1.0, 10, pct_start=1.0), ValueError, r"pct_start in \(0, 1\)"),
    (lambda o: OneCycleLR(o, 1.0, 10, anneal_strategy="exp"), ValueError,
     r"anneal_strategy in \('cos', 'linear'\), got 'exp'"),
    (lambda o: OneCycleLR(o, 0.0, 10), ValueError, r"max_lr in \(0, inf\)"),
    (lambda o: StepLR(o, 2).load_state_dict(ExponentialLR(o, 0.5).state_dict()), ValueError,
     r"StepLR.load_state_dict received the state of a ExponentialLR"),
], ids=["optimizer-type", "step_size", "step_size-type", "gamma", "milestones-order", "milestones-value",
        "exp-gamma", "T_max", "eta_min", "warmup_steps", "start_factor", "after-plateau", "after-other-opt",
        "mode", "threshold_mode", "factor", "patience", "metric-type", "total_steps", "pct_start",
        "anneal_strategy", "max_lr", "load-wrong-type"])
def test_validation_errors(make, error, match):
    with pytest.raises(error, match=match):
        make(_opt())


def test_repr():
    assert repr(StepLR(_opt(0.5), 3, gamma=0.5)) == "StepLR(step_size=3, gamma=0.5, last_step=0, lr=0.5)"
