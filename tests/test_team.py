"""The team of threads that shares an operation's blocks (handgrad/kernels/numba/_team.py,
_spin.py): every block runs exactly once, a late thread never takes a block of the next
operation, errors reach the caller, helpers that fell asleep come back, operations run on
whichever of the team and the main thread alone was faster (_pace.py), and every layer
gives the same bits on one thread or several."""

import os
import threading
import time

import numpy as np
import pytest

from handgrad import backend
from handgrad.functional.pool_geometry import pool_geometry

pytest.importorskip("numba")
from handgrad.kernels.numba import _blocks, _cores, _spin, _team  # noqa: E402


def test_a_block_is_claimed_once_and_only_by_its_own_operation():
    ctl = np.zeros(_spin.CTL_SIZE, np.int64)
    _spin.publish(ctl, 7)
    assert [_spin.claim(ctl, 7, 3) for _ in range(4)] == [0, 1, 2, -1]
    assert _spin.claim(ctl, 6, 3) == -1                          # a thread late from operation 6
    _spin.publish(ctl, 8)
    assert _spin.claim(ctl, 7, 3) == -1                          # ... or 7: nothing of 8's
    assert _spin.claim(ctl, 8, 3) == 0
    assert _spin.await_next(ctl, 8, 1000) == 8                   # nothing newer came
    assert _spin.await_next(ctl, 5, 1000) == 8


def test_waiting_for_blocks_is_bounded_and_counts_them():
    ctl = np.zeros(_spin.CTL_SIZE, np.int64)
    assert not _spin.await_done(ctl, 2, 1000)
    _spin.block_done(ctl)
    _spin.block_done(ctl)
    assert _spin.await_done(ctl, 2, 0)


@pytest.mark.parametrize("threads", [2, 3])
def test_every_block_runs_once_on_the_team(threads):
    team = _team.team(threads)
    for blocks in (1, 2, 7, 64):
        hits = np.zeros(blocks, np.int64)
        names = set()

        def fn(i, lo, hi):
            hits[i] += 1
            names.add(threading.current_thread().name)
            time.sleep(0.0005)                                    # long enough to be shared

        _team.run_python(threads, fn, [(i, i + 1) for i in range(blocks)])
        np.testing.assert_array_equal(hits, 1)
    assert threading.current_thread().name in names and len(names) > 1


def test_helpers_that_fell_asleep_take_the_next_operation():
    team = _team.team(2)
    for _ in range(3):
        time.sleep(20 * _team.WATCH_S)                             # long past the watching
        names = set()

        def fn(i, lo, hi):
            names.add(threading.current_thread().name)
            time.sleep(0.002)

        _team.run_python(2, fn, [(i, i + 1) for i in range(16)])
        assert len(names) == 2


def test_an_error_in_any_block_reaches_the_caller_and_the_team_goes_on():
    """The first error of any block reaches the caller once no block runs any more (none
    still writes into the operation's arrays), and the next operation starts clean: errors
    on both threads leave none behind for it."""
    _team.team(2)
    running = []

    def fn(i, lo, hi):
        running.append(i)
        try:
            time.sleep(0.002)
            if i == 5 or raise_all:
                raise ValueError(f"block {i}")
        finally:
            running.remove(i)

    for raise_all in (False, False, True, True, True):
        with pytest.raises(ValueError, match="block 5" if not raise_all else "block"):
            _team.run_python(2, fn, [(i, i + 1) for i in range(12)])
        assert running == []                                       # every block had ended
    out = np.zeros(4)
    _team.run_python(2, lambda i, lo, hi: out.__setitem__(i, i), [(i, i + 1) for i in range(4)])
    np.testing.assert_array_equal(out, np.arange(4))


def test_a_compiled_row_driver_covers_every_row_and_reports_its_flags(monkeypatch):
    from numba import njit

    @njit(nogil=True)
    def double(a, b, flag):
        for r in range(a.shape[0]):
            b[r] = 2 * a[r]
            flag[r] = a[r] < 0
        return bool(flag.any())

    monkeypatch.setattr(_blocks, "PARALLEL_MIN_WORK", 0)
    a = np.arange(-3.0, 97.0)
    b, flag = np.zeros_like(a), np.zeros(a.shape, np.bool_)
    for threads in (1, 2):
        backend.set_threads(threads)
        try:
            blocks = _blocks.bounds(a.size, 9)
            reports = _blocks.run_rows(double, a, b, flag, blocks, 1, reports=True)
        finally:
            backend.set_threads(None)
        np.testing.assert_array_equal(b, 2 * a)
        assert reports == [i for i, (lo, _) in enumerate(blocks) if lo < 3]      # the blocks with a flag


