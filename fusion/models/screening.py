"""Screening new patients: score a table (or a CSV file of any size) with a nomogram or a group.

For each row the scorer gives the points of every factor, the total points,
the linear predictor, the probability (logistic) or the survival at each of
the model's times (Cox), the risk group at the model's cut-off, and the
model used (the cancer type's, for a :class:`~fusion.models.NomogramGroup`).

Rows are checked cell by cell against what the model was fitted on. A row
that cannot be scored gets one line per problem in the errors table, naming
the row, the column, the value and what is allowed, and is not scored:

* a missing value (an empty cell, ``NA``, ``NaN``, ``null``, ``None``);
* text where the model needs a number, or an infinite number;
* a category the model has not seen;
* a cancer type (``by`` column) without a model;
* a column the model needs that the file lacks.

A number outside the training range (beyond ``range_margin`` times the range
on either side) is *flagged*: it gets an errors line with action
``"scored, flagged"`` and the row is scored (its points extrapolate beyond
the nomogram's axis). Good rows are always scored.

:func:`score_csv` reads the file in chunks and appends to the outputs, so a
million rows stay in bounded memory; outputs are written under temporary
names and renamed when complete, so a failed run never leaves a half file
under the final name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from fusion.cohort import errors_path
from nomogram import CoxNomogram, LogisticNomogram

__all__ = ["score_table", "score_csv", "ScoringSummary", "ERROR_COLUMNS", "MISSING_TEXT"]

#: Columns of the errors table (``<out>.errors.csv``).
ERROR_COLUMNS = ["row", "id", "column", "value", "problem", "allowed", "action"]

#: Cell texts read as a missing value.
MISSING_TEXT = ("", "NA", "N/A", "NaN", "nan", "NULL", "null", "None", "none", ".")

_MISSING_SET = frozenset(MISSING_TEXT)
_NOT_SCORED = "not scored"
_FLAGGED = "scored, flagged"


# ------------------------------------------------------------------ the models
@dataclass
class _Entry:
    """One model of the file: its factors, nomogram and cut-off."""

    key: str
    model: object
    factors: list
    nomogram: object
    cutoff: float | None
    checks: dict  # factor -> ("numeric", lo, hi) or ("categorical", {text: level}, levels)


def _checks_for(model, factors, range_margin):
    out = {}
    for f in factors:
        term = model.design_.term(f)
        if term.kind == "categorical":
            keymap = {}
            for lv in term.levels:
                for text in {str(lv), _format_level(lv)}:
                    keymap[text] = lv
            out[f] = ("categorical", keymap, list(term.levels))
        else:
            pad = float(range_margin) * (term.high - term.low)
            out[f] = ("numeric", term.low - pad, term.high + pad, term.low, term.high)
    return out


def _format_level(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class _Scorer:
    def __init__(self, model, *, cutoff=None, range_margin=0.0, id_column=None):
        from .group import NomogramGroup

        if not np.isfinite(float(range_margin)) or float(range_margin) < 0:
            raise ValueError(f"The 'range_margin' parameter of score_csv must be a finite number >= 0. "
                             f"Got {range_margin!r} instead.")
        self.id_column = id_column
        if isinstance(model, NomogramGroup):
            from nomogram.checks import check_is_fitted

            check_is_fitted(model, "models_")
            self.by = model.by
            self.routing = dict(model.routing_)
            self.kind = model.model
            keys = list(model.models_)
            self.entries = {
                k: _Entry(k, model.models_[k], list(model.factors_[k]), model.models_[k].nomogram(),
                          model.cutoffs_[k] if cutoff is None else float(cutoff),
                          _checks_for(model.models_[k], model.factors_[k], range_margin))
                for k in keys
            }
        elif isinstance(model, (LogisticNomogram, CoxNomogram)):
            self.by = None
            self.routing = None
            self.kind = "logistic" if isinstance(model, LogisticNomogram) else "cox"
            factors = list(model.design_.predictors)
            key = type(model).__name__
            self.entries = {key: _Entry(key, model, factors, model.nomogram(),
                                        None if cutoff is None else float(cutoff),
                                        _checks_for(model, factors, range_margin))}
        else:
            raise TypeError(
                f"score_csv scores a LogisticNomogram, CoxNomogram or NomogramGroup; got {type(model).__name__}.")
        if cutoff is not None:
            c = float(cutoff)
            if not np.isfinite(c) or (self.kind == "logistic" and not 0 < c < 1):
                what = ("a probability in (0, 1) for a logistic model" if self.kind == "logistic"
                        else "a finite linear predictor")
                raise ValueError(f"The 'cutoff' parameter of score_csv must be {what}. Got {cutoff!r} instead.")
        self.factors = []
        for e in self.entries.values():
            self.factors += [f for f in e.factors if f not in self.factors]
        self.times = []
        if self.kind == "cox":
            for e in self.entries.values():
                self.times += [t for t in (e.model.times or []) if t not in self.times]
        self.columns = (["row"] + (["id"] if id_column else []) + ["model"]
                        + [f"points_{f}" for f in self.factors] + ["total_points", "linear_predictor"]
                        + (["probability"] if self.kind == "logistic" else [f"survival_{_format_level(float(t))}"
                                                                              for t in self.times])
                        + ["risk_group", "flagged"])
        self.required = ([self.by] if self.by else []) + self.factors

    # --------------------------------------------------------------- one chunk
    def score(self, chunk: pd.DataFrame, first_row: int):
        """Scores and error lines of a chunk of text cells (``row`` numbers start at ``first_row``)."""
        n = len(chunk)
        rows = np.arange(first_row, first_row + n)
        ids = chunk[self.id_column].to_numpy(dtype=object) if self.id_column else None
        errors = []

        def record(mask, column, values, problem, allowed, action=_NOT_SCORED):
            idx = np.flatnonzero(mask)
            if len(idx) == 0:
                return
            errors.append(pd.DataFrame({
                "row": rows[idx], "id": ids[idx] if ids is not None else "", "column": column,
                "value": np.asarray(values, dtype=object)[idx], "problem": problem, "allowed": allowed,
                "action": action}))

        bad = np.zeros(n, dtype=bool)
        if self.by is not None:
            keys = np.full(n, None, dtype=object)
            if self.by not in chunk.columns:
                record(np.ones(n, bool), self.by, np.full(n, ""), "column absent from the file",
                       f"a column '{self.by}' with one of {sorted(self.routing)}")
                bad[:] = True
            else:
                text = chunk[self.by].fillna("").astype(str).str.strip().to_numpy(dtype=object)
                miss = pd.Series(text).isin(_MISSING_SET).to_numpy()
                mapped = pd.Series(text).map(self.routing).to_numpy(dtype=object)
                unknown = ~miss & pd.isna(mapped)
                allowed = "one of " + ", ".join(sorted(self.routing))
                record(miss, self.by, text, "missing value", allowed)
                record(unknown, self.by, text, "unknown cancer type (no model for it)", allowed)
                bad |= miss | unknown
                keys = np.where(bad, None, mapped)
        else:
            keys = np.full(n, next(iter(self.entries)), dtype=object)

        parsed = {}
        flagged = np.full(n, "", dtype=object)
        texts, numbers = {}, {}

        def text_of(f):  # each column is stripped and parsed once per chunk
            if f not in texts:
                texts[f] = chunk[f].fillna("").astype(str).str.strip().to_numpy(dtype=object)
            return texts[f]

        missing = {}

        def missing_of(f):
            if f not in missing:
                missing[f] = pd.Series(text_of(f)).isin(_MISSING_SET).to_numpy()
            return missing[f]

        def number_of(f):
            if f not in numbers:
                numbers[f] = pd.to_numeric(pd.Series(text_of(f)), errors="coerce").to_numpy(float)
            return numbers[f]

        for key, entry in self.entries.items():
            sel = keys == key
            if not sel.any():
                continue
            for f in entry.factors:
                check = entry.checks[f]
                allowed = (f"a number in the training range [{check[3]:g}, {check[4]:g}]" if check[0] == "numeric"
                           else "one of " + ", ".join(map(_format_level, check[2])))
                if f not in chunk.columns:
                    record(sel, f, np.full(n, ""), "column absent from the file", allowed)
                    bad |= sel
                    continue
                text = text_of(f)
                miss = sel & missing_of(f)
                record(miss, f, text, "missing value", allowed)
                bad |= miss
                if check[0] == "numeric":
                    v = number_of(f)
                    notnum = sel & ~miss & np.isnan(v)
                    infinite = sel & np.isinf(v)
                    record(notnum, f, text, "not a number", allowed)
                    record(infinite, f, text, "not a finite number", allowed)
                    bad |= notnum | infinite
                    outside = sel & np.isfinite(v) & ((v < check[1]) | (v > check[2]))
                    record(outside, f, text, "outside the training range (extrapolated)", allowed, _FLAGGED)
                    flagged[outside] = np.where(flagged[outside] == "", f, flagged[outside] + ";" + f)
                    col = parsed.setdefault(f, np.full(n, np.nan, dtype=object))
                    col[sel] = v[sel]
                else:
                    lv = pd.Series(text).map(check[1]).to_numpy(dtype=object)
                    unseen = sel & ~miss & pd.isna(lv)
                    record(unseen, f, text, "category not seen in training", allowed)
                    bad |= unseen
                    col = parsed.setdefault(f, np.full(n, None, dtype=object))
                    col[sel] = lv[sel]

        out = pd.DataFrame({"row": rows})
        if ids is not None:
            out["id"] = ids
        out["model"] = keys
        good = ~bad
        scores = {c: np.full(n, np.nan) for c in self.columns
                  if c.startswith("points_") or c in ("total_points", "linear_predictor", "probability")
                  or c.startswith("survival_")}
        risk = np.full(n, "", dtype=object)
        for key, entry in self.entries.items():
            sel = good & (keys == key)
            if not sel.any():
                continue
            idx = np.flatnonzero(sel)
            X = pd.DataFrame({f: _typed(parsed[f][idx], entry.checks[f][0]) for f in entry.factors})
            pts = entry.nomogram.points(X)
            for f in entry.factors:
                if f in pts.columns:  # an interaction partner has no axis of its own (folded into the other's)
                    scores[f"points_{f}"][idx] = pts[f].to_numpy()
            scores["total_points"][idx] = pts["Total Points"].to_numpy()
            lp = entry.model.decision_function(X)
            scores["linear_predictor"][idx] = lp
            if self.kind == "logistic":
                prob = 1.0 / (1.0 + np.exp(-lp))
                scores["probability"][idx] = prob
                value = prob
            else:
                times = list(entry.model.times or [])
                if times:
                    S = entry.model.survival_at(lp, times)
                    for j, t in enumerate(times):
                        scores[f"survival_{_format_level(float(t))}"][idx] = S[:, j]
                value = lp
            if entry.cutoff is not None:
                risk[idx] = np.where(value >= entry.cutoff, "high", "low")
        for c, v in scores.items():
            out[c] = v
        out["risk_group"] = risk
        out["flagged"] = flagged
        out = out[good].reindex(columns=self.columns)
        err = (pd.concat(errors, ignore_index=True) if errors
               else pd.DataFrame(columns=ERROR_COLUMNS))
        if len(err):
            err = err.sort_values(["row"], kind="stable")
        return out, err[ERROR_COLUMNS], int(bad.sum()), int((flagged != "").sum())


def _typed(values, kind):
    if kind == "numeric":
        return np.asarray(values, dtype=float)
    return list(values)


# ------------------------------------------------------------------ public API
@dataclass
class ScoringSummary:
    """What a scoring run did.

    Attributes
    ----------
    n_rows, n_scored, n_not_scored, n_flagged : int
        Rows read, scored, refused, and scored with an out-of-range flag.
    n_error_lines : int
        Problem lines of rows not scored in the errors file (a row may have several).
    n_flag_lines : int
        Out-of-range flag lines of scored rows in the errors file.
    by_model : dict of {str: int}
        Scored rows per model (cancer type).
    out, errors : Path or None
        The scores file and the errors file.
    seconds : float
    """

    n_rows: int
    n_scored: int
    n_not_scored: int
    n_flagged: int
    n_error_lines: int
    n_flag_lines: int = 0
    by_model: dict = field(default_factory=dict)
    out: Path | None = None
    errors: Path | None = None
    seconds: float = 0.0

    def summary(self) -> pd.DataFrame:
        """One row per model: scored rows; plus totals as attributes of this object."""
        return pd.DataFrame({"model": list(self.by_model), "n_scored": list(self.by_model.values())})

    def lines(self) -> list[str]:
        """The run's summary as the command line prints it."""
        out = [f"scored {self.n_scored:,} of {self.n_rows:,} rows in {self.seconds:.1f} s"
               + (f" ({self.n_flagged:,} flagged outside the training range, still scored)" if self.n_flagged else "")]
        if self.by_model:
            out.append("  by model: " + ", ".join(f"{k} {v:,}" for k, v in self.by_model.items()))
        flags = f"{self.n_flag_lines:,} out-of-range flags" if self.n_flag_lines else ""
        if self.n_not_scored:
            out.append(f"not scored: {self.n_not_scored:,} rows ({self.n_error_lines:,} problems"
                       + (f" and {flags}" if flags else "") + f" listed in {self.errors})")
        elif flags:
            out.append(f"{flags} listed in {self.errors}")
        if self.out is not None:
            out.append(f"scores written to {self.out}")
        return out


