"""One checker per kind of input.

Every message says what was expected, what was received, and how to fix it,
following scikit-learn's ``_param_validation`` template:
"The 'method' parameter of calibrate must be one of {'boot', ...}. Got 'bot' instead."
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .exceptions import MissingDependencyError, NotFittedError

__all__ = [
    "check_option",
    "check_dataframe",
    "check_binary_y",
    "check_survival_y",
    "align_y",
    "pandas_index",
    "binary_event_codes",
    "check_predictor_types",
    "check_numeric_values",
    "check_training_range",
    "check_separation",
    "check_times",
    "check_discrimination",
    "check_group_sizes",
    "MAX_FACTOR_LEVELS",
    "check_probabilities",
    "check_scores",
    "check_is_fitted",
    "check_random_state",
    "check_thresholds",
    "EXTRAS",
    "extra_for",
    "missing_extra_message",
    "require",
    "check_columns",
    "renamed_parameter",
    "renamed_attribute",
    "survival_outcome",
    "warn_deprecated",
]

#: Release in which the old parameter names of the vocabulary in CONTRIBUTING.md started to warn.
RENAMED_SINCE = "0.2"

#: Top-level modules of optional packages -> the nomofuse extra that installs them.
#: ``pip install "nomofuse[all]"`` installs every extra.
EXTRAS = {
    "SimpleITK": "imaging", "radiomics": "imaging", "pywt": "imaging", "pydicom": "imaging",
    "trimesh": "imaging", "pyarrow": "imaging", "skimage": "imaging",
    "torch": "deep", "torchvision": "deep", "timm": "deep", "safetensors": "deep",
    "openslide": "pathology", "openslide_bin": "pathology", "h5py": "pathology", "tifffile": "pathology",
    "xgboost": "fusion",
    "dask": "cluster", "distributed": "cluster",
    "highdicom": "dicom",
    "nbformat": "notebooks", "nbclient": "notebooks", "ipykernel": "notebooks",
}


def extra_for(module: str) -> str | None:
    """The nomofuse extra that installs ``module`` (its top-level name), or ``None``."""
    return EXTRAS.get(str(module).split(".")[0])


def missing_extra_message(module: str, purpose: str | None = None) -> str:
    """One line naming the missing package and the ``pip install`` that fixes it.

    Examples
    --------
    >>> missing_extra_message("SimpleITK", "Reading CT volumes")
    'Reading CT volumes needs SimpleITK, which is not installed: pip install "nomofuse[imaging]" (or "nomofuse[all]")'
    """
    top = str(module).split(".")[0]
    extra = extra_for(top)
    what = f"{purpose} needs {top}" if purpose else f"This step needs {top}"
    if extra is None:
        return f"{what}, which is not installed: pip install {top}"
    return f'{what}, which is not installed: pip install "nomofuse[{extra}]" (or "nomofuse[all]")'


def require(module: str, *, purpose: str | None = None, extra: str | None = None):
    """Import and return ``module``; if it is missing, raise :class:`MissingDependencyError`.

    The error's message is :func:`missing_extra_message`: one line naming the
    ``pip install "nomofuse[<extra>]"`` that installs it. Use it for every lazy
    import of an optional package.

    Examples
    --------
    >>> np_ = require("numpy")
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = str(module).split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the module exists but one of *its* imports is missing: show that one
        if extra is not None:
            msg = (f'{purpose or "This step"} needs {top}, which is not installed: '
                   f'pip install "nomofuse[{extra}]" (or "nomofuse[all]")')
        else:
            msg = missing_extra_message(top, purpose)
        raise MissingDependencyError(msg, module=top, extra=extra or extra_for(top)) from None


def check_option(value, allowed: Iterable, *, name: str, caller: str):
    """Return ``value`` if it is one of ``allowed``; otherwise raise ``ValueError``.

    Examples
    --------
    >>> check_option("boot", {"boot", "crossvalidation"}, name="method", caller="validate")
    'boot'
    """
    allowed = list(allowed)
    if value not in allowed:
        shown = "{" + ", ".join(repr(python_value(a))
                                for a in sorted(allowed, key=str)) + "}"
        raise ValueError(
            f"The '{name}' parameter of {caller} must be one of {shown}. Got {value!r} instead."
        )
    return value


def check_random_state(random_state, *, caller: str = "") -> np.random.Generator:
    """Return a numpy ``Generator`` from ``random_state`` (None, an int >= 0, a Generator or a SeedSequence).

    Anything else (text, a float, a negative number) is refused naming the
    parameter, instead of numpy's ``SeedSequence`` error.
    """
    if random_state is None or isinstance(random_state, (np.random.Generator, np.random.SeedSequence,
                                                         np.random.BitGenerator)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool) and random_state >= 0:
        return np.random.default_rng(int(random_state))
    where = f" of {caller}" if caller else ""
    raise ValueError(f"The 'random_state' parameter{where} must be None, an integer >= 0 or a "
                     f"numpy.random.Generator. Got {random_state!r} instead.")


