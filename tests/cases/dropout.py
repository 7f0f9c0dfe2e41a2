from handgrad import layers as L

from . import LayerCase


class FixedMaskDropout(L.Dropout):
    """Dropout re-seeded before every forward pass: the same mask at every call, so the
    layer is a fixed function of its input (needed for central differences)."""

    def forward(self, x):
        self.reseed(7)
        return super().forward(x)


CASES = [
    LayerCase("Dropout-fixed-mask", lambda rng, dt: FixedMaskDropout(0.4), (5, 8)),
    LayerCase("Dropout-eval", lambda rng, dt: L.Dropout(0.4, rng=rng).eval(), (5, 8)),
    LayerCase("Dropout-p0", lambda rng, dt: L.Dropout(0.0, rng=rng), (5, 8)),
]
