"""How a ``nomofuse`` command ends: its exit status, and the one line an error becomes.

Every command runs inside :func:`guarded`, the one place where an exception
turns into a message and an exit status:

* an error about the user's input (``ValueError`` and its subclasses, which
  every checker of nomofuse raises, ``OSError`` for a file that cannot be read
  or written, ``ImportError`` for a missing optional package, ``MemoryError``)
  prints one line, ``nomofuse <command>: error: <what, where, the fix>``, and
  exits with 1 (or the ``exit_code`` the exception carries, e.g. 75 for an
  output another run is writing);
* any other exception is a bug in nomofuse: one line saying so, exit 70;
* no Python traceback is printed unless ``--debug`` is given (then the
  traceback comes first, the line last);
* a closed standard output (``nomofuse ... | head``) ends the command quietly
  with 141, as a process killed by SIGPIPE would;
* Ctrl-C ends it with 130;
* warnings are shown as one line each, ``nomofuse <command>: warning: ...``
  (with ``--debug``, Python's usual form with file and line); deprecation
  notices of libraries are hidden unless ``--debug``.

:class:`ArgumentParser` exits with 64 (not argparse's 2) when the command line
itself is not understood, so that 2 keeps its one meaning: some cases failed.

Light on purpose: ``nomofuse --help`` imports it.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from collections.abc import Callable

__all__ = [
    "EXIT_OK", "EXIT_FAILED", "EXIT_PARTIAL", "EXIT_USAGE", "EXIT_SOFTWARE", "EXIT_LOCKED",
    "EXIT_INTERRUPTED", "EXIT_PIPE", "EXIT_TERMINATED", "EXIT_CODES",
    "ArgumentParser", "add_debug_option", "exit_codes_text", "guarded", "one_line",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_PARTIAL = 2
EXIT_USAGE = 64          # sysexits.h EX_USAGE
EXIT_SOFTWARE = 70       # sysexits.h EX_SOFTWARE
EXIT_LOCKED = 75         # sysexits.h EX_TEMPFAIL
EXIT_INTERRUPTED = 130   # 128 + SIGINT
EXIT_PIPE = 141          # 128 + SIGPIPE
EXIT_TERMINATED = 143    # 128 + SIGTERM

#: Exit status of every ``nomofuse`` command (shown by ``nomofuse --help``).
EXIT_CODES = {
    EXIT_OK: "success (a cohort command: every case succeeded)",
    EXIT_FAILED: "failed: unusable input or options (nothing computed, no output replaced), "
                 "or no case succeeded",
    EXIT_PARTIAL: "some cases failed (the table of the others is written; see <out>.errors.csv)",
    EXIT_USAGE: "the command line is not understood (unknown option, missing argument)",
    EXIT_SOFTWARE: "internal error, a bug in nomofuse (rerun with --debug and report it)",
    EXIT_LOCKED: "another run is writing the same output (its lock file names it); try later",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C); finished cases are cached, the same command resumes",
    EXIT_PIPE: "standard output was closed early (e.g. piped into head)",
    EXIT_TERMINATED: "terminated (SIGTERM, e.g. a SLURM time limit); the same command resumes",
}


def exit_codes_text(indent: str = "  ") -> str:
    """The exit status table as plain text, one code per line (for a ``--help`` epilog)."""
    return "\n".join(f"{indent}{code:>3}  {text}" for code, text in EXIT_CODES.items())


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, exiting with 64 (``EXIT_USAGE``) on a command line it cannot parse."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def add_debug_option(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """Add ``--debug`` (show Python tracebacks) to ``parser``.

    The top-level parser holds the default; a sub-command's copy is
    ``SUPPRESS``-ed so that ``nomofuse --debug radiomics`` and
    ``nomofuse radiomics --debug`` both work.
    """
    try:
        parser.add_argument("--debug", action="store_true",
                            default=False if top else argparse.SUPPRESS,
                            help="on an error, show the Python traceback too")
    except argparse.ArgumentError:  # the command added it already
        pass


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` for the terminal: what, where and the fix, on one line.

    A manifest's list of problems (an exception with a ``problems`` attribute)
    keeps one line per problem.
    """
    if isinstance(exc, OSError) and exc.strerror and not _custom_message(exc):
        where = f" '{exc.filename}'" if exc.filename else ""
        target = f" -> '{exc.filename2}'" if getattr(exc, "filename2", None) else ""
        text = f"cannot access{where}{target}: {exc.strerror}"
        fix = _OS_FIXES.get(type(exc))
        return f"{text}; {fix}" if fix else text
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        from nomogram.checks import extra_for, missing_extra_message

        if extra_for(exc.name) is not None:  # an optional package: name the pip install that adds it
            return missing_extra_message(exc.name)
    if isinstance(exc, MemoryError):
        return ("out of memory" + (f" ({exc})" if str(exc) else "") + "; run fewer cases at once "
                "(a smaller --jobs) or on a machine with more memory")
    text = str(exc)
    if not text:
        text = type(exc).__name__
    if getattr(exc, "problems", None):
        return text.rstrip()
    return " ".join(text.split())


