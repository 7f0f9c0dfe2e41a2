"""Train the Raven solvers' networks and evaluate every solver on fresh problems.

:func:`train` writes into one run folder:

=========================================  ==============================================
``encoder.npz``                            the panel encoder (strong solver)
``pair.npz``                               the pair network (seed 003's design)
``blind_2x2_{encoder,head}.npz``, 3x3      the answers-only networks
``history_{encoder,pair,blind_2x2,...}``   per-epoch loss and accuracy (JSON)
``curves_*.png``, ``per_rule.png``         training curves; accuracy per rule and solver
``config.json``, ``metrics.json``          the settings; the evaluation (:func:`evaluate`)
=========================================  ==============================================

Every network trains with :func:`handgrad.training.fit`, Adam and a cosine schedule, on
problems generated from ``seed``; evaluation problems come from another seed
(``seed + 1000`` by default), so they are fresh.
"""

import json
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from .._files import atomic_open
from ..data import DataLoader
from ..io import load, save
from ..losses import CrossEntropyLoss
from ..optim import Adam, CosineAnnealingLR
from ..training import fit
from . import solvers as S
from .generate import CHOICES, KINDS, generate, rule_labels
from .networks import (ENCODER_HEADS, PAIR_HEADS, PAIR_REGRESSION, MultiHeadLoss, SetScorer,
                       head_accuracy, pair_network, panel_encoder, set_scorer)
from .panels import ATTRS


@dataclass
class RavenConfig:
    """Settings of ``handgrad raven train`` (defaults: the floors in about 10 minutes on 2 cores)."""
    seed: int = 0
    size: int = 40
    encoder_problems: int = 4000          # 2x2 problems whose panels train the encoder
    encoder_problems_3x3: int = 1000      # and 3x3 problems
    encoder_epochs: int = 5
    pairs: int = 16000
    pair_epochs: int = 3
    blind_problems: int = 1500
    blind_epochs: int = 3
    eval_problems: int = 2000
    batch_size: int = 64
    lr: float = 3e-3
    verbose: bool = None

    def validate(self):
        for name in ("encoder_problems", "encoder_problems_3x3", "encoder_epochs", "pairs", "pair_epochs", "blind_problems",
                     "blind_epochs", "eval_problems", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"raven train expected {name} to be a positive integer, got {value!r}")
        if self.size < 16 or self.size % 8:
            raise ValueError(f"raven train expected size to be a multiple of 8 of at least 16, got {self.size}")
        if not self.lr > 0:
            raise ValueError(f"raven train expected lr > 0, got {self.lr}")
        return self


def write_json(path, obj):
    """Write ``obj`` as JSON atomically (a temporary file renamed over ``path``) and read it back."""
    with atomic_open(path) as f:
        json.dump(obj, f, indent=2)
    with open(path) as f:
        json.load(f)
    return path


def _panels(problems):
    """All panels of problem sets: attributes ``(M, 5)`` and uint8 images ``(M, 1, S, S)``."""
    attrs, images = [], []
    for p in problems:
        S = p["context_images"].shape[-1]
        attrs += [p["context"].reshape(-1, 5), p["choices"].reshape(-1, 5)]
        images += [p["context_images"].reshape(-1, S, S), p["choice_images"].reshape(-1, S, S)]
    return np.concatenate(attrs), np.concatenate(images)[:, None]


def _pairs(problems, n, rng):
    """``n`` pairs of panels (p -> q) the agent compares, drawn from problem sets."""
    lefts, rights, pl, pr = [], [], [], []
    for p in problems:
        src_ref = S._PAIRS_2X2 if p["kind"] == "2x2" else S._PAIRS_3X3
        for src, refs in src_ref:
            lefts.append(np.broadcast_to(p["context_images"][:, src, None], p["choice_images"].shape))
            rights.append(p["choice_images"])
            pl.append(np.broadcast_to(p["context"][:, src, None], p["choices"].shape))
            pr.append(p["choices"])
            for a, b in refs:
                lefts.append(p["context_images"][:, a, None]), rights.append(p["context_images"][:, b, None])
                pl.append(p["context"][:, a, None]), pr.append(p["context"][:, b, None])
    S_ = lefts[0].shape[-1]
    left = np.concatenate([x.reshape(-1, S_, S_) for x in lefts])
    right = np.concatenate([x.reshape(-1, S_, S_) for x in rights])
    a = np.concatenate([x.reshape(-1, 5) for x in pl])
    b = np.concatenate([x.reshape(-1, 5) for x in pr])
    pick = rng.choice(len(left), min(n, len(left)), replace=False)
    return S.pair_images(left[pick], right[pick])[:, None], S.pair_targets(a[pick], b[pick])


