"""Reading CSV tables without letting pandas parse arbitrary text as numbers.

pandas 2.3's C parser and ``to_numeric`` crash the process (a segmentation
fault, not an exception) on text such as ``"5e3412345678901234"`` (a hex
digest or an identifier that looks like a number with a huge exponent).
:func:`read_table` reads every cell as text and converts a column to numbers
only when Python's own ``float`` accepts all of its cells, so a study's
tables (and the user's clinical table) can hold any identifier.
"""

from __future__ import annotations

import os

import pandas as pd

__all__ = ["read_table"]


def _numeric(values: pd.Series) -> pd.Series | None:
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and v != v):
            out.append(float("nan"))
            continue
        try:
            out.append(float(v))
        except ValueError:
            return None
    return pd.Series(out, index=values.index, dtype=float)


def read_table(path: str | os.PathLike, *, text=()) -> pd.DataFrame:
    """A CSV (or Parquet) file as a DataFrame; numeric columns as float, the rest as text.

    Parameters
    ----------
    path : str or path
    text : sequence of str
        Columns always kept as text (identifiers such as ``patient_id``).
    """
    path = os.fspath(path)
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    for c in df.columns:
        if c in text:
            continue
        num = _numeric(df[c])
        if num is not None and df[c].notna().any():
            if (num.dropna() == num.dropna().round()).all() and num.notna().all() and \
                    not df[c].str.contains(r"[.eE]", regex=True).any():
                df[c] = num.astype("int64")
            else:
                df[c] = num
    return df
