"""Losses: ``forward(prediction, target) -> float`` and ``backward() -> dL/dprediction``.

Math: docs/losses.md.
"""

from .base import Loss
from .binary import BCEWithLogitsLoss
from .cross_entropy import CategoricalCrossEntropy, CrossEntropyLoss
from .regression import MSELoss

__all__ = ["Loss", "CrossEntropyLoss", "CategoricalCrossEntropy", "MSELoss", "BCEWithLogitsLoss"]
