import os
from pathlib import Path

import numpy as np
import pytest

# MNIST files shared beside the checkout (never committed); override with HANDGRAD_TEST_MNIST.
MNIST_DIR = Path(os.environ.get("HANDGRAD_TEST_MNIST",
                                Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def mnist_dir():
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST files not found in {MNIST_DIR}")
    return MNIST_DIR