def check_is_fitted(estimator, attribute: str = "coef_") -> None:
    """Raise :class:`NotFittedError` naming the class if ``estimator`` lacks ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet; call fit first."
        )


def _first_labels(index, mask, k: int = 5) -> list:
    """The first ``k`` row labels of ``index`` where ``mask`` holds (JSON-friendly)."""
    return [python_value(v) for v in index[np.asarray(mask)][:k].tolist()]


def check_dataframe(
    X,
    *,
    columns: Sequence[str] | None = None,
    caller: str = "fit",
    allow_missing: bool = False,
) -> pd.DataFrame:
    """Check that ``X`` is a DataFrame holding ``columns`` without missing or infinite values.

    Parameters
    ----------
    X : pandas.DataFrame
        Predictors, one row per patient.
    columns : sequence of str, optional
        Columns that must be present (and the only ones checked for values).
    caller : str
        Name of the public function, used in messages.
    allow_missing : bool, default False
        If False, any missing value raises and the message lists how many per column.
        Infinite values are refused either way, naming the column and the rows.

    Returns
    -------
    pandas.DataFrame
        ``X`` itself (not copied).
    """
    if isinstance(X, np.ndarray) or not isinstance(X, pd.DataFrame):
        raise TypeError(
            f"{caller} expects X as a pandas DataFrame with named columns; got "
            f"{type(X).__name__}. Wrap it: pd.DataFrame(X, columns=[...])."
        )
    if len(X) == 0:
        raise ValueError(f"{caller} received an empty DataFrame (0 rows).")
    if isinstance(X.columns, pd.MultiIndex):
        raise ValueError(
            f"{caller}: X has MultiIndex (several-level) columns, e.g. {X.columns[0]!r}; a model names each "
            "predictor by one label (printed on the nomogram). Flatten them first, e.g. "
            "X.columns = ['_'.join(map(str, c)) for c in X.columns]."
        )
    repeated = X.columns[X.columns.duplicated()].unique()
    if columns is not None:
        repeated = repeated[repeated.isin(list(columns))]
    if len(repeated):
        dup = _level_list(repeated)
        raise ValueError(
            f"{caller}: X has repeated column name(s) {dup}; each column must have its own name (a model "
            "cannot tell which one a coefficient belongs to). Drop or rename the copies."
        )
    if columns is not None:
        missing_cols = [c for c in columns if c not in X.columns]
        if missing_cols:
            raise ValueError(
                f"{caller}: column(s) {missing_cols} are missing from X; "
                f"X has columns {list(X.columns)}."
            )
        sub = X[list(columns)]
    else:
        sub = X
    if not allow_missing:
        n_missing = sub.isna().sum()
        n_missing = n_missing[n_missing > 0]
        if len(n_missing):
            detail = ", ".join(f"'{c}': {int(k)}" for c, k in n_missing.items())
            rows = sub.index[sub.isna().any(axis=1)][:5].tolist()
            raise ValueError(
                f"{caller}: X has missing values in {len(n_missing)} column(s) ({detail}; "
                f"first rows {rows}). Impute them or drop those rows first."
            )
    for name in sub.columns:
        col = sub[name]
        if pd.api.types.is_float_dtype(col.dtype) or pd.api.types.is_complex_dtype(col.dtype):
            inf = np.isinf(col.to_numpy())
            if inf.any():
                raise ValueError(
                    f"{caller}: column '{name}' of X has {int(inf.sum())} infinite value(s) (rows "
                    f"{_first_labels(sub.index, inf)}); a model needs finite numbers. Correct them, or "
                    "set them missing and impute."
                )
    return X


# --------------------------------------------------------------------------- outcomes
_NO_EVENT_LEVEL = object()  # the caller has no event_level parameter to offer in messages
_TEXT_CODES = {"0": 0.0, "1": 1.0, "0.0": 0.0, "1.0": 1.0, "false": 0.0, "true": 1.0}


def python_value(v):
    """A numpy scalar as the Python value it holds (messages print ``1.0``, not ``np.float64(1.0)``;
    JSON writes it); anything else unchanged."""
    return v.item() if isinstance(v, np.generic) else v


def _level_list(levels) -> list:
    return [python_value(v) for v in list(levels)[:10]]


def binary_event_codes(values, *, event_level=None, what: str = "y", caller: str = "fit",
                       numeric_levels: str = "larger", offer_event_level: bool = True) -> np.ndarray:
    """Return a two-valued outcome (or event indicator) as 0/1 floats, refusing ambiguous text.

    The one reading of "which value is the event" in nomofuse:

    * ``event_level`` given: rows equal to it (or to its text) are events, the
      others are not; a value that never occurs is refused, naming the levels;
    * booleans: ``True`` is the event;
    * numbers: 0/1; with ``numeric_levels="larger"`` any two numbers, the
      larger being the event (rms ``lrm``), with ``"01"`` only 0/1;
    * text ``'0'/'1'`` and ``'False'/'True'`` (any case) as those numbers.

    Any other text (``'Yes'/'no'``, ``'dead'/'alive'``) is refused: sorted
    order would silently make ``'no'`` the event. The message names the levels
    and the fix (``event_level=`` or coding as 0/1).

    Parameters
    ----------
    values : array-like of shape (n,)
        Without missing values (checked by the caller).
    event_level : scalar, optional
        The value that means the event.
    what : str
        How messages name the values (``"y"``, ``"the event column 'cens'"``).
    caller : str
    numeric_levels : {"larger", "01"}
    offer_event_level : bool, default True
        Whether ``caller`` takes ``event_level=`` (messages offer it then).
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "mM":
        raise ValueError(f"{caller}: {what} holds dates or durations ({arr.dtype}); it must be the "
                         "outcome coded 0/1 (1 = event).")
    if event_level is not None:
        hit = arr == event_level
        if not np.any(hit) and arr.dtype.kind in "OUS":
            hit = np.array([str(v) == str(event_level) for v in arr], dtype=bool)
        if not np.any(hit):
            raise ValueError(
                f"{caller}: event_level={event_level!r} never occurs in {what}, whose values are "
                f"{_level_list(pd.unique(arr))}. Pass the value that means the event."
            )
        return np.asarray(hit, dtype=float)
    if arr.dtype == bool:
        return arr.astype(float)
    if arr.dtype.kind in "iuf":
        codes = arr.astype(float)
    else:
        uniq = pd.unique(arr.astype(object))
        if len(uniq) > 2:
            raise ValueError(
                f"{caller}: {what} must be binary (two distinct values, e.g. 0/1); got {len(uniq)} distinct "
                f"value(s): {_level_list(uniq)}."
            )
        mapping = {}
        for v in uniq:
            if isinstance(v, (bool, np.bool_)):
                mapping[v] = float(v)
            elif isinstance(v, (int, float, np.integer, np.floating)):
                mapping[v] = float(v)
            elif isinstance(v, str) and v.strip().lower() in _TEXT_CODES:
                mapping[v] = _TEXT_CODES[v.strip().lower()]
            else:
                mapping = None
                break
        if mapping is None:
            shown = _level_list(sorted(map(str, uniq)))
            example = next((s for s in shown if s.lower() in ("yes", "y", "dead", "death", "event", "died",
                                                               "positive", "pos", "recurrence")), shown[-1])
            var = "y" if what == "y" else "event"
            code = f"code {what} as 0/1 (1 = event), e.g. ({var} == {example!r}).astype(int)"
            fix = (f"Pass event_level={example!r} (the value that means the event), or {code}"
                   if offer_event_level else code[0].upper() + code[1:])
            raise ValueError(
                f"{caller}: {what} is text with levels {shown}; which one is the event is ambiguous "
                f"(sorted order would make {sorted(map(str, uniq))[-1]!r} the event). {fix}."
            )
        codes = np.array([mapping[v] for v in arr.astype(object)], dtype=float)
    bad = ~np.isfinite(codes)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{caller}: {what} has {int(bad.sum())} infinite value(s) (first at row {i}: "
                         f"{codes[i]}); it must be 0/1.")
    levels = np.unique(codes)
    if numeric_levels == "01" or len(levels) != 2:
        if not np.isin(levels, (0.0, 1.0)).all():
            raise ValueError(
                f"{caller}: {what} must be 0/1 or boolean (1 = event); got values "
                f"{_level_list(levels[~np.isin(levels, (0.0, 1.0))])}."
                if numeric_levels == "01" else
                f"{caller}: {what} must be binary (two distinct values, e.g. 0/1); got "
                f"{len(levels)} distinct value(s): {_level_list(levels)}."
            )
        return codes
    return (codes == levels[1]).astype(float)


