"""ComBat harmonisation of feature tables across centres (scanners, protocols).

Radiomics features shift and stretch from one scanner or protocol to the next.
ComBat (Johnson, Li & Rabinovic 2007), brought to imaging by Fortin et al.
(2017, 2018; ``neuroCombat``) and to radiomics by Orlhac et al. (2018), removes
a per-centre location (``gamma``) and scale (``delta``) from every feature
while keeping the effect of covariates that must survive (diagnosis, age), and
shrinks the per-centre estimates towards their across-feature mean with an
empirical-Bayes prior.

:class:`ComBat` is fitted on the training split only and re-applied unchanged
to the test and external sets, as the rad-score must be.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from ..checks import check_columns, check_dataframe, check_is_fitted, check_option, warn_deprecated
from ..exceptions import ConvergenceError, StatisticalWarning

from ..model_io import ModelFileMixin, ModelReader, register_model_format

__all__ = ["ComBat"]

_COLUMNS_INSTEAD = ("put the batch (and covariate) columns in X and construct "
                    "ComBat(batch='<column>', covariates=[...]), which also fits inside a Pipeline")


class ComBat(ModelFileMixin, TransformerMixin, BaseEstimator):
    """Empirical-Bayes ComBat with parametric priors, fitted once and re-applied.

    Parameters
    ----------
    batch : str, optional
        Name of the column of ``X`` that holds each row's centre / scanner /
        protocol label. Every other column of ``X``, except ``covariates``,
        is a feature to harmonise. With the batch inside ``X`` the transformer
        fits in a scikit-learn ``Pipeline`` and in cross-fitting (``fit(X, y)``
        ignores ``y``). ``None`` is the deprecated form that passes the labels
        to :meth:`fit` and :meth:`transform`.
    covariates : list of str, optional
        Columns of ``X`` whose (biological) effects are preserved (diagnosis,
        age); numeric columns enter linearly, non-numeric (or ``categorical``)
        ones as dummies.
    eb : bool, default True
        Shrink the per-batch location/scale estimates with the empirical-Bayes
        prior (Johnson et al. 2007). False gives the plain location/scale
        ("L/S") adjustment.
    mean_only : bool, default False
        Adjust only the location (``delta = 1``), as ``sva::ComBat(mean.only=TRUE)``.
    ref_batch : str or None, default None
        A reference batch whose data are left unchanged and to which the
        others are aligned (``sva::ComBat(ref.batch=...)``; Zhang et al. 2018).
    unseen_batch : {'raise', 'passthrough'}, default 'raise'
        What :meth:`transform` does with a batch that was not in the training
        data. 'raise' stops with the list of unknown batches. 'passthrough'
        returns those rows unchanged (with a :class:`StatisticalWarning`):
        ComBat has no estimate for a centre it never saw; refit on data that
        include it, or harmonise to a reference batch.
    categorical : list of str or None, default None
        Covariates to dummy-code (first level in sorted order is the
        reference). None: every non-numeric column is categorical.
    tol : float, default 1e-4
        Convergence criterion of the EB iteration: the largest relative change
        of ``gamma*`` and ``delta*``, as in sva and neuroCombat.
    max_iter : int, default 1000

    Attributes
    ----------
    batches_ : list of str
        Training batch labels (sorted).
    feature_names_in_ : ndarray of str
        Columns of ``X`` at fit (features, batch and covariates).
    n_features_in_ : int
    features_ : list of str
        The harmonised feature columns (:meth:`get_feature_names_out`).
    grand_mean_ : ndarray (n_features,)
        ``alpha``: the batch-size-weighted mean of the batch intercepts.
    covariate_coef_ : ndarray (n_covariate_columns, n_features)
        ``beta``: effects of the (dummy-coded) covariates, preserved.
    covariate_columns_ : list of str
        Design columns that ``covariate_coef_`` multiplies (``diagnosis=malignant``, ``age``).
    var_pooled_ : ndarray (n_features,)
        ``sigma^2``: pooled residual variance (divisor n, as sva).
    gamma_hat_, delta_hat_ : ndarray (n_batches, n_features)
        Per-batch least-squares location and scale on the standardised data.
    gamma_star_, delta_star_ : ndarray (n_batches, n_features)
        Empirical-Bayes (or L/S) estimates used to adjust.
    gamma_bar_, tau2_, a_prior_, b_prior_ : ndarray (n_batches,)
        Prior hyper-parameters.
    n_iter_ : list of int
        EB iterations per batch.

    Notes
    -----
    Model for feature ``g`` of sample ``j`` in batch ``i`` (Johnson 2007, eq. 2.1):

    .. math::

        Y_{ijg} = \\alpha_g + X_{ij}\\beta_g + \\gamma_{ig} + \\delta_{ig}\\varepsilon_{ijg}.

    The data are standardised, :math:`Z_{ijg} = (Y_{ijg} - \\hat\\alpha_g - X_{ij}\\hat\\beta_g)/\\hat\\sigma_g`,
    the per-batch mean :math:`\\hat\\gamma_{ig}` and variance :math:`\\hat\\delta^2_{ig}`
    of ``Z`` get a normal prior :math:`N(\\bar\\gamma_i, \\tau^2_i)` and an
    inverse-gamma prior :math:`IG(a_i, b_i)` fitted by the method of moments
    across features, and the posterior means are found by iterating

    .. math::

        \\gamma^*_{ig} = \\frac{n_i \\tau^2_i \\hat\\gamma_{ig} + \\delta^{2*}_{ig}\\bar\\gamma_i}
                               {n_i \\tau^2_i + \\delta^{2*}_{ig}}, \\qquad
        \\delta^{2*}_{ig} = \\frac{b_i + \\tfrac12 \\sum_j (Z_{ijg} - \\gamma^*_{ig})^2}{n_i/2 + a_i - 1}.

    The adjusted value is :math:`\\hat\\sigma_g (Z_{ijg} - \\gamma^*_{ig})/\\delta^*_{ig}
    + \\hat\\alpha_g + X_{ij}\\hat\\beta_g`. :meth:`transform` applies exactly
    this with the stored estimates, so on the training data it reproduces
    ``sva::ComBat`` and ``neuroCombat``; on new data it uses the new rows'
    own batch and covariates, nothing else from them.

    Features are columns here (rows are patients), unlike sva and neuroCombat
    which take features × samples.

    References
    ----------
    Johnson WE, Li C, Rabinovic A. Adjusting batch effects in microarray
    expression data using empirical Bayes methods. Biostatistics 2007;8:118-127.
    Fortin JP et al. Harmonization of cortical thickness measurements across
    scanners and sites. NeuroImage 2018;167:104-120 (``neuroCombat``).
    Orlhac F et al. A postreconstruction harmonization method for multicenter
    radiomic studies in PET. J Nucl Med 2018;59:1321-1328.
    Leek JT et al. sva: Surrogate Variable Analysis, ``ComBat()``. Bioconductor.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["f1", "f2", "f3"])
    >>> X.loc[20:, ["f1", "f2", "f3"]] += 2.0
    >>> X["site"] = np.repeat(["s1", "s2"], 20)
    >>> cb = ComBat(batch="site").fit(X)
    >>> Xh = cb.transform(X)
    >>> list(Xh.columns)
    ['f1', 'f2', 'f3']
    >>> bool(abs(Xh[X.site == "s1"].mean() - Xh[X.site == "s2"].mean()).max() < 0.5)
    True
    """

    _model_format = "nomofuse.nomogram.ComBat"
    _model_version = 1

    def __init__(self, *, batch=None, covariates=None, eb=True, mean_only=False, ref_batch=None,
                 unseen_batch="raise", categorical=None, tol=1e-4, max_iter=1000):
        self.batch = batch
        self.covariates = covariates
        self.eb = eb
        self.mean_only = mean_only
        self.ref_batch = ref_batch
        self.unseen_batch = unseen_batch
        self.categorical = categorical
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ input
    def _check_X(self, X, caller):
        X = check_dataframe(X, caller=caller)
        bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if bad:
            where = (f"name the batch (batch={self.batch!r}) and covariate columns, or drop the others"
                     if self.batch is not None else "pass only the feature columns in X")
            raise TypeError(f"{caller}: feature column(s) {bad[:5]} are not numeric; {where}.")
        return X

    def _covariate_names(self) -> list:
        cov = self.covariates
        if cov is None:
            return []
        if isinstance(cov, str):
            return [cov]
        return list(cov)

    def _split(self, X, batch, covariates, caller, *, fitting):
        """(features, batch labels, covariates or None) from X (or from the deprecated arguments)."""
        if self.batch is None:
            if self.covariates is not None:
                raise ValueError(
                    f"{caller}: covariates={self.covariates!r} names columns of X but batch= does "
                    "not; construct ComBat(batch='<column>', covariates=[...])."
                )
            if batch is None:
                raise TypeError(
                    f"{caller}: ComBat needs each row's batch. Put the batch column in X and "
                    "construct ComBat(batch='<column>') (covariates=[...] for preserved columns)."
                )
            warn_deprecated(f"{caller}(X, batch, covariates) with separate batch labels was deprecated", _COLUMNS_INSTEAD,
                            stacklevel=3)
            return X, batch, covariates
        if batch is not None or covariates is not None:
            raise TypeError(
                f"{caller}: this ComBat reads the batch from column {self.batch!r} (and covariates "
                f"{self._covariate_names()}) of X; do not pass them separately."
            )
        check_dataframe(X, caller=caller, allow_missing=True)
        cov_cols = self._covariate_names()
        if self.batch in cov_cols:
            raise ValueError(f"{caller}: column {self.batch!r} is both the batch and a covariate.")
        check_columns(X, [self.batch] + cov_cols, caller=caller, what="batch/covariate column(s)")
        if fitting:
            features = [c for c in X.columns if c != self.batch and c not in cov_cols]
            if not features:
                raise ValueError(f"{caller}: X has no feature column besides the batch and covariates.")
        else:
            features = list(self.features_)
            check_columns(X, features, caller=caller, what="feature column(s)")
        return X[features], X[self.batch], (X[cov_cols] if cov_cols else None)

    @staticmethod
    def _check_batch(batch, n, caller):
        if isinstance(batch, (pd.Series, pd.Index)):
            b = batch.to_numpy()
        else:
            b = np.asarray(batch)
        b = b.reshape(-1) if b.ndim == 2 and 1 in b.shape else b
        if b.ndim != 1 or len(b) != n:
            raise ValueError(
                f"{caller}: batch must give one label per row of X ({n}); got shape {np.shape(batch)}."
            )
        if pd.isna(b).any():
            i = int(np.flatnonzero(pd.isna(b))[0])
            raise ValueError(f"{caller}: batch has missing labels (first at row {i}).")
        return b.astype(str)

    def _covariate_design(self, covariates, n, caller, *, fitting):
        if covariates is None:
            if fitting:
                self.covariate_spec_ = []
            elif self.covariate_spec_:
                raise ValueError(
                    f"{caller}: ComBat was fitted with covariates "
                    f"{[s['name'] for s in self.covariate_spec_]}; pass the same columns."
                )
            return np.zeros((n, 0)), []
        if not isinstance(covariates, pd.DataFrame):
            raise TypeError(
                f"{caller}: covariates must be a DataFrame with named columns; got "
                f"{type(covariates).__name__}."
            )
        if len(covariates) != n:
            raise ValueError(f"{caller}: covariates have {len(covariates)} rows but X has {n}.")
        if fitting:
            cats = self.categorical
            if cats is None:
                cats = [c for c in covariates.columns if not pd.api.types.is_numeric_dtype(covariates[c])]
            unknown = [c for c in cats if c not in covariates.columns]
            if unknown:
                raise ValueError(f"{caller}: categorical column(s) {unknown} are not in covariates.")
            spec = []
            for c in covariates.columns:
                if covariates[c].isna().any():
                    raise ValueError(f"{caller}: covariate '{c}' has missing values; impute or drop those rows.")
                if c in cats:
                    levels = sorted(pd.unique(covariates[c].astype(str)).tolist())
                    if len(levels) < 2:
                        raise ValueError(f"{caller}: categorical covariate '{c}' has a single level {levels}.")
                    spec.append({"name": c, "type": "categorical", "levels": levels})
                else:
                    spec.append({"name": c, "type": "numeric"})
            self.covariate_spec_ = spec
        else:
            missing = [s["name"] for s in self.covariate_spec_ if s["name"] not in covariates.columns]
            if missing:
                raise ValueError(f"{caller}: covariate column(s) {missing} used at fit are missing.")
        cols, names = [], []
        for s in self.covariate_spec_:
            v = covariates[s["name"]]
            if v.isna().any():
                raise ValueError(f"{caller}: covariate '{s['name']}' has missing values.")
            if s["type"] == "categorical":
                v = v.astype(str).to_numpy()
                new = sorted(set(v) - set(s["levels"]))
                if new:
                    raise ValueError(
                        f"{caller}: covariate '{s['name']}' has level(s) {new} not seen at fit "
                        f"(known: {s['levels']})."
                    )
                for lev in s["levels"][1:]:
                    cols.append((v == lev).astype(float))
                    names.append(f"{s['name']}={lev}")
            else:
                cols.append(v.to_numpy(dtype=float))
                names.append(s["name"])
        if not cols:
            return np.zeros((n, 0)), []
        return np.column_stack(cols), names

    # -------------------------------------------------------------------- fit
    def fit(self, X, y=None, covariates=None, *, batch=None):
        """Estimate the ComBat parameters on training data.

        Parameters
        ----------
        X : DataFrame (n_samples, n_columns)
            Features, the ``batch`` column and the ``covariates`` columns (one
            row per patient), no missing values.
        y : ignored
            Accepted so that ComBat fits in a ``Pipeline``. (In the deprecated
            form without ``batch=`` at construction, the second argument is the
            batch labels and the third the covariate table.)

        Returns
        -------
        self
        """
        check_option(self.unseen_batch, ("raise", "passthrough"), name="unseen_batch", caller="ComBat")
        names_in = np.asarray([str(c) for c in getattr(X, "columns", [])], dtype=object)
        X, batch, covariates = self._split(X, y if batch is None and self.batch is None else batch,
                                           covariates, "ComBat.fit", fitting=True)
        X = self._check_X(X, "ComBat.fit")
        n, p = X.shape
        b = self._check_batch(batch, n, "ComBat.fit")
        Y = X.to_numpy(dtype=float)
        batches = sorted(str(u) for u in np.unique(b).tolist())
        if len(batches) < 2:
            raise ValueError(f"ComBat.fit needs at least 2 batches; got only {batches}.")
        if p < 2 and self.eb:
            raise ValueError("ComBat.fit with eb=True needs at least 2 features to estimate the priors.")
        ref = None
        if self.ref_batch is not None:
            if str(self.ref_batch) not in batches:
                raise ValueError(f"ComBat: ref_batch {self.ref_batch!r} is not one of the batches {batches}.")
            ref = batches.index(str(self.ref_batch))
        idx = [np.flatnonzero(b == lev) for lev in batches]
        sizes = np.array([len(i) for i in idx])
        mean_only = bool(self.mean_only)
        if (sizes == 1).any():
            # sva switches to mean-only when a batch has one sample; do it loudly.
            warnings.warn(
                f"ComBat: batch(es) {[batches[i] for i in np.flatnonzero(sizes == 1)]} have one sample; "
                "only the location is adjusted (mean_only=True), as sva::ComBat does.",
                StatisticalWarning, stacklevel=2,
            )
            mean_only = True
        for lev, ii in zip(batches, idx):
            if len(ii) > 1:
                const = np.flatnonzero(Y[ii].var(axis=0) == 0)
                if len(const):
                    raise ValueError(
                        f"ComBat.fit: feature(s) {X.columns[const][:5].tolist()} are constant within "
                        f"batch {lev!r}; ComBat cannot estimate their scale. Drop them first."
                    )
        batch_design = np.zeros((n, len(batches)))
        for j, ii in enumerate(idx):
            batch_design[ii, j] = 1.0
        if ref is not None:
            batch_design[:, ref] = 1.0
        cov, cov_names = self._covariate_design(covariates, n, "ComBat.fit", fitting=True)
        design = np.hstack([batch_design, cov])
        if np.linalg.matrix_rank(design) < design.shape[1]:
            raise ValueError(
                "ComBat.fit: the design (batch + covariates) is rank deficient: a covariate is "
                "confounded with batch or with another covariate. Remove it and refit."
            )
        B_hat = np.linalg.solve(design.T @ design, design.T @ Y)  # (q, p)
        nb = len(batches)
        if ref is not None:
            grand_mean = B_hat[ref]
            resid_ref = Y[idx[ref]] - design[idx[ref]] @ B_hat
            var_pooled = (resid_ref**2).mean(axis=0)
        else:
            grand_mean = (sizes / n) @ B_hat[:nb]
            var_pooled = ((Y - design @ B_hat) ** 2).mean(axis=0)
        if (var_pooled == 0).any():
            bad = X.columns[var_pooled == 0][:5].tolist()
            raise ValueError(f"ComBat.fit: feature(s) {bad} have zero residual variance; drop them first.")
        cov_coef = B_hat[nb:]
        stand_mean = grand_mean + cov @ cov_coef
        S = (Y - stand_mean) / np.sqrt(var_pooled)
        gamma_hat = np.linalg.solve(batch_design.T @ batch_design, batch_design.T @ S)
        if mean_only:
            delta_hat = np.ones((nb, p))
        else:
            delta_hat = np.vstack([S[ii].var(axis=0, ddof=1) for ii in idx])
        gamma_bar = gamma_hat.mean(axis=1)
        tau2 = gamma_hat.var(axis=1, ddof=1)
        m = delta_hat.mean(axis=1)
        s2 = delta_hat.var(axis=1, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            a_prior = (2 * s2 + m**2) / s2
            b_prior = (m * s2 + m**3) / s2
        gamma_star = np.empty_like(gamma_hat)
        delta_star = np.empty_like(delta_hat)
        n_iter = []
        for i, ii in enumerate(idx):
            if not self.eb:
                gamma_star[i], delta_star[i] = gamma_hat[i], delta_hat[i]
                n_iter.append(0)
            elif mean_only:
                gamma_star[i] = (tau2[i] * gamma_hat[i] + gamma_bar[i]) / (tau2[i] + 1.0)
                delta_star[i] = 1.0
                n_iter.append(0)
            else:
                g, d, it = self._it_sol(S[ii], gamma_hat[i], delta_hat[i], gamma_bar[i], tau2[i],
                                        a_prior[i], b_prior[i], batches[i])
                gamma_star[i], delta_star[i] = g, d
                n_iter.append(it)
        if ref is not None:
            gamma_star[ref] = 0.0
            delta_star[ref] = 1.0

        self.batches_ = batches
        self.batch_sizes_ = sizes
        self.features_ = [str(c) for c in X.columns]
        self.feature_names_in_ = names_in
        self.n_features_in_ = len(names_in)
        self.covariate_columns_ = cov_names
        self.grand_mean_ = grand_mean
        self.covariate_coef_ = cov_coef
        self.var_pooled_ = var_pooled
        self.gamma_hat_, self.delta_hat_ = gamma_hat, delta_hat
        self.gamma_bar_, self.tau2_ = gamma_bar, tau2
        self.a_prior_, self.b_prior_ = a_prior, b_prior
        self.gamma_star_, self.delta_star_ = gamma_star, delta_star
        self.n_iter_ = n_iter
        self.mean_only_ = mean_only
        self._ref_index = ref
        return self

    def _it_sol(self, sdat, g_hat, d_hat, g_bar, t2, a, b, name):
        n = sdat.shape[0]
        g_old, d_old = g_hat.copy(), d_hat.copy()
        for it in range(1, self.max_iter + 1):
            g_new = (t2 * n * g_hat + d_old * g_bar) / (t2 * n + d_old)
            sum2 = ((sdat - g_new) ** 2).sum(axis=0)
            d_new = (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)
            change = max(np.max(np.abs(g_new - g_old) / np.abs(g_old)),
                         np.max(np.abs(d_new - d_old) / np.abs(d_old)))
            g_old, d_old = g_new, d_new
            if change <= self.tol:
                return g_new, d_new, it
        raise ConvergenceError(
            f"ComBat: the empirical-Bayes iteration for batch {name!r} did not reach tol={self.tol} "
            f"in {self.max_iter} iterations; raise max_iter or use eb=False."
        )

    # -------------------------------------------------------------- transform
    def transform(self, X, batch=None, covariates=None):
        """Harmonise ``X`` with the training estimates (nothing is re-estimated).

        Parameters
        ----------
        X : DataFrame (n_samples, n_columns)
            The feature columns seen at fit (any order), the batch column and
            the covariate columns; other columns are ignored. (Deprecated form:
            features only, with ``batch`` labels and a ``covariates`` table.)

        Returns
        -------
        DataFrame
            The harmonised feature columns only (in fit order, same index as
            ``X``); the batch and covariate columns are consumed.
        """
        check_is_fitted(self, "gamma_star_")
        X, batch, covariates = self._split(X, batch, covariates, "ComBat.transform", fitting=False)
        X = self._check_X(X, "ComBat.transform")
        cols = list(self.features_)
        missing = [c for c in cols if c not in X.columns]
        if missing:
            raise ValueError(
                f"ComBat.transform: feature column(s) {missing[:5]} ({len(missing)} in all) seen at fit "
                f"are missing from X."
            )
        n = len(X)
        b = self._check_batch(batch, n, "ComBat.transform")
        unseen = sorted(str(u) for u in set(b.tolist()) - set(self.batches_))
        if unseen and self.unseen_batch == "raise":
            raise ValueError(
                f"ComBat.transform: batch(es) {unseen} were not in the training data (known: "
                f"{self.batches_}). ComBat cannot adjust a centre it has no estimate for: refit "
                f"including it, or construct ComBat(unseen_batch='passthrough') to leave those rows unchanged."
            )
        Y = X[cols].to_numpy(dtype=float)
        cov, _ = self._covariate_design(covariates, n, "ComBat.transform", fitting=False)
        stand_mean = self.grand_mean_ + cov @ self.covariate_coef_
        sd = np.sqrt(self.var_pooled_)
        S = (Y - stand_mean) / sd
        out = Y.copy()
        for i, lev in enumerate(self.batches_):
            rows = b == lev
            if not rows.any():
                continue
            adj = (S[rows] - self.gamma_star_[i]) / np.sqrt(self.delta_star_[i])
            out[rows] = adj * sd + stand_mean[rows]
        if self._ref_index is not None:
            rows = b == self.batches_[self._ref_index]
            out[rows] = Y[rows]
        if unseen:
            warnings.warn(
                f"ComBat.transform: rows of unseen batch(es) {unseen} are returned unchanged "
                "(unseen_batch='passthrough').", StatisticalWarning, stacklevel=2,
            )
        return pd.DataFrame(out, index=X.index, columns=cols)

    def fit_transform(self, X, y=None, covariates=None, *, batch=None):
        """``fit(X).transform(X)``."""
        if self.batch is None:  # deprecated form: warn once
            batch = y if batch is None else batch
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                self.fit(X, batch=batch, covariates=covariates)
                out = self.transform(X, batch, covariates)
            warn_deprecated("ComBat.fit_transform(X, batch, covariates) with separate batch labels was deprecated",
                            _COLUMNS_INSTEAD)
            return out
        return self.fit(X).transform(X)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The harmonised feature columns that :meth:`transform` returns."""
        check_is_fitted(self, "gamma_star_")
        return np.asarray(self.features_, dtype=object)

    def summary(self) -> pd.DataFrame:
        """Per-batch table: size, mean |gamma*|, mean delta*, EB iterations, prior a, b."""
        check_is_fitted(self, "gamma_star_")
        return pd.DataFrame({
            "n": self.batch_sizes_,
            "mean_abs_gamma_star": np.abs(self.gamma_star_).mean(axis=1),
            "mean_delta_star": self.delta_star_.mean(axis=1),
            "gamma_bar": self.gamma_bar_,
            "tau2": self.tau2_,
            "a_prior": self.a_prior_,
            "b_prior": self.b_prior_,
            "eb_iterations": self.n_iter_,
        }, index=pd.Index(self.batches_, name="batch"))

    # ------------------------------------------------------------------- JSON
    _ARRAYS = ("grand_mean_", "covariate_coef_", "var_pooled_", "gamma_hat_", "delta_hat_",
               "gamma_star_", "delta_star_", "gamma_bar_", "tau2_", "a_prior_", "b_prior_",
               "batch_sizes_")

    def to_dict(self) -> dict:
        """The model file's content (see :mod:`nomogram.model_io`); ``to_json`` writes it."""
        check_is_fitted(self, "gamma_star_")
        params = self.get_params()
        if params.get("covariates") is not None:
            params["covariates"] = self._covariate_names()
        d = {
            **self._model_header(),
            "params": params,
            "batches": self.batches_,
            "feature_names_in": [str(c) for c in self.feature_names_in_],
            "feature_names": list(self.features_),
            "covariate_spec": self.covariate_spec_,
            "covariate_columns": self.covariate_columns_,
            "n_iter": [int(i) for i in self.n_iter_],
            "mean_only_used": bool(self.mean_only_),
            "ref_index": self._ref_index,
        }
        for a in self._ARRAYS:
            d[a.rstrip("_")] = np.asarray(getattr(self, a)).tolist()
        return d

    @classmethod
    def _from_model_dict(cls, d: dict, source: str) -> "ComBat":
        r = ModelReader(d, source)
        if r.get("version", int) != 1:
            r.fail(f"is {d['version']}; this nomofuse reads version 1.", "version")
        try:
            obj = cls(**r.get("params", dict))
        except TypeError as err:
            r.fail(f"does not fit ComBat: {err}.", "params")
        obj.batches_ = r.strings("batches")
        obj.features_ = r.strings("feature_names")
        names_in = r.strings("feature_names_in", optional=True)  # absent in version-1 imaging files
        obj.feature_names_in_ = np.asarray(obj.features_ if names_in is None else names_in, dtype=object)
        obj.n_features_in_ = len(obj.feature_names_in_)
        obj.covariate_spec_ = r.get("covariate_spec", list)
        for i, spec in enumerate(obj.covariate_spec_):
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or \
                    spec.get("type") not in ("numeric", "categorical") or \
                    (spec["type"] == "categorical" and not isinstance(spec.get("levels"), list)):
                r.fail(f"[{i}] must be {{'name': str, 'type': 'numeric' or 'categorical', 'levels': [...]}}.",
                       "covariate_spec")
        obj.covariate_columns_ = r.strings("covariate_columns")
        obj.n_iter_ = r.get("n_iter", list)
        obj.mean_only_ = r.get("mean_only_used", bool)
        ref = r.get("ref_index", int, optional=True)
        nb, p, nc = len(obj.batches_), len(obj.features_), len(obj.covariate_columns_)
        if ref is not None and not 0 <= ref < nb:
            r.fail(f"must index one of the {nb} batches; got {ref}.", "ref_index")
        obj._ref_index = ref
        shapes = {"grand_mean_": (p,), "var_pooled_": (p,), "gamma_hat_": (nb, p), "delta_hat_": (nb, p),
                  "gamma_star_": (nb, p), "delta_star_": (nb, p), "gamma_bar_": (nb,), "tau2_": (nb,),
                  "a_prior_": (nb,), "b_prior_": (nb,), "batch_sizes_": (nb,)}
        finite = {"grand_mean_", "var_pooled_", "gamma_star_", "delta_star_", "batch_sizes_"}
        for a, shape in shapes.items():
            setattr(obj, a, r.array(a.rstrip("_"), ndim=len(shape), shape=shape, finite=a in finite))
        coef = r.array("covariate_coef", ndim=2, finite=True) if nc else np.zeros((0, p))
        if coef.shape != (nc, p):
            r.fail(f"must have shape ({nc}, {p}); got {coef.shape}.", "covariate_coef")
        obj.covariate_coef_ = coef
        if (obj.var_pooled_ <= 0).any() or (obj.delta_star_ <= 0).any():
            r.fail("must be positive.", "var_pooled" if (obj.var_pooled_ <= 0).any() else "delta_star")
        obj.batch_sizes_ = obj.batch_sizes_.astype(int)
        return obj


# version-1 files written when ComBat lived in imaging (no checksum) load as ComBat
register_model_format("nomofuse.imaging.ComBat", ComBat._load_model_dict, unsigned_versions=(1,))
