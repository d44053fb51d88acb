"""Log-rank test between k groups, as ``survival::survdiff(rho = 0)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .checks import check_survival_y, survival_outcome
from ._survival import km_steps

__all__ = ["LogRankResult", "logrank_test"]


@dataclass(frozen=True)
class LogRankResult:
    """Result of :func:`logrank_test`.

    Attributes
    ----------
    groups : list
        Group labels in the order of the other arrays.
    n, observed, expected : ndarray of shape (k,)
    variance : ndarray of shape (k, k)
        Hypergeometric variance-covariance of ``observed - expected``.
    chisq : float
    df : int
    p_value : float
    """

    groups: list
    n: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    chisq: float
    df: int
    p_value: float

    def summary(self) -> pd.DataFrame:
        """Per-group table as ``print(survdiff)`` shows it."""
        oe = self.observed - self.expected
        return pd.DataFrame(
            {
                "N": self.n,
                "Observed": self.observed,
                "Expected": self.expected,
                "(O-E)^2/E": oe**2 / self.expected,
                "(O-E)^2/V": oe**2 / np.diag(self.variance),
            },
            index=pd.Index(self.groups, name="group"),
        )


@survival_outcome
def logrank_test(y, group) -> LogRankResult:
    """Log-rank (Mantel–Haenszel) test that k survival curves are equal.

    At each distinct event time :math:`t_i` with :math:`d_i` events among
    :math:`n_i` at risk, group :math:`g` has :math:`n_{ig}` at risk and

    .. math::

        E_g = \\sum_i d_i \\frac{n_{ig}}{n_i}, \\qquad
        V_{gh} = \\sum_i d_i \\frac{n_i - d_i}{n_i - 1}
                 \\frac{n_{ig}}{n_i}\\Big(\\delta_{gh} - \\frac{n_{ih}}{n_i}\\Big)

    and :math:`\\chi^2 = (O - E)^\\top V^- (O - E)` on ``k - 1`` degrees of
    freedom (one group dropped, as ``survdiff`` does).

    Parameters
    ----------
    y : DataFrame [time, event], (n, 2) array or structured array
        Survival outcome.
    group : array-like of shape (n,)
        Any labels; groups are sorted (``np.unique`` order).

    Returns
    -------
    LogRankResult

    References
    ----------
    Mantel N (1966) Cancer Chemother Rep 50:163-170. Therneau TM, R package
    survival, ``survdiff`` (rho = 0).
    """
    time, event = check_survival_y(y, caller="logrank_test", require_event=False)
    group = np.asarray(group)
    if group.ndim != 1 or len(group) != len(time):
        raise ValueError(f"logrank_test: group has {len(group)} values but y has {len(time)}.")
    labels, g = np.unique(group, return_inverse=True)
    k = len(labels)
    if k < 2:
        raise ValueError(f"logrank_test needs at least two groups; got {k} ({labels.tolist()}).")
    # at risk (time >= t) and events per group at each event time: the Kaplan-Meier counts
    steps = km_steps(time, event, g[None, :] == np.arange(k)[:, None])
    at_event = steps.n_event.sum(axis=0) > 0
    n_risk = steps.n_risk[:, at_event].T
    d_g = steps.n_event[:, at_event].T
    n_i = n_risk.sum(axis=1)
    d_i = d_g.sum(axis=1)
    frac = n_risk / n_i[:, None]
    expected = (d_i[:, None] * frac).sum(axis=0)
    observed = d_g.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_i > 1, d_i * (n_i - d_i) / (n_i - 1), 0.0)
    V = np.einsum("i,ig,gh->gh", w, frac, np.eye(k)) - np.einsum("i,ig,ih->gh", w, frac, frac)
    oe = observed - expected
    sub = slice(0, k - 1)
    V_sub = V[sub, sub]
    chisq = float(oe[sub] @ np.linalg.pinv(V_sub) @ oe[sub])
    df = int(np.linalg.matrix_rank(V_sub))
    return LogRankResult(
        groups=labels.tolist(),
        n=np.bincount(g, minlength=k),
        observed=observed,
        expected=expected,
        variance=V,
        chisq=chisq,
        df=df,
        p_value=float(stats.chi2.sf(chisq, df)),
    )
