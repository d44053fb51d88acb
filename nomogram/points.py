"""The nomogram itself: axes, points and the points-to-outcome mapping (rms ``nomogram``).

For each predictor the model's contribution to the linear predictor (LP) is
evaluated over its axis values with every other predictor held at its
``datadist`` 'Adjust to' value. With :math:`X\\beta_v(x)` that contribution
(the reference level of a categorical predictor contributes 0) and
:math:`R_v = [\\min_x X\\beta_v, \\max_x X\\beta_v]` its range on the axis,

.. math::

    sc = \\frac{\\text{maxscale}}{\\max_v (R_{v,2} - R_{v,1})}, \\qquad
    \\text{points}_v(x) = (X\\beta_v(x) - R_{v,1})\\, sc,

so the predictor with the widest LP range spans 0-``maxscale`` points, and

.. math::

    LP = \\text{Intercept} + \\sum_v R_{v,1} + \\text{total points} / sc,

where Intercept is the model intercept (logistic) or minus the centring
constant (Cox). Axis values are those rms picks: the levels of a categorical
predictor, the distinct values of a numeric predictor with at most 10 of them,
otherwise ``pretty(c(min, max), 10)`` over the full training range. The
linear-predictor axis carries ``pretty(range(training LP), 10)``; total points
run over ``pretty(c(0, max(maxscale, sc * max(lp.at - Intercept))), 10)``;
each outcome axis carries ``pretty(f(range(lp.at)), 10)`` placed by inverting
``f`` by linear interpolation on 1000 LP values, exactly as rms does.

A predictor in interactions is drawn once per combination of the values of
the predictors related to it (directly or through other interactions, rms
``related.predictors``), e.g. ``age (horTh=yes)`` or ``age (horTh=no
tsize=20)`` (the first related predictor varies fastest, as ``expand.grid``),
with their main effects and the interactions among them folded in; the related
predictors get no axis of its own. A related factor (or numeric predictor with
at most 10 values) is drawn at each of its levels; a continuous one needs
``interact=`` (rms ``interact=``). With interactions in the model, rms draws the
continuous predictors first, then the discrete ones, those named in
``interact=`` last within each group.

Pure-data specification (``Nomogram.to_spec`` / ``Nomogram.from_spec``)
-----------------------------------------------------------------------
A nomogram's outcome functions are Python callables, so the object itself
cannot be saved; :meth:`Nomogram.to_spec` writes everything it computes as
JSON-able data, from which :meth:`Nomogram.from_spec` (or a program in any
language, e.g. a web calculator) reproduces :meth:`Nomogram.points` exactly.
Format ``"nomofuse.nomogram.NomogramSpec"``, version 1 (at most one
interaction) or 2 (several; differences below)::

    {"format": "nomofuse.nomogram.NomogramSpec", "version": 1,
     "model_kind": "logistic" | "cox",
     "title": "Nomogram predicting ...",   # Nomogram.title (information; recomputed on reading)
     "outcome_name": null | str,     # what is predicted ("recurrence-free survival")
     "time_unit": null | "days" | "weeks" | "months" | "years",
     "variance": null | V,           # for confidence limits (below)
     "maxscale": 100.0,
     "points_per_unit": sc,          # points per unit of linear predictor
     "intercept": a,                 # linear predictor at 0 total points
     "predictors": [P, ...],         # every predictor of the model, in model order
     "interaction": null | I,
     "points": [Q, ...],             # one per points column, in column order
     "outcomes": [O, ...],
     "axes": [A, ...]}               # the drawn axes (ticks), as Axis.to_dict

A predictor ``P`` is ``{"name", "type", "columns", "coef", "discrete"}`` plus
``"levels"`` (type ``"categorical"``) or ``"values"`` (numeric: its distinct
training values when at most 10, else null) and ``"range"`` (numeric: the
training minimum and maximum, which a calculator flags values outside of),
``"knots"`` (type ``"rcs"``) and ``"adjust"`` (the datadist 'Adjust to'
value: median or most frequent level; summary statistics, never a patient
row). Its
contribution to the linear predictor is :math:`f(x) = \\sum_c b_c(x)\\,
\\mathrm{coef}_c` over its basis columns:

* ``"linear"``: one column, :math:`b(x) = x`;
* ``"rcs"``: restricted cubic spline with knots :math:`t_1 < \\dots < t_k`
  (Hmisc ``rcspline.eval``, ``norm = 2``): :math:`b_0(x) = x` and, with
  :math:`\\tau = (t_k - t_1)^{2/3}` and :math:`u_+ = \\max(u, 0)`, for
  :math:`j = 1..k-2`
  :math:`b_j(x) = ((x - t_j)/\\tau)_+^3 + [(t_{k-1} - t_j)((x - t_k)/\\tau)_+^3
  - (t_k - t_j)((x - t_{k-1})/\\tau)_+^3] / (t_k - t_{k-1})`, a cubic
  polynomial between consecutive knots and linear beyond the outer ones;
* ``"categorical"``: one indicator per level after the first (the
  reference, contribution 0): :math:`b_c(x) = [x = \\mathrm{levels}[c + 1]]`.

``"discrete"`` says whether its axis is drawn as discrete ticks (rms). The
interaction ``I = {"predictors": [a, b], "columns", "coef"}`` adds
:math:`\\sum_k \\mathrm{coef}_k\\, b^{(a)}_{k \\bmod n_a}(x_a)\\,
b^{(b)}_{\\lfloor k / n_a \\rfloor}(x_b)` (:math:`n_a` basis columns of ``a``).
A points column ``Q = {"predictor", "offset", "partner"}`` gives, for a
patient, :math:`\\mathrm{points} = (f_v(x_v) + g - \\mathrm{offset}) \\cdot sc`
where :math:`g = 0` when ``partner`` is null, else
:math:`g = f_{\\mathrm{partner}}(x_{\\mathrm{partner}})` plus the interaction
at the patient's values (the partner has no column of its own). A
categorical column without partner also lists ``"level_points"``:
``[[level, points], ...]`` for every level. Then

.. math::

    \\text{total} = \\sum_Q \\text{points}_Q, \\qquad
    LP = \\text{intercept} + \\text{total} / sc,

and each outcome ``O`` maps LP: ``{"label", "type": "logistic"}`` gives the
risk :math:`1 / (1 + e^{-LP})`; ``{"label", "type": "survival", "time": t,
"baseline_survival": S_0(t)}`` (Cox) gives :math:`S(t) = S_0(t)^{\\exp(LP)}`
where LP is already centred (``decision_function``: :math:`X\\beta` minus the
model's centre, folded into the intercept) and :math:`S_0(t)` is the model's
baseline survival at its centre; ``null`` (NaN) past the model's follow-up.
A stratified Cox model (rms ``strat()``) has one survival outcome per stratum
and time, each with its stratum's :math:`S_0(t)` and ``"stratum"`` (its name,
``"tgrade=II"``): a patient reads the axes of their own stratum.
A survival outcome also holds ``"hazard_variance"`` :math:`V_0(t)` and
``"hazard_covariance"`` :math:`A(t)` (one per design column), rms
``survest``'s pieces of the cumulative hazard's variance.

Version 2 (a model with more than one interaction) replaces ``"interaction"``
by ``"interactions": [I, ...]`` and each points column's ``"partner"`` by
``"partners": [name, ...]`` (possibly empty): the column's
:math:`g` is then the sum of the partners' :math:`f` and of every interaction
``I`` whose two predictors are both the column's predictor or its partners,
at the patient's values. Readers of version 1 refuse version 2.

Confidence limits (:meth:`Nomogram.confidence_limits`) need
``V = {"columns", "covariance", "center"}``: the coefficients' covariance
matrix in the order of ``columns`` (``"Intercept"`` first for a logistic
model, then every predictor's columns and the interaction's) and, for a Cox
model, the training means ``center`` of those columns. With :math:`z` a
patient's design row in that order (1 for the intercept; minus ``center``),
:math:`se = \\sqrt{z^\\top V z}`; the risk's limits are
:math:`\\mathrm{expit}(LP \\mp q\\, se)` and survival's
:math:`S \\exp(\\mp q\\, se_H)`, :math:`se_H = e^{LP}\\sqrt{V_0(t) + u^\\top V u}`,
:math:`u = -\\log S_0(t)\\, z - A(t)`, capped at 1 (rms ``survest``, log scale).
Non-finite numbers are written as ``null``. ``tests/nomogram/models/
test_nomogram_spec.py`` holds a pure-Python evaluator of this format.

It is also a model file (:mod:`nomogram.model_io`): ``nom.to_json(path)``
writes the specification with its ``"sha256"`` checksum and
``nomogram.load_model(path)`` returns the :class:`Nomogram`. A specification
saved without the checksum (``json.dump(nom.to_spec(), f)``, or written by
another program) loads too; it is then not verified.

References
----------
Harrell FE. rms ``nomogram`` (R/nomogram.s); Iasonos A et al. (2008) How to build and
interpret a nomogram for cancer prognosis. J Clin Oncol 26:1364-70.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from ._design import Design, Term, format_level
from .checks import python_value
from ._pretty import pretty
from ._survival import step_function_at
from .model_io import ModelFileMixin

__all__ = ["Axis", "Nomogram", "SPEC_FORMAT", "SPEC_VERSION", "TIME_UNITS", "horizon_text", "survival_label"]

#: ``"format"`` and ``"version"`` of :meth:`Nomogram.to_spec` (module docstring). Version 1 is
#: written for a model with at most one interaction; version 2 (``"interactions"``, ``"partners"``)
#: for several. Both are read.
SPEC_FORMAT = "nomofuse.nomogram.NomogramSpec"
SPEC_VERSION = 1
SPEC_VERSIONS = (1, 2)


@dataclass
class Axis:
    """One row of a nomogram.

    Attributes
    ----------
    label : str
        Text drawn left of the axis (``age``, ``age (horTh=yes)``, ``Total Points``, ``Risk``).
    kind : {"predictor", "total_points", "linear_predictor", "outcome"}
    values : list
        Axis values (predictor values, total points, LP values or outcome values).
    points : ndarray
        Position of each value on the points scale.
    tick_labels : list of str
        Text of each tick. For predictors, runs of equal points are merged as
        rms merges them (``"1-3"``, or ``"8+"`` at the end of a numeric axis).
    predictor : str, optional
        The predictor an axis belongs to.
    condition : dict
        For interaction axes, the related predictors' values
        (``{"horTh": "yes"}``, ``{"horTh": "no", "tsize": 20}``).
    """

    label: str
    kind: str
    values: list
    points: np.ndarray
    tick_labels: list[str]
    predictor: str | None = None
    condition: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "kind": self.kind,
            "values": [python_value(v) for v in self.values],
            "points": [float(p) for p in self.points],
            "tick_labels": list(self.tick_labels),
            "predictor": self.predictor,
            "condition": {k: python_value(v) for k, v in self.condition.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Axis":
        return cls(
            label=d["label"], kind=d["kind"], values=list(d["values"]),
            points=np.asarray(d["points"], dtype=float), tick_labels=list(d["tick_labels"]),
            predictor=d.get("predictor"), condition=dict(d.get("condition") or {}),
        )



def _format_number(v) -> str:
    """Tick text like R's ``format`` of a single value (up to 7 significant digits)."""
    if isinstance(v, str):
        return v
    v = float(v)
    if v.is_integer():
        return str(int(v))
    return f"{v:.7g}"


