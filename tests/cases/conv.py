from handgrad import layers as L

from . import LayerCase

CASES = [
    LayerCase("Conv1d-same-s2", lambda rng, dt: L.Conv1d(2, 3, 4, stride=2, padding="same", rng=rng, dtype=dt),
              (2, 2, 9), param_names=("weight", "bias")),
    LayerCase("Conv2d-k3-p1", lambda rng, dt: L.Conv2d(2, 4, 3, padding=1, rng=rng, dtype=dt),
              (2, 2, 6, 5), param_names=("weight", "bias")),
    LayerCase("Conv2d-groups-dilation-nobias",
              lambda rng, dt: L.Conv2d(4, 2, (2, 3), stride=(1, 2), padding=((1, 0), (2, 1)), dilation=2,
                                       groups=2, bias=False, rng=rng, dtype=dt),
              (2, 4, 6, 7), param_names=("weight",)),
    LayerCase("Conv3d", lambda rng, dt: L.Conv3d(1, 2, 2, stride=(1, 2, 1), rng=rng, dtype=dt),
              (2, 1, 3, 5, 4), param_names=("weight", "bias")),
    LayerCase("Sequential-Conv2d-ReLU-fused",             # each conv and its ReLU run as one operation
              lambda rng, dt: L.Sequential(L.Conv2d(2, 3, 3, padding=1, rng=rng, dtype=dt), L.ReLU(),
                                           L.Conv2d(3, 2, 2, stride=2, rng=rng, dtype=dt), L.ReLU()),
              (2, 2, 6, 5), param_names=("0.weight", "0.bias", "2.weight", "2.bias")),
    LayerCase("UntiedBias", lambda rng, dt: L.UntiedBias((3, 4, 2), rng=rng, dtype=dt),
              (5, 3, 4, 2), param_names=("bias",)),
]
