"""Nomogram.to_spec / from_spec: the pure-data specification reproduces points() exactly.

Checked on the R reference models (L1-L4, C1, C2 of tests/reference/rms_models.R)
and on models with a continuous interaction partner, for the training patients
and random new ones, twice: by ``Nomogram.from_spec`` (numpy) and by the
pure-Python evaluator below, which reads nothing but the JSON text (what a web
calculator does).
"""

import json
import math

import numpy as np
import pandas as pd
import pytest

from nomogram import CoxNomogram, LogisticNomogram
from nomogram.points import SPEC_FORMAT, SPEC_VERSION, Nomogram
from tests._reference import reference_data
from tests.nomogram.models.conftest import MODEL_SPECS, fit_reference_model

ATOL = 1e-12


# ----------------------------------------------------------------- the reference evaluator (no numpy)
def _basis(pred, x):
    """Basis columns of one predictor at one value (points.py module docstring)."""
    if pred["type"] == "categorical":
        return [1.0 if x == lev else 0.0 for lev in pred["levels"][1:]]
    x = float(x)
    if pred["type"] == "linear":
        return [x]
    t = pred["knots"]
    kd = (t[-1] - t[0]) ** (2.0 / 3.0)
    tail_k = max((x - t[-1]) / kd, 0.0) ** 3
    tail_k1 = max((x - t[-2]) / kd, 0.0) ** 3
    return [x] + [
        max((x - t[j]) / kd, 0.0) ** 3 + ((t[-2] - t[j]) * tail_k - (t[-1] - t[j]) * tail_k1) / (t[-1] - t[-2])
        for j in range(len(t) - 2)
    ]


def _dot(a, b):
    return sum(u * v for u, v in zip(a, b))