def _custom_message(exc: OSError) -> bool:
    """Did the code raising ``exc`` write its own message (not just errno and strerror)?"""
    return len(exc.args) == 1 or (len(exc.args) >= 2 and not isinstance(exc.args[0], int))


_OS_FIXES = {
    FileNotFoundError: "check the path",
    PermissionError: "check the permissions, or choose a path you can read and write",
    IsADirectoryError: "give a file, not a folder",
    NotADirectoryError: "a part of the path is a file, not a folder",
}


def _exit_code(exc: BaseException) -> int:
    code = getattr(exc, "exit_code", None)
    if isinstance(code, int) and not isinstance(code, bool):
        return code
    if isinstance(exc, (ValueError, OSError, ImportError, MemoryError)):
        return EXIT_FAILED
    return EXIT_SOFTWARE


def _say(text: str) -> None:
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed too: nothing more can be said
        pass


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's exit flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def guarded(body: Callable[[], int], *, prog: str | Callable[[], str],
            debug: bool | Callable[[], bool] = False) -> int:
    """Run ``body()`` and return its exit status; an exception becomes one line and a status.

    Parameters
    ----------
    body : callable
        The command; returns its exit status (``None`` counts as 0).
    prog : str or callable
        What the lines start with: ``"nomofuse radiomics"`` (a callable is
        asked when a line is printed: the command is known only once parsed).
    debug : bool or callable
        Print the traceback of an error, and warnings in Python's usual form.
    """
    def _prog() -> str:
        return prog() if callable(prog) else prog

    def _debug() -> bool:
        return bool(debug() if callable(debug) else debug)

    with warnings.catch_warnings():
        python_show = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if _debug():
                python_show(message, category, filename, lineno, file, line)
            else:
                _say(f"{_prog()}: warning: {' '.join(str(message).split())}")

        warnings.showwarning = show
        if not _debug():  # a library's notice to developers is nothing a user can act on
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
                warnings.filterwarnings("ignore", category=category)
        try:
            status = body()
            sys.stdout.flush()  # inside the guard: a closed pipe is seen here, not at exit
            return int(status or 0)
        except BrokenPipeError:
            _silence_stdout()
            return EXIT_PIPE
        except KeyboardInterrupt:
            _say(f"\n{_prog()}: interrupted.")
            return EXIT_INTERRUPTED
        except Exception as exc:  # noqa: BLE001 - the one place errors become a line
            code = _exit_code(exc)
            name = _prog()
            if _debug():
                try:
                    traceback.print_exc()
                except (OSError, ValueError):
                    pass
            if code == EXIT_SOFTWARE:
                _say(f"{name}: internal error: {type(exc).__name__}: {one_line(exc)}; this is a "
                     f"bug in nomofuse: rerun with --debug to see where it happened, and report "
                     "it with that output")
            else:
                _say(f"{name}: error: {one_line(exc)}")
            return code
