"""PyTorch timed in a process of its own, round by round, for the layer benchmarks.

In one process PyTorch's OpenMP threads keep spinning for a while after each of its calls
and take the cores from handgrad's threads that run next (and handgrad's process settings,
such as malloc's, would apply to PyTorch): each library gets its own process. The parent
asks for one round at a time, so rounds still alternate between the two libraries.

Even from another process, PyTorch's threads still spinning after its round take cores
from handgrad's first operations of the next one (a 0.35 ms convolution timed at 3 ms), so
each side waits :data:`SETTLE_S` before it times a round.

A benchmark script that uses this runs itself with ``--torch-worker`` as the child, which
builds its PyTorch passes and calls :func:`serve`.
"""

import argparse
import json
import subprocess
import sys
import time

#: the pause before each library's round, so the other library's threads have gone to sleep
SETTLE_S = 0.05


def add_arguments(parser, threads):
    """The options every layer benchmark shares: ``--threads``, ``--repeat`` and the
    child's ``--torch-worker``."""
    parser.add_argument("--threads", type=int, default=threads,
                        help="both libraries' threads (read before numpy loads; default: each library's own)")
    parser.add_argument("--repeat", type=int, default=5, help="calls of each pass per round (their mean)")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)


def timed_ms(fn, repeat=1):
    """Mean milliseconds of ``repeat`` calls of ``fn`` in a row (after a round of the other
    library, the first call of an operation also pays for cold caches)."""
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) * 1e3 / repeat


def round_ms(passes, repeat):
    """``{key: [ms, ...]}``: every pass of every key timed once (each ``repeat`` calls), in order."""
    return {key: [timed_ms(fn, repeat) for fn in fns] for key, fns in passes.items()}


def serve(passes, repeat):
    """The child: for each line on stdin, time a :func:`round_ms` of ``passes`` and answer
    it as one JSON line."""
    for _ in sys.stdin:
        time.sleep(SETTLE_S)
        print(json.dumps(round_ms(passes, repeat)), flush=True)


class TorchSide:
    """The parent's end: ``round()`` -> ``{key: [ms, ...]}`` from the child process."""

    def __init__(self, script, argv):
        self.proc = subprocess.Popen([sys.executable, script, "--torch-worker", *argv],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def round(self):
        self.proc.stdin.write("round\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the PyTorch process ended (is torch installed?)")
        time.sleep(SETTLE_S)                         # before handgrad's next round
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()
