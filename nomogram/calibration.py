"""Calibration: rms ``calibrate`` (internal, resampling) and ``val.prob`` (external).

* :func:`calibrate` — bias-corrected calibration curve of a fitted nomogram:
  rms ``calibrate.default`` for logistic models (lowess smooth of the outcome
  on the predicted risk) and rms ``calibrate.cph`` with ``cmethod="KM"`` for
  Cox models (Kaplan–Meier survival at ``horizon`` in groups of predicted survival).
* :func:`val_prob` — calibration and discrimination of predicted
  probabilities on new patients (rms/Hmisc ``val.prob``), with the
  Hosmer–Lemeshow test added.

Computation only; :class:`nomogram.displays.CalibrationDisplay` draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit, logit

from . import _refit as rfit
from . import _resample as rsm
from .exceptions import StatisticalWarning
from .validation import _cox_refits, check_resampling
from .checks import (
    check_random_state,
    check_binary_y,
    check_dataframe,
    check_option,
    check_probabilities,
    check_survival_y,
    pandas_index,
    renamed_attribute,
    renamed_parameter,
)
from ._indexes import binned_c_index, weighted_somers_dxy
from ._lowess import approx, lowess
from ._survival import km_at_by_group
from .validation import _embed_penalty, _model_kind, single_threaded_blas

__all__ = ["calibrate", "CalibrationResult", "val_prob", "ValProbResult", "lowess"]


# --------------------------------------------------------------------------- results
@dataclass
class CalibrationResult:
    """Result of :func:`calibrate`.

    Attributes
    ----------
    table : pandas.DataFrame
        Logistic (rms ``calibrate.default``): one row per grid point with
        ``predy``, ``calibrated.orig`` (apparent), ``calibrated.corrected``
        (bias-corrected), ``index.orig``, ``training``, ``test``,
        ``optimism``, ``index.corrected``, ``n``. Cox (rms ``calibrate.cph``,
        KM method): one row per group with ``index.orig``, ``training``,
        ``test``, ``mean.optimism``, ``mean.corrected``, ``n``,
        ``mean.predicted``, ``KM``, ``KM.corrected``, ``std.err``.
    predicted : ndarray
        Predicted risk (logistic) or survival at ``horizon`` (Cox) of every patient.
    errors : pandas.Series
        Logistic only: ``n``, ``mean_absolute_error``, ``mean_squared_error``,
        ``quantile90_absolute_error`` of the predicted risks against the
        bias-corrected curve (as rms ``print.calibrate`` reports them).
    kind : {"logistic", "cox"}
    method : str
    n_boot : int
        Resamples requested (also readable as ``B``, rms's name).
    horizon : float or None
        Time of the Cox calibration (also readable as ``u``, rms's name).
    n_failed : int
        Resamples whose refit failed (left out, as rms does).
    failures : pandas.DataFrame
        The failed resamples by cause, as :attr:`nomogram.ValidationResult.failures`
        (Cox models also ``fewer than 5 events``: rms does not refit those).
    """

    table: pd.DataFrame
    predicted: np.ndarray = field(repr=False)
    errors: pd.Series
    kind: str
    method: str
    n_boot: int
    horizon: float | None = None
    n_failed: int = 0
    failures: pd.DataFrame = field(default_factory=lambda: rfit.failure_table(np.zeros(0, int), np.zeros(0, int), []),
                                   repr=False)

    B = renamed_attribute("B", "n_boot", warn=False)
    u = renamed_attribute("u", "horizon", warn=False)

    def summary(self) -> pd.DataFrame:
        """The calibration table (a copy); see the class docstring for its columns."""
        return self.table.copy()

    def plot(self, ax=None, **kwargs):
        """Draw with :class:`nomogram.displays.CalibrationDisplay`; returns the display."""
        from .displays.calibration import CalibrationDisplay

        return CalibrationDisplay.from_result(self, ax=ax, **kwargs)


@dataclass
class ValProbResult:
    """Result of :func:`val_prob`.

    Attributes
    ----------
    statistics : pandas.Series
        ``Dxy``, ``C (ROC)``, ``R2``, ``D``, ``D:Chi-sq``, ``D:p``, ``U``,
        ``U:Chi-sq``, ``U:p``, ``Q``, ``Brier``, ``Intercept``, ``Slope``,
        ``Emax``, ``E90``, ``Eavg``, ``S:z``, ``S:p`` (rms ``val.prob`` names
        and order), then ``Intercept lower``/``upper``, ``Slope lower``/``upper``
        (Wald CIs), ``CITL`` (calibration-in-the-large), ``CITL lower``/``upper``,
        ``HL chi2``, ``HL df``, ``HL p`` (Hosmer–Lemeshow).
    smooth : pandas.DataFrame
        ``x``, ``y``: the lowess calibration curve (R ``lowess(p, y, iter=0)``).
    groups : pandas.DataFrame
        Hosmer–Lemeshow groups: ``n``, ``observed``, ``expected``, ``mean_predicted``.
    """

    statistics: pd.Series
    smooth: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """Statistics as a one-column DataFrame (``value``)."""
        return self.statistics.to_frame("value")

    def plot(self, ax=None, **kwargs):
        """Draw the smooth calibration curve with :class:`nomogram.displays.CalibrationDisplay`."""
        from .displays.calibration import CalibrationDisplay

        return CalibrationDisplay.from_result(self, ax=ax, **kwargs)


# --------------------------------------------------------------------------- calibrate
@renamed_parameter("u", "horizon", warn=False)
@renamed_parameter("B", "n_boot", warn=False)
def calibrate(model, X: pd.DataFrame, y, n_boot: int = 200, method: str = "boot", random_state=None,
              *, horizon: float | None = None, m: int = 150, cuts=None, predy=None, cmethod: str = "KM",
              pred=None) -> CalibrationResult:
    """Bias-corrected calibration curve by resampling (rms ``calibrate``).

    **Logistic models** (rms ``calibrate.default``). With predicted risks
    :math:`\\hat p_i`, the grid ``predy`` is 50 equally spaced points from the
    5th smallest to the 5th largest :math:`\\hat p`. The apparent curve is
    R's ``lowess(p, y, iter=0)`` interpolated at ``predy`` (``approx`` with the
    first of tied values). For each resample the model is refitted on the
    training sample, and the same smooth of the refit's risks is computed on
    the training and on the test sample; ``index = smooth(predy) - predy``,
    ``optimism = mean(training) - mean(test)`` over the resamples where both
    are defined at that point (``n``), and
    ``calibrated.corrected = calibrated.orig - optimism``. The errors
    reported are those of rms ``print.calibrate``: with
    :math:`e_i = \\hat p_i - \\mathrm{corrected}(\\hat p_i)` (linear interpolation),
    the mean :math:`|e|`, mean :math:`e^2` and 0.9 quantile of :math:`|e|`.

    **Cox models** (rms ``calibrate.cph``, ``cmethod="KM"``). Predicted
    survival at the horizon :math:`u`, :math:`\\hat S_i(u) = S_0(u)^{\\exp(x_i\\hat\\beta)}`,
    is cut into ``g = max(1, floor(n/m))`` quantile groups (cut points: R
    ``quantile(c(0, 1, S), seq(0, 1, length = g + 1))``, intervals closed on
    the left as Hmisc ``cut2``). In each group, ``KM`` is the Kaplan–Meier
    survival at ``u`` and the index is ``KM - mean predicted``. Each resample
    refits the Cox model (and its baseline survival) on the training sample
    and recomputes the grouped index on the training and on the test sample
    with the original cut points; ``KM.corrected = KM - mean.optimism``.

    **Stratified Cox models** (``CoxNomogram(strata=...)``, rms ``strat()``):
    as rms ``calibrate.cph`` with strata, the predicted survival of a patient
    is its stratum's survival at ``u``, :math:`S_k(u)^{\\exp(x_i\\hat\\beta - c)}`,
    and each resample's refit is stratified (``cph(... + strat(g))``), its
    stratum curves read at ``u`` (``surv.summary``). A patient whose stratum's
    follow-up in the training sample ends before ``u`` has no prediction
    there and is left out of the groups (rms ``groupkm``); a training sample
    without a patient of some stratum is left out (cause ``stratum absent``).

    **Cox models, smooth curve** (``cmethod="spline"``): instead of rms's
    HARE hazard regression (``cmethod="hare"``, polspline), the smooth
    calibration curve of Austin, Harrell & van Klaveren (2020): a Cox model of
    the outcome on a restricted cubic spline (3 knots) of
    :math:`\\log(-\\log \\hat S_i(u))`, whose survival at ``u`` is the observed
    survival at each predicted value. It is evaluated on the grid ``pred`` (default
    50 points between the ``q`` and ``1 - q`` quantiles of the predicted
    survival, ``q = 10 / max(n, 200)`` as rms ``datadist``), and
    bias-corrected by resampling exactly as the KM version (the spline model is
    refitted on each training and test sample). ``errors`` then holds
    ``ICI`` (mean absolute difference between observed and predicted
    survival over the patients, apparent), ``E50`` and ``E90``.

    Parameters
    ----------
    model : LogisticNomogram or CoxNomogram
    X, y : the data the model was fitted on
    n_boot : int, default 200
        Resamples (folds for ``crossvalidation``); ``B=`` (rms's name) is an alias.
    method : {"boot", "crossvalidation", ".632"}, default "boot"
    random_state : int, numpy Generator or None
    horizon : float
        Cox only: time at which survival is calibrated (required), in the
        unit of the survival times; ``u=`` (rms's name) is an alias. (rms
        reads the fit's ``surv.summary`` at ``time.inc``: fit ``cph`` with
        ``time.inc = u`` to compare.)
    m : int, default 150
        Cox only: patients per group.
    cuts : array-like, optional
        Cox only: cut points on predicted survival (overrides ``m``).
    predy : array-like, optional
        Logistic only: the grid of predicted risks.
    cmethod : {"KM", "spline"}, default "KM"
        Cox only: grouped Kaplan–Meier (rms ``cmethod="KM"``) or the smooth
        spline-based curve described above.
    pred : array-like, optional
        Cox, ``cmethod="spline"`` only: grid of predicted survival probabilities.

    Returns
    -------
    CalibrationResult

    Notes
    -----
    The HARE method of ``calibrate.cph`` (``cmethod="hare"``, polspline) is not
    implemented; ``cmethod="spline"`` is the HARE-free smooth alternative.

    References
    ----------
    Harrell FE. rms ``calibrate.default``, ``calibrate.cph``, ``groupkm``, ``predab.resample``
    (version 6.5-0). Harrell FE (2015). Regression Modeling Strategies, 2nd ed., sec. 10.11.
    Austin PC, Harrell FE, van Klaveren D (2020). Graphical calibration curves and the
    integrated calibration index (ICI) for survival models. Stat Med 39:2714-2742.
    """
    kind = _model_kind(model, "calibrate")
    check_option(method, {"boot", "crossvalidation", ".632"}, name="method", caller="calibrate")
    check_dataframe(X, caller="calibrate")
    B = check_resampling(n_boot, method, len(X), caller="calibrate")
    if kind == "cox":
        if horizon is None:
            raise ValueError(
                "calibrate: a Cox model is calibrated at one time point; pass horizon= (e.g. "
                "horizon=1095 for 3 years when times are in days)."
            )
        check_option(cmethod, {"KM", "spline"}, name="cmethod", caller="calibrate")
    elif horizon is not None:
        raise ValueError(f"calibrate: horizon= (rms's u) is the time of a Cox model's calibration; this "
                         f"{type(model).__name__} has a binary outcome, so leave it out.")
    rng = check_random_state(random_state)
    plan = rsm.resample_plan(method, len(X), B, rng)
    return _calibrate_on_plan(model, X, y, plan, kind=kind, horizon=horizon, m=m, cuts=cuts, predy=predy,
                              cmethod=cmethod, pred=pred)


def _calibrate_on_plan(model, X, y, plan, *, kind=None, horizon=None, m=150, cuts=None, predy=None, cmethod="KM",
                       pred=None) -> CalibrationResult:
    """:func:`calibrate` on given resamples (``plan``: a :class:`nomogram._resample.ResamplePlan`)."""
    kind = kind or _model_kind(model, "calibrate")
    with single_threaded_blas():
        if kind == "logistic":
            result = _calibrate_logistic(model, X, y, plan, predy)
        elif cmethod == "spline":
            result = _calibrate_cox_spline(model, X, y, plan, float(horizon), pred)
        else:
            result = _calibrate_cox(model, X, y, plan, float(horizon), int(m), cuts)
    if len(result.failures):
        import warnings

        warnings.warn(rfit.failure_message("calibrate", result.failures, result.n_boot), StatisticalWarning,
                      stacklevel=3)
    return result


def _smooth_at(p, yv, predy):
    sx, sy = lowess(p, yv, iter=0)
    return approx(sx, sy, predy, ties="first")


def _aggregate(orig, tr, te, method, w632):
    ok = np.isfinite(tr) & np.isfinite(te)
    num = ok.sum(axis=0)
    trz, tez = np.where(ok, tr, 0.0), np.where(ok, te, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        training = trz.sum(axis=0) / num
        if method == ".632":
            test = (tez * np.asarray(w632)[:, None]).sum(axis=0)
            optimism = 0.632 * (orig - test)
        else:
            test = tez.sum(axis=0) / num
            optimism = training - test
    return training, test, optimism, num


def _calibrate_logistic(model, X, y, plan, predy):
    yv = check_binary_y(y, index=X.index, caller="calibrate", event_level=getattr(model, "event_level", None))
    n = len(yv)
    if n < 11 and predy is None:
        raise ValueError("calibrate needs n > 10 patients unless predy= is given.")
    Xd = model.design_matrix(X)
    Z = np.column_stack([np.ones(n), Xd])
    coef = model.coef_.to_numpy()
    predicted = expit(Z @ coef)
    if predy is None:
        ps = np.sort(predicted)
        predy = np.linspace(ps[4], ps[n - 5], 50)
    predy = np.asarray(predy, float)
    cal_orig = _smooth_at(predicted, yv, predy)
    index_orig = cal_orig - predy

    # refits as rms calibrate.default makes them: lrm.fit(x, y, penalty.matrix, tol=1e-13)
    fits = rfit.lrm_fit_batch(Z, yv, plan.train, penalty=_embed_penalty(model, Z.shape[1], True), maxit=12,
                              eps=0.025, tol=1e-13)
    ok = np.flatnonzero(fits.ok)
    beta = fits.beta
    tr = np.empty((ok.size, len(predy)))
    te = np.empty((ok.size, len(predy)))
    for r, b in enumerate(ok):
        pb = expit(Z @ beta[b])
        idx = plan.train_index[b]
        tr[r] = _smooth_at(pb[idx], yv[idx], predy) - predy
        test_rows = np.flatnonzero(plan.test[b] > 0)
        te[r] = _smooth_at(pb[test_rows], yv[test_rows], predy) - predy
    w632 = None if plan.weights_632 is None else plan.weights_632[ok]
    training, test, optimism, num = _aggregate(index_orig, tr, te, plan.method, w632)
    table = pd.DataFrame(
        {
            "predy": predy,
            "calibrated.orig": cal_orig,
            "calibrated.corrected": cal_orig - optimism,
            "index.orig": index_orig,
            "training": training,
            "test": test,
            "optimism": optimism,
            "index.corrected": index_orig - optimism,
            "n": num.astype(float),
        }
    )
    s = np.isfinite(table["predy"] + table["calibrated.corrected"]).to_numpy()
    if s.sum() >= 2:
        err = predicted - approx(predy[s], table["calibrated.corrected"].to_numpy()[s], predicted, ties="mean")
    else:  # no resample kept: no corrected curve
        err = np.full(n, np.nan)
    ae = np.abs(err[np.isfinite(err)])
    errors = pd.Series(
        {
            "n": float(len(err)),
            "mean_absolute_error": float(ae.mean()) if ae.size else np.nan,
            "mean_squared_error": float(np.mean(ae ** 2)) if ae.size else np.nan,
            "quantile90_absolute_error": float(np.quantile(ae, 0.9)) if ae.size else np.nan,
        }
    )
    failures = rfit.failure_table(fits.status, fits.column, list(model.coef_.index[1:]))
    return CalibrationResult(table=table, predicted=predicted, errors=errors, kind="logistic", method=plan.method,
                             n_boot=plan.train.shape[0], n_failed=int((~fits.ok).sum()), failures=failures)


# --------------------------------------------------------------------------- Cox (KM)
def r_quantile(x, probs):
    """R ``quantile(x, probs)`` (type 7), which is numpy's default ``linear`` method."""
    return np.quantile(np.asarray(x, float), probs)


def _cut2_codes(x, cuts):
    """Group of each ``x`` for Hmisc ``cut2(x, cuts)``: ``[c_k, c_k+1)``, last interval closed.

    Returns 0-based codes; cut points outside the range of ``x`` are handled
    as ``cut2`` does (the observed min/max are added as end points).
    """
    x = np.asarray(x, float)
    cuts = np.unique(np.asarray(cuts, float))
    if x.min() < cuts[0]:
        cuts = np.r_[x.min(), cuts]
    if x.max() > cuts[-1]:
        cuts = np.r_[cuts, x.max()]
    codes = np.searchsorted(cuts, x, side="right") - 1
    codes = np.clip(codes, 0, len(cuts) - 2)
    return codes, len(cuts) - 1


def _groupkm(pred, time, event, w, codes, ngroups, u):
    """rms ``groupkm`` with fixed cut points: mean prediction, n, events, KM, SE per group.

    All groups at once (:func:`nomogram._survival.km_at_by_group`); a group
    with fewer than 2 patients has no KM (its mean prediction is kept when it
    has one patient), as in rms.
    """
    w = np.asarray(w, float)
    keep = w > 0
    nobs = np.bincount(codes[keep], weights=w[keep], minlength=ngroups)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.bincount(codes[keep], weights=(w * pred)[keep], minlength=ngroups) / nobs
    events = np.bincount(codes[keep], weights=(w * event)[keep], minlength=ngroups)
    km, se = km_at_by_group(time, event, codes, ngroups, u, weights=w, tol=1e-6, extend="at_zero")
    small = nobs < 2
    out = np.column_stack([np.where(small & (nobs != 1), np.nan, x), np.where(small, 0.0, nobs),
                           np.where(small, 0.0, events), np.where(small, np.nan, km),
                           np.where(small, np.nan, se)])
    return pd.DataFrame(out, columns=["x", "n", "events", "KM", "std.err"])


def _cox_refits_survival_at(model, X, time, event, plan, u):
    """Refit a Cox model on every resample; each fit's predicted survival at ``u`` of every patient.

    The refits are rms ``calibrate.cph``'s: ``cph(surv=TRUE, time.inc=u)`` on
    the training sample (survival's ``coxph.fit`` iteration, ``iter.max = 10``,
    ``eps = 1e-4``; :func:`nomogram.validation._cox_refits` with
    ``rule="cph"``; with the model's strata, ``strat()``), not fitted when the
    training sample has fewer than 5 events, failed only when a coefficient is
    singular (a non-converged fit is kept at its last accepted estimate, as
    ``cph`` keeps it). The survival of patient ``i`` (of stratum ``k``) under
    fit ``r`` is ``S_k(u) ** exp(x_i beta_r - center_r)``, with ``S_k(u)`` the
    fit's ``surv.summary`` at ``u`` (:func:`nomogram._resample.cox_baseline_survival_at`):
    NaN where ``u`` is past stratum ``k``'s follow-up in the training sample.

    Returns
    -------
    ok : ndarray of int
        Resamples kept.
    S : ndarray of shape (len(ok), n)
        Predicted survival at ``u`` of every patient under each kept fit, in
        the original row order.
    fits : nomogram._refit.Refits
        Every refit, with its status.
    """
    rs, Xs, fits = _cox_refits(model, X, time, event, plan, rule="cph", min_events=5, caller="calibrate")
    ok = np.flatnonzero(fits.ok)
    lps = fits.beta[ok] @ Xs.T
    S = np.empty_like(lps)
    if ok.size:
        s0, center = rsm.cox_baseline_survival_at(rs, lps, plan.train[ok][:, rs.order], u, model.ties,
                                                  past_tol=1e-6)
        S[:, rs.order] = s0[:, rs.strata] ** np.exp(lps - center[:, None])
    return ok, S, fits


def _predicted_survival(model, X, u):
    """The model's survival at ``u`` of every patient (in its stratum); refuses a ``u`` past follow-up."""
    stratum = model.stratum_of(X, "calibrate") if model.is_stratified else None
    predicted = model.survival_at(model.decision_function(X), [u], stratum=stratum)[:, 0]
    if np.isnan(predicted).any():
        where = (f"the last follow-up time of stratum {sorted(set(stratum[np.isnan(predicted)]))} "
                 f"({min(model.stratum_max_time_[k] for k in set(stratum[np.isnan(predicted)]))})"
                 if stratum is not None else f"the last follow-up time ({model.max_time_})")
        raise ValueError(f"calibrate: horizon={u} is beyond {where}; choose an earlier horizon.")
    return predicted


def _cox_optimism_columns(index_orig, tr, te, plan, ok):
    """The optimism columns of rms ``calibrate.cph`` from the resampled indexes.

    ``tr``/``te`` (len(ok), g) are the training/test indexes of the kept
    resamples ``ok`` of ``plan``, aggregated by :func:`_aggregate`. Returns
    ``(columns, optimism)``: a dict of "index.orig", "training", "test",
    "mean.optimism", "mean.corrected", "n" (in that order) and the optimism.
    """
    w632 = None if plan.weights_632 is None else plan.weights_632[ok]
    training, test, optimism, num = _aggregate(index_orig, tr, te, plan.method, w632)
    columns = {
        "index.orig": index_orig,
        "training": training,
        "test": test,
        "mean.optimism": optimism,
        "mean.corrected": index_orig - optimism,
        "n": num.astype(float),
    }
    return columns, optimism


def _calibrate_cox(model, X, y, plan, u, m, cuts):
    time, event = check_survival_y(y, index=X.index, caller="calibrate", event_level=getattr(model, "event_level", None))
    n = len(time)
    predicted = _predicted_survival(model, X, u)
    if cuts is None:
        g = max(1, n // m)
        cuts = np.unique(r_quantile(np.r_[0.0, 1.0, predicted], np.linspace(0, 1, g + 1)))
    cuts = np.asarray(cuts, float)
    pr = predicted.copy()
    pr[np.abs(pr) < 1e-10] = 0.0
    codes, ngroups = _cut2_codes(pr, cuts)
    ones = np.ones(n)
    orig_tab = _groupkm(pr, time, event, ones, codes, ngroups, u)
    index_orig = (orig_tab["KM"] - orig_tab["x"]).to_numpy()

    ok, S_all, fits = _cox_refits_survival_at(model, X, time, event, plan, u)
    tr = np.full((ok.size, ngroups), np.nan)
    te = np.full((ok.size, ngroups), np.nan)
    for r, b in enumerate(ok):
        S = S_all[r].copy()
        S[np.abs(S) < 1e-10] = 0.0
        known = np.isfinite(S)                          # rms groupkm leaves out a missing prediction
        S[~known] = 0.0
        c2, _ = _cut2_codes_fixed(S, cuts, ngroups)
        for wv, dest in ((plan.train[b], tr), (plan.test[b], te)):
            if np.sum(wv * event) < 5:
                continue
            t = _groupkm(S, time, event, wv * known, c2, ngroups, u)
            dest[r] = (t["KM"] - t["x"]).to_numpy()
    columns, optimism = _cox_optimism_columns(index_orig, tr, te, plan, ok)
    table = pd.DataFrame(
        {
            **columns,
            "mean.predicted": orig_tab["x"].to_numpy(),
            "KM": orig_tab["KM"].to_numpy(),
            "KM.corrected": orig_tab["KM"].to_numpy() - optimism,
            "std.err": orig_tab["std.err"].to_numpy(),
        }
    )
    return CalibrationResult(table=table, predicted=predicted, errors=pd.Series(dtype=float), kind="cox",
                             method=plan.method, n_boot=plan.train.shape[0], horizon=u,
                             n_failed=int((~fits.ok).sum()), failures=_cox_failures(model, fits))


def _cox_failures(model, fits):
    return rfit.failure_table(fits.status, fits.column, list(model.coef_.index))


def _calibration_lp(fit, g: pd.DataFrame) -> np.ndarray:
    """Centred linear predictor of the calibration spline fit on ``g``.

    Its grid reaches past the (resampled) predictions it was fitted on by
    design, as rms's ``calibrate.cph`` does: no extrapolation warning here.
    """
    return fit.design_.transform(g, caller="calibrate") @ fit.coef_.to_numpy() - fit.center_


def _spline_observed(S_pred, time, event, rows, u, grid):
    """Observed survival at ``u`` on ``grid`` from a Cox model on rcs(log(-log S_pred), 3).

    ``rows`` are the patients (with copies) of the sample. Returns NaN where the
    fit fails (e.g. too few distinct predictions for 3 knots).
    """
    from .cox import CoxNomogram

    cll = np.log(-np.log(np.clip(S_pred[rows], 1e-12, 1 - 1e-12)))
    try:
        fit = CoxNomogram(splines={"cll": 3}).fit(pd.DataFrame({"cll": cll}), (time[rows], event[rows]))
        g = pd.DataFrame({"cll": np.log(-np.log(np.clip(grid, 1e-12, 1 - 1e-12)))})
        return fit.survival_at(_calibration_lp(fit, g), [u])[:, 0], fit
    except (ValueError, np.linalg.LinAlgError):
        return np.full(len(grid), np.nan), None


def _calibrate_cox_spline(model, X, y, plan, u, pred):
    time, event = check_survival_y(y, index=X.index, caller="calibrate", event_level=getattr(model, "event_level", None))
    n = len(time)
    predicted = _predicted_survival(model, X, u)
    if pred is None:
        q = 10.0 / max(n, 200)
        lo, hi = r_quantile(predicted, [q, 1 - q])
        pred = np.linspace(lo, hi, 50)
    pred = np.asarray(pred, float)
    all_rows = np.arange(n)
    obs, calfit = _spline_observed(predicted, time, event, all_rows, u, pred)
    index_orig = obs - pred
    # apparent ICI / E50 / E90 over the patients
    errors = pd.Series(dtype=float)
    if calfit is not None:
        cll = np.log(-np.log(np.clip(predicted, 1e-12, 1 - 1e-12)))
        obs_i = calfit.survival_at(_calibration_lp(calfit, pd.DataFrame({"cll": cll})), [u])[:, 0]
        d = np.abs(obs_i - predicted)
        errors = pd.Series({"n": float(n), "ICI": float(d.mean()), "E50": float(np.median(d)),
                            "E90": float(np.quantile(d, 0.9))})

    ok, S_all, fits = _cox_refits_survival_at(model, X, time, event, plan, u)
    tr = np.full((ok.size, len(pred)), np.nan)
    te = np.full((ok.size, len(pred)), np.nan)
    for r, b in enumerate(ok):
        S = S_all[r]
        known = np.isfinite(S)                          # a missing prediction is left out
        train_rows = np.sort(plan.train_index[b])
        tr[r] = _spline_observed(S, time, event, train_rows[known[train_rows]], u, pred)[0] - pred
        te[r] = _spline_observed(S, time, event, np.flatnonzero((plan.test[b] > 0) & known), u, pred)[0] - pred
    columns, optimism = _cox_optimism_columns(index_orig, tr, te, plan, ok)
    table = pd.DataFrame(
        {
            "pred": pred,
            **columns,
            "calibrated": obs,
            "calibrated.corrected": obs - optimism,
        }
    )
    return CalibrationResult(table=table, predicted=predicted, errors=errors, kind="cox", method=plan.method,
                             n_boot=plan.train.shape[0], horizon=u, n_failed=int((~fits.ok).sum()),
                             failures=_cox_failures(model, fits))


def _cut2_codes_fixed(x, cuts, ngroups):
    """Codes of ``x`` on the original cut points (groups beyond them are clipped)."""
    cuts = np.unique(np.asarray(cuts, float))
    codes = np.searchsorted(cuts, x, side="right") - 1
    return np.clip(codes, 0, ngroups - 1), ngroups


# --------------------------------------------------------------------------- val.prob
@renamed_parameter("conf_int", "conf_level")
def val_prob(y, p, *, g: int = 10, binned_c: bool = False, conf_level: float = 0.95, event_level=None) -> ValProbResult:
    """Validation of predicted probabilities on (new) patients (rms ``val.prob``).

    With :math:`L_i = \\mathrm{logit}\\,p_i`:

    * ``Intercept``, ``Slope``: logistic recalibration
      :math:`\\mathrm{logit}\\,P(y=1) = a + b L` (ideal 0 and 1), with Wald
      confidence limits; ``CITL`` (calibration-in-the-large): the intercept
      :math:`a_0` of :math:`\\mathrm{logit}\\,P(y = 1) = a_0 + L` (slope fixed at 1).
    * ``Dxy`` = :math:`2C - 1`, ``C (ROC)``; ``R2`` Nagelkerke of the fixed
      model :math:`(a, b) = (0, 1)`; ``D = (LR - 1)/n`` with
      ``D:Chi-sq = LR`` = :math:`L_0 - L_{01}` (``D:p`` is NaN, as in R);
      ``U = (U:Chi-sq - 2)/n`` with ``U:Chi-sq`` = :math:`L_{01} - L_{cal}`,
      ``U:p`` on 2 d.f.; ``Q = D - U``; ``Brier`` = mean :math:`(p - y)^2`.
    * ``Eavg``, ``E90``, ``Emax``: mean, 0.9 quantile and maximum of
      :math:`|p_i - s(p_i)|` where :math:`s` is R's ``lowess(p, y, iter=0)``
      interpolated at the :math:`p_i`.
    * ``S:z``, ``S:p``: Spiegelhalter's
      :math:`z = \\sum (y - p)(1 - 2p) / \\sqrt{\\sum (1 - 2p)^2 p (1 - p)}`.
    * ``HL chi2``, ``HL df = g - 2``, ``HL p``: Hosmer–Lemeshow over ``g``
      groups cut at the quantiles of ``p`` (``ResourceSelection::hoslem.test``),
      :math:`\\sum_k (O_k - E_k)^2 / E_k` over both outcome columns.

    Parameters
    ----------
    y : array-like of shape (n,)
        Observed 0/1 outcome.
    p : array-like of shape (n,)
        Predicted probabilities of ``y = 1``.
    g : int, default 10
        Hosmer–Lemeshow groups.
    binned_c : bool, default False
        Compute ``C``/``Dxy`` as rms 6.5's ``lrm.fit`` does (probabilities
        binned in 1/5000 steps), to reproduce R's ``val.prob`` exactly. The
        default is the exact C index (Hmisc ``somers2``).
    conf_level : float, default 0.95
        Level of the Wald limits of ``Intercept``, ``Slope`` and ``CITL``.
    event_level : scalar, optional
        The value of a text ``y`` that means the event (``"yes"``); without it
        ``y`` must be 0/1, boolean or text ``'0'/'1'``, ``'False'/'True'``.

    Returns
    -------
    ValProbResult

    References
    ----------
    Harrell FE. rms ``val.prob`` (version 6.5-0). Spiegelhalter DJ (1986). Probabilistic
    prediction in patient management and clinical trials. Stat Med 5:421-433. Hosmer DW,
    Lemeshow S (1980). Commun Stat A10:1043-1069. Van Calster B et al. (2016). A calibration
    hierarchy for risk models was defined. J Clin Epidemiol 74:167-176.
    """
    yv = check_binary_y(y, caller="val_prob", index=pandas_index(p), against="p", event_level=event_level)
    if not isinstance(g, (int, np.integer)) or isinstance(g, bool) or g < 2:
        raise ValueError(f"The 'g' parameter of val_prob (Hosmer-Lemeshow groups) must be an integer >= 2. "
                         f"Got {g!r} instead.")
    pv = check_probabilities(p, name="p", caller="val_prob")
    if len(pv) != len(yv):
        raise ValueError(f"val_prob: p has {len(pv)} values but y has {len(yv)}.")
    n = len(yv)
    L = logit(pv)
    fin = np.isfinite(L)
    if (~fin).any():
        import warnings

        from .exceptions import StatisticalWarning

        warnings.warn(
            f"val_prob: {int((~fin).sum())} observations with probability 0 or 1 deleted from the "
            "logistic calibration.", StatisticalWarning, stacklevel=2)
    Lf, yf = L[fin], yv[fin]
    nf = len(yf)
    W1 = np.ones((1, nf))
    ll_fixed = float(rsm.logistic_loglik_batch(Lf[None], yf, W1)[0])
    ll0 = float(rsm._null_loglik(yf, W1)[0])
    cal, llcal, _ = rsm.recalibrate_logistic_batch(Lf[None], yf, W1)
    a, b = cal[0]
    llcal = float(llcal[0])
    lr = 2 * (ll_fixed - ll0)
    r2 = (1 - np.exp(-lr / nf)) / (1 - np.exp(2 * ll0 / nf))
    D = (lr - 1) / nf
    L01 = -2 * ll_fixed
    U_chi = L01 + 2 * llcal
    U = (U_chi - 2) / nf
    if binned_c:
        C = binned_c_index(pv[fin], yf)
    else:
        C = float(weighted_somers_dxy(pv[None], yv, np.ones((1, n)))[0] + 1) / 2
    sx, sy = lowess(pv, yv, iter=0)
    cal_smooth = approx(sx, sy, pv, ties="mean")
    er = np.abs(pv - cal_smooth)
    num = np.sum((yv - pv) * (1 - 2 * pv))
    den = np.sqrt(np.sum((1 - 2 * pv) ** 2 * pv * (1 - pv)))
    sz = num / den
    # Wald limits of the recalibration coefficients
    mu = expit(a + b * Lf)
    v = mu * (1 - mu)
    info = np.array([[v.sum(), (v * Lf).sum()], [(v * Lf).sum(), (v * Lf * Lf).sum()]])
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    zq = stats.norm.ppf((1 + conf_level) / 2)
    # calibration-in-the-large: intercept with the logit as offset
    a0 = 0.0
    for _ in range(50):
        mu0 = expit(a0 + Lf)
        step = np.sum(yf - mu0) / np.sum(mu0 * (1 - mu0))
        a0 += step
        if abs(step) < 1e-12:
            break
    mu0 = expit(a0 + Lf)
    se0 = 1 / np.sqrt(np.sum(mu0 * (1 - mu0)))
    hl, groups = _hosmer_lemeshow(pv, yv, g)
    statistics = pd.Series(
        {
            "Dxy": 2 * C - 1,
            "C (ROC)": C,
            "R2": r2,
            "D": D,
            "D:Chi-sq": lr,
            "D:p": np.nan,
            "U": U,
            "U:Chi-sq": U_chi,
            "U:p": float(stats.chi2.sf(U_chi, 2)),
            "Q": D - U,
            "Brier": float(np.mean((pv - yv) ** 2)),
            "Intercept": a,
            "Slope": b,
            "Emax": float(er.max()),
            "E90": float(np.quantile(er, 0.9)),
            "Eavg": float(er.mean()),
            "S:z": sz,
            "S:p": float(2 * stats.norm.sf(abs(sz))),
            "Intercept lower": a - zq * se[0],
            "Intercept upper": a + zq * se[0],
            "Slope lower": b - zq * se[1],
            "Slope upper": b + zq * se[1],
            "CITL": a0,
            "CITL lower": a0 - zq * se0,
            "CITL upper": a0 + zq * se0,
            "HL chi2": hl,
            "HL df": float(g - 2),
            "HL p": float(stats.chi2.sf(hl, g - 2)),
        }
    )
    return ValProbResult(statistics=statistics, smooth=pd.DataFrame({"x": sx, "y": sy}), groups=groups)


def _hosmer_lemeshow(p, y, g):
    """Hosmer–Lemeshow statistic with groups cut at R ``quantile(p, seq(0, 1, 1/g))``.

    Intervals are ``(q_k, q_k+1]`` with the lowest closed (R ``cut(...,
    include.lowest = TRUE)``); tied quantiles are an error in R and merged here.
    """
    br = np.unique(r_quantile(p, np.linspace(0, 1, g + 1)))
    codes = np.clip(np.searchsorted(br, p, side="left") - 1, 0, len(br) - 2)
    k = len(br) - 1
    n_ = np.bincount(codes, minlength=k).astype(float)
    o1 = np.bincount(codes, weights=y, minlength=k)
    e1 = np.bincount(codes, weights=p, minlength=k)
    o0, e0 = n_ - o1, n_ - e1
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = np.nansum((o1 - e1) ** 2 / e1) + np.nansum((o0 - e0) ** 2 / e0)
    groups = pd.DataFrame({"n": n_, "observed": o1, "expected": e1, "mean_predicted": e1 / n_})
    return float(chi), groups
