"""Binary logistic nomogram model (rms ``lrm``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from .checks import check_binary_y, check_is_fitted, check_separation, check_collinear
from ._indexes import binned_c_index, brier_score, gini_mean_difference, nagelkerke_r2
from ._lrm_fit import fit_logistic
from ._model_base import NomogramModelBase, penalty_matrix
from ._rms_statistics import binary_rank_statistics, r2_measures

__all__ = ["LogisticNomogram"]


class LogisticNomogram(NomogramModelBase):
    """Maximum-likelihood logistic regression that draws an rms nomogram.

    Parameters
    ----------
    splines : dict of {str: int}, optional
        Restricted cubic splines, ``{"age": 4}``: column and number of knots
        (3-7), knots placed as Hmisc ``rcspline.eval`` places them.
    categorical : list of str, optional
        Numeric columns to treat as categorical. Columns of object, category
        or bool dtype are categorical anyway. The first sorted level is the
        reference (R's factor default).
    interaction : tuple of (str, str), or list of such tuples, optional
        Two predictors whose design columns are multiplied (rms ``a * b``), or
        several such pairs (rms ``a * b + a * c``): ``[("age", "horTh"),
        ("age", "tsize")]``. The interaction columns follow the main effects in
        the order given and are named as rms names them (``age * horTh=yes``,
        ``age' * horTh=yes``, ``age * tsize``).
    penalty : float, default 0
        Ridge penalty in rms units (``lrm(penalty=)``): the penalty on each
        numeric design column is ``penalty * var(column)``.
    eps : float or None, default 0.025
        Newton-Raphson stops as rms ``lrm`` stops: once -2 log L changes by at
        most ``eps`` between iterations (after taking that step), so estimates
        equal ``lrm()``'s to machine precision. ``None`` iterates to full
        convergence (relative change below 1e-11); the two differ by far less
        than a standard error (about 1e-6 relative at worst in our checks).
    max_iter : int, default 30
    event_level : scalar, optional
        The value of ``y`` that means the event when ``y`` is text
        (``event_level="yes"``); the other value is the non-event. Without it
        ``y`` must be 0/1, boolean, two numbers (the larger is the event, as in
        ``lrm``) or text ``'0'/'1'``, ``'False'/'True'``: other text is refused,
        since sorted order would silently pick the event.
    outcome_name : str, optional
        The event, as charts and calculators say it (``"recurrence or death"``):
        the risk axis reads "Risk of recurrence or death". Stored in the model
        file; no effect on the fit.

    Attributes
    ----------
    coef_ : pandas.Series
        Named as rms names them: ``Intercept``, ``age``, ``age'``, ``grade=G2``.
    cov_ : pandas.DataFrame
        Variance-covariance matrix of ``coef_``.
    design_ : Design
        Knots, levels and datadist limits learnt from the training data.
    stats_ : pandas.Series
        ``Obs``, ``Events``, ``Model L.R.``, ``d.f.``, ``P``, ``C``, ``Dxy``,
        ``Gamma``, ``Tau-a``, ``R2`` (Nagelkerke), ``R2(n)``, ``R2(p,n)``, ``R2(m)``,
        ``R2(p,m)`` (Maddala–Cox–Snell R² and adjusted, at n and at the effective
        sample size m; rms prints them as ``R2(686)``, ``R2(10,686)``...; see
        :func:`nomogram._rms_statistics.r2_measures`), ``Brier``, ``g``, ``gr``,
        ``gp`` as ``lrm`` prints them.
    loglik_ : tuple of float
        Log-likelihood of the null and the fitted model.
    linear_predictor_range_ : tuple of float
        Smallest and largest training linear predictor (sets the nomogram LP axis).
    feature_names_in_ : ndarray of str
        The predictor columns of ``X`` at fit (scikit-learn's name); ``predict``
        and ``decision_function`` find them in new data by name.
    n_features_in_ : int

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> d = load_rossi()
    >>> m = LogisticNomogram(splines={"age": 3}).fit(d[["age", "prio", "fin"]], d["arrest"])
    >>> list(m.coef_.index)
    ['Intercept', 'age', "age'", 'prio', 'fin']

    References
    ----------
    Harrell FE (2015). Regression Modeling Strategies, 2nd ed. Springer. R package rms, ``lrm``.
    """

    _intercept = True
    _model_format = "nomofuse.nomogram.LogisticNomogram"

    def __init__(self, splines=None, categorical=None, interaction=None, penalty=0.0, eps=0.025, max_iter=30,
                 event_level=None, outcome_name=None):
        super().__init__(splines=splines, categorical=categorical, interaction=interaction, penalty=penalty)
        self.eps = eps
        self.max_iter = max_iter
        self.event_level = event_level
        self.outcome_name = outcome_name

    def fit(self, X: pd.DataFrame, y) -> "LogisticNomogram":
        """Fit the model.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n, k)
            Predictors, one row per patient; every column is used. Numbers are
            numeric predictors; text, bool and pandas ``Categorical`` columns are
            factors. Text that is mostly numbers, text with more than 20 levels
            (an ID) and dates are refused unless listed in ``categorical``
            (:func:`nomogram.checks.check_predictor_types`).
        y : array-like of shape (n,)
            Binary outcome: 0/1, bool, two numbers (the larger is the event), or
            text with ``event_level`` naming the event. A pandas Series is
            matched to ``X`` by index label (the same labels in another order
            are re-ordered; different labels are refused); an array by position.

        Returns
        -------
        self
        """
        self._check_outcome_text()
        design = self._learn_design(X)
        yv = check_binary_y(y, index=X.index, caller=f"{type(self).__name__}.fit", event_level=self.event_level)
        Xd = design.transform(X, caller=f"{type(self).__name__}.fit")
        names = design.column_names
        P = penalty_matrix(design, Xd, self.penalty)
        if not self.penalty:
            check_collinear(Xd, names, f"{type(self).__name__}.fit")
        fit = fit_logistic(Xd, yv, penalty_matrix=P, rms_dlike=self.eps, max_iter=self.max_iter, names=names)
        index = ["Intercept"] + names
        check_separation(design, Xd, yv, fit.coef[1:], np.sqrt(np.diag(fit.cov))[1:], X=X, kind="logistic",
                         caller=f"{type(self).__name__}.fit", penalized=bool(self.penalty))
        self.design_ = design
        self._set_feature_names(design)
        self.coef_ = pd.Series(fit.coef, index=index)
        self.cov_ = pd.DataFrame(fit.cov, index=index, columns=index)
        self.penalty_matrix_ = P
        self.loglik_ = (fit.loglik_null, fit.loglik)
        lp = fit.linear_predictor
        self.linear_predictor_range_ = (float(lp.min()), float(lp.max()))
        self.n_iter_ = fit.n_iter
        self.stats_ = self._statistics(fit, yv)
        return self

    def _statistics(self, fit, y) -> pd.Series:
        n = len(y)
        lr = 2 * (fit.loglik - fit.loglik_null)
        df = len(self.coef_) - 1
        if self.penalty:
            # effective d.f. as rms: trace(I_unpenalised @ V) less the intercept
            df = float(np.trace((fit.information - _embed(self.penalty_matrix_)) @ fit.cov)) - 1
        p = expit(fit.linear_predictor)
        # rms lrm.fit ranks probabilities binned to width 0.0002 for C/Dxy
        c = binned_c_index(p, y)
        g = gini_mean_difference(fit.linear_predictor)
        ranks = binary_rank_statistics(np.floor(p * 5000), y)  # Gamma, Tau-a as rms 6.5 (same binning)
        # rms lrm.fit: R2Measures on the (penalised) LR with p = number of columns
        lr_pen = 2 * (fit.penalized_loglik - fit.loglik_null)
        r2m = r2_measures(lr_pen, len(self.coef_) - 1, n, [n - y.sum(), y.sum()])
        return pd.Series(
            {
                "Obs": n,
                "Events": int(y.sum()),
                "Model L.R.": lr,
                "d.f.": df,
                "P": float(stats.chi2.sf(lr, df)),
                "C": c,
                "Dxy": 2 * c - 1,
                "Gamma": ranks["Gamma"],
                "Tau-a": ranks["Tau-a"],
                # rms computes R2 from the penalised deviance (equal to LR when unpenalised)
                "R2": nagelkerke_r2(lr_pen, fit.loglik_null, n),
                **r2m,
                "Brier": brier_score(p, y),
                "g": g,
                "gr": float(np.exp(g)),
                "gp": gini_mean_difference(p),
            }
        )

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Linear predictor (log odds) for each row of ``X``."""
        Xd = self.design_matrix(X)
        c = self.coef_.to_numpy()
        return c[0] + Xd @ c[1:]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of no event and event, shape (n, 2).

        Predictor values outside the training range give an
        :class:`~nomogram.exceptions.ExtrapolationWarning` naming the column,
        values and rows; infinite values are refused.
        """
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        """0/1 prediction at a risk ``threshold``."""
        return (self.predict_proba(X)[:, 1] >= threshold).astype(int)

    def nomogram(self, **kwargs):
        """The rms nomogram of this model; see :class:`nomogram.Nomogram`."""
        from .points import Nomogram

        check_is_fitted(self, "coef_")
        return Nomogram.from_model(self, **kwargs)


def _embed(P):
    out = np.zeros((P.shape[0] + 1, P.shape[1] + 1))
    out[1:, 1:] = P
    return out
