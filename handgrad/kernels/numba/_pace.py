"""Team or alone: which of the two runs operations faster here and now, measured.

Helpers help only while they have a core. Beside one other busy process on two cores, a
helper that is taken off its core while it holds a block keeps the main thread waiting:
LeNet-5 trained at batch 64 at half its quiet speed on the team and at its quiet speed on
one thread (2-core AMD EPYC, one `yes`). What a second thread gains on a quiet machine
depends on the model and the program too: 1.8x for the 3-conv net, for LeNet-5 at batch
64 1.8x back to back and almost nothing in the benchmark's short rounds. So
instead of reading signs of crowding (helpers that start late, which missed LeNet-5's
short operations), the main thread measures. Every operation large enough to split
reports its estimated work and the seconds it took; a side's *pace* is work per second.

- A run **starts** on the team, for ``STARTUP_S`` of operations, before its first trial:
  its first operations are slow on either side (buffers touched the first time, kernels
  loaded; the 3-conv net's first trial measured a fifth of its later pace alone, its first
  steps on the team took 15 ms, then 9).
- A **trial** runs operations on the side that held until they have taken ``TRIAL_S``
  (and at least ``TRIAL_OPS`` of them), then as long on the other side. It begins where
  the threads are at speed: after a hold on the team, a trial that began alone let the
  helpers fall asleep, and LeNet-5's team then measured 1.65e9 of work a second against
  4.5e9 when it went first, so a quiet machine held LeNet-5 alone (one thread: 4.3 ms a
  step instead of 2.8). Each half may end after a quarter of that: the first when it runs
  below ``EARLY`` of the other side's pace in the last trial, the second when its pace is
  clearly below or above (by ``EARLY``) the first's just measured. So a trial costs little
  on the side that clearly loses, and every decision compares two paces of the same
  trial. Only the operations' own time counts: a program that pauses between them (to
  load data, or the benchmark between its rounds) does not shorten a trial.
- The faster side then **holds** for ``HOLD_S`` of operations, twice as long each time
  the same side wins again (at most ``HOLD_MAX_S``), and a new trial follows. A hold is
  counted in the operations' own time, as a trial is, not on the clock: a program that
  works in bursts (the benchmark's rounds between PyTorch's, an inference server between
  requests) would otherwise pay a trial for nearly every burst, and a pause tells nothing
  new about which side is faster. (With holds on the clock, the 3-conv net beside a busy
  process kept 46-56% of its quiet speed in the benchmark's rounds; see benchmarks/README.md.)
- A hold on the team ends early when the team's pace over its last ``TRIAL_S`` of
  operations falls below ``SLOWDOWN`` of its trial's: another process has taken a core.
- An operation that took more than ``OUTLIER`` times its estimated work is not counted:
  a kernel compiling or loading from the cache on its first call (the 3-conv net's first
  four operations took 1.7 s, over 1,000 times their estimate; LeNet-5's one over 4,000
  times). Counted, the first trial of a run chose the team beside a busy process and held
  it at 55% of the pace alone. Beside one `yes` a slow operation on the team took at most
  92 times its estimate (99th percentile 8-14 times; the three models, batch 64).
- Whenever the team has not run for ``COLD_S`` (its helpers went to sleep: a hold alone,
  a pause of the program), its first ``WARM_S`` of operations are not counted: sleeping
  helpers take a while to run at speed again (on the 2-core AMD EPYC, a virtual machine,
  LeNet-5's first trials on the team after a hold alone measured half the pace of later
  ones, and the pauses between the benchmark's rounds ended holds on the team).

A trial alone costs the quiet 3-conv net a quarter of ``TRIAL_S`` at half speed once per
hold (0.2% once the hold has grown to 8 s); a trial on the team costs LeNet-5 beside a
busy process as much, plus ``WARM_S``.
"""

import time

TRIAL_S, TRIAL_OPS = 0.05, 4
STARTUP_S = 0.1
COLD_S, WARM_S = 1e-3, 0.02
HOLD_S, HOLD_MAX_S = 0.5, 8.0
SLOWDOWN, EARLY = 0.6, 0.75
OUTLIER = 200.0
OTHER = {"team": "alone", "alone": "team"}
#: False: always the team (tests of the team itself)
MEASURE = True


class Pace:
    """The choice between the team and the main thread alone, for one team."""

    def __init__(self):
        self.side, self.trial = "team", False           # the start: on the team, then a trial
        self.first = "team"                             # the side a trial began on
        self.left = STARTUP_S                           # seconds of operations left in a hold
        self.sums = {"team": [0.0, 0.0, 0], "alone": [0.0, 0.0, 0]}   # work, seconds, operations
        self.hold, self.winner, self.expected = HOLD_S, None, 0.0
        self.last = {"team": 0.0, "alone": 0.0}          # the paces of the last trial
        self.window = [0.0, 0.0, 0]                     # a hold on the team: the same sums
        self.team_end, self.warming = -float("inf"), 0.0  # the team's last operation; not counted yet

    def alone(self):
        """Whether operations run on the main thread alone now."""
        if not MEASURE:
            return False
        if not self.trial and self.left <= 0:           # the hold is over: a trial
            self._start_trial()
        return self.side == "alone"

    def record(self, side, work, seconds, now=None):
        """An operation of ``work`` (ns, estimated) ran ``seconds`` on ``side``."""
        if seconds > OUTLIER * 1e-9 * work:             # compiled on its first call: not counted
            return
        now = time.perf_counter() if now is None else now
        if side == "team":
            if now - seconds - self.team_end > COLD_S:
                self.warming = WARM_S
            self.team_end = now
            if self.warming > 0:
                self.warming -= seconds
                return
        if self.trial:
            if side != self.side:
                return
            done = _add(self.sums[side], work, seconds)
            work, seconds, ops = self.sums[side]
            early = ops >= TRIAL_OPS and seconds >= TRIAL_S / 4
            other = OTHER[side]
            if side == self.first:
                if done or (early and work < EARLY * self.last[other] * seconds):
                    self.side = other
            else:
                pace = self.pace(other)
                if done or (early and not EARLY * pace * seconds <= work <= pace * seconds / EARLY):
                    self._decide()
            return
        self.left -= seconds
        if side == "team" == self.side and _add(self.window, work, seconds):
            work, seconds, _ = self.window
            self.window = [0.0, 0.0, 0]
            if work < SLOWDOWN * self.expected * seconds:
                self._start_trial()                     # the team slowed down: measure again

    def pace(self, side):
        """Work per second of ``side`` in the current or last trial (0 before any)."""
        work, seconds, _ = self.sums[side]
        return work / seconds if seconds > 0 else 0.0

    def _start_trial(self):
        self.first, self.trial = self.side, True        # the side that held goes first
        self.sums = {"team": [0.0, 0.0, 0], "alone": [0.0, 0.0, 0]}

    def _decide(self):
        team, alone = self.pace("team"), self.pace("alone")
        winner = "team" if team >= alone else "alone"
        self.last = {"team": team, "alone": alone}
        self.hold = min(2 * self.hold, HOLD_MAX_S) if winner == self.winner else HOLD_S
        self.winner, self.side, self.trial = winner, winner, False
        self.left, self.expected = self.hold, team
        self.window = [0.0, 0.0, 0]


def _add(sums, work, seconds):
    """Add an operation to ``sums`` (work, seconds, operations); whether they now cover a
    trial's worth (``TRIAL_S`` of operations, at least ``TRIAL_OPS`` of them)."""
    sums[0] += work
    sums[1] += seconds
    sums[2] += 1
    return sums[1] >= TRIAL_S and sums[2] >= TRIAL_OPS