def score_table(model, table: pd.DataFrame, *, id_column=None, cutoff=None, range_margin=0.0):
    """Score an in-memory table; returns ``(scores, errors)`` DataFrames.

    Parameters
    ----------
    model : LogisticNomogram, CoxNomogram or NomogramGroup
    table : pandas.DataFrame
        One row per patient; cells may be text or numbers. ``row`` in the
        outputs counts the table's rows from 1.
    id_column : str, optional
        A column copied to the outputs as ``id``.
    cutoff : float, optional
        Risk-group cut-off overriding the model's (a probability for a
        logistic model, a linear predictor for Cox). A single nomogram has
        none of its own: without ``cutoff`` its ``risk_group`` is empty.
    range_margin : float, default 0.0
        A number is flagged when it lies outside the training range widened
        by this fraction of the range on each side.

    Returns
    -------
    scores : pandas.DataFrame
        ``row``, ``id``, ``model``, ``points_<factor>``..., ``total_points``,
        ``linear_predictor``, ``probability`` or ``survival_<t>``...,
        ``risk_group``, ``flagged`` (the out-of-range factors).
    errors : pandas.DataFrame
        :data:`ERROR_COLUMNS`, one line per problem.
    """
    scorer = _Scorer(model, cutoff=cutoff, range_margin=range_margin, id_column=id_column)
    _check_id_column(scorer, table.columns, "score_table")
    text = table.astype(object).where(table.notna(), "").astype(str)
    scores, errors, _, _ = scorer.score(text, 1)
    return scores.reset_index(drop=True), errors.reset_index(drop=True)


