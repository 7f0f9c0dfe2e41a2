import numpy as np

import handgrad as hg
from handgrad.training import summary


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
