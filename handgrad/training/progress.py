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


def format_duration(seconds):
    """``"42 s"``, ``"3 min 05 s"``, ``"1 h 02 min"``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


#: the bar: progress in batches, time spent and left in this epoch, then images/s and the rest
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} batches [{elapsed}<{remaining}{postfix}]"


class Progress:
    """Progress of a run: per epoch a bar (images per second, time left in the epoch and, from
    the second epoch on, in the run) or one summary line."""

    def __init__(self, epochs, steps_per_epoch, verbose=None, stream=None):
        self.epochs, self.steps = epochs, steps_per_epoch
        interactive = sys.stderr.isatty()
        self.bars = verbose is not False and interactive
        self.lines = verbose is True and not interactive
        self.stream = stream or sys.stdout
        self._bar = None
        self._epoch_times = []                   # seconds of each finished epoch

    def run_left(self, epoch, into_epoch=0.0):
        """Estimated seconds left in the run during ``epoch`` (0-based), ``into_epoch`` seconds
        into it: the mean finished epoch's time for each epoch to come; None before one finished."""
        if not self._epoch_times:
            return None
        mean = sum(self._epoch_times) / len(self._epoch_times)
        return max(mean - into_epoch, 0.0) + mean * (self.epochs - epoch - 1)

    def epoch_begin(self, epoch):
        self._epoch = epoch
        self._start, self._seen, self._loss_sum, self._correct = time.perf_counter(), 0, 0.0, None
        if self.bars:
            from tqdm import tqdm
            self._bar = tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}", unit="batch",
                             leave=True, dynamic_ncols=True, bar_format=BAR_FORMAT)

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
            spent = time.perf_counter() - self._start
            post["img/s"] = f"{self._seen / max(spent, 1e-9):.0f}"
            left = self.run_left(self._epoch, spent)
            if left is not None:
                post["run left"] = format_duration(left)
            self._bar.set_postfix(post, refresh=False)
            self._bar.update(1)

    def epoch_end(self, logs):
        self._epoch_times.append(time.perf_counter() - self._start)
        rate = self._seen / max(self._epoch_times[-1], 1e-9)
        more = self._epoch + 1 < self.epochs
        left = f", {format_duration(self.run_left(self._epoch, self._epoch_times[-1]))} left" if more else ""
        if self._bar is not None:
            self._bar.set_postfix_str(f"{format_logs(logs)}, {rate:.0f} img/s{left}")
            self._bar.close()
            self._bar = None
        if self.lines:
            print(f"epoch {logs['epoch'] + 1}/{self.epochs} {format_logs(logs)} "
                  f"({logs.get('time', 0.0):.1f} s, {rate:.0f} images/s{left})", file=self.stream, flush=True)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
