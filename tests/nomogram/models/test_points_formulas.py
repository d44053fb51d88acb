"""points_formulas / points_table: a reader recomputes every patient's points from the printed text.

The test parses nothing but ``PointsFormulas.as_text()`` (the lines a paper's
supplement would print), evaluates each patient's pieces by hand and compares
with ``Nomogram.points`` and the model's own predictions.
"""

import math
import re

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_gbsg2

from nomogram import CoxNomogram, LogisticNomogram
from nomogram.points_formulas import points_formulas, points_table

PREDICTORS = ["age", "tsize", "pnodes", "tgrade", "horTh", "menostat"]


@pytest.fixture(scope="module")
def gbsg2():
    return load_gbsg2()


@pytest.fixture(scope="module")
def models(gbsg2):
    X = gbsg2[PREDICTORS]
    logistic = LogisticNomogram(splines={"age": 4, "tsize": 3}, interaction=("age", "horTh"),
                                outcome_name="recurrence or death").fit(X, gbsg2["cens"])
    cox = CoxNomogram(splines={"age": 5, "tsize": 3}, times=[1095, 1825], time_unit="days").fit(
        X, gbsg2[["time", "cens"]])
    return {"logistic": logistic, "cox": cox}, X


def _patients(X, n=60, seed=2):
    rng = np.random.default_rng(seed)
    rows = X.sample(n, random_state=seed).reset_index(drop=True)
    rows["age"] = rng.uniform(18, 85, n)  # anywhere, also between knots and beyond the outer ones
    rows["tsize"] = rng.uniform(1, 130, n)
    return rows


# ------------------------------------------------------------------ a reader's evaluator of the text
_HEADER = re.compile(r"^(?P<label>\S.*?) \((?P<kind>linear|categorical|restricted cubic spline.*)\)$")
_PIECE = re.compile(r"^  (?P<where>.+?): points = (?P<expr>.+)$")


def _parse(text):
    axes, current, lp_line, outcomes = {}, None, None, {}
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m and not line.startswith(" "):
            current = m.group("label")
            axes[current] = []
            continue
        m = _PIECE.match(line)
        if m and current is not None:
            axes[current].append((m.group("where"), m.group("expr")))
            continue
        if line.startswith("  LP = "):
            lp_line = line[len("  LP = "):]
            current = None
        elif line.startswith("  ") and " = " in line and lp_line is not None:
            label, expr = line.strip().split(" = ", 1)
            outcomes[label] = expr
    return axes, lp_line, outcomes


def _holds(where, var, value):
    if where == f"every {var}":
        return True
    if where.startswith(f"{var} = "):
        return str(value) == where[len(f"{var} = "):]
    if where.startswith(f"{var} < "):
        return value < float(where[len(f"{var} < "):])
    if where.startswith(f"{var} >= "):
        return value >= float(where[len(f"{var} >= "):])
    lo, rest = where.split(f" <= {var} < ")
    return float(lo) <= value < float(rest)


def _eval(expr, var, value):
    code = expr.replace("^", "**").replace(var, "X")
    return eval(code, {"__builtins__": {}}, {"X": value})  # noqa: S307 - the test's own text


def _by_hand(text, patient, axis_vars):
    axes, lp_line, outcomes = _parse(text)
    total = 0.0
    per_axis = {}
    for label, pieces in axes.items():
        var = axis_vars[label]
        cond = re.search(r"\((\w+)=(\w+)\)$", label)
        if cond and str(patient[cond.group(1)]) != cond.group(2):
            continue
        value = patient[var]
        (expr,) = [e for w, e in pieces if _holds(w, var, value)]
        per_axis[var] = float(_eval(expr, var, value))
        total += per_axis[var]
    intercept, scale = re.match(r"(\S+) \+ total points / (\S+)$", lp_line).groups()
    lp = float(intercept) + total / float(scale)
    out = {}
    for label, expr in outcomes.items():
        if expr == "1 / (1 + exp(-LP))":
            out[label] = 1 / (1 + math.exp(-lp))
        else:
            base = float(expr.split(" ^ ")[0])
            out[label] = base ** math.exp(lp)
    return per_axis, total, lp, out


