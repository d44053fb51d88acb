"""JSON export: round trips are exact; malformed or inconsistent files are refused."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
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


def test_file_is_plain_versioned_checksummed_json(tmp_path):
    from nomogram.model_io import content_checksum

    model, X, _ = fit_reference_model("L1")
    data = json.loads(model.to_json(tmp_path / "m.json").read_text(encoding="utf-8"))
    assert list(data)[:3] == ["format", "version", "sha256"]
    assert data["format"] == "nomofuse.nomogram.LogisticNomogram" and data["version"] == 1
    assert data["sha256"] == content_checksum(data)
    assert data["coefficients"]["names"][:3] == ["Intercept", "age", "age'"]
    assert data["design"]["terms"][0]["knots"] == [36.0, 48.0, 58.0, 68.0]
    # the text itself loads too, and to_json() without a path returns that text
    text = model.to_json()
    assert json.loads(text) == data
    np.testing.assert_array_equal(load_model(text).decision_function(X), model.decision_function(X))


def _write(tmp_path, data):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def good_dict():
    model, _, _ = fit_reference_model("C2")
    return json.loads(model.to_json())


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(format="other"), "not a nomofuse model"),
        (lambda d: d.update(version=99), "version 99 of nomofuse.nomogram.CoxNomogram is not supported"),
        (lambda d: d.update(format="nomofuse.nomogram.Forest"), "unknown format 'nomofuse.nomogram.Forest'"),
        (lambda d: d.pop("covariance"), "'covariance' is missing"),
        (lambda d: d["coefficients"]["names"].reverse(), "do not match the design"),
        (lambda d: d["coefficients"]["values"].pop(), "must have"),
        (lambda d: d["coefficients"].update(values="0.1"), "field 'coefficients.values' must be list"),
        (lambda d: d.update(covariance=[[1.0]]), "covariance"),
        (lambda d: d["design"]["terms"][0].update(knots=[3.0, 2.0, 1.0]), "knots must be"),
        (lambda d: d["cox"]["baseline_survival"]["survival"].reverse(), "non-increasing survival"),
        (lambda d: d["cox"].update(center=123.0), "center"),
        (lambda d: d["cox"].update(center="1"), "field 'cox.center' must be float"),
        (lambda d: d.update(loglik=[1.0]), "field 'loglik' must have shape"),
    ],
)
def test_malformed_files_are_refused(tmp_path, good_dict, mutate, message):
    """Every field is validated even when the checksum check is skipped (verify=False)."""
    data = json.loads(json.dumps(good_dict))
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ModelFileError, match=message) as err:
        load_model(path, verify=False)
    assert "bad.json" in str(err.value) or "not a nomofuse" in str(err.value)


def test_hand_edited_file_is_refused_unless_verify_false(tmp_path, good_dict):
    data = json.loads(json.dumps(good_dict))
    data["statistics"]["C"] = 0.99  # a hand edit that no consistency check could catch
    path = _write(tmp_path, data)
    with pytest.raises(ModelFileError, match=r"bad.json': the content does not match its sha256"):
        load_model(path)
    model = load_model(path, verify=False)
    assert model.stats_["C"] == 0.99
    data.pop("sha256")
    with pytest.raises(ModelFileError, match="field 'sha256' is missing"):
        load_model(_write(tmp_path, data))


def test_not_json(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFileError, match="x.json' is not valid JSON"):
        load_model(p)


def test_binary_and_hostile_files_are_refused_naming_the_file(tmp_path):
    import pickle

    model, _, _ = fit_reference_model("L2")
    p = tmp_path / "model.json"  # a pickle renamed .json
    p.write_bytes(pickle.dumps({"format": "nomofuse.nomogram.LogisticNomogram"}))
    with pytest.raises(ModelFileError, match="model.json' is a Python pickle"):
        load_model(p)
    p.write_bytes(b'{"format": "nomofuse.nomogram.LogisticNomogram", "x": "\xff\xfe"}')
    with pytest.raises(ModelFileError, match="model.json' is not UTF-8"):
        load_model(p)
    p.write_text(model.to_json(), encoding="utf-8")
    with pytest.raises(ModelFileError, match="model.json' is .* bytes; model files are at most 100 bytes"):
        load_model(p, max_bytes=100)
    p.write_text('{"format": "nomofuse.nomogram.LogisticNomogram", "version": 1, "a": ' + "[" * 50 + "]" * 50 + "}",
                 encoding="utf-8")
    with pytest.raises(ModelFileError, match="nested deeper than"):
        load_model(p)
    p.write_text("[" * 200000 + "]" * 200000, encoding="utf-8")
    with pytest.raises(ModelFileError, match="nested too deeply|not an object"):
        load_model(p)
    text = model.to_json().replace('"Obs": 432.0', '"Obs": NaN')
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError, match="field 'statistics.Obs' holds a non-finite number"):
        load_model(p)
    p.write_text(model.to_json().replace('"Obs": 432.0', '"Obs": 1e999'), encoding="utf-8")
    with pytest.raises(ModelFileError, match="field 'statistics.Obs' holds a non-finite number"):
        load_model(p, verify=False)
    p.write_text(model.to_json().replace('"version": 1', '"version": "1"'), encoding="utf-8")
    with pytest.raises(ModelFileError, match="field 'version' must be an integer"):
        load_model(p)
    with pytest.raises(FileNotFoundError, match="no file at"):
        load_model(tmp_path / "missing.json")


def test_format_of_a_package_not_imported_is_refused_without_importing_names_from_the_file():
    with pytest.raises(ModelFileError, match="unknown format 'nomofuse.os.system'"):
        load_model('{"format": "nomofuse.os.system", "version": 1}')


def test_registry_dispatches_a_new_format():
    """A package registers its class; load_model finds it by the file's format and checks the checksum."""
    from nomogram.model_io import ModelFileMixin, ModelReader, registered_formats

    class Toy(ModelFileMixin):
        _model_format = "nomofuse.fusion.ToyForTest"

        def __init__(self, w=None):
            self.w = w

        def to_dict(self):
            return {**self._model_header(), "w": list(self.w)}

        @classmethod
        def _from_model_dict(cls, d, source):
            return cls(ModelReader(d, source).array("w", finite=True))

    assert "nomofuse.fusion.ToyForTest" in registered_formats()
    text = Toy([1.5, -2.0]).to_json()
    back = load_model(text)
    assert isinstance(back, Toy) and back.w.tolist() == [1.5, -2.0]
    assert Toy.from_json(text).w.tolist() == [1.5, -2.0]
    with pytest.raises(ModelFileError, match="field 'w' must hold finite numbers"):
        load_model(text.replace("-2.0", "null"), verify=False)
    model, _, _ = fit_reference_model("L2")
    with pytest.raises(ModelFileError, match="holds a LogisticNomogram, not a Toy"):
        Toy.from_json(model.to_json())


