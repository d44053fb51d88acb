"""Multiple imputation by chained equations and Rubin's rules (rms ``aregImpute`` + ``fit.mult.impute``).

:func:`impute_datasets` completes a predictor table ``m`` times with
scikit-learn's :class:`~sklearn.impute.IterativeImputer` (chained equations,
``sample_posterior=True``: each missing value is a draw from its predictive
distribution, so the ``m`` datasets differ as multiple imputation needs), one
random state per dataset. The outcome enters every imputation model as a
predictor (as rms ``aregImpute`` uses it) and is never imputed.

:func:`fit_mult_impute` fits a :class:`~nomogram.LogisticNomogram` or
:class:`~nomogram.CoxNomogram` on each completed dataset and pools them as rms
``fit.mult.impute`` does. With :math:`\\hat\\beta_k`, :math:`V_k` the
estimates and variance of imputation :math:`k = 1..m`:

.. math::

    \\bar\\beta = \\frac1m \\sum_k \\hat\\beta_k, \\quad
    \\bar W = \\frac1m \\sum_k V_k, \\quad
    B = \\frac{1}{m-1} \\sum_k (\\hat\\beta_k - \\bar\\beta)(\\hat\\beta_k - \\bar\\beta)^\\top,
    \\quad T = \\bar W + \\Big(1 + \\frac1m\\Big) B,

and per coefficient :math:`\\tau = (1 + 1/m) B_{jj} / \\bar W_{jj}`, the
fraction of missing information :math:`\\tau / (1 + \\tau)`, Rubin's degrees of
freedom :math:`(m - 1)(1 + 1/\\tau)^2` and the variance inflation
:math:`T_{jj} / \\bar W_{jj}` (rms ``missingInfo``, ``dfmi``,
``variance.inflation.impute``).

The pooled model is an ordinary fitted model (``coef_`` :math:`\\bar\\beta`,
``cov_`` :math:`T`): its nomogram, ``anova`` and ``summary`` use Rubin's
variance. One design is used for every imputation: knots, factor levels and
``datadist`` limits are learnt on the first completed dataset and kept for the
others, so that every :math:`\\hat\\beta_k` multiplies the same basis
functions (rms refits the knots in each imputation and keeps the last fit's
design). The pooled model's linear-predictor range (the nomogram's LP axis)
and, for a Cox model, its centre and baseline survival are recomputed at the
pooled coefficients on the first completed dataset; ``stats_`` (LR, R², C...)
stay those of the first imputation's fit. ``model.pooled_`` holds the pooling
table.

Validation: rms documents validating a model fitted with multiple imputation
on a completed dataset (``validate`` of the fit on one imputation); nomofuse
does the same with :meth:`MultipleImputationFit.validate` (imputation ``k``,
default the first). Calibration likewise.

References
----------
Rubin DB (1987). Multiple Imputation for Nonresponse in Surveys. Wiley. van Buuren S,
Groothuis-Oudshoorn K (2011) mice. J Stat Softw 45(3). Harrell FE. rms ``fit.mult.impute``;
Hmisc ``aregImpute``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone

from .checks import check_dataframe, check_random_state

__all__ = ["impute_datasets", "fit_mult_impute", "MultipleImputationFit"]


def impute_datasets(X: pd.DataFrame, y=None, *, m: int = 5, random_state=None, max_iter: int = 10) -> list:
    """``m`` completed copies of ``X`` by chained equations with posterior draws.

    Parameters
    ----------
    X : pandas.DataFrame
        Predictors; numeric columns may have missing values (NaN). Categorical
        (text, category, bool) columns must be complete: they enter the
        imputation models as indicators.
    y : array-like or DataFrame, optional
        The outcome (binary, or survival time and event): used as a predictor
        in every imputation model, never imputed; must be complete.
    m : int, default 5
        Number of imputations (>= 2).
    random_state : int, numpy Generator or None
        Imputation ``k`` uses ``IterativeImputer(random_state=seed_k)`` with
        ``seed_k`` drawn from it.
    max_iter : int, default 10
        Rounds of chained equations.

    Returns
    -------
    list of pandas.DataFrame
        The completed datasets, indexed and ordered like ``X``.
    """
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    caller = "impute_datasets"
    check_dataframe(X, caller=caller, allow_missing=True)
    if not isinstance(m, (int, np.integer)) or m < 2:
        raise ValueError(f"The 'm' parameter of {caller} must be an integer >= 2. Got {m!r} instead.")
    numeric = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])]
    other = [c for c in X.columns if c not in numeric]
    bad = [c for c in other if X[c].isna().any()]
    if bad:
        raise ValueError(f"{caller}: categorical column(s) {bad} have missing values; only numeric columns are "
                         "imputed (chained linear regressions). Impute or recode them first (e.g. a level "
                         "'unknown'), or convert them to numbers.")
    if not any(X[c].isna().any() for c in numeric):
        raise ValueError(f"{caller}: X has no missing value; fit the model directly.")
    parts = [X[numeric].astype(float)]
    if other:
        parts.append(pd.get_dummies(X[other].astype(str), drop_first=True, dtype=float))
    if y is not None:
        Y = pd.DataFrame(np.asarray(y, dtype=float).reshape(len(X), -1), index=X.index).add_prefix("__y")
        if Y.isna().any().any():
            raise ValueError(f"{caller}: the outcome has missing values; it is not imputed. Drop those rows.")
        parts.append(Y)
    Z = pd.concat(parts, axis=1)
    rng = check_random_state(random_state)
    seeds = rng.integers(0, 2**31 - 1, size=m)
    out = []
    for seed in seeds:
        imp = IterativeImputer(sample_posterior=True, random_state=int(seed), max_iter=max_iter)
        filled = imp.fit_transform(Z.to_numpy())
        done = X.copy()
        for j, c in enumerate(numeric):
            done[c] = filled[:, j]
        out.append(done)
    return out


@dataclass
class MultipleImputationFit:
    """Result of :func:`fit_mult_impute`.

    Attributes
    ----------
    model : LogisticNomogram or CoxNomogram
        The pooled model: ``coef_`` the mean of the imputations' estimates,
        ``cov_`` Rubin's total variance; draw its nomogram with
        ``model.nomogram()``.
    fits : list
        The model fitted on each completed dataset (same design).
    datasets : list of pandas.DataFrame
        The completed datasets.
    pooled : pandas.DataFrame
        Per coefficient: ``coef``, ``within`` (mean variance), ``between``,
        ``total``, ``variance_inflation``, ``missing_information`` (fraction) and
        ``df`` (Rubin's degrees of freedom), as rms ``fit.mult.impute``.
    """

    model: object
    fits: list
    datasets: list
    pooled: pd.DataFrame
    y: object = None

    def summary(self) -> pd.DataFrame:
        """The pooling table (``pooled``)."""
        return self.pooled.copy()

    def validate(self, k: int = 0, **kwargs):
        """rms-documented validation: :func:`nomogram.validate` of the fit on completed dataset ``k``."""
        from .validation import validate

        return validate(self.fits[k], self.datasets[k], self.y, **kwargs)

    def calibrate(self, k: int = 0, **kwargs):
        """:func:`nomogram.calibrate` of the fit on completed dataset ``k``."""
        from .calibration import calibrate

        return calibrate(self.fits[k], self.datasets[k], self.y, **kwargs)


def pool_rubin(coefs, covs) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Rubin's rules as rms ``fit.mult.impute``: pooled estimate, total variance and the table (module docstring)."""
    coefs = np.asarray(coefs, dtype=float)
    covs = np.asarray(covs, dtype=float)
    m = len(coefs)
    bar = coefs.mean(axis=0)
    W = covs.mean(axis=0)
    B = np.cov(coefs, rowvar=False, ddof=1).reshape(W.shape)
    T = W + (1 + 1 / m) * B
    U, b = np.diag(W), np.diag(B)
    tau = (1 + 1 / m) * b / U
    with np.errstate(divide="ignore"):
        df = (m - 1) * (1 + 1 / tau) ** 2
    table = pd.DataFrame({"coef": bar, "within": U, "between": b, "total": np.diag(T),
                          "variance_inflation": np.diag(T) / U, "missing_information": tau / (1 + tau), "df": df})
    return bar, T, table


def fit_mult_impute(estimator, X: pd.DataFrame, y, *, m: int = 5, random_state=None,
                    datasets=None) -> MultipleImputationFit:
    """Fit ``estimator`` on ``m`` imputations of ``X`` and pool with Rubin's rules (rms ``fit.mult.impute``).

    Parameters
    ----------
    estimator : LogisticNomogram or CoxNomogram
        Unfitted; cloned for each completed dataset.
    X : pandas.DataFrame
        Predictors with missing values in numeric columns.
    y : outcome as the estimator's ``fit`` takes it (complete).
    m : int, default 5
    random_state : int, numpy Generator or None
    datasets : list of pandas.DataFrame, optional
        Completed datasets to use instead of imputing (e.g. from another
        imputation program); ``m`` is then their number.

    Returns
    -------
    MultipleImputationFit
    """
    from .cox import CoxNomogram
    from .logistic import LogisticNomogram

    if not isinstance(estimator, (LogisticNomogram, CoxNomogram)):
        raise TypeError(f"fit_mult_impute expects a LogisticNomogram or CoxNomogram; got {type(estimator).__name__}.")
    if isinstance(estimator, CoxNomogram) and estimator.strata is not None:
        raise ValueError("fit_mult_impute: a stratified Cox model is not supported yet; pass strata as categorical "
                         "predictors or impute and fit per stratum.")
    if datasets is None:
        from .checks import check_binary_y, check_survival_y

        level = estimator.event_level  # the outcome is checked (and coded) as the model's fit will check it
        if isinstance(estimator, CoxNomogram):
            coded = np.column_stack(check_survival_y(y, index=X.index, caller="fit_mult_impute", event_level=level))
        else:
            coded = check_binary_y(y, index=X.index, caller="fit_mult_impute", event_level=level)
        datasets = impute_datasets(X, coded, m=m, random_state=random_state)
    datasets = list(datasets)
    if len(datasets) < 2:
        raise ValueError(f"fit_mult_impute: needs at least 2 completed datasets; got {len(datasets)}.")
    first = clone(estimator).fit(datasets[0], y)
    fits = [first]
    for data in datasets[1:]:
        est = clone(estimator)
        est._design_template = first.design_
        fits.append(est.fit(data, y))
        del est._design_template
    bar, T, table = pool_rubin([f.coef_.to_numpy() for f in fits], [f.cov_.to_numpy() for f in fits])
    names = list(first.coef_.index)
    table.index = pd.Index(names, name="coefficient")
    pooled = copy.deepcopy(first)  # the first imputation's fit, then the pooled numbers
    pooled.coef_ = pd.Series(bar, index=names)
    pooled.cov_ = pd.DataFrame(T, index=names, columns=names)
    Xd = pooled.design_matrix(datasets[0])
    if isinstance(pooled, CoxNomogram):
        from ._cph_fit import baseline_hazard, baseline_hazard_variance
        from .checks import check_survival_y

        time, event = check_survival_y(y, index=datasets[0].index, caller="fit_mult_impute",
                                       event_level=pooled.event_level)
        means = pooled.means_.to_numpy()
        pooled.center_ = float(means @ bar)
        lp = (Xd - means) @ bar
        t, H = baseline_hazard(lp, time, event, ties=pooled.ties)
        pooled.baseline_survival_ = pd.DataFrame({"time": t, "survival": np.exp(-H)})
        V0, A = baseline_hazard_variance(Xd - means, time, event, bar, ties=pooled.ties)
        pooled.baseline_hazard_variance_ = pd.DataFrame(np.column_stack([V0, A]),
                                                        columns=pooled.baseline_hazard_variance_.columns)
    else:
        lp = bar[0] + Xd @ bar[1:]
    pooled.linear_predictor_range_ = (float(lp.min()), float(lp.max()))
    pooled.pooled_ = table
    return MultipleImputationFit(model=pooled, fits=fits, datasets=datasets, pooled=table, y=y)
