"""``nomofuse predict``: good rows are scored, every bad one is named, big files stream."""

import warnings

import numpy as np
import pandas as pd
import pytest

from fusion.cli import main
from fusion.models import NomogramGroup
from fusion.models.screening import ERROR_COLUMNS, score_csv, score_table
from fusion.models.synthetic import make_multicancer_cohort
from nomogram import CoxNomogram, LogisticNomogram
from nomogram.exceptions import StatisticalWarning


@pytest.fixture(scope="module")
def group_and_patients():
    c = make_multicancer_cohort(2400, random_state=11)
    X = c.clinical.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        g = NomogramGroup(by="cancer_type", shared=["age", "grade"], candidates=["psa", "smoking", "cea", "alp"])
        g.fit(X, X["bone_metastasis"])
    return g, X.drop(columns="bone_metastasis").head(40).reset_index(drop=True)


def _bad_rows(patients):
    bad = patients.astype(object).copy()
    bad.loc[0, "age"] = "old"            # not a number
    bad.loc[1, "grade"] = "G4"           # unseen category
    bad.loc[2, "cancer_type"] = "melanoma"  # no model for it
    bad.loc[3, "age"] = ""               # missing
    bad.loc[4, "age"] = 150              # far outside the training range: flagged, scored
    bad.loc[5, "age"] = "NA"             # missing too
    bad.loc[5, "grade"] = "G9"           # and a second problem on the same row
    return bad


def test_predict_scores_good_rows_and_names_every_bad_one(tmp_path, group_and_patients, capsys):
    g, patients = group_and_patients
    bad = _bad_rows(patients)
    bad.to_csv(tmp_path / "patients.csv", index=False)
    model = tmp_path / "group.json"
    g.to_json(model)
    out = tmp_path / "scores.csv"
    rc = main(["predict", str(model), str(tmp_path / "patients.csv"), "--out", str(out),
               "--id-column", "patient_id", "--quiet"])
    assert rc == 2
    scores = pd.read_csv(out)
    errors = pd.read_csv(tmp_path / "scores.csv.errors.csv", keep_default_na=False)
    assert list(errors.columns) == ERROR_COLUMNS
    assert sorted(scores["row"]) == [5] + list(range(7, 41))    # rows 1-4 and 6 not scored
    not_scored = errors[errors["action"] == "not scored"]
    found = {(r.row, r.column, str(r.value), r.problem) for r in not_scored.itertuples()}
    assert found == {
        (1, "age", "old", "not a number"),
        (2, "grade", "G4", "category not seen in training"),
        (3, "cancer_type", "melanoma", "unknown cancer type (no model for it)"),
        (4, "age", "", "missing value"),
        (6, "age", "NA", "missing value"),
        (6, "grade", "G9", "category not seen in training"),
    }
    melanoma = not_scored[not_scored["column"] == "cancer_type"].iloc[0]
    assert melanoma["allowed"] == "one of bladder, breast, colorectal, kidney, lung, prostate"
    assert melanoma["id"] == patients.loc[2, "patient_id"]
    assert "G1, G2, G3" in not_scored[not_scored["value"] == "G4"]["allowed"].iloc[0]
    flagged = errors[errors["action"] == "scored, flagged"]
    assert flagged[["row", "column", "value"]].values.tolist() == [[5, "age", "150"]]
    assert scores.loc[scores["row"] == 5, "flagged"].item() == "age"
    text = capsys.readouterr().out
    assert "scored 35 of 40 rows" in text and "not scored: 5 rows (6 problems and 1 out-of-range flags listed" in text


def test_predicted_values_are_the_groups_and_points_add_up(group_and_patients):
    g, patients = group_and_patients
    scores, errors = score_table(g, patients, id_column="patient_id")
    assert errors.empty and len(scores) == len(patients)
    assert np.allclose(scores["probability"], g.predict_proba(patients)[:, 1], rtol=0, atol=1e-14)
    assert (scores["model"].to_numpy() == g.route(patients).to_numpy()).all()
    pts = scores.filter(like="points_").sum(axis=1, min_count=1)
    assert np.allclose(pts, scores["total_points"])
    lung = scores[scores["model"] == "lung"]
    assert lung["points_psa"].isna().all() and lung["points_smoking"].notna().all()
    assert set(scores["risk_group"]) <= {"high", "low"}
    assert (scores["risk_group"].to_numpy() == g.risk_group(patients).to_numpy()).all()


def test_chunked_reading_gives_the_same_files(tmp_path, group_and_patients):
    g, patients = group_and_patients
    _bad_rows(patients).to_csv(tmp_path / "p.csv", index=False)
    a = score_csv(g, tmp_path / "p.csv", tmp_path / "a.csv", chunksize=1000)
    b = score_csv(g, tmp_path / "p.csv", tmp_path / "b.csv", chunksize=3)
    sa, sb = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    # equal up to the last bit or two (BLAS sums a 3-row and a 40-row product in different orders)
    pd.testing.assert_frame_equal(sa, sb, check_exact=False, rtol=1e-13)
    assert (tmp_path / "a.csv.errors.csv").read_text() == (tmp_path / "b.csv.errors.csv").read_text()
    assert (a.n_rows, a.n_scored, a.n_not_scored, a.n_flagged) == (b.n_rows, b.n_scored, b.n_not_scored, b.n_flagged) \
        == (40, 35, 5, 1)


