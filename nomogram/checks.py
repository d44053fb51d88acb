"""One checker per kind of input.

Every message says what was expected, what was received, and how to fix it,
following scikit-learn's ``_param_validation`` template:
"The 'method' parameter of calibrate must be one of {'boot', ...}. Got 'bot' instead."
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from .exceptions import MissingDependencyError, NotFittedError

__all__ = [
    "check_option",
    "check_dataframe",
    "check_binary_y",
    "check_survival_y",
    "check_probabilities",
    "check_scores",
    "check_is_fitted",
    "check_thresholds",
    "EXTRAS",
    "extra_for",
    "missing_extra_message",
    "require",
]

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
        shown = "{" + ", ".join(repr(a) for a in sorted(allowed, key=str)) + "}"
        raise ValueError(
            f"The '{name}' parameter of {caller} must be one of {shown}. Got {value!r} instead."
        )
    return value


def check_is_fitted(estimator, attribute: str = "coef_") -> None:
    """Raise :class:`NotFittedError` naming the class if ``estimator`` lacks ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet; call fit first."
        )


def check_dataframe(
    X,
    *,
    columns: Sequence[str] | None = None,
    caller: str = "fit",
    allow_missing: bool = False,
) -> pd.DataFrame:
    """Check that ``X`` is a DataFrame holding ``columns`` without missing values.

    Parameters
    ----------
    X : pandas.DataFrame
        Predictors, one row per patient.
    columns : sequence of str, optional
        Columns that must be present.
    caller : str
        Name of the public function, used in messages.
    allow_missing : bool, default False
        If False, any missing value raises and the message lists how many per column.

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
    return X


def check_binary_y(y, *, n: int | None = None, caller: str = "fit") -> np.ndarray:
    """Return ``y`` as a 0/1 float array; refuse anything that is not binary.

    Accepts booleans, 0/1 numbers, or any two-valued variable (the larger
    sorted value is the event, as in ``rms::lrm``).
    """
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
    levels = np.unique(arr)
    if len(levels) != 2:
        raise ValueError(
            f"{caller}: y must be binary (two distinct values, e.g. 0/1); got "
            f"{len(levels)} distinct value(s): {levels[:10].tolist()}."
        )
    return (arr == levels[1]).astype(float)


def check_survival_y(y, *, n: int | None = None, caller: str = "fit") -> tuple[np.ndarray, np.ndarray]:
    """Return ``(time, event)`` from a survival outcome.

    Accepts a two-column DataFrame ``[time, event]`` (columns taken in order),
    a scikit-survival structured array (event field first, time second), or a
    tuple ``(time, event)``.

    Raises
    ------
    ValueError
        Missing values, non-positive times, events not 0/1, or all samples censored.
    """
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
    elif isinstance(y, tuple) and len(y) == 2:
        time, event = (np.asarray(v) for v in y)
    else:
        raise TypeError(
            f"{caller}: y must be a DataFrame [time, event], a scikit-survival structured "
            f"array, or a tuple (time, event); got {type(y).__name__}."
        )
    time = np.asarray(time, dtype=float)
    if n is not None and len(time) != n:
        raise ValueError(f"{caller}: y has {len(time)} rows but X has {n} rows.")
    if np.isnan(time).any() or pd.isna(event).any():
        raise ValueError(f"{caller}: y has missing times or events; drop those patients first.")
    event_arr = np.asarray(event)
    if event_arr.dtype == bool:
        event_arr = event_arr.astype(float)
    event_arr = event_arr.astype(float)
    bad = ~np.isin(event_arr, (0.0, 1.0))
    if bad.any():
        raise ValueError(
            f"{caller}: event indicator must be 0/1 or boolean; got {np.unique(event_arr[bad])[:5].tolist()}."
        )
    if (time <= 0).any():
        i = int(np.flatnonzero(time <= 0)[0])
        raise ValueError(
            f"{caller}: survival times must be positive; row {i} has time {time[i]}."
        )
    if event_arr.sum() == 0:
        raise ValueError(f"{caller}: all samples are censored; a Cox model needs at least one event.")
    return time, event_arr


def check_probabilities(p, *, name: str = "probabilities", caller: str = "") -> np.ndarray:
    """Return ``p`` as a float array and check it lies in [0, 1] without missing values."""
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


def check_scores(score, *, n: int, name: str = "score", caller: str = "") -> np.ndarray:
    """Return a finite 1-D float array of length ``n``."""
    arr = np.asarray(score, dtype=float).reshape(-1)
    where = f"{caller}: " if caller else ""
    if len(arr) != n:
        raise ValueError(f"{where}'{name}' has {len(arr)} values but y has {n}.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}'{name}' has {int((~np.isfinite(arr)).sum())} missing or infinite value(s).")
    return arr


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
