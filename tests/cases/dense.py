from handgrad import layers as L

from . import LayerCase

CASES = [
    LayerCase("Linear", lambda rng, dt: L.Linear(6, 4, rng=rng, dtype=dt), (5, 6),
              param_names=("weight", "bias")),
    LayerCase("Linear-nobias-3d", lambda rng, dt: L.Linear(6, 3, bias=False, rng=rng, dtype=dt), (2, 4, 6),
              param_names=("weight",)),
    LayerCase("ReLU", lambda rng, dt: L.ReLU(), (4, 9)),
    LayerCase("Sequential-MLP",
              lambda rng, dt: L.Sequential(L.Linear(6, 8, rng=rng, dtype=dt), L.ReLU(),
                                           L.Linear(8, 3, rng=rng, dtype=dt)),
              (5, 6), param_names=("0.weight", "0.bias", "2.weight", "2.bias")),
]
