"""Maximum-likelihood binary logistic regression on a design matrix (rms ``lrm.fit``).

This module works on numbers only: a design matrix without the intercept
column, a 0/1 outcome, and an optional penalty matrix. Model formulas, names
and splines live in :mod:`nomogram._design`; the user-facing estimator is
:class:`nomogram.LogisticNomogram`.

The fit maximises the (penalised) log-likelihood

.. math::

    \\ell_P(\\alpha, \\beta) = \\sum_i w_i [y_i \\eta_i - \\log(1 + e^{\\eta_i})]
        - \\tfrac12 \\beta^\\top P \\beta,
    \\qquad \\eta_i = \\alpha + x_i^\\top \\beta + o_i,

by Newton–Raphson with step halving, exactly the criterion ``rms::lrm`` uses
(the intercept is never penalised). The covariance is the inverse of the
penalised information matrix (rms ``var.penalty="simple"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log1p

from .exceptions import ConvergenceError, SeparationError

__all__ = ["LogisticFit", "fit_logistic", "logistic_loglik"]


@dataclass(frozen=True)
class LogisticFit:
    """Result of :func:`fit_logistic`.

    Attributes
    ----------
    coef : ndarray of shape (p + 1,)
        Intercept first, then one coefficient per design column.
    cov : ndarray of shape (p + 1, p + 1)
        Inverse of the (penalised) information matrix.
    loglik_null : float
        Log-likelihood of the intercept-only model.
    loglik : float
        Unpenalised log-likelihood at the solution.
    penalized_loglik : float
        Log-likelihood minus the penalty at the solution.
    n_iter : int
        Newton iterations used.
    linear_predictor : ndarray of shape (n,)
        ``alpha + X @ beta`` (offset excluded).
    information : ndarray of shape (p + 1, p + 1)
        Penalised information matrix at the solution.
    """

    coef: np.ndarray
    cov: np.ndarray
    loglik_null: float
    loglik: float
    penalized_loglik: float
    n_iter: int
    linear_predictor: np.ndarray
    information: np.ndarray


def logistic_loglik(eta: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Binary log-likelihood ``sum w [y eta - log(1 + exp(eta))]`` computed stably."""
    # log(1 + e^eta) = max(eta, 0) + log1p(e^-|eta|)
    ll = y * eta - (np.maximum(eta, 0.0) + log1p(np.exp(-np.abs(eta))))
    if weights is not None:
        ll = ll * weights
    return float(ll.sum())


