"""The ``handgrad`` command line: one sub-command per module in :mod:`handgrad.commands`.

Each command module defines ``add_parser(subparsers)`` (returning its parser) and
``run(args) -> int``. Strings from the command line are mapped to objects only there.
"""

import argparse
import importlib
import sys

# sub-command name -> module under handgrad.commands
COMMANDS = {
    "gradcheck": "gradcheck",
    "train": "train",
    "evaluate": "evaluate",
    "predict": "predict",
    "summary": "summary",
    "datasets": "datasets",
    "raven": "raven",
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog="handgrad", description="Convolutional neural networks from scratch in NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"handgrad.commands.{module_name}")
        module.add_parser(sub).set_defaults(_run=module.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