class Nomogram(ModelFileMixin):
    """A computed nomogram: axes, the points scale, and conversions for patients.

    Build it with ``model.nomogram()`` (or :meth:`from_model`); draw it with
    :meth:`plot` (a :class:`~nomogram.displays.NomogramDisplay`).

    Attributes
    ----------
    axes : list of Axis
        Predictor axes, then total points, linear predictor and outcome axes.
    scale : float
        Points per unit of linear predictor (rms ``sc``).
    intercept : float
        LP when total points are 0 (rms ``Intercept`` after adding the minima).
    maxscale : float
    """

    def __init__(self, axes, scale, intercept, maxscale, outcome_functions, model_kind,
                 term_ranges, partners, design=None, coef=None, *, outcome_name=None, time_unit=None,
                 variance=None):
        self.axes = axes
        self.scale = float(scale)
        self.intercept = float(intercept)
        self.maxscale = float(maxscale)
        self._outcomes = outcome_functions  # list of (label, callable lp -> value)
        self.model_kind = model_kind
        self._term_ranges = term_ranges  # predictor -> (min, max) of X beta
        self._partners = partners  # axis predictor -> the interaction partners folded into it (list)
        self._design = design  # the model's Design and coefficients: all points() needs
        self._coef = coef
        self._model = None
        self.outcome_name = outcome_name
        self.time_unit = time_unit
        # the coefficients' covariance for confidence limits: {"columns", "covariance", "center"}
        self._variance = variance

    # ------------------------------------------------------------------ build
    @classmethod
    def from_model(cls, model, *, values=None, interact=None, lp=True, lp_at=None, fun=None,
                   fun_at=None, funlabel=None, times=None, maxscale=100.0, nint=10, outcome_name=None,
                   time_unit=None):
        """Compute the nomogram of a fitted :class:`LogisticNomogram` or :class:`CoxNomogram`.

        Parameters
        ----------
        model : fitted LogisticNomogram or CoxNomogram
        values : dict of {str: list}, optional
            Explicit axis values for predictors (rms ``nomogram(fit, age=seq(30, 80, 10))``).
        interact : dict of {str: list}, optional
            Values of interaction partners to draw axes for (rms ``interact=``);
            needed for a continuous partner, optional for a factor (default:
            all its levels).
        lp : bool, default True
            Draw the linear-predictor axis.
        lp_at : list of float, optional
            LP axis values; default ``pretty(range(training LP), nint)``.
        fun : callable or list of callables, optional
            Outcome functions of the LP. Default: the risk ``1/(1+exp(-LP))`` for a
            logistic model; survival at each of ``times`` for a Cox model.
        fun_at : list (or list of lists), optional
            Outcome values to place ticks at; default ``pretty(fun(range(lp_at)), nint)``.
        funlabel : str or list of str, optional
        times : list of float, optional
            Cox models: times for survival axes (default: the model's ``times``).
        maxscale : float, default 100
        nint : int, default 10
            Number of intervals asked of ``pretty``.
        outcome_name : str, optional
            What the model predicts, as a chart should say it: the event of a
            logistic model (``"recurrence or death"``: axis "Risk of recurrence
            or death") or the survival quantity of a Cox model (``"recurrence-free
            survival"``: axis "3-year recurrence-free survival"). Default: the
            model's ``outcome_name`` if it has one.
        time_unit : {"days", "weeks", "months", "years"}, optional
            Unit of the Cox model's times; survival axes are then labelled "3-year
            survival" instead of "S(1095)". Default: the model's ``time_unit``.

        Returns
        -------
        Nomogram
        """
        from .cox import CoxNomogram

        values = dict(values or {})
        interact = dict(interact or {})
        design = model.design_
        coef = model.coef_
        is_cox = isinstance(model, CoxNomogram)
        unknown = [v for v in values if v not in design.predictors]
        if unknown:
            raise ValueError(
                f"nomogram: values given for {unknown}, which are not predictors of the model; "
                f"predictors are {design.predictors}."
            )
        base = -model.center_ if is_cox else float(coef["Intercept"])
        if outcome_name is None:
            outcome_name = getattr(model, "outcome_name", None)
        if time_unit is None:
            time_unit = getattr(model, "time_unit", None)
        outcome_name, time_unit = _check_outcome_text(outcome_name, time_unit, "nomogram")

        # --- which predictor gets axes, and which are folded into interaction lines (rms nomogram)
        partner_of: dict[str, list[str]] = {}
        lines = []  # (predictor, label, axis values, condition dict)
        terms = list(design.terms)
        if design.interactions:
            # rms: continuous predictors first, then those not named in interact=
            user_interact = set(interact)
            terms.sort(key=lambda t: 10 * _is_discrete_term(t) + (t.name in user_interact))
        done: set[str] = set()
        for term in terms:
            name = term.name
            if name in done:
                continue
            axis_values = _axis_values(term, values.get(name), nint)
            related = design.related(name)
            if not related:
                lines.append((name, name, axis_values, {}))
                continue
            for p in related:
                pterm = design.term(p)
                if p not in interact and _is_discrete_term(pterm):
                    interact[p] = list(pterm.levels if pterm.kind == "categorical" else pterm.values)
            missing = [p for p in related if p not in interact]
            if missing:
                raise ValueError(
                    f"nomogram: '{name}' interacts with continuous {missing}; pass interact="
                    + "{" + ", ".join(f"'{p}': [values]" for p in missing) + "}"
                    + f" to choose the values of {missing} to draw '{name}' axes for."
                )
            done.update(related)
            partner_of[name] = list(related)
            # rms expand.grid: the first partner varies fastest
            combos = [[]]
            for p in related:
                combos = [c + [v] for v in interact[p] for c in combos]
            for combo in combos:
                label = f"{name} (" + " ".join(f"{p}={format_level(v)}" for p, v in zip(related, combo)) + ")"
                lines.append((name, label, axis_values, dict(zip(related, combo))))

        # --- X beta of each line
        ranges: dict[str, list[float]] = {}
        xbetas = []
        for name, label, axis_values, cond in lines:
            xb = _contribution(design, coef, name, axis_values, cond)
            xbetas.append(xb)
            lo, hi = ranges.get(name, [np.inf, -np.inf])
            ranges[name] = [min(lo, float(xb.min())), max(hi, float(xb.max()))]
        widths = [hi - lo for lo, hi in ranges.values()]
        if max(widths) <= 0:
            raise ValueError("nomogram: every predictor has a zero effect; nothing to draw.")
        sc = maxscale / max(widths)
        intercept = base + sum(lo for lo, _ in ranges.values())

        axes = []
        for (name, label, axis_values, cond), xb in zip(lines, xbetas):
            pts = (xb - ranges[name][0]) * sc
            term = design.term(name)
            vals, labels, pts = _merge_flat(list(axis_values), pts, _is_discrete_term(term))
            axes.append(Axis(label=label, kind="predictor", values=vals, points=pts,
                             tick_labels=labels, predictor=name, condition=cond))

        # --- LP and total points axes
        if lp_at is None:
            lp_at = pretty(model.linear_predictor_range_, nint)
        lp_at = np.asarray(lp_at, dtype=float)
        entities = len(ranges)
        sum_max = maxscale if entities == 1 else max(maxscale, sc * float(np.max(lp_at - intercept)))
        total = pretty([0.0, sum_max], nint)
        axes.append(Axis(label="Total Points", kind="total_points", values=list(total), points=total.copy(),
                         tick_labels=[_format_number(v) for v in total]))
        if lp:
            axes.append(Axis(label="Linear Predictor", kind="linear_predictor", values=list(lp_at),
                             points=(lp_at - intercept) * sc, tick_labels=[_format_number(v) for v in lp_at]))

        # --- outcome axes
        outcomes = _outcome_functions(model, is_cox, fun, funlabel, times, outcome_name, time_unit)
        if fun_at is not None and not (len(fun_at) and isinstance(fun_at[0], (list, tuple, np.ndarray))):
            fun_at = [fun_at] * len(outcomes)
        xseq = np.linspace(lp_at.min(), lp_at.max(), 1000)
        for i, (label, f) in enumerate(outcomes):
            fat = np.asarray(fun_at[i] if fun_at is not None else pretty(f(np.array([lp_at.min(), lp_at.max()])), nint), float)
            w = _approx_inverse(f(xseq), xseq, fat)
            keep = ~np.isnan(w) & ~np.isnan(fat)
            axes.append(Axis(label=label, kind="outcome", values=list(fat[keep]),
                             points=(w[keep] - intercept) * sc,
                             tick_labels=[_format_number(v) for v in fat[keep]]))

        cov = getattr(model, "cov_", None)
        variance = None
        if cov is not None:
            variance = {"columns": list(cov.columns), "covariance": cov.to_numpy(dtype=float),
                        "center": model.means_.reindex(cov.columns).to_numpy(dtype=float) if is_cox else None}
        nom = cls(axes, sc, intercept, maxscale, outcomes, "cox" if is_cox else "logistic",
                  {k: tuple(v) for k, v in ranges.items()}, partner_of, design=design, coef=coef,
                  outcome_name=outcome_name, time_unit=time_unit, variance=variance)
        nom._model = model
        return nom

    # ------------------------------------------------------------------ use
    def points(self, X: pd.DataFrame) -> pd.DataFrame:
        """Points of every patient on every predictor axis, total points, LP and outcomes.

        Points are computed at each patient's exact values (not rounded to ticks):
        ``(X beta_v(x) - R_v1) * scale``. For an interaction axis the patient's
        own partner level selects the line.

        Returns
        -------
        pandas.DataFrame
            One column per predictor drawn, then ``Total Points``, ``Linear Predictor``
            and one column per outcome axis, indexed like ``X``.
        """
        from .checks import check_training_range

        self._design.transform(X, caller="Nomogram.points")  # validates X
        # a value past the axis (age 250, a negative size) is extrapolated off the drawn scale: say so
        check_training_range(X, {t.name: (t.low, t.high) for t in self._design.terms if t.kind != "categorical"},
                             caller="Nomogram.points")
        out = {}
        for name, (lo, _) in self._term_ranges.items():
            cond = {p: X[p].to_numpy() for p in self._partners.get(name, [])}
            xb = _contribution(self._design, self._coef, name, X[name].to_numpy(), cond, vector_condition=True)
            out[name] = (xb - lo) * self.scale
        df = pd.DataFrame(out, index=X.index)
        df["Total Points"] = df.sum(axis=1)
        df["Linear Predictor"] = self.total_points_to_lp(df["Total Points"].to_numpy())
        for label, f in self._outcomes:
            df[label] = f(df["Linear Predictor"].to_numpy())
        return df

    def predictor_points(self, axis, values) -> np.ndarray:
        """Points of a predictor axis at any ``values`` (not only its ticks).

        Parameters
        ----------
        axis : Axis or str
            A predictor axis of this nomogram (or its label); an interaction
            axis is evaluated at its partner's level.
        values : array-like
            Predictor values.

        Returns
        -------
        ndarray of float
            :math:`(X\\beta_v(x) - R_{v,1}) \\cdot sc`, the points this axis gives.
        """
        if isinstance(axis, str):
            axis = self.axis(axis)
        if axis.kind != "predictor" or axis.predictor not in self._term_ranges:
            raise ValueError(f"Nomogram.predictor_points: '{axis.label}' is not a predictor axis of this nomogram.")
        lo = self._term_ranges[axis.predictor][0]
        xb = _contribution(self._design, self._coef, axis.predictor, list(values), dict(axis.condition))
        return (xb - lo) * self.scale

    @property
    def title(self) -> str:
        """What the chart predicts: "Nomogram predicting 3-year and 5-year overall survival"."""
        labels = [label for label, _ in self._outcomes]
        survival = [f for _, f in self._outcomes if isinstance(f, _SurvivalOutcome)]
        if self.model_kind == "cox" and survival and self.time_unit is not None:
            horizons = [horizon_text(f.time, self.time_unit) for f in survival]
            joined = horizons[0] if len(horizons) == 1 else ", ".join(horizons[:-1]) + " and " + horizons[-1]
            return f"Nomogram predicting {joined} {self.outcome_name or 'survival'}"
        if self.model_kind == "logistic" and self.outcome_name is not None:
            return f"Nomogram predicting the risk of {self.outcome_name}"
        if self.model_kind == "logistic" and len(labels) == 1 and labels[0] == "Risk":
            return "Nomogram predicting risk"
        if survival and len(survival) == len(labels):
            times = [_format_number(f.time) for f in survival]
            joined = times[0] if len(times) == 1 else ", ".join(times[:-1]) + " and " + times[-1]
            return f"Nomogram predicting {self.outcome_name or 'survival'} at time {joined}"
        if self.outcome_name is not None:
            return f"Nomogram predicting {self.outcome_name}"
        return "Nomogram: " + ", ".join(labels) if labels else "Nomogram"

    @property
    def outcome_labels(self) -> list[str]:
        """Labels of the outcome axes (and outcome columns of :meth:`points`)."""
        return [label for label, _ in self._outcomes]

    def has_variance(self) -> bool:
        """Whether the nomogram carries the coefficients' covariance (for confidence limits)."""
        return self._variance is not None

    def _centred_design(self, X, caller):
        if self._variance is None:
            raise ValueError(
                f"{caller}: this nomogram has no covariance of the coefficients, which confidence limits "
                "need; build it from the fitted model (model.nomogram()) or from a spec written with "
                "'variance'."
            )
        Z = self._design.transform(X, caller=caller)
        var = self._variance
        if var["columns"] and var["columns"][0] == "Intercept":
            Z = np.column_stack([np.ones(len(Z)), Z])
        if var["center"] is not None:
            Z = Z - np.asarray(var["center"], dtype=float)
        return Z

    def lp_standard_error(self, X: pd.DataFrame) -> np.ndarray:
        """Standard error of each patient's linear predictor (rms ``predict(se.fit=TRUE)``).

        :math:`\\sqrt{z^\\top V z}` with :math:`V` the coefficients' covariance and
        :math:`z` the patient's design row: with a leading 1 for a logistic
        model's intercept; minus the training means for a Cox model (rms
        centres ``cph`` predictions).
        """
        Z = self._centred_design(X, "Nomogram.lp_standard_error")
        V = np.asarray(self._variance["covariance"], dtype=float)
        return np.sqrt(np.einsum("ij,jk,ik->i", Z, V, Z))

    def confidence_limits(self, X: pd.DataFrame, conf_level: float = 0.95) -> pd.DataFrame:
        """Confidence limits of each patient's predicted outcome(s).

        Logistic risk: :math:`\\mathrm{expit}(LP \\mp z\\, se)`. Cox survival at
        :math:`t` (rms ``survest``, ``conf.type = "log"``):
        :math:`S \\exp(\\mp z\\, se_H)` with
        :math:`se_H = e^{LP} \\sqrt{V_0(t) + q^\\top V q}`,
        :math:`q = H_0(t)\\, z - A(t)`, the upper limit capped at 1.

        Parameters
        ----------
        X : pandas.DataFrame
        conf_level : float, default 0.95

        Returns
        -------
        pandas.DataFrame
            ``Linear Predictor SE`` and, per outcome axis, ``<label> lower`` and
            ``<label> upper``; indexed like ``X``.

        References
        ----------
        rms ``predict.lrm(se.fit=TRUE)``; rms ``survest.cph``.
        """
        from scipy.stats import norm

        caller = "Nomogram.confidence_limits"
        if not (isinstance(conf_level, (int, float)) and 0 < float(conf_level) < 1):
            raise ValueError(f"The 'conf_level' parameter of {caller} must be in (0, 1). Got {conf_level!r} instead.")
        Z = self._centred_design(X, caller)
        V = np.asarray(self._variance["covariance"], dtype=float)
        se = np.sqrt(np.einsum("ij,jk,ik->i", Z, V, Z))
        lp = self.points(X)["Linear Predictor"].to_numpy()
        z = float(norm.ppf(0.5 + float(conf_level) / 2))
        out = {"Linear Predictor SE": se}
        for label, f in self._outcomes:
            if isinstance(f, _RiskOutcome):
                out[f"{label} lower"], out[f"{label} upper"] = expit(lp - z * se), expit(lp + z * se)
            elif isinstance(f, _SurvivalOutcome) and f.hazard_variance is not None:
                H = -np.log(f.baseline_survival)
                q = H * Z - f.hazard_covariance
                se_h = np.exp(lp) * np.sqrt(f.hazard_variance + np.einsum("ij,jk,ik->i", q, V, q))
                s = f(lp)
                out[f"{label} lower"], out[f"{label} upper"] = s * np.exp(-z * se_h), np.minimum(1.0, s * np.exp(z * se_h))
            else:
                raise ValueError(f"{caller}: the outcome axis '{label}' has no variance data (a nomogram "
                                 "built with fun=, or a spec written without it).")
        return pd.DataFrame(out, index=X.index)

    def lp_confidence_points(self, conf_lp: str = "representative") -> pd.DataFrame:
        """Linear predictors and their standard errors where rms draws ``conf.int`` bars.

        rms ``nomogram(conf.int=, conf.lp=)``: every setting of every predictor
        axis (the axis' values, other predictors at their 'Adjust to' values)
        gives a linear predictor and its standard error; ``"all"`` returns every
        setting, ``"representative"`` the mean linear predictor and median
        standard error of each tenth of the settings sorted by linear predictor
        (equal-count groups; rms groups with ``cut2(g = 10)``).

        Returns
        -------
        pandas.DataFrame
            Columns ``lp`` and ``se``, sorted by ``lp``.
        """
        if conf_lp not in ("representative", "all"):
            raise ValueError("The 'conf_lp' parameter of Nomogram.lp_confidence_points must be one of "
                             f"{{'representative', 'all'}}. Got {conf_lp!r} instead.")
        frames = []
        for a in self.axes:
            if a.kind != "predictor":
                continue
            rows = self._design.adjust_frame(len(a.values))
            rows[a.predictor] = pd.Series(list(a.values), dtype=object) if any(
                isinstance(v, str) for v in a.values) else np.asarray(a.values, dtype=float)
            for k, v in a.condition.items():
                rows[k] = [v] * len(rows)
            frames.append(rows)
        settings = pd.concat(frames, ignore_index=True)
        lp = self.points(settings)["Linear Predictor"].to_numpy()
        se = self.lp_standard_error(settings)
        order = np.argsort(lp, kind="stable")
        lp, se = lp[order], se[order]
        if conf_lp == "representative":
            groups = [g for g in np.array_split(np.arange(len(lp)), min(10, len(lp))) if len(g)]
            lp = np.array([lp[g].mean() for g in groups])
            se = np.array([np.median(se[g]) for g in groups])
        return pd.DataFrame({"lp": lp, "se": se})

    def total_points_to_lp(self, total):
        """Linear predictor for given total points: ``intercept + total / scale``."""
        return self.intercept + np.asarray(total, dtype=float) / self.scale

    def lp_to_total_points(self, lp):
        """Total points for given linear predictor values."""
        return (np.asarray(lp, dtype=float) - self.intercept) * self.scale

    def total_points_to_outcome(self, total) -> pd.DataFrame:
        """Outcome values (risk or survival at each time) for given total points."""
        lp = self.total_points_to_lp(np.atleast_1d(total))
        return pd.DataFrame({label: f(lp) for label, f in self._outcomes})

    def axis(self, label: str) -> Axis:
        for a in self.axes:
            if a.label == label:
                return a
        raise KeyError(f"No axis labelled '{label}'; axes: {[a.label for a in self.axes]}.")

    def summary(self) -> pd.DataFrame:
        """Every tick of every axis: columns ``axis, kind, value, tick_label, points`` (as :meth:`table`)."""
        return self.table()

    def table(self) -> pd.DataFrame:
        """Every tick of every axis as a long table (axis, value, tick label, points)."""
        rows = []
        for a in self.axes:
            for v, lab, p in zip(a.values, a.tick_labels, a.points):
                rows.append({"axis": a.label, "kind": a.kind, "value": v, "tick_label": lab, "points": float(p)})
        return pd.DataFrame(rows)

    def plot(self, ax=None, *, patient=None, **kwargs):
        """Draw with :class:`~nomogram.displays.NomogramDisplay`; returns the display."""
        from .displays.nomogram import NomogramDisplay

        return NomogramDisplay(self, patient=patient).plot(ax=ax, **kwargs)

    # ------------------------------------------------------------------ model file
    _model_format = SPEC_FORMAT
    _model_version = SPEC_VERSION
    # the specification is also a plain data format for other programs, which may omit the checksum
    _model_unsigned_versions = SPEC_VERSIONS

    def to_dict(self) -> dict:
        """The model-file content: :meth:`to_spec` (``to_json`` adds the checksum)."""
        return self.to_spec()

    @classmethod
    def _from_model_dict(cls, data: dict, source: str) -> "Nomogram":
        return cls.from_spec({k: v for k, v in data.items() if k != "sha256"})

    # ------------------------------------------------------------------ pure-data specification
    def to_spec(self) -> dict:
        """The nomogram as JSON-able data from which :meth:`points` is reproduced exactly.

        The format (``"nomofuse.nomogram.NomogramSpec"``, version 1) is
        documented in the module docstring: every predictor's basis
        (linear, restricted cubic spline with its knots, factor levels) and
        coefficients, the interaction, each points column's offset, the
        points scale, total points → linear predictor, and the outcome
        mappings (logistic risk; Cox ``S0(t) ** exp(lp)`` per time).

        Returns
        -------
        dict

        Raises
        ------
        ValueError
            When an outcome axis was built from a Python function
            (``fun=``), which data cannot describe.
        """
        outcomes = []
        for label, f in self._outcomes:
            if not isinstance(f, (_RiskOutcome, _SurvivalOutcome)):
                raise ValueError(
                    f"Nomogram.to_spec: the outcome axis '{label}' comes from a Python function "
                    "(fun=), which a data specification cannot hold. Build the nomogram without "
                    "fun= (risk or survival axes) to export it."
                )
            outcomes.append({"label": label, **f.to_spec()})
        design, coef = self._design, self._coef
        predictors = []
        for term in design.terms:
            entry = {"name": term.name, "type": term.kind, "columns": list(term.columns),
                     "coef": _floats(coef[term.columns]), "discrete": _is_discrete_term(term)}
            if term.kind == "rcs":
                entry["knots"] = _floats(term.knots)
            if term.kind == "categorical":
                entry["levels"] = [python_value(v) for v in term.levels]
            else:
                entry["values"] = None if term.values is None else _floats(term.values)
                if term.low is not None and term.high is not None:
                    entry["range"] = [_finite_or_none(term.low), _finite_or_none(term.high)]
            if term.adjust is not None:
                entry["adjust"] = python_value(term.adjust) if term.kind == "categorical" else _finite_or_none(term.adjust)
            predictors.append(entry)
        several = len(design.interactions) > 1
        blocks = [{"predictors": list(pair), "columns": design.pair_columns(pair),
                   "coef": _floats(coef[design.pair_columns(pair)])} for pair in design.interactions]
        columns = []
        for name, (lo, _) in self._term_ranges.items():
            partners = list(self._partners.get(name, []))
            col = {"predictor": name, "offset": _finite_or_none(lo)}
            if several:
                col["partners"] = partners
            else:
                col["partner"] = partners[0] if partners else None
            term = design.term(name)
            if term.kind == "categorical" and not partners:
                pts = (_contribution(design, coef, name, term.levels, {}) - lo) * self.scale
                col["level_points"] = [[python_value(lv), _finite_or_none(p)] for lv, p in zip(term.levels, pts)]
            columns.append(col)
        variance = None
        if self._variance is not None:
            var = self._variance
            variance = {"columns": list(var["columns"]),
                        "covariance": [_floats(r) for r in np.asarray(var["covariance"], dtype=float)],
                        "center": None if var["center"] is None else _floats(var["center"])}
        return {
            "format": SPEC_FORMAT,
            "version": 2 if several else 1,
            "model_kind": self.model_kind,
            "title": self.title,
            "outcome_name": self.outcome_name,
            "time_unit": self.time_unit,
            "variance": variance,
            "maxscale": self.maxscale,
            "points_per_unit": self.scale,
            "intercept": self.intercept,
            "predictors": predictors,
            **({"interactions": blocks} if several else {"interaction": blocks[0] if blocks else None}),
            "points": columns,
            "outcomes": outcomes,
            "axes": [_axis_spec(a) for a in self.axes],
        }

    @classmethod
    def from_spec(cls, spec: dict) -> "Nomogram":
        """Rebuild a nomogram from :meth:`to_spec` data; its :meth:`points` equal the original's.

        Parameters
        ----------
        spec : dict
            As written by :meth:`to_spec` (e.g. after ``json.loads``).

        Returns
        -------
        Nomogram
        """
        caller = "Nomogram.from_spec"
        if not isinstance(spec, dict):
            raise TypeError(f"{caller}: spec must be a dict (parsed JSON); got {type(spec).__name__}.")
        if spec.get("format") != SPEC_FORMAT:
            raise ValueError(
                f"{caller}: spec has format {spec.get('format')!r}, expected {SPEC_FORMAT!r}; "
                "pass the dict written by Nomogram.to_spec."
            )
        if spec.get("version") not in SPEC_VERSIONS:
            raise ValueError(
                f"{caller}: spec version {spec.get('version')!r} is not supported (this nomogram "
                f"reads versions {list(SPEC_VERSIONS)}); re-export it with this version of nomofuse."
            )
        missing = [k for k in ("model_kind", "maxscale", "points_per_unit", "intercept", "predictors",
                               "points", "outcomes", "axes") if k not in spec]
        if missing:
            raise ValueError(f"{caller}: spec lacks {missing}; it was not written by Nomogram.to_spec.")
        terms, coefs = [], {}
        for p in spec["predictors"]:
            kind = p["type"]
            if kind not in ("linear", "rcs", "categorical"):
                raise ValueError(f"{caller}: predictor '{p.get('name')}' has unknown type {kind!r}; "
                                 "expected 'linear', 'rcs' or 'categorical'.")
            low, high = (_nan_floats(p["range"]) if p.get("range") is not None else (None, None))
            adjust = p.get("adjust")
            terms.append(Term(name=p["name"], kind=kind, columns=list(p["columns"]),
                              knots=list(p["knots"]) if kind == "rcs" else None,
                              levels=list(p["levels"]) if kind == "categorical" else None,
                              values=None if p.get("values") is None else _nan_floats(p["values"]),
                              adjust=None if adjust is None else (adjust if kind == "categorical" else float(adjust)),
                              low=low, high=high))
            coefs.update(zip(p["columns"], _nan_floats(p["coef"])))
        blocks = spec.get("interactions") if spec["version"] >= 2 else (
            [spec["interaction"]] if spec.get("interaction") else [])
        design = Design(terms=terms, interactions=[tuple(b["predictors"]) for b in blocks or []])
        for block in blocks or []:
            pair = tuple(block["predictors"])
            if list(block["columns"]) != design.pair_columns(pair):
                raise ValueError(f"{caller}: interaction {list(pair)} has columns {block['columns']}; the "
                                 f"predictors' columns make {design.pair_columns(pair)}.")
            coefs.update(zip(block["columns"], _nan_floats(block["coef"])))
        coef = pd.Series(coefs, dtype=float)
        ranges = {q["predictor"]: (_nan_float(q["offset"]), np.nan) for q in spec["points"]}
        partners = {}
        for q in spec["points"]:
            found = q.get("partners") if spec["version"] >= 2 else (
                [q["partner"]] if q.get("partner") is not None else [])
            if found:
                partners[q["predictor"]] = list(found)
        outcomes = [(o["label"], _outcome_from_spec(o, caller)) for o in spec["outcomes"]]
        axes = [Axis.from_dict({**a, "points": _nan_floats(a["points"])}) for a in spec["axes"]]
        variance = spec.get("variance")
        if variance is not None:
            variance = {"columns": list(variance["columns"]),
                        "covariance": np.array([_nan_floats(r) for r in variance["covariance"]], dtype=float),
                        "center": None if variance.get("center") is None else np.array(_nan_floats(variance["center"]))}
        outcome_name, time_unit = _check_outcome_text(spec.get("outcome_name"), spec.get("time_unit"), caller)
        return cls(axes, spec["points_per_unit"], spec["intercept"], spec["maxscale"], outcomes,
                   spec["model_kind"], ranges, partners, design=design, coef=coef,
                   outcome_name=outcome_name, time_unit=time_unit, variance=variance)


