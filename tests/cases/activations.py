from handgrad import layers as L

from . import LayerCase

CASES = [
    LayerCase("LeakyReLU", lambda rng, dt: L.LeakyReLU(0.1), (4, 9)),
    LayerCase("LeakyReLU-4d", lambda rng, dt: L.LeakyReLU(), (2, 3, 4, 4)),
    LayerCase("Sigmoid", lambda rng, dt: L.Sigmoid(), (4, 9)),
    LayerCase("Tanh", lambda rng, dt: L.Tanh(), (4, 9)),
    # the contract test and gradcheck both draw a random upstream gradient: with g = 1 a
    # softmax backward that returned zeros would pass, since sum(softmax) is constant
    LayerCase("Softmax", lambda rng, dt: L.Softmax(), (4, 7)),
    LayerCase("Softmax-axis1-4d", lambda rng, dt: L.Softmax(axis=1), (2, 5, 3, 2)),
]
