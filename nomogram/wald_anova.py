"""Wald tests of every predictor, its nonlinearity and its interactions (rms ``anova.rms``).

:func:`anova` returns the table a nomogram paper prints beside the nomogram:
for each predictor the Wald :math:`\\chi^2` of all its coefficients (with the
interaction terms it enters, "Factor+Higher Order Factors"), the test of its
nonlinear (spline) terms — the "P for nonlinearity" — and of its interactions,
then the pooled ``TOTAL NONLINEAR``, ``TOTAL INTERACTION``, ``TOTAL NONLINEAR +
INTERACTION`` and ``TOTAL`` rows, in the order and with the labels rms prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .checks import check_is_fitted

__all__ = ["anova", "AnovaResult"]

_FHOF = "(Factor+Higher Order Factors)"


@dataclass
class _Term:
    """One rms model term: a predictor or an interaction (``assume.code`` 9)."""

    name: str
    columns: list[int]  # positions among the slopes
    nonlinear: list[bool]  # per column
    kind: str  # "linear", "rcs", "categorical" or "interaction"
    factors: list[int] = field(default_factory=list)  # interaction: indices of its predictors
    factor_nonlinear: dict = field(default_factory=dict)  # interaction: factor -> per-column flags


def _model_terms(design) -> list[_Term]:
    """rms's ``Design`` bookkeeping (``name``, ``assign``, ``nonlinear``, ``parms``) of a design."""
    slices = design.column_slices()
    terms = []
    for t in design.terms:
        sl = slices[t.name]
        cols = list(range(sl.start, sl.stop))
        nl = [t.kind == "rcs" and k > 0 for k in range(len(cols))]
        terms.append(_Term(t.name, cols, nl, t.kind))
    for pair in design.interactions:
        a, b = pair
        ia, ib = design.predictors.index(a), design.predictors.index(b)
        na, nb = len(terms[ia].columns), len(terms[ib].columns)
        sl = slices[design.interaction_name(pair)]
        cols = list(range(sl.start, sl.stop))
        # column k multiplies column k % na of a with column k // na of b (Design.transform)
        fa = [terms[ia].nonlinear[k % na] for k in range(na * nb)]
        fb = [terms[ib].nonlinear[k // na] for k in range(na * nb)]
        terms.append(_Term(design.interaction_name(pair), cols, [x or y for x, y in zip(fa, fb)], "interaction",
                           factors=[ia, ib], factor_nonlinear={ia: fa, ib: fb}))
    return terms


@dataclass
class AnovaResult:
    """Result of :func:`anova`.

    Attributes
    ----------
    table : pandas.DataFrame
        Index: the row labels rms prints (``"age  (Factor+Higher Order Factors)"``,
        ``" All Interactions"``, ``" Nonlinear"``, ``"TOTAL"``, with rms's leading
        spaces); columns ``Chi-Square``, ``d.f.``, ``P``.
    which : dict of {str: list of str}
        The coefficients each row tests, in row order (``attr(, "which")`` in rms);
        keyed by row position as ``"<i>: <label>"`` because labels repeat.
    row_type : list of str
        What each row tests: ``"main effect"``, ``"combined effect"``,
        ``"combined interactions"``, ``"nonlinear"``, ``"interaction"``,
        ``"nonlinear interaction"``, ``"total nonlinear"``, ``"total interaction"``,
        ``"complexity"``, ``"global"`` (rms ``vinfo``).
    row_predictor : list of str or None
        The predictor (or interaction) a row belongs to; None for TOTAL rows.
    model_name : str
    """

    table: pd.DataFrame
    which: dict
    row_type: list
    row_predictor: list
    model_name: str = ""

    def summary(self) -> pd.DataFrame:
        """The table (a copy): rows as rms prints them; ``Chi-Square``, ``d.f.``, ``P``."""
        return self.table.copy()

    def as_text(self) -> str:
        """The table as rms prints it (``print.anova.rms``)."""
        t = self.table
        p = ["<.0001" if v < 1e-4 else f"{v:.4f}" for v in t["P"]]
        body = pd.DataFrame({"Chi-Square": [f"{v:.2f}" for v in t["Chi-Square"]],
                             "d.f.": [f"{v:g}" for v in t["d.f."]], "P": p}, index=t.index)
        return f"Wald Statistics ({self.model_name})\n" + body.to_string()

    def __repr__(self) -> str:
        return self.as_text()

    def plot(self, ax=None, **kwargs):
        """Dot chart of each predictor's importance; see :class:`nomogram.displays.AnovaDisplay`."""
        from .displays.anova import AnovaDisplay

        return AnovaDisplay.from_result(self, ax=ax, **kwargs)


def anova(model, *, main_effect: bool = False, interaction_rows: bool = True,
          nonlinear_rows: bool = True) -> AnovaResult:
    """Wald :math:`\\chi^2` tests per predictor, nonlinearity and interaction, as rms ``anova``.

    Each row tests that a set of coefficients is zero with the Wald statistic
    :math:`\\chi^2 = \\hat\\beta_S^\\top V_{SS}^{-1} \\hat\\beta_S` on
    :math:`|S|` degrees of freedom, where :math:`V` is the model's variance
    matrix (for a penalized fit, the penalized one rms uses). The sets are
    rms's:

    * a predictor not in an interaction: its columns (the row is its name);
    * a predictor in an interaction: its columns and those of the interaction
      (``"age  (Factor+Higher Order Factors)"``), then ``" All Interactions"``
      (the interaction columns);
    * ``" Nonlinear"``: the nonlinear spline columns (``age'``, ``age''``) — with
      the interaction columns built on them, ``" Nonlinear (Factor+Higher Order
      Factors)"``;
    * the interaction term (``"age * horTh  (Factor+Higher Order Factors)"``), its
      nonlinear columns (``" Nonlinear"``) and the test of the nonlinear part of
      the interaction (``" Nonlinear Interaction : f(A,B) vs. AB"``);
    * ``TOTAL NONLINEAR`` (when more than one nonlinear row was made),
      ``TOTAL INTERACTION`` (more than one interaction, or ``interaction_rows=False``),
      ``TOTAL NONLINEAR + INTERACTION`` and ``TOTAL`` (all slopes).

    The P-value is the upper tail :math:`P(\\chi^2_{df} > \\chi^2)`; rms computes
    ``1 - pchisq()``, which loses digits below about 1e-12 and gives 0 below
    about 1e-16.

    Parameters
    ----------
    model : LogisticNomogram or CoxNomogram
        A fitted model.
    main_effect : bool, default False
        Also test the main effect alone of a predictor in an interaction
        (rms ``main.effect=TRUE``).
    interaction_rows : bool, default True
        The ``" All Interactions"`` rows (rms ``india``).
    nonlinear_rows : bool, default True
        The ``" Nonlinear"`` rows (rms ``indnl``).

    Returns
    -------
    AnovaResult

    References
    ----------
    Harrell FE (2015). Regression Modeling Strategies, 2nd ed., Springer, sec. 5.6 and 9.
    rms ``anova.rms`` (rms 6.5-0, ``R/anova.rms.s``).

    Examples
    --------
    >>> m = LogisticNomogram(splines={"age": 4}).fit(X, y)  # doctest: +SKIP
    >>> anova(m).summary().loc[" Nonlinear", "P"]  # P for nonlinearity of age  # doctest: +SKIP
    """
    check_is_fitted(model, "coef_")
    for name, value in (("main_effect", main_effect), ("interaction_rows", interaction_rows),
                        ("nonlinear_rows", nonlinear_rows)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"The '{name}' parameter of anova must be True or False. Got {value!r} instead.")
    slopes = np.asarray(model._slopes, dtype=float)
    V = model.cov_.to_numpy()
    if model._intercept:
        V = V[1:, 1:]
    names = list(model.coef_.index[1:] if model._intercept else model.coef_.index)
    terms = _model_terms(model.design_)
    nc = len(slopes)
    rows: list[tuple[str, list[int], str, str | None]] = []

    all_slopes = np.zeros(nc, bool)
    all_ia = np.zeros(nc, bool)
    all_nonlin = np.zeros(nc, bool)
    num_ia = num_nonlin = 0
    interactions = [k for k, t in enumerate(terms) if t.kind == "interaction"]
    for i, term in enumerate(terms):
        is_ia = term.kind == "interaction"
        low_fact = term.factors if is_ia else [i]
        main_index = list(term.columns)
        nonlin_ia_index: list[int] = []
        all_slopes[main_index] = True
        # rms: occurrences of i in the interaction matrix, plus interactions holding all of low.fact
        ni = sum(i in terms[k].factors for k in interactions)
        ni += sum(all(f in terms[k].factors for f in low_fact) for k in interactions)
        if ni == 0 or main_effect:
            rows.append((term.name, main_index, "main effect", term.name))
        if ni > 0:
            ia_index: list[int] = []
            for k in interactions:
                if k == i or not all(f in terms[k].factors for f in low_fact):
                    continue
                ia_index += terms[k].columns
                for f in low_fact:
                    flags = terms[k].factor_nonlinear[f]
                    nonlin_ia_index += [c for c, nl in zip(terms[k].columns, flags) if nl]
                nonlin_ia_index = list(dict.fromkeys(nonlin_ia_index))
            idx = main_index + ia_index
            all_slopes[idx] = True
            rows.append((f"{term.name}  {_FHOF}", idx, "interaction" if is_ia else "combined effect", term.name))
            if interaction_rows and not is_ia and ni > 1:
                rows.append((" All Interactions", ia_index, "combined interactions", term.name))
        nl = term.nonlinear
        if any(nl) and not all(nl):
            idx = [c for c, f in zip(main_index, nl) if f] + nonlin_ia_index
            num_nonlin += 1
            all_nonlin[idx] = True
            if nonlinear_rows:
                label = " Nonlinear" if not nonlin_ia_index else f" Nonlinear {_FHOF}"
                rows.append((label, idx, "nonlinear interaction" if is_ia else "nonlinear", term.name))
        if is_ia:
            num_ia += 1
            all_ia[main_index] = True
            fx, fy = (term.factor_nonlinear[f] for f in term.factors)
            xy = [x or y for x, y in zip(fx, fy)]
            idx = [c for c, f in zip(main_index, xy) if f]
            if idx:
                num_nonlin += 1
                all_nonlin[idx] = True
                if nonlinear_rows:
                    rows.append((" Nonlinear Interaction : f(A,B) vs. AB", idx, "nonlinear interaction", term.name))
                    both = [c for c, x, y in zip(main_index, fx, fy) if x and y]
                    if both:
                        rows.append((" f(A,B) vs. Af(B) + Bg(A)", both, "doubly nonlinear interaction", term.name))
                    for flags, who, tail, kind in ((fx, 0, "vs. Af(B)", "first"), (fy, 1, "vs. Bg(A)", "second")):
                        sub = [c for c, f in zip(main_index, flags) if f]
                        if sub and flags != xy:
                            partner = terms[term.factors[who]].name
                            rows.append((f" Nonlinear Interaction in {partner} {tail}", sub,
                                         f"nonlinear interaction in {kind} variable", term.name))
    if all(_FHOF in r[0] for r in rows):
        rows = [(r[0].replace(_FHOF, ""), *r[1:]) for r in rows]
    everything = np.arange(nc)
    if num_nonlin > 1 or (num_nonlin == 1 and not nonlinear_rows):
        rows.append(("TOTAL NONLINEAR", list(everything[all_nonlin]), "total nonlinear", None))
    if num_ia > 1 or (num_ia == 1 and not interaction_rows):
        rows.append(("TOTAL INTERACTION", list(everything[all_ia]), "total interaction", None))
    if num_nonlin > 0 and num_ia > 0:
        rows.append(("TOTAL NONLINEAR + INTERACTION", list(everything[all_nonlin | all_ia]), "complexity", None))
    rows.append(("TOTAL", list(everything[all_slopes | all_ia]), "global", None))

    chisq, df = [], []
    for _, idx, _, _ in rows:
        b = slopes[idx]
        chisq.append(float(b @ np.linalg.solve(V[np.ix_(idx, idx)], b)))
        df.append(len(idx))
    chisq, df = np.array(chisq), np.array(df)
    table = pd.DataFrame({"Chi-Square": chisq, "d.f.": df, "P": stats.chi2.sf(chisq, df)},
                         index=pd.Index([r[0] for r in rows], name="Factor"))
    which = {f"{k}: {r[0]}": [names[c] for c in r[1]] for k, r in enumerate(rows)}
    return AnovaResult(table=table, which=which, row_type=[r[2] for r in rows],
                       row_predictor=[r[3] for r in rows], model_name=type(model).__name__)