# ---------------------------------------------------------------------- helpers
def _axis_values(term, given, nint):
    if given is not None:
        return list(given)
    if term.kind == "categorical":
        return list(term.levels)
    if term.values is not None:
        return list(term.values)
    return list(pretty([term.low, term.high], nint))


def _contribution(design, coef, name, x, cond, vector_condition=False) -> np.ndarray:
    """X beta of predictor ``name`` at values ``x``, plus its interaction partners at ``cond``.

    ``cond`` maps each partner folded into the axis to its value (one value, or
    one per ``x`` with ``vector_condition``); the result adds the partners' main
    effects and every interaction among ``name`` and its partners (rms
    ``nomogram``: the terms of the axis predictor, the related predictors and the
    interactions containing them).
    """
    x = pd.Series(list(x))
    n = len(x)
    bases = {name: design.term(name).basis(x, caller="nomogram")}
    for p, v in (cond or {}).items():
        pvals = pd.Series(list(v)) if vector_condition else pd.Series([v] * n)
        bases[p] = design.term(p).basis(pvals, caller="nomogram")
    xb = np.zeros(n)
    for v, B in bases.items():
        xb = xb + B @ coef[design.term(v).columns].to_numpy()
    for pair in design.interactions:
        if pair[0] in bases and pair[1] in bases:
            xb = xb + design.product(bases[pair[0]], bases[pair[1]]) @ coef[design.pair_columns(pair)].to_numpy()
    return np.asarray(xb, dtype=float)


