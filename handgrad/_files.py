"""File helpers shared by the writers of models, checkpoints and downloads."""

import os


def default_file_mode():
    """The mode a plain ``open(path, "w")`` would give a new file (0o666 minus the umask).

    ``tempfile.mkstemp`` creates files readable by their owner only; files that are renamed
    into place as the final result get the usual mode instead.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
