"""``load(name, split)``: find a data set's files locally, or download them, and read them.

Look-up order for the folder ``<root>/<folder>/`` holding a data set's files (``folder`` is
e.g. ``mnist``; see :mod:`handgrad.data.registry`):

1. the explicit ``data_dir`` argument;
2. the ``HANDGRAD_DATA`` environment variable;
3. the user cache, ``$XDG_CACHE_HOME/handgrad`` (default ``~/.cache/handgrad``);
4. system folders where a distribution installs the data set (Debian's
   ``dataset-fashion-mnist``: ``/usr/share/datasets/fashion-mnist``);
5. a download into the first of 1-3 that is set (so normally the user cache).

Files may be gzip-compressed as published (``train-images-idx3-ubyte.gz``) or uncompressed
(``train-images-idx3-ubyte``). A file with a published checksum is verified on every load,
except in the system folders: those files are checked by the package manager that installed
them, and Debian recompresses them (its ``.gz`` files hold the same images but differ in md5
from the published ones); they are still checked for structure by the IDX reader.
"""

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .download import _HINT, download as fetch, md5sum, verify
from .idx import IDXError, read_idx
from .registry import DATASETS, SYNTHETIC, get_spec

ENV_VAR = "HANDGRAD_DATA"


def user_cache_dir():
    """``$XDG_CACHE_HOME/handgrad``, or ``~/.cache/handgrad`` when the variable is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "handgrad"


def search_dirs(spec, data_dir=None):
    """The folders searched for ``spec``'s files, in order, as ``(source, path)`` pairs."""
    dirs = []
    if data_dir is not None:
        dirs.append(("data_dir", Path(data_dir) / spec.folder))
    if os.environ.get(ENV_VAR):
        dirs.append((ENV_VAR, Path(os.environ[ENV_VAR]) / spec.folder))
    dirs.append(("cache", user_cache_dir() / spec.folder))
    dirs.extend(("system", Path(d)) for d in spec.system_dirs)
    return dirs


def _download_dir(spec, data_dir):
    return search_dirs(spec, data_dir)[0][1]


def _find_file(folder, fspec):
    """The compressed or the uncompressed copy of ``fspec`` in ``folder``, or None."""
    for name in (fspec.name, fspec.name.removesuffix(".gz")):
        if (folder / name).is_file():
            return folder / name
    return None


def _checked(path, fspec):
    verify(path, fspec.md5 if path.suffix == ".gz" else fspec.raw_md5)
    return path


