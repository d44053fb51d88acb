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

A predictor in an interaction is drawn once per level of its (categorical)
partner, e.g. ``age (horTh=yes)``, with the partner's main effect and the
interaction folded in; the partner gets no axis of its own (rms ``interact=``).

Pure-data specification (``Nomogram.to_spec`` / ``Nomogram.from_spec``)
-----------------------------------------------------------------------
A nomogram's outcome functions are Python callables, so the object itself
cannot be saved; :meth:`Nomogram.to_spec` writes everything it computes as
JSON-able data, from which :meth:`Nomogram.from_spec` (or a program in any
language, e.g. a web calculator) reproduces :meth:`Nomogram.points` exactly.
Format ``"nomofuse.nomogram.NomogramSpec"``, version 1::

    {"format": "nomofuse.nomogram.NomogramSpec", "version": 1,
     "model_kind": "logistic" | "cox",
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
training values when at most 10, else null) and ``"knots"`` (type
``"rcs"``). Its
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
from ._pretty import pretty
from .model_io import ModelFileMixin

__all__ = ["Axis", "Nomogram", "SPEC_FORMAT", "SPEC_VERSION"]

#: ``"format"`` and ``"version"`` of :meth:`Nomogram.to_spec` (module docstring).
SPEC_FORMAT = "nomofuse.nomogram.NomogramSpec"
SPEC_VERSION = 1


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
        For interaction axes, the partner's level (``{"horTh": "yes"}``).
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
            "values": [_py(v) for v in self.values],
            "points": [float(p) for p in self.points],
            "tick_labels": list(self.tick_labels),
            "predictor": self.predictor,
            "condition": {k: _py(v) for k, v in self.condition.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Axis":
        return cls(
            label=d["label"], kind=d["kind"], values=list(d["values"]),
            points=np.asarray(d["points"], dtype=float), tick_labels=list(d["tick_labels"]),
            predictor=d.get("predictor"), condition=dict(d.get("condition") or {}),
        )


def _py(v):
    return v.item() if isinstance(v, np.generic) else v


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
                 term_ranges, partners, design=None, coef=None):
        self.axes = axes
        self.scale = float(scale)
        self.intercept = float(intercept)
        self.maxscale = float(maxscale)
        self._outcomes = outcome_functions  # list of (label, callable lp -> value)
        self.model_kind = model_kind
        self._term_ranges = term_ranges  # predictor -> (min, max) of X beta
        self._partners = partners  # axis predictor -> the interaction partner folded into it
        self._design = design  # the model's Design and coefficients: all points() needs
        self._coef = coef
        self._model = None

    # ------------------------------------------------------------------ build
    @classmethod
    def from_model(cls, model, *, values=None, interact=None, lp=True, lp_at=None, fun=None,
                   fun_at=None, funlabel=None, times=None, maxscale=100.0, nint=10):
        """Compute the nomogram of a fitted :class:`LogisticNomogram` or :class:`CoxNomogram`.

        Parameters
        ----------
        model : fitted LogisticNomogram or CoxNomogram
        values : dict of {str: list}, optional
            Explicit axis values for predictors (rms ``nomogram(fit, age=seq(30, 80, 10))``).
        interact : dict of {str: list}, optional
            Levels of an interaction partner to draw axes for (rms ``interact=``);
            needed when the partner is continuous.
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

        # --- which predictor gets axes, and which are folded into interaction lines
        inter = design.interaction
        partner_of = {}
        if inter:
            a, b = inter
            discrete = {v: design.term(v).kind == "categorical" or design.term(v).values is not None for v in (a, b)}
            # rms draws the continuous one (the first when both are alike) and folds in the other
            axis_var, partner = (b, a) if (discrete[a] and not discrete[b]) else (a, b)
            if partner not in interact:
                pterm = design.term(partner)
                if pterm.kind == "categorical":
                    interact[partner] = list(pterm.levels)
                elif pterm.values is not None:
                    interact[partner] = list(pterm.values)
                else:
                    raise ValueError(
                        f"nomogram: '{axis_var}' interacts with continuous '{partner}'; pass "
                        f"interact={{'{partner}': [values]}} to choose the levels of '{partner}' "
                        "to draw axes for."
                    )
            partner_of[axis_var] = partner

        lines = []  # (predictor, label, axis values, condition dict)
        terms = list(design.terms)
        if inter:
            # rms draws continuous predictors first when the model has an interaction
            terms.sort(key=lambda t: (t.kind == "categorical" or t.values is not None))
        for term in terms:
            name = term.name
            if name in partner_of.values():
                continue
            axis_values = _axis_values(term, values.get(name), nint)
            if name in partner_of:
                partner = partner_of[name]
                for lev in interact[partner]:
                    label = f"{name} ({partner}={format_level(lev)})"
                    lines.append((name, label, axis_values, {partner: lev}))
            else:
                lines.append((name, name, axis_values, {}))

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
        outcomes = _outcome_functions(model, is_cox, fun, funlabel, times)
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

        nom = cls(axes, sc, intercept, maxscale, outcomes, "cox" if is_cox else "logistic",
                  {k: tuple(v) for k, v in ranges.items()}, partner_of, design=design, coef=coef)
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
        self._design.transform(X, caller="Nomogram.points")  # validates X
        out = {}
        for name, (lo, _) in self._term_ranges.items():
            partner = self._partners.get(name)
            cond = None if partner is None else X[partner]
            xb = _contribution(self._design, self._coef, name, X[name].to_numpy(), cond, vector_condition=True)
            out[name] = (xb - lo) * self.scale
        df = pd.DataFrame(out, index=X.index)
        df["Total Points"] = df.sum(axis=1)
        df["Linear Predictor"] = self.total_points_to_lp(df["Total Points"].to_numpy())
        for label, f in self._outcomes:
            df[label] = f(df["Linear Predictor"].to_numpy())
        return df

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
    _model_unsigned_versions = (SPEC_VERSION,)

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
                entry["levels"] = [_py(v) for v in term.levels]
            else:
                entry["values"] = None if term.values is None else _floats(term.values)
            predictors.append(entry)
        interaction = None
        if design.interaction:
            interaction = {"predictors": list(design.interaction), "columns": list(design.interaction_columns),
                           "coef": _floats(coef[design.interaction_columns])}
        columns = []
        for name, (lo, _) in self._term_ranges.items():
            partner = self._partners.get(name)
            col = {"predictor": name, "offset": _finite_or_none(lo), "partner": partner}
            term = design.term(name)
            if term.kind == "categorical" and partner is None:
                pts = (_contribution(design, coef, name, term.levels, {}) - lo) * self.scale
                col["level_points"] = [[_py(lv), _finite_or_none(p)] for lv, p in zip(term.levels, pts)]
            columns.append(col)
        return {
            "format": SPEC_FORMAT,
            "version": SPEC_VERSION,
            "model_kind": self.model_kind,
            "maxscale": self.maxscale,
            "points_per_unit": self.scale,
            "intercept": self.intercept,
            "predictors": predictors,
            "interaction": interaction,
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
        if spec.get("version") != SPEC_VERSION:
            raise ValueError(
                f"{caller}: spec version {spec.get('version')!r} is not supported (this nomogram "
                f"reads version {SPEC_VERSION}); re-export it with this version of nomofuse."
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
            terms.append(Term(name=p["name"], kind=kind, columns=list(p["columns"]),
                              knots=list(p["knots"]) if kind == "rcs" else None,
                              levels=list(p["levels"]) if kind == "categorical" else None,
                              values=None if p.get("values") is None else _nan_floats(p["values"])))
            coefs.update(zip(p["columns"], _nan_floats(p["coef"])))
        design = Design(terms=terms)
        inter = spec.get("interaction")
        if inter:
            design.interaction = tuple(inter["predictors"])
            design.interaction_columns = list(inter["columns"])
            coefs.update(zip(inter["columns"], _nan_floats(inter["coef"])))
        coef = pd.Series(coefs, dtype=float)
        ranges = {q["predictor"]: (_nan_float(q["offset"]), np.nan) for q in spec["points"]}
        partners = {q["predictor"]: q["partner"] for q in spec["points"] if q.get("partner") is not None}
        outcomes = [(o["label"], _outcome_from_spec(o, caller)) for o in spec["outcomes"]]
        axes = [Axis.from_dict({**a, "points": _nan_floats(a["points"])}) for a in spec["axes"]]
        return cls(axes, spec["points_per_unit"], spec["intercept"], spec["maxscale"], outcomes,
                   spec["model_kind"], ranges, partners, design=design, coef=coef)


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
    """X beta of predictor ``name`` at values ``x`` (plus its interaction at ``cond``)."""
    term = design.term(name)
    x = pd.Series(list(x))
    xb = term.basis(x, caller="nomogram") @ coef[term.columns].to_numpy()
    has_condition = (cond is not None) if vector_condition else bool(cond)
    if has_condition:
        a, b = design.interaction
        partner = b if name == a else a
        pterm = design.term(partner)
        if vector_condition:
            pvals = pd.Series(list(cond))
        else:
            pvals = pd.Series([cond[partner]] * len(x))
        pbasis = pterm.basis(pvals, caller="nomogram")
        xb = xb + pbasis @ coef[pterm.columns].to_numpy()
        A = term.basis(x, caller="nomogram") if name == a else pbasis
        B = pbasis if name == a else term.basis(x, caller="nomogram")
        prod = (A[:, :, None] * B[:, None, :]).transpose(0, 2, 1).reshape(len(x), -1)
        xb = xb + prod @ coef[design.interaction_columns].to_numpy()
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
    """Cox survival at ``time``: :math:`S_0(t)^{\\exp(LP)}` for the centred LP (data: t and S0(t))."""

    def __init__(self, time: float, baseline_survival: float):
        self.time = float(time)
        self.baseline_survival = float(baseline_survival)

    def __call__(self, lp):
        return self.baseline_survival ** np.exp(np.asarray(lp, dtype=float))

    def to_spec(self) -> dict:
        return {"type": "survival", "time": self.time,
                "baseline_survival": _finite_or_none(self.baseline_survival)}


def _outcome_from_spec(o: dict, caller: str):
    if o.get("type") == "logistic":
        return _RiskOutcome()
    if o.get("type") == "survival":
        return _SurvivalOutcome(o["time"], _nan_float(o["baseline_survival"]))
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


def _outcome_functions(model, is_cox, fun, funlabel, times):
    if fun is not None:
        funs = list(fun) if isinstance(fun, (list, tuple)) else [fun]
        if funlabel is None:
            labels = ["Predicted Value"] * len(funs)
        else:
            labels = [funlabel] * len(funs) if isinstance(funlabel, str) else list(funlabel)
        return list(zip(labels, funs))
    if not is_cox:
        return [(funlabel if isinstance(funlabel, str) else "Risk", _RiskOutcome())]
    times = times if times is not None else model.times
    if times is None:
        return []
    times = list(np.atleast_1d(times))
    beyond = [t for t in times if float(t) > model.max_time_ + 1e-6]
    if beyond:
        raise ValueError(
            f"nomogram: times {beyond} are past the model's last follow-up time {model.max_time_:g}, "
            "where survival is undefined (rms survest gives NA). Choose times within follow-up."
        )
    labels = list(funlabel) if funlabel is not None else [f"S({_format_number(t)})" for t in times]
    # S0(t) at the centre: survival_at at LP 0 (NaN past follow-up)
    return [(lab, _SurvivalOutcome(t, model.survival_at(0.0, [t])[0, 0])) for lab, t in zip(labels, times)]
