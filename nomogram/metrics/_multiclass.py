"""Multi-class discrimination (e.g. four lesion classes on PET/CT)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..checks import check_option, renamed_parameter
from ._roc import _check_conf_level, roc_auc_ci

__all__ = ["MulticlassResult", "multiclass_metrics"]


@dataclass
class MulticlassResult:
    """Per-class and overall metrics of a multi-class classifier.

    Attributes
    ----------
    classes : list
    per_class : pandas.DataFrame
        Index: class. Columns precision, recall, f1-score, support (as
        scikit-learn's ``classification_report``) and, when probabilities were
        given, AUC, AUC_lower, AUC_upper, AUC_se (one-vs-rest, DeLong).
    accuracy : float
    averages : pandas.DataFrame
        Rows "macro avg" and "weighted avg"; columns precision, recall,
        f1-score, support.
    confusion_matrix : pandas.DataFrame
        Rows: true class; columns: predicted class.
    conf_level : float
    """

    classes: list
    per_class: pd.DataFrame
    accuracy: float
    averages: pd.DataFrame
    confusion_matrix: pd.DataFrame
    conf_level: float

    def summary(self) -> pd.DataFrame:
        """Per-class rows, then "accuracy", "macro avg" and "weighted avg" rows."""
        acc = pd.DataFrame(
            [{"precision": np.nan, "recall": np.nan, "f1-score": self.accuracy,
              "support": int(self.per_class["support"].sum())}],
            index=["accuracy"],
        )
        out = pd.concat([self.per_class, acc, self.averages])
        out.index = [str(i) for i in out.index]
        return out


def _prf(cm):
    tp = np.diag(cm).astype(float)
    pred = cm.sum(axis=0).astype(float)
    true = cm.sum(axis=1).astype(float)
    # zero_division=0, scikit-learn's default value (it also warns)
    precision = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
    recall = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
    den = precision + recall
    f1 = np.divide(2 * precision * recall, den, out=np.zeros_like(tp), where=den > 0)
    return precision, recall, f1, true


@renamed_parameter("y_true", "y")
def multiclass_metrics(
    y,
    proba=None,
    *,
    y_pred=None,
    classes=None,
    conf_level=0.95,
    auc_method="delong",
) -> MulticlassResult:
    """One-vs-rest AUC with DeLong CI, accuracy, precision/recall/F1 and confusion matrix.

    * Per class :math:`k`: precision = :math:`C_{kk}/\\sum_i C_{ik}`,
      recall = :math:`C_{kk}/\\sum_j C_{kj}`, F1 = their harmonic mean (0 when
      undefined, scikit-learn's ``zero_division=0``), with :math:`C` the
      confusion matrix (rows true, columns predicted).
    * Macro average: unweighted mean over classes; weighted average: weighted
      by support. Accuracy = :math:`\\operatorname{tr} C / n`. These agree
      with :func:`sklearn.metrics.classification_report`.
    * One-vs-rest AUC of class :math:`k`: ROC of ``proba[:, k]`` for
      "class k" vs "any other class" with the DeLong CI of
      :func:`roc_auc_ci`.

    Parameters
    ----------
    y : array-like of shape (n,)
        True class labels.
    proba : array-like or DataFrame of shape (n, K), optional
        Predicted class probabilities; columns in the order of ``classes``
        (a DataFrame's column names are used as classes).
    y_pred : array-like of shape (n,), optional
        Predicted labels; default: the class of largest probability.
    classes : sequence, optional
        Class labels; default: DataFrame columns, else sorted unique labels
        of ``y`` and ``y_pred``.
    conf_level : float, default 0.95
    auc_method : {"delong", "bootstrap"}, default "delong"

    Returns
    -------
    MulticlassResult

    References
    ----------
    scikit-learn ``classification_report``, ``confusion_matrix``;
    DeLong ER, et al. Biometrics 1988;44:837-45.
    """
    caller = "multiclass_metrics"
    conf_level = _check_conf_level(conf_level, caller)
    check_option(auc_method, ("delong", "bootstrap"), name="auc_method", caller=caller)
    yt = np.asarray(y).reshape(-1)
    if pd.isna(yt).any():
        raise ValueError(f"{caller}: y has {int(pd.isna(yt).sum())} missing label(s).")
    if proba is None and y_pred is None:
        raise ValueError(f"{caller}: pass class probabilities `proba` and/or predicted labels `y_pred`.")
    P = None
    if proba is not None:
        if isinstance(proba, pd.DataFrame):
            if classes is None:
                classes = list(proba.columns)
            P = proba.to_numpy(dtype=float)
        else:
            P = np.asarray(proba, dtype=float)
        if P.ndim != 2 or P.shape[0] != len(yt):
            raise ValueError(
                f"{caller}: proba must have shape (n, K) with n = {len(yt)} rows; got {P.shape}."
            )
        if not np.isfinite(P).all():
            raise ValueError(f"{caller}: proba has missing or infinite values.")
    if classes is None:
        labels = yt if y_pred is None else np.concatenate([yt, np.asarray(y_pred).reshape(-1)])
        classes = list(np.unique(labels))
    classes = list(classes)
    if P is not None and P.shape[1] != len(classes):
        raise ValueError(
            f"{caller}: proba has {P.shape[1]} columns but there are {len(classes)} classes "
            f"{classes}; pass `classes` in the column order of proba."
        )
    if y_pred is None:
        yp = np.asarray(classes, dtype=object)[np.argmax(P, axis=1)]
    else:
        yp = np.asarray(y_pred).reshape(-1)
        if len(yp) != len(yt):
            raise ValueError(f"{caller}: y_pred has {len(yp)} labels but y has {len(yt)}.")
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({str(v) for v in np.concatenate([yt, yp]) if v not in index})
    if unknown:
        raise ValueError(f"{caller}: labels {unknown[:5]} are not among the classes {classes}.")
    ti = np.array([index[v] for v in yt])
    pi = np.array([index[v] for v in yp])
    K = len(classes)
    cm = np.zeros((K, K), dtype=int)
    np.add.at(cm, (ti, pi), 1)
    precision, recall, f1, support = _prf(cm)
    per = pd.DataFrame(
        {"precision": precision, "recall": recall, "f1-score": f1, "support": support.astype(int)},
        index=pd.Index(classes, name="class"),
    )
    if P is not None:
        aucs = []
        for k in range(K):
            yk = (ti == k).astype(float)
            if yk.sum() < 2 or (1 - yk).sum() < 2:
                aucs.append((np.nan, np.nan, np.nan, np.nan))
                continue
            r = roc_auc_ci(yk, P[:, k], method=auc_method, conf_level=conf_level, random_state=k)
            aucs.append((r.auc, r.lower, r.upper, r.se))
        per[["AUC", "AUC_lower", "AUC_upper", "AUC_se"]] = np.array(aucs)
    w = support / support.sum()
    averages = pd.DataFrame(
        {
            "precision": [precision.mean(), precision @ w],
            "recall": [recall.mean(), recall @ w],
            "f1-score": [f1.mean(), f1 @ w],
            "support": [int(support.sum())] * 2,
        },
        index=["macro avg", "weighted avg"],
    )
    cmdf = pd.DataFrame(
        cm, index=pd.Index(classes, name="true"), columns=pd.Index(classes, name="predicted")
    )
    return MulticlassResult(classes, per, float(np.trace(cm) / cm.sum()), averages, cmdf, conf_level)
