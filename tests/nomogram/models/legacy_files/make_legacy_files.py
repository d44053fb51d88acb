"""Write model files in the schemes used before one model format (nomofuse commit 099badd).

Run from a checkout of commit 099badd (``git archive 099badd | tar -x -C /tmp/old``;
``cd /tmp/old && python tests/nomogram/models/legacy_files/make_legacy_files.py OUT``):
it writes ``nomofuse-model`` v1 files (logistic, Cox) and the version-1
``nomofuse.imaging.*`` files (ComBat, ImagingSignature, HabitatModel) of the
models that ``legacy_models()`` below fits on deterministic data. The
tests refit the same models with today's code and check that the old files
load and predict exactly the same.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def legacy_data():
    """Deterministic small tables used by the writer and the tests."""
    rng = np.random.default_rng(20240601)
    n = 80
    X = pd.DataFrame({
        "age": np.round(rng.normal(60, 8, n), 1),
        "size": np.round(rng.gamma(2.0, 10.0, n), 1),
        "grade": rng.choice(["G1", "G2", "G3"], n),
    })
    lp = 0.04 * (X["age"] - 60) + 0.03 * (X["size"] - 20) + (X["grade"] == "G3") * 0.8
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    time = np.round(rng.exponential(1000 * np.exp(-lp)), 0) + 1
    event = (rng.random(n) < 0.7).astype(int)
    surv = pd.DataFrame({"time": time, "event": event})
    feats = pd.DataFrame(rng.normal(size=(n, 6)), columns=[f"f{i}" for i in range(6)])
    site = np.repeat(["A", "B", "C", "D"], n // 4)
    feats.loc[site == "B"] += 1.5
    feats.loc[site == "D"] *= 2.0
    return X, y, surv, feats, site


def legacy_images():
    rng = np.random.default_rng(7)
    cases = []
    for k in range(3):
        img = rng.normal(100, 5, (24, 24))
        img[:, 12:] += 150 + 10 * k
        mask = np.zeros((24, 24), int)
        mask[5:19, 4:20] = 1
        cases.append((img, mask))
    return cases


def main(out: Path):
    from nomogram import CoxNomogram, LogisticNomogram
    from imaging import ComBat, HabitatModel, ImagingSignature
    from sklearn.datasets import load_breast_cancer

    X, y, surv, feats, site = legacy_data()
    out.mkdir(parents=True, exist_ok=True)
    LogisticNomogram(splines={"age": 3}).fit(X, y).to_json(out / "logistic_nomofuse_model_v1.json")
    CoxNomogram(splines={"age": 3}, times=[365.0]).fit(X, surv).to_json(out / "cox_nomofuse_model_v1.json")
    ComBat().fit(feats, site).to_json(out / "combat_imaging_v1.json")
    d = load_breast_cancer(as_frame=True)
    ImagingSignature(n_mrmr=5, cv=3, random_state=0).fit(d.data.iloc[:200], 1 - d.target.iloc[:200]).to_json(
        out / "imaging_signature_v1.json")
    HabitatModel(n_habitats=2).fit(legacy_images()).to_json(out / "habitat_model_v1.json")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
