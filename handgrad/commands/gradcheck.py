"""``handgrad gradcheck``: check every built-in layer's backward against central differences."""

import numpy as np

from .. import layers as L
from .. import losses as Ls
from ..gradcheck import gradcheck
from ..gradcheck import gradcheck_loss


def _cases():
    """(label, layer factory(rng), input shape). Layers are built in float64."""
    f64 = np.float64
    return [
        ("Linear", lambda rng: L.Linear(5, 4, rng=rng, dtype=f64), (3, 5)),
        ("ReLU", lambda rng: L.ReLU(), (3, 7)),
        ("LeakyReLU", lambda rng: L.LeakyReLU(0.1), (3, 7)),
        ("Sigmoid", lambda rng: L.Sigmoid(), (3, 7)),
        ("Tanh", lambda rng: L.Tanh(), (3, 7)),
        ("Softmax", lambda rng: L.Softmax(), (3, 7)),
        ("Flatten", lambda rng: L.Flatten(), (2, 3, 2, 2)),
        # the same mask at every evaluation: re-seed the layer's generator before each forward
        ("Dropout", lambda rng: L.Dropout(0.3, rng=0), (4, 6), lambda layer: (lambda: layer.reseed(0))),
        ("BatchNorm1d", lambda rng: _randomized(L.BatchNorm1d(4, dtype=f64), rng), (6, 4)),
        ("BatchNorm1d-3d", lambda rng: _randomized(L.BatchNorm1d(3, dtype=f64), rng), (4, 3, 5)),
        ("BatchNorm2d", lambda rng: _randomized(L.BatchNorm2d(3, dtype=f64), rng), (3, 3, 4, 4)),
        ("BatchNorm2d-eval", lambda rng: _randomized(L.BatchNorm2d(3, dtype=f64), rng).eval(), (3, 3, 4, 4)),
        ("Conv1d-same-s2", lambda rng: L.Conv1d(2, 3, 4, stride=2, padding="same", rng=rng, dtype=f64), (2, 2, 9)),
        ("Conv2d-p1", lambda rng: L.Conv2d(2, 3, 3, padding=1, rng=rng, dtype=f64), (2, 2, 5, 5)),
        ("Conv2d-s2-d2-groups2", lambda rng: L.Conv2d(4, 2, 3, stride=2, padding=2, dilation=2, groups=2,
                                                      rng=rng, dtype=f64), (2, 4, 7, 6)),
        ("Conv3d", lambda rng: L.Conv3d(2, 2, 2, stride=(1, 2, 1), rng=rng, dtype=f64), (2, 2, 3, 4, 3)),
        ("UntiedBias", lambda rng: L.UntiedBias((3, 4, 4), rng=rng, dtype=f64), (2, 3, 4, 4)),
        ("MaxPool1d-k3s2p1-ceil", lambda rng: L.MaxPool1d(3, 2, 1, ceil_mode=True), (2, 3, 8)),
        ("MaxPool2d-2x2", lambda rng: L.MaxPool2d(2), (2, 3, 6, 6)),
        ("MaxPool2d-k3s2p1", lambda rng: L.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
        ("MaxPool3d-k2s1", lambda rng: L.MaxPool3d(2, stride=1), (1, 2, 3, 4, 3)),
        ("AvgPool1d-k3s2p1-excl", lambda rng: L.AvgPool1d(3, 2, 1, count_include_pad=False), (2, 3, 9)),
        ("AvgPool2d-2x2", lambda rng: L.AvgPool2d(2), (2, 3, 6, 6)),
        ("AvgPool2d-k3s2p1-ceil", lambda rng: L.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 2, 6, 7)),
        ("AvgPool3d-k2s1", lambda rng: L.AvgPool3d(2, stride=1), (1, 2, 3, 3, 3)),
        ("GlobalAvgPool", lambda rng: L.GlobalAvgPool(), (2, 3, 4, 4)),
        ("GlobalMaxPool", lambda rng: L.GlobalMaxPool(), (2, 3, 4, 4)),
    ]


