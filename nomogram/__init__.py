"""nomogram: the statistical core of nomofuse.

Logistic and Cox nomograms whose coefficients and points agree with R's
``rms``; validation, calibration, discrimination, decision curves, survival
risk groups, charts and JSON export. This package imports none of
``imaging``, ``pathology`` or ``fusion``.
"""

from .calibration import CalibrationResult, ValProbResult, calibrate, val_prob
from .cox import CoxNomogram
from .logistic import LogisticNomogram
from .model_io import load_model, register_model_format, save_model
from .points import Axis, Nomogram
from .points_formulas import PointsFormulas, points_formulas, points_table
from .validation import ValidationResult, validate
from .decision_curve import DecisionCurveResult, decision_curve
from .risk_groups import RiskGroups, maxstat_cutoff, risk_groups, time_dependent_roc
from ._kaplan_meier import KaplanMeier, kaplan_meier
from ._logrank import LogRankResult, logrank_test
from .tables import RegressionTable, TableOne, regression_table, table_one
from .wald_anova import AnovaResult, anova
from .effect_summary import EffectsResult, effects
from .effect_curves import PartialEffects, partial_effects
from .imputation import MultipleImputationFit, fit_mult_impute, impute_datasets
from . import metrics
from .metrics import delong_test, harrell_c, roc_auc_ci, uno_c
from .exceptions import (
    ConvergenceError,
    ModelFileError,
    NotFittedError,
    ExtrapolationWarning,
    SeparationError,
    SeparationWarning,
    StatisticalWarning,
)

__all__ = [
    "MultipleImputationFit",
    "fit_mult_impute",
    "impute_datasets",
    "CalibrationResult",
    "ValProbResult",
    "ValidationResult",
    "calibrate",
    "val_prob",
    "validate",
    "Axis",
    "CoxNomogram",
    "LogisticNomogram",
    "Nomogram",
    "PointsFormulas",
    "points_formulas",
    "points_table",
    "ConvergenceError",
    "ModelFileError",
    "NotFittedError",
    "SeparationError",
    "SeparationWarning",
    "ExtrapolationWarning",
    "StatisticalWarning",
    "load_model",
    "register_model_format",
    "save_model",
    "DecisionCurveResult",
    "decision_curve",
    "RiskGroups",
    "maxstat_cutoff",
    "risk_groups",
    "time_dependent_roc",
    "KaplanMeier",
    "kaplan_meier",
    "LogRankResult",
    "logrank_test",
    "RegressionTable",
    "TableOne",
    "regression_table",
    "table_one",
    "AnovaResult",
    "anova",
    "EffectsResult",
    "effects",
    "PartialEffects",
    "partial_effects",
    "metrics",
    "delong_test",
    "harrell_c",
    "roc_auc_ci",
    "uno_c",
]
