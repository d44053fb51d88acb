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
_ = RocDisplay.from_predictions(y5, risk5, name="5-year recurrence")"""),
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


def build(name: str, cells) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE.parent)}}).execute()
    out = HERE / f"{name}.ipynb"
    nbformat.write(nb, out)
    return out


if __name__ == "__main__":
    print(build("gbsg2_prognostic_nomogram", GBSG2_STUDY))