@pytest.mark.parametrize("kind", ["logistic", "cox"])
@pytest.mark.parametrize("digits, tol", [(15, 1e-8), (6, 2e-3)])
def test_points_recomputed_from_the_printed_formulas(models, kind, digits, tol):
    fitted, X = models
    model = fitted[kind]
    nom = model.nomogram()
    text = points_formulas(nom, digits=digits).as_text()
    axis_vars = {a.label: a.predictor for a in nom.axes if a.kind == "predictor"}
    patients = _patients(X)
    want = nom.points(patients)
    for i, patient in patients.iterrows():
        per_axis, total, lp, out = _by_hand(text, patient, axis_vars)
        for var, p in per_axis.items():
            assert p == pytest.approx(want[var].iloc[i], abs=tol), (var, patient[var])
        assert total == pytest.approx(want["Total Points"].iloc[i], abs=tol * 10)
        assert lp == pytest.approx(model.decision_function(patients.iloc[[i]])[0], abs=tol)
        for label, v in out.items():
            assert v == pytest.approx(want[label].iloc[i], abs=tol)


def test_spline_pieces_are_cubic_between_knots_and_linear_outside(models):
    fitted, _ = models
    model = fitted["cox"]
    f = points_formulas(model.nomogram())
    age = f.summary().query("predictor == 'age'")
    knots = model.design_.term("age").knots
    assert len(age) == len(knots) + 1  # below, between each pair, above
    assert list(age["lower"].iloc[1:]) == pytest.approx(list(knots))
    outer = age.iloc[[0, -1]]
    assert (outer[["c", "d"]].to_numpy() == 0).all()
    assert (age.iloc[1:-1]["d"] != 0).all()
    # continuity at each knot: the piece below and above agree in value and slope
    for (_, lo), (_, hi) in zip(age.iloc[:-1].iterrows(), age.iloc[1:].iterrows()):
        t = hi["lower"]
        u = t - lo["center"]
        below = lo["a"] + lo["b"] * u + lo["c"] * u ** 2 + lo["d"] * u ** 3
        slope = lo["b"] + 2 * lo["c"] * u + 3 * lo["d"] * u ** 2
        assert below == pytest.approx(hi["a"], abs=1e-9)
        assert slope == pytest.approx(hi["b"], abs=1e-9)
    text = f.as_text()
    assert "5-year survival = " in text and "3-year survival = " in text


def test_points_table_lists_ticks_and_outcomes(models):
    fitted, _ = models
    nom = fitted["logistic"].nomogram()
    table = points_table(nom)
    pred = table[table["kind"] == "predictor"]
    assert set(pred["axis"]) == {a.label for a in nom.axes if a.kind == "predictor"}
    ticks = nom.table().query("kind == 'predictor'")
    np.testing.assert_allclose(pred["points"].to_numpy(), ticks["points"].to_numpy())
    tot = table[table["kind"] == "total_points"]
    assert tot["points"].iloc[0] == 0 and np.all(np.diff(tot["points"]) > 0)
    np.testing.assert_allclose(tot["Risk of recurrence or death"], nom.total_points_to_outcome(tot["points"])
                               .iloc[:, 0].to_numpy())
    np.testing.assert_allclose(tot["Linear Predictor"], nom.total_points_to_lp(tot["points"].to_numpy()))


def test_errors_name_the_fix(models):
    fitted, _ = models
    with pytest.raises(TypeError, match="expects a Nomogram"):
        points_formulas(fitted["cox"])
    with pytest.raises(ValueError, match="digits"):
        points_formulas(fitted["cox"].nomogram(), digits=1)
    with pytest.raises(ValueError, match="total_step"):
        points_table(fitted["cox"].nomogram(), total_step=0)
