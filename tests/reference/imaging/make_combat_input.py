"""Write ``combat_input.csv``: a real feature table with simulated centre effects.

Features: the 30 real image features of the Wisconsin diagnostic breast cancer
data (569 patients; scikit-learn ``load_breast_cancer``, UCI, CC BY 4.0).
Centres: each patient is assigned to centre A, B or C (sizes about 50/30/20 %,
seed 20240607). Each centre gets, for every feature, an additive shift of
N(0, 0.5) feature-sd units and a multiplicative scale exp(N(0, 0.3)) around
the centre mean: the kind of scanner/protocol effect ComBat is meant to remove.
Covariates to preserve: ``diagnosis`` (malignant/benign, real) and ``age``
(whole years, simulated; integers so that neuroCombat's float32 cast of
covariates is exact).

This is the input of ``combat_sva.R`` (R sva::ComBat) and of the neuroCombat
comparison in tests/imaging/test_combat.py.
Run from the repository root: ``python tests/reference/imaging/make_combat_input.py``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

OUT = Path(__file__).resolve().parent / "combat_input.csv"


def main() -> None:
    data = load_breast_cancer(as_frame=True)
    X = data.data.copy()
    X.columns = [c.replace(" ", "_") for c in X.columns]
    rng = np.random.default_rng(20240607)
    n = len(X)
    centre = rng.choice(np.array(["A", "B", "C"]), size=n, p=[0.5, 0.3, 0.2])
    sd = X.std().to_numpy()
    Xa = X.to_numpy().copy()
    for c in ["A", "B", "C"]:
        rows = centre == c
        shift = rng.normal(0.0, 0.5, size=X.shape[1]) * sd
        scale = np.exp(rng.normal(0.0, 0.3, size=X.shape[1]))
        m = Xa[rows].mean(axis=0)
        Xa[rows] = m + (Xa[rows] - m) * scale + shift
    out = pd.DataFrame(Xa, columns=X.columns)
    out.insert(0, "age", rng.integers(30, 80, size=n))
    out.insert(0, "diagnosis", np.where(data.target == 1, "benign", "malignant"))
    out.insert(0, "centre", centre)
    out.insert(0, "patient", [f"wdbc{i:03d}" for i in range(n)])
    out.to_csv(OUT, index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
