"""Compare nomofuse with rms on survival::pbc (written by check_pbc.R; not stored in the repository).

Usage: Rscript check_pbc.R DIR && python check_pbc.py DIR
Prints the largest differences: coefficients (relative), nomogram points, survest.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nomogram import CoxNomogram, LogisticNomogram


def main(out_dir):
    out = Path(out_dir)
    ref = json.loads((out / "ref.json").read_text())
    d = pd.read_csv(out / "pbc.csv")
    d["sex"] = pd.Categorical(d["sex"], categories=["m", "f"])  # R's factor level order
    X = d[["age", "bili", "edema", "stage", "sex", "albumin", "protime"]]
    lrm = LogisticNomogram(splines={"age": 4, "bili": 4}, categorical=["edema", "stage"]).fit(X, d["death"])
    Xc = X.drop(columns="protime")
    cph = CoxNomogram(splines={"age": 4, "bili": 4}, categorical=["edema", "stage"],
                      times=[1825, 3650]).fit(Xc, d[["time", "death"]])
    rename = {"Total Points": "total.points", "Linear Predictor": "lp"}
    for label, model, key, nom in (("lrm", lrm, "lrm", lrm.nomogram()),
                                   ("cph", cph, "cph", cph.nomogram(funlabel=["S5", "S10"]))):
        rc = pd.Series(ref[f"{key}_coef"])
        assert list(rc.index) == list(model.coef_.index), (list(rc.index), list(model.coef_.index))
        coef_diff = np.max(np.abs(model.coef_.to_numpy() - rc.to_numpy()) / np.abs(rc.to_numpy()))
        pts_diff = max(np.max(np.abs(np.asarray(ref[f"{key}_nom"][rename.get(a.label, a.label)]["points"]) - a.points))
                       for a in nom.axes)
        print(f"{label}: n={ref['n']}, max relative coefficient difference {coef_diff:.2e}, "
              f"max nomogram points difference {pts_diff:.2e}")
    S = cph.predict_survival(Xc.iloc[:20])
    print(f"cph: max |survest - ours| at 1825 and 3650 days {np.max(np.abs(S.to_numpy() - np.asarray(ref['survest']))):.2e}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
