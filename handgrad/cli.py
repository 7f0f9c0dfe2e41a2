"""The ``handgrad`` command line: one sub-command per module in :mod:`handgrad.commands`.

Each command module defines ``add_parser(subparsers)`` (returning its parser) and
``run(args) -> int``. Strings from the command line are mapped to objects only there.

Errors take one path (:func:`main`): whatever a user can cause (a bad option, a missing or
corrupt file, no network, a diverged run, too little memory) is printed as one line,
``handgrad CMD: error: ...``, with exit status 2 (1 for a diverged run; see
:func:`handgrad.commands._common.user_error`). Anything else is a bug in handgrad and
keeps its traceback; ``--debug`` shows the traceback of every error.
"""

import argparse
import importlib
import sys

from .commands._common import user_error

# sub-command name -> module under handgrad.commands
COMMANDS = {
    "gradcheck": "gradcheck",
    "train": "train",
    "evaluate": "evaluate",
    "predict": "predict",
    "summary": "summary",
    "datasets": "datasets",
}


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors (unknown option, bad number) are one line too."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = _Parser(
        prog="handgrad", description="Convolutional neural networks from scratch in NumPy.")
    debug_help = "on an error, show the full traceback instead of one line"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"handgrad.commands.{module_name}")
        command = module.add_parser(sub)
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)
        command.set_defaults(_run=module.run)
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
    except Exception as e:           # noqa: BLE001 -- sorted into user errors and bugs below
        status, message = user_error(e)
        if args.debug or status is None:
            raise
        print(f"handgrad {args.command}: error: {message}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
