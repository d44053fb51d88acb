"""rms ``datadist`` limits of a numeric predictor that the design does not need.

:class:`nomogram._design.Design` keeps, per numeric predictor, the adjust-to
value and the full range (what the nomogram draws). The effect summary
(:func:`nomogram.effects`) and the partial-effect curves
(:func:`nomogram.partial_effects`) also need the two other pairs of ``datadist``
rows, learnt here from the training values at fit time:

``Low:effect``, ``High:effect``
    The quartiles (``q.effect = c(.25, .75)``, type-7 quantiles); the range when
    the variable has fewer than 4 distinct values or the quartiles coincide.
``Low:prediction``, ``High:prediction``
    The quantiles at ``q = 10 / max(n, 200)`` and ``1 - q`` (rms's default
    ``q.display``, about the 10th smallest and largest value); the range when
    the variable has fewer than 4 distinct values or the two coincide.

References
----------
Harrell FE. rms ``datadist`` (rms 6.5-0, ``R/datadist.s``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["effect_limits", "prediction_limits"]


def _quantile_pair(y: np.ndarray, q: tuple[float, float]) -> list[float]:
    values = np.unique(y)
    r = [float(values[0]), float(values[-1])]
    if len(values) < 4:
        return r
    lo, hi = (float(v) for v in np.quantile(y, q))  # R type 7 = NumPy's "linear"
    return r if lo == hi else [lo, hi]


def effect_limits(y: np.ndarray) -> list[float]:
    """``[Low:effect, High:effect]`` of the non-missing numeric values ``y``."""
    return _quantile_pair(np.asarray(y, dtype=float), (0.25, 0.75))


def prediction_limits(y: np.ndarray) -> list[float]:
    """``[Low:prediction, High:prediction]`` of the non-missing numeric values ``y``."""
    y = np.asarray(y, dtype=float)
    q = 10.0 / max(len(y), 200)
    return _quantile_pair(y, (q, 1.0 - q))
