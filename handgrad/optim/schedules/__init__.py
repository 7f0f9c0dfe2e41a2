"""Learning-rate schedules: each sets ``optimizer.lr`` on ``step()`` (see docs/schedules.md)."""

from .base import Schedule
from .cosine import CosineAnnealingLR
from .decay import ExponentialLR, MultiStepLR, StepLR
from .onecycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .warmup import LinearWarmup

__all__ = ["Schedule", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "LinearWarmup", "ReduceLROnPlateau", "OneCycleLR"]
