"""Reference files written by ``tests/reference/clinical/clinical_reference.R``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

CLINICAL_DIR = Path(__file__).resolve().parents[2] / "reference" / "clinical"
DATA_DIR = Path(__file__).resolve().parents[2] / "reference" / "data"


def clinical_json() -> dict:
    return json.loads((CLINICAL_DIR / "clinical_reference.json").read_text())


def clinical_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(CLINICAL_DIR / name, float_precision="round_trip")


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / f"{name}.csv", float_precision="round_trip")
