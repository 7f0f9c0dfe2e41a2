"""Saving models and checkpoints: one ``.npz`` file each, JSON + arrays, no pickle."""

from .archive import HandgradFileError
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .model_file import architecture, build, load, save
from .registry import layer_registry, register_layer

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint", "Checkpoint", "HandgradFileError",
           "architecture", "build", "register_layer", "layer_registry"]
