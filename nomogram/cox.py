"""Cox proportional hazards nomogram model (rms ``cph``)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .checks import check_is_fitted, check_option, check_separation, check_survival_y, check_times, check_collinear
from .exceptions import ExtrapolationWarning
from ._cph_fit import baseline_hazard, baseline_hazard_variance, fit_cox
from ._indexes import gini_mean_difference, harrell_c_survival, nagelkerke_r2
from ._model_base import NomogramModelBase, penalty_matrix
from ._rms_statistics import r2_measures
from ._survival import step_function_at

__all__ = ["CoxNomogram"]


class CoxNomogram(NomogramModelBase):
    """Cox proportional hazards regression that draws an rms nomogram.

    Parameters
    ----------
    splines, categorical, interaction, penalty
        As in :class:`LogisticNomogram`.
    times : list of float, optional
        Times at which the nomogram shows survival probability axes and at
        which :meth:`predict_survival` predicts by default.
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied event times in the partial likelihood and in the
        baseline hazard (survival's ``survfit.coxph`` follows the fit).
    eps : float, default 1e-4
        Newton-Raphson stops when a full step changes the partial log-likelihood
        by at most ``eps`` relative: rms ``cph``'s default, so estimates equal
        ``cph()``'s to machine precision. Use ``eps=1e-10`` for the fully
        converged maximum (rms ``cph(eps=1e-10)``); the two differ by far less
        than a standard error.
    max_iter : int, default 30
    event_level : scalar, optional
        The value of a text event column that means the event
        (``event_level="dead"``). Without it the event must be 0/1, boolean or
        text ``'0'/'1'``, ``'False'/'True'``.
    outcome_name : str, optional
        What the survival is of, as charts and calculators say it
        (``"recurrence-free survival"``): survival axes read "3-year
        recurrence-free survival". Stored in the model file; no effect on the fit.
    time_unit : {"days", "weeks", "months", "years"}, optional
        Unit of the survival times (and of ``times``): axes then read "3-year
        survival" instead of "S(1095)". Stored in the model file.
    strata : str or list of str, optional
        Columns of ``X`` that stratify the model (rms ``strat()``): each
        stratum (combination of their values) has its own baseline hazard and
        its own risk sets and ties in the partial likelihood; the strata have
        no coefficients and no nomogram axis. They are named as rms names them
        (``tgrade=II``; several columns ``menostat=Pre.horTh=no``, the first
        column varying fastest). ``predict_survival``, ``survest`` and
        ``survival_at`` then need each patient's stratum, and the nomogram has
        one survival axis per stratum and time.

    Attributes
    ----------
    coef_ : pandas.Series
        Log hazard ratios named as rms names them.
    cov_ : pandas.DataFrame
    means_ : pandas.Series
        Column means of the design (``fit$means``).
    center_ : float
        ``means_ @ coef_``; ``decision_function`` returns the centred linear
        predictor ``X beta - center_`` as ``predict(cph)`` does.
    baseline_survival_ : pandas.DataFrame
        Columns ``time`` and ``survival``: the baseline survival at the mean
        covariates at each distinct event time (``fit$surv``), computed from the
        Efron (or Breslow) cumulative hazard as ``survfit.coxph`` does. A
        stratified model has a first column ``stratum`` (one curve per stratum).
    strata_levels_ : list of str
        Stratified model: the strata, named as rms names them (else absent).
    stratum_max_time_ : dict
        Stratified model: last follow-up time of each stratum (survival is
        undefined, NaN, past it).
    baseline_hazard_variance_ : pandas.DataFrame
        ``V0`` and ``A[column]`` at each event time: the pieces of the
        standard error of the cumulative hazard used by :meth:`survest`.
    stats_ : pandas.Series
        ``Obs``, ``Events``, ``Model L.R.``, ``d.f.``, ``P``, ``Score``,
        ``Score P``, ``R2``, ``R2(n)``, ``R2(p,n)``, ``R2(m)``, ``R2(p,m)`` (m = the
        number of events; rms prints ``R2(686)``, ``R2(9,686)``, ``R2(299)``...),
        ``Dxy``, ``C``, ``g``, ``gr``.
    feature_names_in_ : ndarray of str
        The predictor columns of ``X`` at fit (scikit-learn's name); ``predict``
        and ``decision_function`` find them in new data by name.
    n_features_in_ : int

    References
    ----------
    Harrell FE. rms ``cph``, ``survest``, ``Survival.cph``; Therneau TM. survival ``coxph``,
    ``survfit.coxph``.
    """

    _intercept = False
    _model_format = "nomofuse.nomogram.CoxNomogram"

    def __init__(self, splines=None, categorical=None, interaction=None, penalty=0.0, times=None,
                 ties="efron", eps=1e-4, max_iter=30, event_level=None, outcome_name=None, time_unit=None,
                 strata=None):
        super().__init__(splines=splines, categorical=categorical, interaction=interaction, penalty=penalty)
        self.times = times
        self.ties = ties
        self.eps = eps
        self.max_iter = max_iter
        self.event_level = event_level
        self.outcome_name = outcome_name
        self.time_unit = time_unit
        self.strata = strata

    # -- strata ------------------------------------------------------------
    def _strata_columns(self) -> list[str]:
        """The ``strata`` parameter as a list of column names (empty without strata)."""
        if self.strata is None:
            return []
        cols = [self.strata] if isinstance(self.strata, str) else list(self.strata)
        if not cols or not all(isinstance(c, str) for c in cols) or len(set(cols)) != len(cols):
            raise ValueError(f"The 'strata' parameter of {type(self).__name__} must be a column name or a list "
                             f"of distinct column names. Got {self.strata!r} instead.")
        return cols

    @property
    def is_stratified(self) -> bool:
        """Whether the fitted model has strata (rms ``strat()``)."""
        return bool(getattr(self, "strata_levels_", None))

    def stratum_of(self, X: pd.DataFrame, caller: str = "predict") -> np.ndarray:
        """Each row's stratum label (rms naming, ``tgrade=II``) from the strata columns of ``X``.

        A value not seen in training is an error naming it.
        """
        from .checks import check_columns
        from ._design import format_level

        check_columns(X, self.strata_columns_, caller=caller, what="strata column(s)")
        labels = [".".join(f"{c}={format_level(v)}" for c, v in zip(self.strata_columns_, row))
                  for row in zip(*(X[c].tolist() for c in self.strata_columns_))]
        unknown = sorted({lab for lab in labels if lab not in self.strata_levels_})
        if unknown:
            raise ValueError(f"{caller}: stratum {unknown[:5]} was not in the training data; the model's strata "
                             f"are {self.strata_levels_}. A stratum has its own baseline hazard, so only "
                             "these can be predicted.")
        return np.asarray(labels, dtype=object)

    def _learn_strata(self, X: pd.DataFrame, caller: str):
        """Strata levels (rms order: first column fastest, only those present) and each row's code."""
        from ._design import _categorical_term, format_level

        cols = self._strata_columns()
        missing = [c for c in cols if c not in X.columns]
        if missing:
            raise ValueError(f"{caller}: strata names column(s) {missing} that X does not have; X has "
                             f"{list(X.columns)}.")
        if any(X[c].isna().any() for c in cols):
            raise ValueError(f"{caller}: a strata column has missing values; every patient needs a stratum.")
        per_col = [[f"{c}={format_level(v)}" for v in _categorical_term(c, X[c]).levels] for c in cols]
        combos = [[]]
        for labels in per_col:
            combos = [prev + [lab] for lab in labels for prev in combos]
        self.strata_columns_ = cols
        self.strata_levels_ = [".".join(c) for c in combos]
        rows = self.stratum_of(X, caller)
        present = set(rows)
        self.strata_levels_ = [lab for lab in self.strata_levels_ if lab in present]
        return np.array([self.strata_levels_.index(r) for r in rows])

    def fit(self, X: pd.DataFrame, y) -> "CoxNomogram":
        """Fit the model.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n, k)
        y : DataFrame [time, event], scikit-survival structured array, or tuple (time, event)
            A DataFrame is matched to ``X`` by index label (the same labels in
            another order are re-ordered; different labels are refused). The
            event is 0/1, boolean, or text with ``event_level`` naming the event.

        Returns
        -------
        self
        """
        caller = f"{type(self).__name__}.fit"
        check_option(self.ties, {"efron", "breslow"}, name="ties", caller=type(self).__name__)
        self._check_outcome_text()
        for attr in ("strata_levels_", "strata_columns_", "stratum_max_time_"):
            self.__dict__.pop(attr, None)
        codes = None
        if self.strata is not None:
            codes = self._learn_strata(X, caller)
            X = X.drop(columns=self.strata_columns_)
        design = self._learn_design(X)
        time, event = check_survival_y(y, index=X.index, caller=caller, event_level=self.event_level)
        Xd = design.transform(X, caller=caller)
        names = design.column_names
        P = penalty_matrix(design, Xd, self.penalty)
        if not self.penalty:
            check_collinear(Xd, names, f"{type(self).__name__}.fit", intercept=False)
        fit = fit_cox(Xd, time, event, ties=self.ties, penalty_matrix=P, eps=self.eps, max_iter=self.max_iter,
                      strata=codes)
        check_separation(design, Xd, event, fit.coef, np.sqrt(np.diag(fit.cov)), X=X, kind="cox", caller=caller,
                         penalized=bool(self.penalty))
        self.design_ = design
        self._set_feature_names(design)
        self.coef_ = pd.Series(fit.coef, index=names)
        self.cov_ = pd.DataFrame(fit.cov, index=names, columns=names)
        self.means_ = pd.Series(fit.means, index=names)
        self.center_ = float(fit.means @ fit.coef)
        self.penalty_matrix_ = P
        self.loglik_ = (fit.loglik_null, fit.loglik)
        lp = fit.linear_predictor
        self.linear_predictor_range_ = (float(lp.min()), float(lp.max()))
        t, H = baseline_hazard(lp, time, event, ties=self.ties, strata=codes)
        self.baseline_survival_ = pd.DataFrame({"time": t, "survival": np.exp(-H)})
        V0, A = baseline_hazard_variance(Xd - fit.means, time, event, fit.coef, ties=self.ties, strata=codes)
        self.baseline_hazard_variance_ = pd.DataFrame(
            np.column_stack([V0, A]), columns=["V0"] + [f"A[{c}]" for c in names]
        )
        self.max_time_ = float(time.max())
        if codes is not None:
            from ._survival import RiskSets

            ev_strata = RiskSets(time, event, codes).event_strata
            self.baseline_survival_.insert(0, "stratum", [self.strata_levels_[k] for k in ev_strata])
            self.stratum_max_time_ = {lab: float(time[codes == k].max()) for k, lab in enumerate(self.strata_levels_)}
            self.feature_names_in_ = np.asarray(list(design.predictors) + self.strata_columns_, dtype=object)
            self.n_features_in_ = len(self.feature_names_in_)
        self.n_iter_ = fit.n_iter
        self.stats_ = self._statistics(fit, time, event)
        return self

    def _statistics(self, fit, time, event) -> pd.Series:
        n = len(time)
        lr = 2 * (fit.loglik - fit.loglik_null)
        df = len(self.coef_)
        c = harrell_c_survival(time, event, fit.linear_predictor)
        g = gini_mean_difference(fit.linear_predictor)
        return pd.Series(
            {
                "Obs": n,
                "Events": int(event.sum()),
                "Model L.R.": lr,
                "d.f.": df,
                "P": float(stats.chi2.sf(lr, df)),
                "Score": fit.score_test,
                "Score P": float(stats.chi2.sf(fit.score_test, df)),
                "R2": nagelkerke_r2(lr, fit.loglik_null, n),
                # rms cph: R2Measures(LR, number of coefficients, n, events)
                **r2_measures(lr, df, n, int(event.sum())),
                "C": c,
                "Dxy": 2 * c - 1,
                "g": g,
                "gr": float(np.exp(g)),
            }
        )

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Centred linear predictor (log relative hazard vs the mean patient)."""
        Xd = self.design_matrix(X)
        return Xd @ self.coef_.to_numpy() - self.center_

    predict = decision_function

    def _baseline_rows(self, stratum):
        """Rows of ``baseline_survival_`` (and of the hazard variance pieces) of one stratum, and its last time."""
        if not self.is_stratified:
            return np.arange(len(self.baseline_survival_)), self.max_time_
        if stratum not in self.strata_levels_:
            raise ValueError(f"stratum {stratum!r} is not a stratum of this model; strata: {self.strata_levels_}.")
        rows = np.flatnonzero(self.baseline_survival_["stratum"].to_numpy() == stratum)
        return rows, self.stratum_max_time_[stratum]

    def _strata_argument(self, stratum, n, caller):
        """One stratum label per linear predictor (None for an unstratified model)."""
        if not self.is_stratified:
            if stratum is not None:
                raise ValueError(f"{caller}: stratum= is only for a stratified model (strata=); this one has none.")
            return None
        if stratum is None:
            raise ValueError(f"{caller}: this model is stratified by {self.strata_columns_}; pass stratum= (one of "
                             f"{self.strata_levels_}, or one per linear predictor).")
        labels = np.asarray([stratum] * n if isinstance(stratum, str) else list(stratum), dtype=object)
        if len(labels) != n:
            raise ValueError(f"{caller}: stratum= has {len(labels)} labels for {n} linear predictors.")
        return labels

    def survival_at(self, lp, times, stratum=None) -> np.ndarray:
        """Survival probability ``S0(t) ** exp(lp)`` for centred linear predictors.

        ``S0`` is a step function: its value at the last event time <= t
        (1 before the first event); NaN beyond the last follow-up time, as rms
        ``Survival.cph`` returns (with an
        :class:`~nomogram.exceptions.ExtrapolationWarning`); negative times are
        refused. A stratified model needs ``stratum``: one label
        (``"tgrade=II"``) or one per linear predictor; ``S0`` and the follow-up
        are then the stratum's.
        """
        check_is_fitted(self, "coef_")
        lp = np.atleast_1d(np.asarray(lp, dtype=float))
        times = check_times(times, max_time=self.max_time_, caller=f"{type(self).__name__}.survival_at")
        labels = self._strata_argument(stratum, len(lp), "survival_at")
        out = np.empty((len(lp), len(times)))
        groups = [(None, np.arange(len(lp)))] if labels is None else \
            [(lab, np.flatnonzero(labels == lab)) for lab in dict.fromkeys(labels)]
        for lab, idx in groups:
            rows, end = self._baseline_rows(lab)
            bt = self.baseline_survival_["time"].to_numpy()[rows]
            bs = self.baseline_survival_["survival"].to_numpy()[rows]
            s0 = step_function_at(bt, bs, times, end=end, tol=1e-6)
            out[idx] = s0[None, :] ** np.exp(lp[idx])[:, None]
        return out

    def predict_survival(self, X: pd.DataFrame, times=None) -> pd.DataFrame:
        """Predicted survival probabilities, one row per patient and one column per time.

        Parameters
        ----------
        X : pandas.DataFrame
            Predictors (and, for a stratified model, the strata columns).
        times : list of float, optional
            Defaults to the ``times`` given at construction. Negative times are
            refused; times beyond the last follow-up time give NaN with an
            :class:`~nomogram.exceptions.ExtrapolationWarning`, and so do
            predictor values outside the training range.

        Returns
        -------
        pandas.DataFrame of shape (n, len(times)), columns are the times.
        """
        check_is_fitted(self, "coef_")
        if times is None:
            times = self.times
        if times is None:
            raise ValueError(
                "predict_survival needs times: pass times=[...] or set times= when creating "
                "the CoxNomogram."
            )
        columns = list(np.atleast_1d(times))
        times = check_times(times, max_time=self.max_time_, caller=f"{type(self).__name__}.predict_survival")
        stratum = self.stratum_of(X, "predict_survival") if self.is_stratified else None
        lp = self.decision_function(X)
        with warnings.catch_warnings():  # times were warned about once above, under this method's name
            warnings.simplefilter("ignore", ExtrapolationWarning)
            S = self.survival_at(lp, times, stratum=stratum)
        return pd.DataFrame(S, index=X.index, columns=columns)

    def survest(self, X: pd.DataFrame, times=None, *, conf_level: float = 0.95) -> pd.DataFrame:
        """Survival with standard errors and confidence limits, as rms ``survest``.

        Parameters
        ----------
        X : pandas.DataFrame
        times : list of float, optional
            Defaults to the ``times`` given at construction.
        conf_level : float, default 0.95

        Returns
        -------
        pandas.DataFrame
            One row per (patient, time), index ``(X.index, time)``, columns
            ``survival``, ``std_err`` (of the cumulative hazard, as ``survest``
            returns it), ``lower`` and ``upper`` (``conf.type = "log"``:
            ``S * exp(-+ z * se)``, upper capped at 1).

        References
        ----------
        rms ``survest.cph``; survival ``survfit.coxph`` (Efron variance, ``ctype = 2``).
        """
        from scipy.stats import norm

        check_is_fitted(self, "coef_")
        if not 0 < conf_level < 1:
            raise ValueError(f"The 'conf_level' parameter of survest must be in (0, 1). Got {conf_level!r} instead.")
        if times is None:
            times = self.times
        if times is None:
            raise ValueError("survest needs times: pass times=[...] or set times= on the CoxNomogram.")
        times = check_times(times, max_time=self.max_time_, caller=f"{type(self).__name__}.survest")
        Xc = self.design_matrix(X) - self.means_.to_numpy()
        beta = self.coef_.to_numpy()
        rho = np.exp(Xc @ beta)
        labels = self.stratum_of(X, "survest") if self.is_stratified else np.full(len(X), None, dtype=object)
        V = self.cov_.to_numpy()
        z = norm.ppf(0.5 + conf_level / 2)
        out = {k: np.full((len(times), len(rho)), np.nan) for k in ("survival", "std_err", "lower", "upper")}
        for lab in dict.fromkeys(labels):
            idx = np.flatnonzero(labels == lab) if lab is not None else np.arange(len(rho))
            brows, end = self._baseline_rows(lab)
            bt = self.baseline_survival_["time"].to_numpy()[brows]
            H = -np.log(self.baseline_survival_["survival"].to_numpy()[brows])
            pieces = self.baseline_hazard_variance_.to_numpy()[brows]
            V0, A = pieces[:, 0], pieces[:, 1:]
            # step functions of time (0 before the first event); NaN past the stratum's follow-up
            H_t = step_function_at(bt, H, times, tol=1e-6, before=0.0)
            V0_t = step_function_at(bt, V0, times, tol=1e-6, before=0.0)
            A_t = step_function_at(bt, A.T, times, tol=1e-6, before=0.0).T
            for k, (t, h, v0, a) in enumerate(zip(times, H_t, V0_t, A_t)):
                if t > end + 1e-6:
                    continue
                q = h * Xc[idx] - a
                se = rho[idx] * np.sqrt(v0 + np.einsum("ij,jk,ik->i", q, V, q))
                s = np.exp(-h * rho[idx])
                out["survival"][k, idx], out["std_err"][k, idx] = s, se
                out["lower"][k, idx] = s * np.exp(-z * se)
                out["upper"][k, idx] = np.minimum(1.0, s * np.exp(z * se))
        rows = []
        for k, t in enumerate(times):
            rows.append(pd.DataFrame({c: v[k] for c, v in out.items()},
                                     index=pd.MultiIndex.from_arrays([X.index, np.full(len(rho), t)],
                                                                     names=[X.index.name, "time"])))
        return pd.concat(rows).sort_index(level=0, sort_remaining=False)

    def nomogram(self, **kwargs):
        """The rms nomogram of this model with survival axes at ``times``."""
        from .points import Nomogram

        check_is_fitted(self, "coef_")
        return Nomogram.from_model(self, **kwargs)
