"""The patients of a study: clinical table, outcome, exclusions with reasons, and the splits.

:func:`read_clinical` reads the clinical table and checks the columns the
study file names; :func:`select_patients` applies the exclusions in order
(the study's own rules, then a missing outcome, cancer type or candidate
factor, then a missing or failed scan or slide) and records each excluded
patient once, with the first reason that applies; :func:`split_patients`
holds out the external centres and splits the rest at random into training
and internal test, stratified.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import StudyConfig, StudyFileError

__all__ = ["read_clinical", "outcome_columns", "Selection", "select_patients", "split_patients",
           "SPLITS"]

#: Split names, in report order.
SPLITS = ("train", "internal test", "external")


def read_clinical(cfg: StudyConfig) -> pd.DataFrame:
    """The clinical table with the patient id as text index; named columns checked."""
    path = cfg.clinical.table
    from .csv_tables import read_table

    try:
        df = read_table(path, text=[cfg.clinical.patient_id])
    except (OSError, ValueError) as exc:
        raise StudyFileError(f"clinical.table '{path}' cannot be read ({exc}); give a CSV or "
                             "Parquet file with one row per patient.") from None
    pid = cfg.clinical.patient_id
    needed = {"clinical.patient_id": [pid], "clinical_factors.candidates": list(cfg.clinical_factors.candidates)}
    out = cfg.outcome
    needed["outcome"] = [out.column] if out.type == "binary" else [out.time, out.event]
    if cfg.cancer_type is not None:
        needed["cancer_type.column"] = [cfg.cancer_type.column]
    if cfg.splits.external is not None:
        needed["splits.external.column"] = [cfg.splits.external.column]
    problems = []
    for key, cols in needed.items():
        missing = [c for c in cols if c not in df.columns]
        if missing:
            problems.append(f"{key} names column(s) {missing} that '{path}' does not have")
    if problems:
        raise StudyFileError(f"clinical table '{path}': " + "; ".join(problems)
                             + f". Its columns are {list(df.columns)}.", problems)
    ids = df[pid].astype(str).str.strip()
    if (ids == "").any() or df[pid].isna().any():
        rows = (np.flatnonzero((ids == "") | df[pid].isna()) + 2).tolist()[:5]
        raise StudyFileError(f"clinical table '{path}': column '{pid}' is blank on row(s) {rows} "
                             "(header = row 1); every patient needs an id.")
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise StudyFileError(f"clinical table '{path}': patient id(s) {dup[:5]} appear more than "
                             f"once in column '{pid}'; the table needs one row per patient.")
    df = df.copy()
    df.index = pd.Index(ids, name="patient_id")
    return df


def outcome_columns(cfg: StudyConfig) -> list[str]:
    """The columns of the standard outcome frame: ``["y"]`` or ``["time", "event"]``."""
    return ["y"] if cfg.outcome.type == "binary" else ["time", "event"]


def _outcome(cfg: StudyConfig, df: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Outcome frame (``y`` or ``time``/``event``) and the reason a patient's outcome is unusable."""
    o = cfg.outcome
    reason = pd.Series("", index=df.index, dtype=object)
    if o.type == "binary":
        col = df[o.column]
        missing = col.isna()
        reason[missing] = f"missing outcome ({o.column})"
        values = col[~missing]
        if o.event_level is not None:
            levels = set(values.astype(str))
            if str(o.event_level) not in levels:
                raise StudyFileError(f"outcome.event_level is {o.event_level!r}, which never occurs in "
                                     f"column '{o.column}' (values: {sorted(levels)[:10]}).")
            y = (col.astype(str) == str(o.event_level)).astype(float)
        else:
            levels = sorted(pd.unique(values))
            if len(levels) != 2:
                raise StudyFileError(
                    f"outcome.column '{o.column}' must hold two values (e.g. 0/1); it has "
                    f"{len(levels)}: {levels[:10]}. Give outcome.event_level to name the event.")
            y = (col == levels[1]).astype(float)
        y[missing] = np.nan
        return pd.DataFrame({"y": y}, index=df.index), reason
    time = pd.to_numeric(df[o.time], errors="coerce")
    event = pd.to_numeric(df[o.event], errors="coerce")
    bad_event = event.notna() & ~event.isin([0, 1])
    if bad_event.any():
        rows = (np.flatnonzero(bad_event.to_numpy()) + 2).tolist()[:5]
        raise StudyFileError(f"outcome.event column '{o.event}' must be 0/1; rows {rows} (header = "
                             f"row 1) hold {df[o.event][bad_event].unique()[:5].tolist()}.")
    reason[time.isna() | event.isna()] = f"missing outcome ({o.time}, {o.event})"
    reason[(reason == "") & (time <= 0)] = f"follow-up time {o.time} <= 0"
    return pd.DataFrame({"time": time, "event": event}, index=df.index), reason


@dataclass
class Selection:
    """Who is analysed, and who was excluded at which step.

    Attributes
    ----------
    data : DataFrame
        The analysed patients (index: patient id): the outcome columns
        (``y`` or ``time``, ``event``), ``cancer_type`` (or ``"all"``),
        ``centre`` (when external splits are defined) and the candidate factors.
    flow : DataFrame
        ``step``, ``patients``, ``reason``: the cohort flow in order.
    excluded : DataFrame
        One row per excluded patient: ``patient_id``, ``reason``.
    """

    data: pd.DataFrame
    flow: pd.DataFrame
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)


