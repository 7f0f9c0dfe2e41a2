from handgrad import layers as L

from . import LayerCase

CASES = [
    LayerCase("Flatten", lambda rng, dt: L.Flatten(), (3, 2, 4, 4)),
    LayerCase("Flatten-start2", lambda rng, dt: L.Flatten(start_dim=2), (3, 2, 4, 5)),
    LayerCase("Flatten-2d", lambda rng, dt: L.Flatten(), (3, 5)),
]
