"""Cox proportional hazards on a design matrix (survival ``coxph.fit`` / rms ``cph``).

Numbers only: design matrix, times, 0/1 events, optional penalty. Names and
splines live in :mod:`nomogram._design`; the estimator is
:class:`nomogram.CoxNomogram`.

Partial likelihood with Efron's handling of ties. For an event time
:math:`t_j` with :math:`d_j` deaths, risk-set sums :math:`S_0 = \\sum_{R_j} w e^{\\eta}`,
death sums :math:`D_0 = \\sum_{D_j} w e^{\\eta}` and mean death weight
:math:`\\bar w_j`,

.. math::

    \\ell = \\sum_j \\Big[\\sum_{i \\in D_j} w_i \\eta_i
        - \\bar w_j \\sum_{l=0}^{d_j - 1} \\log\\big(S_0 - \\tfrac{l}{d_j} D_0\\big)\\Big],

(Breslow: the same with :math:`l = 0` for every death). Gradient and
information use the first and second moments :math:`S_1, S_2, D_1, D_2`
likewise; this is what R's ``survival::coxph`` (``coxfit6``) maximises.
The design is centred at its column means before fitting (as survival does),
which changes nothing but numerical stability.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .checks import check_option
from ._survival import RiskSets
from .exceptions import ConvergenceError, StatisticalWarning

__all__ = ["CoxFit", "fit_cox", "baseline_hazard"]


@dataclass(frozen=True)
class CoxFit:
    """Result of :func:`fit_cox`.

    Attributes
    ----------
    coef : ndarray of shape (p,)
    cov : ndarray of shape (p, p)
        Inverse of the (penalised) information matrix.
    loglik_null, loglik : float
        Partial log-likelihood at beta = 0 and at the solution (unpenalised).
    score_test : float
        Score (log-rank) test statistic at beta = 0.
    n_iter : int
    means : ndarray of shape (p,)
        Column means of the design (``fit$means`` in R); ``center = means @ coef``.
    linear_predictor : ndarray of shape (n,)
        Centred linear predictor ``(X - means) @ coef`` as ``predict(coxph)`` returns.
    """

    coef: np.ndarray
    cov: np.ndarray
    loglik_null: float
    loglik: float
    score_test: float
    n_iter: int
    means: np.ndarray
    linear_predictor: np.ndarray
    ties: str


class _RiskSets:
    """The weighted design in the time order of :class:`nomogram._survival.RiskSets`, with Efron's tie terms.

    The risk-set and death sums are :class:`~nomogram._survival.RiskSets`'s
    (one tie ordering: by time, deaths before censorings).
    """

    def __init__(self, X, time, event, weights, strata=None):
        sets = RiskSets(time, event, strata)
        self.sets = sets
        self.order = sets.order
        self.X = X[sets.order]
        self.time = sets.time
        self.event = sets.event
        self.w = weights[sets.order]
        self.event_times = sets.event_times
        self.death_rows = sets.death_rows
        self.d = sets.n_deaths
        self.wsum_deaths = sets.death_sum(self.w)
        self.meanwt = self.wsum_deaths / self.d

    def tie_terms(self, ties):
        """Yield ``(rows, frac, weight)`` for each term of the tied-death sum.

        Efron: for ``l = 0 .. max(d) - 1``, the event times with more than ``l``
        deaths, ``l / d`` and the mean death weight. Breslow: one term, every
        event time, fraction 0 and the summed death weight.
        """
        if ties == "breslow":
            yield slice(None), np.zeros(len(self.d)), self.wsum_deaths
            return
        for l in range(int(self.d.max()) if len(self.d) else 0):
            m = self.d > l
            yield m, l / self.d[m], self.meanwt[m]

    def moments(self, eta, need_second=True):
        """Risk-set and death-set sums S0, S1, S2, D0, D1, D2 at every event time (``eta`` in time order)."""
        X, w, sets = self.X, self.w, self.sets
        r = w * np.exp(eta)
        rx = r[:, None] * X
        S0, S1 = sets.at_risk_sum(r), sets.at_risk_sum(rx)
        D0, D1 = sets.death_sum(r), sets.death_sum(rx)
        S2 = D2 = None
        if need_second:
            rxx = rx[:, :, None] * X[:, None, :]
            S2, D2 = sets.at_risk_sum(rxx), sets.death_sum(rxx)
        return S0, S1, S2, D0, D1, D2


def _efron_terms(rs: _RiskSets, eta, ties, need_second=True):
    """Log-likelihood, gradient and information of the Cox partial likelihood.

    The information is never formed per event time: with :math:`c_j =
    \\sum_l \\bar w_{jl} / \\mathrm{den}_{jl}` and :math:`e_j = \\sum_l \\bar w_{jl}
    f_{jl} / \\mathrm{den}_{jl}` over the tie terms of event time :math:`j`,
    :math:`\\sum_{j,l} \\bar w (S_2 - f D_2)/\\mathrm{den}` is the weighted Gram
    matrix :math:`\\sum_i r_i (\\sum_{t_j \\le T_i} c_j - \\delta_i e_{j(i)}) x_i x_i'`,
    so memory stays O(n p) (the per-time second moments would be O(n p^2)).
    """
    S0, S1, _, D0, D1, _ = rs.moments(eta, need_second=False)
    dr = rs.death_rows
    ll = float(np.sum(rs.w[dr] * eta[dr]))
    grad = (rs.w[dr][:, None] * rs.X[dr]).sum(axis=0)
    p = rs.X.shape[1]
    J = len(S0)
    c = np.zeros(J)
    e = np.zeros(J)
    outer = np.zeros((p, p))
    for m, frac, mw in rs.tie_terms(ties):
        den = S0[m] - frac * D0[m]
        a = (S1[m] - frac[:, None] * D1[m]) / den[:, None]
        ll -= float(np.sum(mw * np.log(den)))
        grad -= (mw[:, None] * a).sum(axis=0)
        if need_second:
            c[m] += mw / den
            e[m] += mw * frac / den
            outer += (mw[:, None] * a).T @ a
    info = np.zeros((p, p))
    if need_second and J:
        v = rs.sets.cumulative_at_rows(c)
        v[dr] -= e[rs.sets.death_group]
        v *= rs.w * np.exp(eta)
        info = (rs.X.T * v) @ rs.X - outer
    return ll, grad, info


def fit_cox(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    ties: str = "efron",
    penalty_matrix: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    init: np.ndarray | None = None,
    eps: float = 1e-12,
    max_iter: int = 50,
    strata: np.ndarray | None = None,
) -> CoxFit:
    """Fit a Cox proportional hazards model by Newton–Raphson.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Design matrix (no intercept).
    time : ndarray of shape (n,)
        Follow-up times (> 0).
    event : ndarray of shape (n,)
        1 = event, 0 = censored.
    ties : {"efron", "breslow"}, default "efron"
    penalty_matrix : ndarray of shape (p, p), optional
        Quadratic penalty: maximise ``loglik - 0.5 beta' P beta``.
    weights : ndarray of shape (n,), optional
    init : ndarray of shape (p,), optional
    eps : float, default 1e-12
        Convergence when a full Newton step changes the (penalised) partial
        log-likelihood by at most ``eps`` relative (survival's ``coxph.control(eps=)``,
        whose default is 1e-9; rms ``cph`` uses 1e-4). The iterates are those of
        survival's ``coxfit6``, so with the same ``eps`` the estimates are R's.
    max_iter : int, default 50
    strata : ndarray of int of shape (n,), optional
        Stratum of each row (survival ``strata()``, rms ``strat()``): the
        partial likelihood is the sum of the strata's, each with its own risk
        sets and ties (the design is still centred at its overall means).

    Returns
    -------
    CoxFit

    References
    ----------
    Therneau TM. survival: ``coxph.fit`` / ``coxfit6``. Efron B (1977) JASA 72:557-565.
    """
    check_option(ties, {"efron", "breslow"}, name="ties", caller="fit_cox")
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n, p = X.shape
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    means = np.average(X, axis=0, weights=w) if p else np.zeros(0)
    Xc = X - means
    rs = _RiskSets(Xc, time, event, w, strata)
    P = np.zeros((p, p)) if penalty_matrix is None else np.asarray(penalty_matrix, float)

    beta = np.zeros(p) if init is None else np.asarray(init, dtype=float).copy()
    ll0, grad0, info0 = _efron_terms(rs, np.zeros(n), ties)
    try:
        score_test = float(grad0 @ np.linalg.solve(info0, grad0)) if p else 0.0
    except np.linalg.LinAlgError:
        score_test = float("nan")

    def objective(b):
        eta = rs.X @ b
        ll, g, inf = _efron_terms(rs, eta, ties)
        return ll - 0.5 * b @ P @ b, ll, g - P @ b, inf + P

    def newton_step(grad, info):
        try:
            return np.linalg.solve(info, grad)
        except np.linalg.LinAlgError as err:
            raise ConvergenceError(
                "fit_cox: the information matrix is singular: design columns are collinear "
                "or a predictor is constant among patients at risk."
            ) from err

    # Newton-Raphson with step halving, stopping as survival's coxfit6 stops:
    # when |1 - loglik_old / loglik_new| <= eps after a full (unhalved) step.
    obj, ll, grad, info = objective(beta)
    converged = p == 0
    n_iter = 0
    if p:
        new_beta = beta + newton_step(grad, info)
        halving = False
        for n_iter in range(1, max_iter + 1):
            new = objective(new_beta)
            if np.isfinite(new[0]) and abs(1 - obj / new[0]) <= eps and not halving:
                beta = new_beta
                obj, ll, grad, info = new
                converged = True
                break
            if not np.isfinite(new[0]) or new[0] < obj:
                halving = True
                new_beta = (new_beta + beta) / 2
            else:
                halving = False
                beta = new_beta
                obj, ll, grad, info = new
                new_beta = beta + newton_step(grad, info)
    if not converged:
        warnings.warn(
            f"fit_cox: Newton-Raphson did not converge in {max_iter} iterations (survival's coxph: 'Ran out "
            "of iterations and did not converge'); the estimates may be unreliable, e.g. a coefficient "
            "diverging under monotone likelihood. Check the SeparationWarning, if any, or raise max_iter.",
            StatisticalWarning, stacklevel=2)
    cov = np.linalg.inv(info) if p else np.zeros((0, 0))
    lp_sorted_back = Xc @ beta
    return CoxFit(
        coef=beta,
        cov=cov,
        loglik_null=ll0,
        loglik=ll,
        score_test=score_test,
        n_iter=n_iter,
        means=means,
        linear_predictor=lp_sorted_back,
        ties=ties,
    )


def baseline_hazard(
    lp: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    ties: str = "efron",
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative baseline hazard at ``lp = 0`` at each distinct event time.

    With ``strata`` one cumulative hazard per stratum (survival
    ``survfit.coxph`` of a stratified fit): the event times are
    :class:`~nomogram._survival.RiskSets`'s (stratum by stratum;
    ``RiskSets(time, event, strata).event_strata`` says which) and the sums
    restart in each stratum.

    The increment at event time :math:`t_j` is
    :math:`\\bar w_j \\sum_{l=0}^{d_j-1} 1 / (S_0 - \\tfrac{l}{d_j} D_0)` for Efron
    (survival's ``survfit.coxph`` default after an Efron fit, ``ctype = 2``) and
    :math:`\\sum_{D_j} w / S_0` for Breslow (Nelson–Aalen type, ``ctype = 1``).

    Parameters
    ----------
    lp : ndarray of shape (n,)
        Linear predictor of the fitted model, centred as the survival curve should be.
    time, event : ndarray of shape (n,)
    ties : {"efron", "breslow"}

    Returns
    -------
    times : ndarray of shape (J,)
        Distinct event times.
    cumhaz : ndarray of shape (J,)
        Cumulative hazard at those times for a patient with ``lp = 0``.
    """
    check_option(ties, {"efron", "breslow"}, name="ties", caller="baseline_hazard")
    n = len(time)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    rs = _RiskSets(np.zeros((n, 0)), np.asarray(time, float), np.asarray(event, float), w, strata)
    S0, _, _, D0, _, _ = rs.moments(np.asarray(lp, float)[rs.order], need_second=False)
    inc = np.zeros(len(S0))
    for m, frac, mw in rs.tie_terms(ties):
        inc[m] += mw / (S0[m] - frac * D0[m])
    return rs.event_times, rs.sets.cumsum_by_stratum(inc)


