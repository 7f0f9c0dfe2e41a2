"""``handgrad gradcheck``: check every built-in layer's backward against central differences."""

import numpy as np

from .. import layers as L
from ..gradcheck import gradcheck


def _cases():
    """(label, layer factory(rng), input shape). Layers are built in float64."""
    f64 = np.float64
    return [
        ("Linear", lambda rng: L.Linear(5, 4, rng=rng, dtype=f64), (3, 5)),
        ("ReLU", lambda rng: L.ReLU(), (3, 7)),
        ("MaxPool1d(3,s2,p1,ceil)", lambda rng: L.MaxPool1d(3, 2, 1, ceil_mode=True), (2, 3, 8)),
        ("MaxPool2d(2)", lambda rng: L.MaxPool2d(2), (2, 3, 6, 6)),
        ("MaxPool2d(3,s2,p1)", lambda rng: L.MaxPool2d(3, stride=2, padding=1), (2, 2, 7, 7)),
        ("MaxPool3d(2,s1)", lambda rng: L.MaxPool3d(2, stride=1), (1, 2, 3, 4, 3)),
        ("AvgPool1d(3,s2,p1,excl)", lambda rng: L.AvgPool1d(3, 2, 1, count_include_pad=False), (2, 3, 9)),
        ("AvgPool2d(2)", lambda rng: L.AvgPool2d(2), (2, 3, 6, 6)),
        ("AvgPool2d(3,s2,p1,ceil)", lambda rng: L.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 2, 6, 7)),
        ("AvgPool3d(2,s1)", lambda rng: L.AvgPool3d(2, stride=1), (1, 2, 3, 3, 3)),
        ("GlobalAvgPool", lambda rng: L.GlobalAvgPool(), (2, 3, 4, 4)),
        ("GlobalMaxPool", lambda rng: L.GlobalMaxPool(), (2, 3, 4, 4)),
    ]


def add_parser(sub):
    p = sub.add_parser("gradcheck", help="numerically check the gradients of every built-in layer",
                       description="Compare each built-in layer's analytic gradients (input and "
                                   "parameters) with central differences in float64.")
    p.add_argument("--seed", type=int, default=0, help="seed for weights, inputs and upstream gradients")
    p.add_argument("--only", metavar="NAME", nargs="*", help="check only these layers")
    return p


def run(args):
    rng = np.random.default_rng(args.seed)
    cases = _cases()
    if args.only:
        known = {c[0] for c in cases}
        unknown = [n for n in args.only if n not in known]
        if unknown:
            raise SystemExit(f"handgrad gradcheck: unknown layer(s) {unknown}; choose from {sorted(known)}")
        cases = [c for c in cases if c[0] in args.only]
    print(f"{'layer':<28} {'tensor':<12} {'max rel err':>12}  result")
    failures = 0
    for label, factory, shape in cases:
        layer = factory(rng)
        x = rng.standard_normal(shape)
        x += np.sign(x) * 0.05  # keep inputs away from kinks at 0 (ReLU family)
        report = gradcheck(layer, x, rng=rng, raise_on_failure=False)
        for t in report.tensors:
            print(f"{label:<28} {t.name:<12} {t.max_rel_err:>12.2e}  {'ok' if t.passed else 'FAILED'}")
        failures += not report.passed
    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0