LEGACY = Path(__file__).parent / "legacy_files"


def test_legacy_nomofuse_model_v1_files_still_load():
    """Files written before the one format (nomofuse-model, format_version 1, no checksum) load and
    predict as the same models fitted today (to rounding: the Cox fit's risk-set sums moved to
    nomogram._survival.RiskSets after these files were written)."""
    from nomogram import CoxNomogram, LogisticNomogram
    from tests.nomogram.models.legacy_files.make_legacy_files import legacy_data

    X, y, surv, _, _ = legacy_data()
    old = load_model(LEGACY / "logistic_nomofuse_model_v1.json")
    new = LogisticNomogram(splines={"age": 3}).fit(X, y)
    np.testing.assert_array_equal(old.predict_proba(X), new.predict_proba(X))
    assert list(old.feature_names_in_) == ["age", "size", "grade"]
    old = load_model(LEGACY / "cox_nomofuse_model_v1.json")
    new = CoxNomogram(splines={"age": 3}, times=[365.0]).fit(X, surv)
    np.testing.assert_allclose(old.predict_survival(X).to_numpy(), new.predict_survival(X).to_numpy(),
                               rtol=1e-13, atol=0)
    # re-saved in today's format, with a checksum
    assert json.loads(old.to_json())["format"] == "nomofuse.nomogram.CoxNomogram"


def test_legacy_imaging_combat_v1_file_loads_as_combat():
    import warnings

    from nomogram.features import ComBat
    from tests.nomogram.models.legacy_files.make_legacy_files import legacy_data

    _, _, _, feats, site = legacy_data()
    old = load_model(LEGACY / "combat_imaging_v1.json")
    assert isinstance(old, ComBat) and old.batch is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the old call form
        got = old.transform(feats, site)
    new = ComBat(batch="site").fit(feats.assign(site=site))
    pd.testing.assert_frame_equal(got, new.transform(feats.assign(site=site)))
