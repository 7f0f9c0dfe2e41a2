"""The typed configuration of a training run (``handgrad train``), and its choices.

The command line is parsed into a :class:`TrainConfig`. Every string option maps through one
explicit table here, used by the config (validation, defaults) and by the command that builds
the run (:mod:`handgrad.commands._recipe`): :data:`DATASETS` (from the data set registry),
:data:`OPTIMIZERS` and :data:`SCHEDULES`. The config is written to the run folder as JSON
(``config.json``) so a run can be repeated exactly.
"""

import dataclasses
import json
from dataclasses import dataclass, field

from . import optim
from ._files import atomic_open
from .data.registry import NAMES as DATASETS
from .models import MODELS


@dataclass(frozen=True)
class OptimizerChoice:
    """An optimizer the command line names: ``build(params, lr, weight_decay)`` and its default rate."""
    build: object
    default_lr: float
    help: str


@dataclass(frozen=True)
class ScheduleChoice:
    """A schedule the command line names: ``build(cfg, optimizer, steps_per_epoch) -> schedule or None``,
    stepped every optimizer step (``interval="step"``) or every epoch."""
    build: object
    interval: str
    help: str


#: optimizer name -> how to build it; the learning rate default is the peak rate for onecycle
OPTIMIZERS = {
    "sgd": OptimizerChoice(lambda params, lr, wd: optim.SGD(params, lr=lr, weight_decay=wd),
                           0.05, "plain SGD"),
    "nesterov": OptimizerChoice(lambda params, lr, wd: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True,
                                                                 weight_decay=wd),
                                0.05, "SGD with Nesterov momentum 0.9"),
    "adam": OptimizerChoice(lambda params, lr, wd: optim.Adam(params, lr=lr, weight_decay=wd), 0.01,
                            "adaptive moment estimates"),
    "adamw": OptimizerChoice(lambda params, lr, wd: optim.AdamW(params, lr=lr, weight_decay=wd or 0.01),
                             0.01, "Adam with decoupled weight decay, 0.01 unless --weight-decay"),
    "rmsprop": OptimizerChoice(lambda params, lr, wd: optim.RMSprop(params, lr=lr, weight_decay=wd),
                               0.001, "steps scaled by a running mean of squared gradients"),
    "adagrad": OptimizerChoice(lambda params, lr, wd: optim.AdaGrad(params, lr=lr, weight_decay=wd),
                               0.01, "steps scaled by the sum of squared gradients"),
}

#: earlier names still accepted: "momentum" always meant SGD with Nesterov momentum
OPTIMIZER_ALIASES = {"momentum": "nesterov"}

#: schedule name -> how to build it (``--warmup`` wraps a per-step one in LinearWarmup)
SCHEDULES = {
    "none": ScheduleChoice(lambda cfg, opt, steps: None, "step", "a constant learning rate"),
    "step": ScheduleChoice(lambda cfg, opt, steps: optim.StepLR(
        opt, step_size=max(1, cfg.epochs // 3) * steps, gamma=0.1), "step", "x0.1 after each third of the run"),
    "cosine": ScheduleChoice(lambda cfg, opt, steps: optim.CosineAnnealingLR(
        opt, T_max=(cfg.epochs - cfg.warmup) * steps), "step", "cosine annealing to zero"),
    "onecycle": ScheduleChoice(lambda cfg, opt, steps: optim.OneCycleLR(
        opt, max_lr=cfg.learning_rate, total_steps=cfg.epochs * steps), "step", "one cycle, peak at --lr"),
    "plateau": ScheduleChoice(lambda cfg, opt, steps: optim.ReduceLROnPlateau(opt, factor=0.5, patience=1),
                              "epoch", "halve when the validation loss stalls"),
}


def choices(table, aliases=None):
    """The names of ``table`` for a help text, each with its ``help`` where it has one, and the
    old names in ``aliases``: ``"sgd (plain SGD), nesterov (...), ...; 'momentum' is the old name of 'nesterov'"``."""
    text = ", ".join(f"{name} ({entry.help})" if hasattr(entry, "help") else name
                     for name, entry in (table.items() if isinstance(table, dict) else zip(table, table)))
    for old, new in (aliases or {}).items():
        text += f"; {old!r} is the old name of {new!r}"
    return text


@dataclass
class TrainConfig:
    """Everything that decides a training run.

    ``model=None`` means the data set's default (``fast-cnn`` for images,
    ``shapes-regressor`` for shapes); ``lr=None`` the optimizer's default below.
    The defaults are the recipe that meets the MNIST floor (see benchmarks/README.md).
    """

    dataset: str = "mnist"
    model: str | None = None
    epochs: int = 6
    batch_size: int = 64
    optimizer: str = "adam"
    lr: float | None = None
    weight_decay: float = 0.0
    schedule: str = "onecycle"
    warmup: int = 0
    augment: bool = False
    val_split: float = 0.0
    seed: int = 0
    workers: int = 1
    distributed: bool = False
    data_dir: str | None = None
    out: str | None = None
    resume: str | None = None
    limit: int | None = None
    test_limit: int | None = None
    verbose: bool | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.optimizer = OPTIMIZER_ALIASES.get(self.optimizer, self.optimizer)
        self.validate()

    def validate(self):
        """Raise ValueError naming the option, the valid choices or range, and the value."""
        for name, table in (("dataset", DATASETS), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
            value = getattr(self, name)
            if value not in table:
                raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(table)}")
        if self.model is not None and self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose from {', '.join(sorted(MODELS))}")
        for name in ("epochs", "batch_size", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        for name in ("limit", "test_limit"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        if self.distributed and self.workers != 1:
            raise ValueError(f"--distributed runs one process per rank; drop --workers (got --workers {self.workers})")
        if self.warmup < 0:
            raise ValueError(f"--warmup must be >= 0 (epochs), got {self.warmup}")
        if not 0.0 <= self.val_split < 1.0:
            raise ValueError(f"--val-split must be in [0, 1), got {self.val_split}")
        if self.lr is not None and not 0 < self.lr < float("inf"):
            raise ValueError(f"--lr must be a finite number > 0, got {self.lr}")
        if not 0 <= self.weight_decay < float("inf"):
            raise ValueError(f"--weight-decay must be a finite number >= 0, got {self.weight_decay}")

    @property
    def model_name(self):
        return self.model or ("shapes-regressor" if self.dataset == "shapes" else "fast-cnn")

    @property
    def learning_rate(self):
        """``lr``, or the optimizer's default rate when it is None (for onecycle, the peak rate)."""
        return self.lr if self.lr is not None else OPTIMIZERS[self.optimizer].default_lr

    @property
    def is_regression(self):
        return self.dataset == "shapes"

    def to_dict(self):
        """The resolved configuration (defaults filled in), JSON-able."""
        d = dataclasses.asdict(self)
        d.update(model=self.model_name, lr=self.learning_rate)
        return d

    def to_json(self, path):
        with atomic_open(path, "w") as f:
            json.dump(self.to_dict(), f, indent=2)
            f.write("\n")

    @classmethod
    def from_namespace(cls, ns):
        """Build from an ``argparse.Namespace`` holding (at least) the fields' names."""
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        return cls(**{k: getattr(ns, k) for k in names if hasattr(ns, k)})
