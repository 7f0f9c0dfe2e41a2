"""Optimizers, gradient clipping and learning-rate schedules (see docs/optimizers.md)."""

from .adagrad import AdaGrad
from .adam import Adam, AdamW
from .base import Optimizer
from .clip import clip_grad_norm
from .rmsprop import RMSprop
from .schedules import (CosineAnnealingLR, ExponentialLR, LinearWarmup, MultiStepLR, OneCycleLR,
                        ReduceLROnPlateau, Schedule, StepLR)
from .sgd import SGD
from .state import join_state, split_state

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "AdaGrad", "RMSprop", "clip_grad_norm",
    "Schedule", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearWarmup",
    "ReduceLROnPlateau", "OneCycleLR", "split_state", "join_state",
]