def _merge_flat(values, pts, discrete):
    """Merge runs of equal points into one tick, labelled as rms labels them."""
    labels = [v if isinstance(v, str) else _format_number(v) for v in values]
    if not len(pts):
        return values, labels, pts
    keep_vals, keep_labels, keep_pts = [], [], []
    i = 0
    n = len(pts)
    while i < n:
        j = i
        while j + 1 < n and pts[j + 1] == pts[i]:
            j += 1
        if j > i:
            lab = f"{labels[i]}-{labels[j]}" if (discrete or j < n - 1) else f"{labels[i]}+"
        else:
            lab = labels[i]
        keep_vals.append(values[j])
        keep_labels.append(lab)
        keep_pts.append(pts[j])
        i = j + 1
    return keep_vals, keep_labels, np.asarray(keep_pts, dtype=float)


def _approx_inverse(fu, xseq, fat):
    """R ``approx(fu, xseq, fat, ties=mean)``: linear interpolation, NA outside the range."""
    ok = ~np.isnan(fu)
    fu, xseq = fu[ok], xseq[ok]
    order = np.argsort(fu, kind="mergesort")
    fu, xseq = fu[order], xseq[order]
    ufu, inv = np.unique(fu, return_inverse=True)
    ux = np.bincount(inv, weights=xseq) / np.bincount(inv)
    out = np.interp(fat, ufu, ux)
    out[(fat < ufu[0]) | (fat > ufu[-1])] = np.nan
    return out