def _fit(model, loss, x, y, cfg, epochs, rng, metrics, path):
    optimizer = Adam(model.parameters(), lr=cfg.lr)
    loader = DataLoader(x, y, batch_size=cfg.batch_size, shuffle=True, rng=rng)
    schedule = CosineAnnealingLR(optimizer, epochs * len(loader))
    history = fit(model, loss, optimizer, loader, epochs=epochs, schedule=schedule,
                  schedule_interval="step", metrics=metrics, verbose=cfg.verbose)
    history.to_json(path)
    return history


def train(cfg, out):
    """Train every network of ``cfg`` (a :class:`RavenConfig`) into the folder ``out``; returns metrics."""
    cfg.validate()
    started, cpu = time.perf_counter(), time.process_time()
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "config.json"), {k: v for k, v in asdict(cfg).items() if k != "verbose"})
    seeds = np.random.SeedSequence(cfg.seed).spawn(6)
    rng = lambda i: np.random.default_rng(seeds[i])                    # noqa: E731
    times = {}
    say = (lambda *a: print(*a, flush=True)) if cfg.verbose is not False else (lambda *a: None)

    # -- the panel encoder: attributes of every panel of generated problems -----------------
    t = time.perf_counter()
    train_sets = [generate("2x2", cfg.encoder_problems, rng(0), size=cfg.size),
                  generate("3x3", cfg.encoder_problems_3x3, rng(1), size=cfg.size)]
    attrs, images = _panels(train_sets)
    say(f"panel encoder: {len(images)} panels, {cfg.encoder_epochs} epochs")
    encoder = panel_encoder(cfg.size, rng=rng(2))
    _fit(encoder, MultiHeadLoss(ENCODER_HEADS), images, S.encoder_targets(attrs), cfg, cfg.encoder_epochs,
         rng(2), (head_accuracy(ENCODER_HEADS),), os.path.join(out, "history_encoder.json"))
    save(encoder, os.path.join(out, "encoder.npz"))
    times["encoder_s"] = time.perf_counter() - t

    # -- seed 003's pair network: transformations between panels of the same problems ------
    t = time.perf_counter()
    x, y = _pairs(train_sets, cfg.pairs, rng(3))
    say(f"pair network (seed 003): {len(x)} pairs, {cfg.pair_epochs} epochs")
    pair = pair_network(cfg.size, rng=rng(3))
    _fit(pair, MultiHeadLoss(PAIR_HEADS, PAIR_REGRESSION), x, y, cfg, cfg.pair_epochs, rng(3),
         (head_accuracy(PAIR_HEADS),), os.path.join(out, "history_pair.json"))
    save(pair, os.path.join(out, "pair.npz"))
    times["pair_s"] = time.perf_counter() - t
    del train_sets, attrs, images, x, y

    # -- answers-only networks: the choices alone, cross-entropy over the choices -------------
    for i, kind in enumerate(KINDS):
        t = time.perf_counter()
        problems = generate(kind, cfg.blind_problems, rng(4 + i), size=cfg.size)
        say(f"answers-only network {kind}: {cfg.blind_problems} problems, {cfg.blind_epochs} epochs")
        scorer = set_scorer(cfg.size, rng=rng(4 + i))
        _fit(scorer, CrossEntropyLoss(), problems["choice_images"][:, :, None], problems["answer"], cfg,
             cfg.blind_epochs, rng(4 + i), ("accuracy",), os.path.join(out, f"history_blind_{kind}.json"))
        save(scorer.encoder, os.path.join(out, f"blind_{kind}_encoder.npz"))
        save(scorer.head, os.path.join(out, f"blind_{kind}_head.npz"))
        times[f"blind_{kind}_s"] = time.perf_counter() - t

    train_s = time.perf_counter() - started
    metrics = evaluate(out, n=cfg.eval_problems, seed=cfg.seed + 1000, size=cfg.size, verbose=cfg.verbose)
    metrics["train_time_s"] = train_s
    metrics["train_times_s"] = times
    metrics["wall_time_s"] = time.perf_counter() - started
    metrics["cpu_time_s"] = time.process_time() - cpu          # all threads of this process
    write_json(os.path.join(out, "metrics.json"), metrics)
    _plots(out, metrics)
    return metrics


