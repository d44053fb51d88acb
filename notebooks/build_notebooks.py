"""Write and execute the example notebooks in this folder.

Each notebook is a whole study on real data; the cells are kept here as text so
a change is reviewed as code, and the executed ``.ipynb`` (with its figures and
tables) is committed next to this script.

Usage:  python notebooks/build_notebooks.py      (needs nbformat, nbclient, ipykernel)
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

GBSG2_STUDY = [
    ("md", """# A prognostic nomogram study, end to end: GBSG2 breast cancer

The German Breast Cancer Study Group 2 trial (686 women with node-positive breast cancer;
Schumacher et al. 1994; shipped with lifelines as `load_gbsg2`). Endpoint: recurrence-free
survival. This notebook does what a nomogram paper reports — Table 1, univariable and
multivariable Cox models, the nomogram, bootstrap validation, calibration at 5 years,
discrimination, decision curves and Kaplan–Meier risk groups — with `nomogram` only.
Every number here has an R counterpart checked in `tests/reference/`."""),
    ("code", """import numpy as np
import pandas as pd
from lifelines.datasets import load_gbsg2

import nomogram
from nomogram import CoxNomogram, LogisticNomogram, validate, calibrate, table_one, regression_table
from nomogram import decision_curve, risk_groups, harrell_c, roc_auc_ci
from nomogram.displays import RocDisplay

d = load_gbsg2()
d["event"] = d["cens"]
predictors = ["age", "tsize", "pnodes", "tgrade", "horTh", "menostat", "progrec", "estrec"]
d.shape"""),
    ("md", "## Table 1 by hormone therapy"),
    ("code", """t1 = table_one(d, group="horTh", categorical=["tgrade", "menostat"],
               continuous=["age", "tsize", "pnodes", "progrec", "estrec"])
t1.summary()"""),
    ("md", "## Univariable screen and multivariable Cox model"),
    ("code", """rt = regression_table(d, ("time", "event"), predictors, model="cox", categorical=["tgrade", "menostat", "horTh"])
rt.summary()"""),
    ("md", """## The nomogram
A Cox model with a restricted cubic spline for age (4 knots, Hmisc placement) and for the
number of positive nodes (3 knots), survival axes at 3 and 5 years."""),
    ("code", """X = d[["age", "tsize", "pnodes", "tgrade", "horTh", "progrec"]]
y = d[["time", "event"]]
cox = CoxNomogram(splines={"age": 4, "pnodes": 3}, times=[1095, 1825]).fit(X, y)
cox.summary().round(4)"""),
    ("code", """cox.stats_.round(4)"""),
    ("code", """nom = cox.nomogram(funlabel=["3-year RFS", "5-year RFS"])
chart = nom.plot(patient=X.iloc[[0]])"""),
    ("code", """nom.points(X.iloc[[0]]).round(3)"""),
    ("md", "## Internal validation: bootstrap optimism (rms `validate.cph`, 200 resamples)"),
    ("code", """val = validate(cox, X, y, n_boot=200, random_state=1)
val.summary().round(4)"""),
    ("md", "## Calibration at 5 years (rms `calibrate.cph`, grouped Kaplan–Meier)"),
    ("code", """cal = calibrate(cox, X, y, n_boot=100, horizon=1825, m=120, random_state=1)
print(cal.summary().round(4))
_ = cal.plot()"""),
    ("md", "## Discrimination: Harrell's C, and a logistic model's ROC for 5-year recurrence"),
    ("code", """lp = cox.decision_function(X)
harrell_c(y, lp).summary()"""),
    ("code", """known = (d["time"] >= 1825) | (d["event"] == 1)
X5, y5 = X[known], ((d["time"] < 1825) & (d["event"] == 1))[known].astype(int)
logit = LogisticNomogram(splines={"age": 4, "pnodes": 3}).fit(X5, y5)
risk5 = logit.predict_proba(X5)[:, 1]
print(roc_auc_ci(y5, risk5).summary())
_ = RocDisplay.from_predictions(y5, risk5, name="5-year recurrence", random_state=1)"""),
    ("md", "## Clinical usefulness: decision curve for 5-year recurrence (survival DCA)"),
    ("code", """risk_cox = 1 - cox.predict_survival(X, times=[1825]).iloc[:, 0].to_numpy()
