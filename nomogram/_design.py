"""From a DataFrame of predictors to the numeric design matrix rms would build.

A :class:`Design` is learnt once from the training data (knots, levels,
``datadist`` limits) and then applied unchanged to any new data. It knows
three kinds of terms and any number of two-way interactions:

* ``linear`` — the value itself, one column named as the variable;
* ``rcs`` — a restricted cubic spline (:mod:`nomogram._splines`), columns
  ``age``, ``age'``, ``age''``;
* ``categorical`` — one indicator per non-reference level, ``grade=G2``; the
  reference is the first sorted level (R's default factor coding), or the first
  category of a pandas ``Categorical`` column (like an R factor's own levels);
* interaction ``(a, b)`` — the products of every column of ``a`` with every
  column of ``b`` (``a``'s column varying fastest), named ``age * horTh=yes``,
  ``age' * horTh=yes``, ``age * size``; the interactions follow all main
  effects in the order given, as R orders model terms (rms ``a * b + a * c``).

The ``datadist`` limits follow rms ``datadist``: numeric variables adjust to
the median (the lower value if binary, the middle one if three-valued) and
span their full range on a nomogram; variables with at most 10 distinct values
keep those values; categorical variables adjust to their most frequent level.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .checks import check_dataframe, check_numeric_values, check_predictor_types, python_value
from ._datadist import effect_limits, prediction_limits
from ._splines import rcs_basis, rcs_column_names, rcs_knots

__all__ = ["Term", "Design", "format_level", "interaction_pairs"]

# rms datadist keeps the distinct values of a numeric variable with at most this many
_N_UNIQUE = 10


def format_level(value) -> str:
    """Level label as R prints it (``2`` not ``2.0``)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (np.integer,)):
        return str(int(value))
    return str(value)


def _to_python(value):
    """JSON-safe scalar."""
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass
class Term:
    """One predictor of the model and everything needed to re-create its columns."""

    name: str
    kind: str  # "linear", "rcs" or "categorical"
    columns: list[str]
    knots: list[float] | None = None
    levels: list | None = None
    adjust: object = None
    low: float | None = None
    high: float | None = None
    values: list | None = None
    # rms datadist Low:effect/High:effect and Low:prediction/High:prediction
    # (numeric terms; see nomogram._datadist); None in files written before them
    effect_limits: list | None = None
    prediction_limits: list | None = None

    def basis(self, x: pd.Series, caller: str = "predict") -> np.ndarray:
        """Design columns of this term for the values ``x``."""
        if self.kind == "categorical":
            codes = pd.Categorical(x, categories=self.levels)
            unseen = pd.isna(codes) & ~pd.isna(x)
            if unseen.any():
                bad = pd.unique(np.asarray(x)[np.asarray(unseen)])[:5].tolist()
                raise ValueError(
                    f"{caller}: column '{self.name}' has level(s) {bad} not seen in the "
                    f"training data; known levels are {self.levels}. Recode them to a known "
                    "level or refit the model."
                )
            idx = np.asarray(codes.codes)
            out = np.zeros((len(idx), len(self.levels) - 1))
            rows = np.flatnonzero(idx > 0)
            out[rows, idx[rows] - 1] = 1.0
            return out
        xv = check_numeric_values(x, name=self.name, caller=caller)
        if self.kind == "rcs":
            return rcs_basis(xv, self.knots)
        return xv[:, None]


def interaction_pairs(interaction, caller: str = "fit") -> list[tuple[str, str]]:
    """The model's ``interaction=`` parameter as a list of ``(a, b)`` pairs.

    ``None`` -> ``[]``; one pair ``("age", "horTh")`` -> ``[("age", "horTh")]``;
    a list of pairs is kept in order. Names are checked against ``X`` later.
    """
    if interaction is None:
        return []
    items = list(interaction) if isinstance(interaction, (list, tuple)) else None
    if items is not None and len(items) == 2 and all(isinstance(v, str) for v in items):
        items = [tuple(items)]
    pairs = []
    for item in items or [None]:
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(v, str) for v in item)):
            raise ValueError(
                f"{caller}: interaction must be a pair of column names ('age', 'horTh') or a list of "
                f"pairs [('age', 'horTh'), ('age', 'size')]. Got {interaction!r} instead."
            )
        pairs.append((item[0], item[1]))
    return pairs


