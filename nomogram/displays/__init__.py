"""Figures: each ``XxxDisplay`` draws a result computed elsewhere.

Displays import matplotlib only when they draw (``plot``), so importing
:mod:`nomogram` never needs matplotlib.
"""

from .anova import AnovaDisplay
from .calibration import CalibrationDisplay
from .decision_curve import ClinicalImpactDisplay, DecisionCurveDisplay
from .effects import EffectsDisplay
from .kaplan_meier import KaplanMeierDisplay
from .nomogram import NomogramDisplay
from .partial_effect import PartialEffectDisplay
from .roc import RocDisplay

__all__ = [
    "AnovaDisplay",
    "EffectsDisplay",
    "PartialEffectDisplay",
    "CalibrationDisplay",
    "ClinicalImpactDisplay",
    "DecisionCurveDisplay",
    "KaplanMeierDisplay",
    "NomogramDisplay",
    "RocDisplay",
]
