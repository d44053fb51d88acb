"""A results table with model statistics, rendered for papers (statsmodels ``Summary`` style)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["SummaryTable"]


@dataclass
class SummaryTable:
    """A table of results plus a Series of scalar statistics.

    Attributes
    ----------
    table : pandas.DataFrame
        The main table (one row per coefficient, index, group ...).
    statistics : pandas.Series
        Scalar statistics shown under the table.
    title : str
    """

    table: pd.DataFrame
    statistics: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    title: str = ""

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
