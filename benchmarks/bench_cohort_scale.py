"""The statistical core at cohort scale: every verb of a paper against R at 50,000 patients.

A synthetic cohort (:func:`make_cohort`) has a continuous age, three four-level
factors (site, stage, grade), a binary outcome and a survival outcome in whole
days (many tied times). Every model is

    rcs(age, 5) + site + stage + grade        (13 d.f.)

fitted by ``LogisticNomogram``/``CoxNomogram`` here and by rms ``lrm``/``cph``
in R. Three modes:

``python benchmarks/bench_cohort_scale.py`` (default, against R)
    One R process (rms 6.5, survival 3.5; ``Rscript`` must be installed) times
    each verb on the same CSV, then each verb is timed here; model fits are
    excluded on both sides. Printed per verb: our time, R's, the ratio R / ours
    (> 1: we are faster) and the target of issue #11, and the equality checks
    of this run: ``index.orig`` of ``validate`` against rms, the apparent
    ``calibrate`` curve against rms, Harrell's and Uno's C and their standard
    errors against ``survival::concordance``. The numba kernels are compiled
    (or loaded from their on-disk cache) by a warm-up on 2,000 patients before
    the timings; that one-time cost is printed separately.

``--scaling``
    Times each verb at n = 5,000 ... 500,000 and prints the exponent ``k`` of
    ``time ~ n^k`` (least squares on log-log, over the sizes from 15,000 up,
    where fixed overheads no longer dominate); O(n log n) reads as k <= ~1.1.

``--audit``
    Every public verb of ``nomogram`` (models, points, validation, calibration,
    every metric, decision curves, risk groups, tables) at n = 50,000 and
    500,000: time and peak traced memory (``tracemalloc``: Python and numpy
    allocations), to show that nothing is quadratic in n.

Results also go to ``benchmarks/results/cohort_scale_<mode>.json`` (gitignored).

Single timings on these 2-core virtual machines vary by 20-40 % from run to run (a first call
in a fresh process also pays for its memory pages), and R's vary as much: read the ratios, which
are measured in the same run, not the seconds.

Run:  python benchmarks/bench_cohort_scale.py [--n 50000] [--no-r] [--scaling] [--audit]

Recorded run (main after the vectorised logistic kernels, 2 cores, load average 0.6 before,
0.9 after R and at the end; rms 6.5-0, survival 3.5-3):

    verb                                        nomofuse_s    R_s   R/nomofuse  target       met
    validate logistic, B=50                          0.743  12.035     16.200   ratio >= 15  True
    validate logistic, B=200, n=20,000               0.811  17.725     21.851   ratio >= 15  True
    validate Cox, B=20                               0.674   4.083      6.054   ratio >= 3   True
    calibrate logistic, B=50                         1.940  15.160      7.815   ratio >= 3   True
    calibrate Cox at u=730, B=20, m=50               0.970  33.033     34.067   ratio >= 3   True
    harrell_c with SE                                0.023   0.166      7.292   >= 1, 0.5 s  True
    uno_c with SE (tau=1825)                         0.029   0.109      3.755   >= 1, 0.5 s  True
    time_dependent_auc, 2 times                      0.013     -          -     <= 0.5 s     True
    time_dependent_auc, 2 times, 200 bootstrap       0.561     -          -     -            True

    equality with R: index.orig 1.0e-14 (logistic), 1.2e-13 (Cox), 2.1e-15 (logistic 20k);
    calibrated.orig 1.2e-13; Harrell's and Uno's C 3e-16, their SE 2e-19.

Two earlier runs of the same code but the last two commits (load average 0.6-1.0): validate
logistic 17.8x and 16.1x at 50,000, 17.3x and 18.0x at 20,000 (B = 200); validate Cox 6.2x and
3.7x. Before the vectorised kernels, in the same conditions: 9.6x at 50,000 and 12.5x at 20,000.

Scaling run (``--scaling --B-logistic 10 --B-cox 5 --repeat 3``, nothing else running, load
average 0.9; seconds at n = 15k / 50k / 150k / 500k and the exponent over them; n log n reads as
k ~ 1.09 over this range): validate logistic 0.061 / 0.175 / 0.64 / 2.42, k = 1.06; validate Cox
0.081 / 0.28 / 0.79 / 2.92, k = 1.02; calibrate logistic 0.13 / 0.44 / 1.41 / 5.11, k = 1.05;
calibrate Cox 0.11 / 0.35 / 1.15 / 4.55, k = 1.06; harrell_c k = 1.10; uno_c k = 1.05;
time_dependent_auc k = 0.92; its bootstrap (200) 0.24 / 0.62 / 1.77 / 6.84, k = 0.95 (before the
times were sorted once, each chunk of resamples sorted them again and the chunks shrink as n
grows: k = 1.15, 15.6 s at 500,000).

Audit (``--audit --sizes 50000 500000``, load average 0.7; seconds and tracemalloc peak MiB at
50,000 and at 500,000). Nothing grows faster than n log n in time or faster than n in memory; the
bootstrap verbs hold one chunk of about 2 million drawn rows, whatever ``n_boot``; validate /
calibrate logistic no longer hold the design's column products (n x k(k+1)/2: 420 MB at 500,000),
which are formed 4,096 patients at a time:

    verb                                     50k s  50k MiB   500k s  500k MiB
    LogisticNomogram.fit                      0.29     20.2      4.15    202.2
    CoxNomogram.fit                           0.43     26.7      5.78    259.6
    predict_survival (2 times)                0.04      9.9      0.30     99.2
    nomogram().points                         0.23      9.9      2.32     99.2
    anova                                     0.01      0.0      0.01      0.0
    validate logistic B=20                    0.76     53.3      7.35    438.2
    validate Cox B=20                         1.10    137.1     13.57   1369.8
    calibrate logistic B=20                   0.81     51.5      9.94    392.5
    calibrate Cox KM B=20                     1.35    126.1     16.91   1227.5
    val_prob                                  0.08      9.9      0.93     99.2
    harrell_c                                 0.02      3.5      0.34     34.8
    uno_c                                     0.03      3.5      0.39     34.8
    compare_concordance (IJ)                  0.04      4.3      0.81     42.5
    time_dependent_auc                        0.02      2.9      0.17     27.5
    time_dependent_auc boot 100               0.47     67.6      5.63     76.7
    compare_time_dependent_auc boot 100       0.80     93.1      8.37    113.4
    roc_curve                                 0.01      2.9      0.07     24.5
    roc_auc_ci (DeLong)                       0.01      2.4      0.06     23.7
    roc_auc_ci boot 200                       1.81    238.6     17.15    233.1
    delong_test                               0.01      3.2      0.14     31.3
    optimal_cutoff                            0.01      2.2      0.03     16.2
    cutoff_metrics                            0.01      1.0      0.01      9.5
    sensitivity_ci boot 2000                  6.71      2.7     50.31     17.6
    reclassification (NRI/IDI)                0.05      3.3      0.18     29.7
    survival_nri boot 1000                    0.64     47.4      6.65     62.0
    survival_idi boot 1000                    1.00     47.8      8.94     57.3
    multiclass_metrics                        0.41      3.6      3.52     36.7
    decision_curve binary boot 50             0.36      3.9      2.78     35.2
    decision_curve survival boot 50           1.45      5.0     14.90     46.7
    kaplan_meier                              0.01      2.4      0.04     23.4
    logrank_test                              0.02      5.2      0.22     50.7
    maxstat_cutoff                            0.01      2.9      0.12     24.3
    time_dependent_roc (KM)                   0.12      3.0      0.50     27.5
    risk_groups youden                        0.39      8.3      3.00     74.1
    risk_groups maxstat                       0.29      7.9      2.27     73.4
    table_one                                 0.20      5.1      1.24     54.3
    regression_table                          0.33     18.8      2.85    187.0
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PREDICTORS = ["age", "site", "stage", "grade"]
SPLINES = {"age": 5}
HORIZON = 730.0            # calibrate (Cox) at 2 years
TAU = 1825.0               # Uno's C truncated at 5 years
TD_TIMES = [365.0, 730.0]  # time-dependent AUC
M_GROUP = 50               # calibrate.cph's default m (patients per group)


def make_cohort(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` synthetic patients: age, site, stage, grade, binary ``y``, survival ``time`` (days), ``event``.

    The outcomes follow a logistic / exponential model of all predictors (age
    quadratic); censoring is uniform on 0.5-8 years; times are rounded to days.
    """
    rng = np.random.default_rng(seed)
    age = rng.normal(62, 11, n).clip(20, 95)
    site = rng.choice(["A", "B", "C", "D"], n, p=[0.4, 0.3, 0.2, 0.1])
    stage = rng.choice(["I", "II", "III", "IV"], n, p=[0.3, 0.3, 0.25, 0.15])
    grade = rng.choice(["G1", "G2", "G3", "G4"], n, p=[0.25, 0.35, 0.3, 0.1])
    lp = (0.03 * (age - 62) + 0.0008 * (age - 62) ** 2
          + np.select([stage == "II", stage == "III", stage == "IV"], [0.4, 0.9, 1.6], 0)
          + np.select([grade == "G2", grade == "G3", grade == "G4"], [0.2, 0.5, 0.8], 0)
          + np.select([site == "B", site == "C", site == "D"], [0.1, -0.2, 0.3], 0))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(lp - 1.2)))).astype(int)
    t_event = rng.exponential(1 / (0.15 * np.exp(lp - 1)))
    t_cens = rng.uniform(0.5, 8, n)
    time_ = np.maximum(np.round(np.minimum(t_event, t_cens) * 365), 1.0)
    event = (t_event <= t_cens).astype(int)
    return pd.DataFrame({"age": np.round(age, 1), "site": site, "stage": stage, "grade": grade, "y": y,
                         "time": time_, "event": event})


