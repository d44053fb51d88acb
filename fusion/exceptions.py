"""Errors raised by :mod:`fusion` (the cohort runner and the ``nomofuse`` commands).

Every class subclasses :class:`ValueError`, so ``except ValueError`` catches
each kind of unusable input, and its message says what is wrong, where (file,
option, case) and the fix. A class may carry ``exit_code``, the status the
command line exits with when it stops a command (see
:mod:`fusion.commands.exit_status`); without one, the status is 1.

:class:`~fusion.cohort.ManifestError` (a manifest's problems, one line each)
lives with the manifest checker in :mod:`fusion.cohort.manifest`.

Light on purpose (no third-party import): ``nomofuse --help`` imports it.
"""

from __future__ import annotations

__all__ = ["FusionError", "UsageError", "OutputError", "OutputLockedError"]


class FusionError(ValueError):
    """Base class of the errors :mod:`fusion` raises about unusable input."""


class UsageError(FusionError):
    """A command's options or input are unusable; the message says what and how to fix it."""


class OutputError(FusionError):
    """An output file, its folder or the result cache cannot be used.

    Raised before any case is computed: the output names a folder, has a
    suffix no table format matches, is one of the run's inputs, or its folder
    (or the cache folder) cannot be created or written.
    """


class OutputLockedError(OutputError):
    """Another run is writing the same output (its lock file names it).

    Attributes
    ----------
    path : str
        The lock file.
    holder : dict
        What the lock file says about the run holding it (``host``, ``pid``,
        ``started``, ``command``); empty if it could not be read.
    """

    exit_code = 75

    def __init__(self, message: str, *, path: str = "", holder: dict | None = None):
        super().__init__(message)
        self.path = path
        self.holder = dict(holder or {})