class _RiskOutcome:
    """Logistic risk :math:`1 / (1 + e^{-LP})` (data: nothing)."""

    def __call__(self, lp):
        return expit(lp)

    def to_spec(self) -> dict:
        return {"type": "logistic"}


class _SurvivalOutcome:
    """Cox survival at ``time``: :math:`S_0(t)^{\\exp(LP)}` for the centred LP (data: t and S0(t)).

    ``hazard_variance`` :math:`V_0(t)` and ``hazard_covariance`` :math:`A(t)`
    (one per design column) are rms ``survest``'s pieces of the variance of the
    cumulative hazard; None when the nomogram has no confidence limits.
    """

    def __init__(self, time: float, baseline_survival: float, hazard_variance=None, hazard_covariance=None,
                 stratum=None):
        self.stratum = stratum
        self.time = float(time)
        self.baseline_survival = float(baseline_survival)
        self.hazard_variance = None if hazard_variance is None else float(hazard_variance)
        self.hazard_covariance = None if hazard_covariance is None else np.asarray(hazard_covariance, dtype=float)

    def __call__(self, lp):
        return self.baseline_survival ** np.exp(np.asarray(lp, dtype=float))

    def to_spec(self) -> dict:
        d = {"type": "survival", "time": self.time, "baseline_survival": _finite_or_none(self.baseline_survival)}
        if self.stratum is not None:
            d["stratum"] = self.stratum
        if self.hazard_variance is not None:
            d["hazard_variance"] = _finite_or_none(self.hazard_variance)
            d["hazard_covariance"] = _floats(self.hazard_covariance)
        return d


