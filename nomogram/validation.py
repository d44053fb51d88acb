"""Internal validation by resampling: rms ``validate`` for logistic and Cox nomograms.

:func:`validate` estimates how optimistic a model's apparent accuracy is by
refitting it on resamples (bootstrap, cross-validation or Efron's .632) and
returns the optimism-corrected indexes rms prints. The refits use the design
matrix of the original fit (knots and levels fixed), the same penalty matrix,
and the test indexes come from applying each refit to the original patients,
exactly as rms ``predab.resample`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from . import _refit as rfit
from . import _resample as rsm
from .checks import (
    check_random_state,
    check_binary_y,
    check_dataframe,
    check_is_fitted,
    check_option,
    check_survival_y,
    renamed_attribute,
    renamed_parameter,
)
from .exceptions import StatisticalWarning
from ._indexes import nagelkerke_r2, weighted_gini_md, weighted_somers_dxy

__all__ = ["validate", "ValidationResult", "LOGISTIC_INDEXES", "COX_INDEXES"]

LOGISTIC_INDEXES = ["Dxy", "R2", "Intercept", "Slope", "Emax", "D", "U", "Q", "B", "g", "gp"]
COX_INDEXES = ["Dxy", "R2", "Slope", "D", "U", "Q", "g"]
COLUMNS = ["index.orig", "training", "test", "optimism", "index.corrected", "n"]
METHODS = {"boot", "crossvalidation", ".632"}


@dataclass
class ValidationResult:
    """Result of :func:`validate`.

    Attributes
    ----------
    table : pandas.DataFrame
        rms's ``validate`` table: one row per index (logistic: Dxy, R2,
        Intercept, Slope, Emax, D, U, Q, B, g, gp; Cox: Dxy, R2, Slope, D, U,
        Q, g) and columns ``index.orig``, ``training``, ``test``, ``optimism``,
        ``index.corrected``, ``n``.
    confidence_limits : pandas.DataFrame
        ``Lower`` and ``Upper`` limits of ``index.corrected`` (rms >= 8.0;
        rms 6.5 does not compute them), at level ``conf_level``.
    method : str
    n_boot : int
        Resamples requested (also readable as ``B``, rms's name).
    n_failed : int
        Resamples whose refit failed and were left out, as rms leaves them
        out (``B - n_failed`` is rms's count of kept resamples).
    conf_level : float
    training_indexes, test_indexes : pandas.DataFrame
        One row per kept resample: the indexes of the refit on its
        training sample and on the test sample.
    failures : pandas.DataFrame
        The failed resamples by cause (index ``cause``: ``singular``, ``not
        converged``, ``one outcome class``, ``test-sample fit failed``):
        ``n``, the design ``columns`` involved (with counts) and the
        ``reason``; empty when every resample was kept. See
        :mod:`nomogram._refit` for rms's rules.
    """

    table: pd.DataFrame
    confidence_limits: pd.DataFrame
    method: str
    n_boot: int
    n_failed: int
    conf_level: float
    training_indexes: pd.DataFrame = field(repr=False)
    test_indexes: pd.DataFrame = field(repr=False)
    failures: pd.DataFrame = field(default_factory=lambda: rfit.failure_table(np.zeros(0, int), np.zeros(0, int), []))

    B = renamed_attribute("B", "n_boot", warn=False)
    conf_int = renamed_attribute("conf_int", "conf_level")

    @renamed_parameter("conf_int", "ci")
    def summary(self, ci: bool = True) -> pd.DataFrame:
        """The validation table.

        Parameters
        ----------
        ci : bool, default True
            Insert the ``Lower`` and ``Upper`` columns before ``n`` (the layout
            of rms 8); with False the table is exactly rms 6.5's.

        Returns
        -------
        pandas.DataFrame
            One row per index; columns ``index.orig``, ``training``, ``test``,
            ``optimism``, ``index.corrected``, (``Lower``, ``Upper``,) ``n``.
        """
        if not ci:
            return self.table.copy()
        t = self.table.drop(columns="n").join(self.confidence_limits)
        t["n"] = self.table["n"]
        return t


@renamed_parameter("u", "horizon", warn=False)
@renamed_parameter("conf_int", "conf_level")
@renamed_parameter("B", "n_boot", warn=False)
def validate(model, X: pd.DataFrame, y, n_boot: int = 200, method: str = "boot", random_state=None,
             conf_level: float = 0.95, *, horizon: float | None = None) -> ValidationResult:
    """Optimism-corrected predictive accuracy of a fitted nomogram (rms ``validate``).

    For each resample ``b`` the model is refitted on the training sample (same
    design columns, knots, levels and penalty) and its linear predictor
    :math:`X\\hat\\beta_b` is evaluated on the training sample ("training") and
    on the test sample ("test": all patients for the bootstrap, the held-out
    group for cross-validation, the patients left out for .632). Then

    * ``optimism = mean(training) - mean(test)`` (bootstrap, cross-validation),
      or ``0.632 (index.orig - sum_b W_b test_b)`` for ``.632``;
    * ``index.corrected = index.orig - optimism``;
    * ``n`` = resamples whose index could be computed.

    Indexes (rms ``validate.lrm`` / ``validate.cph``), for linear predictor
    :math:`x`, :math:`n` patients, likelihood-ratio :math:`\\chi^2` ``LR``:

    * ``Dxy`` = :math:`2C - 1`, Somers' rank correlation (Harrell's C for Cox).
    * ``R2`` = Nagelkerke :math:`(1 - e^{-LR/n}) / (1 - e^{L_0/n})` with
      :math:`L_0` = -2 log likelihood of the null model. For a penalised
      logistic model rms uses the penalised :math:`LR - \\beta' P \\beta` here
      (and in ``D`` of the training samples), as is done here.
    * ``Intercept``, ``Slope``: logistic (Cox: slope only) recalibration
      :math:`\\mathrm{logit}\\,P = a + b x` on the test sample; 0 and 1 on the
      sample the model was fitted on.
    * ``Emax`` = :math:`\\max_{p \\in [0, 1]} |p - \\mathrm{expit}(a + b\\,\\mathrm{logit}\\,p)|`
      from the *corrected* intercept and slope (only the ``test``, ``optimism``
      and ``index.corrected`` columns are filled, as rms 6.5 prints it).
    * ``D`` = :math:`(LR - 1)/n` discrimination; Cox: :math:`(LR - 1)/L_0`.
    * ``U`` = unreliability: :math:`(L_{01} - L_{cal} - 2)/n` where
      :math:`L_{01}` is -2 log likelihood of :math:`x` as is and
      :math:`L_{cal}` after recalibration (``-2/n`` on the fitting sample);
      Cox: :math:`-2(\\ell(1) - \\ell(b))/L_0`.
    * ``Q = D - U``; ``B`` = Brier score of :math:`\\mathrm{expit}(x)`.
    * ``g`` = Gini's mean difference of :math:`b x`; ``gp`` of
      :math:`\\mathrm{expit}(a + b x)`.

    Confidence limits (rms >= 8, Harrell 2025, "bootcal"): with
    :math:`d_b = \\text{training}_b - 1.25\\,\\text{test}_b` and
    Hmisc ``dualSD`` :math:`(s_{bottom}, s_{top})` of :math:`d`,
    ``Lower = index.corrected - z s_top`` and ``Upper = index.corrected + z s_bottom``.

    Parameters
    ----------
    model : LogisticNomogram or CoxNomogram
        A fitted model.
    X : pandas.DataFrame
        The data the model was fitted on.
    y : array-like
        Its outcome (binary, or [time, event]).
    n_boot : int, default 200
        Bootstrap resamples (``boot``, ``.632``) or folds (``crossvalidation``;
        at most ``n / 2``, a warning below 5); at least 2.
        ``B=`` (rms's name) is accepted as an alias.
    method : {"boot", "crossvalidation", ".632"}, default "boot"
    random_state : int, numpy Generator or None
    conf_level : float, default 0.95
        Level of the confidence limits (0 to skip them).
    horizon : float, optional
        Stratified Cox models only, and required there (rms ``validate.cph``'s
        ``u``; ``u=`` is an alias): the time at which the predicted survival
        that ``Dxy`` ranks is taken (see Notes). In the unit of the survival times.

    Returns
    -------
    ValidationResult

    Notes
    -----
    Each refit makes rms's decisions (:mod:`nomogram._refit`): logistic models
    are refitted as ``lrm.fit(maxit=12, eps=0.025)`` does it from its usual
    start, Cox models as ``coxph.fit(iter.max=10, eps=1e-4)``; a refit that
    is singular (a factor level or spline segment with no patient in the
    training sample) or does not converge by that fitter's rule is left out,
    and the others are kept even when a level is (quasi-)separated there. The
    failed resamples are counted by cause in ``failures`` and a
    :class:`~nomogram.StatisticalWarning` names them; ``n`` is the number of
    resamples each index averages. On the same resamples the table equals
    rms's. Refits are batched: a resample is a frequency-weight vector and the
    iterations of all resamples run together; BLAS runs single-threaded
    inside this function (see ``single_threaded_blas``). R's random number
    stream is not reproduced, so ``training``/``test``/``optimism`` agree
    with rms up to resampling error; ``index.orig`` is exact.

    **Stratified Cox models** (``CoxNomogram(strata=...)``, rms ``strat()``),
    as rms ``validate.cph`` does them: each refit is ``cph(y ~ x + strat(g),
    surv=TRUE)`` on the training sample (stratified risk sets and ties; failed
    only when singular, a non-converged refit is kept) and the test-sample
    slope ``coxphFit(x = X beta, y, strata)``; ``R2``, ``Slope``, ``D``,
    ``U``, ``Q``, ``g`` come from these stratified likelihoods. A linear
    predictor does not rank patients of different strata, so ``Dxy`` ranks
    the predicted survival at ``horizon`` instead: with
    :math:`S_k(u)` the survival of stratum ``k`` (``survfit.cph`` of the fit,
    at its mean linear predictor), patient ``i`` of stratum ``k`` has
    :math:`S_k(u)^{\\exp(x_i\\hat\\beta)}` (rms ``survest(fit,
    linear.predictors = X beta)``, the linear predictor not centred) and
    ``Dxy`` is Harrell's rank correlation of this survival with the survival
    time over all usable pairs (``dxy.cens(type = "time")``, strata ignored).
    A patient whose stratum's follow-up in the fit ends before ``horizon``
    (and whose curve has not reached 0) has no survival there and is left out
    of ``Dxy``. A training sample without a patient of some stratum is left
    out (cause ``stratum absent``; rms 6.5 stops with an error there).

    References
    ----------
    Harrell FE. rms: ``validate.lrm``, ``validate.cph``, ``predab.resample`` (version 6.5-0;
    confidence limits as in version 8). Harrell FE, Lee KL, Mark DB (1996). Multivariable
    prognostic models. Stat Med 15:361-387. Efron B, Tibshirani R (1997). Improvements on
    cross-validation: the .632+ bootstrap method. JASA 92:548-560.

    Examples
    --------
    >>> v = validate(model, X, y, n_boot=200, random_state=1)   # doctest: +SKIP
    >>> v.table.loc["Dxy", "index.corrected"]              # doctest: +SKIP
    """
    kind = _model_kind(model, "validate")
    check_option(method, METHODS, name="method", caller="validate")
    if not 0 <= conf_level < 1:
        raise ValueError(
            f"The 'conf_level' parameter of validate must be in [0, 1). Got {conf_level!r} instead."
        )
    check_dataframe(X, caller="validate")
    B = check_resampling(n_boot, method, len(X), caller="validate")
    horizon = _check_validate_horizon(model, kind, horizon)
    rng = check_random_state(random_state)
    plan = rsm.resample_plan(method, len(X), B, rng)
    return _validate_on_plan(model, X, y, plan, conf_level, kind, horizon=horizon)


def _check_validate_horizon(model, kind, horizon):
    """``horizon`` of :func:`validate`: required for a stratified Cox model, refused otherwise."""
    stratified = kind == "cox" and model.is_stratified
    if horizon is None:
        if stratified:
            # rms validate.cph: "Presence of strata -> survival estimates needed for dxy; u omitted"
            raise ValueError(
                f"validate: the Cox model is stratified (strata={model.strata_columns_}); its Dxy ranks the "
                "predicted survival at one time, as rms validate.cph(u=) does. Pass horizon= (e.g. horizon=1095 "
                "for 3 years when times are in days)."
            )
        return None
    if not stratified:
        raise ValueError(
            "validate: horizon= is used only for a stratified Cox model (rms validate.cph's u); this "
            f"{type(model).__name__} has no strata, so leave horizon out."
        )
    horizon = float(horizon)
    if not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"The 'horizon' parameter of validate must be a positive time. Got {horizon!r} instead.")
    return horizon


def _validate_on_plan(model, X, y, plan, conf_level, kind=None, *, horizon=None) -> ValidationResult:
    """:func:`validate` on given resamples (``plan``: a :class:`nomogram._resample.ResamplePlan`)."""
    kind = kind or _model_kind(model, "validate")
    horizon = _check_validate_horizon(model, kind, horizon)
    B = plan.train.shape[0]
    with single_threaded_blas():
        if kind == "logistic":
            orig, train, test, status, column = _logistic_indexes(model, X, y, plan)
            names = LOGISTIC_INDEXES
            design_names = list(model.coef_.index[1:])
        else:
            orig, train, test, status, column = _cox_indexes(model, X, y, plan, horizon)
            names = COX_INDEXES
            design_names = list(model.coef_.index)
    failures = rfit.failure_table(status, column, design_names)
    if len(failures):
        import warnings

        warnings.warn(rfit.failure_message("validate", failures, B), StatisticalWarning, stacklevel=3)
    kept = status == rfit.OK
    w632 = None if plan.weights_632 is None else plan.weights_632[kept]
    return _assemble(orig, train, test, names, plan.method, B, conf_level, w632, kind, failures)


# --------------------------------------------------------------------------- helpers
def single_threaded_blas():
    """Context limiting BLAS to one thread.

    The batched products here are thin (``B x n`` by ``n x k`` with small
    ``k``) and memory-bound: extra BLAS threads gain little and, on a shared
    machine, oversubscribed threads made ``validate`` about 2x slower in our
    benchmark. Falls back to a no-op without threadpoolctl.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def check_resampling(n_boot, method: str, n: int, *, caller: str) -> int:
    """Check the number of resamples of ``validate``/``calibrate``; returns it as an int.

    At least 2 (one resample gives no average and no spread). Cross-validation
    is refused with more folds than ``n / 2`` (rms: "B > n/2") and warned
    about with fewer than 5 folds: each model is then fitted on at most 3/4 of
    the patients, so the optimism is overstated.
    """
    if isinstance(n_boot, (bool, np.bool_)) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(
            f"The 'n_boot' parameter of {caller} must be an integer >= 2 (rms's default is 40; 200 is "
            f"usual for the bootstrap, 10 folds for crossvalidation). Got {n_boot!r} instead."
        )
    B = int(n_boot)
    if method == "crossvalidation":
        if n / B < 2:
            raise ValueError(
                f"{caller}: method='crossvalidation' needs n_boot <= n/2 groups; got n_boot={B} for n={n}. "
                "Use 10 folds (or method='boot')."
            )
        if B < 5:
            import warnings

            warnings.warn(
                f"{caller}: crossvalidation with {B} folds fits each model on only {B - 1}/{B} of the patients, "
                "so the optimism is overstated; use 10 folds or method='boot'.",
                StatisticalWarning,
                stacklevel=3,
            )
    return B


def _model_kind(model, caller: str) -> str:
    from .cox import CoxNomogram
    from .logistic import LogisticNomogram

    if isinstance(model, LogisticNomogram):
        check_is_fitted(model, "coef_")
        return "logistic"
    if isinstance(model, CoxNomogram):
        check_is_fitted(model, "coef_")
        return "cox"
    raise TypeError(
        f"{caller} expects a fitted LogisticNomogram or CoxNomogram; got {type(model).__name__}."
    )


def _take_rows(A: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``A[rows]``, without a copy when ``rows`` is every row in order (no resample failed)."""
    return A if len(rows) == len(A) else A[rows]


def _test_weights(plan, rows: np.ndarray) -> np.ndarray:
    """The test weights of resamples ``rows``: (1, n) when every resample has the same (the bootstrap's)."""
    if plan.test.strides[0] == 0:                               # one row broadcast (resample_plan, boot)
        return np.ascontiguousarray(plan.test[:1])
    return _take_rows(plan.test, rows)


def _embed_penalty(model, k: int, intercept: bool) -> np.ndarray | None:
    P = getattr(model, "penalty_matrix_", None)
    if P is None:
        return None
    if not intercept:
        return np.asarray(P, float)
    out = np.zeros((k, k))
    out[1:, 1:] = P
    return out


def emax_from_calibration(intercept: float, slope: float, lim=(0.0, 1.0)) -> float:
    """rms ``Emax``: max |p - expit(a + b logit p)| over p = lim[0], lim[0] + 0.0005, ..., lim[1]."""
    if not np.isfinite(intercept + slope):
        return float("nan")
    p = np.arange(0, int(round((lim[1] - lim[0]) / 0.0005)) + 1) * 0.0005 + lim[0]
    with np.errstate(divide="ignore"):
        L = np.log(p / (1 - p))
    P = expit(intercept + slope * L)
    d = np.abs(p - P)
    return float(np.nanmax(d))


def _logistic_indexes(model, X, y, plan):
    yv = check_binary_y(y, index=X.index, caller="validate", event_level=getattr(model, "event_level", None))
    Xd = model.design_matrix(X)
    n = len(yv)
    Z = np.column_stack([np.ones(n), Xd])
    coef = model.coef_.to_numpy()
    P = _embed_penalty(model, Z.shape[1], True)

    # --- apparent indexes (rms: evalfit=TRUE on the original fit)
    lp = Z @ coef
    ll0, ll = model.loglik_
    lr = 2.0 * (ll - ll0)
    # rms: with a penalty, lrm reports the unpenalised LR (used by D) but R2 from the
    # penalised one, LR - beta' P beta (the -2 log likelihood lrm.fit maximises)
    pen = 0.0 if P is None else float(coef @ P @ coef)
    ones = np.ones((1, n))
    orig = pd.Series(
        {
            "Dxy": float(weighted_somers_dxy(lp[None], yv, ones)[0]),
            "R2": nagelkerke_r2(lr - pen, ll0, n),
            "Intercept": 0.0,
            "Slope": 1.0,
            "Emax": 0.0,
            "D": (lr - 1) / n,
            "U": -2.0 / n,
            "Q": (lr - 1) / n + 2.0 / n,
            "B": float(np.mean((yv - expit(lp)) ** 2)),
            "g": float(weighted_gini_md(lp[None], ones)[0]),
            "gp": float(weighted_gini_md(expit(lp)[None], ones)[0]),
        }
    )

    # --- refits as rms validate.lrm makes them: lrm.fit(maxit=12, eps=0.025), rank tolerance
    # 1e-12 (predab.resample's tol, passed on to the fitter); failed fits are left out
    # (the log-likelihoods at the final estimates come from lrm_validate_rows' pass below)
    fits = rfit.lrm_fit_batch(Z, yv, plan.train, penalty=P, maxit=12, eps=0.025, tol=1e-12, final_loglik=False,
                              return_lp=True)
    status, column = fits.status.copy(), fits.column.copy()
    kept = np.flatnonzero(fits.ok)
    W = _take_rows(plan.train, kept)
    T = _test_weights(plan, kept)                               # (1, n) when shared (the bootstrap's)
    beta = fits.beta[kept]
    lpb = _take_rows(fits.lp, kept)                             # (b, n) on every original row
    # test: lrm.fit(lp, y, tol=1e-13) on the test patients (recalibration intercept and slope)
    recal = rfit.lrm_recalibration_batch(lpb, yv, T, maxit=12, eps=0.025, tol=1e-13, final_loglik=False)
    bad = recal.status == rfit.SINGULAR                         # rms stops with an error here
    status[kept[bad]] = rfit.TEST_FIT_FAILED
    column[kept[bad]] = -1
    keep = ~bad
    if not keep.all():
        kept, W, beta, lpb = kept[keep], W[keep], beta[keep], lpb[keep]
        T = T if len(T) == 1 else T[keep]
    cal, dev0_cal = recal.beta[keep], recal.loglik0[keep]
    # a test sample with one outcome class has no recalibration (NaN, not counted in n)
    cal[recal.status[keep] == rfit.ONE_CLASS] = np.nan

    # one sort per resample serves every rank-based index (expit and positive rescaling keep the
    # order); the indexes of the training and the test sample come from one compiled pass
    from ._sorted_indexes import lrm_validate_rows

    a, s = cal[:, 0], cal[:, 1]
    ix = lrm_validate_rows(np.ascontiguousarray(lpb), yv, np.ascontiguousarray(W),
                           np.ascontiguousarray(T), np.ascontiguousarray(a), np.ascontiguousarray(s))
    L01 = -2.0 * ix[:, 8]
    dev_cal = -2.0 * ix[:, 10]

    # --- training indexes (the refit on its own sample): lrm.fit's stats
    N = W.sum(axis=1)
    pen_b = 0.0 if P is None else np.einsum("bi,ij,bj->b", beta, P, beta)
    dev, dev0 = -2.0 * (ix[:, 9] - 0.5 * pen_b), fits.loglik0[kept]
    lrb = dev0 - dev                                            # penalised LR of the refit
    Db = (lrb - 1) / N
    train = pd.DataFrame(
        {
            "Dxy": ix[:, 0],
            "R2": nagelkerke_r2(lrb, -dev0 / 2.0, N),
            "Intercept": 0.0,
            "Slope": 1.0,
            "Emax": 0.0,
            "D": Db,
            "U": -2.0 / N,
            "Q": Db + 2.0 / N,
            "B": ix[:, 6] / N,
            "g": ix[:, 2],
            "gp": ix[:, 4],
        }
    )

    # --- test indexes: the refit's linear predictor on the test patients, recalibrated
    NT = np.broadcast_to(T.sum(axis=1), (len(kept),))
    lrt = dev0_cal - dev_cal
    lrt[np.isnan(cal[:, 0])] = np.nan
    Dt = (lrt - 1) / NT
    Ut = (L01 - dev_cal - 2) / NT
    # Gini's mean difference is scale-equivariant: GMD(s x) = |s| GMD(x)
    test = pd.DataFrame(
        {
            "Dxy": ix[:, 1],
            "R2": nagelkerke_r2(lrt, -dev0_cal / 2.0, NT),
            "Intercept": a,
            "Slope": s,
            "Emax": [emax_from_calibration(ai, si) if np.isfinite(ai + si) else np.nan for ai, si in zip(a, s)],
            "D": Dt,
            "U": Ut,
            "Q": Dt - Ut,
            "B": ix[:, 7] / NT,
            "g": np.abs(s) * ix[:, 3],
            "gp": ix[:, 5],
        }
    )
    return orig, train, test, status, column


def strata_codes(model, X: pd.DataFrame, caller: str):
    """Each row's stratum as an index into ``model.strata_levels_`` (None for an unstratified model)."""
    if not model.is_stratified:
        return None
    index = {lab: k for k, lab in enumerate(model.strata_levels_)}
    return np.array([index[lab] for lab in model.stratum_of(X, caller)], dtype=int)


def _cox_refits(model, X, time, event, plan, *, rule: str, min_events: int = 0, caller: str = "validate"):
    """Refit a Cox model on every resample as rms's fitter does (:mod:`nomogram._refit`).

    ``rule``: ``"coxphFit"`` (``validate.cph``) or ``"cph"`` (``calibrate.cph``,
    which also skips training samples with fewer than ``min_events`` events,
    and ``validate.cph`` of a stratified model). A stratified model is refitted
    with its strata (the risk sets and ties of each stratum); a training sample
    without a patient of some stratum is not fitted (:data:`nomogram._refit.STRATUM_ABSENT`).

    Returns
    -------
    rs : CoxRiskSetsBatch
        With the model's strata.
    Xs : ndarray (n, p)
        The centred design in ``rs`` order.
    fits : nomogram._refit.Refits
        ``loglik``/``loglik0`` unpenalised.
    """
    Xd = model.design_matrix(X)
    n, p = Xd.shape
    rs = rsm.CoxRiskSetsBatch(time, event, strata_codes(model, X, caller))
    Xs = (Xd - model.means_.to_numpy())[rs.order]
    Wtr = plan.train[:, rs.order]
    B = Wtr.shape[0]
    P = _embed_penalty(model, p, False)
    status = np.full(B, rfit.OK)
    status[plan.train @ event < min_events] = rfit.FEW_EVENTS
    if rs.stratified:
        lo, hi = rs._bounds
        present = np.add.reduceat(Wtr, lo, axis=1) > 0            # (B, strata)
        status[(status == rfit.OK) & ~present.all(axis=1)] = rfit.STRATUM_ABSENT
    fit_rows = np.flatnonzero(status == rfit.OK)

    def terms(beta, rows):
        rows = fit_rows[rows]
        ll, g, H = rsm.cox_loglik_terms(rs, Xs, Wtr, beta, model.ties, rows=rows)
        if P is not None:
            ll = ll - 0.5 * np.einsum("bi,ij,bj->b", beta, P, beta)
            g = g - beta @ P
            H = H + P
        return ll, g, H

    chunk = max(1, rsm._CHUNK_ELEMENTS // max(1, n))          # (chunk, n) arrays per pass
    part = rfit.coxph_fit_batch(terms, len(fit_rows), p, scale=rfit.coxph_scale(Xd[rs.order], Wtr[fit_rows]),
                                rule=rule, maxit=10, eps=1e-4, toler=1e-9, chunk=chunk)
    fits = rfit.Refits(np.zeros((B, p)), np.full(B, np.nan), np.full(B, np.nan),
                       status, np.full(B, -1), np.zeros(B, dtype=np.int64))
    for name in ("beta", "loglik", "loglik0", "status", "column", "n_iter"):
        getattr(fits, name)[fit_rows] = getattr(part, name)
    if P is not None:
        fits.loglik[fit_rows] += 0.5 * np.einsum("bi,ij,bj->b", part.beta, P, part.beta)
    return rs, Xs, fits


def stratified_survival_at(rs, lp_raw, W, u, ties, *, past_tol):
    """Each sample's survival at ``u`` of every patient in its stratum, rms ``survest(fit, linear.predictors=)``.

    ``lp_raw`` (B, n): the linear predictors ``X beta`` of each fit (not
    centred; rows in ``rs`` order), ``W`` (B, n) the fit's training weights.
    Returns ``S`` (B, n) with ``S[b, i] = S_k(u) ** exp(lp_raw[b, i])``, ``S_k`` the
    stratum curve of fit ``b`` at its mean linear predictor
    (:func:`nomogram._resample.cox_baseline_survival_at`), NaN past the stratum's follow-up.
    """
    surv, _ = rsm.cox_baseline_survival_at(rs, lp_raw, W, u, ties, past_tol=past_tol)
    with np.errstate(over="ignore"):
        return surv[:, rs.strata] ** np.exp(lp_raw)


def survival_dxy(S, rs, W):
    """rms ``dxy.cens(S, y, type="time")`` of each row of ``S`` (B, n): rows with NaN survival left out."""
    ok = np.isfinite(S)
    return rsm.weighted_cox_dxy(np.where(ok, -S, 0.0), rs, np.where(ok, W, 0.0))


def _cox_indexes(model, X, y, plan, horizon=None):
    time, event = check_survival_y(y, index=X.index, caller="validate", event_level=getattr(model, "event_level", None))
    n = len(time)
    coef = model.coef_.to_numpy()
    stratified = model.is_stratified
    # rms validate.cph: coxphFit(iter.max=10) refits; with strata (need.surv) cph(y ~ x + strat(strata))
    rs, Xs, fits = _cox_refits(model, X, time, event, plan, rule="cph" if stratified else "coxphFit")
    # the design as rms multiplies it (not centred): survival is S_k(u) ** exp(X beta)
    Xraw = Xs + model.means_.to_numpy()

    # --- apparent indexes
    lp = Xs @ coef
    ll0, ll = model.loglik_
    ones = np.ones((1, n))
    orig = _cox_fit_indexes(lp[None], ones, rs, np.array([ll0]), np.array([ll]))
    if stratified:
        orig["Dxy"] = survival_dxy(stratified_survival_at(rs, (Xraw @ coef)[None], ones, horizon, model.ties,
                                                          past_tol=0.0), rs, ones)
    orig = pd.Series(orig.iloc[0])

    status, column = fits.status.copy(), fits.column.copy()
    kept = np.flatnonzero(fits.ok)
    W, T = plan.train[kept][:, rs.order], plan.test[kept][:, rs.order]
    lpb = fits.beta[kept] @ Xs.T
    # --- test: slope of the refit's linear predictor on the test patients (coxphFit(iter.max=10,
    # eps=1e-4), with the strata; rms stops with an error when it fails, here the resample is left out)
    slope, l0, ls, l1, n_iter = rsm.cox_slope_batch(rs, lpb, T, ties=model.ties, max_iter=10, eps=1e-4,
                                                   full=True)
    bad = n_iter >= 10
    status[kept[bad]] = rfit.TEST_FIT_FAILED
    keep = ~bad
    kept, W, T, lpb = kept[keep], W[keep], T[keep], lpb[keep]
    slope, l0, ls, l1 = slope[keep], l0[keep], ls[keep], l1[keep]
    from ._pair_counts import dense_ranks

    # one sort of the refits' linear predictors serves their Dxy and g on both samples
    order = np.argsort(lpb, axis=1)
    ranks = dense_ranks(lpb, order)
    train = _cox_fit_indexes(lpb, W, rs, fits.loglik0[kept], fits.loglik[kept], order=order, ranks=ranks)
    if stratified:
        S = stratified_survival_at(rs, fits.beta[kept] @ Xraw.T, W, horizon, model.ties, past_tol=0.0)
        train["Dxy"] = survival_dxy(S, rs, W) if len(kept) else np.zeros(0)
        test_dxy = survival_dxy(S, rs, T) if len(kept) else np.zeros(0)
    else:
        test_dxy = rsm.weighted_cox_dxy(lpb, rs, T, ranks=ranks) if len(kept) else np.zeros(0)

    NT = T.sum(axis=1)
    lr = 2.0 * (ls - l0)
    L0 = -2.0 * l0
    Dt = (lr - 1) / L0
    Ut = -2.0 * (l1 - ls) / L0
    test = pd.DataFrame(
        {
            "Dxy": test_dxy,
            "R2": (1 - np.exp(-lr / NT)) / (1 - np.exp(-L0 / NT)),
            "Slope": slope,
            "D": Dt,
            "U": Ut,
            "Q": Dt - Ut,
            # slope x lpb sorts as lpb, reversed where the slope is negative
            "g": weighted_gini_md(slope[:, None] * lpb, T, order=np.where(slope[:, None] < 0, order[:, ::-1], order)),
        }
    )
    return orig, train, test, status, column


def _cox_fit_indexes(lp, W, rs, ll0, ll, *, order=None, ranks=None) -> pd.DataFrame:
    """rms ``validate.cph`` indexes of a fit evaluated on its own sample (evalfit=TRUE).

    ``order``, ``ranks``: ``argsort`` and dense ranks of each row of ``lp``, when known.
    """
    N = W.sum(axis=1)
    lr = 2.0 * (ll - ll0)
    L0 = -2.0 * ll0
    D = (lr - 1) / L0
    U = -2.0 / L0
    return pd.DataFrame(
        {
            "Dxy": rsm.weighted_cox_dxy(lp, rs, W, ranks=ranks) if len(N) else np.zeros(0),
            "R2": (1 - np.exp(-lr / N)) / (1 - np.exp(-L0 / N)),
            "Slope": np.ones(len(N)),
            "D": D,
            "U": U,
            "Q": D - U,
            "g": weighted_gini_md(lp, W, order=order),
        }
    )


def dual_sd(x: np.ndarray, nmin: int = 10) -> tuple[float, float]:
    """Hmisc ``dualSD``: SDs of the values below and above the mean (bottom, top).

    Each uses the overall mean and divides by (count - 1) of its half; with
    fewer than ``nmin`` values both are the ordinary SD.
    """
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if len(x) < nmin:
        s = float(np.std(x, ddof=1)) if len(x) > 1 else float("nan")
        return s, s
    m = x.mean()
    lo, hi = x[x <= m], x[x >= m]
    bottom = np.sqrt(np.sum((lo - m) ** 2) / (len(lo) - 1)) if len(lo) > 1 else float("nan")
    top = np.sqrt(np.sum((hi - m) ** 2) / (len(hi) - 1)) if len(hi) > 1 else float("nan")
    return float(bottom), float(top)


def _assemble(orig, train, test, names, method, B, conf_int, w632, kind, failures) -> ValidationResult:
    n_failed = int(failures["n"].sum()) if len(failures) else 0
    tr = train[names].to_numpy(float).reshape(-1, len(names))
    te = test[names].to_numpy(float).reshape(-1, len(names))
    ok = np.isfinite(tr) & np.isfinite(te)
    num = ok.sum(axis=0)
    trz = np.where(ok, tr, 0.0)
    tez = np.where(ok, te, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        training = trz.sum(axis=0) / num
        io = orig[names].to_numpy(float)
        if method == ".632":
            testm = (tez * np.asarray(w632)[:, None]).sum(axis=0)
            optimism = 0.632 * (io - testm)
        else:
            testm = tez.sum(axis=0) / num
            optimism = training - testm
    corrected = io - optimism
    table = pd.DataFrame(
        {"index.orig": io, "training": training, "test": testm, "optimism": optimism,
         "index.corrected": corrected, "n": num.astype(float)},
        index=names,
    )
    if kind == "logistic":
        # rms 6.5: Emax from the corrected calibration intercept and slope
        emax = emax_from_calibration(table.loc["Intercept", "index.corrected"],
                                     table.loc["Slope", "index.corrected"])
        table.loc["Emax"] = [0.0, 0.0, emax, emax, emax, table.loc["Dxy", "n"]]
    table.index.name = None
    lower = np.full(len(names), np.nan)
    upper = np.full(len(names), np.nan)
    if conf_int > 0:
        z = stats.norm.ppf((conf_int + 1) / 2)
        d = tr - 1.25 * te
        for j in range(len(names)):
            bottom, top = dual_sd(d[:, j])
            lower[j] = corrected[j] - z * top
            upper[j] = corrected[j] + z * bottom
        if kind == "logistic":
            j = names.index("Emax")
            lower[j] = table.loc["Emax", "index.corrected"] - z * dual_sd(d[:, j])[1]
            upper[j] = table.loc["Emax", "index.corrected"] + z * dual_sd(d[:, j])[0]
    cl = pd.DataFrame({"Lower": lower, "Upper": upper}, index=names)
    return ValidationResult(
        table=table,
        confidence_limits=cl,
        method=method,
        n_boot=B,
        n_failed=n_failed,
        conf_level=conf_int,
        training_indexes=train[names].reset_index(drop=True),
        test_indexes=test[names].reset_index(drop=True),
        failures=failures,
    )
