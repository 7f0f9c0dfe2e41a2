"""Getting images into a network: IDX files, the MNIST family with verified downloads,
loaders, augmentation and the offline synthetic shapes data set.

>>> from handgrad import data
>>> x, y = data.load("shapes", "test", n=4)          # offline, deterministic per split
>>> x.shape
(4, 1, 64, 64)
"""

from . import synthetic_shapes
from .augment import Compose, RandomFlip, RandomRotation, RandomShift
from .datasets import ENV_VAR, DatasetStatus, available, load, locate, num_classes, user_cache_dir
from . import download
from .download import ChecksumError, DownloadError, md5sum
from .idx import IDXError, encode_idx, read_idx, write_idx
from .loader import DataLoader, Standardize, to_float, train_val_split
from .registry import DATASETS

shapes = synthetic_shapes        # the earlier, shorter name of the module

__all__ = [
    "synthetic_shapes", "shapes", "load", "locate", "num_classes", "available", "DatasetStatus", "user_cache_dir", "ENV_VAR",
    "DATASETS", "download", "md5sum", "DownloadError", "ChecksumError",
    "read_idx", "write_idx", "encode_idx", "IDXError",
    "DataLoader", "Standardize", "to_float", "train_val_split",
    "RandomShift", "RandomRotation", "RandomFlip", "Compose",
]
