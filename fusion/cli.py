"""The ``nomofuse`` command line.

Each sub-command lives in its own module under :mod:`fusion.commands` and
exposes ``add_parser(subparsers)`` (registers its arguments and sets
``func``). Every command runs inside :func:`fusion.commands.exit_status.guarded`:
an error prints one line with the fix and a documented exit status (listed
by ``nomofuse --help``), never a Python traceback unless ``--debug``. Command modules are imported to build the parser, so they import
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
COMMANDS = ["demo", "run", "screen", "predict", "radiomics", "slides", "example"]

_DESCRIPTION = """\
Imaging, pathology and clinical data fused into validated nomograms.

Run 'nomofuse COMMAND --help' for the options of a command."""

_EPILOG = """\
Every error prints one line saying what is wrong, where, and the fix; add
--debug to see the Python traceback as well.

exit status:
{codes}
"""


def build_parser() -> argparse.ArgumentParser:
    from .cohort.versions import nomofuse_version
    from .commands.exit_status import ArgumentParser, add_debug_option, exit_codes_text

    parser = ArgumentParser(
        prog="nomofuse", description=_DESCRIPTION,
        epilog=_EPILOG.format(codes=exit_codes_text()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nomofuse {nomofuse_version()}")
    add_debug_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMANDS:
        module = importlib.import_module(f"fusion.commands.{name}")
        module.add_parser(sub)
    for command_parser in sub.choices.values():  # `nomofuse CMD --debug` works for every CMD
        add_debug_option(command_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``nomofuse`` with ``argv`` (default: the process's arguments); return the exit status.

    An error ends the command with one line on stderr and the exit status
    listed by ``nomofuse --help`` (:mod:`fusion.commands.exit_status`).
    """
    from .commands.exit_status import guarded

    argv = list(sys.argv[1:] if argv is None else argv)
    state = {"prog": "nomofuse", "debug": "--debug" in argv}

    def body() -> int:
        parser = build_parser()
        args = parser.parse_args(argv)
        state["debug"] = bool(getattr(args, "debug", False))
        if not getattr(args, "func", None):  # bare `nomofuse`: the help, not an error
            parser.print_help()
            return 0
        state["prog"] = f"nomofuse {args.command}"
        return int(args.func(args) or 0)

    return guarded(body, prog=lambda: state["prog"], debug=lambda: state["debug"])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