def evaluate_spec(spec: dict, patient: dict) -> dict:
    """Points per column, total points, linear predictor and outcomes of one patient."""
    preds = {p["name"]: p for p in spec["predictors"]}
    sc = spec["points_per_unit"]
    out = {}
    # version 1: one "interaction" and one "partner" per column; version 2: lists
    inters = spec["interactions"] if spec["version"] >= 2 else [i for i in [spec["interaction"]] if i]
    for col in spec["points"]:
        name = col["predictor"]
        partners = col["partners"] if spec["version"] >= 2 else [p for p in [col["partner"]] if p is not None]
        if not partners and "level_points" in col:
            out[name] = next(p for lev, p in col["level_points"] if lev == patient[name])
            continue
        bases = {v: _basis(preds[v], patient[v]) for v in [name] + partners}
        xb = sum(_dot(b, preds[v]["coef"]) for v, b in bases.items())
        for inter in inters:
            first, second = inter["predictors"]
            if first in bases and second in bases:
                ba, bb = bases[first], bases[second]
                xb += sum(c * ba[k % len(ba)] * bb[k // len(ba)] for k, c in enumerate(inter["coef"]))
        out[name] = (xb - col["offset"]) * sc
    total = sum(out.values())
    lp = spec["intercept"] + total / sc
    out["Total Points"] = total
    out["Linear Predictor"] = lp
    for o in spec["outcomes"]:
        if o["type"] == "logistic":
            out[o["label"]] = 1.0 / (1.0 + math.exp(-lp))
        else:
            s0 = o["baseline_survival"]
            out[o["label"]] = float("nan") if s0 is None else s0 ** math.exp(lp)
    return out


# ----------------------------------------------------------------- helpers
def _random_patients(model, X, n=40, seed=0):
    """New patients: continuous values anywhere in (and a little beyond) the training range."""
    rng = np.random.default_rng(seed)
    cols = {}
    for term in model.design_.terms:
        if term.kind == "categorical":
            cols[term.name] = [term.levels[i] for i in rng.integers(0, len(term.levels), n)]
        elif term.values is not None:
            cols[term.name] = rng.choice(term.values, n)
        else:
            span = term.high - term.low
            cols[term.name] = rng.uniform(term.low - 0.1 * span, term.high + 0.1 * span, n)
    new = pd.DataFrame(cols)[list(X.columns)]
    for c in X.columns:
        if X[c].dtype == object:
            new[c] = new[c].astype(object)
    return pd.concat([X, new], ignore_index=True)


def _check_spec_reproduces_points(nom, X):
    text = json.dumps(nom.to_spec(), allow_nan=False)  # strictly JSON: no NaN/inf tokens
    spec = json.loads(text)
    several = len(nom._design.interactions) > 1
    assert spec["format"] == SPEC_FORMAT and spec["version"] == (2 if several else SPEC_VERSION)
    want = nom.points(X)
    again = Nomogram.from_spec(spec)
    pd.testing.assert_index_equal(again.points(X).columns, want.columns)
    np.testing.assert_allclose(again.points(X).to_numpy(), want.to_numpy(), rtol=0, atol=ATOL)
    records = X.to_dict(orient="records")
    by_hand = pd.DataFrame([evaluate_spec(spec, p) for p in records], index=X.index)[list(want.columns)]
    np.testing.assert_allclose(by_hand.to_numpy(), want.to_numpy(), rtol=0, atol=ATOL)
    assert again.to_spec() == spec  # the spec is a fixed point
    pd.testing.assert_frame_equal(again.table(), nom.table())
    return spec, again


# ----------------------------------------------------------------- tests
@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_spec_reproduces_points_on_reference_models(name):
    model, X, _ = fit_reference_model(name)
    nom = model.nomogram()
    spec, _ = _check_spec_reproduces_points(nom, _random_patients(model, X))
    kinds = {p["name"]: p["type"] for p in spec["predictors"]}
    assert kinds["age"] == "rcs"
    if name.startswith("C"):
        assert [o["type"] for o in spec["outcomes"]] == ["survival", "survival"]
        assert [o["time"] for o in spec["outcomes"]] == list(map(float, model.times))
    else:
        assert [o["type"] for o in spec["outcomes"]] == ["logistic"]
    if name == "L3":  # age x horTh: age drawn per horTh level, horTh folded in
        assert spec["interaction"]["predictors"] == ["age", "horTh"]
        assert [c["partner"] for c in spec["points"] if c["predictor"] == "age"] == ["horTh"]
        assert "horTh" not in [c["predictor"] for c in spec["points"]]


def test_factor_level_points_equal_the_axis_ticks():
    model, X, _ = fit_reference_model("L1")
    nom = model.nomogram()
    spec = nom.to_spec()
    col = next(c for c in spec["points"] if c["predictor"] == "tgrade")
    axis = nom.axis("tgrade")
    assert dict(col["level_points"]) == pytest.approx(dict(zip(axis.values, axis.points)), abs=0)


@pytest.mark.parametrize("kind", ["logistic", "cox"])
def test_continuous_interaction_partner_is_evaluated_at_the_patients_value(kind):
    d = reference_data("gbsg2")
    X = d[["age", "pnodes", "tsize", "horTh"]]
    if kind == "logistic":
        model = LogisticNomogram(splines={"age": 3}, interaction=("age", "pnodes")).fit(X, d["cens"])
    else:
        model = CoxNomogram(splines={"pnodes": 3}, interaction=("pnodes", "tsize"), times=[1000.0, 2000.0])
        model = model.fit(X, d[["time", "cens"]])
    partner = "pnodes" if kind == "logistic" else "tsize"
    nom = model.nomogram(interact={partner: [2, 10, 20]})
    _check_spec_reproduces_points(nom, _random_patients(model, X, seed=3))


def test_survival_axes_past_follow_up_are_refused():
    model, X, _ = fit_reference_model("C2")  # rossi: follow-up ends at week 52
    with pytest.raises(ValueError, match=r"past the model's last follow-up time 52"):
        model.nomogram(times=[26, 60])


def test_spec_errors_name_the_problem():
    model, X, _ = fit_reference_model("L2")
    with pytest.raises(ValueError, match="Python function"):
        model.nomogram(fun=np.exp, funlabel="odds").to_spec()
    spec = model.nomogram().to_spec()
    with pytest.raises(ValueError, match="format"):
        Nomogram.from_spec({**spec, "format": "nomofuse.nomogram.LogisticNomogram"})
    with pytest.raises(ValueError, match="version 3 is not supported"):
        Nomogram.from_spec({**spec, "version": 3})
    with pytest.raises(ValueError, match="lacks"):
        Nomogram.from_spec({k: v for k, v in spec.items() if k != "points"})
    again = Nomogram.from_spec(spec)
    with pytest.raises(ValueError, match="age"):
        again.points(X.drop(columns="age"))


def test_nomogram_from_spec_draws():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    model, X, _ = fit_reference_model("L3")
    nom = model.nomogram()
    disp = Nomogram.from_spec(nom.to_spec()).plot()
    ref = nom.plot()
    texts = sorted(t.get_text() for t in disp.ax_.texts)
    assert texts == sorted(t.get_text() for t in ref.ax_.texts)
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("name", ["LI1", "LI2", "CI1"])
def test_version_2_spec_of_several_interactions_reproduces_points(name):
    from tests.nomogram.models.test_several_interactions import SPECS, _fit

    model, X = _fit(name)
    nom = model.nomogram(**SPECS[name][3])
    assert nom.to_spec()["version"] == 2
    _check_spec_reproduces_points(nom, _random_patients(model, X))
