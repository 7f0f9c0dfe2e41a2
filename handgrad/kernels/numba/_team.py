"""handgrad's threads: helpers that wait for the next operation by watching for it.

An operation with enough work (:func:`._blocks.threads_for`) runs on the main thread and
``threads() - 1`` helper threads at once; they take its blocks from the shared counter of
:mod:`._spin`. Two things make the hand-off cheap:

- **Watching, briefly, instead of sleeping.** A thread woken from sleep here takes about
  25 us to run (a round trip between two Python threads took 50 us on the 2-core AMD
  EPYC), and a sleeping pool paid that two to four times per operation: 70-100 us of
  every operation that split, more than a whole batch-1 layer gains from the second core.
  After an operation a helper watches ``ctl`` (a compiled loop of atomic loads) for about
  0.3 ms, so the next operation of a training step or a forward pass finds it awake; then
  it sleeps, so an idle process takes no CPU time from others.
- **No lock between the threads while they work.** An operation whose blocks are a
  compiled *driver* (the convolutions) runs entirely in compiled code that releases
  Python's lock (GIL): the main thread publishes the operation from inside its driver,
  after it has let go of the lock, so a helper that sees it takes the free lock at once,
  calls the same driver and lets go again. The main thread then waits for the last block
  inside its driver too, so neither ever waits for the lock while the other holds it, and
  a wait for the lock is a sleep. Operations whose blocks are Python calls
  (:func:`run_python`) use the same counter, with the lock passed between blocks.

When another process takes the cores, helpers begin operations late (they wait for a
core while the main thread waits for them); the team notices (:meth:`Team._note`) and the
operations run on the main thread alone for a second (:func:`crowded`), then the team is
tried again.

A driver is a compiled function ``driver(ctl, epoch, main, tries, *args)``: when ``main``
it publishes ``epoch`` first; every thread takes blocks with :func:`._spin.claim` and
reports each with :func:`._spin.block_done`; at the end (:func:`._spin.finish`) the main
thread waits for every block (at most ``tries`` loads; it returns whether all are done)
and a helper watches for the next operation.
"""

import os
import threading
import time

import numpy as np

from . import _spin

#: how long a helper watches for the next operation before it sleeps
WATCH_S = 3e-4
_MAX_EPOCH = (1 << 31) - 1
#: a helper that starts an operation this long after the main thread published it was
#: kept off a core (another process is running)
LATE_S = 5e-4
#: when at least LATE_OF of the last RECENT operations had a late helper, operations run on
#: the main thread alone for CROWDED_S, then the team is tried again
RECENT, LATE_OF, CROWDED_S = 8, 6, 0.25


def _tries_per_second():
    """Loads per second of the helpers' watch (:func:`._spin.wait_next`), measured once."""
    ctl = np.zeros(_spin.CTL_SIZE, np.int64)
    _spin.wait_next(ctl, 0, 1000)
    tries = 1 << 16
    while True:
        start = time.perf_counter()
        _spin.wait_next(ctl, 0, tries)
        spent = time.perf_counter() - start
        if spent > 2e-3 or tries > 1 << 30:
            return tries / max(spent, 1e-9)
        tries *= 4