# --------------------------------------------------------------------------- R side
R_SCRIPT = r"""
suppressPackageStartupMessages({library(rms); library(survival)})
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], stringsAsFactors = TRUE); out <- a[2]
Bl <- as.integer(a[3]); Bc <- as.integer(a[4]); u <- as.numeric(a[5]); tau <- as.numeric(a[6])
m <- as.integer(a[7]); d20 <- if (nchar(a[8])) read.csv(a[8], stringsAsFactors = TRUE) else NULL
B20 <- as.integer(a[9])
res <- list()
tm <- function(name, expr) { t0 <- proc.time()[["elapsed"]]; v <- expr
  res[[paste0("seconds.", name)]] <<- proc.time()[["elapsed"]] - t0; v }
f <- y ~ rcs(age, 5) + site + stage + grade
fs <- Surv(time, event) ~ rcs(age, 5) + site + stage + grade
fl <- lrm(f, data = d, x = TRUE, y = TRUE)
set.seed(1); vl <- tm("validate_logistic", validate(fl, B = Bl))
set.seed(1); cl <- tm("calibrate_logistic", calibrate(fl, B = Bl))
fc <- cph(fs, data = d, x = TRUE, y = TRUE, surv = TRUE, time.inc = u)
set.seed(1); vc <- tm("validate_cox", validate(fc, B = Bc))
set.seed(1); cc <- tm("calibrate_cox", calibrate(fc, u = u, B = Bc, m = m))
lp <- predict(fc)
ch <- tm("harrell_c", concordance(Surv(time, event) ~ lp, data = d, reverse = TRUE))
cu <- tm("uno_c", concordance(Surv(time, event) ~ lp, data = d, reverse = TRUE, timewt = "n/G2", ymax = tau))
res$harrell_C <- ch$concordance; res$harrell_se <- sqrt(ch$var)
res$uno_C <- cu$concordance; res$uno_se <- sqrt(cu$var)
for (nm in rownames(vl)) res[[paste0("orig.validate_logistic.", nm)]] <- vl[nm, "index.orig"]
for (nm in rownames(vc)) res[[paste0("orig.validate_cox.", nm)]] <- vc[nm, "index.orig"]
if (!is.null(d20)) {
  f20 <- lrm(f, data = d20, x = TRUE, y = TRUE)
  set.seed(1); v20 <- tm("validate_logistic_20k", validate(f20, B = B20))
  for (nm in rownames(v20)) res[[paste0("orig.validate_logistic_20k.", nm)]] <- v20[nm, "index.orig"]
}
res$rms <- as.character(packageVersion("rms")); res$survival <- as.character(packageVersion("survival"))
write.csv(data.frame(key = names(res), value = unlist(lapply(res, as.character))), out, row.names = FALSE)
write.csv(data.frame(predy = cl[, "predy"], calibrated.orig = cl[, "calibrated.orig"]),
          paste0(out, ".calibrate.csv"), row.names = FALSE)
"""