def select_patients(cfg: StudyConfig, clinical: pd.DataFrame, *, modalities: dict | None = None) -> Selection:
    """Apply the exclusions in order; each excluded patient is counted once, at the first reason.

    Parameters
    ----------
    cfg : StudyConfig
    clinical : DataFrame
        From :func:`read_clinical`.
    modalities : dict, optional
        ``{reason: set of patient ids}`` of patients without usable imaging or
        slides (e.g. ``{"no CT scan in the manifest": {...}, "CT extraction
        failed": {...}}``), applied after the clinical exclusions.
    """
    reasons = pd.Series("", index=clinical.index, dtype=object)
    applied: list[str] = []  # reasons in the order the exclusions are applied (the flow's order)

    def exclude(mask, reason):
        mask = pd.Series(mask, index=clinical.index).fillna(False).astype(bool)
        reasons[mask & (reasons == "")] = reason
        applied.append(reason)

    for i, rule in enumerate(cfg.clinical.exclude):
        query, reason = rule.get("query"), rule.get("reason")
        if not isinstance(query, str) or not isinstance(reason, str):
            raise StudyFileError(f"clinical.exclude[{i}] must be {{query: <pandas query>, reason: <text>}}; "
                                 f"got {dict(rule)!r}.")
        try:
            hit = clinical.eval(query, engine="python")
        except Exception as exc:  # noqa: BLE001 - any error in the user's expression
            raise StudyFileError(f"clinical.exclude[{i}].query {query!r} cannot be evaluated on the "
                                 f"clinical table ({type(exc).__name__}: {exc}); columns are "
                                 f"{list(clinical.columns)}.") from None
        if not (isinstance(hit, pd.Series) and hit.dtype == bool):
            raise StudyFileError(f"clinical.exclude[{i}].query {query!r} must give true/false per "
                                 f"patient (e.g. \"age < 18\"); it gave {type(hit).__name__}.")
        exclude(hit, reason)
    y, outcome_reason = _outcome(cfg, clinical)
    unusable = (outcome_reason != "") & (reasons == "")
    reasons[unusable] = outcome_reason[unusable]
    applied.extend(dict.fromkeys(outcome_reason[unusable]))
    if cfg.cancer_type is not None:
        exclude(clinical[cfg.cancer_type.column].isna(), f"missing cancer type ({cfg.cancer_type.column})")
    for f in cfg.clinical_factors.candidates:
        exclude(clinical[f].isna(), f"missing {f}")
    for reason, ids in (modalities or {}).items():
        exclude(clinical.index.isin(list(ids)), reason)

    flow = [{"step": "patients in the clinical table", "patients": len(clinical), "reason": ""}]
    order = [r for r in dict.fromkeys(applied) if (reasons == r).any()]
    for r in order:
        flow.append({"step": "excluded", "patients": int((reasons == r).sum()), "reason": r})
    keep = reasons == ""
    flow.append({"step": "analysed", "patients": int(keep.sum()), "reason": ""})
    data = y[keep].copy()
    ctype = (clinical.loc[keep, cfg.cancer_type.column].astype(str)
             if cfg.cancer_type is not None else pd.Series("all", index=data.index))
    data["cancer_type"] = ctype
    if cfg.splits.external is not None:
        data["centre"] = clinical.loc[keep, cfg.splits.external.column].astype(str)
    for f in cfg.clinical_factors.candidates:
        data[f] = clinical.loc[keep, f]
    for c in cfg.clinical_factors.categorical:
        data[c] = data[c].astype(str)
    excluded = pd.DataFrame({"patient_id": reasons.index[~keep], "reason": reasons[~keep].to_numpy()})
    if keep.sum() == 0:
        raise StudyFileError("every patient was excluded: " + "; ".join(
            f"{row['patients']} {row['reason']}" for row in flow if row["step"] == "excluded"))
    return Selection(data, pd.DataFrame(flow), excluded)


def split_patients(cfg: StudyConfig, data: pd.DataFrame) -> pd.Series:
    """``train`` / ``internal test`` / ``external`` per patient (index: patient id).

    External: patients whose centre is in ``splits.external.values``. The
    others are split at random (seed ``splits.seed``) with
    ``splits.internal_test`` of them held out, stratified on
    ``splits.stratify`` (strata with fewer than two patients are pooled).
    """
    from sklearn.model_selection import train_test_split

    split = pd.Series("train", index=data.index, dtype=object, name="split")
    ext = cfg.splits.external
    if ext is not None:
        values = {str(v) for v in ext["values"]}
        seen = set(data["centre"].astype(str))
        unknown = sorted(values - seen)
        if unknown == sorted(values):
            raise StudyFileError(f"splits.external.values {sorted(values)} never occur in column "
                                 f"'{ext.column}' of the analysed patients (values: {sorted(seen)[:10]}).")
        split[data["centre"].astype(str).isin(values)] = "external"
    rest = data.index[split == "train"]
    frac = float(cfg.splits.internal_test)
    if frac > 0 and len(rest) >= 4:
        strata = pd.Series("", index=rest, dtype=object)
        for s in cfg.splits.stratify:
            if s == "outcome":
                col = data.loc[rest, "y" if "y" in data else "event"].astype(int).astype(str)
            elif s == "cancer_type":
                col = data.loc[rest, "cancer_type"].astype(str)
            elif s in data.columns:
                col = data.loc[rest, s].astype(str)
            else:
                raise StudyFileError(f"splits.stratify names {s!r}, which is neither 'outcome', "
                                     "'cancer_type' nor a candidate clinical factor.")
            strata = strata + "|" + col
        counts = strata.map(strata.value_counts())
        strata[counts < 2] = "pooled"
        if (strata == "pooled").sum() == 1:
            strata[strata == "pooled"] = strata.mode().iloc[0]
        _, test = train_test_split(np.asarray(rest), test_size=frac, random_state=int(cfg.splits.seed),
                                   stratify=strata.to_numpy() if strata.nunique() > 1 else None)
        split[test] = "internal test"
    return split