def _outcome_from_spec(o: dict, caller: str):
    if o.get("type") == "logistic":
        return _RiskOutcome()
    if o.get("type") == "survival":
        hv = o.get("hazard_variance", None) if "hazard_variance" in o else None
        hc = o.get("hazard_covariance")
        return _SurvivalOutcome(o["time"], _nan_float(o["baseline_survival"]),
                                None if "hazard_variance" not in o else _nan_float(hv),
                                None if hc is None else _nan_floats(hc), stratum=o.get("stratum"))
    raise ValueError(f"{caller}: outcome '{o.get('label')}' has unknown type {o.get('type')!r}; "
                     "expected 'logistic' or 'survival'.")


def _finite_or_none(v):
    v = float(v)
    return v if np.isfinite(v) else None


def _floats(values) -> list:
    return [_finite_or_none(v) for v in np.asarray(values, dtype=float)]


def _nan_float(v) -> float:
    return float("nan") if v is None else float(v)


def _nan_floats(values) -> list:
    return [_nan_float(v) for v in values]


def _is_discrete_term(term) -> bool:
    """rms ``discrete``: categorical, or numeric with few distinct values (datadist ``values``)."""
    return term.kind == "categorical" or term.values is not None


def _axis_spec(axis: Axis) -> dict:
    d = axis.to_dict()
    d["points"] = _floats(axis.points)
    d["values"] = [_finite_or_none(v) if isinstance(v, float) else v for v in d["values"]]
    return d