def pandas_index(*values) -> pd.Index | None:
    """The index of the first pandas Series/DataFrame among ``values`` (None if there is none).

    Metrics match the outcome (and a second score) to the scores by this index
    (:func:`align_y`), so a Series of predictions in another row order than
    ``y`` is re-ordered, never paired by position.
    """
    for v in values:
        if isinstance(v, (pd.Series, pd.DataFrame)):
            return v.index
    return None


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def align_y(y, index: pd.Index | None, *, caller: str = "fit", what: str = "y", against: str = "X"):
    """Put a pandas ``y`` in the row order of ``X`` (``index`` is ``X.index``).

    ``y`` given as a Series or DataFrame is matched to ``X`` by index labels, as
    pandas users expect: the same labels in another order are re-ordered to X's
    order; labels that differ are refused, with how many do not match. Arrays
    (and a ``y`` whose index already equals X's) are paired by position.
    ``what`` and ``against`` name the two sides in messages (a metric aligns
    ``y`` to its scores: ``against="the scores"``).
    """
    if index is None:
        return y
    if isinstance(y, tuple):
        return tuple(align_y(v, index, caller=caller, what=what, against=against) for v in y)
    if not isinstance(y, (pd.Series, pd.DataFrame)) or y.index.equals(index) or len(y) != len(index):
        return y  # a length mismatch is named by the outcome's own check
    missing = ~index.isin(y.index)
    if index.is_unique and y.index.is_unique and not missing.any():
        return y.loc[index]
    n_bad = int(missing.sum())
    dup = "" if (index.is_unique and y.index.is_unique) else " (one of them has repeated labels)"
    raise ValueError(
        f"{caller}: {_possessive(what)} index does not match {_possessive(against)}{dup}: {n_bad} of "
        f"{_possessive(against)} {len(index)} row labels have no match in {_possessive(what)} {len(y)} (e.g. "
        f"{_first_labels(index, missing, 3) or y.index[:3].tolist()}). "
        f"{what} is matched to {against} by index labels; give them the same index, or pass {what}.to_numpy() "
        "to pair rows by position."
    )


def check_binary_y(y, *, n: int | None = None, caller: str = "fit", index: pd.Index | None = None,
                   event_level=_NO_EVENT_LEVEL, against: str = "X") -> np.ndarray:
    """Return ``y`` as a 0/1 float array; refuse anything that is not binary or is ambiguous.

    Accepts booleans, 0/1 numbers, two numbers (the larger is the event, as in
    ``rms::lrm``), text ``'0'/'1'`` or ``'False'/'True'``, or any two values
    with ``event_level`` naming the event (:func:`binary_event_codes`). Text
    such as ``'Yes'/'no'`` without ``event_level`` is refused.

    Parameters
    ----------
    y : array-like of shape (n,)
    n : int, optional
        Number of rows of X.
    caller : str
    index : pandas.Index, optional
        ``X.index``: a pandas ``y`` is aligned to it by label (:func:`align_y`).
    event_level : scalar, optional
        The value of ``y`` that means the event. Leave unset in a function
        without an ``event_level`` parameter (messages then offer only 0/1 coding).
    against : str, default "X"
        What ``index`` belongs to, in messages (``"the scores"`` for a metric).
    """
    y = align_y(y, index, caller=caller, against=against)
    if index is not None and n is None:
        n = len(index)
    arr = np.asarray(y)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise ValueError(f"{caller}: y must be one-dimensional; got shape {np.shape(y)}.")
    if n is not None and len(arr) != n:
        raise ValueError(f"{caller}: y has {len(arr)} values but X has {n} rows.")
    mask = pd.isna(arr)
    if mask.any():
        raise ValueError(
            f"{caller}: y has {int(mask.sum())} missing value(s) (first at position "
            f"{int(np.flatnonzero(mask)[0])}). Drop those patients first."
        )
    offer = event_level is not _NO_EVENT_LEVEL
    codes = binary_event_codes(arr, event_level=event_level if offer else None, what="y", caller=caller,
                               offer_event_level=offer)
    if len(np.unique(codes)) != 2:
        raise ValueError(
            f"{caller}: y must be binary (two distinct values, e.g. 0/1); got "
            f"{len(pd.unique(arr))} distinct value(s): {_level_list(pd.unique(arr))}."
        )
    return codes


