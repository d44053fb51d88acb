"""NomogramGroup: recovers each cancer's specific factor, refuses or merges small groups,
routes patients, and round-trips through JSON exactly."""

import warnings

import numpy as np
import pandas as pd
import pytest

from fusion.models import NomogramGroup, load_model
from fusion.models.group import UnknownGroupError
from fusion.models.synthetic import SPECIFIC_EFFECTS, make_multicancer_cohort
from nomogram.exceptions import StatisticalWarning

SHARED = ["age", "grade", "imaging_signal"]
CANDIDATES = ["psa", "smoking", "cea", "alp", "ldh", "sex"]


def _table(outcome="binary", n=3000, seed=1, cancer_types=None):
    kw = {} if cancer_types is None else {"cancer_types": cancer_types}
    c = make_multicancer_cohort(n, outcome=outcome, random_state=seed, **kw)
    X = c.clinical.set_index("patient_id")
    largest = c.radiomics.sort_values("volume").groupby("patient_id").tail(1).set_index("patient_id")
    X["imaging_signal"] = largest["rad_00"].reindex(X.index)
    return X


@pytest.fixture(scope="module")
def binary_group():
    X = _table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)  # 'sex' is constant in prostate
        g = NomogramGroup(by="cancer_type", shared=SHARED, candidates=CANDIDATES).fit(X, X["bone_metastasis"])
    return g, X


def test_group_recovers_which_factor_is_specific_to_which_cancer(binary_group):
    g, _ = binary_group
    for cancer, factors in g.factors_.items():
        specific = [f for f in factors if f not in SHARED]
        planted = SPECIFIC_EFFECTS.get(cancer)
        assert specific == ([planted] if planted else []), cancer
        assert factors[:3] == SHARED
    table = g.factor_table()
    assert table.loc["psa", "prostate"] == "specific" and table.loc["psa", "lung"] == ""
    assert (table.loc[SHARED, "kind"] == "homogeneous").all()
    assert (table.loc[["psa", "smoking", "cea", "alp"], "kind"] == "heterogeneous").all()
    assert table.loc["smoking", "n_groups"] == 1
    sel = g.selection_.set_index(["group", "factor"])
    assert sel.loc[("prostate", "sex"), "note"] == "constant in this group"
    assert sel.loc[("prostate", "psa"), "univariable_p"] < 1e-6


def test_each_patient_is_scored_by_their_cancers_model(binary_group):
    g, X = binary_group
    p = g.predict_proba(X)[:, 1]
    lung = X["cancer_type"] == "lung"
    direct = g.models_["lung"].predict_proba(X.loc[lung, g.factors_["lung"]])[:, 1]
    assert np.array_equal(p[lung.to_numpy()], direct)
    assert set(g.route(X)) == set(g.models_)
    rg = g.risk_group(X)
    assert set(rg) == {"high", "low"}
    assert np.array_equal(p[lung.to_numpy()] >= g.cutoffs_["lung"], (rg[lung] == "high").to_numpy())


def test_unknown_cancer_type_is_an_error_for_that_row(binary_group):
    g, X = binary_group
    new = X.head(5).copy()
    new.iloc[2, new.columns.get_loc("cancer_type")] = "melanoma"
    with pytest.raises(UnknownGroupError, match=r"rows \['P000002'\], values \['melanoma'\]") as err:
        g.predict_proba(new)
    assert err.value.rows == ["P000002"]
    assert g.route(new, errors="coerce").isna().tolist() == [False, False, True, False, False]


def test_group_json_round_trip_reproduces_predictions_exactly(binary_group, tmp_path):
    g, X = binary_group
    path = tmp_path / "group.json"
    g.to_json(path)
    again = load_model(path)
    assert isinstance(again, NomogramGroup)
    assert np.array_equal(again.predict_proba(X), g.predict_proba(X))
    assert again.factor_table().equals(g.factor_table())
    assert again.cutoffs_ == g.cutoffs_
    assert again.nomogram("kidney").points(X[X.cancer_type == "kidney"].head(3)[g.factors_["kidney"]]).shape[0] == 3


