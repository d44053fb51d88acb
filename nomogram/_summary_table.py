"""A results table with model statistics, rendered for papers (statsmodels ``Summary`` style)."""

from __future__ import annotations

import pandas as pd

__all__ = ["SummaryTable"]


class SummaryTable(pd.DataFrame):
    """A results table (a DataFrame) that also carries scalar statistics and a title.

    It *is* the main table (one row per coefficient, index, group ...), so
    every DataFrame operation works on it; anything derived from it (a
    slice, ``round``, ``copy``) is a plain DataFrame.

    Parameters / attributes
    -----------------------
    table : pandas.DataFrame
        The main table; also readable as ``.table`` (a plain DataFrame copy).
    statistics : pandas.Series
        Scalar statistics shown under the table (n, events, LR chi2, ...).
    title : str
    """

    _metadata = ["statistics", "title"]

    def __init__(self, table=None, statistics=None, title: str = "", **kwargs):
        super().__init__(table, **kwargs)
        self.statistics = pd.Series(dtype=float) if statistics is None else statistics
        self.title = title

    @property
    def _constructor(self):
        return pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        """The main table as a plain DataFrame."""
        return pd.DataFrame(self, copy=True)

    def as_text(self, float_format: str = "{:.4g}") -> str:
        body = self.table.to_string(float_format=lambda v: float_format.format(v))
        lines = [self.title, body] if self.title else [body]
        if len(self.statistics):
            lines.append(self.statistics.to_string(float_format=lambda v: float_format.format(v)))
        return "\n\n".join(lines)

    def as_html(self) -> str:
        parts = [f"<h4>{self.title}</h4>"] if self.title else []
        parts.append(self.table.to_html(float_format=lambda v: f"{v:.4g}"))
        if len(self.statistics):
            parts.append(self.statistics.to_frame("value").to_html(float_format=lambda v: f"{v:.4g}"))
        return "\n".join(parts)

    def as_latex(self) -> str:
        out = self.table.to_latex(float_format=lambda v: f"{v:.4g}")
        if len(self.statistics):
            out += "\n" + self.statistics.to_frame("value").to_latex(float_format=lambda v: f"{v:.4g}")
        return out

    def __repr__(self) -> str:  # pragma: no cover - display only
        return self.as_text()

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return self.as_html()