def _extract_members(zip_path, names, member_dir, out_dir):
    """Extract ``member_dir + name`` for each name from a zip, each atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as archive:
        for name in names:
            tmp = out_dir / f".{name}.part"
            try:
                with archive.open(member_dir + name) as src, open(tmp, "wb") as dst:
                    while block := src.read(1 << 20):
                        dst.write(block)
                os.replace(tmp, out_dir / name)
            except KeyError:
                raise IDXError(f"{zip_path}: archive has no member {member_dir + name}") from None
            finally:
                tmp.unlink(missing_ok=True)


def locate(name, split="train", data_dir=None, *, download=True, progress=True):
    """Return the paths ``(images, labels)`` of a split, downloading them if needed.

    Raises
    ------
    FileNotFoundError
        Nothing found and ``download=False``; the message lists the folders searched.
    handgrad.data.DownloadError, handgrad.data.ChecksumError
        See :func:`handgrad.data.download.download`.
    """
    spec = get_spec(name)
    if split not in spec.splits:
        raise ValueError(f"data set {name!r} has no split {split!r}; choose one of: "
                         f"{', '.join(spec.splits)}")
    pair = spec.splits[split]
    dirs = search_dirs(spec, data_dir)
    for source, folder in dirs:
        found = [_find_file(folder, f) for f in pair]
        if all(found) and source == "system":     # trusted to the package manager (see below)
            return tuple(found)
        if all(found):
            return tuple(_checked(p, f) for p, f in zip(found, pair))
    target = _download_dir(spec, data_dir)
    if spec.archive is not None:          # EMNIST: the IDX files come out of one zip
        zname = spec.archive.file.name
        zips = [folder / zname for _, folder in dirs if (folder / zname).is_file()]
        if not zips:
            if not download:
                _raise_not_found(spec, split, dirs)
            zips = [fetch([m + zname for m in spec.archive.mirrors], target / zname,
                          spec.archive.file.md5, progress=progress, folder=spec.folder)]
        verify(zips[0], spec.archive.file.md5)
        _extract_members(zips[0], [f.name for f in pair], spec.archive.member_dir, target)
        return tuple(target / f.name for f in pair)
    if not download:
        _raise_not_found(spec, split, dirs)
    for f in pair:
        if _find_file(target, f) is None:
            fetch([m + f.name for m in spec.mirrors], target / f.name, f.md5,
                  progress=progress, folder=spec.folder)
    return tuple(_checked(_find_file(target, f), f) for f in pair)


def _raise_not_found(spec, split, dirs):
    tried = "\n".join(f"  {path} ({source})" for source, path in dirs)
    names = ", ".join(f.name for f in spec.splits[split])
    raise FileNotFoundError(f"{spec.name} {split} files ({names}) not found; searched:\n{tried}\n"
                            f"Pass download=True to fetch them. " + _HINT.format(folder=spec.folder))


def load(name, split="train", data_dir=None, download=True, *, progress=True, **kwargs):
    """Load a data set split as ``(images, labels)``.

    Parameters
    ----------
    name : str
        ``"mnist"``, ``"fashion-mnist"``, ``"kmnist"``, ``"emnist-digits"``,
        ``"emnist-letters"``, ``"emnist-balanced"``, or ``"shapes"`` (synthetic, offline; extra
        keyword arguments go to :func:`handgrad.data.synthetic_shapes.load_split`).
    split : {"train", "test"}
    data_dir : str or os.PathLike, optional
        A folder holding ``<name folder>/<files>``; searched first and used for downloads.
    download : bool
        Download missing files (verified by checksum).
    progress : bool
        Show a progress bar while downloading.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (N, 1, 28, 28)
        Row-major (EMNIST's transposed storage is undone).
    labels : numpy.ndarray of int64, shape (N,)
        Class indices from 0 (EMNIST letters: 0 is "A"), checked to lie below the data set's
        number of classes (:func:`num_classes`); a file with others is an ``IDXError``.

    Examples
    --------
    >>> x, y = load("shapes", "test", n=8, target="count")
    >>> x.shape, x.dtype, y.dtype
    ((8, 1, 64, 64), dtype('uint8'), dtype('int64'))
    """
    if name == "shapes":
        from .synthetic_shapes import load_split
        return load_split(split, **kwargs)
    if kwargs:
        raise TypeError(f"load({name!r}) got unexpected arguments: {', '.join(kwargs)}")
    spec = get_spec(name)
    images_path, labels_path = locate(name, split, data_dir, download=download, progress=progress)
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if images.dtype != np.uint8:
        raise IDXError(f"{images_path}: expected uint8 images, got {images.dtype}")
    if len(images) != len(labels):
        raise IDXError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                       f"{len(labels)} labels; the files do not belong together")
    if not np.issubdtype(labels.dtype, np.integer):
        raise IDXError(f"{labels_path}: expected integer labels, got {labels.dtype}")
    labels = labels.astype(np.int64) - spec.label_offset
    if len(labels) and (labels.min() < 0 or labels.max() >= len(spec.classes)):
        bad = labels[(labels < 0) | (labels >= len(spec.classes))]
        raise IDXError(f"{labels_path}: {name} has {len(spec.classes)} classes (labels "
                       f"{spec.label_offset}..{len(spec.classes) - 1 + spec.label_offset} as stored), "
                       f"but the file holds {len(bad)} labels outside that range, e.g. "
                       f"{int(bad[0]) + spec.label_offset}; it is not the {name} labels file")
    if spec.transpose:
        images = images.transpose(0, 2, 1)
    images = np.ascontiguousarray(images)[:, None]             # (N, 1, H, W)
    return images, labels


def num_classes(name):
    """The number of classes of a registered data set (MNIST 10, EMNIST letters 26, ...).

    Examples
    --------
    >>> num_classes("mnist"), num_classes("emnist-letters")
    (10, 26)
    """
    return len(get_spec(name).classes)


@dataclass(frozen=True)
class DatasetStatus:
    """Where one split of a data set is available: ``status`` is "found", "verified",
    "corrupt", "archive" (EMNIST zip present, files extracted on first load), "missing" or
    "generated" (the synthetic shapes)."""
    name: str
    split: str
    status: str
    location: Path | None = None
    source: str | None = None
    files: tuple = ()


def _status(spec, split, data_dir, verify_files):
    dirs = search_dirs(spec, data_dir)
    pair = spec.splits[split]
    for source, folder in dirs:
        found = [_find_file(folder, f) for f in pair]
        if all(found):
            status = "found"
            if verify_files and source != "system":
                ok = all(md5sum(p) == (f.md5 if p.suffix == ".gz" else f.raw_md5)
                         for p, f in zip(found, pair) if (f.md5 if p.suffix == ".gz" else f.raw_md5))
                status = "verified" if ok else "corrupt"
            return DatasetStatus(spec.name, split, status, folder, source, tuple(found))
    if spec.archive is not None:
        for source, folder in dirs:
            if (folder / spec.archive.file.name).is_file():
                return DatasetStatus(spec.name, split, "archive", folder, source,
                                     (folder / spec.archive.file.name,))
    return DatasetStatus(spec.name, split, "missing")


def available(data_dir=None, *, verify=False):
    """List every known data set split and where it is available locally.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Searched first, as in :func:`load`.
    verify : bool
        Also check the md5 of each file found (slower).

    Returns
    -------
    list of DatasetStatus

    Examples
    --------
    >>> [s.status for s in available() if s.name == "shapes"]
    ['generated', 'generated']
    """
    records = [_status(spec, split, data_dir, verify)
               for spec in DATASETS.values() for split in spec.splits]
    records += [DatasetStatus(name, split, "generated", source="synthetic")
                for name in SYNTHETIC for split in ("train", "test")]
    return records
