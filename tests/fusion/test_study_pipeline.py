"""nomofuse run end to end on a small demo cohort: outputs, re-runs, a killed run, screening, the report.

One study run (module fixture) on 90 synthetic patients; with the pathology package's per-slide
function available the slides are part of it (early-fusion labels), otherwise the study runs on
scans only. Marked slow: the first run extracts features (about a minute on 2 busy cores).
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from fusion.study import StudyFileError, load_study
from fusion.study.demo_data import make_demo_cohort
from fusion.study.pipeline import run_study

from _browser import artifact_dir, open_page

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
HAVE_SLIDES = importlib.util.find_spec("pathology.cohort") is not None


def _small_study(cohort, path: Path, **changes) -> Path:
    d = yaml.safe_load(cohort.study.read_text(encoding="utf-8"))
    d["validation"]["n_boot"] = 10
    d["cancer_type"]["min_events_per_df"] = 2
    d["run"]["jobs"] = 2
    for key, value in changes.items():
        d[key] = value
    path.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    cohort = make_demo_cohort(root / "data", n_patients=90, random_state=11, slides=HAVE_SLIDES, jobs=2)
    path = _small_study(cohort, root / "data" / "small.yaml")
    result = run_study(path, root / "out", progress=False, quiet=True)
    return {"root": root, "cohort": cohort, "study": path, "out": root / "out", "result": result}


def test_outputs_of_a_run(study):
    out = study["out"]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["format"] == "nomofuse.study.Run"
    for key in ("settings", "inputs", "versions", "seeds", "timings", "stages", "started", "finished"):
        assert key in run, key
    assert run["inputs"]["clinical table"]["sha256"] == __import__("hashlib").sha256(
        study["cohort"].clinical.read_bytes()).hexdigest()
    assert run["seeds"]["splits"] == load_study(study["study"]).splits.seed
    assert set(run["stages"].values()) == {"computed"}
    for name in ("cohort_flow", "split_counts", "table_one", "model_comparison", "validation",
                 "decision_curve", "extraction_failures", "per_cancer", "risk_groups"):
        assert (out / "tables" / f"{name}.csv").is_file(), name
    for stem in ("comparison_external", "decision_curve_external"):
        assert (out / "figures" / f"{stem}.png").stat().st_size > 5000
        assert (out / "figures" / f"{stem}.pdf").stat().st_size > 1000
    from fusion.models import NomogramGroup

    cfg = load_study(study["study"])
    for name in cfg.models:
        group = NomogramGroup.from_json(next((out / "models").glob(f"{name.replace(' ', '_').replace('+', '')[:8]}*.json")))
        assert group.models_
    # Cohort flow adds up; the truncated scan (and slide) are excluded with their reason.
    flow = pd.read_csv(out / "tables" / "cohort_flow.csv")
    excluded = flow.loc[flow["step"] == "excluded", "patients"].sum()
    assert flow["patients"].iloc[0] - excluded == flow["patients"].iloc[-1]
    reasons = set(flow["reason"].dropna())
    assert "scan extraction failed" in reasons and "no scan in imaging.manifest" in reasons
    failures = pd.read_csv(out / "tables" / "extraction_failures.csv")
    assert (failures["modality"] == "imaging").sum() == 1 and failures["stage"].iloc[0] == "read"
    comp = pd.read_csv(out / "tables" / "model_comparison.csv")
    assert set(comp["split"]) == {"train", "internal test", "external"}
    assert comp.loc[comp["model"] != "clinical", "p (DeLong)"].notna().all()
    counts = pd.read_csv(out / "tables" / "split_counts.csv").set_index("split")
    assert counts["patients"].sum() == flow["patients"].iloc[-1]


def test_rerun_reuses_every_stage(study):
    t = time.perf_counter()
    again = run_study(study["study"], study["out"], progress=False, quiet=True)
    assert set(again.stages.values()) == {"reused"}, again.stages
    assert time.perf_counter() - t < study["result"].seconds / 2
    pd.testing.assert_frame_equal(again.comparison, study["result"].comparison)


def test_changing_one_model_refits_only_it_and_the_evaluation(study, tmp_path):
    d = yaml.safe_load(study["study"].read_text(encoding="utf-8"))
    first = next(iter(d["models"]))
    d["models"][first]["description"] = "clinical factors only (edited)"
    edited = study["study"].with_name("edited.yaml")
    edited.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    res = run_study(edited, study["out"], progress=False, quiet=True)
    computed = {k for k, v in res.stages.items() if v == "computed"}
    assert computed == {f"model {first}", "evaluation"}, res.stages
    assert res.stages["imaging features"] == "reused"
    assert all(v == "reused" for k, v in res.stages.items() if k.startswith(("label", "early fusion")))


def test_a_replaced_scan_is_extracted_again_and_only_it(study, tmp_path):
    import shutil

    data = shutil.copytree(study["cohort"].root, tmp_path / "data")
    out = shutil.copytree(study["out"], tmp_path / "out")
    scans = pd.read_csv(data / "scans.csv")
    target, donor = data / scans["image"].iloc[3], data / scans["image"].iloc[4]
    shutil.copyfile(donor, target)  # same name, other content
    first = json.loads((out / ".nomofuse" / "stages" / "imaging_features.json").read_text(encoding="utf-8"))
    res = run_study(data / study["study"].name, out, progress=False, quiet=True)
    assert res.stages["imaging features"] == "computed"
    rec = json.loads((out / ".nomofuse" / "stages" / "imaging_features.json").read_text(encoding="utf-8"))
    extracted = first["computed"] + first["cached"]
    assert rec["computed"] == 1 and rec["cached"] == extracted - 1  # only the replaced scan is extracted


def test_killed_run_resumes_without_redoing_finished_extraction(study, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "fusion.cli", "run", str(study["study"]), "--out", str(out), "--quiet",
           "--jobs", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    cache = out / "cache" / "imaging"
    deadline = time.time() + 240
    while time.time() < deadline and len(list(cache.rglob("*.json"))) < 10:
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(cache.rglob("*.json")))
    assert done >= 10, "the run was killed before it cached any case"
    res = run_study(study["study"], out, progress=False, quiet=True)
    rec = json.loads((out / ".nomofuse" / "stages" / "imaging_features.json").read_text(encoding="utf-8"))
    assert rec["cached"] >= done - 1 and rec["computed"] <= rec["cached"] + rec["computed"] - (done - 1)
    pd.testing.assert_frame_equal(res.comparison, study["result"].comparison)


def test_report_renders_in_chromium(study, tmp_path_factory):
    report = study["out"] / "report.html"
    page = report.read_text(encoding="utf-8")
    assert "TRIPOD+AI checklist" in page and "DeLong" in page
    shot = artifact_dir(tmp_path_factory) / "report_study.png"
    seen = open_page(report, shot)
    print(f"\nstudy report screenshot: {shot}")
    assert seen["requests"] == [seen["url"]], seen["requests"]
    assert len(seen["images"]) >= 6
    assert all(i["complete"] and i["naturalWidth"] > 0 for i in seen["images"]), seen["images"]
    links = {link[1:] for link in seen["links"] if link and link.startswith("#")}
    assert links <= set(seen["anchors"])


def test_screen_scores_new_patients_like_the_study(study, tmp_path):
    from fusion.study.bundle import screen

    out = study["out"]
    cohort = study["cohort"]
    inputs = pd.read_csv(out / "tables" / "model_inputs.csv", dtype={"patient_id": str})
    test_ids = inputs.loc[inputs["split"] == "external", "patient_id"].tolist()[:12]
    clinical = pd.read_csv(cohort.clinical, dtype={"patient_id": str})
    new = clinical[clinical["patient_id"].isin(test_ids)].copy()
    new.loc[new.index[0], "cancer_type"] = "pancreas"   # no model for it
    new.loc[new.index[1], "alp"] = np.nan                # a missing factor
    new_csv = tmp_path / "new.csv"
    new.to_csv(new_csv, index=False)
    scans = pd.read_csv(cohort.scans)
    scans = scans[scans["patient_id"].isin(test_ids)]
    scans[["image", "mask"]] = scans[["image", "mask"]].map(lambda p: str(cohort.root / p))
    scans.to_csv(tmp_path / "scans.csv", index=False)
    kw = {"scans": tmp_path / "scans.csv"}
    if HAVE_SLIDES:
        slides = pd.read_csv(cohort.slides)
        slides = slides[slides["patient_id"].isin(test_ids)]
        slides["path"] = slides["path"].map(lambda p: str(cohort.root / p))
        slides.to_csv(tmp_path / "slides.csv", index=False)
        kw["slides"] = tmp_path / "slides.csv"
    res = screen(out / "bundle", new_csv, out=tmp_path / "scores.csv", echo=None, **kw)
    scores = pd.read_csv(res.scores, dtype={"id": str})
    errors = pd.read_csv(res.errors, dtype={"id": str})
    bad = set(new["patient_id"].iloc[:2])
    assert res.n_rows == 12 and res.n_scored == 10 and set(errors["id"]) >= bad
    assert set(scores["id"]) == set(test_ids) - bad
    assert errors.loc[errors["id"] == new["patient_id"].iloc[0], "column"].eq("cancer_type").any()
    assert errors.loc[errors["id"] == new["patient_id"].iloc[1], "column"].eq("alp").any()
    # The same patients scored by the study's own model give the same probabilities.
    from fusion.models import NomogramGroup

    cfg = load_study(study["study"])
    group = NomogramGroup.from_json(out / "bundle" / "model.json")
    X = inputs.set_index("patient_id").loc[scores["id"]]
    X = X.drop(columns=["split"])
    for c in cfg.clinical_factors.categorical:
        X[c] = X[c].astype(str)
    expected = group.predict_proba(X)[:, 1]
    np.testing.assert_allclose(scores["probability"].to_numpy(), expected, rtol=1e-6)


def test_bad_study_file_exits_1_with_the_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\noutcom: {}\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "fusion.cli", "run", str(bad), "--out", str(tmp_path / "o")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "unknown key 'outcom' at the top level. Did you mean 'outcome'?" in proc.stderr


def test_survival_study_without_cancer_types(tmp_path):
    """A time-to-event study (seed 000's design): Cox groups, C-index comparison, KM risk groups."""
    cohort = make_demo_cohort(tmp_path / "data", n_patients=120, random_state=4, slides=False)
    clinical = pd.read_csv(cohort.clinical)
    truth = pd.read_csv(cohort.truth)
    rng = np.random.default_rng(0)
    event_time = rng.exponential(30 * np.exp(-0.8 * truth["linear_predictor"]))
    censor = rng.uniform(6, 60, len(clinical))
    clinical["bmfs_months"] = np.round(np.minimum(event_time, censor), 2) + 0.01
    clinical["brain_metastasis"] = (event_time <= censor).astype(int)
    clinical.to_csv(cohort.clinical, index=False)
    d = yaml.safe_load(cohort.study.read_text(encoding="utf-8"))
    d["outcome"] = {"type": "survival", "name": "metastasis-free survival", "time": "bmfs_months",
                    "event": "brain_metastasis", "time_unit": "months", "horizons": [12, 24]}
    d.pop("cancer_type")
    d["splits"]["stratify"] = ["outcome"]
    d["clinical_factors"].update({"shared": [], "specific": "none",
                                  "candidates": ["age", "sex", "n_stage", "alp"],
                                  "categorical": ["sex", "n_stage"],
                                  "display_names": {"alp": "ALP (U/L)", "n_stage": "N stage"}})
    d["validation"].update({"n_boot": 10, "risk_groups": {"cutoff": "maxstat"}})
    d["labels"]["rad_score"]["params"] = {"max_features": 4}
    study = tmp_path / "data" / "survival.yaml"
    study.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    res = run_study(study, tmp_path / "out", progress=False, quiet=True)
    comp = res.comparison
    assert {"C", "C lower", "C upper", "p (C comparison)"} <= set(comp.columns)
    assert comp["C"].between(0.3, 1).all()
    out = tmp_path / "out"
    rg = pd.read_csv(out / "tables" / "risk_groups.csv")
    assert {"low", "high"} <= set(rg["group"]) and "logrank_p" in rg.columns
    assert (out / "figures" / "km_train.png").is_file()
    assert "Kaplan" in (out / "report.html").read_text(encoding="utf-8")


def test_a_second_run_into_the_same_folder_is_refused(study, tmp_path):
    import subprocess
    import sys

    from fusion.exceptions import OutputLockedError
    from fusion.study.pipeline import run_study

    out = tmp_path / "results"
    out.mkdir()
    (out / "run.json").write_text("{}")  # a finished run's record, which must survive
    code = ("import sys, time\nfrom fusion.cohort.lock import OutputLock\n"
            "with OutputLock(sys.argv[1], command='nomofuse run (the first)'):\n"
            "    print('held', flush=True)\n    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out / "run.json")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(OutputLockedError, match="the first"):
            run_study(study["study"], out, quiet=True, progress=False)
    finally:
        proc.kill()
        proc.wait()
    assert (out / "run.json").read_text() == "{}"


def test_an_unusable_study_file_creates_no_output_folder(tmp_path):
    from fusion.study.pipeline import run_study

    with pytest.raises(StudyFileError):
        run_study(tmp_path / "missing.yaml", tmp_path / "results", quiet=True, progress=False)
    assert not (tmp_path / "results").exists()
