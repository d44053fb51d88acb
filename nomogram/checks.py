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
    "check_probabilities",
    "check_scores",
    "check_is_fitted",
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


def check_survival_y(y, *, n: int | None = None, caller: str = "fit",
                     require_event: bool = True) -> tuple[np.ndarray, np.ndarray]:
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

    Raises
    ------
    ValueError
        Missing values, non-positive times, events not 0/1, or (with
        ``require_event``) all samples censored.
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
    if event_arr.dtype == bool:
        event_arr = event_arr.astype(float)
    try:
        event_arr = event_arr.astype(float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{caller}: event indicator must be 0/1 or boolean; got values such as "
            f"{pd.unique(event_arr)[:5].tolist()}."
        ) from None
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
    if require_event and event_arr.sum() == 0:
        raise ValueError(f"{caller}: all samples are censored; at least one event is needed.")
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
            f"{caller}: X lacks the {what} {shown} ({len(missing)} of {len(columns)} needed) that "
            f"the model was fitted with; X has {list(X.columns)[:10]}"
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
