"""Layers: each file holds one concept, its forward next to its backward."""

from .activations import ReLU
from .base import Layer, Sequential
from .linear import Linear

__all__ = ["Layer", "Sequential", "Linear", "ReLU"]
