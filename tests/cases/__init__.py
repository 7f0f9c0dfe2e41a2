"""Layer cases shared by the contract test and the gradient checks.

Each module in this package defines ``CASES``: a list of :class:`LayerCase`.
Add a module per layer family; tests/test_layer_contract.py collects them all.
"""

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class LayerCase:
    id: str
    make: Callable            # make(rng, dtype) -> Layer
    input_shape: tuple
    # make_input(rng, shape, dtype) -> array; default: standard normal kept 0.05 away from 0
    make_input: Callable = None
    param_names: tuple = ()   # expected names from layer.parameters()
    gradcheck: bool = True
    gradcheck_kwargs: dict = field(default_factory=dict)

    def input(self, rng, dtype):
        if self.make_input is not None:
            return self.make_input(rng, self.input_shape, dtype)
        return away_from_zero(rng, self.input_shape, dtype)


def away_from_zero(rng, shape, dtype):
    x = rng.standard_normal(shape)
    x += np.sign(x) * 0.05
    return x.astype(dtype)


def all_cases():
    cases = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    return cases