def run_r(d: pd.DataFrame, d20: pd.DataFrame | None, args) -> dict | None:
    """Time the verbs in one R process; returns its numbers (keys as written by ``R_SCRIPT``)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("Rscript not found: R timings skipped.")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "bench.R").write_text(R_SCRIPT)
        d.to_csv(tmp / "cohort.csv", index=False)
        if d20 is not None:
            d20.to_csv(tmp / "cohort20.csv", index=False)
        out = tmp / "r.csv"
        cmd = [rscript, str(tmp / "bench.R"), str(tmp / "cohort.csv"), str(out), str(args.B_logistic),
               str(args.B_cox), str(HORIZON), str(TAU), str(M_GROUP),
               str(tmp / "cohort20.csv") if d20 is not None else "", str(args.B_20k)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print("R failed:\n" + proc.stderr[-3000:])
            return None
        kv = pd.read_csv(out, keep_default_na=False)
        r = {}
        for k, v in zip(kv["key"], kv["value"]):
            try:
                r[k] = float(v)
            except ValueError:
                r[k] = v
        r["calibrate_curve"] = pd.read_csv(str(out) + ".calibrate.csv", float_precision="round_trip")
        return r


# --------------------------------------------------------------------------- our side
class Cohort:
    """A cohort with its fitted logistic and Cox models and the scores the metrics use."""

    def __init__(self, n: int, seed: int = 0):
        from nomogram import CoxNomogram, LogisticNomogram

        self.n = n
        self.d = make_cohort(n, seed)
        self.X = self.d[PREDICTORS]
        self.yb = self.d["y"]
        self.ys = self.d[["time", "event"]]
        self.logistic = LogisticNomogram(splines=SPLINES).fit(self.X, self.yb)
        self.cox = CoxNomogram(splines=SPLINES).fit(self.X, self.ys)
        self.lp = self.cox.decision_function(self.X)


def issue_verbs(B_logistic: int, B_cox: int) -> dict:
    """The verbs of the table of issue #11: name -> function of a :class:`Cohort`."""
    from nomogram import calibrate, validate
    from nomogram.metrics import harrell_c, time_dependent_auc, uno_c

    return {
        "validate_logistic": lambda c: validate(c.logistic, c.X, c.yb, n_boot=B_logistic, random_state=1),
        "validate_cox": lambda c: validate(c.cox, c.X, c.ys, n_boot=B_cox, random_state=1),
        "calibrate_logistic": lambda c: calibrate(c.logistic, c.X, c.yb, n_boot=B_logistic, random_state=1),
        "calibrate_cox": lambda c: calibrate(c.cox, c.X, c.ys, n_boot=B_cox, random_state=1, horizon=HORIZON,
                                             m=M_GROUP),
        "harrell_c": lambda c: harrell_c(c.ys, c.lp),
        "uno_c": lambda c: uno_c(c.ys, c.lp, tau=TAU),
        "time_dependent_auc": lambda c: time_dependent_auc(c.ys, c.lp, TD_TIMES, n_boot=0),
        "time_dependent_auc_boot200": lambda c: time_dependent_auc(c.ys, c.lp, TD_TIMES, n_boot=200,
                                                                   random_state=1),
    }


