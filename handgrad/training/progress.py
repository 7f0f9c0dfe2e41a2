"""Progress output for :func:`handgrad.training.fit`: tqdm bars or one line per epoch.

``verbose=None`` (default): a bar per epoch when stderr is a terminal, silence otherwise
(logs, CI). ``verbose=True``: bars on a terminal, else one summary line per epoch on
stdout. ``verbose=False``: nothing.
"""

import sys
import time


def format_logs(logs):
    """``"loss 0.1234 accuracy 0.9712 ..."`` for the numeric entries of an epoch record."""
    skip = {"epoch", "time"}
    parts = [f"{k} {v:.4g}" for k, v in logs.items() if k not in skip and isinstance(v, float)]
    return " ".join(parts)


class Progress:
    def __init__(self, epochs, steps_per_epoch, verbose=None, stream=None):
        self.epochs, self.steps = epochs, steps_per_epoch
        interactive = sys.stderr.isatty()
        self.bars = verbose is not False and interactive
        self.lines = verbose is True and not interactive
        self.stream = stream or sys.stdout
        self._bar = None

    def epoch_begin(self, epoch):
        self._start, self._seen, self._loss_sum, self._correct = time.perf_counter(), 0, 0.0, None
        if self.bars:
            from tqdm import tqdm
            self._bar = tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}",
                             unit="batch", leave=True, dynamic_ncols=True)

    def batch_end(self, n, loss, correct=None):
        """Record one batch of ``n`` samples with mean ``loss`` and ``correct`` right answers."""
        self._seen += n
        self._loss_sum += loss * n
        if correct is not None:
            self._correct = (self._correct or 0) + correct
        if self._bar is not None:
            post = {"loss": f"{self._loss_sum / self._seen:.4f}"}
            if self._correct is not None:
                post["acc"] = f"{self._correct / self._seen:.4f}"
            post["img/s"] = f"{self._seen / max(time.perf_counter() - self._start, 1e-9):.0f}"
            self._bar.set_postfix(post, refresh=False)
            self._bar.update(1)

    def epoch_end(self, logs):
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs))
            self._bar.close()
            self._bar = None
        if self.lines:
            rate = self._seen / max(logs.get("time", 0.0), 1e-9)
            print(f"epoch {logs['epoch'] + 1}/{self.epochs} {format_logs(logs)} "
                  f"({logs.get('time', 0.0):.1f} s, {rate:.0f} samples/s)", file=self.stream, flush=True)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
