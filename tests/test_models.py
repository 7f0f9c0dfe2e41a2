"""Ready models: they build, produce the right output shapes, and have the documented sizes."""

import numpy as np
import pytest

from handgrad.models import DEFAULT_MODEL, MODELS, get_model, lenet5, three_conv_net

OUTPUTS = {"shapes-regressor": 3}
SIDES = {"shapes-regressor": 64}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_builds_and_maps_mnist_batch_to_outputs(name):
    model = get_model(name, rng=0)
    side = SIDES.get(name, 28)
    x = np.random.default_rng(0).random((2, 1, side, side), dtype=np.float32)
    y = model.eval()(x)
    assert y.shape == (2, OUTPUTS.get(name, 10))
    assert y.dtype == np.float32


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_float64_and_seeded(name):
    a, b = get_model(name, rng=3, dtype=np.float64), get_model(name, rng=3, dtype=np.float64)
    for (ka, pa), (kb, pb) in zip(a.parameters().items(), b.parameters().items()):
        assert ka == kb and pa.dtype == np.float64
        np.testing.assert_array_equal(pa.data, pb.data)


def test_default_model_is_registered():
    assert DEFAULT_MODEL in MODELS


def test_unknown_model_lists_choices():
    with pytest.raises(ValueError, match=r"unknown model 'resnet'; choose from .*lenet5"):
        get_model("resnet")


def test_lenet5_parameters_by_hand():
    # conv 5x5: C_out * C_in * 25 + C_out; linear: in * out + out
    by_hand = (6 * 1 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    assert by_hand == 61_706
    assert lenet5(rng=0).num_parameters() == by_hand


def test_lenet5_summary_params_and_macs_by_hand():
    from handgrad.training import summary
    s = summary(lenet5(rng=0), (1, 28, 28))
    assert s.total_params == 61_706
    assert s.output_shape == (10,)
    # MACs per sample of the layers with weights: output positions * fan-in
    conv = {6 * 28 * 28 * 25, 16 * 10 * 10 * 6 * 25}
    fc = {400 * 120, 120 * 84, 84 * 10}
    rows = {r.macs for r in s.rows if r.params}
    assert rows == conv | fc


def test_three_conv_net_arrangement_gives_3136_features():
    model = three_conv_net(rng=0)
    linears = [l for l in model.layers if type(l).__name__ == "Linear"]
    assert linears[0].in_features == 64 * 7 * 7 == 3136
    assert linears[0].out_features == 100
    by_hand = (16 * 9 + 16 * 28 * 28) + (32 * 16 * 9 + 32 * 14 * 14) + (64 * 32 * 9 + 64 * 7 * 7) \
        + (3136 * 100 + 100) + (100 * 10 + 10)
    assert model.num_parameters() == by_hand == 359_846


def test_three_conv_net_summary_macs_by_hand():
    from handgrad.training import summary
    s = summary(three_conv_net(rng=0), (1, 28, 28))
    assert s.total_params == 359_846
    assert s.output_shape == (10,)
    macs = {r.layer.split("(")[0] + r.name: r.macs for r in s.rows if r.layer.startswith(("Conv2d", "Linear"))}
    assert list(macs.values()) == [
        16 * 28 * 28 * 1 * 9,      # conv 1->16 at 28x28: 112,896
        32 * 14 * 14 * 16 * 9,     # conv 16->32 at 14x14: 903,168
        64 * 7 * 7 * 32 * 9,       # conv 32->64 at 7x7: 903,168
        3136 * 100,
        100 * 10,
    ]
