"""Benchmark: survival decision curve and maximally selected log-rank cut-off.

Data: the real GBSG2 cohort (tests/reference/data/gbsg2.csv) resampled with
replacement to ``--n`` patients; the risk is a 5-year Cox risk.

* survival net benefit at 99 thresholds: ours (all thresholds at once,
  :func:`nomogram._survival.km_survival_at`) against a direct
  transcription of dcurves (a Kaplan–Meier fit per threshold on the
  test-positive subset, as ``dca()`` does with ``survfit``);
* ``maxstat_cutoff`` (one cumulative sum over sorted scores) against the
  per-cut-point log-rank loop (``survdiff`` at every candidate cut-point).

Every timing is the median of ``--repeat`` runs in this process; the ratios
printed are baseline / ours (> 1: ours is faster). The two results are also
compared (largest absolute difference).

Run:  python benchmarks/bench_decision_curve.py [--n 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nomogram._cph_fit import baseline_hazard, fit_cox  # noqa: E402
from nomogram._survival import km_survival_at  # noqa: E402
from nomogram._logrank import logrank_test  # noqa: E402
from nomogram.decision_curve import decision_curve, default_thresholds  # noqa: E402
from nomogram.risk_groups import maxstat_cutoff  # noqa: E402


def _median_time(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    g = pd.read_csv(ROOT / "tests/reference/data/gbsg2.csv")
    rng = np.random.default_rng(0)
    d = g.iloc[rng.integers(0, len(g), args.n)].reset_index(drop=True)
    time_, event = d.time.to_numpy(float), d.cens.to_numpy(float)
    X = d[["age", "tsize", "pnodes", "progrec", "estrec"]].to_numpy(float)
    fit = fit_cox(X, time_, event)
    et, H = baseline_hazard(fit.linear_predictor, time_, event)
    H5 = H[np.searchsorted(et, 1825, side="right") - 1]
    risk = 1 - np.exp(-H5 * np.exp(fit.linear_predictor))
    thresholds = default_thresholds()
    horizon = 1825.0

    def ours_dca():
        return decision_curve(np.column_stack([time_, event]), {"cox": risk}, thresholds, horizon=horizon).net_benefit("cox")

    def loop_dca():
        nb = np.empty(len(thresholds))
        for i, pt in enumerate(thresholds):
            m = risk >= pt
            q = m.mean()
            r = 0.0 if not m.any() else 1 - float(km_survival_at(time_[m], event[m], horizon)[0])
            nb[i] = r * q - (1 - r) * q * pt / (1 - pt)
        return nb

    t_ours, a = _median_time(ours_dca, args.repeat)
    t_loop, b = _median_time(loop_dca, args.repeat)
    diff = np.nanmax(np.abs(a - b))
    print(f"survival net benefit, n={args.n}, 99 thresholds")
    print(f"  ours {t_ours * 1e3:9.1f} ms   per-threshold KM loop {t_loop * 1e3:9.1f} ms   "
          f"ratio {t_loop / t_ours:6.1f}   max |diff| {diff:.2e}")

    score = fit.linear_predictor

    def ours_maxstat():
        return maxstat_cutoff(np.column_stack([time_, event]), score).cutoff

    def loop_maxstat():
        # baseline: the standardized log-rank statistic at every admissible cut-point
        xs = np.sort(np.unique(score))
        n = len(score)
        best, cut = -1.0, None
        for c in xs:
            m = int((score <= c).sum())
            if m < max(1, int(np.floor(0.1 * n))) or m > int(np.floor(0.9 * n)):
                continue
            stat = logrank_test(np.column_stack([time_, event]), score <= c).chisq
            if stat > best:
                best, cut = stat, c
        return cut

    reps = max(1, args.repeat)
    t_ours, a = _median_time(ours_maxstat, reps)
    t_loop, b = _median_time(loop_maxstat, 1)
    print(f"maximally selected log-rank cut-off, n={args.n}")
    print(f"  ours {t_ours * 1e3:9.1f} ms   survdiff at every cut-point {t_loop * 1e3:9.1f} ms   "
          f"ratio {t_loop / t_ours:6.1f}   cut-points: ours {a:.6g}, loop {b:.6g} "
          "(may differ: maxstat standardizes the log-rank scores by their permutation variance, "
          "survdiff by the hypergeometric one)")


if __name__ == "__main__":
    main()
