"""Rows to patients, and patient-grouped folds: what every label and network shares.

A feature table may hold several rows per patient (lesions, slides). Labels
are patient-level: the rows of one patient are first reduced to one row by a
rule the user states (``aggregate``), then every model, filter and fold works
on patients, so one patient's lesions or slides never straddle a training and
a held-out fold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nomogram.checks import align_y, check_binary_y, check_option, check_survival_y

__all__ = ["AGGREGATES", "patient_ids", "aggregate_rows", "patient_outcome", "patient_folds"]

#: How several rows of one patient become one row.
#: ``"max"``: the maximum of each feature over the rows (max pooling);
#: ``"mean"``: the mean of each feature; ``"largest"``: the row with the
#: largest value of ``size_column`` (e.g. the largest lesion's volume).
AGGREGATES = ("max", "mean", "largest")


def patient_ids(groups, n: int, *, caller: str, index: pd.Index | None = None) -> np.ndarray:
    """``groups`` as a 1-D object array of length ``n`` without missing ids.

    A pandas ``groups`` is matched to the rows of X (``index``) by label, as ``y`` is.
    """
    g = np.asarray(align_y(groups, index, caller=caller, what="groups"), dtype=object).reshape(-1)
    if len(g) != n:
        raise ValueError(f"{caller}: 'groups' has {len(g)} values but X has {n} rows; pass one patient id per row.")
    missing = pd.isna(g)
    if missing.any():
        raise ValueError(
            f"{caller}: 'groups' has {int(missing.sum())} missing patient id(s) (first at row "
            f"{int(np.flatnonzero(missing)[0])}); every row needs the id of its patient."
        )
    return g


def aggregate_rows(X: pd.DataFrame, groups, *, aggregate, size_column=None, caller: str) -> pd.DataFrame:
    """One row per patient, indexed by patient id in order of first appearance.

    With ``groups=None`` every row is a patient (the index of ``X`` is kept
    and must be unique). With several rows for a patient ``aggregate`` must
    say how they combine (:data:`AGGREGATES`); it is never guessed.
    """
    if groups is None:
        if not X.index.is_unique:
            dup = X.index[X.index.duplicated()][:3].tolist()
            raise ValueError(
                f"{caller}: X has duplicated index values {dup}; pass groups= (one patient id per row) "
                "and aggregate= to say how a patient's rows combine."
            )
        return X
    g = patient_ids(groups, len(X), caller=caller, index=X.index)
    codes, uniques = pd.factorize(pd.Series(g), sort=False)
    counts = np.bincount(codes)
    if (counts == 1).all():
        out = X.copy()  # one row per patient already: codes are 0, 1, 2, ... in row order
        out.index = pd.Index(uniques, name="patient")
        return out
    if aggregate is None:
        first = uniques[int(np.argmax(counts))]
        raise ValueError(
            f"{caller}: patient {first!r} has {int(counts.max())} rows (lesions or slides) and "
            f"{int((counts > 1).sum())} patient(s) have several; pass aggregate= one of "
            f"{set(AGGREGATES)} to say how a patient's rows combine into one."
        )
    check_option(aggregate, AGGREGATES, name="aggregate", caller=caller)
    key = pd.Series(codes, index=X.index)
    if aggregate == "largest":
        if size_column is None or size_column not in X.columns:
            raise ValueError(
                f"{caller}: aggregate='largest' needs size_column= naming a column of X that holds "
                f"each row's size (e.g. lesion volume); got {size_column!r}."
            )
        size = pd.to_numeric(X[size_column], errors="coerce").to_numpy(float)
        if np.isnan(size).any():
            raise ValueError(f"{caller}: size_column '{size_column}' has missing or non-numeric values.")
        # the first row of the largest size within each patient
        order = np.lexsort((np.arange(len(X)), -size, codes))
        first_rows = order[np.r_[0, np.flatnonzero(np.diff(codes[order])) + 1]]
        out = X.iloc[first_rows].copy()
    else:
        out = X.groupby(key.to_numpy(), sort=True).agg(aggregate)
    out.index = pd.Index(uniques, name="patient")
    return out


def patient_outcome(y, groups, n: int, *, outcome: str, caller: str, index: pd.Index | None = None):
    """The outcome per patient (same order as :func:`aggregate_rows`), checked constant within a patient.

    ``index`` is the row index of the feature table: a pandas ``y`` is matched
    to the rows by label (:func:`nomogram.checks.align_y`: re-ordered, or
    refused when the labels differ), an array by position.

    Returns a 0/1 float array (binary) or a ``(time, event)`` tuple (survival).
    """
    if outcome == "binary":
        yy = check_binary_y(y, n=n, caller=caller, index=index)
        cols = [yy]
    else:
        time, event = check_survival_y(y, n=n, caller=caller, index=index)
        cols = [time, event]
    if groups is None:
        return cols[0] if outcome == "binary" else (cols[0], cols[1])
    g = patient_ids(groups, n, caller=caller, index=index)
    codes, uniques = pd.factorize(pd.Series(g), sort=False)
    out = []
    for c in cols:
        first = np.full(len(uniques), np.nan)
        first[codes[::-1]] = c[::-1]  # value of each patient's first row
        bad = c != first[codes]
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{caller}: patient {uniques[codes[i]]!r} has rows with different outcomes "
                f"({first[codes[i]]:g} and {c[i]:g}); the outcome is a patient's, give it once per patient."
            )
        out.append(first)
    return out[0] if outcome == "binary" else (out[0], out[1])


def patient_folds(strata: np.ndarray, n_splits: int, random_state, *, caller: str) -> np.ndarray:
    """Fold number (0..n_splits-1) of each patient, stratified by ``strata`` (outcome or event).

    Patients, not rows, are split: callers pass one entry per patient.
    """
    from sklearn.model_selection import StratifiedKFold

    if not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"The 'cv' parameter of {caller} must be an integer >= 2. Got {n_splits!r} instead.")
    s = np.asarray(strata).astype(int)
    counts = np.bincount(s, minlength=2)
    if counts.min() < n_splits:
        raise ValueError(
            f"{caller}: cross-fitting with cv={n_splits} needs at least {n_splits} patients with and "
            f"without the event; the training data have {counts[1]} and {counts[0]}. Lower cv or add patients."
        )
    folds = np.empty(len(s), dtype=int)
    splitter = StratifiedKFold(n_splits=int(n_splits), shuffle=True, random_state=_seed(random_state))
    for k, (_, test) in enumerate(splitter.split(np.zeros(len(s)), s)):
        folds[test] = k
    return folds


def _seed(random_state):
    """An int seed from ``random_state`` (int, None or numpy Generator)."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    return random_state
