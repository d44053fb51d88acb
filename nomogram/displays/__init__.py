"""Figures: each ``XxxDisplay`` draws a result computed elsewhere.

Displays import matplotlib only when they draw (``plot``), so importing
:mod:`nomogram` never needs matplotlib.
"""

from .calibration import CalibrationDisplay
from .decision_curve import ClinicalImpactDisplay, DecisionCurveDisplay
from .kaplan_meier import KaplanMeierDisplay
from .nomogram import NomogramDisplay
from .roc import RocDisplay

__all__ = [
    "CalibrationDisplay",
    "ClinicalImpactDisplay",
    "DecisionCurveDisplay",
    "KaplanMeierDisplay",
    "NomogramDisplay",
    "RocDisplay",
]