def _outcome_functions(model, is_cox, fun, funlabel, times, outcome_name=None, time_unit=None):
    if fun is not None:
        funs = list(fun) if isinstance(fun, (list, tuple)) else [fun]
        if funlabel is None:
            labels = ["Predicted Value"] * len(funs)
        else:
            labels = [funlabel] * len(funs) if isinstance(funlabel, str) else list(funlabel)
        return list(zip(labels, funs))
    if not is_cox:
        default = "Risk" if outcome_name is None else f"Risk of {outcome_name}"
        return [(funlabel if isinstance(funlabel, str) else default, _RiskOutcome())]
    times = times if times is not None else model.times
    if times is None:
        return []
    times = list(np.atleast_1d(times))
    strata = list(model.strata_levels_) if getattr(model, "is_stratified", False) else [None]
    for stratum in strata:
        end = model.max_time_ if stratum is None else model.stratum_max_time_[stratum]
        beyond = [float(t) for t in times if float(t) > end + 1e-6]
        if beyond:
            where = "the model's last follow-up time" if stratum is None else f"the last follow-up time of {stratum}"
            raise ValueError(
                f"nomogram: times {beyond} are past {where} {end:g}, "
                "where survival is undefined (rms survest gives NA). Choose times within follow-up."
            )
    if funlabel is not None:
        labels = [funlabel] * (len(times) * len(strata)) if isinstance(funlabel, str) else list(funlabel)
    else:
        # a stratified model: one axis per stratum and time, "S(1095) tgrade=II" (strata outer, as rms users list them)
        labels = [survival_label(t, time_unit, outcome_name) + ("" if st is None else f" {st}")
                  for st in strata for t in times]
    # S0(t) at the centre: survival_at at LP 0 (NaN past follow-up); with the
    # baseline hazard's variance pieces at t (rms survest) for confidence limits
    out = []
    pieces = getattr(model, "baseline_hazard_variance_", None)
    cases = [(st, t) for st in strata for t in times]
    for lab, (st, t) in zip(labels, cases):
        v0 = a = None
        if pieces is not None:
            rows, _ = model._baseline_rows(st)
            bt = model.baseline_survival_["time"].to_numpy()[rows]
            arr = pieces.to_numpy(dtype=float)[rows]
            row = step_function_at(bt, arr.T, np.array([float(t)]), tol=1e-6, before=0.0)[:, 0]
            v0, a = float(row[0]), row[1:].copy()
        s0 = model.survival_at(0.0, [t], stratum=st)[0, 0]
        out.append((lab, _SurvivalOutcome(t, s0, v0, a, stratum=st)))
    return out


