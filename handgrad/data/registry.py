"""The MNIST-family data sets: official file names, checksums and download mirrors.

Every checksum below is the md5 of the file as its publisher distributes it. Sources:

- MNIST: the md5 sums published with the data set (and used by torchvision's ``MNIST``);
  checked here against the files in ``shared/data/mnist`` (see its SOURCE.txt).
- Fashion-MNIST: the table in the README of github.com/zalandoresearch/fashion-mnist
  (the same values are in torchvision's ``FashionMNIST``).
- KMNIST: torchvision's ``KMNIST`` resources (files from codh.rois.ac.jp).
- EMNIST: torchvision's ``EMNIST`` (md5 of ``gzip.zip`` from biometrics.nist.gov). The members
  of the zip have no published checksum: they are trusted because the zip was verified, and
  each is checked for structure by the IDX reader.

Mirrors are listed working-first; the original MNIST host (yann.lecun.com) answers 403 to
scripts nowadays and so comes last.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileSpec:
    """One distributed file: its name, md5 (None when unpublished) and where it comes from."""
    name: str
    md5: str | None = None
    # md5 of the decompressed content, where known: lets an uncompressed copy be verified too
    raw_md5: str | None = None


@dataclass(frozen=True)
class ArchiveSpec:
    """A zip archive holding the IDX files of several data sets (EMNIST's ``gzip.zip``)."""
    file: FileSpec
    mirrors: tuple
    member_dir: str                      # folder of the IDX members inside the zip


@dataclass(frozen=True)
class DatasetSpec:
    """An MNIST-format data set.

    ``splits`` maps a split name to ``(images FileSpec, labels FileSpec)``. Files live in
    ``<data dir>/<folder>/``. ``transpose`` marks images stored column-major (EMNIST), and
    ``label_offset`` is subtracted from the stored labels (EMNIST letters count from 1).
    """
    name: str
    folder: str
    splits: dict
    mirrors: tuple = ()
    archive: ArchiveSpec | None = None
    classes: tuple = ()
    transpose: bool = False
    label_offset: int = 0
    homepage: str = ""
    system_dirs: tuple = field(default=())

    def files(self):
        """All (split, role, FileSpec) triples, role being "images" or "labels"."""
        return [(split, role, spec) for split, pair in self.splits.items()
                for role, spec in zip(("images", "labels"), pair)]


def _mnist_style(train_images, train_labels, test_images, test_labels, prefix=""):
    return {
        "train": (FileSpec(f"{prefix}train-images-idx3-ubyte.gz", *train_images),
                  FileSpec(f"{prefix}train-labels-idx1-ubyte.gz", *train_labels)),
        "test": (FileSpec(f"{prefix}t10k-images-idx3-ubyte.gz", *test_images),
                 FileSpec(f"{prefix}t10k-labels-idx1-ubyte.gz", *test_labels)),
    }


MNIST = DatasetSpec(
    name="mnist", folder="mnist", homepage="http://yann.lecun.com/exdb/mnist/",
    splits=_mnist_style(
        ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
        ("d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
        ("9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
        ("ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637")),
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/",
             "http://yann.lecun.com/exdb/mnist/"),
    classes=tuple("0123456789"),
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist", folder="fashion-mnist",
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    splits=_mnist_style(
        ("8d4fb7e6c68d591d4c3dfef9ec88bf0d",), ("25c81989df183df01b3e8a0aad5dffbe",),
        ("bef4ecab320f06d8554ea6380940ec79",), ("bb300cfdad3c16e7a12a480ee83cd310",)),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
             "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
             "Sneaker", "Bag", "Ankle boot"),
    # Debian/Ubuntu package dataset-fashion-mnist
    system_dirs=("/usr/share/datasets/fashion-mnist",
                 "/usr/share/datasets/fashion-mnist/data/fashion"),
)

KMNIST = DatasetSpec(
    name="kmnist", folder="kmnist", homepage="https://github.com/rois-codh/kmnist",
    splits=_mnist_style(
        ("bdb82020997e1d708af4cf47b453dcf7",), ("e144d726b3acfaa3e44228e80efcd344",),
        ("5c965bf0a639b31b8f53240b1b52f4d7",), ("7320c461ea6c1c855c0b718fb2a4b134",)),
    mirrors=("https://codh.rois.ac.jp/kmnist/dataset/kmnist/",
             "http://codh.rois.ac.jp/kmnist/dataset/kmnist/"),
    classes=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
)

EMNIST_ZIP = ArchiveSpec(
    file=FileSpec("gzip.zip", "58c8d27c78d21e728a6bc7b3cc06412e"),
    mirrors=("https://biometrics.nist.gov/cs_links/EMNIST/",
             "https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/"),
    member_dir="gzip/",
)


def _emnist(variant, classes, label_offset=0):
    def pair(split):
        return (FileSpec(f"emnist-{variant}-{split}-images-idx3-ubyte.gz"),
                FileSpec(f"emnist-{variant}-{split}-labels-idx1-ubyte.gz"))
    return DatasetSpec(
        name=f"emnist-{variant}", folder="emnist", archive=EMNIST_ZIP, transpose=True,
        splits={"train": pair("train"), "test": pair("test")}, classes=tuple(classes),
        label_offset=label_offset,
        homepage="https://www.nist.gov/itl/products-and-services/emnist-dataset")


_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
EMNIST_DIGITS = _emnist("digits", "0123456789")
EMNIST_LETTERS = _emnist("letters", _LETTERS, label_offset=1)   # stored labels are 1..26
EMNIST_BALANCED = _emnist("balanced", "0123456789" + _LETTERS + "abdefghnqrt")

#: the data sets read from IDX files, by name
DATASETS = {spec.name: spec for spec in
            (MNIST, FASHION_MNIST, KMNIST, EMNIST_DIGITS, EMNIST_LETTERS, EMNIST_BALANCED)}

#: the data sets generated on the spot (no files): ``shapes`` (:mod:`handgrad.data.synthetic_shapes`)
SYNTHETIC = ("shapes",)

#: every data set name, as :func:`handgrad.data.load`, ``handgrad train`` and ``handgrad evaluate`` take it
NAMES = (*DATASETS, *SYNTHETIC)


def get_spec(name):
    """Look a data set up by name (an unknown name lists the valid ones)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; choose one of: {', '.join(NAMES)}") from None
