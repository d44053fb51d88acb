"""Loaders for the committed R / scikit-survival reference outputs used by these tests."""

import json
from pathlib import Path

import pandas as pd

REF = Path(__file__).resolve().parents[2] / "reference"


def proc():
    """(scores DataFrame, pROC/Hmisc JSON) on the Rossi data (tests/reference/pROC)."""
    d = REF / "pROC"
    return pd.read_csv(d / "rossi_scores.csv"), json.loads((d / "proc_reference.json").read_text())


def surv():
    """(scores DataFrame, survival/Hmisc JSON, scikit-survival JSON) on GBSG2."""
    d = REF / "survival_metrics"
    return (
        pd.read_csv(d / "gbsg2_scores.csv"),
        json.loads((d / "survival_reference.json").read_text()),
        json.loads((d / "sksurv_reference.json").read_text()),
    )
