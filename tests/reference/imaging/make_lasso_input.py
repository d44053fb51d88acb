"""Inputs for ``lasso_glmnet.R``: z-scored real feature tables and lambda grids.

* ``lasso_binomial_input.csv``: the ten ``mean *`` features of the Wisconsin
  breast cancer data (scikit-learn ``load_breast_cancer``, 569 patients),
  z-scored (ddof=1), and ``y`` = 1 for malignant.
* ``lasso_cox_input.csv``: the German Breast Cancer Study Group 2 data
  (``tests/reference/data/gbsg2.csv``, exported from lifelines ``load_gbsg2``;
  686 patients): age, tsize, pnodes, progrec, estrec, horTh=yes,
  menostat=Pre, z-scored (ddof=1), with ``time`` and ``event``.
* ``lasso_cox_untied_input.csv``: the same with ties in time broken by
  adding ``i * 1e-4`` days to row ``i``.
* ``lasso_lambdas.json``: 30 lambdas for each, from lambda_max (all
  coefficients zero) down to 1e-3 lambda_max, as ImagingSignature uses.

Run from the repository root: ``python tests/reference/imaging/make_lasso_input.py``.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

HERE = Path(__file__).resolve().parent


def main() -> None:
    d = load_breast_cancer(as_frame=True)
    X = d.data[[c for c in d.data.columns if c.startswith("mean ")]]
    X.columns = [c.replace(" ", "_") for c in X.columns]
    Z = (X - X.mean()) / X.std(ddof=1)
    y = (d.target == 0).astype(int)
    Z.assign(y=y).to_csv(HERE / "lasso_binomial_input.csv", index=False, float_format="%.17g")
    lam_b = np.max(np.abs(Z.to_numpy().T @ (y - y.mean()))) / len(y)

    g = pd.read_csv(HERE.parent / "data" / "gbsg2.csv")
    C = pd.DataFrame({
        "age": g.age, "tsize": g.tsize, "pnodes": g.pnodes, "progrec": g.progrec,
        "estrec": g.estrec, "horTh_yes": (g.horTh == "yes").astype(float),
        "menostat_Pre": (g.menostat == "Pre").astype(float),
    }).astype(float)
    Zc = (C - C.mean()) / C.std(ddof=1)
    out = Zc.assign(time=g.time.astype(float), event=g.cens.astype(float))
    out.to_csv(HERE / "lasso_cox_input.csv", index=False, float_format="%.17g")
    # The same data with ties broken (row i gets + i * 1e-4 days): glmnet's handling of
    # tied times differs from the Breslow likelihood of statsmodels/survival, so the
    # tight comparison uses untied times.
    untied = out.assign(time=out.time + np.arange(len(out)) * 1e-4)
    untied.to_csv(HERE / "lasso_cox_untied_input.csv", index=False, float_format="%.17g")
    # gradient of the Breslow log partial likelihood wrt eta at beta = 0:
    # event_i - sum over event times t_k <= t_i of d_k / |risk set at t_k|
    t, e = out.time.to_numpy(), out.event.to_numpy()
    times = np.unique(t[e == 1])
    d = np.array([e[t == tk].sum() for tk in times])
    at_risk = np.array([(t >= tk).sum() for tk in times])
    cum = np.array([(d / at_risk)[times <= ti].sum() for ti in t])
    grad = e - cum
    lam_c = np.max(np.abs(Zc.to_numpy().T @ grad)) / len(t)
    grid = lambda lm: (lm * np.logspace(0, -3, 30)).tolist()
    (HERE / "lasso_lambdas.json").write_text(json.dumps({"binomial": grid(lam_b), "cox": grid(lam_c)}, indent=1))


if __name__ == "__main__":
    main()
