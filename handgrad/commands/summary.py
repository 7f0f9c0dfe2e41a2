"""``handgrad summary --model NAME``: per-layer output shapes, parameters and MACs."""

import math

from ..models import MODELS
from ._common import CommandError, report

#: the largest sample summary runs a forward pass on (values, e.g. 1x4096x4096)
MAX_INPUT_VALUES = 1 << 24


def add_parser(sub):
    p = sub.add_parser("summary", help="print a ready model's layers, output shapes, parameters and MACs",
                       description="Build a ready model and print its summary (as model.summary does).")
    p.add_argument("--model", default="fast-cnn", help=f"one of: {', '.join(sorted(MODELS))}")
    p.add_argument("--input-shape", default=None, metavar="C,H,W",
                   help="shape of one sample, without the batch axis "
                        "(default 1,28,28; 1,64,64 for shapes-regressor)")
    return p


def parse_shape(text):
    try:
        shape = tuple(int(s) for s in text.replace("x", ",").split(",") if s.strip())
    except ValueError:
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise CommandError(f"--input-shape expects positive integers like 1,28,28, got {text!r}")
    values = math.prod(shape)
    if values > MAX_INPUT_VALUES:
        raise CommandError(f"--input-shape {text} has {values} values per sample; summary runs one forward "
                           f"pass and accepts at most {MAX_INPUT_VALUES}")
    return shape


def run(args):
    from ..models import get_model
    from ..summary import summary
    try:
        if args.model not in MODELS:
            raise CommandError(f"unknown model {args.model!r}; choose from {', '.join(sorted(MODELS))}")
        default = "1,64,64" if args.model == "shapes-regressor" else "1,28,28"
        shape = parse_shape(args.input_shape or default)
        model = get_model(args.model, rng=0)
        try:
            text = str(summary(model, shape))
        except ValueError as e:
            raise CommandError(f"model {args.model!r} does not accept input shape {shape}: {e}") from e
    except CommandError as e:
        return report("summary", e)
    print(f"model: {args.model}")
    print(text)
    return 0
