"""The common estimator contract of ``tests/nomogram/test_common.py`` applied to imaging's estimators."""

import numpy as np
import pytest
from sklearn.base import clone

from imaging import HabitatModel, ImagingSignature
from nomogram import NotFittedError, load_model
from tests.nomogram.models.legacy_files.make_legacy_files import legacy_images
from tests.nomogram.test_common import F, SURV, Y, EstimatorCase, check_estimator


@pytest.mark.parametrize("outcome", ["binary", "survival"])
def test_imaging_signature_contract(outcome, tmp_path):
    case = EstimatorCase(
        f"ImagingSignature({outcome})",
        lambda: ImagingSignature(outcome=outcome, n_mrmr=5, cv=3, univariate_test=None, random_state=0),
        lambda m: m.fit(F, Y if outcome == "binary" else SURV), F,
        lambda m, d: np.asarray(m.decision_function(d)), None,
        lambda m: (len(m.selection_report_), 3),
    )
    check_estimator(case, tmp_path)


def test_habitat_model_contract(tmp_path):
    """HabitatModel works on images, not tables: the same contract with image cases."""
    cases = legacy_images()
    img, mask = cases[0]
    est = HabitatModel(n_habitats=2, random_state=1)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError, match="This HabitatModel instance is not fitted yet; call fit first"):
        est.predict(img, mask)
    est.fit(cases)
    assert list(est.feature_names_in_) == list(est.features) and est.n_features_in_ == len(est.features)
    ref = est.predict(img, mask)
    for source in (est.to_json(), est.to_json(tmp_path / "h.json")):
        back = load_model(source)
        assert type(back) is HabitatModel
        np.testing.assert_array_equal(back.predict(img, mask), ref)
    assert est.summary().shape == (2, len(est.features))
