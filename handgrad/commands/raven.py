"""``handgrad raven``: Raven's progressive matrices (docs/raven.md).

``generate``  problems to .npz and a PNG sheet
``train``     the solvers' networks into a run folder, then the evaluation (metrics.json)
``evaluate``  every solver of a run folder on fresh problems
``solve``     one problem: a PNG of the matrix, the choices, each choice's score, the choice framed
"""

import json
import os

import numpy as np

from ._common import CommandError


def add_parser(sub):
    p = sub.add_parser("raven", help="Raven's progressive matrices: generate, train, evaluate, solve",
                       description="Raven's progressive matrices on the shapes renderer (docs/raven.md).")
    cmds = p.add_subparsers(dest="raven_command", metavar="ACTION")

    g = cmds.add_parser("generate", help="problems to .npz and a PNG sheet")
    g.add_argument("--kind", choices=("2x2", "3x3"), default="3x3", help="(default 3x3)")
    g.add_argument("--n", type=int, default=12, help="number of problems (default 12)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--size", type=int, default=40, help="panel side in pixels (default 40)")
    g.add_argument("--out", default=None, metavar="FILE",
                   help="problem file (default raven-<kind>-seed<seed>.npz); the sheet goes beside it as .png")
    g.add_argument("--force", action="store_true", help="overwrite an existing file")

    from ..raven.train import RavenConfig
    d = RavenConfig()
    t = cmds.add_parser("train", help="train the solvers; writes models, histories, plots, metrics.json",
                        description="Train the panel encoder (strong solver), the pair network (seed 003's "
                                    "design) and the answers-only networks, then evaluate every solver on "
                                    "fresh problems. The defaults reach the floors.")
    t.add_argument("--out", required=True, metavar="DIR", help="run folder (must not exist or be empty)")
    t.add_argument("--seed", type=int, default=d.seed)
    for name in ("encoder_problems", "encoder_problems_3x3", "encoder_epochs", "pairs", "pair_epochs", "blind_problems",
                 "blind_epochs", "eval_problems", "batch_size"):
        t.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(d, name),
                       help=f"(default {getattr(d, name)})")
    t.add_argument("--lr", type=float, default=d.lr, help=f"(default {d.lr})")
    t.add_argument("--quiet", action="store_true", help="no progress bars")

    e = cmds.add_parser("evaluate", help="every solver of a run folder on fresh problems")
    e.add_argument("dir", metavar="DIR")
    e.add_argument("--n", type=int, default=2000, help="problems of each kind (default 2000)")
    e.add_argument("--seed", type=int, default=2026, help="seed of the fresh problems (default 2026)")

    s = cmds.add_parser("solve", help="solve one problem; writes a PNG with the scores")
    s.add_argument("dir", metavar="DIR", help="run folder of `handgrad raven train`")
    s.add_argument("problem", metavar="PROBLEM",
                   help="a problem file from `handgrad raven generate`, or 2x2 / 3x3 for a new one")
    s.add_argument("--index", type=int, default=0, help="which problem of the file (default 0)")
    s.add_argument("--seed", type=int, default=0, help="seed of a new problem (PROBLEM 2x2 or 3x3)")
    s.add_argument("--solver", choices=("strong", "seed003"), default="strong")
    s.add_argument("--out", default=None, metavar="PNG", help="picture (default DIR/solve-....png)")
    return p


def run(args):
    actions = {"generate": _generate, "train": _train, "evaluate": _evaluate, "solve": _solve}
    if args.raven_command is None:
        raise CommandError("choose an action: generate, train, evaluate or solve")
    return actions[args.raven_command](args) or 0     # errors: one line from handgrad.cli.main


def _generate(args):
    from ..raven.generate import generate
    from ..raven.problem_file import save_problems

    if args.n < 1:
        raise CommandError(f"--n must be a positive integer, got {args.n}")
    if args.size < 16:
        raise CommandError(f"--size must be at least 16 pixels, got {args.size}")
    path = args.out or f"raven-{args.kind}-seed{args.seed}.npz"
    if not path.endswith(".npz"):
        raise CommandError(f"--out must name a .npz file, got {path!r}")
    if os.path.exists(path) and not args.force:
        raise CommandError(f"{path!r} exists; pass --force to overwrite it")
    problems = generate(args.kind, args.n, np.random.default_rng(args.seed), size=args.size)
    save_problems(problems, path)
    print(f"wrote {args.n} {args.kind} problems to {path}")
    sheet = path[:-4] + ".png"
    try:
        from ..raven.pictures import problem_sheet
        problem_sheet(problems, sheet)
        print(f"wrote {sheet}")
    except ImportError as e:
        print(f"note: no sheet written ({e}); pip install matplotlib")
    return 0