def baseline_hazard_variance(
    X_centered: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    coef: np.ndarray,
    *,
    ties: str = "efron",
    strata: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Variance pieces of the baseline cumulative hazard at each distinct event time.

    With ``strata``, per stratum as :func:`baseline_hazard`.

    With risk-set sums ``N = S_0``, ``E = D_0`` and covariate sums ``S_1``,
    ``D_1`` of the centred design (as survival's ``agsurv`` with ``ctype = 2``
    after an Efron fit; Breslow: ``l = 0`` only),

    .. math::

        dV = \\sum_{l=0}^{d-1} (N - \\tfrac{l}{d} E)^{-2}, \\qquad
        dA = \\sum_{l=0}^{d-1} (S_1 - \\tfrac{l}{d} D_1) (N - \\tfrac{l}{d} E)^{-2},

    cumulated over event times. For a centred covariate vector ``x`` with
    ``rho = exp(x'beta)``, the standard error of the cumulative hazard
    ``rho * H0(t)`` is ``rho * sqrt(V0(t) + q' V q)`` with ``q = H0(t) x - A(t)``
    (rms ``survest``; survival ``survfit.coxph``).

    Returns
    -------
    V0 : ndarray of shape (J,)
    A : ndarray of shape (J, p)
    """
    check_option(ties, {"efron", "breslow"}, name="ties", caller="baseline_hazard_variance")
    X = np.asarray(X_centered, dtype=float)
    n = len(time)
    rs = _RiskSets(X, np.asarray(time, float), np.asarray(event, float), np.ones(n), strata)
    S0, S1, _, D0, D1, _ = rs.moments(rs.X @ np.asarray(coef, float), need_second=False)
    J, p = S1.shape
    dV = np.zeros(J)
    dA = np.zeros((J, p))
    for m, frac, mw in rs.tie_terms(ties):
        den = S0[m] - frac * D0[m]
        dV[m] += mw / den**2
        dA[m] += mw[:, None] * (S1[m] - frac[:, None] * D1[m]) / den[:, None] ** 2
    return rs.sets.cumsum_by_stratum(dV), rs.sets.cumsum_by_stratum(dA.T).T
