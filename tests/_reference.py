"""Load the committed R reference values under ``tests/reference/``.

The values are produced by ``tests/reference/rms_models.R`` (R ``rms``/``survival``;
versions recorded in each JSON file under ``meta.versions``) from the CSV files in
``tests/reference/data/``.  See ``tests/reference/README.md`` for the layout of the
JSON files and the specification of what ``rms`` computes.

Examples
--------
>>> ref = load_rms_reference("L1")
>>> ref["coefficients"]["names"][:3]
['Intercept', 'age', "age'"]
>>> gbsg2 = reference_data("gbsg2")
>>> gbsg2.shape
(686, 10)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
RMS_DIR = REFERENCE_DIR / "rms_models"
DATA_DIR = REFERENCE_DIR / "data"

#: sha256 of each committed data file (also listed in tests/reference/README.md).
DATA_SHA256 = {
    "gbsg2": "695954dbed9eaa619f9854f6c945bdccf5b21b12ea3fb46bd28797b9e8284d49",
    "rossi": "0214400170e07f3015a285edca2014cac0dae8aac125fcbaad642490e05f892c",
}

# Columns R reads as factors (default alphabetical levels); all others are integer.
_CATEGORICAL = {
    "gbsg2": {"horTh": ["no", "yes"], "menostat": ["Post", "Pre"], "tgrade": ["I", "II", "III"]},
    "rossi": {},
}


def load_rms_reference(name: str) -> dict:
    """Return the parsed JSON written by ``rms_models.R`` for one model.

    Parameters
    ----------
    name : str
        Model name: ``"L1"``, ``"L2"``, ``"L3"``, ``"L4_pen2"``, ``"L4_pen10"``,
        ``"C1"`` or ``"C2"``.

    Returns
    -------
    dict
        JSON content.  Matrices are ``{"rownames", "colnames", "values"}`` with
        ``values`` row-major; R's ``NA``/``Inf`` are ``None``.  Use
        :func:`reference_matrix` to get a labelled DataFrame.
    """
    path = RMS_DIR / f"{name}.json"
    if not path.is_file():
        available = sorted(p.stem for p in RMS_DIR.glob("*.json"))
        raise FileNotFoundError(
            f"no rms reference named {name!r} in {RMS_DIR}; available: {available}. "
            "Regenerate with `Rscript tests/reference/rms_models.R`."
        )
    with path.open() as fh:
        return json.load(fh)


def reference_matrix(m: dict) -> pd.DataFrame:
    """Turn a matrix stored as ``{"rownames", "colnames", "values"}`` into a DataFrame."""
    values = np.array(
        [[np.nan if v is None else v for v in row] for row in m["values"]], dtype=float
    )
    return pd.DataFrame(values, index=m.get("rownames"), columns=m.get("colnames"))


def reference_data(name: str, check_hash: bool = True) -> pd.DataFrame:
    """Read a reference data set with the dtypes R used.

    Parameters
    ----------
    name : {"gbsg2", "rossi"}
        Data set exported from ``lifelines.datasets`` (``load_gbsg2``, ``load_rossi``).
    check_hash : bool, default True
        Verify the file's sha256 against :data:`DATA_SHA256`.

    Returns
    -------
    pandas.DataFrame
        Categorical columns (R factors) as ``str`` (object dtype) with the level
        sets R used; every other column ``int64``.
    """
    if name not in DATA_SHA256:
        raise ValueError(
            f"The 'name' parameter of reference_data must be one of {sorted(DATA_SHA256)}. "
            f"Got {name!r} instead."
        )
    path = DATA_DIR / f"{name}.csv"
    if check_hash:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != DATA_SHA256[name]:
            raise ValueError(
                f"{path} has sha256 {digest} but {DATA_SHA256[name]} was expected; "
                "restore the committed file (git checkout) before comparing to R."
            )
    cats = _CATEGORICAL[name]
    df = pd.read_csv(path, dtype={c: str for c in cats})
    for col, levels in cats.items():
        found = sorted(df[col].unique())
        if found != levels:
            raise ValueError(f"{name}.{col} has levels {found}, expected {levels}")
    for col in df.columns:
        if col not in cats:
            df[col] = df[col].astype("int64")
    return df
