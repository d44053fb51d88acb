"""Per-modality labels: one score per patient from one modality's feature table.

A *label* (a "rad-score", a "path-score") turns a modality's features
(radiomics columns, pooled slide features, deep imaging features) into one
number per patient that later joins the clinical factors of a nomogram
(late fusion). Two scorers are offered:

* ``method="lasso"``: the signature builder of the base layer
  (:mod:`nomogram.features`: filters, mRMR and a cross-validated LASSO); the
  score is its linear predictor (log-odds, or Cox log relative hazard);
* ``method="xgboost"``: gradient-boosted trees (``binary:logistic`` or
  ``survival:cox``); the score is the margin (log-odds or log hazard ratio).

The third kind of label, a modality head of the early-fusion network, comes
from :class:`fusion.models.EarlyFusion` (``imaging_label``,
``pathology_label``), which cross-fits the same way.

Leakage-safe by construction (as scikit-learn's ``TargetEncoder``):
``fit_transform(X, y)`` returns **cross-fitted** scores: each patient's score
comes from a model fitted on the other folds only (folds of patients, so a
patient's several lesions or slides never straddle folds, stratified by the
outcome), with every filter, scaler and the model refitted inside each fold.
``fit(X, y).transform(X_new)`` applies the one model fitted on the whole
training split, unchanged, to test and external patients. Feeding
``fit(X, y).transform(X)`` of the training patients to a nomogram is
in-sample stacking: it inflates the nomogram's training AUC (see
``tests/fusion/test_fusion_labels.py``).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from nomogram.checks import check_columns, check_dataframe, check_is_fitted, check_option
from nomogram.exceptions import StatisticalWarning
from nomogram.features import Signature
from nomogram.model_io import ModelFileMixin, ModelReader, model_from_dict

from ._patients import AGGREGATES, aggregate_rows, patient_folds, patient_outcome

__all__ = ["ModalityLabel", "XGBOOST_DEFAULTS"]


#: XGBoost settings used unless ``params`` overrides them: shallow trees and a
#: small learning rate, the usual choice for a few hundred patients.
XGBOOST_DEFAULTS = {
    "n_estimators": 200,
    "max_depth": 3,
    "learning_rate": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 1.0,
    "reg_lambda": 1.0,
}

# The signature builder's refusals that mean "the features carry no signal".
_NO_SIGNAL = ("keeps no feature", "no feature passed the univariate screen")


class ModalityLabel(ModelFileMixin, TransformerMixin, BaseEstimator):
    """A modality's label: LASSO signature or XGBoost score, cross-fitted on the training split.

    Parameters
    ----------
    method : {"lasso", "xgboost"}, default "lasso"
    outcome : {"binary", "survival"}, default "binary"
        ``y`` is 0/1 (binary) or a DataFrame ``[time, event]`` (survival).
    name : str, default "label"
        Column name of the score (e.g. ``"imaging_label"``, ``"pathology_label"``).
    aggregate : {"max", "mean", "largest"} or None, default None
        How a patient's several rows (lesions, slides) combine into one before
        any fitting: feature-wise maximum (max pooling) or mean, or the row
        with the largest ``size_column``. None: every patient must have one row.
    size_column : str, optional
        Column of ``X`` holding each row's size, for ``aggregate="largest"``.
    params : dict, optional
        Parameters of the scorer: keyword arguments of the signature builder
        (``nomogram.features.Signature``) for ``"lasso"``, of
        ``xgboost.XGBClassifier`` / ``XGBRegressor`` for ``"xgboost"`` (on top
        of :data:`XGBOOST_DEFAULTS`).
    cv : int, default 5
        Folds of the cross-fitting in :meth:`fit_transform`.
    no_signal : {"constant", "raise"}, default "constant"
        When the LASSO keeps no feature (on the training split or in a fold),
        ``"constant"`` gives every patient the same score (the training
        log-odds of the event, or 0 for survival) with a
        :class:`~nomogram.exceptions.StatisticalWarning`; ``"raise"`` re-raises.
    random_state : int or None, default 0
        Seeds the folds, the LASSO's inner CV and XGBoost.
    n_jobs : int, default 1
        XGBoost threads.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    model_ : fitted signature, ``xgboost.Booster`` or None (constant label)
    constant_ : float or None
        The score of every patient when the label is constant.
    cross_fitted_ : pandas.Series
        After :meth:`fit_transform`: the out-of-fold score of each training patient.
    folds_ : pandas.Series
        After :meth:`fit_transform`: the fold (0..cv-1) of each training patient.
    n_patients_ : int

    Examples
    --------
    >>> lab = ModalityLabel("xgboost", name="imaging_label", aggregate="max")   # doctest: +SKIP
    >>> train_scores = lab.fit_transform(rad_train, y_train, groups=rad_train["patient"])  # doctest: +SKIP
    >>> test_scores = lab.transform(rad_test, groups=rad_test["patient"])      # doctest: +SKIP
    """

    def __init__(self, method="lasso", *, outcome="binary", name="label", aggregate=None, size_column=None,
                 params=None, cv=5, no_signal="constant", random_state=0, n_jobs=1):
        self.method = method
        self.outcome = outcome
        self.name = name
        self.aggregate = aggregate
        self.size_column = size_column
        self.params = params
        self.cv = cv
        self.no_signal = no_signal
        self.random_state = random_state
        self.n_jobs = n_jobs

    # ----------------------------------------------------------------- input
    def _check_params(self, caller):
        check_option(self.method, ("lasso", "xgboost"), name="method", caller=caller)
        check_option(self.outcome, ("binary", "survival"), name="outcome", caller=caller)
        check_option(self.no_signal, ("constant", "raise"), name="no_signal", caller=caller)
        if self.aggregate is not None:
            check_option(self.aggregate, AGGREGATES, name="aggregate", caller=caller)
        if self.params is not None and not isinstance(self.params, dict):
            raise TypeError(f"The 'params' parameter of {caller} must be a dict or None. Got {self.params!r} instead.")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"The 'name' parameter of {caller} must be a non-empty str. Got {self.name!r} instead.")

    def _features(self, X, groups, caller, *, fitting):
        """Numeric feature table, one row per patient."""
        X = check_dataframe(X, caller=caller, allow_missing=True)
        if fitting:
            cols = [str(c) for c in X.columns]
        else:
            check_is_fitted(self, "feature_names_in_")
            cols = list(self.feature_names_in_)
        Xs = X.copy()
        Xs.columns = [str(c) for c in X.columns]
        check_columns(Xs, cols, caller=caller, what="feature column(s)")
        keep = cols + ([self.size_column] if self.size_column in Xs.columns and self.size_column not in cols else [])
        Xs = Xs[keep]
        bad = [c for c in cols if not pd.api.types.is_numeric_dtype(Xs[c])]
        if bad:
            raise TypeError(
                f"{caller}: feature column(s) {bad[:5]} are not numeric; pass feature columns only "
                "(patient ids go in groups=)."
            )
        values = Xs[cols].to_numpy(dtype=float)
        if np.isinf(values).any():
            r, c = np.argwhere(np.isinf(values))[0]
            raise ValueError(f"{caller}: X has an infinite value at row {X.index[r]!r}, column '{cols[c]}'.")
        if self.method == "lasso" and np.isnan(values).any():
            r, c = np.argwhere(np.isnan(values))[0]
            raise ValueError(
                f"{caller}: X has {int(np.isnan(values).sum())} missing value(s) (first at row {X.index[r]!r}, "
                f"column '{cols[c]}'); the LASSO label needs complete features. Impute them, or use "
                "method='xgboost', which handles missing values."
            )
        P = aggregate_rows(Xs, groups, aggregate=self.aggregate, size_column=self.size_column, caller=caller)
        return P[cols], cols

    # ----------------------------------------------------------------- fit
    def fit(self, X, y, groups=None) -> "ModalityLabel":
        """Fit the label on the whole training split.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_rows, n_features)
            Numeric features; several rows per patient allowed with ``groups``.
        y : array-like (n_rows,) or DataFrame [time, event]
            The outcome of each row's patient (equal on a patient's rows).
        groups : array-like of shape (n_rows,), optional
            Patient id of each row.

        Returns
        -------
        self
        """
        caller = f"{type(self).__name__}.fit"
        self._check_params(caller)
        P, cols = self._features(X, groups, caller, fitting=True)
        yy = patient_outcome(y, groups, len(X), outcome=self.outcome, caller=caller, index=X.index)
        self.feature_names_in_ = np.asarray(cols, dtype=object)
        self.n_features_in_ = len(cols)
        self.n_patients_ = len(P)
        self.model_, self.constant_ = self._fit_scorer(P, yy, caller)
        return self

    def fit_transform(self, X, y, groups=None) -> pd.DataFrame:
        """Fit on the whole training split and return the **cross-fitted** training scores.

        Each patient's score comes from a model fitted, filters included, on
        the other ``cv`` - 1 folds of patients (stratified by outcome or
        event). The model kept for :meth:`transform` is fitted on all patients.

        Returns
        -------
        pandas.DataFrame
            One column ``name``, one row per patient (index: patient id, or
            the index of ``X`` without ``groups``).
        """
        caller = f"{type(self).__name__}.fit_transform"
        self.fit(X, y, groups)
        P, _ = self._features(X, groups, caller, fitting=False)
        yy = patient_outcome(y, groups, len(X), outcome=self.outcome, caller=caller, index=X.index)
        strata = yy if self.outcome == "binary" else yy[1]
        folds = patient_folds(strata, self.cv, self.random_state, caller=type(self).__name__)
        oof = np.empty(len(P))
        for k in range(int(self.cv)):
            test = folds == k
            train = ~test
            ytr = yy[train] if self.outcome == "binary" else (yy[0][train], yy[1][train])
            model, const = self._fit_scorer(P.iloc[np.flatnonzero(train)], ytr, f"{caller} (fold {k + 1} of {self.cv})")
            oof[test] = self._score(model, const, P.iloc[np.flatnonzero(test)])
        self.cross_fitted_ = pd.Series(oof, index=P.index, name=self.name)
        self.folds_ = pd.Series(folds, index=P.index, name="fold")
        return self.cross_fitted_.to_frame()

    def _fit_scorer(self, P, yy, caller):
        params = dict(self.params or {})
        if self.method == "lasso":
            params.setdefault("random_state", self.random_state)
            if self.outcome == "survival":
                params.setdefault("univariate_test", "cox")
            sig = Signature(outcome=self.outcome, **params)
            y_arg = yy if self.outcome == "binary" else pd.DataFrame({"time": yy[0], "event": yy[1]}, index=P.index)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", StatisticalWarning)  # 1-SE fallback: in selection_report_
                    sig.fit(P, y_arg)
            except ValueError as err:
                if self.no_signal == "raise" or not any(s in str(err) for s in _NO_SIGNAL):
                    raise
                const = _constant_score(yy, self.outcome)
                warnings.warn(
                    f"{caller}: the LASSO label '{self.name}' keeps no feature ({err}); every patient "
                    f"gets the constant score {const:.4g}.", StatisticalWarning, stacklevel=3)
                return None, const
            return sig, None
        return _fit_xgboost(P.to_numpy(dtype=float), yy, self.outcome, params, self.random_state, self.n_jobs), None

    def _score(self, model, const, P) -> np.ndarray:
        if model is None:
            return np.full(len(P), const)
        if self.method == "lasso":
            return np.asarray(model.decision_function(P), dtype=float)
        import xgboost as xgb

        d = xgb.DMatrix(P.to_numpy(dtype=float), feature_names=None)
        return np.asarray(model.predict(d, output_margin=True), dtype=float)

    # ----------------------------------------------------------------- apply
    def decision_function(self, X, groups=None) -> np.ndarray:
        """The score of each patient (1-D), from the model fitted on the whole training split."""
        caller = f"{type(self).__name__}.transform"
        check_is_fitted(self, "feature_names_in_")
        P, _ = self._features(X, groups, caller, fitting=False)
        return self._score(self.model_, self.constant_, P)

    def transform(self, X, groups=None) -> pd.DataFrame:
        """Scores of new patients (test, external): one column ``name``, one row per patient."""
        caller = f"{type(self).__name__}.transform"
        check_is_fitted(self, "feature_names_in_")
        P, _ = self._features(X, groups, caller, fitting=False)
        return pd.DataFrame({self.name: self._score(self.model_, self.constant_, P)}, index=P.index)

    def summary(self) -> pd.DataFrame:
        """What the label uses: one row per feature it was fitted on.

        Columns ``weight`` (the signature's coefficient for ``"lasso"``, 0 for a
        feature it dropped; XGBoost's total gain for ``"xgboost"``, 0 for a
        feature no tree splits on; 0 everywhere for a constant label) and
        ``used`` (bool).
        """
        check_is_fitted(self, "feature_names_in_")
        names = [str(c) for c in self.feature_names_in_]
        weight = pd.Series(0.0, index=pd.Index(names, name="feature"))
        if self.model_ is not None and self.method == "lasso":
            coef = self.model_.coef_
            weight.loc[[str(c) for c in coef.index]] = coef.to_numpy(dtype=float)
        elif self.model_ is not None:
            gain = self.model_.get_score(importance_type="total_gain")  # keys f0, f1, ... in column order
            for key, value in gain.items():
                weight.iloc[int(key[1:])] = float(value)
        return pd.DataFrame({"weight": weight, "used": weight != 0})

    def get_feature_names_out(self, input_features=None):
        return np.asarray([self.name], dtype=object)

    # ----------------------------------------------------------------- model file
    _model_format = "nomofuse.fusion.ModalityLabel"
    _model_version = 2
    _model_unsigned_versions = (1,)  # version 1: the same fields, written before checksums

    def to_dict(self) -> dict:
        """The model-file content (:mod:`nomogram.model_io`); ``to_json`` adds the checksum."""
        check_is_fitted(self, "feature_names_in_")
        params = self.get_params()
        if isinstance(params.get("random_state"), np.random.Generator):
            params["random_state"] = None
        if self.model_ is None:
            model = {"kind": "constant", "value": float(self.constant_)}
        elif self.method == "lasso":
            model = {"kind": "signature", "signature": json.loads(self.model_.to_json())}
        else:
            model = {"kind": "xgboost", "booster": json.loads(bytes(self.model_.save_raw(raw_format="json")).decode("utf-8"))}
        return {
            **self._model_header(),
            "params": params,
            "feature_names_in": [str(c) for c in self.feature_names_in_],
            "n_patients": int(self.n_patients_),
            "model": model,
        }

    @classmethod
    def _from_model_dict(cls, data: dict, source: str) -> "ModalityLabel":
        r = ModelReader(data, source)
        try:
            obj = cls(**r.get("params", dict))
        except TypeError as err:
            r.fail(f"does not fit {cls.__name__} ({err}).", "params")
        obj.feature_names_in_ = np.asarray(r.strings("feature_names_in"), dtype=object)
        obj.n_features_in_ = len(obj.feature_names_in_)
        obj.n_patients_ = int(r.get("n_patients", int))
        m = r.sub("model")
        kind = m.get("kind", str)
        obj.constant_ = None
        if kind == "constant":
            obj.model_, obj.constant_ = None, m.number("value")
        elif kind == "signature":
            sig = model_from_dict(m.get("signature", dict), source=f"{source} (field 'model.signature')")
            if not isinstance(sig, Signature):
                m.fail(f"must hold a signature; got a {type(sig).__name__}.", "signature")
            obj.model_ = sig
        elif kind == "xgboost":
            import xgboost as xgb

            booster = xgb.Booster()
            booster.load_model(bytearray(json.dumps(m.get("booster", dict)).encode("utf-8")))
            obj.model_ = booster
        else:
            m.fail(f"must be 'constant', 'signature' or 'xgboost'; got {kind!r}.", "kind")
        return obj


def _constant_score(yy, outcome) -> float:
    if outcome == "survival":
        return 0.0
    p = float(np.mean(yy))
    return float(np.log(p / (1 - p)))


def _fit_xgboost(Xv, yy, outcome, params, random_state, n_jobs):
    """A fitted ``xgboost.Booster``: binary:logistic, or survival:cox (label -time for censored)."""
    import xgboost as xgb

    p = {**XGBOOST_DEFAULTS, **params}
    seed = random_state if isinstance(random_state, (int, np.integer)) else 0
    if outcome == "binary":
        est = xgb.XGBClassifier(objective="binary:logistic", random_state=int(seed), n_jobs=n_jobs, **p)
        est.fit(Xv, yy.astype(int))
    else:
        time, event = yy
        label = np.where(event == 1, time, -time)
        est = xgb.XGBRegressor(objective="survival:cox", random_state=int(seed), n_jobs=n_jobs, **p)
        est.fit(Xv, label)
    return est.get_booster()