def test_layers_give_the_same_bits_on_one_thread_or_several(monkeypatch):
    """Max pooling, the ReLU and the dense layer on the team: the same bits on 1, 2 or 3
    threads. (A dense layer cuts a batch smaller than the threads by features instead of
    rows, into as many parts as threads: other products, other roundings. That case must
    agree with the rows to float32's precision.)"""
    from handgrad.kernels.numba import _pace
    ops = backend.ops("numba")
    monkeypatch.setattr(_blocks, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(_blocks, "BLOCK_ELEMENTS", 512)
    monkeypatch.setattr(_pace, "MEASURE", False)                       # the team, always
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5, 13, 12)).astype(np.float32)
    x[0, 0, 2, 3] = np.nan                                           # one block takes the exact kernel
    geom = pool_geometry(x.shape[2:], (3, 3), (2, 2), ((1, 1), (1, 1)), False)
    a = rng.standard_normal((7, 40)).astype(np.float32)
    w = rng.standard_normal((30, 40)).astype(np.float32)
    bias = rng.standard_normal(30).astype(np.float32)

    def dense(rows):
        out = ops.linear_forward(rows, w, bias)
        return [out, *ops.linear_backward(np.cos(out), rows, w)]

    by_rows, by_features = [], []
    for n in (1, 2, 3):
        backend.set_threads(n)
        try:
            y, cache = ops.max_pool_forward(x, geom)
            r, mask = ops.relu_forward(x)
            by_rows.append([y, ops.max_pool_backward(np.cos(y), cache), r,
                            ops.relu_backward(np.sin(x), mask), *dense(a)])
            by_features.append(dense(a[:2]))
        finally:
            backend.set_threads(None)
    for other in by_rows[1:]:
        for one, several in zip(by_rows[0], other):
            np.testing.assert_array_equal(one, several)
    for other in by_features[1:]:
        for rows, features in zip(by_features[0], other):
            np.testing.assert_allclose(features, rows, rtol=1e-5, atol=1e-5)


def run_pace(pace, side_speed, seconds, now, work=1e6):
    """Operations of ``work`` on whichever side ``pace`` picks ("team", "sleeping": the team
    with helpers that sleep between operations, "alone"), at ``side_speed[side]`` work per
    second (the sleeping team as fast as the watching one unless given), for ``seconds``
    from ``now``; the sides taken and the time at the end."""
    sides = []
    while seconds > 0:
        side = "alone" if pace.alone() else "sleeping" if pace.sleeping() else "team"
        took = work / side_speed.get(side, side_speed["team"])
        now += took
        seconds -= took
        pace.record(work, took, now)
        sides.append(side)
    return sides, now


def test_the_pace_keeps_whichever_side_runs_faster():
    """A trial on each side, beginning with the side that held, then the fastest one, for
    longer each time it wins again; a side that clearly loses is tried briefly."""
    from handgrad.kernels.numba import _pace
    quiet = {"team": 2e9, "sleeping": 1.4e9, "alone": 1e9}
    pace = _pace.Pace()
    sides, now = run_pace(pace, quiet, _pace.STARTUP_S + _pace.WARM_S, 0.0)
    assert set(sides) == {"team"} and not pace.alone() and pace.trial   # the start, on the team
    sides, now = run_pace(pace, quiet, 0.8 * _pace.TRIAL_S, now)
    assert set(sides) == {"team"}                                  # the trial begins there too
    sides, now = run_pace(pace, quiet, 0.2, now)
    assert sides.index("sleeping") < sides.index("alone")          # then the other two
    assert sides[-1] == "team" and not pace.trial and pace.hold == _pace.HOLD_S
    sides, now = run_pace(pace, quiet, 3 * _pace.HOLD_S, now)
    assert pace.winner == "team" and pace.hold >= 2 * _pace.HOLD_S  # won again: held longer
    for side in ("sleeping", "alone"):
        assert 0 < sides.count(side) < len(sides) / 40             # short trials of the others

    busy = {"team": 0.5e9, "sleeping": 1.5e9, "alone": 1e9}        # another process took a core
    sides, now = run_pace(pace, busy, 0.5, now)
    assert pace.winner == "sleeping" and sides[-1] == "sleeping"   # noticed within the hold
    busier = {"team": 0.5e9, "sleeping": 0.6e9, "alone": 1e9}
    sides, now = run_pace(pace, busier, 0.5, now)
    assert pace.winner == "alone" and sides[-1] == "alone"         # a hold sleeping ends too
    sides, now = run_pace(pace, busier, 20.0, now)
    assert sides.count("team") + sides.count("sleeping") < len(sides) / 10   # trials only
    assert pace.hold == _pace.HOLD_MAX_S
    sides, now = run_pace(pace, quiet, 2 * _pace.HOLD_MAX_S, now)
    assert pace.winner == "team"                                   # the next trial finds it free


