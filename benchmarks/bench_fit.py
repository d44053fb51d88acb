"""Fit time of LogisticNomogram and CoxNomogram against statsmodels and lifelines.

50,000 patients are drawn (with replacement, plus small jitter on the continuous
columns) from the real GBSG2 cohort; the same design (restricted cubic splines
for age and tumour size, categorical grade, hormone therapy, menopausal status)
is fitted by each library. Every timing is the median of ``--repeat`` runs in
this process, and the ratios printed are baseline / ours (> 1: we are faster).

Run:  python benchmarks/bench_fit.py [--n 50000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def make_cohort(n: int, seed: int = 0) -> pd.DataFrame:
    from lifelines.datasets import load_gbsg2

    base = load_gbsg2()
    rng = np.random.default_rng(seed)
    d = base.iloc[rng.integers(0, len(base), n)].reset_index(drop=True)
    d["age"] = d["age"] + rng.uniform(-0.5, 0.5, n)
    d["tsize"] = d["tsize"] + rng.uniform(-0.5, 0.5, n)
    d["time"] = d["time"] + rng.uniform(0, 1, n)
    return d


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=50_000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)

    import statsmodels.api as sm
    from lifelines import CoxPHFitter

    from nomogram import CoxNomogram, LogisticNomogram

    d = make_cohort(args.n)
    predictors = ["age", "tsize", "pnodes", "tgrade", "horTh", "menostat"]
    X = d[predictors]
    logit = LogisticNomogram(splines={"age": 4, "tsize": 3})
    cox = CoxNomogram(splines={"age": 4, "tsize": 3})

    # identical design matrices for the baselines
    logit.fit(X, d["cens"])
    Xd = pd.DataFrame(logit.design_matrix(X), columns=logit.design_.column_names)

    from nomogram._lrm_fit import fit_logistic

    t_ours_logit = median_time(lambda: LogisticNomogram(splines={"age": 4, "tsize": 3}).fit(X, d["cens"]), args.repeat)
    Xd_np, y_np = Xd.to_numpy(), d["cens"].to_numpy(float)
    t_core_logit = median_time(lambda: fit_logistic(Xd_np, y_np, rms_dlike=0.025), args.repeat)
    t_sm = median_time(lambda: sm.Logit(d["cens"], sm.add_constant(Xd)).fit(disp=0, method="newton", tol=1e-10), args.repeat)
    sm_fit = sm.Logit(d["cens"], sm.add_constant(Xd)).fit(disp=0, method="newton", tol=1e-10)
    diff_logit = float(np.max(np.abs(sm_fit.params.to_numpy() - logit.coef_.to_numpy())))

    t_ours_cox = median_time(lambda: CoxNomogram(splines={"age": 4, "tsize": 3}).fit(X, d[["time", "cens"]]), args.repeat)
    ll_df = Xd.assign(time=d["time"], cens=d["cens"])
    t_ll = median_time(lambda: CoxPHFitter().fit(ll_df, "time", "cens"), max(1, args.repeat // 2))
    cox.set_params(eps=1e-10).fit(X, d[["time", "cens"]])
    ll_fit = CoxPHFitter().fit(ll_df, "time", "cens")
    diff_cox = float(np.max(np.abs(ll_fit.params_.to_numpy() - cox.coef_.to_numpy())))

    print(f"n = {args.n}, design columns = {Xd.shape[1]}, median of {args.repeat} runs")
    print(f"logistic: nomofuse {t_ours_logit:.3f} s (DataFrame -> splines, levels, fit, C, R2, g) | "
          f"statsmodels Logit {t_sm:.3f} s (on the ready design matrix) | ratio {t_sm / t_ours_logit:.2f}x | "
          f"max |coef diff| {diff_logit:.2e}")
    print(f"logistic, design matrix only: nomofuse fit_logistic {t_core_logit:.3f} s | statsmodels {t_sm:.3f} s | "
          f"ratio {t_sm / t_core_logit:.2f}x")
    print(f"cox     : nomofuse {t_ours_cox:.3f} s | lifelines CoxPHFitter {t_ll:.3f} s | "
          f"ratio {t_ll / t_ours_cox:.2f}x | max |coef diff| {diff_cox:.2e}")


if __name__ == "__main__":
    main()