def test_summary_and_nomogram_per_group(binary_group):
    g, _ = binary_group
    s = g.summary()
    assert set(s["group"]) == set(g.models_)
    assert "psa" in g.summary("prostate").table.index
    axes = [a.label for a in g.nomogram("lung").axes]
    assert "smoking" in axes and "psa" not in axes


def test_small_groups_are_refused_by_name_or_merged_into_other():
    X = _table(n=1400, seed=3)
    # make bladder and breast small: keep only 40 of their patients each
    keep = X.groupby("cancer_type").cumcount() < 40
    X = X[~X.cancer_type.isin(["bladder", "breast"]) | keep]
    g = NomogramGroup(by="cancer_type", shared=SHARED, candidates=["psa", "smoking"])
    with pytest.raises(ValueError, match=r"cancer type 'bladder' has \d+ events for 4 degree\(s\) of freedom") as err:
        g.fit(X, X["bone_metastasis"])
    assert "'breast'" in str(err.value) and "small_groups='merge'" in str(err.value)
    g = NomogramGroup(by="cancer_type", shared=SHARED, candidates=["psa", "smoking"], small_groups="merge",
                      min_events_per_df=5)
    with pytest.warns(StatisticalWarning, match=r"\['bladder', 'breast'\].*'other' model"):
        g.fit(X, X["bone_metastasis"])
    assert g.routing_["bladder"] == g.routing_["breast"] == "other"
    assert "other" in g.factor_table().columns
    bl = X[X.cancer_type == "bladder"]
    assert np.array_equal(g.predict_proba(bl)[:, 1],
                          g.models_["other"].predict_proba(bl[g.factors_["other"]])[:, 1])


def test_given_specific_factors_and_cox_group_round_trip(tmp_path):
    X = _table(outcome="survival", n=1500, seed=4, cancer_types=("lung", "prostate", "breast"))
    y = X[["time", "event"]]
    g = NomogramGroup(by="cancer_type", shared=["age", "imaging_signal"], model="cox", times=[12, 24],
                      specific={"lung": ["smoking"], "prostate": ["psa"]}).fit(X, y)
    assert g.factors_ == {"breast": ["age", "imaging_signal"], "lung": ["age", "imaging_signal", "smoking"],
                          "prostate": ["age", "imaging_signal", "psa"]}
    S = g.predict_survival(X)
    assert list(S.columns) == [12, 24] and ((S[12] >= S[24]) & (S[24] > 0)).all()
    # planted 1.2 log-hazard per sd; attenuated (Cox is non-collapsible: grade and pathology are left out)
    lung = g.summary("lung").table.loc["smoking"]
    assert lung["coef"] > 0.5 and lung["p"] < 1e-6
    again = NomogramGroup.from_json(g.to_json(tmp_path / "cox_group.json"))
    assert again.predict_survival(X).equals(S)
    assert np.array_equal(again.decision_function(X), g.decision_function(X))


def test_group_input_errors():
    X = _table(n=600, seed=5)
    with pytest.raises(ValueError, match=r"'by' column 'cancer' is not in X"):
        NomogramGroup(by="cancer").fit(X, X["bone_metastasis"])
    with pytest.raises(ValueError, match=r"factor column\(s\) \['stage'\] are not in X"):
        NomogramGroup(shared=["stage"]).fit(X, X["bone_metastasis"])
    with pytest.raises(ValueError, match="must be one of"):
        NomogramGroup(model="poisson").fit(X, X["bone_metastasis"])
    with pytest.raises(ValueError, match="cutoff='youden' needs a binary outcome"):
        NomogramGroup(model="cox", cutoff="youden").fit(X, X[["age", "bone_metastasis"]])
