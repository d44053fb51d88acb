"""The skeleton every cohort command of ``nomofuse`` shares (``radiomics``, ``slides``, ...).

A cohort command reads a manifest (one row per case), runs one per-case
function over every case through :func:`fusion.cohort.run_cohort` (parallel,
cached, resumable) and writes one feature table. :class:`CohortCommand` does
everything such a command has in common, in this order:

1. the common options: ``--manifest``, ``--out``, ``--jobs``, ``--scheduler``,
   ``--cache-dir``, ``--no-cache``, ``--strict``, ``--lock-wait``, ``--quiet``,
   ``--debug``;
2. the output check (:func:`fusion.cohort.check_output_path`): ``--out`` ends in
   ``.parquet`` or ``.csv`` (the format it is written in), is not a folder, not
   the manifest nor an input file; then the manifest check (:func:`fusion.cohort.check_manifest`): the id column,
   the required columns, the file columns (resolved against the manifest's
   folder; with ``--strict`` a missing file stops the run, otherwise the case
   is recorded as failed and the others run), and the typed option columns
   (each converted, every bad cell reported with its row at once; an
   ``int`` column refuses ``1.5``, a number column refuses ``nan`` and ``inf``);
3. the command's own set-up (:meth:`CohortCommand.setup`): what every case
   gets, what identifies the run in the cache key, and the ``check`` of those
   settings that runs before the first case is computed;
4. the output lock (:class:`fusion.cohort.OutputLock`): ``<out>.lock`` names
   this run while it runs; a second run on the same ``--out`` refuses (exit
   75) or waits ``--lock-wait`` seconds; a lock left by a killed run is taken
   over with a note. Taking it also checks that the output folder can be
   written;
5. the run, with a cache next to the output (``.nomofuse_cache``) unless
   ``--cache-dir``/``--no-cache`` say otherwise (checked writable before any
   case); Ctrl-C or SIGTERM (a SLURM time limit) stops it cleanly: the cases
   finished so far stay cached and the same command resumes;
6. the outputs: the feature table written atomically (Parquet, or CSV when
   ``--out`` ends in ``.csv``; never replaced by a run in which no case
   succeeded, nor by one that failed before computing), ``<out>.errors.csv``
   (id, row, stage, error type, message), the command's own extra outputs
   (:meth:`CohortCommand.finish`, still under the lock), and a summary on
   stdout (counts, failed cases with reasons, notes, output paths);
7. the exit status (:data:`fusion.commands.exit_status.EXIT_CODES`): 0 every
   case succeeded; 2 some failed (the table of the others is written); 1 none
   succeeded, or the input is unusable (nothing is computed); 75 another run
   holds the output; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). Any
   error is one line on stderr with the fix
   (:func:`fusion.commands.exit_status.guarded`); ``--debug`` adds Python's
   traceback, and the failed cases' tracebacks after the summary.

How to add a command
--------------------
A new cohort command is one module in :mod:`fusion.commands` that subclasses
:class:`CohortCommand`, plus one line in ``fusion/cli.py``'s ``COMMANDS``. The
per-case function lives in its domain package (``pathology``), never in
:mod:`fusion`, and is named by reference (``"package.module:function"``) so
``nomofuse --help`` and a fully cached re-run never import it. Keep the
command module free of heavy imports at module level (no pandas, numpy,
torch, openslide...): ``nomofuse --help`` imports it; a test checks this.
Example, the whole of a ``nomofuse slides`` module::

    \"\"\"``nomofuse slides``: tile features and pooled slide features for every slide of a manifest.\"\"\"

    from .cohort_command import CohortCommand, CohortJob, UsageError


    class SlidesCommand(CohortCommand):
        name = "slides"
        help = "tile features and pooled slide features for every slide (parallel, cached)"
        description = "Tile features for every slide of a manifest, one HDF5 per slide, ..."
        epilog = "examples:\\n  nomofuse slides --manifest slides.csv --out slides.parquet\\n"
        function = "pathology.features:extract_slide"   # f(slide_id, path, *, mpp=None, **kwargs)
        id_column = "slide_id"
        required_columns = ("path",)
        file_columns = ("path",)
        option_columns = {"mpp": float}                 # column -> converter of its text
        carry_columns = ("patient_id",)                 # copied to the table, not to the function
        output_columns = ("features_path",)             # result keys that are files the case wrote
        default_stage = "encode"
        manifest_help = "CSV with columns slide_id,path (+ patient_id, mpp)"

        def add_arguments(self, parser):
            parser.add_argument("--encoder", default="resnet50", help="tile encoder (default: %(default)s)")
            parser.add_argument("--features-dir", default=None, metavar="DIR",
                                help="where the per-slide HDF5 files go (default: next to --out)")

        def setup(self, args, cases):
            from pathlib import Path

            if args.encoder not in ("resnet50", "uni"):
                raise UsageError(f"The '--encoder' option must be one of ... Got {args.encoder!r} instead.")
            out_dir = Path(args.features_dir or Path(args.out).parent / "slide_features").resolve()
            kwargs = {"encoder": args.encoder, "out_dir": str(out_dir)}
            return CohortJob(kwargs=kwargs, key_params=kwargs,
                             versions=self.versions(["torch", "timm", "openslide-python", "h5py"]),
                             worker_init=None)


    COMMAND = SlidesCommand()
    add_parser = COMMAND.add_parser

and in ``fusion/cli.py``: ``COMMANDS = [..., "slides"]``. A test can run the
command without the rest of the CLI: ``COMMAND.main(["--manifest", ...])``.

What the per-case function must do:

* take the case id first, then the file columns and the option columns of its
  row as keyword arguments (blank cells are left out, so its defaults apply),
  then ``CohortJob.kwargs``; return a flat ``dict`` (output name -> scalar),
  one row of the table;
* raise an exception with a ``stage`` attribute (``"read"``, ``"tissue"``,
  ``"tiling"``, ``"encode"``...) when a case fails; the message names the case
  and the file and says how to fix it (see :mod:`fusion.cohort.worker`);
* if it writes files, write each atomically (a temporary name in the same
  folder, then :func:`os.replace`) and return each path under a key listed in
  ``output_columns``: the cache then keeps their size and SHA-256 and
  recomputes a case whose file was deleted or changed.

``setup`` must put into ``key_params`` every setting that changes a result or
where an output file goes (the contents of a parameter file, not its name),
and nothing that does not (a progress setting, a temporary folder). Whatever
can be checked before computing is checked there (cheap checks, raising
:class:`UsageError` with the fix) or in ``CohortJob.check`` (a
``"package.module:function"`` called with ``CohortJob.kwargs`` before the
first case is computed, for checks that need the heavy libraries: it is not
imported by a fully cached re-run).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import OutputError, UsageError
from .exit_status import (EXIT_CODES, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL,
                          EXIT_TERMINATED, ArgumentParser, add_debug_option, exit_codes_text,
                          guarded)

__all__ = ["CohortCommand", "CohortJob", "UsageError", "parse_flag", "EXIT_CODES"]


def parse_flag(value) -> bool:
    """A manifest cell as a boolean: true/false, yes/no, y/n, 1/0 (any case)."""
    text = str(value).strip().lower()
    if text in ("1", "1.0", "true", "yes", "y"):
        return True
    if text in ("0", "0.0", "false", "no", "n"):
        return False
    raise ValueError(value)


@dataclass
class CohortJob:
    """What :meth:`CohortCommand.setup` returns: how this run computes every case.

    Attributes
    ----------
    kwargs : dict
        Keyword arguments every case's function call gets (settings, output folder).
    key_params : object
        What identifies ``kwargs`` in the cache key (JSON-able): every setting
        that changes a result or an output file's location. ``None``: ``kwargs``.
    versions : dict
        Library versions that make up the key (:meth:`CohortCommand.versions`).
    worker_init : callable, "module:qualname" or None
        Called once in each worker process (e.g. limit a library's threads).
    check : callable, "module:qualname" or None
        Called as ``check(**kwargs)`` once, before the first case is computed
        (not at all by a fully cached run); raises ``ValueError`` with the fix
        when the settings cannot work (e.g. ``"imaging.radiomics:check_settings"``
        validates a parameter file with pyradiomics' own schema). The run then
        stops with nothing computed and no output replaced.
    """

    kwargs: dict = field(default_factory=dict)
    key_params: object = None
    versions: dict = field(default_factory=dict)
    worker_init: Callable | str | None = None
    check: Callable | str | None = None


class _Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so the run stops the same clean way as on Ctrl-C."""


class CohortCommand:
    """Base class of a cohort command: set the class attributes, override two hooks.

    Class attributes
    ----------------
    name : str
        The sub-command (``nomofuse <name>``).
    help : str
        One line for ``nomofuse --help``.
    description, epilog : str
        Top and bottom of ``nomofuse <name> --help`` (plain text, shown as written).
    function : str
        The per-case function, ``"package.module:function"``.
    id_column : str
        The manifest column naming each case (``"case_id"``, ``"slide_id"``).
    required_columns : tuple of str
        Columns every row must fill in (besides the id).
    file_columns : tuple of str
        Columns holding input files (required or optional).
    option_columns : mapping of str -> converter
        Other columns passed to the function, each converted from its text
        (``int``, ``float``, :func:`parse_flag`, ``str``).
    carry_columns : tuple of str
        Columns copied into the output table after the id (e.g. ``patient_id``),
        neither passed to the function nor part of the cache key.
    output_columns : tuple of str
        Keys of the function's result that are paths of files it wrote.
    default_stage : str
        Stage of a failure whose exception names none.
    manifest_help, out_help : str
        Help of ``--manifest`` and ``--out``.

    Hooks
    -----
    add_arguments(parser)
        Add the command's own options.
    setup(args, cases) -> CohortJob
        Check the options against the checked manifest (``cases``, a
        DataFrame) and say how every case is computed; raise
        :class:`UsageError` (or ``ValueError``, ``FileNotFoundError``) with the
        fix for unusable input.
    finish(args, result)
        Write the command's other outputs (e.g. a per-patient table) after
        the feature table, while the output lock is still held (nothing by
        default). Print what it wrote.
    """

    name: str = ""
    help: str = ""
    description: str = ""
    epilog: str = ""
    function: str = ""
    id_column: str = "case_id"
    required_columns: tuple = ()
    file_columns: tuple = ()
    option_columns: Mapping[str, Callable] = {}
    carry_columns: tuple = ()
    output_columns: tuple = ()
    default_stage: str = "compute"
    manifest_help: str = "CSV with one row per case"
    out_help: str = ("output feature table (.parquet or .csv); failures go to "
                     "<out>.errors.csv beside it")

    # ------------------------------------------------------------------ hooks
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's own options to ``parser`` (none by default)."""

    def setup(self, args: argparse.Namespace, cases) -> CohortJob:
        """How every case is computed in this run (override)."""
        return CohortJob()

    def finish(self, args: argparse.Namespace, result) -> None:
        """Write the command's other outputs after the table, under the output lock (override)."""

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def versions(distributions: Sequence[str]) -> dict[str, str]:
        """Installed versions of ``distributions`` plus nomofuse's, for the cache key."""
        from ..cohort.versions import library_versions

        return library_versions(distributions)

    # ---------------------------------------------------------------- parsing
    def add_parser(self, subparsers) -> argparse.ArgumentParser:
        """Register ``nomofuse <name>`` with its common and own options."""
        epilog = ((self.epilog.rstrip("\n") + "\n\n" if self.epilog else "")
                  + f"exit status:\n{exit_codes_text()}\n")
        p = subparsers.add_parser(self.name, help=self.help,
                                  description=self.description or self.help, epilog=epilog,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        self._add_common(p)
        self.add_arguments(p)
        add_debug_option(p)
        p.set_defaults(func=self.run)
        return p

    def _add_common(self, p: argparse.ArgumentParser) -> None:
        p.add_argument("--manifest", required=True, metavar="CSV", help=self.manifest_help)
        p.add_argument("--out", required=True, metavar="TABLE", help=self.out_help)
        p.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="local worker processes (default 1)")
        p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="Dask scheduler address (e.g. tcp://host:8786): run on that "
                            "cluster; every worker must see the input files at the same paths")
        p.add_argument("--cache-dir", default=None, metavar="DIR",
                       help="per-case result cache (default: .nomofuse_cache next to --out)")
        p.add_argument("--no-cache", action="store_true", help="compute every case, cache nothing")
        p.add_argument("--strict", action="store_true",
                       help="stop before computing if any manifest file is missing "
                            "(default: record those cases as failed and run the others)")
        p.add_argument("--lock-wait", type=float, default=0.0, metavar="SECONDS",
                       help="if another run is writing the same --out, wait up to this long "
                            "for it to end (default 0: refuse at once)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    def main(self, argv: Sequence[str] | None = None) -> int:
        """Run this command alone, as ``nomofuse <name> ARGS`` would (for tests and scripts)."""
        parser = ArgumentParser(prog="nomofuse")
        add_debug_option(parser, top=True)
        self.add_parser(parser.add_subparsers(dest="command"))
        args = parser.parse_args([self.name, *(sys.argv[1:] if argv is None else argv)])
        return self.run(args)

    # -------------------------------------------------------------------- run
    def error(self, message) -> int:
        """Print ``nomofuse <name>: error: <message>`` on stderr; return 1."""
        print(f"nomofuse {self.name}: error: {message}", file=sys.stderr)
        return EXIT_FAILED

    def run(self, args: argparse.Namespace) -> int:
        """The skeleton: check, set up, lock, run, write, report; returns the exit status.

        An error becomes one line on stderr and its exit status
        (:func:`fusion.commands.exit_status.guarded`).
        """
        return guarded(lambda: self._run(args), prog=f"nomofuse {self.name}",
                       debug=bool(getattr(args, "debug", False)))

    def _run(self, args: argparse.Namespace) -> int:
        from ..cohort import OutputLock, check_manifest, check_output_path

        if args.jobs < 1:
            raise UsageError(f"The '--jobs' option must be >= 1. Got {args.jobs} instead.")
        lock_wait = getattr(args, "lock_wait", 0.0)
        if not lock_wait >= 0:  # also NaN
            raise UsageError(f"The '--lock-wait' option must be >= 0 seconds. Got {lock_wait} "
                             "instead.")
        out = check_output_path(args.out, inputs=[args.manifest])
        cases = check_manifest(
            args.manifest, required=self.required_columns,
            file_columns=self.file_columns, id_column=self.id_column,
            missing_files="raise" if args.strict else "keep")
        options = self._typed_options(cases, args.manifest)
        job = self.setup(args, cases)
        check_output_path(out, inputs=[args.manifest, *(
            v for c in self.file_columns if c in cases.columns for v in cases[c] if v)])
        known = {self.id_column, *self.file_columns, *options, *self.carry_columns}
        ignored = [c for c in cases.columns if c not in known]
        if ignored:
            print(f"note: manifest columns {ignored} are not used by nomofuse {self.name}; "
                  "ignored.", file=sys.stderr)

        cache_dir = None if args.no_cache else Path(args.cache_dir or out.parent / ".nomofuse_cache")
        command = _quoted(["nomofuse", self.name, "--manifest", str(args.manifest), "--out",
                           str(args.out)])
        with OutputLock(out, wait=lock_wait, command=command) as lock:
            if lock.note:
                print(f"note: {lock.note}", file=sys.stderr)
            _remove_temporaries(out)
            return self._run_locked(args, out, cases, options, job, cache_dir)

    def _run_locked(self, args, out: Path, cases, options, job: CohortJob, cache_dir) -> int:
        from ..cohort import run_cohort

        try:
            with _sigterm_as_interrupt():
                result = run_cohort(
                    self.function, cases[[c for c in cases.columns if c not in self.carry_columns]],
                    id_column=self.id_column,
                    file_columns=self.file_columns,
                    option_columns=options,
                    output_columns=self.output_columns,
                    kwargs=job.kwargs,
                    key_params=job.key_params,
                    versions=job.versions,
                    jobs=args.jobs,
                    scheduler=args.scheduler,
                    cache_dir=cache_dir,
                    progress=not args.quiet,
                    desc=self.name,
                    default_stage=self.default_stage,
                    worker_init=job.worker_init,
                    check=job.check,
                )
        except KeyboardInterrupt as exc:
            how = "terminated" if isinstance(exc, _Terminated) else "interrupted"
            where = (f"are in the cache ({cache_dir}); run the same command again to compute "
                     "only the rest." if cache_dir is not None else
                     "are lost (--no-cache); run the command again.")
            print(f"\nnomofuse {self.name}: {how}. Cases finished so far {where}", file=sys.stderr)
            return EXIT_TERMINATED if isinstance(exc, _Terminated) else EXIT_INTERRUPTED
        self._carry(result, cases)
        try:
            result.write(out, features=result.n_succeeded > 0)
        except OSError as exc:
            kept = (f"the results are cached in '{cache_dir}', so the same command with a "
                    "writable --out computes nothing again" if cache_dir is not None else
                    "the results are lost (--no-cache)")
            raise OutputError(f"cannot write the output '{out}' ({exc.strerror or exc}); {kept}."
                              ) from exc
        self.finish(args, result)
        print(result.report(f"nomofuse {self.name}"))
        if getattr(args, "debug", False) and result.tracebacks:
            for case_id, tb in result.tracebacks.items():
                print(f"--- traceback of case {case_id!r} ---\n{tb.rstrip()}", file=sys.stderr)
        if result.n_succeeded == 0:
            return EXIT_FAILED
        return EXIT_PARTIAL if result.n_failed else EXIT_OK

    def _typed_options(self, cases, manifest) -> list[str]:
        """Convert the option columns present in ``cases`` in place; return their names."""
        import pandas as pd

        from ..cohort import ManifestError

        problems: list[str] = []
        present = [c for c in self.option_columns if c in cases.columns]
        for col in present:
            conv = self.option_columns[col]
            values = []
            for i, v in cases[col].items():
                if v is None or (isinstance(v, float) and v != v):
                    values.append(None)
                    continue
                try:
                    values.append(_convert(conv, v))
                except (TypeError, ValueError, OverflowError):
                    kind = ("true/false" if conv is parse_flag else "an integer" if conv is int
                            else "a number" if conv is float else f"a valid {col}")
                    problems.append(f"row {i + 2} (case {cases.at[i, self.id_column]!r}): "
                                    f"column {col!r} must be {kind}; got {v!r}.")
                    values.append(None)
            cases[col] = pd.Series(values, index=cases.index, dtype=object)
        if problems:
            raise ManifestError(f"manifest '{manifest}' has {len(problems)} problem(s):\n  "
                                + "\n  ".join(problems), problems)
        return present

    def _carry(self, result, cases) -> None:
        """Insert the carry columns after the id column of the feature table."""
        carry = [c for c in self.carry_columns
                 if c in cases.columns and c not in result.features.columns]
        if not carry or result.features.empty:
            return
        lookup = cases.set_index(self.id_column)[carry]
        feats = result.features
        for pos, col in enumerate(carry, start=1):
            feats.insert(pos, col, feats[self.id_column].map(lookup[col]).to_numpy())


def _convert(conv, value):
    """A manifest cell through its column's converter; integers and numbers checked strictly."""
    import math

    if conv is int:
        number = float(value)
        if not number.is_integer():  # '1.5' is not label 1; 'nan'/'inf' are not integers
            raise ValueError(value)
        return int(number)
    if conv is float:
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(value)
        return number
    return conv(value)


def _quoted(argv) -> str:
    import shlex

    return shlex.join(argv)


def _remove_temporaries(out: Path) -> None:
    """Remove temporary files a killed run left beside ``out`` (this run holds its lock)."""
    from ..cohort.result import errors_path

    for target in (out, errors_path(out)):
        for tmp in target.parent.glob(f".{target.name}.*.tmp"):
            try:
                tmp.unlink()
            except OSError:
                pass


class _sigterm_as_interrupt:
    """Within the block, SIGTERM raises :class:`_Terminated` (main thread only)."""

    def __enter__(self):
        self._old = None
        if threading.current_thread() is threading.main_thread():
            def handler(signum, frame):
                raise _Terminated()

            self._old = signal.signal(signal.SIGTERM, handler)
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
        return False