dca = decision_curve(y, {"Cox nomogram": risk_cox}, horizon=1825, thresholds=np.arange(5, 76) / 100)
_ = dca.plot()"""),
    ("md", "## Risk groups: split at the median linear predictor"),
    ("code", """rg = risk_groups(y, lp, cutoff="median", landmarks=[365, 1095, 1825])
rg.summary()"""),
    ("code", """_ = rg.plot(risk_table_times=[0, 500, 1000, 1500, 2000, 2500])"""),
    ("md", """## Export
The model goes to a versioned, checksummed JSON file (no pickle) and reloads with identical predictions."""),
    ("code", """import tempfile, os
path = os.path.join(tempfile.mkdtemp(), "gbsg2_cox.json")
cox.to_json(path)
same = nomogram.load_model(path)
bool((same.predict_survival(X, times=[1825]).to_numpy() == cox.predict_survival(X, times=[1825]).to_numpy()).all())"""),
]


DEMO_STUDY = [
    ("md", """# The demo study, step by step with the Python API

`nomofuse demo` generates a synthetic bone-metastasis cohort and runs the whole study on it.
This notebook does the same on the same cohort (400 patients), then opens the results with
the Python API and recomputes the report's headline numbers from the saved models, so every
step of the command is visible. Nothing here is real patient data: `fusion.study.demo_data`
documents what is planted (ALP shared by every cancer type, one factor specific to each, and
signal in the lesions' texture and the slides' nuclei that the clinical factors lack)."""),
    ("code", """import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from fusion.study import load_study
from fusion.study.demo_data import make_demo_cohort
from fusion.study.pipeline import run_study

warnings.simplefilter("ignore")  # the run logs what matters; warning lines would print machine paths
work = Path(tempfile.mkdtemp())
cohort = make_demo_cohort(work / "data", n_patients=400, random_state=20210)  # the demo's own cohort
clinical = pd.read_csv(cohort.clinical)
clinical.groupby("cancer_type")["bone_metastasis"].agg(["size", "mean"]).round(2)"""),
    ("md", """## The study file
`cohort.study` is the demo's study file (`fusion/study/examples/demo.yaml`); `load_study` checks
it and fills in every default. The last model is the one the screening bundle keeps."""),
    ("code", """cfg = load_study(cohort.study)
print(cfg.outcome.type, "outcome:", cfg.outcome.column, "| one model per", cfg.cancer_type.column)
for name, model in cfg.models.items():
    print(f"{name:22s} clinical factors: {model.clinical}, labels: {list(model.labels)}")"""),
    ("md", """## Run it
`run_study` is what `nomofuse run` calls: features (cached per scan and slide), split, labels
cross-fitted on the training split, one nomogram per cancer type for each model, the
comparison, validation, bundle and report."""),
    ("code", """result = run_study(cfg, work / "out", jobs=1, quiet=True, progress=False)  # one process inside a notebook kernel
out = result.out
pd.read_csv(out / "tables" / "cohort_flow.csv")"""),
    ("code", """pd.read_csv(out / "tables" / "split_counts.csv")"""),
    ("code", """comparison = pd.read_csv(out / "tables" / "model_comparison.csv")
comparison[["split", "model", "n", "events", "AUC", "AUC lower", "AUC upper", "p (DeLong)"]].round(3)"""),
    ("md", """## The same numbers from the saved models
The models are versioned JSON files. The design table holds each patient's clinical factors and
labels (cross-fitted on the training split); scoring the external patients with the saved groups
and testing the AUCs with DeLong's test gives the report's row."""),
    ("code", """from fusion.models import NomogramGroup
from nomogram.metrics import delong_test, roc_auc_ci

inputs = pd.read_csv(out / "tables" / "model_inputs.csv", dtype={"patient_id": str}).set_index("patient_id")
for c in cfg.clinical_factors.categorical:
    inputs[c] = inputs[c].astype(str)