def _check_id_column(scorer, columns, caller):
    if len(columns) == 1:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sep in str(columns[0]):
                raise ValueError(f"{caller}: the patients file has a single column {str(columns[0])[:80]!r}: its "
                                 f"fields look separated by {name}, not commas. Save it as comma-separated CSV.")
    if scorer.id_column is not None and scorer.id_column not in columns:
        raise ValueError(f"{caller}: id_column {scorer.id_column!r} is not a column of the file; "
                         f"columns are {list(columns)[:12]}.")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(ch in name for ch in ',"\n') else name


def _append_csv(df: pd.DataFrame, f) -> None:
    """Append ``df`` without header: pyarrow's writer (7x pandas' on floats; shortest round-trip floats)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if len(df) == 0:
        return
    table = pa.Table.from_pandas(df.astype({c: str for c in df.columns if df[c].dtype == object}),
                                 preserve_index=False)
    pacsv.write_csv(table, f, pacsv.WriteOptions(include_header=False))


def score_csv(model, path, out, *, id_column=None, cutoff=None, range_margin=0.0, chunksize=100_000,
              progress=None) -> ScoringSummary:
    """Score every row of a CSV file in chunks; write ``out`` and ``<out>.errors.csv``.

    Parameters
    ----------
    model : LogisticNomogram, CoxNomogram or NomogramGroup
    path : str or Path
        The patients' CSV (header line first). ``row`` in the outputs is the
        1-based data row (the file's line number minus one).
    out : str or Path
        The scores CSV (columns as :func:`score_table`).
    id_column, cutoff, range_margin
        As in :func:`score_table`.
    chunksize : int, default 100000
        Rows read and scored at a time (memory grows with it, not with the file).
    progress : callable, optional
        Called with the number of rows done after each chunk.

    Returns
    -------
    ScoringSummary
    """
    path, out = Path(path), Path(out)
    if not path.is_file():
        raise FileNotFoundError(f"score_csv: no patients file at '{path}'.")
    if out.suffix.lower() != ".csv":
        raise ValueError(f"score_csv: the scores file (--out) is written as CSV, so its name must end in .csv; "
                         f"got '{out}'. Name it e.g. scores.csv.")
    if out.resolve() == path.resolve() or errors_path(out).resolve() == path.resolve():
        raise ValueError(f"score_csv: the scores file '{out}' would replace the patients file '{path}' being "
                         "read; give --out another name.")
    if path.stat().st_size == 0:
        raise ValueError(f"score_csv: the patients file '{path}' is empty; it needs a header line and one row "
                         "per patient.")
    if not isinstance(chunksize, (int, np.integer)) or chunksize < 1:
        raise ValueError(f"The 'chunksize' parameter of score_csv must be a positive integer. Got {chunksize!r} instead.")
    scorer = _Scorer(model, cutoff=cutoff, range_margin=range_margin, id_column=id_column)
    err_path = errors_path(out)  # <out>.errors.csv, as every long command names it
    tmp_out = out.with_name(out.name + ".tmp")
    tmp_err = err_path.with_name(err_path.name + ".tmp")
    t0 = time.perf_counter()
    n_rows = n_bad = n_flag = n_err = n_flag_lines = 0
    by_model: dict = {}
    from fusion.cohort.lock import OutputLock

    lock = OutputLock(out, command="score_csv (nomofuse predict / screen)")
    lock.acquire()  # another process scoring into the same file: refused, never two writers
    try:
        reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=int(chunksize),
                             encoding="utf-8", skipinitialspace=False)
        with open(tmp_out, "wb") as fo, open(tmp_err, "wb") as fe:
            fo.write((",".join(_quote(c) for c in scorer.columns) + "\n").encode("utf-8"))
            fe.write((",".join(ERROR_COLUMNS) + "\n").encode("utf-8"))
            for i, chunk in enumerate(reader):
                if i == 0:
                    _check_id_column(scorer, chunk.columns, "score_csv")
                scores, errors, bad, flag = scorer.score(chunk, n_rows + 1)
                _append_csv(scores, fo)
                _append_csv(errors, fe)
                n_rows += len(chunk)
                n_bad += bad
                n_flag += flag
                flag_lines = int((errors["action"] == _FLAGGED).sum())
                n_err += len(errors) - flag_lines
                n_flag_lines += flag_lines
                for k, v in scores["model"].value_counts(sort=False).items():
                    by_model[k] = by_model.get(k, 0) + int(v)
                if progress is not None:
                    progress(n_rows)
        tmp_out.replace(out)
        tmp_err.replace(err_path)
    finally:
        for t in (tmp_out, tmp_err):
            if t.exists():
                t.unlink()
        lock.release()
    by_model = {k: by_model[k] for k in sorted(by_model)}
    return ScoringSummary(n_rows, n_rows - n_bad, n_bad, n_flag, n_err, n_flag_lines, by_model, out, err_path,
                          time.perf_counter() - t0)