@dataclass
class Design:
    """The learnt mapping from predictors to design columns (see module docstring)."""

    terms: list[Term]
    interactions: list[tuple[str, str]] = field(default_factory=list)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_data(
        cls,
        X: pd.DataFrame,
        *,
        splines: dict[str, int] | None = None,
        categorical: list[str] | None = None,
        interaction=None,
        caller: str = "fit",
    ) -> "Design":
        """Learn knots, levels and limits from training predictors ``X``.

        ``interaction`` is one pair of column names or a list of pairs
        (:func:`interaction_pairs`).
        """
        splines = dict(splines or {})
        categorical = list(categorical or [])
        pairs = interaction_pairs(interaction, caller)
        check_dataframe(X, caller=caller)
        for group, names in (("splines", list(splines)), ("categorical", categorical)):
            unknown = [c for c in names if c not in X.columns]
            if unknown:
                raise ValueError(
                    f"{caller}: {group} names column(s) {unknown} that X does not have; "
                    f"X has {list(X.columns)}."
                )
        both = set(splines) & set(categorical)
        if both:
            raise ValueError(f"{caller}: {sorted(both)} cannot be both a spline and categorical.")
        kinds = check_predictor_types(X, categorical=categorical, caller=caller)
        terms = []
        for name in X.columns:
            col = X[name]
            is_cat = kinds[name] == "categorical"
            if name in splines and is_cat:
                raise ValueError(
                    f"{caller}: column '{name}' is not numeric (dtype {col.dtype}) and cannot "
                    "have a spline; convert it to numbers or list it as categorical."
                )
            if col.nunique(dropna=True) < 2:
                raise ValueError(
                    f"{caller}: column '{name}' is constant (single value "
                    f"{python_value(col.iloc[0])!r}); remove it from X."
                )
            if is_cat:
                terms.append(_categorical_term(name, col))
            elif name in splines:
                nk = int(splines[name])
                knots = rcs_knots(col.to_numpy(float), nk, name=name)
                terms.append(_numeric_term(name, col, "rcs", rcs_column_names(name, len(knots)), knots))
            else:
                terms.append(_numeric_term(name, col, "linear", [name], None))
        seen = set()
        for a, b in pairs:
            missing = [v for v in (a, b) if v not in X.columns]
            if missing or a == b:
                raise ValueError(
                    f"{caller}: an interaction must name two different columns of X; got ({a!r}, {b!r})"
                    + (f"; X has no column {missing}." if missing else ".")
                )
            if frozenset((a, b)) in seen:
                raise ValueError(f"{caller}: the interaction of '{a}' and '{b}' is given twice; list it once.")
            seen.add(frozenset((a, b)))
        return cls(terms=terms, interactions=pairs)

    # ------------------------------------------------------------------ use
    @property
    def predictors(self) -> list[str]:
        return [t.name for t in self.terms]

    @property
    def interaction(self) -> tuple[str, str] | None:
        """The first interaction (or None): the model of nomofuse <= 0.2 had at most one."""
        return self.interactions[0] if self.interactions else None

    def interaction_name(self, pair) -> str:
        """rms's name of an interaction term: ``age * horTh``."""
        return f"{pair[0]} * {pair[1]}"

    def pair_columns(self, pair) -> list[str]:
        """Design columns of one interaction, named as rms names them (``age' * horTh=yes``)."""
        a, b = pair
        return [f"{ca} * {cb}" for cb in self.term(b).columns for ca in self.term(a).columns]

    @property
    def interaction_columns(self) -> list[str]:
        """Design columns of every interaction, in model order."""
        return [c for pair in self.interactions for c in self.pair_columns(pair)]

    @property
    def column_names(self) -> list[str]:
        names = [c for t in self.terms for c in t.columns]
        return names + self.interaction_columns

    def term(self, name: str) -> Term:
        for t in self.terms:
            if t.name == name:
                return t
        raise KeyError(f"'{name}' is not a predictor of this model; predictors: {self.predictors}.")

    def column_slices(self) -> dict[str, slice]:
        """Positions of each term's columns, then of each interaction (keyed ``"a * b"``)."""
        out, start = {}, 0
        for t in self.terms:
            out[t.name] = slice(start, start + len(t.columns))
            start += len(t.columns)
        for pair in self.interactions:
            n = len(self.term(pair[0]).columns) * len(self.term(pair[1]).columns)
            out[self.interaction_name(pair)] = slice(start, start + n)
            start += n
        return out

    def partners(self, name: str) -> list[str]:
        """Predictors that interact with ``name`` directly, in model order."""
        direct = {b if a == name else a for a, b in self.interactions if name in (a, b)}
        return [p for p in self.predictors if p in direct]

    def related(self, name: str) -> list[str]:
        """Predictors related to ``name`` directly or through other interactions (rms
        ``related.predictors``), in model order, without ``name`` itself."""
        found, todo = set(), [name]
        while todo:
            for p in self.partners(todo.pop()):
                if p not in found and p != name:
                    found.add(p)
                    todo.append(p)
        return [p for p in self.predictors if p in found]

    @staticmethod
    def product(A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Interaction columns of two bases: every column of ``A`` times every column of ``B``."""
        return (A[:, :, None] * B[:, None, :]).transpose(0, 2, 1).reshape(len(A), -1)

    def transform(self, X: pd.DataFrame, *, caller: str = "predict") -> np.ndarray:
        """Design matrix (no intercept) for new data, with the training knots and levels."""
        check_dataframe(X, columns=self.predictors, caller=caller)
        blocks = {t.name: t.basis(X[t.name], caller) for t in self.terms}
        parts = [blocks[t.name] for t in self.terms]
        for a, b in self.interactions:
            parts.append(self.product(blocks[a], blocks[b]))
        return np.hstack(parts) if parts else np.zeros((len(X), 0))

    def adjust_frame(self, n: int = 1) -> pd.DataFrame:
        """``n`` rows holding every predictor at its datadist 'Adjust to' value."""
        return pd.DataFrame({t.name: [t.adjust] * n for t in self.terms})

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict:
        """JSON-able content. One interaction is written as nomofuse <= 0.2 wrote it
        (``interaction``, ``interaction_columns``); several as ``interactions``, a list
        of pairs (with ``interaction`` null, so that an older reader refuses the
        coefficients rather than silently dropping interactions)."""
        out = {"terms": [{k: _jsonable(v) for k, v in asdict(t).items()} for t in self.terms]}
        if len(self.interactions) <= 1:
            out["interaction"] = list(self.interaction) if self.interaction else None
        else:
            out["interaction"] = None
            out["interactions"] = [list(p) for p in self.interactions]
        out["interaction_columns"] = self.interaction_columns
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Design":
        terms = [Term(**t) for t in d["terms"]]
        if d.get("interactions"):
            pairs = [tuple(p) for p in d["interactions"]]
        else:
            pairs = [tuple(d["interaction"])] if d.get("interaction") else []
        design = cls(terms=terms, interactions=pairs)
        stored = d.get("interaction_columns")
        if stored is not None and list(stored) != design.interaction_columns:
            raise KeyError(f"interaction_columns {list(stored)} do not match the terms' columns "
                           f"{design.interaction_columns}")
        return design


def _jsonable(v):
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_to_python(x) for x in v]
    return _to_python(v)


def _categorical_term(name: str, col: pd.Series) -> Term:
    values = col.dropna()
    if isinstance(col.dtype, pd.CategoricalDtype):
        # a pandas Categorical keeps its own level order, as an R factor does
        present = set(pd.unique(values).tolist())
        levels = [lv for lv in col.cat.categories.tolist() if lv in present]
    else:
        levels = sorted(pd.unique(values).tolist(), key=lambda v: (isinstance(v, str), v))
    levels = [_to_python(v) for v in levels]
    counts = values.value_counts()
    # rms datadist adjto.cat="mode": most frequent level, first in level order on ties
    adjust = max(levels, key=lambda lv: (counts.get(lv, 0), -levels.index(lv)))
    columns = [f"{name}={format_level(lv)}" for lv in levels[1:]]
    return Term(name=name, kind="categorical", columns=columns, levels=levels, adjust=adjust)


def _numeric_term(name, col, kind, columns, knots) -> Term:
    y = col.to_numpy(float)
    y = y[~np.isnan(y)]
    values = np.unique(y)
    if len(values) < 3:
        adjust = values[0]
    elif len(values) == 3:
        adjust = values[1]
    else:
        adjust = float(np.median(y))
    return Term(
        name=name,
        kind=kind,
        columns=columns,
        knots=None if knots is None else [float(k) for k in knots],
        adjust=float(adjust),
        low=float(values[0]),
        high=float(values[-1]),
        values=[float(v) for v in values] if len(values) <= _N_UNIQUE else None,
        effect_limits=effect_limits(y),
        prediction_limits=prediction_limits(y),
    )
