"""The run folder of ``handgrad train``: never overwritten silently.

A folder that already holds a run (any of :data:`RUN_FILES`) is refused unless

* the run is being resumed into it (``--resume`` of its own checkpoint), or
* ``--overwrite`` is given: the old run's files (:data:`RUN_FILES`, its PNG plots and
  ``report.html``) are removed when the new run is ready to write its first file (its data
  and model built), so no picture of the old run stays beside the new files.

The check (:func:`check_run_folder`) runs before anything is loaded, so a refused folder costs
nothing. The default folder name carries the time to the second; when two runs start in the
same second the second one gets ``-2``, ``-3``, ... and says so.
"""

import glob
import os

from .._files import remove_orphans
from ._common import CommandError

#: the files that mark a folder as holding a run
RUN_FILES = ("config.json", "checkpoint.npz", "model.npz", "history.json", "history.csv",
             "metrics.json")
#: what else a run writes (removed by --overwrite along with RUN_FILES)
RUN_EXTRAS = ("*.png", "report.html")


def run_files(folder):
    """The run files present in ``folder`` (names, sorted)."""
    return sorted(name for name in RUN_FILES if os.path.isfile(os.path.join(folder, name)))


def _same_folder(a, b):
    return os.path.realpath(a) == os.path.realpath(b)


def check_run_folder(out, *, resume=None, overwrite=False):
    """Refuse ``out`` (``--out``, or None for the default) if it would lose a run; cheap, so it
    runs before any data is loaded. Returns the old run's files that ``--overwrite`` will
    remove (:func:`create_run_folder` removes them, once the new run is ready to write).
    """
    if out is None:
        return []
    if os.path.exists(out) and not os.path.isdir(out):
        raise CommandError(f"--out {out!r} is a file; expected a folder for the run (or a new name)")
    present = run_files(out) if os.path.isdir(out) else []
    if not present:
        return []
    if resume is not None and _same_folder(os.path.dirname(os.path.abspath(resume)), out):
        return []                                    # continuing this folder's own run
    if not overwrite:
        finished = "model.npz" in present
        what = "a finished run" if finished else "an unfinished run"
        hint = ("" if finished or "checkpoint.npz" not in present else
                f"continue it with --resume {os.path.join(out, 'checkpoint.npz')}, or ")
        raise CommandError(f"--out {out!r} already holds {what} ({', '.join(present)}); {hint}pass "
                           f"--overwrite to replace it, or choose another --out")
    old = [os.path.join(out, n) for n in present]
    for pattern in RUN_EXTRAS:
        old += glob.glob(os.path.join(glob.escape(out), pattern))
    return sorted(set(old))


def create_run_folder(out, default, old_files=()):
    """Create the run folder and return its path: ``out``, after removing ``old_files``
    (:func:`check_run_folder`), or a fresh ``default`` (``-2``, ``-3``, ... appended while the
    name is taken; the folder is claimed by creating it, so two runs never share one)."""
    if out is not None:
        for path in old_files:
            os.remove(path)
        if old_files:
            print(f"note: --overwrite: removed the old run's {len(old_files)} files from {out}")
        os.makedirs(out, exist_ok=True)
        remove_orphans(out)
        return out
    path, n = default, 1
    while True:
        try:
            os.makedirs(path)
            break
        except FileExistsError:
            n += 1
            path = f"{default}-{n}"
    if n > 1:
        print(f"note: {default} exists; writing this run to {path}")
    return path