def check_survival_y(y, *, n: int | None = None, caller: str = "fit",
                     require_event: bool = True, index: pd.Index | None = None,
                     event_level=None, against: str = "X") -> tuple[np.ndarray, np.ndarray]:
    """Return ``(time, event)`` from a survival outcome.

    Accepts a two-column DataFrame ``[time, event]`` (columns taken in order),
    a scikit-survival structured array (event field first, time second), an
    ``(n, 2)`` array whose columns are time and event, or a tuple
    ``(time, event)``.

    Parameters
    ----------
    require_event : bool, default True
        Refuse an outcome without a single event (a Cox model, a C index or a
        ROC needs one). Kaplan–Meier curves and log-rank tests pass False.
    index : pandas.Index, optional
        ``X.index``: a DataFrame (or Series) outcome is aligned to it by label
        (:func:`align_y`).
    event_level : scalar, optional
        The value of a text event column that means the event; without it the
        event must be 0/1, boolean, or text ``'0'/'1'``, ``'False'/'True'``.
        R's ``Surv`` coding 1/2 (2 = event) is refused with the fix
        (``event_level=2``): read silently, 1 would be taken for events.
    against : str, default "X"
        What ``index`` belongs to, in messages.

    Raises
    ------
    ValueError
        Missing values, non-positive or infinite times, events not 0/1 (or
        ambiguous text), or (with ``require_event``) all samples censored.
    """
    y = align_y(y, index, caller=caller, against=against)
    if index is not None and n is None:
        n = len(index)
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 2:
            raise ValueError(
                f"{caller}: y must have two columns [time, event]; got {list(y.columns)}."
            )
        time = y.iloc[:, 0].to_numpy()
        event = y.iloc[:, 1].to_numpy()
    elif isinstance(y, np.ndarray) and y.dtype.names is not None:
        names = y.dtype.names
        if len(names) != 2:
            raise ValueError(f"{caller}: structured y must have 2 fields (event, time); got {names}.")
        event, time = y[names[0]], y[names[1]]
    elif isinstance(y, np.ndarray) and y.ndim == 2:
        if y.shape[1] != 2:
            raise ValueError(
                f"{caller}: an array y must have shape (n, 2) with columns time and event; got "
                f"shape {y.shape}."
            )
        time, event = y[:, 0], y[:, 1]
    elif isinstance(y, tuple) and len(y) == 2:
        time, event = (np.asarray(v) for v in y)
    else:
        raise TypeError(
            f"{caller}: y must be a DataFrame [time, event], a scikit-survival structured "
            f"array or an (n, 2) array [time, event]; got {type(y).__name__}."
        )
    if np.asarray(time).dtype.kind in "mM":
        raise ValueError(f"{caller}: survival times are dates or durations ({np.asarray(time).dtype}); pass "
                         "follow-up times as numbers (e.g. days: (end - start).dt.days).")
    try:
        time = np.asarray(time, dtype=float).reshape(-1)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{caller}: survival times must be numbers ({err}).") from None
    if n is not None and len(time) != n:
        raise ValueError(f"{caller}: y has {len(time)} rows but X has {n} rows.")
    event_arr = np.asarray(event).reshape(-1)
    if len(event_arr) != len(time):
        raise ValueError(f"{caller}: y has {len(time)} times but {len(event_arr)} event indicators.")
    if np.isnan(time).any() or pd.isna(event_arr).any():
        raise ValueError(f"{caller}: y has missing times or events; drop those patients first.")
    if np.isinf(time).any():
        i = int(np.flatnonzero(np.isinf(time))[0])
        raise ValueError(f"{caller}: survival times must be finite; row {i} has time {time[i]}.")
    if event_level is None and event_arr.dtype.kind in "iuf":
        levels = np.unique(event_arr)
        if len(levels) == 2 and set(levels.tolist()) == {1.0, 2.0}:
            raise ValueError(
                f"{caller}: the event indicator is coded 1/2 (R's Surv coding: 1 = censored, 2 = event); nomofuse "
                "reads 0/1 (1 = event). Pass event_level=2 if 2 means the event, or recode it (event - 1)."
            )
        t_levels = np.unique(time)
        if len(levels) > 2 and len(t_levels) <= 2 and set(t_levels.tolist()) <= {0.0, 1.0}:
            raise ValueError(
                f"{caller}: the event indicator has {len(levels)} distinct values while the times are all 0/1: the "
                "two columns look swapped. Give y as [time, event] in that order (a scikit-survival "
                "structured array is (event, time))."
            )
    event_arr = binary_event_codes(event_arr, event_level=event_level, what="the event indicator",
                                   caller=caller, numeric_levels="01")
    if (time <= 0).any():
        i = int(np.flatnonzero(time <= 0)[0])
        raise ValueError(
            f"{caller}: survival times must be positive; row {i} has time {time[i]}."
        )
    if require_event and event_arr.sum() == 0:
        raise ValueError(f"{caller}: all samples are censored; at least one event is needed.")
    return time, event_arr


# --------------------------------------------------------------------------- predictors
#: A text column not declared categorical with more distinct values than this is refused
#: (a patient ID, a free-text field); list it in ``categorical=`` to fit it as a factor anyway.
MAX_FACTOR_LEVELS = 20


