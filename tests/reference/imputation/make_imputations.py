"""Write the completed datasets that ``imputation_reference.R`` pools (issue #13).

Run from the repository root: ``python tests/reference/imputation/make_imputations.py``.
gbsg2 (tests/reference/data) with values of age, tsize and pnodes removed at random
(seed 20240613, about 15 % each), completed m = 5 times by ``nomogram.imputation.impute_datasets``
(random_state=7). Numbers are written with 17 significant digits (exact doubles). The knots of
age learnt on the first completed dataset are written to ``knots.json`` for R.
"""

import json
from pathlib import Path

import numpy as np

from nomogram import LogisticNomogram
from nomogram.imputation import impute_datasets
from tests._reference import reference_data

HERE = Path(__file__).resolve().parent
COLS = ["age", "tsize", "pnodes", "horTh", "tgrade"]


def main():
    data = reference_data("gbsg2")
    X = data[COLS].astype({"age": float, "tsize": float, "pnodes": float})
    rng = np.random.default_rng(20240613)
    for c in ("age", "tsize", "pnodes"):
        X.loc[rng.random(len(X)) < 0.15, c] = np.nan
    sets = impute_datasets(X, data[["time", "cens"]], m=5, random_state=7)
    for k, d in enumerate(sets, start=1):
        out = d.assign(time=data["time"], cens=data["cens"])
        out.to_csv(HERE / f"gbsg2_imputed_{k}.csv", index=False, float_format="%.17g")
    first = LogisticNomogram(splines={"age": 4}).fit(sets[0], data["cens"])
    (HERE / "knots.json").write_text(json.dumps({"age": first.design_.term("age").knots}))


if __name__ == "__main__":
    main()
