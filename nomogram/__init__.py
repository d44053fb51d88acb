"""nomogram: the statistical core of nomofuse.

Logistic and Cox nomograms whose coefficients and points agree with R's
``rms``; validation, calibration, discrimination, decision curves, survival
risk groups, charts and JSON export. This package imports none of
``imaging``, ``pathology`` or ``fusion``.
"""

from .cox import CoxNomogram
from .logistic import LogisticNomogram
from .model_io import load_model, save_model
from .points import Axis, Nomogram
from .exceptions import (
    ConvergenceError,
    ModelFileError,
    NotFittedError,
    SeparationError,
    StatisticalWarning,
)

__all__ = [
    "Axis",
    "CoxNomogram",
    "LogisticNomogram",
    "Nomogram",
    "ConvergenceError",
    "ModelFileError",
    "NotFittedError",
    "SeparationError",
    "StatisticalWarning",
    "load_model",
    "save_model",
]