def _as_number(v) -> float | None:
    """``v`` as a finite float, or None (text that is not a number, 'nan', 'inf', dates)."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v) if np.isfinite(v) else None
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return None
        return f if np.isfinite(f) else None
    return None


def check_numeric_values(col: pd.Series, *, name: str, caller: str) -> np.ndarray:
    """Return a column as floats, or raise naming the values that are not numbers and their rows."""
    try:
        return np.asarray(col, dtype=float)
    except (TypeError, ValueError):
        pass
    values = col.astype(object)
    bad = np.array([v is not None and not pd.isna(v) and _as_number(v) is None for v in values], dtype=bool)
    shown = _level_list(pd.unique(values[bad]))
    raise ValueError(
        f"{caller}: column '{name}' must hold numbers (the model treats it as numeric), but "
        f"{int(bad.sum())} row(s) hold {shown} (rows {_first_labels(col.index, bad)}). Correct them, or "
        "set them missing and impute."
    )


def check_predictor_types(X: pd.DataFrame, *, categorical: Sequence[str] = (), caller: str = "fit",
                          max_levels: int = MAX_FACTOR_LEVELS) -> dict[str, str]:
    """Decide whether each column of ``X`` is numeric or a factor; refuse what is neither.

    * numbers (not bool): numeric;
    * listed in ``categorical``, a pandas ``Categorical`` or bool: a factor, any number of levels;
    * text (object/string) with at most ``max_levels`` distinct values, not an
      identifier (more levels than half the rows): a factor, as an R factor;
    * text that is mostly numbers (more than half of the rows) is refused as a
      numeric column with typos, naming the values that are not numbers and their rows;
    * text with more levels (a patient ID, free text) is refused, naming it;
    * dates and durations are refused (convert to a number such as days since diagnosis).

    A column listed in ``categorical`` skips the text rules (the override).

    Returns
    -------
    dict of {str: str}
        Column -> ``"numeric"`` or ``"categorical"``.
    """
    declared = set(categorical or ())
    kinds = {}
    n = len(X)
    for name in X.columns:
        col = X[name]
        dtype = col.dtype
        inferred = pd.api.types.infer_dtype(col, skipna=True) if dtype == object else ""
        if (pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype)
                or isinstance(dtype, pd.PeriodDtype)
                or inferred in ("date", "datetime", "datetime64", "time", "timedelta", "timedelta64", "period")):
            raise ValueError(
                f"{caller}: column '{name}' holds dates or durations ({inferred or dtype}); a model needs "
                f"numbers. Convert it (e.g. days since diagnosis: (X['{name}'] - start).dt.days) or drop it."
            )
        if name in declared or isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
            kinds[name] = "categorical"
            continue
        if pd.api.types.is_numeric_dtype(dtype) or inferred in ("integer", "floating", "mixed-integer-float",
                                                                 "decimal"):
            kinds[name] = "numeric"  # numbers (held as Python objects in an object column too)
            continue
        values = col.dropna().astype(object)
        uniq = pd.unique(values)
        is_num = {v: _as_number(v) is not None for v in uniq}
        num_rows = np.array([is_num[v] for v in values], dtype=bool)
        if 0 < (~num_rows).sum() and num_rows.sum() > len(values) / 2:
            bad = col.astype(object).map(lambda v: not pd.isna(v) and _as_number(v) is None).to_numpy(bool)
            raise ValueError(
                f"{caller}: column '{name}' holds numbers in {int(num_rows.sum())} of {len(values)} rows but "
                f"{_level_list(pd.unique(col[bad].astype(object)))} in {int(bad.sum())} (rows "
                f"{_first_labels(col.index, bad)}), so it is text: fitted as a factor it would have "
                f"{len(uniq)} levels. Correct those values (or set them missing and impute); if "
                f"'{name}' really is a factor, list it in categorical=."
            )
        n_levels = len(uniq)
        if n_levels > max_levels or (n_levels > 5 and n_levels > n / 2):
            numbers = " (numbers stored as text: convert with pd.to_numeric)" if num_rows.all() else ""
            raise ValueError(
                f"{caller}: column '{name}' is text with {n_levels} distinct values in {n} rows"
                f"{numbers or (' (an identifier?)' if n_levels > n / 2 else '')}; as a factor it would "
                f"add {n_levels - 1} coefficients (at most {max_levels} levels are taken for a text "
                f"column). Drop it from X or merge its levels; if it really is a factor, list it in "
                "categorical=."
            )
        kinds[name] = "categorical"
    return kinds


def check_training_range(X: pd.DataFrame, limits: dict, *, caller: str = "predict") -> None:
    """Warn (:class:`~nomogram.exceptions.ExtrapolationWarning`) about values outside the training range.

    ``limits`` maps a numeric column to its ``(min, max)`` in the training data
    (rms ``datadist`` ``Low:prediction``/``High:prediction`` span it). A value
    beyond is extrapolated by the model's line or spline: the warning names the
    column, the values, the rows and the range so the user can check them
    (an age of 250, a negative size).
    """
    from .exceptions import ExtrapolationWarning

    for name, (low, high) in limits.items():
        if low is None or high is None or name not in X.columns:
            continue
        try:
            x = np.asarray(X[name], dtype=float)
        except (TypeError, ValueError):
            continue  # not numbers: the design's own check names the values
        with np.errstate(invalid="ignore"):
            out = (x < low) | (x > high)
        if out.any():
            shown = _level_list(pd.unique(x[out]))[:5]
            warnings.warn(
                f"{caller}: column '{name}' has {int(out.sum())} value(s) outside the training range "
                f"[{low:.6g}, {high:.6g}]: {shown} (rows {_first_labels(X.index, out)}). The model "
                "extrapolates there; check those values (a typo, another unit?).",
                ExtrapolationWarning, stacklevel=3,
            )


def check_probabilities(p, *, name: str = "probabilities", caller: str = "",
                        index: pd.Index | None = None) -> np.ndarray:
    """Return ``p`` as a float array and check it lies in [0, 1] without missing values.

    ``index``: as in :func:`check_scores`, a pandas ``p`` is matched to it by label.
    """
    p = align_y(p, index, caller=caller or "check_probabilities", what=str(name), against="the first scores")
    arr = np.asarray(p, dtype=float)
    where = f"{caller}: " if caller else ""
    if np.isnan(arr).any():
        raise ValueError(f"{where}'{name}' has {int(np.isnan(arr).sum())} missing value(s).")
    if (arr < 0).any() or (arr > 1).any():
        raise ValueError(
            f"{where}'{name}' must be probabilities in [0, 1]; got range "
            f"[{arr.min():.4g}, {arr.max():.4g}]. Pass predicted risks, not scores or logits."
        )
    return arr


def check_scores(score, *, n: int, name: str = "score", caller: str = "", warn_constant: bool = True,
                 index: pd.Index | None = None) -> np.ndarray:
    """Return a finite 1-D float array of length ``n``.

    A constant score (one value for every patient) cannot rank anyone: its
    AUC or C index is 0.5 by construction. It gives a
    :class:`~nomogram.exceptions.StatisticalWarning` (``warn_constant=False``
    where a constant is legitimate). A two-column array (``predict_proba``'s
    output) is refused with the fix (its event column).

    ``index``: the row labels the scores must follow (:func:`pandas_index` of
    the scores of one call); a pandas ``score`` is matched to it by label
    (:func:`align_y`), so two Series in different row orders are never paired
    by position.
    """
    where = f"{caller}: " if caller else ""
    score = align_y(score, index, caller=caller or "check_scores", what=str(name), against="the first scores")
    shape = np.shape(score)
    if len(shape) == 2 and shape[1] > 1 and shape[0] > 1:
        raise ValueError(
            f"{where}'{name}' has shape {shape}: one score per patient is needed. For predict_proba's output "
            f"pass its event column ({name}[:, 1]); for several models call once per model."
        )
    arr = np.asarray(score, dtype=float).reshape(-1)
    if len(arr) != n:
        raise ValueError(f"{where}'{name}' has {len(arr)} values but y has {n}.")
    if not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        raise ValueError(f"{where}'{name}' has {int(bad.sum())} missing or infinite value(s) (first at row "
                         f"{int(np.flatnonzero(bad)[0])}).")
    if warn_constant and len(arr) > 1 and np.ptp(arr) == 0:
        from .exceptions import StatisticalWarning

        warnings.warn(
            f"{where}'{name}' is constant ({arr[0]:.4g} for all {len(arr)} patients): it cannot rank patients, so "
            "its AUC / C index is 0.5 by construction. Check that you passed the model's predictions.",
            StatisticalWarning, stacklevel=3,
        )
    return arr


def check_discrimination(value: float, *, score: np.ndarray, what: str = "AUC", caller: str = "",
                         survival: bool = False, direction_param: bool = False) -> None:
    """Warn when a concordance (AUC, C index) is below 0.5: the score is probably inverted.

    nomofuse's convention is a higher score for a higher risk. A survival
    concordance below 0.5 from scores that all lie in [0, 1] looks like
    survival probabilities ``S(t)`` passed where risks are expected; the
    warning says to pass ``1 - S(t)`` (or the linear predictor).
    """
    if not np.isfinite(value) or value >= 0.5:
        return
    from .exceptions import StatisticalWarning

    where = f"{caller}: " if caller else ""
    score = np.asarray(score, dtype=float)
    if survival and score.min() >= 0 and score.max() <= 1:
        msg = (f"{where}{what} = {value:.3f} < 0.5 and every score lies in [0, 1]: these look like survival "
               "probabilities S(t), which are lower for higher risk. A score must be higher for higher risk: pass "
               "1 - S(t) (the risk) or the linear predictor.")
    else:
        alt = ", or direction='>'" if direction_param else ""
        msg = (f"{where}{what} = {value:.3f} < 0.5: the score ranks patients the wrong way round (a higher score "
               f"should mean a higher risk); it may be inverted. If lower scores mean higher risk, pass -score{alt}.")
    warnings.warn(msg, StatisticalWarning, stacklevel=3)


def check_group_sizes(counts: dict, *, need: int = 2, caller: str = "", what: str = "a confidence interval",
                      fix: str = "collect more patients, or report the estimate without an interval") -> None:
    """Raise ``ValueError`` when a group has fewer than ``need`` members (``{"cases": 1, "controls": 40}``).

    A variance (DeLong, bootstrap, Greenwood) needs at least two members in
    every group; with one the interval is degenerate or undefined.
    """
    small = {k: int(v) for k, v in counts.items() if v < need}
    if small:
        where = f"{caller}: " if caller else ""
        wanted = " and ".join(f"{need} {k}" for k in counts)
        got = " and ".join(f"{int(v)} {k}" for k, v in counts.items())
        raise ValueError(f"{where}{what} needs at least {wanted}; got {got}. "
                         f"{fix[0].upper()}{fix[1:]}.")


def check_thresholds(thresholds, *, caller: str = "") -> np.ndarray:
    """Return decision thresholds as a 1-D float array in [0, 1).

    A threshold of 1 is refused: its odds ``pt / (1 - pt)`` is infinite.
    """
    arr = np.atleast_1d(np.asarray(thresholds, dtype=float))
    where = f"{caller}: " if caller else ""
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError(f"{where}thresholds must be a non-empty 1-D sequence; got shape {arr.shape}.")
    if np.isnan(arr).any() or (arr < 0).any() or (arr >= 1).any():
        raise ValueError(
            f"{where}thresholds must lie in [0, 1); got range [{np.nanmin(arr):.4g}, "
            f"{np.nanmax(arr):.4g}]. The odds pt / (1 - pt) is infinite at 1."
        )
    return arr


def check_columns(X, columns: Sequence[str], *, caller: str, what: str = "column(s)") -> None:
    """Raise ``ValueError`` naming every name of ``columns`` that ``X`` lacks.

    Fitted estimators call it in ``predict``/``transform`` with the columns
    they need (``feature_names_in_`` or a subset), so a table with a renamed or
    dropped column fails with its name instead of a shape error.
    """
    have = set(map(str, X.columns))
    missing = [str(c) for c in columns if str(c) not in have]
    if missing:
        shown = missing[:10] + (["..."] if len(missing) > 10 else [])
        raise ValueError(
            f"{caller}: X lacks the {what} {shown} ({len(missing)} of {len(columns)} needed); "
            f"X has {list(X.columns)[:10]}"
            f"{' ...' if X.shape[1] > 10 else ''}. Pass a table with those columns (same names)."
        )


# --------------------------------------------------------------------------- deprecations
class _ArgumentAdapter:
    """The one wrapper behind :func:`renamed_parameter` and :func:`survival_outcome`.

    A function decorated several times gets a single wrapper holding every
    rule, so a deprecation warning always points at the caller's line
    (``stacklevel=2``) however many rules apply.
    """

    def __init__(self, func):
        self.func = func
        self.renames: list[tuple[str, str, Callable | None, bool, str]] = []
        self.survival_position: int | None = None
        sig = inspect.signature(func).parameters
        params = list(sig)
        self.params = params
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self.positional = [p for p in params if sig[p].kind in positional]
        self.name = func.__qualname__.replace(".<locals>", "")
        if self.name.endswith(".__init__"):
            self.name = self.name[: -len(".__init__")]

    def adapt(self, args, kwargs):
        for old, new, convert, warn, since in self.renames:
            if old not in kwargs:
                continue
            value = kwargs.pop(old)
            if new in kwargs:
                raise TypeError(
                    f"{self.name} got both '{old}' and '{new}'; '{old}' is the old name of "
                    f"'{new}': pass only {new}=."
                )
            if warn:
                how = f"{new}=1 - {old}" if convert is _one_minus else f"{new}="
                warn_deprecated(f"The '{old}' parameter of {self.name} was renamed '{new}'",
                                f"pass {how} instead", since=since, stacklevel=3)
            kwargs[new] = convert(value) if convert is not None else value
        if self.survival_position is not None:
            args, kwargs = self._survival(args, kwargs)
        return args, kwargs

    def _survival(self, args, kwargs):
        i = self.survival_position
        old_kw = "time" in kwargs or "event" in kwargs
        old_pos = (
            not old_kw
            and "y" not in kwargs
            and len(args) > i + 1
            and _is_time_vector(args[i])
            and _is_event_vector(args[i + 1], len(args[i]))
        )
        if not (old_kw or old_pos):
            return args, kwargs
        if old_kw:
            if "y" in kwargs:
                raise TypeError(f"{self.name} got y= and time=/event=; pass the outcome once, as y.")
            args = list(args)
            time = kwargs.pop("time") if "time" in kwargs else (args.pop(i) if len(args) > i else None)
            event = kwargs.pop("event") if "event" in kwargs else (args.pop(i) if len(args) > i else None)
            if time is None or event is None:
                raise TypeError(f"{self.name}: pass the survival outcome as y=(time, event) or a DataFrame.")
            args = tuple(args[:i]) + ((time, event),) + tuple(args[i:])
        else:
            args = tuple(args[:i]) + ((args[i], args[i + 1]),) + tuple(args[i + 2:])
        before = [p for p in self.positional[:i] if p not in ("self", "cls")]
        after = self.positional[i + 1:i + 2]
        call = self.name + "(" + ", ".join(before + ["y"] + after + ["..."]) + ")"
        old = self.name + "(" + ", ".join(before + ["time", "event"] + after + ["..."]) + ")"
        warn_deprecated(f"{old} with separate time and event arrays was deprecated",
                        f"pass the survival outcome as one argument: {call} with "
                        "y = pd.DataFrame({'time': time, 'event': event}) (or an (n, 2) array)",
                        stacklevel=4)
        return args, kwargs


def warn_deprecated(change: str, instead: str, *, since: str = RENAMED_SINCE, stacklevel: int = 2) -> None:
    """The one deprecation warning of nomofuse.

    Emits the :class:`FutureWarning` (shown to users by default)
    ``"<change> in nomofuse <since>; <instead> (the old form will stop working
    in a later release)."``, e.g. ``change="The 'conf_int' parameter of
    val_prob was renamed 'conf_level'"``, ``instead="pass conf_level= instead"``.
    :func:`renamed_parameter`, :func:`survival_outcome` and
    :func:`renamed_attribute` use it; so does any other change of a public
    call (a method renamed, a calling form replaced).
    """
    warnings.warn(f"{change} in nomofuse {since}; {instead} (the old form will stop working in a later "
                  "release).", FutureWarning, stacklevel=stacklevel + 1)


def _one_minus(value):
    return None if value is None else 1 - value


def _is_time_vector(x) -> bool:
    if isinstance(x, (pd.DataFrame, tuple, str)) or (isinstance(x, np.ndarray) and x.dtype.names):
        return False
    try:
        a = np.asarray(x)
    except Exception:  # pragma: no cover - anything exotic is not a time vector
        return False
    return a.ndim == 1 and len(a) > 0 and a.dtype.kind in "biuf"


def _is_event_vector(x, n: int) -> bool:
    if not _is_time_vector(x):
        return False
    a = np.asarray(x, dtype=float)
    return len(a) == n and bool(np.isin(a[~np.isnan(a)], (0.0, 1.0)).all())


def _adapter(func) -> tuple[Callable, _ArgumentAdapter]:
    existing = getattr(func, "__nomofuse_adapter__", None)
    if existing is not None:
        return func, existing
    adapter = _ArgumentAdapter(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        args, kwargs = adapter.adapt(args, kwargs)
        return func(*args, **kwargs)

    wrapper.__nomofuse_adapter__ = adapter
    return wrapper, adapter


def renamed_parameter(old: str, new: str, *, since: str = RENAMED_SINCE, convert: Callable | None = None,
                      warn: bool = True):
    """Decorator: let a function still accept a parameter under its old name.

    ``old=value`` is passed on as ``new=value`` (``convert(value)`` if given)
    with a :class:`FutureWarning` that names the new parameter and the release
    it changed in. ``warn=False`` makes ``old`` a documented alias without a
    warning (``B`` for ``n_boot`` and ``u`` for ``horizon`` in ``validate`` and
    ``calibrate``, for rms users). Passing both names is a ``TypeError``.

    Stack it once per old name; the rules share one wrapper.

    Parameters
    ----------
    old, new : str
        Old and current parameter names.
    since : str
        nomofuse release in which ``old`` started to warn.
    convert : callable or "one_minus", optional
        Maps an old value to the new meaning; ``"one_minus"`` turns a
        significance level ``alpha`` into a confidence level ``1 - alpha``.
    warn : bool, default True

    Examples
    --------
    >>> @renamed_parameter("conf_int", "conf_level")
    ... def f(*, conf_level=0.95):
    ...     return conf_level
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     f(conf_int=0.9)
    0.9
    """
    if convert == "one_minus":
        convert = _one_minus

    def decorate(func):
        wrapper, adapter = _adapter(func)
        adapter.renames.append((old, new, convert, warn, since))
        return wrapper

    return decorate


def survival_outcome(func):
    """Decorator: let a verb that takes the survival outcome as ``y`` still be called with ``time, event``.

    The old calls ``f(time, event, ...)`` (two one-dimensional arrays, the
    second 0/1) and ``f(time=..., event=..., ...)`` are turned into
    ``f((time, event), ...)`` with a :class:`FutureWarning` naming the new call.
    The function must have a parameter named ``y``; :func:`check_survival_y`
    accepts the ``(time, event)`` tuple it receives.
    """
    wrapper, adapter = _adapter(func)
    if "y" not in adapter.params:
        raise TypeError(f"survival_outcome: {adapter.name} has no parameter 'y'.")
    adapter.survival_position = adapter.params.index("y")
    return wrapper


def renamed_attribute(old: str, new: str, *, since: str = RENAMED_SINCE, warn: bool = True) -> property:
    """A read-only property ``old`` of a result class that returns attribute ``new``.

    With ``warn`` (default) reading it raises a :class:`FutureWarning` naming
    the new attribute; ``warn=False`` makes a documented alias (``B``, ``u``).

    Examples
    --------
    >>> class Result:
    ...     n_boot = 200
    ...     B = renamed_attribute("B", "n_boot", warn=False)
    >>> Result().B
    200
    """

    def get(self):
        if warn:
            warn_deprecated(f"{type(self).__name__}.{old} was renamed {new}", f"read .{new} instead",
                            since=since, stacklevel=2)
        return getattr(self, new)

    return property(get, doc=f"Old name of :attr:`{new}`." if warn else f"Alias of :attr:`{new}`.")


def check_times(times, *, max_time: float | None = None, caller: str = "predict_survival",
                name: str = "times") -> np.ndarray:
    """Return evaluation times as a 1-D float array; refuse negative or non-finite ones.

    A time beyond ``max_time`` (the last follow-up time of the training data)
    gives an :class:`~nomogram.exceptions.ExtrapolationWarning`: survival is
    not estimated there (NaN, as survival's ``summary(survfit, extend=FALSE)``).
    """
    from .exceptions import ExtrapolationWarning

    try:
        arr = np.atleast_1d(np.asarray(times, dtype=float)).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"{caller}: {name} must be numbers (in the outcome's time unit); got {times!r}.") from None
    if len(arr) == 0:
        raise ValueError(f"{caller}: {name} is empty; pass at least one time.")
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise ValueError(
            f"{caller}: {name} must be finite times >= 0; got {_level_list(arr[bad])}. Pass follow-up times "
            "in the outcome's time unit."
        )
    if max_time is not None:
        beyond = arr > max_time + 1e-6
        if beyond.any():
            warnings.warn(
                f"{caller}: {name} {_level_list(arr[beyond])} lie beyond the last follow-up time of the training "
                f"data ({max_time:g}); survival is not estimated there and is returned as NaN. Ask for {name} "
                f"up to {max_time:g}.",
                ExtrapolationWarning, stacklevel=3,
            )
    return arr


# --------------------------------------------------------------------------- fitted models
def _level_label(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(python_value(value))


def check_separation(design, Xd: np.ndarray, event: np.ndarray, coef: np.ndarray, se: np.ndarray, *,
                     X: pd.DataFrame, kind: str, caller: str, penalized: bool = False) -> list[str]:
    """Warn when a fitted coefficient diverges: separation (logistic) or monotone likelihood (Cox).

    rms stops iterating on the change in log-likelihood, so a coefficient
    running to infinity comes back finite (10 with SE 24, an HR of 1e-4) and
    looks like an estimate. After the fit this check looks for

    * a level of a factor (or a value of a two-valued column) whose patients
      are all events or all non-events (logistic), or have no event (Cox):
      the likelihood then has no finite maximum;
    * a coefficient of a linear or factor column whose effect per standard
      deviation of the column exceeds ``exp(4)`` (about 55-fold) while its
      Wald ``|z| < 2``: a value the data cannot support.

    Each finding is a :class:`~nomogram.exceptions.SeparationWarning` naming
    the variable and level and the remedies (merge levels, ``penalty=``). The
    coefficients are not changed.

    Parameters
    ----------
    design : Design
        The model's design (terms, levels, column slices).
    Xd : ndarray of shape (n, p)
        Design matrix without intercept.
    event : ndarray of shape (n,)
        0/1 outcome (logistic) or event indicator (Cox).
    coef, se : ndarray of shape (p,)
        Slopes and their standard errors (no intercept).
    X : pandas.DataFrame
        The predictors as given (levels are read from it).
    kind : {"logistic", "cox"}
    caller : str
    penalized : bool
        A penalised fit: only the size rule applies.

    Returns
    -------
    list of str
        The messages warned.
    """
    from .exceptions import SeparationWarning

    messages = []
    remedy = ("Merge it with a neighbouring level (or drop it), or fit with a penalty (penalty=1, as rms lrm/cph "
              "penalty=); its {ratio}, CI and p-value are not estimates.")
    ratio = "odds ratio" if kind == "logistic" else "hazard ratio"
    flagged = set()
    slices = design.column_slices()
    for term in design.terms if not penalized else []:
        col = X[term.name]
        if term.kind == "categorical":
            groups = [(lv, np.asarray(col == lv)) for lv in term.levels]
        elif term.kind == "linear" and term.values is not None and len(term.values) == 2:
            x = np.asarray(col, dtype=float)
            groups = [(v, x == v) for v in term.values]
        else:
            continue
        sl = slices[term.name]
        for i, (lv, rows) in enumerate(groups):
            n_lv, e_lv = int(rows.sum()), float(event[rows].sum())
            if kind == "logistic" and e_lv not in (0.0, float(n_lv)):
                continue
            if kind == "cox" and e_lv > 0:
                continue
            if kind == "logistic":
                what = f"all {n_lv} patients {'had the event' if e_lv else 'were free of the event'}"
                why = "separation: the outcome is perfectly predicted in that level"
            else:
                what = f"none of its {n_lv} patients had an event"
                why = "monotone likelihood: the hazard ratio runs towards 0 or infinity"
            j = sl.start + (i - 1 if term.kind == "categorical" else 0)
            if term.kind == "categorical" and i == 0:
                shown = ", ".join(f"{design.column_names[k]}: {coef[k]:.3g} (SE {se[k]:.3g})"
                                  for k in range(sl.start, sl.stop))
                where = f"level {_level_label(lv)!r} of '{term.name}' (the reference)"
            else:
                shown = f"{design.column_names[j]}: {coef[j]:.3g} (SE {se[j]:.3g})"
                where = f"level {_level_label(lv)!r} of '{term.name}'"
            flagged.update(range(sl.start, sl.stop))
            messages.append(
                f"{caller}: {where}: {what}, so its coefficients diverge ({why}; rms stops iterating first and "
                f"returns {shown}). " + remedy.format(ratio=ratio)
            )
    names = design.column_names
    kinds = {c: t.kind for t in design.terms for c in t.columns}
    for j, name in enumerate(names[: Xd.shape[1]]):
        if j in flagged or kinds.get(name) not in ("linear", "categorical") or not np.isfinite(se[j]):
            continue
        sd = float(np.std(Xd[:, j]))
        z = abs(coef[j]) / se[j] if se[j] > 0 else np.inf
        if abs(coef[j]) * sd > 4 and z < 2:
            messages.append(
                f"{caller}: the coefficient of '{name}' diverges ({coef[j]:.3g}, SE {se[j]:.3g}): one standard "
                f"deviation of it multiplies the {'odds' if kind == 'logistic' else 'hazard'} by "
                f"exp({abs(coef[j]) * sd:.3g}) with a Wald |z| below 2, a sign of (quasi-complete) separation or monotone likelihood. Check "
                f"'{name}' against the outcome, merge sparse levels, or fit with a penalty (penalty=...); its "
                f"{ratio}, CI and p-value are not estimates."
            )
    for msg in messages:
        warnings.warn(msg, SeparationWarning, stacklevel=3)
    return messages


# --------------------------------------------------------------------------- collinearity
def collinear_columns(Xd, names: Sequence[str], *, rtol: float = 1e-10) -> list[str]:
    """Design columns that are linear combinations of the others (and of a constant).

    Columns are centred (a constant column has nothing left) and scaled, then
    a rank-revealing QR decomposition with column pivoting orders them; those
    pivoted beyond the numerical rank are returned, in design order.
    """
    from scipy.linalg import qr

    A = np.asarray(Xd, dtype=float)
    if A.ndim != 2 or A.shape[1] == 0:
        return []
    A = A - A.mean(axis=0)
    scale = np.sqrt((A * A).sum(axis=0))
    dead = scale <= rtol * max(1.0, float(np.abs(Xd).max()))
    A = A / np.where(dead, 1.0, scale)
    A[:, dead] = 0.0
    _, R, piv = qr(A, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int((diag > rtol * max(1.0, diag[0] if len(diag) else 0.0)).sum())
    out = sorted(set(piv[rank:].tolist()) | set(np.flatnonzero(dead).tolist()))
    return [str(names[j]) for j in out]


def check_collinear(Xd, names: Sequence[str], caller: str, *, intercept: bool = True) -> None:
    """Refuse a design whose columns are linearly dependent, naming them (:func:`collinear_columns`).

    An unpenalised fit of such a design has no unique estimate: Newton steps
    either fail on a singular information matrix or, numerically, return
    coefficients and variances that mean nothing.
    """
    from .exceptions import ConvergenceError

    n, p = np.shape(Xd)
    if p + 1 > n:  # centred columns (or an intercept) leave n - 1 dimensions
        k = p + 1 if intercept else p
        what = " (with the intercept)" if intercept else ""
        raise ConvergenceError(
            f"{caller}: the model has {k} coefficients{what} for {n} patients; it cannot be "
            "estimated. Use fewer predictors (or fewer spline knots and factor levels) or more patients, or fit "
            "with a penalty."
        )
    cols = collinear_columns(Xd, names)
    if cols:
        raise ConvergenceError(
            f"{caller}: the design columns {cols} are linear combinations of the other columns (a duplicated or "
            "derived predictor, or a factor level that coincides with another column), so their coefficients "
            "cannot be estimated. Drop one of the redundant predictors or merge the levels (or fit with a "
            "penalty)."
        )
