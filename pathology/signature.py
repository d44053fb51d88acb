"""The path-score: the one signature builder of :mod:`nomogram.features`, tuned for deep features.

:class:`PathologySignature` *is* the modality-free builder
(:class:`nomogram.features.Signature`, which also makes the rad-score: variance filter, Spearman
redundancy filter, univariate screen, mRMR, cross-validated LASSO with the
1-SE rule, feature cap), not a copy of it. It changes the defaults for
pooled deep features (hundreds to thousands of correlated columns, no
test-retest ICC) and adds one optional step before them:

* ``icc_table=None`` (no ICC filter: deep features have no reader
  variability to filter on);
* ``n_components``: a PCA fitted on the training split (z-scored features),
  keeping that many components (or the share of variance when a float < 1);
  the builder then works on ``pc_001``, ``pc_002``, ... and the path-score
  is still a linear formula of the original features (the PCA is linear).

The path-score is the column ``path_score``; :meth:`formula` prints
"Path-score = ...". Model files are ``nomofuse.pathology.PathologySignature``
(version 1), read by :func:`nomogram.load_model`. ComBat (:class:`nomogram.features.ComBat`) removes
scanner or staining-centre effects from pooled features in the same
``Pipeline`` as with radiomics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nomogram.checks import check_dataframe, check_is_fitted
from nomogram.features import Signature
from nomogram.model_io import ModelReader

__all__ = ["PathologySignature"]


class PathologySignature(Signature):
    """Path-score from pooled slide features: optional PCA, then the rad-score builder.

    Parameters
    ----------
    n_components : int, float or None, default None
        PCA before the builder, fitted on the training split on z-scored
        features: an int keeps that many components, a float in (0, 1) the
        fewest components explaining that share of the variance, None no PCA.
    outcome, variance_threshold, redundancy_threshold, univariate_test,
    univariate_alpha, n_mrmr, cv, n_lambdas, lambda_min_ratio, one_se,
    max_features, random_state, icc_table, icc_kind, icc_threshold, name
        As :class:`nomogram.features.Signature`; ``icc_table`` defaults to None,
        ``name`` (the score column) to ``"path_score"``.

    Attributes
    ----------
    pca_mean_, pca_scale_ : pandas.Series
        Training means and sds of the original features (with PCA).
    pca_components_ : pandas.DataFrame
        Loadings (components x original features) of the kept components.
    coef_original_ : pandas.Series
        With PCA: the path-score's coefficients on the original features
        (without PCA equal to ``coef_``), ``intercept_original_`` likewise.

    Examples
    --------
    >>> sig = PathologySignature(n_components=20, cv=5).fit(pooled_train, y_train)  # doctest: +SKIP
    >>> sig.transform(pooled_test)                                                  # doctest: +SKIP
       path_score
    0       -0.71
    """

    _model_format = "nomofuse.pathology.PathologySignature"
    _model_version = 1
    _default_name = "path_score"

    def __init__(self, *, n_components=None, outcome="binary", icc_table=None, icc_kind="ICC(3,1)",
                 icc_threshold=0.75, variance_threshold=0.0, redundancy_threshold=0.9,
                 univariate_test="auto", univariate_alpha=0.05, n_mrmr=20, cv=10, n_lambdas=50,
                 lambda_min_ratio=1e-3, one_se=True, max_features="auto", random_state=0,
                 name=None):
        super().__init__(outcome=outcome, icc_table=icc_table, icc_kind=icc_kind,
                         icc_threshold=icc_threshold, variance_threshold=variance_threshold,
                         redundancy_threshold=redundancy_threshold, univariate_test=univariate_test,
                         univariate_alpha=univariate_alpha, n_mrmr=n_mrmr, cv=cv, n_lambdas=n_lambdas,
                         lambda_min_ratio=lambda_min_ratio, one_se=one_se, max_features=max_features,
                         random_state=random_state, name=name)
        self.n_components = n_components

    # ------------------------------------------------------------ PCA
    def _pca_fit(self, X: pd.DataFrame) -> pd.DataFrame:
        nc = self.n_components
        Xv = X.astype(float)
        mean, scale = Xv.mean(), Xv.std(ddof=1)
        const = scale[~(scale > 0)].index.tolist()
        if const:
            raise ValueError(f"PathologySignature.fit: {len(const)} feature(s) are constant on the "
                             f"training data (e.g. {const[:5]}); drop them before the PCA.")
        Z = ((Xv - mean) / scale).to_numpy()
        _, s, vt = np.linalg.svd(Z - Z.mean(axis=0), full_matrices=False)
        var = s ** 2 / max(len(Z) - 1, 1)
        if isinstance(nc, float) and 0 < nc < 1:
            k = int(np.searchsorted(np.cumsum(var) / var.sum(), nc) + 1)
        elif isinstance(nc, (int, np.integer)) and nc >= 1:
            k = int(min(nc, len(s)))
        else:
            raise ValueError(f"The 'n_components' parameter of PathologySignature must be an int >= 1, "
                             f"a float in (0, 1) or None. Got {nc!r} instead.")
        # Sign convention: the largest loading of each component is positive (reproducible).
        vt = vt[:k] * np.sign(vt[:k][np.arange(k), np.abs(vt[:k]).argmax(axis=1)])[:, None]
        names = [f"pc_{i + 1:03d}" for i in range(k)]
        self.pca_mean_, self.pca_scale_ = mean, scale
        self.pca_components_ = pd.DataFrame(vt, index=names, columns=list(X.columns))
        self.pca_explained_variance_ratio_ = pd.Series(var[:k] / var.sum(), index=names)
        return self._pca_apply(X)

    def _pca_apply(self, X: pd.DataFrame) -> pd.DataFrame:
        cols = list(self.pca_components_.columns)
        missing = [c for c in cols if c not in X.columns]
        if missing:
            raise ValueError(f"PathologySignature.transform: X lacks {len(missing)} feature(s) the "
                             f"PCA was fitted on, e.g. {missing[:5]}.")
        Z = (X[cols].astype(float) - self.pca_mean_) / self.pca_scale_
        return pd.DataFrame(Z.to_numpy() @ self.pca_components_.to_numpy().T, index=X.index,
                            columns=self.pca_components_.index)

    # ------------------------------------------------------------ estimator
    def fit(self, X, y):
        """Fit the optional PCA and the signature builder on the training split; returns self."""
        X = check_dataframe(X, caller="PathologySignature.fit")
        X = X.copy()
        X.columns = [str(c) for c in X.columns]
        if self.n_components is None:
            super().fit(X, y)
            self.coef_original_, self.intercept_original_ = self.coef_, self.intercept_
            return self
        P = self._pca_fit(X)
        super().fit(P, y)
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        self.n_features_in_ = X.shape[1]
        # score = b0 + sum_c beta_c pc_c, pc_c = sum_j L_cj (x_j - m_j) / s_j
        L = self.pca_components_.loc[self.features_]
        w = (self.coef_.to_numpy() @ L.to_numpy()) / self.pca_scale_.to_numpy()
        self.coef_original_ = pd.Series(w, index=L.columns, name="coef")
        self.intercept_original_ = float(self.intercept_ - w @ self.pca_mean_.to_numpy())
        return self

    def decision_function(self, X) -> np.ndarray:
        """The path-score of each row (1-D)."""
        check_is_fitted(self, "coef_")
        X = check_dataframe(X, caller="PathologySignature.transform")
        if self.n_components is None:
            return super().decision_function(X)
        Xs = X.copy()
        Xs.columns = [str(c) for c in Xs.columns]
        return super().decision_function(self._pca_apply(Xs))

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """The model file's content: the builder's fields plus ``n_components`` and the PCA."""
        d = super().to_dict()
        if self.n_components is not None:
            d["feature_names_in"] = [str(c) for c in self.feature_names_in_]
            d["pca"] = {"mean": self.pca_mean_.tolist(), "scale": self.pca_scale_.tolist(),
                        "features": list(self.pca_components_.columns),
                        "components": self.pca_components_.to_numpy().tolist(),
                        "explained_variance_ratio": self.pca_explained_variance_ratio_.tolist()}
        return d

    @classmethod
    def _from_model_dict(cls, d: dict, source: str) -> "PathologySignature":
        obj = super()._from_model_dict(d, source)
        r = ModelReader(d, source)
        pca = r.sub("pca", optional=True)
        if (pca is None) != (obj.n_components is None):
            r.fail("must be present exactly when params.n_components is set.", "pca")
        if pca is None:
            obj.coef_original_, obj.intercept_original_ = obj.coef_, obj.intercept_
            return obj
        feats = pca.strings("features")
        p = len(feats)
        comps = pca.array("components", ndim=2, finite=True)
        if comps.ndim != 2 or comps.shape[1] != p or len(comps) == 0:
            pca.fail(f"must be a (n_components, {p}) matrix; got shape {comps.shape}.", "components")
        names = [f"pc_{i + 1:03d}" for i in range(len(comps))]
        if [f for f in obj.features_ if f not in names]:
            r.fail(f"names features that are not principal components {names[:3]}...", "features")
        scale = pca.array("scale", finite=True, shape=(p,))
        if not (scale > 0).all():
            pca.fail("must hold positive numbers.", "scale")
        obj.pca_mean_ = pd.Series(pca.array("mean", finite=True, shape=(p,)), index=feats)
        obj.pca_scale_ = pd.Series(scale, index=feats)
        obj.pca_components_ = pd.DataFrame(comps, index=names, columns=feats)
        obj.pca_explained_variance_ratio_ = pd.Series(
            pca.array("explained_variance_ratio", finite=True, shape=(len(names),)), index=names)
        L = obj.pca_components_.loc[obj.features_]
        w = (obj.coef_.to_numpy() @ L.to_numpy()) / obj.pca_scale_.to_numpy()
        obj.coef_original_ = pd.Series(w, index=L.columns, name="coef")
        obj.intercept_original_ = float(obj.intercept_ - w @ obj.pca_mean_.to_numpy())
        return obj
