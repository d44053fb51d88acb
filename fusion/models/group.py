"""A group of per-cancer nomograms with shared ("homogeneous") and specific ("heterogeneous") factors.

The bone-metastasis studies (seed 004) fit one nomogram per primary cancer:
factors that matter for every cancer (age, the imaging label, ...) are in
every model, and each cancer adds the factors specific to it, found by a
univariable screen followed by multivariable backward selection by AIC
(Zhang et al. 2019, BMC Cancer 19:238; Guo et al. 2018, Cancer Manag Res
10:1639). :class:`NomogramGroup` does that with :class:`~nomogram.LogisticNomogram`
or :class:`~nomogram.CoxNomogram`, routes each patient to their cancer's
model, and prints which factor each cancer uses.

Selection rule (``specific="select"``), per group, on that group's training rows:

1. univariable screen: each candidate alone in a model of the group; kept if
   its likelihood-ratio test has p < ``alpha`` (a candidate constant in the
   group, or whose fit fails, is not kept and the reason is recorded);
2. backward elimination by AIC (``selection="backward_aic"``) starting from
   the shared factors plus the screened candidates: repeatedly drop the
   candidate whose removal lowers AIC = -2 log L + 2 d.f. most, until no
   removal lowers it. Shared factors are never dropped.

Events per degree of freedom: a group whose limiting number of events (the
smaller of events and non-events for a binary outcome; events for survival)
is below ``min_events_per_df`` times its model's d.f. is refused, naming the
type and its events, or (``small_groups="merge"``) pooled with the other
small groups into one ``other`` model.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator

from nomogram import CoxNomogram, LogisticNomogram
from nomogram.checks import (
    check_binary_y,
    check_columns,
    check_dataframe,
    check_is_fitted,
    check_option,
    check_survival_y,
    python_value,
)
from nomogram.exceptions import ConvergenceError, StatisticalWarning
from nomogram.model_io import ModelFileMixin, ModelReader, model_from_dict, model_to_dict

__all__ = ["NomogramGroup", "UnknownGroupError"]



class UnknownGroupError(ValueError):
    """Rows whose cancer type (the ``by`` column) has no model in the group.

    Attributes
    ----------
    rows : list
        Index labels of the rows.
    values : list
        Their ``by`` values.
    """

    def __init__(self, message, rows, values):
        super().__init__(message)
        self.rows = list(rows)
        self.values = list(values)


class NomogramGroup(ModelFileMixin, BaseEstimator):
    """One logistic or Cox nomogram per cancer type, with shared and specific factors.

    Parameters
    ----------
    by : str, default "cancer_type"
        Column of ``X`` that routes a patient to a model.
    shared : sequence of str, default ()
        Factors in every group's model (homogeneous), e.g. ``["age", "imaging_label"]``.
    specific : "select" or dict of {type: list of str}, default "select"
        ``"select"``: each group's specific factors are chosen from
        ``candidates`` by the rule in the module docstring. A dict gives them
        per type (a type missing from the dict has none).
    candidates : sequence of str, optional
        Candidate specific factors for ``"select"``; default every column of
        ``X`` except ``by`` and ``shared``.
    model : {"logistic", "cox"}, default "logistic"
    alpha : float, default 0.05
        Threshold of the univariable screen (likelihood-ratio p < alpha).
    selection : {"backward_aic", "none"}, default "backward_aic"
        ``"none"`` keeps every screened candidate.
    min_events_per_df : float, default 10
    small_groups : {"raise", "merge"}, default "raise"
        What to do with groups below ``min_events_per_df``.
    other : str, default "other"
        Name of the merged group.
    splines, categorical : optional
        As in :class:`~nomogram.LogisticNomogram`, applied in every group to
        the factors it uses.
    times : list of float, optional
        Cox: survival times for ``predict_survival`` and the nomograms' axes.
    cutoff : "auto", "youden", "median", float or None, default "auto"
        Risk-group cut-off of each group's model, fixed on its training rows:
        ``"youden"`` (probability maximising Youden's J; logistic only),
        ``"median"`` (median training probability, or linear predictor for
        Cox), a number (a probability for logistic, a linear predictor for
        Cox), None (no risk groups). ``"auto"``: Youden for logistic, median
        for Cox. Patients at or above the cut-off are "high".
    model_params : dict, optional
        Extra keyword arguments of the nomogram models (``penalty``, ``eps``...).

    Attributes
    ----------
    models_ : dict of {str: LogisticNomogram or CoxNomogram}
        One fitted model per group (keys: cancer types, and ``other``).
    factors_ : dict of {str: list of str}
        The factors of each group's model, shared first.
    routing_ : dict of {str: str}
        Cancer type -> model key.
    events_ : dict of {str: int}
        Limiting event count of each model's training rows.
    cutoffs_ : dict of {str: float or None}
    selection_ : pandas.DataFrame
        One row per (group, factor): ``role`` (shared, given, candidate),
        ``univariable_p``, ``screened``, ``in_model``, ``note``.
    feature_names_in_ : ndarray

    Examples
    --------
    >>> g = NomogramGroup(by="cancer_type", shared=["age", "imaging_label"]).fit(X, y)   # doctest: +SKIP
    >>> g.factor_table()                    # which cancer uses which factor
    >>> g.predict_proba(X_new)[:, 1]        # each row scored by its cancer's model
    >>> g.nomogram("lung").plot()
    """

    def __init__(self, by="cancer_type", shared=(), specific="select", *, candidates=None, model="logistic",
                 alpha=0.05, selection="backward_aic", min_events_per_df=10, small_groups="raise",
                 other="other", splines=None, categorical=None, times=None, cutoff="auto", model_params=None):
        self.by = by
        self.shared = shared
        self.specific = specific
        self.candidates = candidates
        self.model = model
        self.alpha = alpha
        self.selection = selection
        self.min_events_per_df = min_events_per_df
        self.small_groups = small_groups
        self.other = other
        self.splines = splines
        self.categorical = categorical
        self.times = times
        self.cutoff = cutoff
        self.model_params = model_params

    # ------------------------------------------------------------ checks
    def _check_params(self, caller):
        check_option(self.model, ("logistic", "cox"), name="model", caller=caller)
        check_option(self.selection, ("backward_aic", "none"), name="selection", caller=caller)
        check_option(self.small_groups, ("raise", "merge"), name="small_groups", caller=caller)
        if not (self.specific == "select" or isinstance(self.specific, dict)):
            raise ValueError(
                f"The 'specific' parameter of {caller} must be 'select' or a dict {{type: [factors]}}. "
                f"Got {self.specific!r} instead.")
        if not 0 < float(self.alpha) < 1:
            raise ValueError(f"The 'alpha' parameter of {caller} must be in (0, 1). Got {self.alpha!r} instead.")
        if float(self.min_events_per_df) < 0:
            raise ValueError(f"The 'min_events_per_df' parameter of {caller} must be >= 0. "
                             f"Got {self.min_events_per_df!r} instead.")
        c = self.cutoff
        if not (c is None or c in ("auto", "youden", "median") or isinstance(c, (int, float))):
            raise ValueError(f"The 'cutoff' parameter of {caller} must be 'auto', 'youden', 'median', a number "
                             f"or None. Got {c!r} instead.")
        if c == "youden" and self.model == "cox":
            raise ValueError(f"{caller}: cutoff='youden' needs a binary outcome; use 'median' or a number for Cox.")

    def _new_model(self, factors):
        splines = {k: v for k, v in (self.splines or {}).items() if k in factors} or None
        categorical = [c for c in (self.categorical or []) if c in factors] or None
        kw = dict(self.model_params or {})
        if self.model == "logistic":
            return LogisticNomogram(splines=splines, categorical=categorical, **kw)
        return CoxNomogram(splines=splines, categorical=categorical, times=self.times, **kw)

    def _outcome(self, y, index, caller):
        """The outcome in X's row order (a pandas y is matched to X by index label)."""
        if self.model == "logistic":
            return check_binary_y(y, index=index, caller=caller)
        time, event = check_survival_y(y, index=index, caller=caller)
        return pd.DataFrame({"time": time, "event": event}, index=index)

    def _limiting_events(self, yv) -> int:
        if self.model == "logistic":
            k = int(yv.sum())
            return min(k, len(yv) - k)
        return int(yv["event"].sum())

    # ------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, y) -> "NomogramGroup":
        """Select each group's factors and fit its nomogram.

        Parameters
        ----------
        X : pandas.DataFrame
            The ``by`` column, the shared factors and the candidate/specific factors.
        y : array-like (n,) binary, or DataFrame [time, event] for ``model="cox"``

        Returns
        -------
        self
        """
        caller = f"{type(self).__name__}.fit"
        self._check_params(caller)
        X = check_dataframe(X, caller=caller, allow_missing=True)
        shared = list(self.shared)
        if self.by not in X.columns:
            raise ValueError(f"{caller}: the 'by' column {self.by!r} is not in X; X has {list(X.columns)[:10]}.")
        if self.by in shared:
            raise ValueError(f"{caller}: the 'by' column {self.by!r} cannot also be a shared factor.")
        if self.specific == "select":
            cands = [c for c in X.columns if c != self.by and c not in shared] if self.candidates is None \
                else list(self.candidates)
            given = {}
        else:
            cands = []
            given = {str(k): list(v) for k, v in self.specific.items()}
        needed = set(shared) | set(cands) | {c for v in given.values() for c in v}
        missing = sorted(c for c in needed if c not in X.columns)
        if missing:
            raise ValueError(f"{caller}: factor column(s) {missing} are not in X; X has {list(X.columns)[:12]}.")
        check_dataframe(X, columns=[self.by, *sorted(needed, key=str)], caller=caller)
        yv = self._outcome(y, X.index, caller)
        types = _type_keys(X[self.by])
        unknown_given = sorted(set(given) - set(types))
        if unknown_given:
            raise ValueError(f"{caller}: specific= names type(s) {unknown_given} that have no rows in X; "
                             f"types are {sorted(set(types))}.")
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)

        records, fits, small = [], {}, []
        for t in sorted(types.unique()):
            rows = np.flatnonzero(types.to_numpy() == t)
            res = self._fit_one(t, X.iloc[rows], _take(yv, rows), shared, cands, given.get(t, []))
            if res["small"]:
                small.append(res)
            else:
                fits[t] = res
            records += res["records"]
        routing = {t: t for t in fits}
        if small:
            if self.small_groups == "raise":
                raise ValueError(
                    f"{caller}: " + "; ".join(_small_message(r, self.min_events_per_df) for r in small)
                    + f". Each model needs at least {self.min_events_per_df:g} events per degree of freedom. "
                    "Pass small_groups='merge' to pool these types into one "
                    f"'{self.other}' model, lower min_events_per_df, or use fewer factors.")
            merged = [r["group"] for r in small]
            if self.other in fits:
                raise ValueError(f"{caller}: a cancer type is already called {self.other!r}; pass other= another name.")
            rows = np.flatnonzero(types.isin(merged).to_numpy())
            records = [r for r in records if r["group"] not in merged]
            res = self._fit_one(self.other, X.iloc[rows], _take(yv, rows), shared, cands,
                                sorted({c for t in merged for c in given.get(t, [])}))
            records += res["records"]
            if res["small"]:
                raise ValueError(
                    f"{caller}: even merged, the '{self.other}' group of {merged} is too small: "
                    f"{_small_message(res, self.min_events_per_df)}. Lower min_events_per_df or use fewer factors.")
            fits[self.other] = res
            routing.update({t: self.other for t in merged})
            warnings.warn(
                f"{caller}: type(s) {merged} have too few events for their own model; they share the "
                f"'{self.other}' model ({res['events']} events, {res['df']} d.f.).", StatisticalWarning, stacklevel=2)
        self.models_ = {k: r["model"] for k, r in fits.items()}
        self.factors_ = {k: r["factors"] for k, r in fits.items()}
        self.events_ = {k: r["events"] for k, r in fits.items()}
        self.n_rows_ = {k: r["n"] for k, r in fits.items()}
        self.routing_ = routing
        self.cutoffs_ = {k: self._cutoff(r["model"], r["X"], r["y"]) for k, r in fits.items()}
        self.selection_ = pd.DataFrame(records, columns=["group", "factor", "role", "univariable_p", "screened",
                                                         "in_model", "note"])
        return self

    def _fit_one(self, group, Xg, yg, shared, cands, given):
        """Screen, select and fit one group's model; mark it small if events per d.f. fall short."""
        events = self._limiting_events(yg)
        records = []
        usable_shared = []
        for f in shared:
            if Xg[f].nunique(dropna=True) < 2:
                records.append(dict(group=group, factor=f, role="shared", univariable_p=np.nan, screened=False,
                                    in_model=False, note="constant in this group"))
                warnings.warn(f"NomogramGroup.fit: shared factor '{f}' is constant in group '{group}' "
                              "and is left out of its model.", StatisticalWarning, stacklevel=3)
            else:
                usable_shared.append(f)
        base = dict(group=group, events=events, n=len(Xg), X=None, y=None, model=None, records=records)
        df_shared = self._df(Xg, usable_shared)
        if events == 0 or events < float(self.min_events_per_df) * max(df_shared, 1):
            return {**base, "small": True, "df": max(df_shared, 1), "factors": usable_shared}
        chosen = []
        if given:
            for f in given:
                ok = Xg[f].nunique(dropna=True) >= 2
                records.append(dict(group=group, factor=f, role="given", univariable_p=np.nan, screened=ok,
                                    in_model=ok, note="" if ok else "constant in this group"))
                if ok:
                    chosen.append(f)
        elif cands:
            screened = []
            for f in cands:
                if Xg[f].nunique(dropna=True) < 2:
                    records.append(dict(group=group, factor=f, role="candidate", univariable_p=np.nan,
                                        screened=False, in_model=False, note="constant in this group"))
                    continue
                p, note = self._univariable_p(Xg[[f]], yg)
                ok = bool(np.isfinite(p) and p < float(self.alpha))
                records.append(dict(group=group, factor=f, role="candidate", univariable_p=p, screened=ok,
                                    in_model=False, note=note))
                if ok:
                    screened.append(f)
            chosen = self._backward_aic(Xg, yg, usable_shared, screened) if self.selection == "backward_aic" \
                else screened
            for r in records:
                if r["role"] == "candidate" and r["factor"] in chosen:
                    r["in_model"] = True
                elif r["role"] == "candidate" and r["screened"] and r["factor"] not in chosen:
                    r["note"] = "dropped by backward AIC"
        factors = usable_shared + [f for f in chosen if f not in usable_shared]
        for f in usable_shared:
            records.append(dict(group=group, factor=f, role="shared", univariable_p=np.nan, screened=True,
                                in_model=True, note=""))
        df = self._df(Xg, factors)
        if not factors:
            raise ValueError(
                f"NomogramGroup.fit: group '{group}' has no factor to model: no usable shared factor and no "
                f"candidate passed the univariable screen (p < {self.alpha:g}). Give shared factors, "
                "raise alpha, or list the group's factors in specific=.")
        if events < float(self.min_events_per_df) * df:
            return {**base, "small": True, "df": df, "factors": factors}
        model = self._new_model(factors).fit(Xg[factors], yg)
        return {**base, "small": False, "df": df, "factors": factors, "model": model, "X": Xg[factors], "y": yg}

    def _df(self, Xg, factors) -> int:
        """Degrees of freedom of a model on ``factors`` (design columns: spline and dummy columns)."""
        if not factors:
            return 0
        m = self._new_model(factors)
        return len(m._learn_design(Xg[factors]).column_names)

    def _univariable_p(self, Xf, yg):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = self._new_model(list(Xf.columns)).fit(Xf, yg)
        except (ConvergenceError, ValueError, np.linalg.LinAlgError) as err:
            return np.nan, f"univariable fit failed: {err}"
        return float(m.stats_["P"]), ""

    def _aic(self, Xg, yg, factors):
        """AIC = -2 log L + 2 (number of coefficients) of the model on ``factors`` and the null log L."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m = self._new_model(factors).fit(Xg[factors], yg)
        except (ConvergenceError, ValueError, np.linalg.LinAlgError):
            return np.inf, None
        return -2 * m.loglik_[1] + 2 * len(m.coef_), m.loglik_[0]

    def _backward_aic(self, Xg, yg, shared, screened):
        current = list(screened)
        aic, null = self._aic(Xg, yg, shared + current)
        n_null = 1 if self.model == "logistic" else 0  # the intercept

        def aic_without(f):
            rest = shared + [c for c in current if c != f]
            if not rest:
                return np.inf if null is None else -2 * null + 2 * n_null
            return self._aic(Xg, yg, rest)[0]

        while current:
            trials = [(aic_without(f), f) for f in current]
            best_aic, drop = min(trials, key=lambda t: (t[0], current.index(t[1])))
            if best_aic < aic:
                current.remove(drop)
                aic = best_aic
            else:
                break
        return current

    def _cutoff(self, model, Xg, yg):
        c = self.cutoff
        if c is None:
            return None
        if isinstance(c, (int, float)):
            return float(c)
        if self.model == "logistic":
            p = model.predict_proba(Xg)[:, 1]
            if c in ("auto", "youden"):
                from nomogram.metrics import optimal_cutoff

                return float(optimal_cutoff(yg, p)[0])
            return float(np.median(p))
        return float(np.median(model.decision_function(Xg)))

    # ------------------------------------------------------------ predict
    def route(self, X: pd.DataFrame, *, errors: str = "raise") -> pd.Series:
        """The model key of each row (its cancer type, or ``other`` for merged types).

        Parameters
        ----------
        errors : {"raise", "coerce"}, default "raise"
            A type without a model raises :class:`UnknownGroupError` naming the
            rows and types; ``"coerce"`` gives them NaN instead.
        """
        check_is_fitted(self, "models_")
        check_option(errors, ("raise", "coerce"), name="errors", caller="NomogramGroup.route")
        if not isinstance(X, pd.DataFrame) or self.by not in X.columns:
            raise ValueError(f"NomogramGroup.route: X must be a DataFrame with the '{self.by}' column.")
        types = X[self.by]
        keys = _type_keys(types).map(self.routing_)
        keys[types.isna()] = np.nan
        bad = keys.isna()
        if bad.any() and errors == "raise":
            rows = X.index[bad.to_numpy()].tolist()
            vals = types[bad].tolist()
            raise UnknownGroupError(
                f"NomogramGroup: {len(rows)} row(s) have a {self.by} without a model (rows {rows[:10]}, "
                f"values {sorted(set(map(str, vals)))[:10]}); known types are {sorted(self.routing_)}. "
                "Recode them to a known type or remove them; no row is scored by another cancer's model.",
                rows, vals)
        return keys

    def _per_group(self, X, fn, width):
        check_is_fitted(self, "models_")
        if isinstance(X, pd.DataFrame):
            needed = [self.by] + list(dict.fromkeys(f for k in self.models_ for f in self.factors_[k]))
            check_columns(X, needed, caller=type(self).__name__)
        keys = self.route(X)
        out = np.full((len(X), width), np.nan)
        for k in keys.unique():
            rows = np.flatnonzero((keys == k).to_numpy())
            out[rows] = np.asarray(fn(self.models_[k], X.iloc[rows][self.factors_[k]])).reshape(len(rows), width)
        return out

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Linear predictor of each row from its group's model."""
        return self._per_group(X, lambda m, Xk: m.decision_function(Xk), 1)[:, 0]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """(n, 2) probabilities of no event and event, each row from its group's model (logistic)."""
        if self.model != "logistic":
            raise ValueError("NomogramGroup.predict_proba needs model='logistic'; use predict_survival for Cox.")
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict_survival(self, X: pd.DataFrame, times=None) -> pd.DataFrame:
        """Survival probability of each row at ``times`` (default: the group's ``times``), Cox only."""
        if self.model != "cox":
            raise ValueError("NomogramGroup.predict_survival needs model='cox'; use predict_proba for logistic.")
        times = self.times if times is None else times
        if times is None:
            raise ValueError("NomogramGroup.predict_survival needs times: pass times=[...] or set times= on the group.")
        times = list(np.atleast_1d(times))
        S = self._per_group(X, lambda m, Xk: m.predict_survival(Xk, times).to_numpy(), len(times))
        return pd.DataFrame(S, index=X.index, columns=times)

    def risk_group(self, X: pd.DataFrame) -> pd.Series:
        """``"high"``/``"low"`` at each group's cut-off (probability for logistic, LP for Cox)."""
        keys = self.route(X)
        value = self.predict_proba(X)[:, 1] if self.model == "logistic" else self.decision_function(X)
        cut = keys.map(lambda k: self.cutoffs_.get(k)).astype(float).to_numpy()
        out = np.where(np.isnan(cut), None, np.where(value >= cut, "high", "low"))
        return pd.Series(out, index=X.index, name="risk_group")

    # ------------------------------------------------------------ reports
    def summary(self, group=None):
        """Coefficient tables: one group's :class:`~nomogram.SummaryTable`, or all groups stacked.

        Parameters
        ----------
        group : str, optional
            A model key. None: a DataFrame of every group's coefficient table
            with a ``group`` column first.
        """
        check_is_fitted(self, "models_")
        if group is not None:
            return self.models_[self._key(group)].summary()
        frames = []
        for k, m in self.models_.items():
            t = m.summary().table.copy()
            t.insert(0, "group", k)
            frames.append(t)
        return pd.concat(frames)

    def nomogram(self, group, **kwargs):
        """The nomogram of one group's model (see :meth:`nomogram.LogisticNomogram.nomogram`)."""
        check_is_fitted(self, "models_")
        return self.models_[self._key(group)].nomogram(**kwargs)

    def _key(self, group):
        g = str(group)
        if g in self.models_:
            return g
        if g in self.routing_:
            return self.routing_[g]
        raise KeyError(f"NomogramGroup: no group {group!r}; groups are {sorted(self.models_)}.")

    def factor_table(self) -> pd.DataFrame:
        """Which factor each group's model uses: the homogeneous/heterogeneous table.

        Returns
        -------
        pandas.DataFrame
            One row per factor; one column per group with ``"shared"``,
            ``"specific"`` or ``""``; then ``n_groups`` (how many models use
            it) and ``kind``: ``"homogeneous"`` (in every group's model) or
            ``"heterogeneous"``.
        """
        check_is_fitted(self, "models_")
        groups = list(self.models_)
        shared = set(self.shared)
        factors = []
        for k in groups:
            factors += [f for f in self.factors_[k] if f not in factors]
        rows = {}
        for f in factors:
            rows[f] = {k: ("shared" if f in shared else "specific") if f in self.factors_[k] else "" for k in groups}
        t = pd.DataFrame.from_dict(rows, orient="index", columns=groups)
        t.index.name = "factor"
        t["n_groups"] = (t[groups] != "").sum(axis=1)
        t["kind"] = np.where(t["n_groups"] == len(groups), "homogeneous", "heterogeneous")
        return t

    # ------------------------------------------------------------ model file
    _model_format = "nomofuse.fusion.NomogramGroup"
    _model_version = 2
    _model_unsigned_versions = (1,)  # version 1: the same fields, written before checksums

    def to_dict(self) -> dict:
        """The model-file content (:mod:`nomogram.model_io`); ``to_json`` adds the checksum.

        Each group's model is stored as its own model-file content (without a
        checksum of its own: the file's checksum covers it).
        """
        check_is_fitted(self, "models_")
        params = self.get_params()
        params["shared"] = list(params["shared"])
        if params["candidates"] is not None:
            params["candidates"] = list(params["candidates"])
        if params["times"] is not None:
            params["times"] = [float(t) for t in np.atleast_1d(params["times"])]
        return {
            **self._model_header(),
            "params": params,
            "feature_names_in": [str(c) for c in self.feature_names_in_],
            "routing": dict(self.routing_),
            "groups": {k: {"factors": list(self.factors_[k]), "events": int(self.events_[k]),
                           "n": int(self.n_rows_[k]), "cutoff": self.cutoffs_[k],
                           "model": model_to_dict(self.models_[k])} for k in self.models_},
            "selection": _records(self.selection_),
        }

    @classmethod
    def _from_model_dict(cls, data: dict, source: str) -> "NomogramGroup":
        r = ModelReader(data, source)
        try:
            obj = cls(**r.get("params", dict))
        except TypeError as err:
            r.fail(f"does not fit {cls.__name__} ({err}).", "params")
        obj.feature_names_in_ = np.asarray(r.strings("feature_names_in"), dtype=object)
        obj.n_features_in_ = len(obj.feature_names_in_)
        obj.routing_ = {str(k): str(v) for k, v in r.get("routing", dict).items()}
        groups = r.sub("groups")
        obj.models_, obj.factors_, obj.events_, obj.n_rows_, obj.cutoffs_ = {}, {}, {}, {}, {}
        for k in groups.data:
            g = groups.sub(k)
            # the file's checksum covers the group models: no checksum of their own to verify
            obj.models_[k] = model_from_dict(g.get("model", dict), source=f"{source} (group '{k}')", verify=False)
            obj.factors_[k] = g.strings("factors")
            obj.events_[k] = int(g.get("events", int))
            obj.n_rows_[k] = int(g.get("n", int))
            obj.cutoffs_[k] = g.number("cutoff", allow_null=True)
            if np.isnan(obj.cutoffs_[k]):
                obj.cutoffs_[k] = None
        obj.selection_ = pd.DataFrame(r.get("selection", list))
        bad = sorted(set(obj.routing_.values()) - set(obj.models_))
        if bad:
            r.fail(f"routes to group(s) {bad} that have no model.", "routing")
        return obj


def _type_keys(values: pd.Series) -> pd.Series:
    """Cancer types as text keys; a whole float is written as an integer (2.0 -> '2', as a CSV spells it)."""
    return values.map(lambda v: str(int(v)) if isinstance(v, (float, np.floating)) and float(v).is_integer()
                      else str(v))


def _take(yv, rows):
    """Rows of the outcome; a DataFrame keeps X's labels, so it stays matched to ``X.iloc[rows]``."""
    return yv[rows] if isinstance(yv, np.ndarray) else yv.iloc[rows]


def _small_message(r, min_epd) -> str:
    return (f"cancer type '{r['group']}' has {r['events']} events for {r['df']} degree(s) of freedom "
            f"({r['events'] / max(r['df'], 1):.1f} per d.f.; needs {min_epd:g} per d.f.)")


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for rec in df.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                        python_value(v)) for k, v in rec.items()})
    return out
