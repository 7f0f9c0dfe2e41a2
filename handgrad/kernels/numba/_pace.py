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

- A **trial** runs operations alone until they have taken ``TRIAL_S`` (and at least
  ``TRIAL_OPS`` of them), then as long on the team. Each half may end after a quarter of
  that: alone when it runs below ``EARLY`` of the team's pace in the last trial, the team
  when its pace is clearly below or above (by ``EARLY``) the pace alone just measured. So
  a trial costs little on the side that clearly loses, and every decision compares two
  paces of the same trial. Only the operations' own time counts: a program that pauses
  between them (to load data, or the benchmark between its rounds) does not shorten a
  trial.
- The faster side then **holds** for ``HOLD_S`` (of the clock), twice as long each time
  the same side wins again (at most ``HOLD_MAX_S``), and a new trial follows.
- A hold on the team ends early when the team's pace over its last ``TRIAL_S`` of
  operations falls below ``SLOWDOWN`` of its trial's: another process has taken a core.
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
COLD_S, WARM_S = 1e-3, 0.02
HOLD_S, HOLD_MAX_S = 0.5, 8.0
SLOWDOWN, EARLY = 0.6, 0.75
#: False: always the team (tests of the team itself)
MEASURE = True


class Pace:
    """The choice between the team and the main thread alone, for one team."""

    def __init__(self, now=None):
        now = time.perf_counter() if now is None else now
        self.side, self.trial = "alone", True           # a trial, alone first
        self.ends = now                                 # of a hold
        self.sums = {"team": [0.0, 0.0, 0], "alone": [0.0, 0.0, 0]}   # work, seconds, operations
        self.hold, self.winner, self.expected = HOLD_S, None, 0.0
        self.last = {"team": 0.0, "alone": 0.0}          # the paces of the last trial
        self.window = [0.0, 0.0, 0]                     # a hold on the team: the same sums
        self.team_end, self.warming = -float("inf"), 0.0  # the team's last operation; not counted yet

    def alone(self, now=None):
        """Whether operations run on the main thread alone now."""
        if not MEASURE:
            return False
        now = time.perf_counter() if now is None else now
        if not self.trial and now >= self.ends:         # the hold is over: a trial
            self._start_trial()
        return self.side == "alone"

    def record(self, side, work, seconds, now=None):
        """An operation of ``work`` (ns, estimated) ran ``seconds`` on ``side``."""
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
            if side == "alone":
                if done or (early and work < EARLY * self.last["team"] * seconds):
                    self.side = "team"
            else:
                alone = self.pace("alone")
                if done or (early and not EARLY * alone * seconds <= work <= alone * seconds / EARLY):
                    self._decide(now)
        elif side == "team" == self.side and _add(self.window, work, seconds):
            work, seconds, _ = self.window
            self.window = [0.0, 0.0, 0]
            if work < SLOWDOWN * self.expected * seconds:
                self._start_trial()                     # the team slowed down: measure again

    def pace(self, side):
        """Work per second of ``side`` in the current or last trial (0 before any)."""
        work, seconds, _ = self.sums[side]
        return work / seconds if seconds > 0 else 0.0

    def _start_trial(self):
        self.side, self.trial = "alone", True
        self.sums = {"team": [0.0, 0.0, 0], "alone": [0.0, 0.0, 0]}

    def _decide(self, now):
        team, alone = self.pace("team"), self.pace("alone")
        winner = "team" if team >= alone else "alone"
        self.last = {"team": team, "alone": alone}
        self.hold = min(2 * self.hold, HOLD_MAX_S) if winner == self.winner else HOLD_S
        self.winner, self.side, self.trial = winner, winner, False
        self.ends, self.expected = now + self.hold, team
        self.window = [0.0, 0.0, 0]


def _add(sums, work, seconds):
    """Add an operation to ``sums`` (work, seconds, operations); whether they now cover a
    trial's worth (``TRIAL_S`` of operations, at least ``TRIAL_OPS`` of them)."""
    sums[0] += work
    sums[1] += seconds
    sums[2] += 1
    return sums[1] >= TRIAL_S and sums[2] >= TRIAL_OPS
