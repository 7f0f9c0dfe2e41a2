"""Verified downloads: mirrors in order, a temporary file, a checksum, an atomic move.

Nothing partial is ever left at the target path: the bytes go to a hidden temporary file in
the target folder, are checked against the expected md5, and only then renamed into place with
``os.replace`` (atomic on one file system). Any failure, including Ctrl-C, removes the
temporary file.
"""

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path

from .._files import default_file_mode

_CHUNK = 1 << 16
_HINT = ("To proceed offline: put the files in <dir>/{folder}/ and pass --data-dir <dir> "
         "(handgrad CLI) or data_dir=<dir> (Python), or set HANDGRAD_DATA=<dir>; or use the "
         "offline synthetic data set: --dataset shapes (Python: handgrad.data.load(\"shapes\")).")


class DownloadError(OSError):
    """No mirror could deliver a file."""


class ChecksumError(ValueError):
    """A file's content does not match its published checksum."""


def md5sum(path, chunk=1 << 20):
    """Hex md5 of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path, md5):
    """Raise :class:`ChecksumError` naming ``path`` unless its md5 is ``md5`` (None: no check)."""
    if md5 is None:
        return
    got = md5sum(path)
    if got != md5:
        raise ChecksumError(f"{path}: checksum mismatch: md5 {got}, expected {md5}; the file is "
                            f"corrupt or not the published one")


def _fetch(url, tmp, progress, timeout, desc):
    """Stream ``url`` into the open binary file ``tmp``; raise on short reads."""
    request = urllib.request.Request(url, headers={"User-Agent": "handgrad"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = response.headers.get("Content-Length")
        total = int(total) if total is not None else None
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=total, unit="B", unit_scale=True, desc=desc, leave=False)
        received = 0
        try:
            while block := response.read(_CHUNK):
                tmp.write(block)
                received += len(block)
                if bar is not None:
                    bar.update(len(block))
        finally:
            if bar is not None:
                bar.close()
    if total is not None and received != total:
        raise HTTPException(f"connection closed after {received} of {total} bytes")


def download(urls, target, md5=None, *, progress=True, timeout=30.0, folder=None):
    """Download ``target`` from the first of ``urls`` that works, verified by ``md5``.

    Parameters
    ----------
    urls : sequence of str
        Full URLs of the same file, tried in order; a network error (refused, 403/404,
        time-out, dropped connection) moves on to the next.
    target : str or os.PathLike
        Final path. Its folder is created if needed.
    md5 : str, optional
        Expected hex md5. A mismatch raises :class:`ChecksumError` at once: bad data is never
        kept, and never silently retried elsewhere.
    progress : bool
        Show a tqdm progress bar.
    timeout : float
        Seconds to wait for a server.
    folder : str, optional
        The data set folder name, used in the offline hint.

    Returns
    -------
    pathlib.Path
        ``target``.

    Raises
    ------
    DownloadError
        Every mirror failed; the message lists each URL with its error and how to proceed.
    ChecksumError
        A mirror delivered bytes whose md5 differs from ``md5``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        try:
            os.fchmod(fd, default_file_mode())
            with os.fdopen(fd, "wb") as tmp:
                try:
                    _fetch(url, tmp, progress, timeout, target.name)
                except (urllib.error.URLError, HTTPException, OSError, ValueError) as e:
                    failures.append(f"  {url}: {getattr(e, 'reason', None) or e}")
                    continue
            try:
                verify(tmp_name, md5)
            except ChecksumError as e:
                raise ChecksumError(f"{target.name} downloaded from {url}: {str(e).split(': ', 1)[1]}") from None
            os.replace(tmp_name, target)
            return target
        finally:
            Path(tmp_name).unlink(missing_ok=True)   # no-op after a successful os.replace
    tried = "\n".join(failures) or "  (no mirrors configured)"
    hint = _HINT.format(folder=folder or "<data set>")
    raise DownloadError(f"could not download {target.name}; tried:\n{tried}\n{hint}")
