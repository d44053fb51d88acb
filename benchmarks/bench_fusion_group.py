"""Benchmark: a 6-cancer nomogram group on 50,000 patients with cross-fitted labels,
then ``nomofuse predict`` on 1,000,000 rows.

Seed 004's cohort size (50,000 patients, several primary cancers). Steps, each timed:

1. draw the synthetic cohort (:func:`fusion.models.synthetic.make_multicancer_cohort`:
   1-3 lesions per patient with 20 radiomics features, 16 pooled slide features);
2. cross-fit the imaging label (LASSO signature on the largest lesion) and the
   pathology label (XGBoost on the slide features), 5 folds of patients;
3. fit the group: shared age, grade and both labels; specific factors selected
   per cancer from 6 candidates (univariable screen, backward AIC);
4. write a 1,000,000-row patients CSV (0.1 % bad rows) and score it with
   ``nomofuse predict`` in a child process, whose peak resident memory is read
   from ``getrusage`` (the 100,000-row file runs first: ``RUSAGE_CHILDREN`` keeps the
   largest child so far, so the second figure is the larger of the two runs); memory
   is bounded by the chunk size, not the file.

Run: ``python benchmarks/bench_fusion_group.py [--patients 50000] [--rows 1000000]``.
Prints times (s) and peak memory (MiB).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fusion.models import ModalityLabel, NomogramGroup  # noqa: E402
from fusion.models.synthetic import make_multicancer_cohort  # noqa: E402
from nomogram.exceptions import StatisticalWarning  # noqa: E402


def _mib(kib: float) -> float:
    return kib / 1024  # ru_maxrss is in KiB on Linux


def write_patients(table: pd.DataFrame, path: Path, n_rows: int, *, chunk: int = 100_000, seed: int = 0) -> None:
    """``n_rows`` patients resampled from ``table`` (with small noise), 0.1 % of them made bad."""
    rng = np.random.default_rng(seed)
    done = 0
    with open(path, "w", encoding="utf-8", newline="") as f:
        while done < n_rows:
            k = min(chunk, n_rows - done)
            rows = table.iloc[rng.integers(0, len(table), k)].reset_index(drop=True).astype(object)
            rows["patient_id"] = [f"N{done + i:07d}" for i in range(k)]
            rows["age"] = (rows["age"].astype(float) + rng.integers(-2, 3, k)).astype(object)
            bad = rng.random(k) < 0.001
            kinds = rng.integers(0, 3, k)
            rows.loc[bad & (kinds == 0), "age"] = "unknown"
            rows.loc[bad & (kinds == 1), "grade"] = "G4"
            rows.loc[bad & (kinds == 2), "cancer_type"] = "melanoma"
            rows.to_csv(f, header=done == 0, index=False)
            done += k


def score_in_child(model: Path, patients: Path, out: Path) -> tuple[float, float, str]:
    """Run ``nomofuse predict`` in a child process: wall time, child's peak RSS (MiB), its summary."""
    code = ("import sys; from fusion.cli import main; "
            f"sys.exit(main(['predict', {str(model)!r}, {str(patients)!r}, '--out', {str(out)!r}, '--quiet']))")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 2):
        raise RuntimeError(f"nomofuse predict failed ({proc.returncode}): {proc.stderr}")
    # RUSAGE_CHILDREN keeps the largest child so far: run the small file first
    return wall, _mib(max(peak, before)), proc.stdout.strip()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=50_000)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workdir", default=None, help="folder for the model and CSV files (default: a temp dir)")
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_fusion_group_"))
    work.mkdir(parents=True, exist_ok=True)
    times = {}

    t = time.perf_counter()
    c = make_multicancer_cohort(args.patients, random_state=0)
    times["cohort"] = time.perf_counter() - t
    clinical = c.clinical.set_index("patient_id")
    y = clinical["bone_metastasis"]
    print(f"cohort: {len(clinical):,} patients, {len(c.radiomics):,} lesions, "
          f"{clinical.cancer_type.nunique()} cancer types ({times['cohort']:.1f} s)", flush=True)

    rad = c.radiomics
    t = time.perf_counter()
    imaging = ModalityLabel("lasso", name="imaging_label", aggregate="largest", size_column="volume",
                            params={"cv": 5})
    img_oof = imaging.fit_transform(rad.drop(columns="patient_id"), y.loc[rad["patient_id"]].to_numpy(),
                                    groups=rad["patient_id"].to_numpy())
    times["imaging label (LASSO, 5-fold cross-fit)"] = time.perf_counter() - t
    print(f"imaging label: {time.perf_counter() - t:.1f} s; features {imaging.model_.features_}", flush=True)

    t = time.perf_counter()
    pathology = ModalityLabel("xgboost", name="pathology_label", n_jobs=1)
    path_oof = pathology.fit_transform(c.pathology.drop(columns="patient_id").set_index(c.pathology["patient_id"]),
                                       y.loc[c.pathology["patient_id"]].to_numpy())
    times["pathology label (XGBoost, 5-fold cross-fit)"] = time.perf_counter() - t
    print(f"pathology label: {time.perf_counter() - t:.1f} s", flush=True)

    X = clinical.join(img_oof).join(path_oof)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        group = NomogramGroup(by="cancer_type", shared=["age", "grade", "imaging_label", "pathology_label"],
                              candidates=["psa", "smoking", "cea", "alp", "ldh", "sex"]).fit(X, y)
    times["group fit (6 cancers, screen + backward AIC)"] = time.perf_counter() - t
    fit_peak = _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print(f"group fit: {times['group fit (6 cancers, screen + backward AIC)']:.1f} s", flush=True)
    print(group.factor_table().to_string())
    model = work / "group.json"
    group.to_json(model)

    table = X.reset_index().drop(columns=["bone_metastasis"])
    results = {}
    for n_rows in sorted({min(100_000, args.rows), args.rows}):
        patients = work / f"patients_{n_rows}.csv"
        t = time.perf_counter()
        write_patients(table, patients, n_rows)
        gen = time.perf_counter() - t
        wall, peak, summary = score_in_child(model, patients, work / f"scores_{n_rows}.csv")
        results[n_rows] = (wall, peak)
        print(f"\npredict {n_rows:,} rows ({patients.stat().st_size / 2**20:.0f} MiB CSV, written in {gen:.1f} s): "
              f"{wall:.1f} s, {n_rows / wall:,.0f} rows/s, child peak RSS {peak:.0f} MiB")
        print("  " + summary.replace("\n", "\n  "))

    print("\nsummary")
    for k, v in times.items():
        print(f"  {k:48s} {v:8.1f} s")
    print(f"  {'peak RSS of this process, cohort to group fit':48s} {fit_peak:8.0f} MiB")
    for n_rows, (wall, peak) in results.items():
        print(f"  {f'predict {n_rows:,} rows':48s} {wall:8.1f} s   peak RSS {peak:6.0f} MiB")
    print(f"files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