def fit_logistic(
    X: np.ndarray,
    y: np.ndarray,
    *,
    penalty_matrix: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    init: np.ndarray | None = None,
    tol: float = 1e-11,
    max_iter: int = 50,
    names: list[str] | None = None,
    rms_dlike: float | None = None,
) -> LogisticFit:
    """Fit a logistic regression by Newton–Raphson.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Design matrix without an intercept column (``p`` may be 0).
    y : ndarray of shape (n,)
        Outcome coded 0/1.
    penalty_matrix : ndarray of shape (p, p), optional
        Quadratic penalty ``P`` on the non-intercept coefficients.
    weights : ndarray of shape (n,), optional
        Case weights (frequency weights).
    offset : ndarray of shape (n,), optional
        Known offset added to the linear predictor.
    init : ndarray of shape (p + 1,), optional
        Starting values; default intercept = logit(mean y), slopes 0.
    tol : float, default 1e-11
        Convergence when the relative change in the penalised log-likelihood is
        below ``tol`` and the largest Newton step is below ``sqrt(tol)``.
    max_iter : int, default 50
    names : list of str, optional
        Column names, used to name the variable in a separation error.
    rms_dlike : float, optional
        If given, iterate and stop exactly as rms 6.5 ``lrm.fit`` does (its
        Fortran ``lrmfit``): Newton steps with step halving, stopping when
        -2 log L changes by at most ``rms_dlike`` (rms: ``eps = 0.025``) between
        two iterates, after taking that last step. The estimates then equal
        ``lrm()``'s to machine precision. Otherwise iterate to ``tol``.

    Returns
    -------
    LogisticFit

    Raises
    ------
    SeparationError
        When the coefficients diverge (complete or quasi-complete separation).
    ConvergenceError
        When Newton–Raphson does not converge in ``max_iter`` iterations.

    References
    ----------
    Harrell FE. rms: Regression Modeling Strategies, ``lrm.fit``.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    Z = np.column_stack([np.ones(n), X])
    P = np.zeros((p + 1, p + 1))
    if penalty_matrix is not None:
        P[1:, 1:] = np.asarray(penalty_matrix, dtype=float)

    ybar = float(np.sum(w * y) / np.sum(w))
    if ybar <= 0 or ybar >= 1:
        raise ValueError("fit_logistic: y has a single outcome value; no model can be fitted.")
    # null model: intercept only (with offset, solve by Newton on one parameter)
    a0 = np.log(ybar / (1 - ybar))
    if offset is not None:
        for _ in range(50):
            mu = expit(a0 + off)
            step = np.sum(w * (y - mu)) / np.sum(w * mu * (1 - mu))
            a0 += step
            if abs(step) < 1e-12:
                break
    loglik_null = logistic_loglik(a0 + off, y, w)

    beta = np.zeros(p + 1)
    beta[0] = a0
    if init is not None:
        beta = np.asarray(init, dtype=float).copy()

    def objective(b):
        eta = Z @ b + off
        return logistic_loglik(eta, y, w) - 0.5 * b @ P @ b, eta

    obj, eta = objective(beta)
    converged = False
    n_iter = 0
    change = float("nan")
    if rms_dlike is not None:
        beta, obj, eta, n_iter, converged, change = _newton_rms(objective, Z, y, w, P, beta, rms_dlike, max_iter)
    else:
        beta, obj, eta, n_iter, converged, change = _newton_tight(objective, Z, y, w, P, beta, obj, eta, tol, max_iter)

    mu = expit(eta)
    v = w * mu * (1 - mu)
    info = (Z * v[:, None]).T @ Z + P
    _check_separation(beta, X, mu, names)
    if not converged:
        raise ConvergenceError(
            f"fit_logistic did not converge in {max_iter} Newton iterations "
            f"(last change in log-likelihood {change:.3g}). Check for collinear or "
            "extreme predictors, or increase max_iter."
        )
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError as err:
        raise ConvergenceError(
            "fit_logistic: the information matrix is singular: two or more design "
            "columns are collinear (e.g. a constant or duplicated predictor)."
        ) from err
    lp = Z @ beta
    return LogisticFit(
        coef=beta,
        cov=cov,
        loglik_null=loglik_null,
        loglik=logistic_loglik(eta, y, w),
        penalized_loglik=obj,
        n_iter=n_iter,
        linear_predictor=lp,
        information=info,
    )


def _gradient_information(Z, y, w, P, beta, eta):
    mu = expit(eta)
    grad = Z.T @ (w * (y - mu)) - P @ beta
    v = w * mu * (1 - mu)
    info = (Z * v[:, None]).T @ Z + P
    return grad, info


def _solve(info, grad):
    try:
        return np.linalg.solve(info, grad)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(info, grad, rcond=None)[0]


def _newton_tight(objective, Z, y, w, P, beta, obj, eta, tol, max_iter):
    """Newton-Raphson with step halving until the log-likelihood stops changing."""
    converged, change, n_iter = False, float("nan"), 0
    for n_iter in range(1, max_iter + 1):
        grad, info = _gradient_information(Z, y, w, P, beta, eta)
        step = _solve(info, grad)
        t = 1.0
        for _ in range(30):
            new_beta = beta + t * step
            new_obj, new_eta = objective(new_beta)
            if new_obj >= obj - 1e-12 * abs(obj) or not np.isfinite(obj):
                break
            t *= 0.5
        change = abs(new_obj - obj)
        beta, obj, eta = new_beta, new_obj, new_eta
        if change <= tol * max(1.0, abs(obj)) and np.max(np.abs(t * step)) <= np.sqrt(tol):
            converged = True
            break
    return beta, obj, eta, n_iter, converged, change


def _newton_rms(objective, Z, y, w, P, beta, dlike, max_iter):
    """The iteration of rms 6.5 ``lrmfit`` (see :func:`fit_logistic`), on -2 log L."""
    old = np.inf
    delta = np.zeros_like(beta)
    step_size = 1.0
    obj, eta = objective(beta)
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter):
        obj, eta = objective(beta)
        dev = -2.0 * obj
        grad, info = _gradient_information(Z, y, w, P, beta, eta)
        if np.max(np.abs(grad)) < 1e-9 and abs(dev - old) < 0.1 * dlike:
            converged = True
            break
        if dev > old or not np.isfinite(dev):
            step_size /= 2.0
            beta = beta - step_size * delta
            continue
        step_size = 1.0
        delta = _solve(info, grad)
        beta = beta + delta
        if abs(old - dev) <= dlike:
            converged = True
            break
        old = dev
    obj, eta = objective(beta)
    return beta, obj, eta, n_iter, converged, abs(old - (-2.0 * obj))


def _check_separation(beta, X, mu, names) -> None:
    """Raise SeparationError when fitted probabilities hit 0/1 with diverging slopes."""
    if X.shape[1] == 0:
        return
    sd = X.std(axis=0)
    scaled = np.abs(beta[1:]) * sd
    extreme = np.mean((mu < 1e-10) | (mu > 1 - 1e-10))
    if scaled.max() > 25 and extreme > 0:
        j = int(np.argmax(scaled))
        label = names[j] if names is not None else f"column {j}"
        raise SeparationError(
            f"Complete or quasi-complete separation: the coefficient of '{label}' diverges "
            f"({beta[j + 1]:.3g}); {extreme:.0%} of fitted risks are 0 or 1. The outcome is "
            f"(almost) perfectly predicted by '{label}'. Drop or merge its categories, "
            "or use a penalty (penalty=...)."
        )
