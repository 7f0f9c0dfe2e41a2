from handgrad import layers as L

from . import LayerCase

AFFINE = ("weight", "bias")


def randomized(bn, rng):
    """Random gamma, beta and running statistics, so no term of the gradient is trivially 1 or 0."""
    C = bn.num_features
    if bn.affine:
        bn.weight.data[...] = rng.uniform(0.5, 1.5, C)
        bn.bias.data[...] = rng.standard_normal(C)
    bn.running_mean[...] = rng.standard_normal(C)
    bn.running_var[...] = rng.uniform(0.5, 2.0, C)
    return bn


CASES = [
    LayerCase("BatchNorm1d-train", lambda rng, dt: randomized(L.BatchNorm1d(4, dtype=dt), rng), (6, 4),
              param_names=AFFINE),
    LayerCase("BatchNorm1d-NCL-train", lambda rng, dt: randomized(L.BatchNorm1d(3, dtype=dt), rng),
              (4, 3, 5), param_names=AFFINE),
    LayerCase("BatchNorm1d-eval", lambda rng, dt: randomized(L.BatchNorm1d(4, dtype=dt), rng).eval(),
              (6, 4), param_names=AFFINE),
    LayerCase("BatchNorm1d-noaffine", lambda rng, dt: randomized(L.BatchNorm1d(4, affine=False, dtype=dt), rng),
              (6, 4)),
    LayerCase("BatchNorm2d-train", lambda rng, dt: randomized(L.BatchNorm2d(3, dtype=dt), rng), (3, 3, 4, 5),
              param_names=AFFINE),
    LayerCase("BatchNorm2d-eval", lambda rng, dt: randomized(L.BatchNorm2d(3, dtype=dt), rng).eval(),
              (3, 3, 4, 5), param_names=AFFINE),
    LayerCase("BatchNorm2d-noaffine-eval",
              lambda rng, dt: randomized(L.BatchNorm2d(2, affine=False, dtype=dt), rng).eval(), (2, 2, 3, 3)),
]

# Sequential runs each batch norm and the ReLU after it as one operation
CASES += [
    LayerCase("Sequential-BatchNorm2d-ReLU-fused-train",
              lambda rng, dt: L.Sequential(randomized(L.BatchNorm2d(3, dtype=dt), rng), L.ReLU()),
              (3, 3, 4, 5), param_names=("0.weight", "0.bias")),
    LayerCase("Sequential-BatchNorm1d-ReLU-fused-eval",
              lambda rng, dt: L.Sequential(randomized(L.BatchNorm1d(4, dtype=dt), rng), L.ReLU()).eval(),
              (6, 4), param_names=("0.weight", "0.bias")),
]