def test_single_cox_nomogram_file_with_a_cutoff(tmp_path):
    c = make_multicancer_cohort(500, outcome="survival", random_state=12)
    X = c.clinical
    m = CoxNomogram(times=[12, 24]).fit(X[["age", "grade", "psa"]], X[["time", "event"]])
    m.to_json(tmp_path / "cox.json")
    X[["age", "grade", "psa"]].head(10).to_csv(tmp_path / "p.csv", index=False)
    rc = main(["predict", str(tmp_path / "cox.json"), str(tmp_path / "p.csv"), "--out", str(tmp_path / "s.csv"),
               "--cutoff", "0", "--quiet"])
    assert rc == 0
    s = pd.read_csv(tmp_path / "s.csv")
    S = m.predict_survival(X[["age", "grade", "psa"]].head(10))
    assert np.allclose(s["survival_12"], S[12], atol=1e-12) and np.allclose(s["survival_24"], S[24], atol=1e-12)
    assert (s["model"] == "CoxNomogram").all()
    assert (s["risk_group"] == np.where(m.decision_function(X.head(10)) >= 0, "high", "low")).all()


def test_no_scorable_row_or_unreadable_model_exits_1(tmp_path, group_and_patients, capsys):
    g, patients = group_and_patients
    g.to_json(tmp_path / "g.json")
    patients.drop(columns=["age"]).to_csv(tmp_path / "p.csv", index=False)
    assert main(["predict", str(tmp_path / "g.json"), str(tmp_path / "p.csv"), "--out",
                 str(tmp_path / "s.csv"), "--quiet"]) == 1
    e = pd.read_csv(tmp_path / "s.csv.errors.csv")
    assert (e["problem"] == "column absent from the file").all() and len(e) == len(patients)
    (tmp_path / "bad.json").write_text('{"format": "something-else"}')
    assert main(["predict", str(tmp_path / "bad.json"), str(tmp_path / "p.csv"), "--out",
                 str(tmp_path / "s2.csv"), "--quiet"]) == 1
    assert "format 'something-else'" in capsys.readouterr().err
    assert not (tmp_path / "s2.csv").exists()


def test_interaction_partner_has_no_points_of_its_own():
    rng = np.random.default_rng(13)
    X = pd.DataFrame({"age": rng.normal(60, 10, 300), "sex": rng.choice(["F", "M"], 300)})
    m = LogisticNomogram(interaction=("age", "sex")).fit(X, (rng.random(300) < 0.4).astype(int))
    scores, errors = score_table(m, X.head(6))
    assert errors.empty and scores["points_sex"].isna().all()
    assert np.allclose(scores["total_points"], scores["points_age"])
    assert np.allclose(scores["probability"], m.predict_proba(X.head(6))[:, 1], rtol=0, atol=1e-14)


def _hold_lock(out):
    """A live process holding ``out``'s lock (another run writing the same file)."""
    import subprocess
    import sys

    code = ("import sys, time\nfrom fusion.cohort.lock import OutputLock\n"
            "with OutputLock(sys.argv[1], command='the other run'):\n"
            "    print('held', flush=True)\n    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_of_the_same_scores_is_refused_and_the_first_output_kept(tmp_path, group_and_patients,
                                                                                 capsys):
    from fusion.exceptions import OutputLockedError

    g, patients = group_and_patients
    patients.to_csv(tmp_path / "p.csv", index=False)
    out = tmp_path / "scores.csv"
    score_csv(g, tmp_path / "p.csv", out)
    before = out.read_bytes()
    g.to_json(tmp_path / "group.json")
    proc = _hold_lock(out)
    try:
        with pytest.raises(OutputLockedError, match="the other run"):
            score_csv(g, tmp_path / "p.csv", out)
        code = main(["predict", str(tmp_path / "group.json"), str(tmp_path / "p.csv"), "--out", str(out), "--quiet"])
        assert code == 75
        assert "the other run" in capsys.readouterr().err
    finally:
        proc.kill()
        proc.wait()
    assert out.read_bytes() == before
    assert score_csv(g, tmp_path / "p.csv", out).n_rows == 40  # the dead holder's lock is taken over


def test_a_semicolon_separated_file_is_refused_in_one_line(tmp_path, group_and_patients):
    g, patients = group_and_patients
    patients.to_csv(tmp_path / "p.csv", index=False, sep=";")
    with pytest.raises(ValueError, match="separated by semicolons, not commas"):
        score_csv(g, tmp_path / "p.csv", tmp_path / "s.csv")
    assert not (tmp_path / "s.csv").exists()