def _randomized(bn, rng):
    """A BatchNorm with random affine parameters and running statistics (a stricter check)."""
    bn.weight.data[...] = rng.uniform(0.5, 1.5, bn.num_features)
    bn.bias.data[...] = rng.standard_normal(bn.num_features)
    bn.running_mean[...] = rng.standard_normal(bn.num_features)
    bn.running_var[...] = rng.uniform(0.5, 2.0, bn.num_features)
    return bn


def _loss_cases():
    """(label, loss, prediction shape, target(rng)). Predictions are float64 normal draws."""
    labels = lambda rng: rng.integers(0, 5, 4)                      # noqa: E731
    probs = lambda rng: rng.dirichlet(np.ones(5), 4)                # noqa: E731
    return [
        ("CrossEntropyLoss", Ls.CrossEntropyLoss(), (4, 5), labels),
        ("CrossEntropyLoss-smooth", Ls.CrossEntropyLoss(label_smoothing=0.2), (4, 5), labels),
        ("CrossEntropyLoss-probs-sum", Ls.CrossEntropyLoss(reduction="sum"), (4, 5), probs),
        ("CategoricalCrossEntropy", Ls.CategoricalCrossEntropy(), (4, 5), labels),
        ("MSELoss", Ls.MSELoss(), (4, 3), lambda rng: rng.standard_normal((4, 3))),
        ("BCEWithLogitsLoss", Ls.BCEWithLogitsLoss(), (4, 3), lambda rng: rng.uniform(0, 1, (4, 3))),
    ]


def add_parser(sub):
    p = sub.add_parser("gradcheck", help="numerically check the gradients of every built-in layer",
                       description="Compare each built-in layer's analytic gradients (input and "
                                   "parameters) with central differences in float64.")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, inputs and upstream gradients")
    p.add_argument("--only", metavar="NAME", nargs="*", help="check only these layers")
    return p


def run(args):
    from ._common import CommandError
    if args.seed < 0:
        raise CommandError(f"--seed must be >= 0, got {args.seed}")
    rng = np.random.default_rng(args.seed)
    cases = _cases()
    loss_cases = _loss_cases()
    if args.only:
        known = {c[0] for c in cases}
        known |= {c[0] for c in loss_cases}
        unknown = [n for n in args.only if n not in known]
        if unknown:
            raise CommandError(f"unknown layer(s) {unknown}; choose from {sorted(known)}")
        cases = [c for c in cases if c[0] in args.only]
        loss_cases = [c for c in loss_cases if c[0] in args.only]
    print(f"{'layer':<28} {'tensor':<12} {'max rel err':>12}  result")
    failures = 0
    for label, factory, shape, *hook in cases:
        layer = factory(rng)
        x = rng.standard_normal(shape)
        x += np.sign(x) * 0.05  # keep inputs away from kinks at 0 (ReLU family)
        before = hook[0](layer) if hook else None   # optional: before_forward built from the layer
        report = gradcheck(layer, x, rng=rng, raise_on_failure=False, before_forward=before)
        for t in report.tensors:
            print(f"{label:<28} {t.name:<12} {t.max_rel_err:>12.2e}  {'ok' if t.passed else 'FAILED'}")
        failures += not report.passed
    for label, loss, shape, make_target in loss_cases:
        prediction = rng.standard_normal(shape)
        if isinstance(loss, Ls.CategoricalCrossEntropy):
            prediction = rng.dirichlet(np.ones(shape[1]), shape[0]) * 0.9 + 0.1 / shape[1]
        report = gradcheck_loss(loss, prediction, make_target(rng), rng=rng, raise_on_failure=False)
        for t in report.tensors:
            print(f"{label:<28} {t.name:<12} {t.max_rel_err:>12.2e}  {'ok' if t.passed else 'FAILED'}")
        failures += not report.passed
    cases = cases + loss_cases
    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0
