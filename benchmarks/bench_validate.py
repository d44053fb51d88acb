"""Time of ``validate(model, B=200)`` against R rms 6.5 ``validate``, logistic or Cox.

Patients are drawn with replacement from the real GBSG2 cohort (lifelines
``load_gbsg2``) with uniform jitter on the continuous columns, and written to a
temporary CSV that R reads.

``--model logistic`` (default; 20,000 patients) has 16 d.f.:

    cens ~ rcs(age, 5) + rcs(tsize, 4) + rcs(pnodes, 4) + rcs(estrec, 3)
           + tgrade + horTh + menostat

``--model cox`` (use ``--n 500``; survival times in days, so ties are rare) has 9 d.f.,
the model of ``tests/reference/rms_models`` C1:

    Surv(time, cens) ~ rcs(age, 4) + tgrade + rcs(pnodes, 3) + horTh + tsize

(``cph(..., x=TRUE, y=TRUE, surv=TRUE)``; nomofuse ``CoxNomogram``).

R (when ``Rscript`` and rms are installed) fits ``lrm(..., x=TRUE, y=TRUE)`` and times
``validate(fit, B=200)`` inside the R process (model fit excluded); Python times
``nomogram.validate`` the same way (model fit excluded). Both run in this invocation,
one after the other, on the same machine. Printed: both times, the ratio R / ours
(> 1: we are faster), and the largest difference between the two ``index.orig``
columns (must be ~0: the apparent indexes are deterministic).

Run:  python benchmarks/bench_validate.py [--model logistic|cox] [--n 20000] [--B 200] [--repeat 1] [--no-r]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

R_SCRIPT = r"""
suppressPackageStartupMessages(library(rms))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
B <- as.integer(args[3])
fit <- if (args[4] == "cox") {
  cph(Surv(time, cens) ~ rcs(age, 4) + tgrade + rcs(pnodes, 3) + horTh + tsize, data = d, x = TRUE, y = TRUE,
      surv = TRUE)
} else {
  lrm(cens ~ rcs(age, 5) + rcs(tsize, 4) + rcs(pnodes, 4) + rcs(estrec, 3) + tgrade + horTh + menostat,
      data = d, x = TRUE, y = TRUE)
}
set.seed(1)
t0 <- proc.time()[["elapsed"]]
v <- validate(fit, B = B)
el <- proc.time()[["elapsed"]] - t0
out <- data.frame(index = rownames(v), unclass(v)[, , drop = FALSE], check.names = FALSE)
out$seconds <- el
out$rms <- as.character(packageVersion("rms"))
write.csv(out, args[2], row.names = FALSE)
"""

SPLINES = {"age": 5, "tsize": 4, "pnodes": 4, "estrec": 3}
PREDICTORS = ["age", "tsize", "pnodes", "estrec", "tgrade", "horTh", "menostat"]
COX_SPLINES = {"age": 4, "pnodes": 3}
COX_PREDICTORS = ["age", "tgrade", "pnodes", "horTh", "tsize"]


def make_cohort(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` patients resampled from GBSG2 with jitter on the continuous columns."""
    from lifelines.datasets import load_gbsg2

    base = load_gbsg2()
    rng = np.random.default_rng(seed)
    d = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
    for col, width in [("age", 1.0), ("tsize", 1.0), ("pnodes", 0.5), ("estrec", 1.0)]:
        d[col] = d[col] + rng.uniform(-width / 2, width / 2, n)
    d["pnodes"] = d["pnodes"].clip(lower=0.5)
    d["estrec"] = d["estrec"].clip(lower=0)
    d["cens"] = d["cens"].astype(int)
    return d[PREDICTORS + ["time", "cens"]]


def run_r(csv: Path, B: int, model: str = "logistic") -> pd.DataFrame | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("Rscript not found: R timing skipped.")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench_validate.R"
        script.write_text(R_SCRIPT)
        out = Path(tmp) / "validate_r.csv"
        proc = subprocess.run([rscript, str(script), str(csv), str(out), str(B), model], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            print("R failed:\n" + proc.stderr[-2000:])
            return None
        return pd.read_csv(out).set_index("index")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["logistic", "cox"], default="logistic")
    p.add_argument("--n", type=int, default=None, help="patients (default 20,000 logistic, 500 Cox)")
    p.add_argument("--B", type=int, default=200)
    p.add_argument("--repeat", type=int, default=1, help="Python repetitions (median reported)")
    p.add_argument("--no-r", action="store_true", help="skip R")
    p.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    args = p.parse_args(argv)

    from nomogram import CoxNomogram, LogisticNomogram, validate

    if args.n is None:
        args.n = 20_000 if args.model == "logistic" else 500
    d = make_cohort(args.n)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "cohort.csv"
        d.to_csv(csv, index=False)
        r = None if args.no_r else run_r(csv, args.B, args.model)

    if args.model == "cox":
        X, y = d[COX_PREDICTORS], d[["time", "cens"]]
        model = CoxNomogram(splines=COX_SPLINES).fit(X, y)
    else:
        X, y = d[PREDICTORS], d["cens"]
        model = LogisticNomogram(splines=SPLINES).fit(X, y)
    df = len(model.coef_) - (args.model == "logistic")
    times = []
    for i in range(args.repeat):
        t0 = time.perf_counter()
        v = validate(model, X, y, B=args.B, random_state=i)
        times.append(time.perf_counter() - t0)
    ours = float(np.median(times))
    print(f"{args.model}: n = {args.n}, model d.f. = {df}, B = {args.B}, cores = {os.cpu_count()}")
    print(f"nomogram.validate: {ours:.2f} s (median of {args.repeat})")
    pd.set_option("display.width", 160)
    print(v.table.round(4).to_string())
    result = {"model": args.model, "n": args.n, "B": args.B, "df": df, "cores": os.cpu_count(), "seconds_ours": ours,
              "seconds_ours_all": times, "load_1min_before": load_before, "load_1min_after": os.getloadavg()[0]}
    if r is not None:
        rs = float(r["seconds"].iloc[0])
        result.update({"seconds_r": rs, "rms": str(r["rms"].iloc[0]), "ratio_r_over_ours": rs / ours,
                       "max_abs_diff_index_orig": float((v.table["index.orig"]
                                                         - r.loc[v.table.index, "index.orig"]).abs().max())})
        print(f"R rms {r['rms'].iloc[0]} validate: {rs:.2f} s")
        print(f"ratio R / ours = {rs / ours:.1f}x")
        diff = (v.table["index.orig"] - r.loc[v.table.index, "index.orig"]).abs().max()
        print(f"max |index.orig ours - R| = {diff:.2e}")
        dd = (v.table["index.corrected"] - r.loc[v.table.index, "index.corrected"]).abs()
        print(f"|index.corrected ours - R| (different random streams): Dxy {dd['Dxy']:.4f}, max {dd.max():.4f}")
        print(f"resamples kept: ours {int(v.table['n'].min())}, R {int(r['n'].min())}")
    if args.json:
        import json

        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