#: Time units a survival axis can be labelled in, and their length in days.
TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0, "years": 365.25}


def horizon_text(time, time_unit=None) -> str:
    """A model time as a chart says it: ``1095`` days -> ``"3-year"``.

    Parameters
    ----------
    time : float
    time_unit : {"days", "weeks", "months", "years"} or None
        None: the bare number (``"1095"``).

    Returns
    -------
    str
        Whole years when ``time`` is within 0.5 % of a whole number of years
        (365.25 days; 1095 and 1096 days are both 3 years), else whole months
        (within 0.5 %), else the time in its own unit (``"100-day"``).
    """
    t = float(time)
    if time_unit is None:
        return _format_number(t)
    days = t * TIME_UNITS[time_unit]
    for unit, name in ((365.25, "year"), (365.25 / 12.0, "month")):
        n = round(days / unit)
        if n >= 1 and abs(days / unit - n) <= 0.005 * n:
            return f"{n}-{name}"
    return f"{_format_number(t)}-{time_unit[:-1]}"


def survival_label(time, time_unit=None, outcome_name=None) -> str:
    """Label of a survival axis: ``"3-year survival"``, ``"3-year overall survival"`` or ``"S(1095)"``."""
    if time_unit is None:
        return f"S({_format_number(time)})" if outcome_name is None else f"{outcome_name} at {_format_number(time)}"
    return f"{horizon_text(time, time_unit)} {outcome_name or 'survival'}"


def _check_outcome_text(outcome_name, time_unit, caller):
    if outcome_name is not None and (not isinstance(outcome_name, str) or not outcome_name.strip()):
        raise ValueError(f"The 'outcome_name' parameter of {caller} must be a non-empty str or None. "
                         f"Got {outcome_name!r} instead.")
    if time_unit is not None and time_unit not in TIME_UNITS:
        raise ValueError(f"The 'time_unit' parameter of {caller} must be one of {set(TIME_UNITS)} or None. "
                         f"Got {time_unit!r} instead.")
    return (None if outcome_name is None else outcome_name.strip()), time_unit
