"""The run configuration: one table each for data sets, optimizers and schedules, shared by the
config's validation and the command that builds the run."""

import pytest

import handgrad as hg
from handgrad import config
from handgrad.commands import _recipe
from handgrad.config import DATASETS, OPTIMIZERS, SCHEDULES, TrainConfig
from handgrad.data import registry


def _model():
    return hg.Sequential(hg.Linear(3, 2, rng=0))


def test_the_data_sets_are_the_registry_names():
    assert DATASETS is registry.NAMES
    assert set(DATASETS) == set(registry.DATASETS) | set(registry.SYNTHETIC)
    with pytest.raises(ValueError, match=r"unknown data set 'nope'; choose one of: mnist, .*, shapes"):
        registry.get_spec("nope")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_name_builds_with_its_default_rate(name):
    cfg = TrainConfig(optimizer=name)
    opt = _recipe.build_optimizer(cfg, _model())
    assert isinstance(opt, hg.optim.Optimizer)
    assert opt.lr == cfg.learning_rate == OPTIMIZERS[name].default_lr


def test_nesterov_is_sgd_with_nesterov_momentum_and_momentum_is_its_old_name():
    for name in ("nesterov", "momentum"):
        cfg = TrainConfig(optimizer=name)
        assert cfg.optimizer == "nesterov" and cfg.to_dict()["optimizer"] == "nesterov"
        opt = _recipe.build_optimizer(cfg, _model())
        assert type(opt) is hg.optim.SGD and opt.momentum == 0.9 and opt.nesterov is True
    assert type(_recipe.build_optimizer(TrainConfig(optimizer="sgd"), _model())) is hg.optim.SGD


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_every_schedule_name_builds_and_says_how_it_is_stepped(name):
    cfg = TrainConfig(schedule=name, epochs=6)
    opt = _recipe.build_optimizer(cfg, _model())
    schedule, interval = _recipe.build_schedule(cfg, opt, steps_per_epoch=10)
    assert interval == SCHEDULES[name].interval in ("step", "epoch")
    assert (schedule is None) == (name == "none")


def test_warmup_wraps_a_per_step_schedule_and_refuses_a_per_epoch_one():
    cfg = TrainConfig(schedule="cosine", epochs=6, warmup=2)
    schedule, _ = _recipe.build_schedule(cfg, _recipe.build_optimizer(cfg, _model()), steps_per_epoch=10)
    assert type(schedule) is hg.optim.LinearWarmup and schedule.warmup_steps == 20
    assert schedule.after.T_max == 40                          # the 4 epochs after the warm-up
    cfg = TrainConfig(schedule="plateau", warmup=1)
    with pytest.raises(_recipe.CommandError, match="--warmup works with per-step schedules, not 'plateau'"):
        _recipe.build_schedule(cfg, _recipe.build_optimizer(cfg, _model()), steps_per_epoch=10)


def test_help_text_lists_names_helps_and_old_names():
    text = config.choices(OPTIMIZERS, config.OPTIMIZER_ALIASES)
    assert text.startswith("sgd (plain SGD), nesterov (SGD with Nesterov momentum 0.9), adam (")
    assert text.endswith("; 'momentum' is the old name of 'nesterov'")
    assert config.choices(("a", "b")) == "a, b"
