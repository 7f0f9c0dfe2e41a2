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

A helper woken from sleep is first kept off the main thread's core (:mod:`._cores`).
When another process takes the cores, a helper waits for a core while the main thread
waits for its block; each team measures whether it, the same team with helpers that sleep
right after each operation, or the main thread alone runs operations faster
(:mod:`._pace`), and :func:`crowded` says whether to run alone now. A helper that watches
beside a busy process spends its share of the core on watching and is then taken off it
in the middle of the next block; one that sleeps is given the core when it is woken.

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
from ._cores import Placement
from ._pace import Pace

#: how long a helper watches for the next operation before it sleeps
WATCH_S = 3e-4
#: the loads a helper watches for when the pace says the helpers sleep between operations
#: (:meth:`._pace.Pace.sleeping`; the main thread waits as briefly for a helper's block)
SLEEPING_TRIES = 200
_MAX_EPOCH = (1 << 31) - 1


def _tries_per_second():
    """Loads per second of the helpers' watch (:func:`._spin.await_next`), measured once."""
    ctl = np.zeros(_spin.CTL_SIZE, np.int64)
    _spin.await_next(ctl, 0, 1000)
    tries = 1 << 16
    while True:
        start = time.perf_counter()
        _spin.await_next(ctl, 0, tries)
        spent = time.perf_counter() - start
        if spent > 2e-3 or tries > 1 << 30:
            return tries / max(spent, 1e-9)
        tries *= 4


class Team:
    """``helpers`` helper threads serving the main thread's operations (:func:`team`)."""

    def __init__(self, helpers):
        self.ctl = np.zeros(_spin.CTL_SIZE, np.int64)
        self.watch_tries = max(1000, int(_tries_per_second() * WATCH_S))
        self.tries = self.watch_tries                       # the helpers' watch now
        self.epoch = 0
        self.job = (0, None, ())
        self.error = None
        self.wake = threading.Condition()
        self.sleepers = 0
        self.pace = Pace()                                  # team or alone (:func:`crowded`)
        self.placement = Placement()                        # helpers off the main thread's core
        self.helpers = [threading.Thread(target=self._serve, args=(k,), name=f"handgrad-helper-{k}",
                                         daemon=True) for k in range(helpers)]
        for thread in self.helpers:
            thread.start()
        self.helper_ids = [thread.native_id for thread in self.helpers]   # set once started

    def _serve(self, k):
        seen = 0
        while True:
            epoch = int(_spin.await_next(self.ctl, seen, self.tries))
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
            try:
                driver(self.ctl, epoch, False, self.tries, *args)
            except BaseException as exc:                   # noqa: BLE001  (reported by run)
                self.error = exc

    def run(self, driver, args, count):
        """Run ``driver`` (``count`` blocks) on the main thread and the helpers."""
        self.tries = SLEEPING_TRIES if self.pace.sleeping() else self.watch_tries
        self.epoch = self.epoch % _MAX_EPOCH + 1
        self.ctl[_spin.DONE] = 0
        self.job = (self.epoch, driver, args)
        if self.sleepers:
            self.placement.away_from(self.helper_ids)
            with self.wake:
                self.wake.notify_all()
        finished = driver(self.ctl, self.epoch, True, self.tries, *args)
        while not finished:                                # a helper holds a block: sleep a little
            time.sleep(2e-5)
            finished = self.ctl[_spin.DONE] >= count
        if self.error is not None:
            error, self.error = self.error, None
            raise error


_teams = {}
os.register_at_fork(after_in_child=_teams.clear)     # a forked child has none of the threads


def team(threads):
    """The team of ``threads - 1`` helpers (made when first needed; one per size asked for,
    the others' helpers asleep)."""
    if threads not in _teams:
        _teams[threads] = Team(threads - 1)
    return _teams[threads]


def crowded(threads):
    """Whether operations run on the main thread alone now rather than on the team of
    ``threads`` (:mod:`._pace`: which was faster when last measured; when other processes
    take the cores a helper waits for one while the main thread waits for it: the 3-conv
    net beside one busy process on two cores trained at 39% of its quiet speed on two
    threads, 60% on one)."""
    team = _teams.get(threads)
    return team is not None and team.pace.alone()


def note(threads, work, seconds):
    """An operation that could split over ``threads`` ran ``seconds`` (``work``: its estimated
    ns) on the side the pace of that team is on (:class:`._pace.Pace`)."""
    team = _teams.get(threads)
    if team is not None:
        team.pace.record(work, seconds)


def watching(threads):
    """Whether the helpers of the team of ``threads`` are all awake (watching for the next
    operation or working), so that an operation may split for less work."""
    team = _teams.get(threads)
    return team is not None and team.sleepers == 0


def run_alone(driver, args):
    """Run ``driver`` on this thread only (its own ``ctl``, which no helper watches)."""
    driver(np.zeros(_spin.CTL_SIZE, np.int64), 1, True, 0, *args)


def python_driver(ctl, epoch, main, tries, fn, blocks, errstate, failures):
    """The driver of an operation whose blocks are Python calls ``fn(i, lo, hi)``. A block
    that raises goes into ``failures`` and the blocks still to come are taken but skipped, so
    that every block ends (none is left to a helper that sleeps) and no helper still writes
    into the operation's arrays when the caller sees the error (:func:`run_python`)."""
    if main:
        _spin.publish(ctl, epoch)
    with np.errstate(**errstate):
        while True:
            i = int(_spin.claim(ctl, epoch, len(blocks)))
            if i < 0:
                break
            try:
                if not failures:
                    fn(i, *blocks[i])
            except BaseException as exc:            # noqa: BLE001  (raised by run_python)
                failures.append(exc)
            finally:
                _spin.block_done(ctl)
    return _spin.await_done(ctl, len(blocks), tries) if main else True


def run_python(threads, fn, blocks):
    """Call ``fn(i, lo, hi)`` for every block of ``blocks`` on the team of ``threads``, under
    the caller's ``np.errstate`` (NumPy keeps it per thread); once every block has ended,
    raise the first error a block raised, on any thread."""
    failures = []
    team(threads).run(python_driver, (fn, blocks, np.geterr(), failures), len(blocks))
    if failures:
        raise failures[0]