def _train(args):
    from ..raven.train import RavenConfig, train

    if os.path.isdir(args.out) and os.listdir(args.out):
        raise CommandError(f"run folder {args.out!r} exists and is not empty; choose a new --out")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CommandError(f"--out {args.out!r} is a file, expected a folder")
    cfg = RavenConfig(seed=args.seed, encoder_problems=args.encoder_problems,
                      encoder_problems_3x3=args.encoder_problems_3x3, encoder_epochs=args.encoder_epochs,
                      pairs=args.pairs, pair_epochs=args.pair_epochs, blind_problems=args.blind_problems,
                      blind_epochs=args.blind_epochs, eval_problems=args.eval_problems,
                      batch_size=args.batch_size, lr=args.lr, verbose=False if args.quiet else None)
    cfg.validate()
    metrics = train(cfg, args.out)
    _print_metrics(metrics)
    print(f"trained in {metrics['wall_time_s']:.0f} s; wrote {args.out}")
    return 0


def _evaluate(args):
    from ..raven.train import evaluate, write_json

    if args.n < 1:
        raise CommandError(f"--n must be a positive integer, got {args.n}")
    size = _run_size(args.dir)
    metrics = evaluate(args.dir, n=args.n, seed=args.seed, size=size, verbose=False)
    path = write_json(os.path.join(args.dir, f"evaluation-seed{args.seed}-n{args.n}.json"), metrics)
    _print_metrics(metrics)
    print(f"wrote {path}")
    return 0


def _solve(args):
    from ..raven import solvers as S
    from ..raven.generate import KINDS, generate
    from ..raven.problem_file import load_problems, select
    from ..raven.train import load_solvers

    nets = load_solvers(args.dir)
    if args.problem in KINDS:
        problems = generate(args.problem, 1, np.random.default_rng(args.seed), size=_run_size(args.dir))
        name = f"{args.problem}-seed{args.seed}"
    else:
        problems = select(load_problems(args.problem), args.index)
        name = f"{os.path.splitext(os.path.basename(args.problem))[0]}-{args.index}"
    if problems["choice_images"].shape[-1] != _run_size(args.dir):
        raise CommandError(f"the problem's panels are {problems['choice_images'].shape[-1]} pixels, the "
                           f"run's networks read {_run_size(args.dir)}")
    if args.solver == "strong":
        scores = S.perception_scores(problems, nets["encoder"])[0]
    else:
        scores = S.transformation_scores(problems, nets["pair"])[0]
    chosen = int(np.argmax(scores))
    answer = int(problems["answer"][0])
    print(f"{args.solver} scores: " + ", ".join(f"{j + 1}: {s:.2f}" for j, s in enumerate(scores)))
    print(f"chose {chosen + 1}; the answer is {answer + 1} ({'right' if chosen == answer else 'wrong'})")
    from ..raven.pictures import solved_picture
    out = args.out or os.path.join(args.dir, f"solve-{name}-{args.solver}.png")
    solved_picture(problems, 0, scores, out, solver=args.solver)
    print(f"wrote {out}")
    return 0


def _run_size(folder):
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        raise CommandError(f"{folder!r} is not a raven run folder (no config.json); "
                           f"train one with `handgrad raven train --out DIR`")
    try:
        with open(path) as f:
            return int(json.load(f)["size"])
    except (ValueError, KeyError) as e:
        raise CommandError(f"{path!r} is damaged: {e}") from e


def _print_metrics(m):
    for kind in ("2x2", "3x3"):
        print(f"{kind}: strong {m[f'accuracy_{kind}']:.4f}  seed003 {m[f'seed003_{kind}']:.4f}  "
              f"answers-only {m[f'context_blind_{kind}']:.4f}  heuristic {m[f'heuristic_{kind}']:.4f}  "
              f"chance {m[f'chance_{kind}']:.4f}")
