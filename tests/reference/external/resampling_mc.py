"""Monte-Carlo comparison of ``validate`` with rms on the issue #13 cohorts, 50 seeds a side.

R's side is committed: ``tests/reference/validation/resampling_mc.csv`` (50 seeds x B = 200,
written by ``resampling_reference.R``). This script runs nomofuse's ``validate`` with numpy's
random streams on as many seeds and prints, per cohort and index, both means of
``index.corrected`` (and of the number of resamples kept), their difference in standard errors
(z) and the time per ``validate``. The test ``tests/nomogram/validation/test_resampling_parity.py``
runs the same comparison with fewer seeds; the output of this script is in the README here.

Usage (repository root):  python tests/reference/external/resampling_mc.py [--seeds 50] [--B 200]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from nomogram import CoxNomogram, LogisticNomogram, StatisticalWarning, validate  # noqa: E402
from tests._reference import reference_csv  # noqa: E402

COHORTS = {
    "sparse_logistic": (["age", "rad_score", "grade"], lambda: LogisticNomogram(splines={"age": 3}), "y"),
    "small_logistic": (["age", "rad_score", "tsize", "grade"],
                       lambda: LogisticNomogram(splines={"age": 4, "tsize": 3}), "y"),
    "sparse_cox": (["age", "rad_score", "grade"], lambda: CoxNomogram(splines={"age": 3}), ["months", "event"]),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=50)
    p.add_argument("--B", type=int, default=200)
    args = p.parse_args(argv)
    r_all = reference_csv("validation/resampling_mc.csv")
    pd.set_option("display.width", 160)
    for name, (cols, make, outcome) in COHORTS.items():
        d = reference_csv(f"validation/resampling_{name}.csv")
        X, y = d[cols], d[outcome]
        model = make().fit(X, y)
        rows, t0 = [], time.perf_counter()
        for seed in range(args.seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", StatisticalWarning)
                v = validate(model, X, y, n_boot=args.B, random_state=10_000 + seed)
            rows.append({"kept": args.B - v.n_failed, **v.table["index.corrected"].to_dict()})
        seconds = (time.perf_counter() - t0) / args.seeds
        py = pd.DataFrame(rows)
        r = r_all[r_all["model"] == name]
        c = ["kept"] + [k for k in py.columns if k != "kept"]
        z = (py[c].mean() - r[c].mean()) / np.sqrt(py[c].var() / len(py) + r[c].var() / len(r))
        print(f"\n{name}: {len(X)} patients, {args.seeds} seeds x B = {args.B} a side, "
              f"{seconds:.2f} s per validate")
        print(pd.DataFrame({"nomofuse": py[c].mean(), "rms": r[c].mean(), "SD rms": r[c].std(), "z": z})
              .T.round(4).to_string())


if __name__ == "__main__":
    main()
