import numpy as np

import handgrad as hg
from handgrad.summary import summary


def test_mlp_params_and_macs_by_hand(capsys):
    rng = np.random.default_rng(0)
    net = hg.Sequential(hg.Linear(784, 128, rng=rng), hg.ReLU(),
                        hg.Sequential(hg.Linear(128, 64, rng=rng), hg.ReLU()), hg.Linear(64, 10, rng=rng))
    s = net.summary((784,))
    # params: 784*128 + 128, 128*64 + 64, 64*10 + 10
    assert [r.params for r in s.rows] == [100480, 0, 8256, 0, 650]
    assert [r.macs for r in s.rows] == [784 * 128, 0, 128 * 64, 0, 64 * 10]
    assert [r.name for r in s.rows] == ["0", "1", "2.0", "2.1", "3"]
    assert [r.output_shape for r in s.rows] == [(128,), (128,), (64,), (64,), (10,)]
    assert s.total_params == net.num_parameters() == 109386
    assert s.total_macs == 100352 + 8192 + 640 == 109184
    printed = capsys.readouterr().out
    assert printed.strip() == str(s)
    assert "109,386" in printed and "109,184" in printed and "Linear(in_features=784" in printed


def test_summary_keeps_mode_and_handles_feature_axes():
    net = hg.Sequential(hg.Linear(5, 3, rng=0))
    net.train()
    s = summary(net, (4, 5))                    # Linear over a (4, 5) sample: 4 rows of 5 -> 3
    assert s.rows[0].output_shape == (4, 3) and s.total_macs == 4 * 5 * 3
    assert net.training


def test_lenet5_params_and_macs_by_hand():
    L = hg.layers
    rng = np.random.default_rng(0)
    net = L.Sequential(
        L.Conv2d(1, 6, 5, padding=2, rng=rng), L.ReLU(), L.MaxPool2d(2),      # (6, 28, 28) -> (6, 14, 14)
        L.Conv2d(6, 16, 5, rng=rng), L.ReLU(), L.MaxPool2d(2),                # (16, 10, 10) -> (16, 5, 5)
        L.Flatten(), L.Linear(400, 120, rng=rng), L.ReLU(),
        L.Linear(120, 84, rng=rng), L.ReLU(), L.Linear(84, 10, rng=rng))
    s = summary(net, (1, 28, 28))
    assert [r.output_shape for r in s.rows] == [
        (6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5),
        (400,), (120,), (120,), (84,), (84,), (10,)]
    # params: conv = C_out * C_in * K*K + C_out, linear = in * out + out
    assert [r.params for r in s.rows if r.params] == [6 * 25 + 6, 16 * 6 * 25 + 16, 400 * 120 + 120,
                                                      120 * 84 + 84, 84 * 10 + 10]
    assert s.total_params == 61706
    # MACs: conv = C_out * OH * OW * C_in * K*K; max pool = one comparison per window entry
    conv_linear = 6 * 28 * 28 * 25 + 16 * 10 * 10 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10
    pools = 6 * 14 * 14 * 4 + 16 * 5 * 5 * 4
    assert conv_linear == 416520 and pools == 6304
    assert s.total_macs == conv_linear + pools


def test_three_conv_net_params_and_macs_by_hand():
    L = hg.layers
    rng = np.random.default_rng(0)

    def block(c_in, c_out, side):
        return [L.Conv2d(c_in, c_out, 3, padding=1, bias=False, rng=rng), L.UntiedBias((c_out, side, side)),
                L.ReLU()]

    net = L.Sequential(*block(1, 16, 28), L.MaxPool2d(3, stride=2, padding=1),      # -> (16, 14, 14)
                       *block(16, 32, 14), L.MaxPool2d(3, stride=2, padding=1),     # -> (32, 7, 7)
                       *block(32, 64, 7), L.Flatten(),                              # -> 3136
                       L.Linear(3136, 100, rng=rng), L.ReLU(), L.Linear(100, 10, rng=rng))
    s = summary(net, (1, 28, 28))
    assert s.rows[-3].output_shape == (100,) and s.rows[-4].output_shape == (3136,)
    params = (16 * 9 + 16 * 28 * 28) + (32 * 16 * 9 + 32 * 14 * 14) + (64 * 32 * 9 + 64 * 7 * 7) \
        + (3136 * 100 + 100) + (100 * 10 + 10)
    assert s.total_params == params == 359846
    convs = 16 * 28 * 28 * 9 + 32 * 14 * 14 * 16 * 9 + 64 * 7 * 7 * 32 * 9
    pools = 16 * 14 * 14 * 9 + 32 * 7 * 7 * 9
    linears = 3136 * 100 + 100 * 10
    assert s.total_macs == convs + pools + linears == 2276168


class _Residual(hg.Layer):
    """A container that is not a Sequential: y = x + f(x), with f a child Sequential."""

    def __init__(self, f):
        super().__init__()
        self.f = f

    def forward(self, x):
        return x + self.f.forward(x)

    def backward(self, grad_out):
        return grad_out + self.f.backward(grad_out)


def test_any_container_is_walked_through_its_children():
    rng = np.random.default_rng(0)
    net = hg.Sequential(hg.Linear(6, 4, rng=rng),
                        _Residual(hg.Sequential(hg.Linear(4, 4, rng=rng), hg.Tanh())),
                        hg.Linear(4, 2, rng=rng))
    forward = net.layers[1].f.layers[0].forward
    s = summary(net, (6,))
    assert [r.name for r in s.rows] == ["0", "1.f.0", "1.f.1", "2"]
    assert [r.params for r in s.rows] == [28, 20, 0, 10]
    assert [r.macs for r in s.rows] == [24, 16, 0, 8]
    assert s.total_params == net.num_parameters() == 58
    assert "forward" not in vars(net.layers[0])                   # the observers are gone
    assert net.layers[1].f.layers[0].forward == forward


def test_a_single_layer_is_its_own_row():
    s = summary(hg.Linear(3, 2, rng=0), (3,))
    assert [(r.name, r.params, r.macs) for r in s.rows] == [("Linear", 8, 6)]
