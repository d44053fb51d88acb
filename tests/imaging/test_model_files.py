"""Imaging's fitted objects in the one model format: ImagingSignature, HabitatModel, old files."""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from imaging import HabitatModel, ImagingSignature
from nomogram import ModelFileError, load_model
from nomogram.features import Signature
from tests.nomogram.models.legacy_files.make_legacy_files import legacy_images

LEGACY = Path(__file__).parent / "legacy_files"


@pytest.fixture(scope="module")
def breast():
    d = load_breast_cancer(as_frame=True)
    return d.data.iloc[:200], 1 - d.target.iloc[:200]


def test_imaging_signature_is_the_signature_with_rad_score_names(breast):
    X, y = breast
    sig = ImagingSignature(n_mrmr=5, cv=3, random_state=0).fit(X, y)
    gen = Signature(n_mrmr=5, cv=3, random_state=0).fit(X, y)
    assert isinstance(sig, Signature)
    assert list(sig.transform(X).columns) == ["rad_score"]
    assert sig.formula().startswith("Rad-score = ")
    np.testing.assert_array_equal(sig.decision_function(X), gen.decision_function(X))
    renamed = ImagingSignature(n_mrmr=5, cv=3, random_state=0, name="ct_score").fit(X, y)
    assert list(renamed.transform(X).columns) == ["ct_score"] and renamed.formula().startswith("Ct-score")
    data = json.loads(sig.to_json())
    assert data["format"] == "nomofuse.imaging.ImagingSignature" and data["version"] == 2
    back = load_model(sig.to_json())
    assert type(back) is ImagingSignature
    np.testing.assert_array_equal(back.decision_function(X), sig.decision_function(X))


def test_old_imaging_signature_v1_file_loads(breast):
    """Written by nomofuse 099badd (no checksum): loads and predicts as the same model fitted today."""
    X, y = breast
    old = load_model(LEGACY / "imaging_signature_v1.json")
    assert type(old) is ImagingSignature
    new = ImagingSignature(n_mrmr=5, cv=3, random_state=0).fit(X, y)
    np.testing.assert_array_equal(old.decision_function(X), new.decision_function(X))
    assert old.formula(digits=None) == new.formula(digits=None)
    assert ImagingSignature.from_json(LEGACY / "imaging_signature_v1.json").features_ == new.features_
    # an edited version-2 file is refused: only version 1 predates checksums
    data = json.loads(new.to_json())
    data.pop("sha256")
    with pytest.raises(ModelFileError, match="field 'sha256' is missing"):
        load_model(json.dumps(data))


def test_old_habitat_model_v1_file_loads():
    old = load_model(LEGACY / "habitat_model_v1.json")
    new = HabitatModel(n_habitats=2).fit(legacy_images())
    img, mask = legacy_images()[1]
    np.testing.assert_array_equal(old.predict(img, mask), new.predict(img, mask))
    assert list(old.feature_names_in_) == list(new.feature_names_in_) == list(new.features)
    assert json.loads(new.to_json())["version"] == 2
    assert new.summary().shape == (2, len(new.features))
