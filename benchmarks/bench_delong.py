"""Benchmark: DeLong AUC confidence interval and paired test.

Compares, on the same simulated data (n = 20,000 by default, 30 % cases, scores
rounded to 3 decimals so that ties occur):

* ours: mid-rank placement values (Sun & Xu 2014), O(n log n);
* naive: placement values from the full m x n comparison matrix, O(m n),
  computed with numpy in row blocks (the textbook DeLong 1988 algorithm);
* pROC: ``ci.auc(method="delong")`` and ``roc.test(method="delong")`` timed
  inside R with ``system.time`` (R start-up excluded), when ``Rscript`` and
  pROC are installed.

Run:  python benchmarks/bench_delong.py [--n 20000] [--repeat 3]
Prints the timings, the ratios naive/ours and pROC/ours, and the largest
difference between the CIs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nomogram.metrics import delong_test, roc_auc_ci  # noqa: E402


def naive_delong_ci(y, score, conf_level=0.95, block=2000):
    """DeLong CI from placement values computed pair by pair (O(m n))."""
    from scipy import stats

    cases, controls = score[y == 1], score[y == 0]
    m, n = len(cases), len(controls)
    v10 = np.empty(m)
    v01 = np.zeros(n)
    for s in range(0, m, block):
        c = cases[s : s + block, None]
        psi = (c > controls[None, :]) + 0.5 * (c == controls[None, :])
        v10[s : s + block] = psi.mean(axis=1)
        v01 += psi.sum(axis=0)
    v01 /= m
    theta = v10.mean()
    var = v10.var(ddof=1) / m + v01.var(ddof=1) / n
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    return theta, max(theta - z * np.sqrt(var), 0), min(theta + z * np.sqrt(var), 1)


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


R_CODE = r"""
suppressPackageStartupMessages(library(pROC))
d <- read.csv(commandArgs(TRUE)[1])
rep <- as.integer(commandArgs(TRUE)[2])
r1 <- roc(d$y, d$s1, levels = c(0, 1), direction = "<", quiet = TRUE)
r2 <- roc(d$y, d$s2, levels = c(0, 1), direction = "<", quiet = TRUE)
t_ci <- min(sapply(1:rep, function(i) system.time(ci_res <<- ci.auc(r1, method = "delong"))[["elapsed"]]))
t_test <- min(sapply(1:rep, function(i) system.time(tt <<- roc.test(r1, r2, method = "delong", paired = TRUE))[["elapsed"]]))
t_roc <- min(sapply(1:rep, function(i) system.time(roc(d$y, d$s1, levels = c(0, 1), direction = "<", quiet = TRUE))[["elapsed"]]))
cat(jsonlite::toJSON(list(ci = as.numeric(ci_res), p = tt$p.value, t_ci = t_ci, t_test = t_test, t_roc = t_roc),
                     auto_unbox = TRUE, digits = NA))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(2024)
    y = (rng.random(args.n) < 0.3).astype(int)
    s1 = np.round(rng.normal(size=args.n) + 0.8 * y, 3)
    s2 = np.round(0.6 * s1 + 0.8 * rng.normal(size=args.n) + 0.3 * y, 3)
    print(f"n = {args.n} ({y.sum()} cases, {args.n - y.sum()} controls), best of {args.repeat}")

    t_ours, r = best_of(lambda: roc_auc_ci(y, s1), args.repeat)
    t_naive, nv = best_of(lambda: naive_delong_ci(y, s1), max(1, args.repeat - 2))
    diff = max(abs(r.auc - nv[0]), abs(r.lower - nv[1]), abs(r.upper - nv[2]))
    print(f"ours  (mid-ranks, O(n log n)) roc_auc_ci : {t_ours * 1e3:9.2f} ms")
    print(f"naive (pairwise,  O(m n))     DeLong CI  : {t_naive * 1e3:9.2f} ms")
    print(f"ratio naive / ours                       : {t_naive / t_ours:9.1f}x   (max |CI difference| {diff:.2e})")
    t_test, tt = best_of(lambda: delong_test(y, s1, s2), args.repeat)
    print(f"ours  paired delong_test                 : {t_test * 1e3:9.2f} ms")

    rscript = shutil.which("Rscript")
    if rscript is None:
        print("Rscript not found: pROC timing skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        np.savetxt(csv, np.column_stack([y, s1, s2]), delimiter=",", header="y,s1,s2", comments="", fmt="%.3f")
        rfile = Path(tmp) / "b.R"
        rfile.write_text(R_CODE)
        out = subprocess.run([rscript, str(rfile), str(csv), str(args.repeat)], capture_output=True, text=True)
    if out.returncode != 0:
        print("pROC timing failed:", out.stderr.strip()[-500:])
        return
    res = json.loads(out.stdout)
    print(f"pROC  ci.auc(method='delong')            : {res['t_ci'] * 1e3:9.2f} ms   (roc() itself: {res['t_roc'] * 1e3:.0f} ms, not counted)")
    print(f"pROC  roc.test(delong, paired)           : {res['t_test'] * 1e3:9.2f} ms")
    print(f"ratio pROC ci.auc / ours                 : {res['t_ci'] / t_ours:9.1f}x   (R's system.time resolution is ~1 ms)")
    print(f"ratio pROC roc.test / ours delong_test   : {res['t_test'] / t_test:9.1f}x")
    cdiff = max(abs(r.lower - res["ci"][0]), abs(r.upper - res["ci"][2]))
    print(f"max |CI difference| vs pROC: {cdiff:.2e};  |p difference| vs roc.test: {abs(tt.p_value - res['p']):.2e}")


if __name__ == "__main__":
    main()
