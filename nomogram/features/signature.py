"""A signature ("rad-score", "path-score"): feature filtering and a LASSO model.

A signature is the linear predictor of a penalised regression on a handful of
features (radiomics, pooled slide features, deep features), fitted on the
training split only and then applied, unchanged, to the test and external sets
(Huang et al. 2016; Lambin et al. 2017). :class:`Signature` does every step of
the usual recipe inside one scikit-learn estimator so that nothing from the
test data leaks into it. It is modality-free; :class:`imaging.ImagingSignature`
(the rad-score) and ``pathology.PathologySignature`` (the path-score) are the
same estimator under their modality's name. The steps:

1. optional ICC filter (features reproducible between readers, from a
   precomputed table, see :func:`nomogram.features.feature_icc`);
2. variance filter (constant features out);
3. z-scoring with the training means and standard deviations;
4. Spearman redundancy filter (of a pair with ``|rho|`` above the threshold,
   the feature with the stronger univariate association is kept);
5. univariate screen (Mann–Whitney U or Welch t-test for a binary outcome,
   univariate Cox Wald test for survival);
6. mRMR (minimum redundancy, maximum relevance) to the top ``k``;
7. LASSO (logistic or Cox) with ``lambda`` chosen by K-fold cross-validated
   deviance and the one-standard-error rule;
8. a cap on the number of selected features (one per 10 training patients,
   or per 10 events for survival, by default).

The LASSO is fitted by cyclic coordinate descent on the penalised
quadratic approximation of the log-likelihood (glmnet's algorithm: Friedman,
Hastie & Tibshirani 2010 for the logistic model, Simon et al. 2011 for Cox with
Breslow ties), implemented here so that zeros are exact and the penalty is the
glmnet ``lambda``: the objective is ``-loglik / n + lambda * sum |beta_j|`` on
z-scored features, the intercept unpenalised. scikit-learn's C for the same
model is ``1 / (n * lambda)``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import StratifiedKFold

from ..checks import (
    check_binary_y,
    check_columns,
    check_dataframe,
    check_is_fitted,
    check_option,
    check_survival_y,
)
from ..exceptions import ConvergenceError, StatisticalWarning

from ..model_io import ModelFileMixin, ModelReader
from .._survival import RiskSets

__all__ = ["Signature", "lasso_logistic_path", "lasso_cox_path"]


# --------------------------------------------------------------------------- LASSO
def _soft(x, t):
    return np.sign(x) * max(abs(x) - t, 0.0)


def _wls_cd(X, z, w, beta, b0, lam, *, intercept, tol, max_iter):
    """Coordinate descent for (1/2n) sum w (z - b0 - X beta)^2 + lam |beta|_1.

    Works on the weighted Gram matrix (p is small after the filters) with
    glmnet's active-set cycling: full sweeps alternate with sweeps over the
    non-zero coefficients until neither changes by more than ``tol``
    (weighted squared change, as glmnet's ``thresh``).
    """
    n, p = X.shape
    if intercept:
        sw = w.sum()
        xm = (w @ X) / sw
        zm = (w @ z) / sw
        Xc, zc = X - xm, z - zm
    else:
        Xc, zc = X, z
    WX = Xc * w[:, None]
    G = (Xc.T @ WX) / n
    c = (WX.T @ zc) / n
    r = (c - G @ beta).tolist()
    Gl = G.tolist()
    d = np.diag(G).tolist()
    b = beta.tolist()

    def sweep(idx):
        max_change = 0.0
        for j in idx:
            dj = d[j]
            if dj <= 0:
                continue
            old = b[j]
            g = r[j] + dj * old
            if g > lam:
                new = (g - lam) / dj
            elif g < -lam:
                new = (g + lam) / dj
            else:
                new = 0.0
            if new != old:
                delta = new - old
                b[j] = new
                Gj = Gl[j]
                for k in range(p):
                    r[k] -= Gj[k] * delta
                ch = dj * delta * delta
                if ch > max_change:
                    max_change = ch
        return max_change

    full = range(p)
    Gn = G
    cn = c
    for _ in range(max_iter):
        # a few cyclic sweeps find the active set and the signs ...
        ch = 0.0
        for _k in range(5):
            ch = sweep(full)
            if ch < tol:
                break
        # ... then the exact solution on that active set, accepted if it keeps
        # the signs and satisfies the KKT conditions of the inactive features.
        A = [j for j in full if b[j] != 0.0]
        if not A:
            if ch < tol:
                break
            continue
        sgn = np.sign([b[j] for j in A])
        try:
            sol = np.linalg.solve(Gn[np.ix_(A, A)], cn[A] - lam * sgn)
        except np.linalg.LinAlgError:
            if ch < tol:
                break
            continue
        if np.all(np.sign(sol) == sgn):
            bb = np.zeros(p)
            bb[A] = sol
            grad = cn - Gn @ bb
            inactive = np.setdiff1d(np.arange(p), A)
            if inactive.size == 0 or np.all(np.abs(grad[inactive]) <= lam * (1 + 1e-10)):
                b = bb.tolist()
                break
            b = bb.tolist()
            r = grad.tolist()
        elif ch < tol:
            break
    beta = np.array(b)
    if intercept:
        b0 = float(zm - xm @ beta)
    return beta, b0


def _logistic_fit(X, y, lam, beta=None, b0=None, *, tol=1e-12, max_iter=200):
    """glmnet-style IRLS + coordinate descent for the L1 logistic model."""
    n, p = X.shape
    beta = np.zeros(p) if beta is None else beta.copy()
    if b0 is None:
        ybar = y.mean()
        b0 = math.log(ybar / (1 - ybar))
    dev_old = np.inf
    for _ in range(max_iter):
        eta = b0 + X @ beta
        mu = 1.0 / (1.0 + np.exp(-eta))
        w = np.clip(mu * (1 - mu), 1e-5, None)
        z = eta + (y - mu) / w
        beta_old, b0_old = beta.copy(), b0
        beta, b0 = _wls_cd(X, z, w, beta, b0, lam, intercept=True, tol=tol, max_iter=10000)
        dev = _binomial_deviance(y, b0 + X @ beta) / n + 2 * lam * np.abs(beta).sum()
        if np.max(np.abs(beta - beta_old)) < 1e-10 and abs(b0 - b0_old) < 1e-10:
            break
        if abs(dev - dev_old) < 1e-14 * max(1.0, abs(dev)):
            break
        dev_old = dev
    else:
        raise ConvergenceError(f"LASSO logistic did not converge at lambda={lam:.4g}.")
    return beta, b0


def _binomial_deviance(y, eta):
    # -2 loglik, computed stably: log(1 + e^eta) - y*eta
    return 2.0 * float(np.sum(np.logaddexp(0.0, eta) - y * eta))


def _cox_prep(time, event):
    """Time order and risk sets of the partial likelihood (:class:`nomogram._survival.RiskSets`)."""
    return RiskSets(time, event)


def _cox_loglik(eta, event, rs):
    """Breslow partial log-likelihood (``event`` is read from ``rs``, in its time order)."""
    e = eta[rs.order]
    m = e.max()
    S = rs.at_risk_sum(np.exp(e - m))  # risk-set sum at each event time
    return float(np.sum(rs.event * e) - np.sum(rs.n_deaths * (np.log(S) + m)))


def _cox_grad_hess(eta, event, rs):
    """Gradient and diagonal Hessian of the log partial likelihood wrt eta (Breslow)."""
    order = rs.order
    e = eta[order]
    m = e.max()
    ex = np.exp(e - m)
    S = rs.at_risk_sum(ex)
    A = rs.cumulative_at_rows(rs.n_deaths / S)  # sum_{t_k <= t_i} d_k / S_k for each row
    B = rs.cumulative_at_rows(rs.n_deaths / S**2)
    grad_s = rs.event - ex * A
    hess_s = ex * A - ex**2 * B
    grad = np.empty_like(grad_s)
    hess = np.empty_like(hess_s)
    grad[order] = grad_s
    hess[order] = hess_s
    return grad, hess


def _cox_fit(X, time, event, lam, beta=None, *, prep=None, tol=1e-12, max_iter=200):
    """Coordinate descent on the quadratic approximation of the Cox partial likelihood."""
    n, p = X.shape
    prep = _cox_prep(time, event) if prep is None else prep
    beta = np.zeros(p) if beta is None else beta.copy()
    obj_old = np.inf
    for _ in range(max_iter):
        eta = X @ beta
        grad, hess = _cox_grad_hess(eta, event, prep)
        w = np.clip(hess, 1e-10, None)
        z = eta + grad / w
        beta_old = beta.copy()
        beta, _ = _wls_cd(X, z, w, beta, 0.0, lam, intercept=False, tol=tol, max_iter=10000)
        obj = -_cox_loglik(X @ beta, event, prep) / n + lam * np.abs(beta).sum()
        if obj > obj_old + 1e-12:  # step halving, as glmnet does on divergence
            for _h in range(30):
                beta = 0.5 * (beta + beta_old)
                obj = -_cox_loglik(X @ beta, event, prep) / n + lam * np.abs(beta).sum()
                if obj <= obj_old:
                    break
        if np.max(np.abs(beta - beta_old)) < 1e-10 or abs(obj - obj_old) < 1e-14 * max(1.0, abs(obj)):
            break
        obj_old = obj
    else:
        raise ConvergenceError(f"LASSO Cox did not converge at lambda={lam:.4g}.")
    return beta


def _lambda_grid(lam_max, n_lambdas, ratio):
    return lam_max * np.logspace(0, math.log10(ratio), n_lambdas)


def lasso_logistic_path(X, y, lambdas):
    """L1-penalised logistic regression along a decreasing ``lambda`` path.

    Minimises ``-loglik(b0, beta) / n + lambda * sum_j |beta_j|`` (intercept
    unpenalised) by IRLS with coordinate descent and warm starts, as
    ``glmnet(family = "binomial", standardize = FALSE)``.

    Parameters
    ----------
    X : ndarray (n, p)
    y : ndarray (n,) of 0/1
    lambdas : sequence of float, decreasing

    Returns
    -------
    intercepts : ndarray (n_lambdas,)
    coefs : ndarray (n_lambdas, p)

    References
    ----------
    Friedman J, Hastie T, Tibshirani R. Regularization paths for generalized
    linear models via coordinate descent. J Stat Softw 2010;33(1).
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    beta, b0 = None, None
    B0, B = [], []
    for lam in lambdas:
        beta, b0 = _logistic_fit(X, y, lam, beta, b0)
        B0.append(b0)
        B.append(beta.copy())
    return np.array(B0), np.array(B)


def lasso_cox_path(X, time, event, lambdas):
    """L1-penalised Cox regression (Breslow ties) along a decreasing ``lambda`` path.

    Minimises ``-logPL(beta) / n + lambda * sum_j |beta_j|``, as
    ``glmnet(family = "cox", standardize = FALSE)`` (Simon et al. 2011).

    Returns
    -------
    coefs : ndarray (n_lambdas, p)

    References
    ----------
    Simon N, Friedman J, Hastie T, Tibshirani R. Regularization paths for
    Cox's proportional hazards model via coordinate descent. J Stat Softw 2011;39(5).
    """
    X = np.asarray(X, float)
    time = np.asarray(time, float)
    event = np.asarray(event, float)
    prep = _cox_prep(time, event)
    beta = None
    B = []
    for lam in lambdas:
        beta = _cox_fit(X, time, event, lam, beta, prep=prep)
        B.append(beta.copy())
    return np.array(B)


# ---------------------------------------------------------------- univariate
def _univariate(Z, y, outcome, test):
    """p-value and association strength of each column of Z (z-scored)."""
    p = Z.shape[1]
    pval = np.empty(p)
    strength = np.empty(p)
    relevance = np.empty(p)
    if outcome == "binary":
        pos, neg = y == 1, y == 0
        for j in range(p):
            a, b = Z[pos, j], Z[neg, j]
            if test == "ttest":
                t, pv = stats.ttest_ind(a, b, equal_var=False)
                strength[j] = abs(t)
            else:
                u, pv = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
                strength[j] = abs(u / (len(a) * len(b)) - 0.5)  # |AUC - 0.5|
            pval[j] = pv
        f, _ = _f_classif(Z, y)
        relevance[:] = f
    else:
        time, event = y
        prep = _cox_prep(time, event)
        for j in range(p):
            zj, pv = _cox_univariate(Z[:, j], time, event, prep)
            strength[j] = abs(zj)
            pval[j] = pv
            relevance[j] = zj**2
    return pval, strength, relevance


def _f_classif(Z, y):
    """One-way ANOVA F of each column between the two classes."""
    n = len(y)
    groups = [Z[y == 0], Z[y == 1]]
    grand = Z.mean(axis=0)
    ssb = sum(len(g) * (g.mean(axis=0) - grand) ** 2 for g in groups)
    ssw = sum(((g - g.mean(axis=0)) ** 2).sum(axis=0) for g in groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = ssb / (ssw / (n - 2))
    return f, None


def _cox_univariate(x, time, event, prep):
    """Wald z of a one-covariate Cox model (Newton-Raphson, Breslow)."""
    b = 0.0
    for _ in range(50):
        g, h = _cox_score_info(b, x, event, prep)
        if h <= 0:
            break
        step = g / h
        b += step
        if abs(step) < 1e-10:
            break
    _, h = _cox_score_info(b, x, event, prep)
    se = 1 / math.sqrt(h) if h > 0 else np.inf
    zv = b / se
    return zv, 2 * stats.norm.sf(abs(zv))


def _cox_score_info(b, x, event, rs):
    xs = x[rs.order]
    e = b * xs
    ex = np.exp(e - e.max())
    s0 = rs.at_risk_sum(ex)
    s1 = rs.at_risk_sum(ex * xs)
    s2 = rs.at_risk_sum(ex * xs**2)
    ev = rs.event
    d = rs.n_deaths
    score = float(np.sum(ev * xs) - np.sum(d * s1 / s0))
    info = float(np.sum(d * (s2 / s0 - (s1 / s0) ** 2)))
    return score, info


# ---------------------------------------------------------------- estimator
class Signature(ModelFileMixin, TransformerMixin, BaseEstimator):
    """A signature score: filters, mRMR and a cross-validated LASSO, fitted on training data.

    Parameters
    ----------
    outcome : {'binary', 'survival'}, default 'binary'
        'binary': y is 0/1 (LASSO logistic; the score is the log-odds).
        'survival': y is a DataFrame [time, event] (LASSO Cox; the score is
        the linear predictor, centred at 0 on the training data).
    icc_table : pandas.Series or DataFrame or None, default None
        Precomputed ICC per feature (index = feature names; a DataFrame such as
        ``feature_icc(...).table`` is read in column ``icc_kind``). Features
        below ``icc_threshold`` are dropped first. Every feature of X must have
        a value.
    icc_kind : str, default 'ICC(3,1)'
    icc_threshold : float, default 0.75
    variance_threshold : float, default 0.0
        Features whose training variance (original scale) is at most this are dropped.
    redundancy_threshold : float or None, default 0.9
        Spearman ``|rho|`` above which two features are redundant; of the two
        the one with the stronger univariate association (larger ``|AUC - 0.5|``,
        ``|t|`` or Cox ``|z|``) is kept. Greedy, strongest first. None skips.
    univariate_test : {'auto', 'mannwhitney', 'ttest', 'cox', None}, default 'auto'
        Screen: 'auto' is Mann-Whitney U for a binary outcome and the Cox
        Wald test for survival; for survival only 'cox' (or None) applies.
    univariate_alpha : float, default 0.05
        Keep features with (unadjusted) p < alpha.
    n_mrmr : int or None, default 20
        mRMR keeps this many (FCQ scheme: F-statistic — or Cox Wald chi-square —
        divided by the mean absolute Pearson correlation with those already
        chosen; Ding & Peng 2005). None skips.
    cv : int, default 10
        Folds for choosing lambda (stratified by outcome for binary, by event
        for survival).
    n_lambdas : int, default 50
    lambda_min_ratio : float, default 1e-3
        The lambda grid runs from ``lambda_max`` (all coefficients zero) down to
        ``lambda_min_ratio * lambda_max``, log-spaced.
    one_se : bool, default True
        Choose the largest lambda whose mean CV deviance is within one standard
        error of the minimum (Breiman et al. 1984; glmnet's ``lambda.1se``);
        False takes the minimum (``lambda.min``).
    max_features : 'auto', int or None, default 'auto'
        Cap on the number of features in the rad-score. 'auto': one per 10
        training patients (binary) or per 10 events (survival). If the chosen
        lambda selects more, the smallest lambda on the path that selects at
        most the cap is used. None: no cap.
    random_state : int or None, default 0
        Seeds the CV folds.
    name : str or None, default None
        Name of the score column of :meth:`transform` and of the formula's
        left-hand side ("rad_score" prints "Rad-score = ..."). None: the
        class's own name (``"signature"`` here, ``"rad_score"`` for
        :class:`imaging.ImagingSignature`, ``"path_score"`` for
        ``pathology.PathologySignature``).

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        Columns of ``X`` at fit.
    n_features_in_ : int
    features_ : list of str
        Features in the score (the columns :meth:`transform` needs).
    coef_ : pandas.Series
        Coefficients on the ORIGINAL feature scale.
    intercept_ : float
        On the original scale.
    coef_standardized_ : pandas.Series
        Coefficients per training-sd of each feature.
    mean_, scale_ : pandas.Series
        Training means and sds (ddof=1) of every feature that passed the variance filter.
    lambda_, lambda_min_, lambda_1se_ : float
    cv_results_ : pandas.DataFrame
        One row per lambda: ``lambda``, ``C`` (scikit-learn's inverse penalty,
        ``1/(n lambda)``), ``mean_deviance``, ``se_deviance``, ``n_nonzero``.
    univariate_ : pandas.DataFrame
        p-value and strength of every feature after the variance filter.

    Notes
    -----
    The score of a patient is

    .. math::

        \\text{score} = \\beta_0 + \\sum_j \\beta_j x_j, \\qquad
        \\beta_j = \\frac{\\tilde\\beta_j}{s_j}, \\quad
        \\beta_0 = \\tilde\\beta_0 - \\sum_j \\tilde\\beta_j \\frac{m_j}{s_j},

    where :math:`\\tilde\\beta` are the LASSO coefficients on features
    z-scored with the training means :math:`m_j` and sds :math:`s_j`.
    The cross-validation chooses only lambda on the features that survived
    the filters (which were computed once on the whole training split): the
    usual radiomics recipe, optimistic for the CV deviance itself, but the
    test split stays untouched.

    References
    ----------
    Tibshirani R. Regression shrinkage and selection via the lasso. JRSS B 1996;58:267-288.
    Friedman J, Hastie T, Tibshirani R. J Stat Softw 2010;33(1) (glmnet, ``cv.glmnet`` 1-SE rule).
    Simon N et al. J Stat Softw 2011;39(5) (Cox LASSO).
    Ding C, Peng H. Minimum redundancy feature selection from microarray gene
    expression data. J Bioinform Comput Biol 2005;3:185-205.
    Huang YQ et al. Development and validation of a radiomics nomogram for
    preoperative prediction of lymph node metastasis in colorectal cancer.
    J Clin Oncol 2016;34:2157-2164.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> d = load_breast_cancer(as_frame=True)
    >>> sig = Signature(n_mrmr=10, cv=5).fit(d.data, 1 - d.target)
    >>> sig.transform(d.data.iloc[:2]).columns.tolist()
    ['signature']
    """

    _model_format = "nomofuse.nomogram.Signature"
    _model_version = 1
    #: Score column when ``name`` is None; subclasses of a modality set their own.
    _default_name = "signature"

    def __init__(self, *, outcome="binary", icc_table=None, icc_kind="ICC(3,1)", icc_threshold=0.75,
                 variance_threshold=0.0, redundancy_threshold=0.9, univariate_test="auto",
                 univariate_alpha=0.05, n_mrmr=20, cv=10, n_lambdas=50, lambda_min_ratio=1e-3,
                 one_se=True, max_features="auto", random_state=0, name=None):
        self.outcome = outcome
        self.icc_table = icc_table
        self.icc_kind = icc_kind
        self.icc_threshold = icc_threshold
        self.variance_threshold = variance_threshold
        self.redundancy_threshold = redundancy_threshold
        self.univariate_test = univariate_test
        self.univariate_alpha = univariate_alpha
        self.n_mrmr = n_mrmr
        self.cv = cv
        self.n_lambdas = n_lambdas
        self.lambda_min_ratio = lambda_min_ratio
        self.one_se = one_se
        self.max_features = max_features
        self.random_state = random_state
        self.name = name

    @property
    def score_name_(self) -> str:
        """The score column of :meth:`transform` (``name`` or the class default)."""
        return self._default_name if self.name is None else str(self.name)

    def _label(self) -> str:
        """Left-hand side of :meth:`formula`: ``rad_score`` -> ``Rad-score``."""
        text = self.score_name_.replace("_", "-")
        return text[:1].upper() + text[1:]

    # ----------------------------------------------------------------- steps
    def _icc_values(self, columns):
        tab = self.icc_table
        if isinstance(tab, pd.DataFrame):
            if self.icc_kind not in tab.columns:
                raise ValueError(
                    f"{type(self).__name__}: icc_table has no column {self.icc_kind!r}; it has "
                    f"{list(tab.columns)[:6]}. Pass icc_kind= one of them."
                )
            tab = tab[self.icc_kind]
        if isinstance(tab, dict):
            tab = pd.Series(tab)
        if not isinstance(tab, pd.Series):
            raise TypeError(
                f"{type(self).__name__}: icc_table must be a Series or DataFrame indexed by feature; "
                f"got {type(tab).__name__}."
            )
        missing = [c for c in columns if c not in tab.index]
        if missing:
            raise ValueError(
                f"{type(self).__name__}: icc_table has no ICC for {len(missing)} feature(s) of X, e.g. "
                f"{missing[:5]}. Compute the ICC for every feature column, or drop those columns."
            )
        return tab.reindex(columns).astype(float)

    def fit(self, X, y):
        """Run every selection step and the LASSO on training data.

        Parameters
        ----------
        X : DataFrame (n_patients, n_features)
            Numeric feature table (e.g. radiomics), training split only.
        y : array-like of 0/1 (binary) or DataFrame [time, event] (survival)

        Returns
        -------
        self
        """
        check_option(self.outcome, ("binary", "survival"), name="outcome", caller=type(self).__name__)
        allowed_tests = ("auto", "mannwhitney", "ttest", None) if self.outcome == "binary" else ("auto", "cox", None)
        check_option(self.univariate_test, allowed_tests, name="univariate_test",
                     caller=f"{type(self).__name__}(outcome={self.outcome!r})")
        X = check_dataframe(X, caller=f"{type(self).__name__}.fit")
        bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if bad:
            raise TypeError(
                f"{type(self).__name__}.fit: column(s) {bad[:5]} are not numeric; pass feature columns only."
            )
        n = len(X)
        if self.outcome == "binary":
            yy = check_binary_y(y, index=X.index, caller=f"{type(self).__name__}.fit")
            n_events = int(min(yy.sum(), n - yy.sum()))
        else:
            time, event = check_survival_y(y, index=X.index, caller=f"{type(self).__name__}.fit")
            yy = (time, event)
            n_events = int(event.sum())
        report = [("input", X.shape[1], "feature columns in X")]
        cols = [str(c) for c in X.columns]
        Xv = X.copy()
        Xv.columns = cols
        self.feature_names_in_ = np.asarray(cols, dtype=object)
        self.n_features_in_ = len(cols)

        if self.icc_table is not None:
            icc = self._icc_values(cols)
            cols = [c for c in cols if icc[c] >= self.icc_threshold]
            report.append(("icc_filter", len(cols), f"{self.icc_kind} >= {self.icc_threshold:g}"))
            if not cols:
                raise ValueError(
                    f"{type(self).__name__}.fit: no feature has {self.icc_kind} >= {self.icc_threshold}; "
                    "lower icc_threshold or check the ICC table."
                )

        var = Xv[cols].var(ddof=1)
        cols = [c for c in cols if var[c] > self.variance_threshold]
        report.append(("variance_filter", len(cols), f"training variance > {self.variance_threshold:g}"))
        if not cols:
            raise ValueError(f"{type(self).__name__}.fit: every feature is constant on the training data.")

        self.mean_ = Xv[cols].mean()
        self.scale_ = Xv[cols].std(ddof=1)
        Z = ((Xv[cols] - self.mean_) / self.scale_).to_numpy()
        test = self.univariate_test if self.univariate_test not in (None, "auto") else \
            ("mannwhitney" if self.outcome == "binary" else "cox")
        pval, strength, relevance = _univariate(Z, yy, self.outcome, test)
        self.univariate_ = pd.DataFrame(
            {"p_value": pval, "strength": strength, "relevance": relevance},
            index=pd.Index(cols, name="feature"),
        )
        keep = np.arange(len(cols))

        if self.redundancy_threshold is not None:
            rho = stats.spearmanr(Z).statistic if len(cols) > 1 else np.ones((1, 1))
            rho = np.atleast_2d(rho)
            order = sorted(keep, key=lambda j: (-strength[j], pval[j], j))
            kept = []
            for j in order:
                if all(abs(rho[j, k]) <= self.redundancy_threshold for k in kept):
                    kept.append(j)
            keep = np.array(sorted(kept))
            report.append(("redundancy_filter", len(keep), f"Spearman |rho| <= {self.redundancy_threshold:g}"))

        if self.univariate_test is not None:
            keep = keep[pval[keep] < self.univariate_alpha]
            name = {"mannwhitney": "Mann-Whitney U", "ttest": "Welch t-test", "cox": "Cox Wald"}[test]
            report.append(("univariate_screen", len(keep), f"{name} p < {self.univariate_alpha:g}"))
            if len(keep) == 0:
                raise ValueError(
                    f"{type(self).__name__}.fit: no feature passed the univariate screen ({name} "
                    f"p < {self.univariate_alpha}). Raise univariate_alpha or set univariate_test=None."
                )

        if self.n_mrmr is not None and len(keep) > self.n_mrmr:
            keep = self._mrmr(Z[:, keep], relevance[keep], keep, int(self.n_mrmr))
            report.append(("mrmr", len(keep), f"top {int(self.n_mrmr)} by mRMR (F / mean |r|)"))
        elif self.n_mrmr is not None:
            report.append(("mrmr", len(keep), f"fewer than {int(self.n_mrmr)} features: all kept"))

        cand = [cols[j] for j in keep]
        Zc = Z[:, keep]
        cap = self._cap(n, n_events)
        self._fit_lasso(Zc, yy, cand, cap, report)
        self.selection_report_ = pd.DataFrame(report, columns=["step", "n_features", "rule"])
        self.n_train_ = n
        self.n_events_ = n_events
        return self

    def _cap(self, n, n_events):
        mf = self.max_features
        if mf is None:
            return None
        if mf == "auto":
            base = n if self.outcome == "binary" else n_events
            return max(1, base // 10)
        if isinstance(mf, (int, np.integer)) and mf >= 1:
            return int(mf)
        raise ValueError(
            f"The 'max_features' parameter of {type(self).__name__} must be 'auto', a positive int or None. "
            f"Got {mf!r} instead."
        )

    @staticmethod
    def _mrmr(Zk, relevance, idx, k):
        """FCQ mRMR: greedy max relevance / mean |Pearson r| with those already chosen."""
        R = np.abs(np.corrcoef(Zk, rowvar=False)) if Zk.shape[1] > 1 else np.ones((1, 1))
        chosen = [int(np.argmax(relevance))]
        while len(chosen) < k:
            red = R[:, chosen].mean(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                score = relevance / np.maximum(red, 1e-12)
            score[chosen] = -np.inf
            chosen.append(int(np.argmax(score)))
        return np.array(sorted(idx[chosen]))

    def _lambda_max(self, Z, yy):
        n = Z.shape[0]
        if self.outcome == "binary":
            return float(np.max(np.abs(Z.T @ (yy - yy.mean()))) / n)
        time, event = yy
        grad, _ = _cox_grad_hess(np.zeros(n), event, _cox_prep(time, event))
        return float(np.max(np.abs(Z.T @ grad)) / n)

    def _path(self, Z, yy, lambdas):
        if self.outcome == "binary":
            return lasso_logistic_path(Z, yy, lambdas)
        time, event = yy
        B = lasso_cox_path(Z, time, event, lambdas)
        return np.zeros(len(lambdas)), B

    def _heldout_deviance(self, Z, yy, b0, beta):
        if self.outcome == "binary":
            return _binomial_deviance(yy, b0 + Z @ beta) / len(yy)
        time, event = yy
        ne = max(event.sum(), 1.0)
        return -2.0 * _cox_loglik(Z @ beta, event, _cox_prep(time, event)) / ne

    def _fit_lasso(self, Z, yy, cand, cap, report):
        n = Z.shape[0]
        lam_max = self._lambda_max(Z, yy)
        lambdas = _lambda_grid(lam_max, int(self.n_lambdas), float(self.lambda_min_ratio))
        strat = yy if self.outcome == "binary" else yy[1]
        counts = np.bincount(np.asarray(strat, dtype=int), minlength=2)
        if int(self.cv) < 2:
            raise ValueError(f"The 'cv' parameter of {type(self).__name__} must be at least 2 (folds of the "
                             f"LASSO's cross-validation). Got {self.cv!r} instead.")
        if counts.min() < int(self.cv):
            what = "patients of each outcome class" if self.outcome == "binary" else "events and non-events"
            raise ValueError(
                f"{type(self).__name__}.fit: cv={self.cv} folds need at least {self.cv} {what}; the training "
                f"data have {counts.min()}. Lower cv (at least 2) or use more training patients."
            )
        splitter = StratifiedKFold(n_splits=int(self.cv), shuffle=True, random_state=self.random_state)
        dev = np.empty((int(self.cv), len(lambdas)))
        for f, (tr, te) in enumerate(splitter.split(Z, strat)):
            ytr = yy[tr] if self.outcome == "binary" else (yy[0][tr], yy[1][tr])
            yte = yy[te] if self.outcome == "binary" else (yy[0][te], yy[1][te])
            B0, B = self._path(Z[tr], ytr, lambdas)
            for i in range(len(lambdas)):
                dev[f, i] = self._heldout_deviance(Z[te], yte, B0[i], B[i])
        mean = dev.mean(axis=0)
        se = dev.std(axis=0, ddof=1) / math.sqrt(dev.shape[0])
        i_min = int(np.argmin(mean))
        within = np.flatnonzero(mean <= mean[i_min] + se[i_min])
        i_1se = int(within.min())  # lambdas decrease: smallest index = largest lambda
        B0, B = self._path(Z, yy, lambdas)
        nnz = (B != 0).sum(axis=1)
        self.cv_results_ = pd.DataFrame({
            "lambda": lambdas,
            "C": 1.0 / (n * lambdas),
            "mean_deviance": mean,
            "se_deviance": se,
            "n_nonzero": nnz,
        })
        self.lambda_min_ = float(lambdas[i_min])
        self.lambda_1se_ = float(lambdas[i_1se])
        i = i_1se if self.one_se else i_min
        rule = "1-SE rule" if self.one_se else "minimum CV deviance"
        if nnz[i] == 0:
            warnings.warn(
                f"{type(self).__name__}: the LASSO at the {rule} keeps no feature; using lambda.min instead.",
                StatisticalWarning, stacklevel=3,
            )
            i = i_min
            rule = "minimum CV deviance (1-SE rule kept no feature)"
            if nnz[i] == 0:
                raise ValueError(
                    f"{type(self).__name__}.fit: the cross-validated LASSO keeps no feature: the filtered "
                    "features carry no signal the CV can detect. Check the outcome and the filters."
                )
        report.append(("lasso", int(nnz[i]), f"{self._model_name()} LASSO, {self.cv}-fold CV deviance, {rule}"))
        if cap is not None and nnz[i] > cap:
            ok = np.flatnonzero((nnz <= cap) & (nnz > 0))
            if ok.size == 0:
                raise ValueError(
                    f"{type(self).__name__}.fit: no lambda on the path selects between 1 and {cap} features "
                    f"(max_features); raise max_features or n_lambdas."
                )
            i = int(ok.max())
            report.append(("max_features", int(nnz[i]), f"at most {cap} features (lambda raised)"))
        elif cap is not None:
            report.append(("max_features", int(nnz[i]), f"at most {cap} features (not binding)"))
        self.lambda_ = float(lambdas[i])
        beta, b0 = B[i], float(B0[i])
        sel = np.flatnonzero(beta != 0)
        self.features_ = [cand[j] for j in sel]
        coef_std = pd.Series(beta[sel], index=self.features_, name="coef_standardized")
        if self.outcome == "survival":
            b0 = 0.0
        mean_, scale_ = self.mean_[self.features_], self.scale_[self.features_]
        self.coef_standardized_ = coef_std
        self.intercept_standardized_ = b0
        self.coef_ = (coef_std / scale_).rename("coef")
        self.intercept_ = float(b0 - (coef_std * mean_ / scale_).sum())

    def _model_name(self):
        return "logistic" if self.outcome == "binary" else "Cox"

    # ---------------------------------------------------------------- outputs
    def decision_function(self, X) -> np.ndarray:
        """The score of each row (1-D), from the original-scale formula.

        ``X`` needs the columns ``features_`` (found by name; others are ignored).
        """
        check_is_fitted(self, "coef_")
        caller = f"{type(self).__name__}.transform"
        X = check_dataframe(X, caller=caller, allow_missing=True)
        Xs = X.copy()
        Xs.columns = [str(c) for c in Xs.columns]
        check_columns(Xs, self.features_, caller=caller, what=f"{self._label()} feature(s)")
        sub = Xs[self.features_]
        if sub.isna().any().any():
            bad = sub.columns[sub.isna().any()].tolist()
            raise ValueError(f"{caller}: missing values in {self._label()} feature(s) {bad}.")
        return self.intercept_ + sub.to_numpy(dtype=float) @ self.coef_.to_numpy()

    def transform(self, X) -> pd.DataFrame:
        """The score as a one-column DataFrame (column :attr:`score_name_`) with the index of X."""
        return pd.DataFrame({self.score_name_: self.decision_function(X)}, index=X.index)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The one column :meth:`transform` returns."""
        return np.asarray([self.score_name_], dtype=object)

    def predict_proba(self, X) -> np.ndarray:
        """(n, 2) probabilities of the logistic score model (binary outcome only)."""
        check_is_fitted(self, "coef_")
        if self.outcome != "binary":
            raise ValueError("predict_proba is only defined for outcome='binary'.")
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def coefficients(self) -> pd.DataFrame:
        """Table of selected features: original-scale and standardised coefficients, mean, sd."""
        check_is_fitted(self, "coef_")
        return pd.DataFrame({
            "coef": self.coef_,
            "coef_standardized": self.coef_standardized_,
            "train_mean": self.mean_[self.features_],
            "train_sd": self.scale_[self.features_],
        })

    def formula(self, digits: int | None = 3) -> str:
        """The score's formula on the original feature scale, as a paper prints it.

        Parameters
        ----------
        digits : int or None, default 3
            Significant digits of each number; None prints full precision
            (``repr``), which evaluates to exactly :meth:`decision_function`.

        Examples
        --------
        A fitted signature gives e.g.
        ``"Rad-score = -1.23 + 0.45 × lesion_original_firstorder_Mean − 0.0012 × ..."``.
        """
        check_is_fitted(self, "coef_")

        def fmt(v):
            return repr(float(v)) if digits is None else f"{float(v):.{digits}g}"

        parts = [f"{self._label()} = {fmt(self.intercept_)}"]
        for name, c in self.coef_.items():
            sign = "−" if c < 0 else "+"
            parts.append(f"{sign} {fmt(abs(c))} × {name}")
        return " ".join(parts)

    def selection_report(self) -> pd.DataFrame:
        """How many features survived each step (``step``, ``n_features``, ``rule``)."""
        check_is_fitted(self, "coef_")
        return self.selection_report_.copy()

    summary = selection_report

    # ------------------------------------------------------------------- JSON
    def to_dict(self) -> dict:
        """The model file's content (see :mod:`nomogram.model_io`); ``to_json`` writes it."""
        check_is_fitted(self, "coef_")
        params = self.get_params()
        icc = params.pop("icc_table")
        if isinstance(icc, pd.DataFrame):
            icc = icc[self.icc_kind]
        params["icc_table"] = None if icc is None else {str(k): float(v) for k, v in pd.Series(icc).items()}
        return {
            **self._model_header(),
            "params": params,
            "feature_names_in": [str(c) for c in self.feature_names_in_],
            "features": self.features_,
            "intercept": self.intercept_,
            "coef": self.coef_.tolist(),
            "intercept_standardized": self.intercept_standardized_,
            "coef_standardized": self.coef_standardized_.tolist(),
            "mean": {k: float(v) for k, v in self.mean_.items()},
            "scale": {k: float(v) for k, v in self.scale_.items()},
            "lambda": self.lambda_,
            "lambda_min": self.lambda_min_,
            "lambda_1se": self.lambda_1se_,
            "n_train": self.n_train_,
            "n_events": self.n_events_,
            "selection_report": self.selection_report_.to_dict(orient="list"),
            "cv_results": self.cv_results_.to_dict(orient="list"),
            "univariate": {"feature": self.univariate_.index.tolist(),
                           **self.univariate_.to_dict(orient="list")},
        }

    @classmethod
    def _from_model_dict(cls, d: dict, source: str):
        r = ModelReader(d, source)
        version = r.get("version", int)
        if version not in (1, cls._model_version):
            r.fail(f"is {version}; this nomofuse reads versions 1 to {cls._model_version}.", "version")
        params = dict(r.get("params", dict))
        if params.get("icc_table") is not None:
            params["icc_table"] = pd.Series(params["icc_table"], dtype=float)
        try:
            obj = cls(**params)
        except TypeError as err:
            r.fail(f"does not fit {cls.__name__}: {err}.", "params")
        obj.feature_names_in_ = np.asarray(r.strings("feature_names_in"), dtype=object)
        obj.n_features_in_ = len(obj.feature_names_in_)
        obj.features_ = r.strings("features")
        k = len(obj.features_)
        obj.intercept_ = r.number("intercept")
        obj.coef_ = pd.Series(r.array("coef", finite=True, shape=(k,)), index=obj.features_, name="coef")
        obj.intercept_standardized_ = r.number("intercept_standardized")
        obj.coef_standardized_ = pd.Series(r.array("coef_standardized", finite=True, shape=(k,)),
                                           index=obj.features_, name="coef_standardized")
        obj.mean_ = pd.Series(r.get("mean", dict), dtype=float)
        obj.scale_ = pd.Series(r.get("scale", dict), dtype=float)
        missing = [f for f in obj.features_ if f not in obj.mean_.index or f not in obj.scale_.index]
        if missing:
            r.fail(f"lacks the selected feature(s) {missing[:5]}.", "mean")
        obj.lambda_, obj.lambda_min_, obj.lambda_1se_ = (r.number("lambda"), r.number("lambda_min"),
                                                         r.number("lambda_1se"))
        obj.n_train_, obj.n_events_ = r.get("n_train", int), r.get("n_events", int)
        obj.selection_report_ = r.frame("selection_report")
        obj.cv_results_ = r.frame("cv_results")
        obj.univariate_ = r.frame("univariate").set_index("feature")
        return obj