def test_a_hold_lasts_for_operations_not_for_pauses():
    """A program that pauses between bursts of operations (the benchmark's rounds, an
    inference server between requests) keeps its hold across the pauses: only operations
    use it up, so a burst after a pause pays no new trial."""
    from handgrad.kernels.numba import _pace
    pace = _pace.Pace()
    speed = {"team": 1e9, "alone": 2e9}                            # the main thread wins
    _, now = run_pace(pace, speed, 0.3, 0.0)
    assert pace.winner == "alone" and not pace.trial
    left = pace.left
    for _ in range(20):                                            # bursts of 10 ms, 1 s apart
        sides, now = run_pace(pace, speed, 0.01, now + 1.0)
        assert set(sides) == {"alone"} and not pace.trial          # no trial after a pause
    assert left - 0.2 - 1e-3 <= pace.left <= left - 0.2 + 1e-3     # the bursts used 0.2 s of it
    run_pace(pace, speed, left, now)
    assert pace.hold == 2 * _pace.HOLD_S                           # spent: a trial, won again


def test_operations_run_alone_while_the_pace_says_so(monkeypatch):
    """The operations follow the team's pace: on the main thread alone while the main thread
    was faster, and they report their times to it."""
    from handgrad.kernels.numba import _pace
    team = _team.team(2)
    monkeypatch.setattr(_blocks, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(team, "pace", _pace.Pace())
    monkeypatch.setattr(_pace, "WARM_S", 0.0)                         # count from the first
    backend.set_threads(2)
    try:
        team.pace.side, team.pace.trial, team.pace.left = "team", False, 60.0
        assert not _team.crowded(2) and _blocks.threads_for(1) == 2      # a hold on the team
        team.pace.side = "alone"                                         # ... or alone
        assert _team.crowded(2) and _blocks.threads_for(1) == 1
        out = np.zeros(6)
        _blocks.run_blocks(lambda i, lo, hi: out.__setitem__(slice(lo, hi), threading.get_ident()),
                           [(0, 3), (3, 6)], 1)
        assert set(out) == {threading.get_ident()}                    # all on this thread
        team.pace.left = 0.0                                           # the hold ends: a trial
        assert _team.crowded(2) and team.pace.trial                    # ... alone first
        _blocks.run_blocks(lambda i, lo, hi: time.sleep(0.001), [(0, 3), (3, 6)], 1e6)
        assert team.pace.sums["alone"][2] == 1                          # its time was counted
        team.pace.side = "team"
        _blocks.run_blocks(lambda i, lo, hi: time.sleep(0.001), [(0, 3), (3, 6)], 1e6)
        assert team.pace.sums["team"][2] == 1 and team.tries == team.watch_tries
        team.pace.side = "sleeping"                                    # helpers that sleep
        _blocks.run_blocks(lambda i, lo, hi: time.sleep(0.001), [(0, 3), (3, 6)], 1e6)
        assert team.pace.sums["sleeping"][2] == 1 and team.tries == _team.SLEEPING_TRIES
    finally:
        backend.set_threads(None)


@pytest.mark.parametrize("rows", [1, 8], ids=["one image", "a batch"])
def test_the_dense_layer_on_the_team_keeps_the_callers_errstate(monkeypatch, rows):
    """Dense layers run compiled (linear.feature_driver for fewer rows than threads,
    rows_driver and backward_driver otherwise), where no floating-point warning is raised:
    an overflow must still reach np.errstate as NumPy's product would report it."""
    from handgrad.kernels.numba import _pace, linear
    monkeypatch.setattr(_blocks, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(_pace, "MEASURE", False)
    x, w = np.full((rows, 8), 1e30, np.float32), np.full((4, 8), 1e30, np.float32)
    g = np.full((rows, 4), 1e30, np.float32)
    backend.set_threads(2)
    try:
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            linear.linear_forward(x, w, None)
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            linear.linear_backward(g, x, w)
        with np.errstate(over="ignore"):
            assert np.isinf(linear.linear_forward(x, w, None)).all()
            dx, dw, _ = linear.linear_backward(g, x, w)
            assert np.isinf(dx).all() and np.isinf(dw).all()
        y = linear.linear_forward(x / 1e30, w / 1e30, np.ones(4, np.float32))
        np.testing.assert_allclose(y, 9.0)
        dx, dw, db = linear.linear_backward(g / 1e30, x / 1e30, w / 1e30)
        np.testing.assert_allclose(dx, 4.0)
        np.testing.assert_allclose(dw, float(rows))
        np.testing.assert_allclose(db, float(rows))
    finally:
        backend.set_threads(None)


def test_a_hold_ends_when_the_operations_change_size():
    """A decision holds for operations like those its trial measured: much smaller ones
    (the next model, one image instead of a thousand) are measured again at once."""
    from handgrad.kernels.numba import _pace
    pace = _pace.Pace()
    large = {"team": 0.5e9, "sleeping": 0.5e9, "alone": 1e9}      # alone wins on large ones
    _, now = run_pace(pace, large, 0.4, 0.0, work=5e6)
    assert pace.winner == "alone" and not pace.trial and pace.left > 3 * _pace.TRIAL_S
    small = {"team": 2e9, "sleeping": 0.3e9, "alone": 1e9}        # ... the team on small ones
    sides, now = run_pace(pace, small, 2 * _pace.TRIAL_S, now, work=1e5)
    assert pace.trial or pace.winner == "team"                     # measured within TRIAL_S
    _, now = run_pace(pace, small, 0.2, now, work=1e5)
    assert pace.winner == "team"
    sides, now = run_pace(pace, small, 0.2, now, work=2e5)         # twice as large: held
    assert set(sides) == {"team"}


def test_the_pace_leaves_out_a_kernel_compiling():
    """An operation that took far longer than its estimate (a kernel compiled on its first
    call) does not count: otherwise the first trial would find the main thread slow and
    choose the team."""
    from handgrad.kernels.numba import _pace
    pace = _pace.Pace()
    speed = {"team": 1e9, "alone": 2e9}
    assert not pace.alone()
    pace.record(1e6, 0.5, now=0.5)                         # compiling: 500 times 1 ms
    assert pace.left == _pace.STARTUP_S                             # the start is still to come
    _, now = run_pace(pace, speed, _pace.STARTUP_S + _pace.WARM_S, 0.5)
    assert not pace.alone() and pace.trial
    _, now = run_pace(pace, speed, 0.01, now)
    pace.record(1e6, 0.5, now=now + 0.5)
    assert pace.sums["team"][2] > 0 and pace.sums["team"][1] < 0.1  # not counted in the trial
    run_pace(pace, speed, 0.3, now + 0.5)
    assert pace.winner == "alone"


@pytest.mark.skipif(_cores._getcpu is None, reason="the system does not say which core a thread is on")
def test_woken_helpers_are_kept_off_the_main_threads_core():
    """After a pause the main thread wakes its sleeping helpers; each may then run on every
    core this thread may run on except the one it was on (_cores.py), so the two do not
    share a core until the scheduler parts them."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core")
    team = _team.team(2)
    for _ in range(3):
        deadline = time.perf_counter() + 2.0
        while team.sleepers < 1 and time.perf_counter() < deadline:   # the helper falls asleep
            time.sleep(20 * _team.WATCH_S)
        assert team.sleepers == 1
        _team.run_python(2, lambda i, lo, hi: time.sleep(0.001), [(i, i + 1) for i in range(4)])
        cpu = team.placement.cpu
        mask = os.sched_getaffinity(team.helpers[0].native_id)
        assert cpu is not None and cpu not in mask
        assert mask == os.sched_getaffinity(0) - {cpu}