cohort_table = pd.read_csv(out / "tables" / "cohort.csv", dtype={"patient_id": str}).set_index("patient_id")
fusion = NomogramGroup.from_json(out / "models" / "fusion.json")
clinical_model = NomogramGroup.from_json(out / "models" / "clinical.json")
external = inputs[inputs["split"] == "external"]
y = cohort_table.loc[external.index, "y"].to_numpy()
p_fusion = fusion.predict_proba(external)[:, 1]
p_clinical = clinical_model.predict_proba(external)[:, 1]
print(roc_auc_ci(y, p_fusion).summary())
print(roc_auc_ci(y, p_clinical).summary())
test = delong_test(y, p_fusion, p_clinical)
print(f"difference {test.difference:.3f}, DeLong p = {test.p_value:.2g}")"""),
    ("code", """row = comparison[(comparison["split"] == "external") & (comparison["model"] == "fusion")].iloc[0]
assert np.isclose(row["AUC"], roc_auc_ci(y, p_fusion).auc) and np.isclose(row["p (DeLong)"], test.p_value)
"the report's external AUC and DeLong p are reproduced" """),
    ("md", """## Which factor each cancer type uses
Shared (homogeneous) factors are in every type's model; the others were selected per type on the
training split (univariable screen, then backward AIC). Types with too few events share one
`other` model."""),
    ("code", """fusion.factor_table()"""),
    ("code", """key = next(iter(fusion.models_))
_ = fusion.nomogram(key, funlabel="Risk of bone metastasis").plot()"""),
    ("md", """## ROC curves on the external centre"""),
    ("code", """from nomogram.displays import RocDisplay

disp = RocDisplay.from_predictions(y, p_clinical, name="clinical", ci_band=False, cutoff=None)
_ = RocDisplay.from_predictions(y, p_fusion, name="fusion", ci_band=False, cutoff=None, ax=disp.ax_)"""),
    ("md", """## Screening new patients from raw inputs
The bundle holds the extraction settings, the labels and the group; `screen` runs the same
extraction on the patients' files and scores them (here the first ten external patients, one of
them with an unknown cancer type, which is named in the errors file instead of being scored)."""),
    ("code", """from fusion.study.bundle import screen

ids = list(external.index[:10])
new = clinical[clinical["patient_id"].isin(ids)].copy()
new.loc[new.index[0], "cancer_type"] = "pancreas"
new.to_csv(work / "new.csv", index=False)
for name, column in (("scans", "image"), ("slides", "path")):
    m = pd.read_csv(cohort.root / f"{name}.csv")
    m = m[m["patient_id"].isin(ids)]
    for c in ("image", "mask", "path"):
        if c in m:
            m[c] = [str(cohort.root / v) for v in m[c]]
    m.to_csv(work / f"{name}.csv", index=False)
res = screen(out / "bundle", work / "new.csv", scans=work / "scans.csv", slides=work / "slides.csv",
             out=work / "scores.csv", echo=None, progress=False)
print(f"{res.n_scored} scored, {res.n_not_scored} not scored")
pd.read_csv(res.errors)[["row", "id", "column", "value", "problem"]]"""),
    ("code", """scores = pd.read_csv(res.scores, dtype={"id": str}).set_index("id")
expected = fusion.predict_proba(inputs.loc[scores.index])[:, 1]
bool(np.allclose(scores["probability"], expected, rtol=1e-6))"""),
]


def build(name: str, cells, out_dir: Path = HERE) -> Path:
    """Execute the cells and write ``<name>.ipynb``, deterministically.

    Cell ids are fixed (``cell-<n>``) and no execution timing is recorded, so
    re-running this script without content changes leaves ``git diff`` empty.
    """
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=1800, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(HERE.parent)}}).execute()
    nb.metadata.pop("language_info", None)
    for cell in nb.cells:
        cell.get("metadata", {}).pop("execution", None)
    out = Path(out_dir) / f"{name}.ipynb"
    nbformat.write(nb, out)
    return out


NOTEBOOKS = {"gbsg2_prognostic_nomogram": GBSG2_STUDY, "demo_study": DEMO_STUDY}
#: Notebooks whose every text output is reproduced exactly on any machine (tests/test_notebooks.py);
#: the demo trains a network, whose last digits depend on the CPU.
EXACT = {"gbsg2_prognostic_nomogram"}

if __name__ == "__main__":
    import sys

    for name in sys.argv[1:] or NOTEBOOKS:
        print(build(name, NOTEBOOKS[name]))