def timed(fn, *a, repeat: int = 1):
    """(result of the last call, median seconds over ``repeat`` calls)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*a)
        times.append(time.perf_counter() - t0)
    return out, float(np.median(times))


def warm_up() -> float:
    """Compile (or load from cache) every numba kernel on a small cohort; seconds taken."""
    t0 = time.perf_counter()
    small = Cohort(2000, seed=7)
    for fn in issue_verbs(3, 3).values():
        fn(small)
    from nomogram import risk_groups

    risk_groups(small.ys, small.lp, "youden", horizon=HORIZON)
    return time.perf_counter() - t0


TARGETS = {  # verb -> (minimum ratio R / ours, or None) and maximum seconds (or None), issue #11
    "validate_logistic": (15.0, None),
    "validate_logistic_20k": (15.0, None),
    "validate_cox": (3.0, None),
    "calibrate_logistic": (3.0, None),
    "calibrate_cox": (3.0, None),
    "harrell_c": (1.0, 0.5),
    "uno_c": (1.0, 0.5),
    "time_dependent_auc": (None, 0.5),
    "time_dependent_auc_boot200": (None, None),
}


def main_against_r(args) -> dict:
    from nomogram import validate

    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} before; n = {args.n}, "
          f"B = {args.B_logistic} (logistic), {args.B_cox} (Cox); validate logistic also at n = 20,000, "
          f"B = {args.B_20k}")
    cold = warm_up()
    print(f"one-time warm-up (numba kernels compiled or loaded from cache, 2,000 patients): {cold:.1f} s")
    c = Cohort(args.n)
    c20 = Cohort(20_000, seed=1)
    r = None if args.no_r else run_r(c.d, c20.d, args)
    load_mid = os.getloadavg()[0]
    verbs = issue_verbs(args.B_logistic, args.B_cox)
    ours, results = {}, {}
    for name, fn in verbs.items():
        results[name], ours[name] = timed(fn, c, repeat=args.repeat)
    results["validate_logistic_20k"], ours["validate_logistic_20k"] = timed(
        lambda: validate(c20.logistic, c20.X, c20.yb, n_boot=args.B_20k, random_state=1), repeat=args.repeat)
    rows = []
    labels = {
        "validate_logistic": f"validate logistic, B={args.B_logistic}",
        "validate_logistic_20k": f"validate logistic, B={args.B_20k}, n=20,000",
        "validate_cox": f"validate Cox, B={args.B_cox}",
        "calibrate_logistic": f"calibrate logistic, B={args.B_logistic}",
        "calibrate_cox": f"calibrate Cox at u={HORIZON:g}, B={args.B_cox}, m={M_GROUP}",
        "harrell_c": "harrell_c with SE",
        "uno_c": f"uno_c with SE (tau={TAU:g})",
        "time_dependent_auc": "time_dependent_auc, 2 times",
        "time_dependent_auc_boot200": "time_dependent_auc, 2 times, 200 bootstrap",
    }
    for name, label in labels.items():
        rs = None if r is None else r.get(f"seconds.{name}")
        ratio = None if rs is None else rs / ours[name]
        lo, hi = TARGETS[name]
        ok = (lo is None or ratio is None or ratio >= lo) and (hi is None or ours[name] <= hi)
        target = " and ".join(t for t in [f"ratio >= {lo:g}" if lo else "", f"<= {hi:g} s" if hi else ""] if t)
        rows.append({"verb": label, "nomofuse_s": ours[name], "R_s": rs, "R_over_nomofuse": ratio,
                     "target": target or "-", "met": ok})
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    checks = {}
    if r is not None:
        for kind in ("validate_logistic", "validate_cox", "validate_logistic_20k"):
            tab = results[kind].table
            diff = max(abs(tab.loc[k, "index.orig"] - r[f"orig.{kind}.{k}"]) for k in tab.index)
            checks[f"max |index.orig - rms| {kind}"] = diff
        cal = results["calibrate_logistic"].table
        rc = r["calibrate_curve"]
        checks["max |calibrated.orig - rms| calibrate_logistic"] = float(
            np.max(np.abs(cal["calibrated.orig"].to_numpy() - rc["calibrated.orig"].to_numpy())))
        checks["max |predy - rms| calibrate_logistic"] = float(
            np.max(np.abs(cal["predy"].to_numpy() - rc["predy"].to_numpy())))
        for kind in ("harrell", "uno"):
            res = results[f"{kind}_c"]
            checks[f"|C - survival| {kind}"] = abs(res.concordance - r[f"{kind}_C"])
            checks[f"|SE - survival| {kind}"] = abs(res.se - r[f"{kind}_se"])
        print("equality with R in this run:")
        for k, v in checks.items():
            print(f"  {k}: {v:.2e}")
    print(f"load average {load_mid:.1f} after R, {os.getloadavg()[0]:.1f} at the end")
    return {"n": args.n, "table": rows, "checks": checks, "warm_up_s": cold,
            "load": [load_mid, os.getloadavg()[0]], "rms": None if r is None else r.get("rms")}


def main_scaling(args) -> dict:
    sizes = args.sizes or [5_000, 15_000, 50_000, 150_000, 500_000]
    verbs = issue_verbs(args.B_logistic, args.B_cox)
    if args.verbs:
        verbs = {k: v for k, v in verbs.items() if k in args.verbs}
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; sizes {sizes}")
    warm_up()
    times = {k: [] for k in verbs}
    for n in sizes:
        c = Cohort(n)
        for name, fn in verbs.items():
            times[name].append(timed(fn, c, repeat=args.repeat)[1])
            print(f"  n={n:>7}  {name:28s} {times[name][-1]:8.3f} s", flush=True)
    out = {}
    x = np.log(np.asarray(sizes, float))
    use = np.asarray(sizes) >= 15_000
    print("exponent k of time ~ n^k (fit over n >= 15,000):")
    for name, t in times.items():
        k = float(np.polyfit(x[use], np.log(t)[use], 1)[0])
        out[name] = {"sizes": sizes, "seconds": t, "exponent": k}
        print(f"  {name:28s} k = {k:.2f}")
    return out


def audit_verbs():
    """Every public verb of nomogram: name -> function of a :class:`Cohort`."""
    import nomogram as nm
    from nomogram import metrics as mt

    def scores(c):
        if not hasattr(c, "_scores"):
            rng = np.random.default_rng(1)
            p = c.logistic.predict_proba(c.X)[:, 1]
            risk = 1 - c.cox.survival_at(c.lp, [HORIZON])[:, 0]
            c._scores = {
                "p": p, "p2": np.clip(p + rng.normal(0, 0.05, c.n), 0.001, 0.999),
                "lp2": c.lp + rng.normal(0, 0.3, c.n),
                "risk": risk, "risk2": np.clip(risk + rng.normal(0, 0.03, c.n), 0.001, 0.999),
                "group": np.where(c.lp > np.median(c.lp), "high", "low"),
            }
        return c._scores

    s = scores
    return {
        "LogisticNomogram.fit": lambda c: nm.LogisticNomogram(splines=SPLINES).fit(c.X, c.yb),
        "CoxNomogram.fit": lambda c: nm.CoxNomogram(splines=SPLINES).fit(c.X, c.ys),
        "predict_survival (2 times)": lambda c: c.cox.predict_survival(c.X, times=TD_TIMES),
        "nomogram().points": lambda c: c.logistic.nomogram().points(c.X),
        "anova": lambda c: nm.anova(c.cox),
        "validate logistic B=20": lambda c: nm.validate(c.logistic, c.X, c.yb, n_boot=20, random_state=1),
        "validate Cox B=20": lambda c: nm.validate(c.cox, c.X, c.ys, n_boot=20, random_state=1),
        "calibrate logistic B=20": lambda c: nm.calibrate(c.logistic, c.X, c.yb, n_boot=20, random_state=1),
        "calibrate Cox KM B=20": lambda c: nm.calibrate(c.cox, c.X, c.ys, n_boot=20, random_state=1,
                                                        horizon=HORIZON, m=M_GROUP),
        "val_prob": lambda c: nm.val_prob(c.yb, s(c)["p"]),
        "harrell_c": lambda c: mt.harrell_c(c.ys, c.lp),
        "uno_c": lambda c: mt.uno_c(c.ys, c.lp, tau=TAU),
        "compare_concordance (IJ)": lambda c: mt.compare_concordance(c.ys, c.lp, s(c)["lp2"]),
        "time_dependent_auc": lambda c: mt.time_dependent_auc(c.ys, c.lp, TD_TIMES, n_boot=0),
        "time_dependent_auc boot 100": lambda c: mt.time_dependent_auc(c.ys, c.lp, TD_TIMES, n_boot=100,
                                                                       random_state=1),
        "compare_time_dependent_auc boot 100": lambda c: mt.compare_time_dependent_auc(
            c.ys, c.lp, s(c)["lp2"], TD_TIMES, n_boot=100, random_state=1),
        "roc_curve": lambda c: mt.roc_curve(c.yb, s(c)["p"]),
        "roc_auc_ci (DeLong)": lambda c: mt.roc_auc_ci(c.yb, s(c)["p"]),
        "roc_auc_ci boot 200": lambda c: mt.roc_auc_ci(c.yb, s(c)["p"], method="bootstrap", n_boot=200,
                                                       random_state=1),
        "delong_test": lambda c: mt.delong_test(c.yb, s(c)["p"], s(c)["p2"]),
        "optimal_cutoff": lambda c: mt.optimal_cutoff(c.yb, s(c)["p"]),
        "cutoff_metrics": lambda c: mt.cutoff_metrics(c.yb, s(c)["p"], 0.3),
        "sensitivity_ci boot 2000": lambda c: mt.sensitivity_ci(c.yb, s(c)["p"], specificities=[0.9],
                                                                random_state=1),
        "reclassification (NRI/IDI)": lambda c: mt.reclassification(c.yb, s(c)["p"], s(c)["p2"],
                                                                    cutoffs=[0.2, 0.4]),
        "survival_nri boot 1000": lambda c: mt.survival_nri(c.ys, s(c)["risk"], s(c)["risk2"], HORIZON,
                                                            cutoffs=[0.2, 0.4], random_state=1),
        "survival_idi boot 1000": lambda c: mt.survival_idi(c.ys, s(c)["risk"], s(c)["risk2"], HORIZON,
                                                            random_state=1),
        "multiclass_metrics": lambda c: mt.multiclass_metrics(c.d["stage"],
                                                              y_pred=np.where(s(c)["p"] > 0.5, "IV", "I")),
        "decision_curve binary boot 50": lambda c: nm.decision_curve(c.yb, pd.DataFrame({"m": s(c)["p"]}),
                                                                     n_boot=50, random_state=1),
        "decision_curve survival boot 50": lambda c: nm.decision_curve(
            c.ys, pd.DataFrame({"m": s(c)["risk"]}), horizon=HORIZON, n_boot=50, random_state=1),
        "kaplan_meier": lambda c: nm.kaplan_meier(c.ys),
        "logrank_test": lambda c: nm.logrank_test(c.ys, s(c)["group"]),
        "maxstat_cutoff": lambda c: nm.maxstat_cutoff(c.ys, c.lp),
        "time_dependent_roc (KM)": lambda c: nm.time_dependent_roc(c.ys, c.lp, HORIZON),
        "risk_groups youden": lambda c: nm.risk_groups(c.ys, c.lp, "youden", horizon=HORIZON),
        "risk_groups maxstat": lambda c: nm.risk_groups(c.ys, c.lp, "maxstat"),
        "table_one": lambda c: nm.table_one(c.d[PREDICTORS + ["y"]], "y"),
        "regression_table": lambda c: nm.regression_table(c.d, "y", PREDICTORS),
    }


def main_audit(args) -> dict:
    import gc
    import warnings

    sizes = args.sizes or [50_000, 500_000]
    verbs = audit_verbs()
    if args.verbs:
        verbs = {k: v for k, v in verbs.items() if any(w in k for w in args.verbs)}
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; sizes {sizes}")
    warm_up()
    out = {}
    for n in sizes:
        c = Cohort(n)
        for name, fn in verbs.items():
            gc.collect()
            tracemalloc.start()
            t0 = time.perf_counter()
            err = ""
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fn(c)
            except Exception as exc:  # noqa: BLE001 - report and go on
                err = f"{type(exc).__name__}: {str(exc)[:100]}"
            dt = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            out.setdefault(name, {})[n] = {"seconds": dt, "peak_MiB": peak, "error": err}
            print(f"  n={n:>7}  {name:38s} {dt:8.2f} s  {peak:8.1f} MiB  {err}", flush=True)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=50_000)
    p.add_argument("--B-logistic", type=int, default=50)
    p.add_argument("--B-cox", type=int, default=20)
    p.add_argument("--B-20k", type=int, default=200, help="B of the validate logistic run at n = 20,000")
    p.add_argument("--repeat", type=int, default=1, help="repetitions per verb (median)")
    p.add_argument("--no-r", action="store_true")
    p.add_argument("--scaling", action="store_true")
    p.add_argument("--audit", action="store_true")
    p.add_argument("--sizes", type=int, nargs="*")
    p.add_argument("--verbs", nargs="*")
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # the shared machine: one BLAS thread, as validate/calibrate use
    mode = "scaling" if args.scaling else "audit" if args.audit else "against_r"
    result = {"scaling": main_scaling, "audit": main_audit, "against_r": main_against_r}[mode](args)
    res_dir = ROOT / "benchmarks" / "results"
    res_dir.mkdir(parents=True, exist_ok=True)
    path = res_dir / f"cohort_scale_{mode}.json"
    path.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
