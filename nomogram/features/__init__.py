"""Modality-free feature engineering: stability (ICC), harmonisation (ComBat), signatures.

These pieces serve every modality (radiomics, pooled slide features, deep
features) and live in the base layer so that :mod:`imaging`, :mod:`pathology`
and :mod:`fusion` share one implementation.
"""

from .harmonization import ComBat
from .signature import Signature, lasso_cox_path, lasso_logistic_path
from .stability import ICC_KINDS, FeatureStability, feature_icc, intraclass_correlation

__all__ = [
    "ComBat",
    "Signature",
    "lasso_cox_path",
    "lasso_logistic_path",
    "ICC_KINDS",
    "FeatureStability",
    "feature_icc",
    "intraclass_correlation",
]
