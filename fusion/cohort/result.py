"""What a cohort run produced: :class:`CohortResult` (features, failures, counts, report)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .cache import atomic_write_bytes

__all__ = ["CohortResult", "errors_path", "check_output_path", "FAILURE_COLUMNS",
           "TABLE_SUFFIXES"]

#: Columns of the failures table and of the ``.errors.csv`` file (the first is
#: the manifest's id column: ``case_id`` unless the command says otherwise).
FAILURE_COLUMNS = ["case_id", "row", "stage", "error_type", "message"]
#: File suffixes :meth:`CohortResult.write` can write the feature table as.
TABLE_SUFFIXES = (".parquet", ".csv")


def errors_path(out: str | os.PathLike) -> Path:
    """Errors file that goes with an output file: ``features.parquet`` -> ``features.parquet.errors.csv``."""
    out = Path(out)
    return out.with_name(out.name + ".errors.csv")


def check_output_path(out: str | os.PathLike, *, inputs=()) -> Path:
    """Check, before a run, that ``out`` can take its feature table; return it as a Path.

    The table's format follows the suffix (``.parquet`` or ``.csv``, any
    case): any other suffix is refused, so a name never holds another format's
    bytes. ``out`` and its errors file (:func:`errors_path`) must not be
    folders, and ``out`` must not be one of ``inputs`` (the manifest, an
    input file), which the table would replace.

    Raises
    ------
    OutputError
        Naming the path and the fix.
    """
    from ..exceptions import OutputError

    out = Path(out)
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise OutputError(
            f"The output (--out) must name a .parquet or .csv file (the table is written in "
            f"the format its suffix names). Got '{out}' instead; name it e.g. features.parquet.")
    for path, what in ((out, "output"), (errors_path(out), "errors file")):
        if path.is_dir():
            raise OutputError(f"the {what} '{path}' is a folder; give the output (--out) as the path "
                              "of a file (e.g. features.parquet inside that folder).")
    target = os.path.realpath(out)
    for item in inputs:
        if item is not None and os.path.realpath(item) == target:
            raise OutputError(f"the output '{out}' is also an input of the run ('{item}'), which "
                              "writing the table would replace; give the output (--out) another name.")
    return out


@dataclass
class CohortResult:
    """What a cohort run produced.

    Attributes
    ----------
    features : pandas.DataFrame
        One row per successful case, in manifest order; the id column
        (``case_id``) is the first column, then the per-case function's
        outputs (columns in the order the first successful case returned them).
    failures : pandas.DataFrame
        One row per failed case with columns id (``case_id``), ``row``
        (manifest row, header = row 1), ``stage``, ``error_type``, ``message``.
    n_cases, n_computed, n_cached : int
        Cases in the manifest, computed in this run, read from the cache.
    seconds : float
        Wall time of the run.
    compute_seconds : dict
        case id -> seconds the per-case function took (computed cases only).
    cache_dir : pathlib.Path or None
        Where the per-case results are cached.
    outputs : dict
        Paths written by :meth:`write` (``"features"``, ``"errors"``).
    id_column : str
        Name of the id column (``"case_id"``, ``"slide_id"``...).
    n_stale : int
        Cached results not reused because an output file they point to was
        missing or changed (those cases were computed again).
    notes : list of str
        What the run changed or noticed on its way (fewer workers than asked,
        damaged cache entries computed again...), shown by :meth:`report`.
    """

    features: pd.DataFrame
    failures: pd.DataFrame
    n_cases: int
    n_computed: int
    n_cached: int
    seconds: float
    compute_seconds: dict = field(default_factory=dict)
    cache_dir: Path | None = None
    tracebacks: dict = field(default_factory=dict, repr=False)
    outputs: dict = field(default_factory=dict)
    id_column: str = "case_id"
    n_stale: int = 0
    notes: list = field(default_factory=list)

    @property
    def n_failed(self) -> int:
        return len(self.failures)

    @property
    def n_succeeded(self) -> int:
        return len(self.features)

    def summary(self) -> pd.DataFrame:
        """Counts of the run as a table (index: cases, succeeded, computed, from cache, failed)."""
        counts = {
            "cases": self.n_cases,
            "succeeded": self.n_succeeded,
            "computed": self.n_computed,
            "from cache": self.n_cached,
            "failed": self.n_failed,
        }
        return pd.DataFrame({"count": counts})

    def failure_reasons(self) -> pd.DataFrame:
        """Failures counted by stage and error type (most frequent first)."""
        if self.failures.empty:
            return pd.DataFrame(columns=["stage", "error_type", "count"])
        return (
            self.failures.groupby(["stage", "error_type"]).size().rename("count")
            .sort_values(ascending=False).reset_index()
        )

    def write(self, out: str | os.PathLike, errors: str | os.PathLike | None = None, *,
              features: bool = True) -> dict:
        """Write the features (Parquet or CSV, by suffix) and the failures (CSV), each atomically.

        Parameters
        ----------
        out : path
            The feature table: ``.parquet`` or ``.csv``.
        errors : path, optional
            Defaults to :func:`errors_path` of ``out`` (``features.parquet.errors.csv``
            next to ``features.parquet``). Always written, with only a header
            when nothing failed, so an old errors file never outlives its run.
        features : bool, default True
            ``False`` writes only the errors file and leaves ``out`` as it is
            (a run in which no case succeeded must not replace the table of an
            earlier, successful run).

        Returns
        -------
        dict
            ``{"features": Path or None, "errors": Path}``, also stored in ``outputs``.
        """
        out = check_output_path(out)
        errors = Path(errors) if errors is not None else errors_path(out)
        if features:
            buf = io.BytesIO()
            if out.suffix.lower() == ".csv":
                buf.write(self.features.to_csv(index=False).encode("utf-8"))
            else:
                self.features.to_parquet(buf, index=False)
            atomic_write_bytes(out, buf.getvalue())
        text = self.failures.to_csv(index=False)
        atomic_write_bytes(errors, text.encode("utf-8"))
        self.outputs = {"features": out if features else None, "errors": errors}
        return self.outputs

    def report(self, name: str = "cohort", max_failures: int = 20) -> str:
        """The end-of-run summary as text: counts, failures with reasons, output paths."""
        lines = [
            f"{name}: {self.n_succeeded} of {self.n_cases} cases succeeded "
            f"({self.n_computed} computed, {self.n_cached} from cache), "
            f"{self.n_failed} failed, in {self.seconds:.1f} s."
        ]
        lines.extend(f"note: {note}" for note in self.notes)
        if self.n_stale:
            lines.append(f"{_count(self.n_stale, 'cached result')} recomputed because an output "
                         "file it points to was missing or changed.")
        if self.n_failed:
            lines.append(f"failed cases ({self.id_column}, stage, error):")
            for rec in self.failures.head(max_failures).to_dict("records"):
                msg = " ".join(str(rec["message"]).split())
                if len(msg) > 160:
                    msg = msg[:157] + "..."
                lines.append(f"  {rec[self.id_column]} [row {rec['row']}] {rec['stage']}: "
                             f"{rec['error_type']}: {msg}")
            if self.n_failed > max_failures:
                lines.append(f"  ... and {self.n_failed - max_failures} more (see the errors file)")
            reasons = ", ".join(
                f"{r.count} at {r.stage} ({r.error_type})"
                for r in self.failure_reasons().itertuples(index=False)
            )
            lines.append(f"failure reasons: {reasons}")
        if self.outputs:
            if "features" in self.outputs:
                feats = self.outputs["features"]
                if feats is not None:
                    lines.append(f"features: {feats} ({_count(self.n_succeeded, 'row')}, "
                                 f"{_count(self.features.shape[1], 'column')})")
                else:
                    lines.append("features: not written (no case succeeded; a table from an "
                                 "earlier run is left as it was)")
            if self.outputs.get("errors") is not None:
                lines.append(f"errors:   {self.outputs['errors']} ({_count(self.n_failed, 'row')})")
        if self.cache_dir is not None:
            lines.append(f"cache:    {self.cache_dir}")
        return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
