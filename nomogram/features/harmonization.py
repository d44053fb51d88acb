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

from ..checks import check_dataframe, check_is_fitted, check_option
from ..exceptions import ConvergenceError, StatisticalWarning

from .._model_json import model_json_text, read_model_json

__all__ = ["ComBat"]

_FORMAT = "nomofuse.imaging.ComBat"
_VERSION = 1


class ComBat(TransformerMixin, BaseEstimator):
    """Empirical-Bayes ComBat with parametric priors, fitted once and re-applied.

    Parameters
    ----------
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
        Covariate columns to dummy-code (first level in sorted order is the
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
    >>> site = np.repeat(["s1", "s2"], 20)
    >>> X.loc[site == "s2"] += 2.0
    >>> cb = ComBat().fit(X, site)
    >>> Xh = cb.transform(X, site)
    >>> bool(abs(Xh[site == "s1"].mean() - Xh[site == "s2"].mean()).max() < 0.5)
    True
    """

    def __init__(self, *, eb=True, mean_only=False, ref_batch=None, unseen_batch="raise",
                 categorical=None, tol=1e-4, max_iter=1000):
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
            raise TypeError(
                f"{caller}: feature column(s) {bad[:5]} are not numeric; pass only the feature "
                f"columns in X and give batch and covariates separately."
            )
        return X

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
    def fit(self, X, batch, covariates=None):
        """Estimate the ComBat parameters on training data.

        Parameters
        ----------
        X : DataFrame (n_samples, n_features)
            Features (one row per patient), no missing values.
        batch : array-like (n_samples,)
            Centre/scanner label of each row.
        covariates : DataFrame (n_samples, n_covariates), optional
            Biological covariates whose effects are preserved.

        Returns
        -------
        self
        """
        check_option(self.unseen_batch, ("raise", "passthrough"), name="unseen_batch", caller="ComBat")
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
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = p
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
    def transform(self, X, batch, covariates=None):
        """Harmonise ``X`` with the training estimates (nothing is re-estimated).

        Parameters
        ----------
        X : DataFrame (n_samples, n_features)
            Same feature columns as at fit (any order; returned in fit order).
        batch : array-like (n_samples,)
        covariates : DataFrame, optional
            Required if ComBat was fitted with covariates.

        Returns
        -------
        DataFrame
            Harmonised features, same index as ``X``.
        """
        check_is_fitted(self, "gamma_star_")
        X = self._check_X(X, "ComBat.transform")
        cols = list(self.feature_names_in_)
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

    def fit_transform(self, X, batch, covariates=None):
        """``fit(X, batch, covariates).transform(X, batch, covariates)``."""
        return self.fit(X, batch, covariates).transform(X, batch, covariates)

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
        check_is_fitted(self, "gamma_star_")
        d = {
            "format": _FORMAT,
            "version": _VERSION,
            "params": self.get_params(),
            "batches": self.batches_,
            "feature_names": [str(c) for c in self.feature_names_in_],
            "covariate_spec": self.covariate_spec_,
            "covariate_columns": self.covariate_columns_,
            "n_iter": [int(i) for i in self.n_iter_],
            "mean_only_used": bool(self.mean_only_),
            "ref_index": self._ref_index,
        }
        for a in self._ARRAYS:
            d[a.rstrip("_")] = np.asarray(getattr(self, a)).tolist()
        return d

    def to_json(self, path=None) -> str:
        """Serialise the fitted estimates to JSON (written to ``path`` if given)."""
        return model_json_text(self.to_dict(), path)

    @classmethod
    def from_json(cls, source) -> "ComBat":
        """Rebuild a fitted :class:`ComBat` from :meth:`to_json` output (a path or the string)."""
        d = read_model_json(source, "ComBat.from_json", _FORMAT, _VERSION)
        obj = cls(**d["params"])
        obj.batches_ = list(d["batches"])
        obj.feature_names_in_ = np.asarray(d["feature_names"], dtype=object)
        obj.n_features_in_ = len(obj.feature_names_in_)
        obj.covariate_spec_ = d["covariate_spec"]
        obj.covariate_columns_ = d["covariate_columns"]
        obj.n_iter_ = d["n_iter"]
        obj.mean_only_ = d["mean_only_used"]
        obj._ref_index = d["ref_index"]
        p = obj.n_features_in_
        for a in cls._ARRAYS:
            arr = np.asarray(d[a.rstrip("_")], dtype=float)
            setattr(obj, a, arr)
        obj.covariate_coef_ = obj.covariate_coef_.reshape(len(obj.covariate_columns_), p)
        obj.batch_sizes_ = obj.batch_sizes_.astype(int)
        return obj
