"""JSON export: round trips are exact; malformed or inconsistent files are refused."""

import json

import numpy as np
import pytest

from nomogram import ModelFileError, load_model
from tests.nomogram.models.conftest import MODEL_SPECS, fit_reference_model


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_round_trip_predictions_identical(name, tmp_path):
    model, X, data = fit_reference_model(name)
    path = model.to_json(tmp_path / "model.json")
    loaded = load_model(path)
    assert type(loaded) is type(model)
    assert list(loaded.coef_.index) == list(model.coef_.index)
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    if name.startswith("L"):
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    else:
        np.testing.assert_array_equal(loaded.predict_survival(X).to_numpy(), model.predict_survival(X).to_numpy())
    # the loaded model redraws the same nomogram
    a, b = model.nomogram(), loaded.nomogram()
    assert [x.label for x in a.axes] == [x.label for x in b.axes]
    for x, y in zip(a.axes, b.axes):
        np.testing.assert_array_equal(x.points, y.points)
    np.testing.assert_array_equal(b.points(X.iloc[:20]).to_numpy(), a.points(X.iloc[:20]).to_numpy())


def test_file_is_plain_versioned_json(tmp_path):
    model, X, _ = fit_reference_model("L1")
    data = json.loads(model.to_json(tmp_path / "m.json").read_text())
    assert data["format"] == "nomofuse-model" and data["format_version"] == 1
    assert data["coefficients"]["names"][:3] == ["Intercept", "age", "age'"]
    assert data["design"]["terms"][0]["knots"] == [36.0, 48.0, 58.0, 68.0]


def _write(tmp_path, data):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data))
    return p


@pytest.fixture(scope="module")
def good_dict():
    from nomogram.model_io import model_to_dict

    model, _, _ = fit_reference_model("C2")
    return model_to_dict(model)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(format="other"), "not a nomofuse model"),
        (lambda d: d.update(format_version=99), "format_version 99"),
        (lambda d: d.update(model_type="Forest"), "model_type"),
        (lambda d: d.pop("covariance"), "'covariance' is missing"),
        (lambda d: d["coefficients"]["names"].reverse(), "do not match the design"),
        (lambda d: d["coefficients"]["values"].pop(), "must have"),
        (lambda d: d.update(covariance=[[1.0]]), "covariance"),
        (lambda d: d["design"]["terms"][0].update(knots=[3.0, 2.0, 1.0]), "knots must be"),
        (lambda d: d["cox"]["baseline_survival"]["survival"].reverse(), "non-increasing survival"),
        (lambda d: d["cox"].update(center=123.0), "center"),
    ],
)
def test_malformed_files_are_refused(tmp_path, good_dict, mutate, message):
    data = json.loads(json.dumps(good_dict))
    mutate(data)
    with pytest.raises(ModelFileError, match=message):
        load_model(_write(tmp_path, data))


def test_not_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(p)