class Team:
    """``helpers`` helper threads serving the main thread's operations (:func:`team`)."""

    def __init__(self, helpers):
        self.ctl = np.zeros(_spin.CTL_SIZE, np.int64)
        self.tries = max(1000, int(_tries_per_second() * WATCH_S))
        self.epoch = 0
        self.job = (0, None, ())
        self.error = None
        self.wake = threading.Condition()
        self.sleepers = 0
        self.started = [(0, 0.0)] * helpers                   # (epoch, time) each helper began
        self.late = []                                      # of the last RECENT operations
        self.alone_until = 0.0
        for k in range(helpers):
            threading.Thread(target=self._serve, args=(k,), name=f"handgrad-helper-{k}", daemon=True).start()

    def _serve(self, k):
        seen = 0
        while True:
            epoch = int(_spin.wait_next(self.ctl, seen, self.tries))
            if epoch == seen:                              # nothing came: sleep until it does
                with self.wake:
                    self.sleepers += 1
                    while self.epoch == seen:
                        self.wake.wait()
                    self.sleepers -= 1
                continue
            seen = epoch
            job_epoch, driver, args = self.job
            if job_epoch != epoch:                         # already over: watch again
                continue
            self.started[k] = (epoch, time.perf_counter())
            try:
                driver(self.ctl, epoch, False, self.tries, *args)
            except BaseException as exc:                   # noqa: BLE001  (reported by run)
                self.error = exc

    def run(self, driver, args, count):
        """Run ``driver`` (``count`` blocks) on the main thread and the helpers."""
        self.epoch = self.epoch % _MAX_EPOCH + 1
        self.ctl[_spin.DONE] = 0
        self.job = (self.epoch, driver, args)
        asleep = self.sleepers
        if asleep:
            with self.wake:
                self.wake.notify_all()
        published = time.perf_counter()
        finished = driver(self.ctl, self.epoch, True, self.tries, *args)
        while not finished:                                # a helper holds a block: sleep a little
            time.sleep(2e-5)
            finished = self.ctl[_spin.DONE] >= count
        if not asleep:                         # a helper woken from sleep is slow to start anyway
            self._note(published)
        if self.error is not None:
            error, self.error = self.error, None
            raise error


    def _note(self, published):
        """Count the operation as late if a helper that was watching for it began it more
        than LATE_S after it was published, or not at all in an operation that lasted
        longer than that (a small one can end before a helper arrives); with LATE_OF late
        of the last RECENT, run alone for a while (:func:`crowded`). (Helpers woken from sleep are not
        counted: on this machine a thread asleep for long can take milliseconds to run
        again, with the cores free.)"""
        ended = time.perf_counter()
        late = any(at - published > LATE_S if epoch == self.epoch else ended - published > LATE_S
                   for epoch, at in self.started)
        self.late = self.late[1 - RECENT:] + [late]
        if sum(self.late) >= LATE_OF:
            self.alone_until, self.late = time.perf_counter() + CROWDED_S, []


_teams = {}
os.register_at_fork(after_in_child=_teams.clear)     # a forked child has none of the threads


def team(threads):
    """The team of ``threads - 1`` helpers (made when first needed; one per size asked for,
    the others' helpers asleep)."""
    if threads not in _teams:
        _teams[threads] = Team(threads - 1)
    return _teams[threads]


def crowded(threads):
    """Whether the team of ``threads`` found its cores taken lately (:meth:`Team._note`): its
    helpers then wait for a core while the main thread waits for them, and one thread is
    faster. (The 3-conv net beside one busy process on two cores: 39% of its quiet speed
    on two threads, 60% on one.)"""
    team = _teams.get(threads)
    return team is not None and time.perf_counter() < team.alone_until


def watching(threads):
    """Whether the helpers of the team of ``threads`` are all awake (watching for the next
    operation or working), so that an operation may split for less work."""
    team = _teams.get(threads)
    return team is not None and team.sleepers == 0


def run_alone(driver, args):
    """Run ``driver`` on this thread only (its own ``ctl``, which no helper watches)."""
    driver(np.zeros(_spin.CTL_SIZE, np.int64), 1, True, 0, *args)


def python_driver(ctl, epoch, main, tries, fn, blocks, errstate):
    """The driver of an operation whose blocks are Python calls ``fn(i, lo, hi)``."""
    if main:
        _spin.open_operation(ctl, epoch)
    with np.errstate(**errstate):
        while True:
            i = int(_spin.next_block(ctl, epoch, len(blocks)))
            if i < 0:
                break
            try:
                fn(i, *blocks[i])
            finally:
                _spin.finish_block(ctl)
    return _spin.wait_done(ctl, len(blocks), tries) if main else True
