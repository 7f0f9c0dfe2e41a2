"""The typed configuration of a training run (``handgrad train``), and its choices.

The command line is parsed into a :class:`TrainConfig`; every string option is checked
against one explicit tuple here, and the config is written to the run folder as JSON
(``config.json``) so a run can be repeated exactly.
"""

import dataclasses
import json
from dataclasses import dataclass, field

from ._files import atomic_open

#: data sets ``handgrad train`` knows; "shapes" is synthetic (generated, no download)
DATASETS = ("mnist", "fashion-mnist", "kmnist", "emnist-digits", "shapes")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine", "onecycle", "plateau")


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
    data_dir: str | None = None
    out: str | None = None
    resume: str | None = None
    limit: int | None = None
    test_limit: int | None = None
    verbose: bool | None = None
    extra: dict = field(default_factory=dict)

    #: learning rate used when ``lr`` is None (for onecycle, the peak rate)
    DEFAULT_LR = {"sgd": 0.05, "momentum": 0.05, "adam": 0.01, "adamw": 0.01,
                  "rmsprop": 0.001, "adagrad": 0.01}

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Raise ValueError naming the option, the valid choices or range, and the value."""
        for name, choices in (("dataset", DATASETS), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
            value = getattr(self, name)
            if value not in choices:
                raise ValueError(f"unknown {name} {value!r}; choose from {', '.join(choices)}")
        from .models import MODELS
        if self.model is not None and self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; choose from {', '.join(sorted(MODELS))}")
        for name in ("epochs", "batch_size", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
        for name in ("limit", "test_limit"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(self, name)}")
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
        return self.lr if self.lr is not None else self.DEFAULT_LR[self.optimizer]

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
