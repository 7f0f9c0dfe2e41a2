"""Team or alone: which runs operations faster here and now, measured.

Helpers help only while they have a core. Beside one other busy process on two cores, a
helper that is taken off its core while it holds a block keeps the main thread waiting:
LeNet-5 trained at batch 64 at half its quiet speed on the team and at its quiet speed on
one thread (2-core AMD EPYC, one `yes`). What a second thread gains on a quiet machine
depends on the model and the program too: 1.8x for the 3-conv net, for LeNet-5 at batch
64 1.8x back to back and almost nothing in the benchmark's short rounds. So
instead of reading signs of crowding (helpers that start late, which missed LeNet-5's
short operations), the main thread measures. Every operation large enough to split
reports its estimated work and the seconds it took; a side's *pace* is work per second.

There are three sides (``SIDES``): the team whose helpers watch for the next operation
(:mod:`._team`), the same team with helpers that sleep right after each operation, and
the main thread alone. The second is for a busy machine: beside one `yes` the 3-conv net
trained at 4,385 images/s on the watching team, 4,987 on the sleeping one and 4,292 alone
(quiet: 7,123, 5,986 and 4,296; batch 64, 2-core AMD EPYC, helpers off the main thread's
core, :mod:`._cores`). A helper that watches spends its share of the shared core watching
and is then taken off it in the middle of a block; one that sleeps gets the core when it
is woken.

- A run **starts** on the team, for ``STARTUP_S`` of operations, before its first trial:
  its first operations are slow on either side (buffers touched the first time, kernels
  loaded; the 3-conv net's first trial measured a fifth of its later pace alone, its first
  steps on the team took 15 ms, then 9).
- A **trial** runs operations on the side that held until they have taken ``TRIAL_S``
  (and at least ``TRIAL_OPS`` of them), then as long on each other side. It begins where
  the threads are at speed: after a hold on the team, a trial that began alone let the
  helpers fall asleep, and LeNet-5's team then measured 1.65e9 of work a second against
  4.5e9 when it went first, so a quiet machine held LeNet-5 alone (one thread: 4.3 ms a
  step instead of 2.8). Each part may end after a quarter of that: the first when it runs
  below ``EARLY`` of the best other side's pace in the last trial, a later one when its
  pace is clearly below or above (by ``EARLY``) the best measured so far in this trial. So
  a trial costs little on a side that clearly loses, and every decision compares paces of
  the same trial. Only the operations' own time counts: a program that pauses between
  them (to load data, or the benchmark between its rounds) does not shorten a trial.
- The fastest side then **holds** for ``HOLD_S`` of operations, twice as long each time
  the same side wins again (at most ``HOLD_MAX_S``), and a new trial follows. The sleeping
  helpers win only when faster than the watching ones by ``SLEEPING_MARGIN``: they cost
  each small operation a wake-up, which a trial on large operations does not see. A hold is
  counted in the operations' own time, as a trial is, not on the clock: a program that
  works in bursts (the benchmark's rounds between PyTorch's, an inference server between
  requests) would otherwise pay a trial for nearly every burst, and a pause tells nothing
  new about which side is faster. (With holds on the clock, the 3-conv net beside a busy
  process kept 46-56% of its quiet speed in the benchmark's rounds; see benchmarks/README.md.)
- A hold on the team (either) ends early when its pace over its last ``TRIAL_S`` of
  operations falls below ``SLOWDOWN`` of its trial's: another process has taken a core.
  Any hold ends early when those operations' mean work differs from the trial's by more
  than ``RESIZE`` times: a decision holds for operations like those it measured. (The
  benchmark's Keras CNN at batch 1000, operations of 50 ms, found the sleeping helpers as
  fast as the watching ones and held them; its next passes, on one image, then ran their
  operations on one thread (sleeping helpers take none under 0.15 ms of work): 2,100
  images/s instead of 3,500.)
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

A trial costs the quiet 3-conv net a quarter of ``TRIAL_S`` alone at half speed and up
to ``TRIAL_S`` with sleeping helpers at 85% once per hold (under 0.5% once the hold has
grown to 8 s; measured over 2.5 s with holds of 0.5-2 s: 6,998 images/s with the three
sides, 7,195 with two); a trial on the team costs LeNet-5 beside a busy process about as
much, plus ``WARM_S``.
"""

import time

