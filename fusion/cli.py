"""The ``nomofuse`` command line.

Each sub-command lives in its own module under :mod:`fusion.commands` and
exposes ``add_parser(subparsers)`` (registers its arguments and sets
``func``). Command modules are imported to build the parser, so they import
nothing expensive at module level: heavy imports (pandas, SimpleITK, torch...)
happen inside the command's ``run``, so ``nomofuse --help`` stays fast (a
test checks which modules ``--help`` loads). A cohort command (manifest in,
feature table out) subclasses :class:`fusion.commands.cohort_command.CohortCommand`;
its module docstring says how to add one.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Module names under fusion.commands, in the order --help lists them.
COMMANDS = ["demo", "run", "screen", "predict", "radiomics", "example"]

_DESCRIPTION = """\
Imaging, pathology and clinical data fused into validated nomograms.

Run 'nomofuse COMMAND --help' for the options of a command."""


def build_parser() -> argparse.ArgumentParser:
    from .cohort.versions import nomofuse_version

    parser = argparse.ArgumentParser(
        prog="nomofuse", description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nomofuse {nomofuse_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMANDS:
        module = importlib.import_module(f"fusion.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``nomofuse`` with ``argv`` (default: the process's arguments); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):  # bare `nomofuse`: the help, not an error
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except ImportError as err:  # an optional package the command needs is not installed
        from nomogram.checks import extra_for, missing_extra_message

        name = getattr(err, "name", None)
        if name is None or (extra_for(name) is None and not isinstance(err, ModuleNotFoundError)):
            raise
        print(f"nomofuse {args.command}: {missing_extra_message(name)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