def load_solvers(folder):
    """The networks of a run folder: dict with ``encoder``, ``pair``, ``blind_2x2``, ``blind_3x3``."""
    need = ["encoder.npz", "pair.npz"] + [f"blind_{k}_{p}.npz" for k in KINDS for p in ("encoder", "head")]
    missing = [n for n in need if not os.path.exists(os.path.join(folder, n))]
    if missing:
        raise FileNotFoundError(f"{folder!r} is not a raven run folder: missing {', '.join(missing)}")
    nets = {"encoder": load(os.path.join(folder, "encoder.npz")), "pair": load(os.path.join(folder, "pair.npz"))}
    for kind in KINDS:
        nets[f"blind_{kind}"] = SetScorer(load(os.path.join(folder, f"blind_{kind}_encoder.npz")),
                                          load(os.path.join(folder, f"blind_{kind}_head.npz")))
    for net in nets.values():
        net.eval()
    return nets


def all_scores(problems, nets):
    """Scores ``(P, n)`` of every solver on one problem set: dict solver -> scores."""
    kind = problems["kind"]
    perceived = S.perceive(nets["encoder"], problems["context_images"]), \
        S.perceive(nets["encoder"], problems["choice_images"])
    return {"strong": S.perception_scores(problems, perceived=perceived),
            "strong_all_attributes": S.perception_scores(problems, perceived=perceived, focus=False),
            "seed003": S.transformation_scores(problems, nets["pair"]),
            "context_blind": S.blind_scores(problems, nets[f"blind_{kind}"]),
            "heuristic": S.heuristic_scores(problems)}, perceived


def evaluate(folder, *, n=2000, seed=1000, size=40, verbose=None):
    """Accuracy of every solver of run ``folder`` on ``n`` fresh problems of each kind (a dict)."""
    nets = load_solvers(folder)
    rng = np.random.default_rng(seed)
    metrics, per_rule, perception = {}, {}, {}
    for kind in KINDS:
        t = time.perf_counter()
        problems = generate(kind, n, rng, size=size)
        scores, perceived = all_scores(problems, nets)
        right = {name: _right(s, problems) for name, s in scores.items()}
        metrics[f"accuracy_{kind}"] = float(right["strong"].mean())
        metrics[f"strong_all_attributes_{kind}"] = float(right["strong_all_attributes"].mean())
        metrics[f"seed003_{kind}"] = float(right["seed003"].mean())
        metrics[f"context_blind_{kind}"] = float(right["context_blind"].mean())
        metrics[f"heuristic_{kind}"] = float(right["heuristic"].mean())
        metrics[f"chance_{kind}"] = 1.0 / CHOICES[kind]
        labels = rule_labels(problems)
        table = {}
        for rule in sorted({r for ls in labels for r in ls}):
            mask = np.array([rule in ls for ls in labels])
            table[rule] = {"n": int(mask.sum()), **{name: float(r[mask].mean()) for name, r in right.items()}}
        per_rule[kind] = table
        perception[kind] = _perception_accuracy(problems, perceived)
        metrics[f"eval_time_{kind}_s"] = time.perf_counter() - t
        if verbose is not False:
            print(f"{kind}: strong {metrics[f'accuracy_{kind}']:.4f}, seed003 {metrics[f'seed003_{kind}']:.4f}, "
                  f"answers-only {metrics[f'context_blind_{kind}']:.4f}, heuristic "
                  f"{metrics[f'heuristic_{kind}']:.4f}, chance {metrics[f'chance_{kind}']:.4f}", flush=True)
    metrics["accuracy_per_rule"] = per_rule
    metrics["perception_accuracy"] = perception
    metrics["eval_problems"] = n
    metrics["eval_seed"] = seed
    return metrics


def _right(scores, problems):
    best = scores.max(axis=1, keepdims=True)
    unique = (scores == best).sum(axis=1) == 1
    return unique & (scores.argmax(axis=1) == problems["answer"])


def _perception_accuracy(problems, perceived):
    """Fraction of panels whose attribute the encoder reads right, per attribute."""
    truth = S.encoder_targets(np.concatenate([problems["context"].reshape(-1, 5), problems["choices"].reshape(-1, 5)]))
    out = {}
    for i, name in enumerate(ATTRS):
        got = np.concatenate([perceived[0][i].argmax(-1).ravel(), perceived[1][i].argmax(-1).ravel()])
        out[name] = float(np.mean(got == truth[:, i]))
    return out


def _plots(out, metrics):
    """Training curves and the per-rule bar chart; silently skipped without matplotlib."""
    try:
        from ..training import History, plots
        from .pictures import plot_per_rule
    except ImportError:
        return
    for name in ["encoder", "pair"] + [f"blind_{k}" for k in KINDS]:
        path = os.path.join(out, f"history_{name}.json")
        if os.path.exists(path):
            plots.plot_history(History.from_json(path), os.path.join(out, f"curves_{name}.png"))
    plot_per_rule(metrics, os.path.join(out, "per_rule.png"))
