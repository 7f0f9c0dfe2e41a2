"""``mpirun -n 2 python tests/distributed/mpi_die.py MODE STEP train ARGS...``: ``handgrad
train ARGS`` in which rank 1 dies at its training step STEP (counted over the whole run):
``kill`` sends itself SIGKILL, ``raise`` raises RuntimeError. It first prints ``dying at
<unix time>`` on stderr, so that the test can time how long the other rank lives on."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from handgrad.cli import main  # noqa: E402
from handgrad.distributed import DistributedDataParallel  # noqa: E402



def dying(mode, step):
    """DistributedDataParallel.forward_backward, but rank 1 dies at call number ``step``."""
    original, calls = DistributedDataParallel.forward_backward, [0]

    def forward_backward(self, *args, **kwargs):
        if self.rank == 1 and calls[0] == step:
            print(f"dying at {time.time()}", file=sys.stderr, flush=True)
            if mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise RuntimeError("injected failure")
        calls[0] += 1
        return original(self, *args, **kwargs)
    return forward_backward


if __name__ == "__main__":
    DistributedDataParallel.forward_backward = dying(sys.argv[1], int(sys.argv[2]))
    sys.exit(main(sys.argv[3:]))
