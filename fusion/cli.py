"""The ``nomofuse`` command line.

Each sub-command lives in its own module under :mod:`fusion.commands` and exposes
``add_parser(subparsers)`` (registers its arguments and sets ``func``) and
nothing else at import time that is expensive: heavy imports happen inside the
command's ``run`` function so ``nomofuse --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Module names under fusion.commands, in the order --help lists them.
COMMANDS = ["example", "radiomics", "predict"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nomofuse",
        description="Imaging, pathology and clinical data fused into validated nomograms.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"fusion.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
