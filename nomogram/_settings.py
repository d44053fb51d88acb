"""Predictor settings for the rms-style verbs: adjust-to values and user overrides.

:func:`nomogram.effects` and :func:`nomogram.partial_effects` both build rows of
predictor values in which every predictor not being varied sits at its
``datadist`` "Adjust to" value (median for a numeric predictor, most frequent
level for a categorical one; see :mod:`nomogram._design`), optionally replaced
by the user. This module checks those user values once.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from ._design import Term, format_level

__all__ = ["adjust_values", "check_value", "check_predictor", "require_limits", "settings_frame"]


def check_predictor(design, name, *, parameter: str, caller: str) -> Term:
    """The term of predictor ``name``; a message listing the predictors otherwise."""
    if not isinstance(name, str) or name not in design.predictors:
        raise ValueError(
            f"The '{parameter}' parameter of {caller} names {name!r}, which is not a predictor of "
            f"this model; predictors are {design.predictors}."
        )
    return design.term(name)


def check_value(term: Term, value, *, parameter: str, caller: str):
    """A value the predictor can take: a known level, or a finite number."""
    if term.kind == "categorical":
        for lv in term.levels:
            if value == lv or format_level(value) == format_level(lv):
                return lv
        raise ValueError(
            f"The '{parameter}' parameter of {caller} gives {term.name}={value!r}, which is not a level "
            f"of '{term.name}'; levels are {term.levels}."
        )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(
            f"The '{parameter}' parameter of {caller} gives {term.name}={value!r}; '{term.name}' is "
            "numeric, so give a finite number."
        )
    return float(value)


def adjust_values(design, adjust_to, *, caller: str) -> dict:
    """``{predictor: adjust-to value}`` with the user's ``adjust_to`` applied and checked."""
    if adjust_to is None:
        adjust_to = {}
    if not isinstance(adjust_to, dict):
        raise TypeError(
            f"The 'adjust_to' parameter of {caller} must be a dict {{predictor: value}}. "
            f"Got {type(adjust_to).__name__} instead."
        )
    values = {t.name: t.adjust for t in design.terms}
    for name, value in adjust_to.items():
        term = check_predictor(design, name, parameter="adjust_to", caller=caller)
        values[name] = check_value(term, value, parameter="adjust_to", caller=caller)
    return values


def require_limits(term: Term, attribute: str, caller: str) -> list:
    """The datadist limits stored on a numeric term; a fix when the model file predates them."""
    limits = getattr(term, attribute, None)
    if limits is None:
        raise ValueError(
            f"{caller}: the model has no datadist '{attribute}' for '{term.name}' (it was saved by an "
            "older nomofuse that did not keep them). Refit the model, or give the range explicitly."
        )
    return list(limits)


def settings_frame(design, rows: list[dict]) -> pd.DataFrame:
    """Rows of predictor values as a DataFrame with the design's columns and dtypes."""
    frame = pd.DataFrame(rows, columns=design.predictors)
    for t in design.terms:
        if t.kind != "categorical":
            frame[t.name] = frame[t.name].astype(float)
    return frame
