"""Models fitted exactly as ``tests/reference/rms_models.R`` fits them in R."""

import pytest

from nomogram import CoxNomogram, LogisticNomogram
from tests._reference import load_rms_reference, reference_data

# name -> (data set, outcome, predictors in formula order, estimator kwargs)
MODEL_SPECS = {
    "L1": ("gbsg2", "cens", ["age", "tsize", "pnodes", "tgrade", "horTh", "menostat"],
           dict(splines={"age": 4, "tsize": 3})),
    "L2": ("rossi", "arrest", ["age", "fin", "race", "wexp", "mar", "paro", "prio"],
           dict(splines={"age": 3})),
    "L3": ("gbsg2", "cens", ["age", "horTh", "tgrade", "pnodes"],
           dict(splines={"age": 4}, interaction=("age", "horTh"))),
    "L4_pen2": ("gbsg2", "cens", ["age", "tgrade", "pnodes", "horTh"],
                dict(splines={"age": 4}, penalty=2.0)),
    "L4_pen10": ("gbsg2", "cens", ["age", "tgrade", "pnodes", "horTh"],
                 dict(splines={"age": 4}, penalty=10.0)),
    "C1": ("gbsg2", ("time", "cens"), ["age", "tgrade", "pnodes", "horTh", "tsize"],
           dict(splines={"age": 4, "pnodes": 3}, times=[1095, 1825])),
    "C2": ("rossi", ("week", "arrest"), ["age", "fin", "prio", "wexp", "mar"],
           dict(splines={"age": 3}, times=[26, 52])),
}

LOGISTIC = [k for k in MODEL_SPECS if k.startswith("L")]
COX = [k for k in MODEL_SPECS if k.startswith("C")]


def fit_reference_model(name):
    data_name, outcome, predictors, kwargs = MODEL_SPECS[name]
    data = reference_data(data_name)
    X = data[predictors]
    if isinstance(outcome, tuple):
        model = CoxNomogram(**kwargs).fit(X, data[list(outcome)])
    else:
        model = LogisticNomogram(**kwargs).fit(X, data[outcome])
    return model, X, data


@pytest.fixture(scope="module", params=list(MODEL_SPECS))
def fitted(request):
    model, X, data = fit_reference_model(request.param)
    return request.param, model, X, data, load_rms_reference(request.param)