TRIAL_S, TRIAL_OPS = 0.05, 4
STARTUP_S = 0.1
COLD_S, WARM_S = 1e-3, 0.02
HOLD_S, HOLD_MAX_S = 0.5, 8.0
SLOWDOWN, EARLY, RESIZE = 0.6, 0.75, 8.0
SLEEPING_MARGIN = 1.1
OUTLIER = 200.0
#: the sides a trial compares: the team whose helpers watch for the next operation, the team
#: whose helpers sleep after each one, the main thread alone
SIDES = ("team", "sleeping", "alone")
#: False: always the team (tests of the team itself)
MEASURE = True


class Pace:
    """The choice between the team (its helpers watching or sleeping between operations)
    and the main thread alone, for one team."""

    def __init__(self):
        self.side, self.trial = "team", False           # the start: on the team, then a trial
        self.order = [self.side]                        # the sides of a trial, in turn
        self.left = STARTUP_S                           # seconds of operations left in a hold
        self.sums = {side: [0.0, 0.0, 0] for side in SIDES}   # work, seconds, operations
        self.hold, self.winner, self.expected = HOLD_S, None, 0.0
        self.size = 0.0                                 # the mean work of the trial's operations
        self.last = dict.fromkeys(SIDES, 0.0)           # the paces of the last trial
        self.window = [0.0, 0.0, 0]                     # a hold on the team: the same sums
        self.team_end, self.warming = -float("inf"), 0.0  # the team's last operation; not counted yet

    def alone(self):
        """Whether operations run on the main thread alone now."""
        if not MEASURE:
            return False
        if not self.trial and self.left <= 0:           # the hold is over: a trial
            self._start_trial()
        return self.side == "alone"

    def sleeping(self):
        """Whether the team's helpers sleep after each operation now (instead of watching)."""
        return MEASURE and self.side == "sleeping"

    def record(self, work, seconds, now=None):
        """An operation of ``work`` (ns, estimated) ran ``seconds`` on the current side."""
        if seconds > OUTLIER * 1e-9 * work:             # compiled on its first call: not counted
            return
        now = time.perf_counter() if now is None else now
        side = self.side
        if side != "alone":
            if now - seconds - self.team_end > COLD_S:
                self.warming = WARM_S
            self.team_end = now
            if self.warming > 0:
                self.warming -= seconds
                return
        if self.trial:
            done = _add(self.sums[side], work, seconds)
            work, seconds, ops = self.sums[side]
            early = ops >= TRIAL_OPS and seconds >= TRIAL_S / 4
            k = self.order.index(side)
            if k == 0:                                  # first: against the last trial
                best = max(self.last[other] for other in self.order[1:])
                ends = early and work < EARLY * best * seconds
            else:                                       # then: against this trial's sides so far
                best = max(self.pace(other) for other in self.order[:k])
                ends = early and not EARLY * best * seconds <= work <= best * seconds / EARLY
            if done or ends:
                if k + 1 < len(self.order):
                    self.side = self.order[k + 1]
                else:
                    self._decide()
            return
        self.left -= seconds
        if _add(self.window, work, seconds):
            work, seconds, ops = self.window
            self.window = [0.0, 0.0, 0]
            if self.size and not self.size / RESIZE <= work / ops <= self.size * RESIZE:
                self._start_trial()                     # other operations: measure them
            elif side != "alone" and work < SLOWDOWN * self.expected * seconds:
                self._start_trial()                     # the team slowed down: measure again

    def pace(self, side):
        """Work per second of ``side`` in the current or last trial (0 before any)."""
        work, seconds, _ = self.sums[side]
        return work / seconds if seconds > 0 else 0.0

    def _start_trial(self):
        self.order = [self.side] + [side for side in SIDES if side != self.side]   # the held side first
        self.trial = True
        self.sums = {side: [0.0, 0.0, 0] for side in SIDES}

    def _decide(self):
        self.last = {side: self.pace(side) for side in SIDES}
        score = dict(self.last, sleeping=self.last["sleeping"] / SLEEPING_MARGIN)
        winner = max(self.order, key=score.get)         # a tie: the side that held
        self.hold = min(2 * self.hold, HOLD_MAX_S) if winner == self.winner else HOLD_S
        self.winner, self.side, self.trial = winner, winner, False
        self.left, self.expected = self.hold, self.last[winner]
        sums = self.sums.values()
        self.size = sum(work for work, _, _ in sums) / max(1, sum(ops for _, _, ops in sums))
        self.window = [0.0, 0.0, 0]


def _add(sums, work, seconds):
    """Add an operation to ``sums`` (work, seconds, operations); whether they now cover a
    trial's worth (``TRIAL_S`` of operations, at least ``TRIAL_OPS`` of them)."""
    sums[0] += work
    sums[1] += seconds
    sums[2] += 1
    return sums[1] >= TRIAL_S and sums[2] >= TRIAL_OPS
