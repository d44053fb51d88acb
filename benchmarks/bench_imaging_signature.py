"""Benchmark: feature ICC, ComBat and the LASSO path of the imaging signature.

Each of our implementations is timed against a baseline run in the same
process on the same data:

* ``feature_icc`` (all features at once, vectorised two-way ANOVA) vs
  ``pingouin.intraclass_corr`` called once per feature (how a radiomics
  script usually does it), on ``--n-features`` simulated features of
  ``--n-cases`` cases read by 2 readers;
* ``ComBat().fit_transform`` vs ``neuroCombat.neuroCombat`` on the WDBC table
  with centre effects (tests/reference/imaging/combat_input.csv), replicated
  column-wise to ``--combat-features`` features;
* ``lasso_logistic_path`` (coordinate descent, warm starts, 50 lambdas) vs
  scikit-learn ``LogisticRegression(l1, solver="saga")`` refitted at each
  ``C = 1/(n lambda)`` (tol 1e-8), on the z-scored WDBC features; also prints
  the largest coefficient difference.

pingouin and neuroCombat are the test-only extras; a missing baseline is skipped.
Run:  python benchmarks/bench_imaging_signature.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nomogram.features import ComBat, feature_icc  # noqa: E402
from nomogram.features.signature import _lambda_grid, lasso_logistic_path  # noqa: E402


def best_of(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def bench_icc(args):
    rng = np.random.default_rng(0)
    n, p = args.n_cases, args.n_features
    truth = rng.normal(size=(n, p))
    cols = [f"f{j}" for j in range(p)]
    r1 = pd.DataFrame(truth + rng.normal(scale=0.5, size=(n, p)), columns=cols)
    r2 = pd.DataFrame(truth + 0.2 + rng.normal(scale=0.5, size=(n, p)), columns=cols)
    ours_t, ours = best_of(lambda: feature_icc([r1, r2]).table, args.repeat)
    print(f"feature_icc: {p} features x {n} cases x 2 readers: ours {ours_t * 1e3:.1f} ms")
    try:
        import pingouin as pg
    except ImportError:
        print("  pingouin not installed: baseline skipped")
        return
    long = pd.concat([r1.assign(case=np.arange(n), reader="a"), r2.assign(case=np.arange(n), reader="b")])

    def loop():
        return {f: pg.intraclass_corr(long, targets="case", raters="reader", ratings=f)
                .set_index("Type").loc["ICC(C,1)", "ICC"] for f in cols}

    base_t, base = best_of(loop, 1)
    diff = max(abs(base[f] - ours.loc[f, "ICC(3,1)"]) for f in cols)
    print(f"  pingouin per feature {base_t * 1e3:.1f} ms; ratio pingouin/ours = {base_t / ours_t:.1f}; "
          f"max |ICC(3,1) difference| = {diff:.2e}")


def bench_combat(args):
    x = pd.read_csv(ROOT / "tests/reference/imaging/combat_input.csv")
    feats = [c for c in x.columns if c not in ("patient", "centre", "diagnosis", "age")]
    reps = max(1, args.combat_features // len(feats))
    X = pd.concat([x[feats].add_suffix(f"_{r}") * (1 + 0.01 * r) for r in range(reps)], axis=1)
    Z = X.assign(centre=x.centre.to_numpy(), diagnosis=x.diagnosis.to_numpy(), age=x.age.to_numpy())
    combat = ComBat(batch="centre", covariates=["diagnosis", "age"])
    ours_t, ours = best_of(lambda: combat.fit_transform(Z), args.repeat)
    print(f"ComBat: {X.shape[1]} features x {len(X)} patients, 3 centres: ours {ours_t * 1e3:.1f} ms")
    try:
        from neuroCombat import neuroCombat
    except ImportError:
        print("  neuroCombat not installed: baseline skipped")
        return
    covars = pd.DataFrame({"batch": x.centre, "diagnosis": x.diagnosis, "age": x.age})

    def nc():
        with contextlib.redirect_stdout(io.StringIO()):
            return neuroCombat(dat=X.to_numpy().T.copy(), covars=covars, batch_col="batch",
                               categorical_cols=["diagnosis"], continuous_cols=["age"])["data"]

    base_t, base = best_of(nc, args.repeat)
    rel = np.max(np.abs(base.T - ours.to_numpy()) / np.abs(base.T).clip(1e-12))
    print(f"  neuroCombat {base_t * 1e3:.1f} ms; ratio neuroCombat/ours = {base_t / ours_t:.2f}; "
          f"max relative difference = {rel:.2e}")


def bench_lasso(args):
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    d = load_breast_cancer()
    Z = (d.data - d.data.mean(0)) / d.data.std(0, ddof=1)
    y = (d.target == 0).astype(float)
    n = len(y)
    lam = _lambda_grid(np.max(np.abs(Z.T @ (y - y.mean()))) / n, 50, 1e-2)
    ours_t, (B0, B) = best_of(lambda: lasso_logistic_path(Z, y, lam), args.repeat)
    print(f"LASSO logistic path: 50 lambdas, {Z.shape[1]} features x {n} patients: ours {ours_t * 1e3:.1f} ms")
    import sklearn

    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    kw = {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}

    def saga():
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for l in lam:
                m = LogisticRegression(C=1 / (n * l), solver="saga", tol=1e-8, max_iter=100000, **kw)
                m.fit(Z, y)
                out.append(m.coef_.ravel())
        return np.array(out)

    base_t, Bs = best_of(saga, 1)
    print(f"  sklearn saga per C {base_t * 1e3:.1f} ms; ratio saga/ours = {base_t / ours_t:.1f}; "
          f"max |coef difference| = {np.max(np.abs(Bs - B)):.2e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-cases", type=int, default=100)
    ap.add_argument("--n-features", type=int, default=200)
    ap.add_argument("--combat-features", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bench_icc(args)
    bench_combat(args)
    bench_lasso(args)


if __name__ == "__main__":
    main()
