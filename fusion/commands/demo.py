"""``nomofuse demo``: the whole study on a synthetic bone-metastasis cohort, in a few minutes.

::

    nomofuse demo --out DIR [--patients N] [--jobs N]

Writes a seeded synthetic cohort (clinical table, CT-like scans with lesion
masks, H&E-like pyramidal slides; the README says what is planted) and the demo
study file to DIR/data, then runs it exactly as 'nomofuse run
DIR/data/study.yaml --out DIR' would, and prints where the report is. The
slide encoder is randomly initialised (no weights can be downloaded); the
report says so. Nothing in the cohort is real patient data.

Exit status: 0 the demo ran; 1 it could not (the message says why).
"""

from __future__ import annotations

import argparse
import sys

from ._help import description_from_doc


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo", help="generate a synthetic cohort and run the whole study on it (report in minutes)",
        description=description_from_doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  nomofuse demo --out nomofuse-demo\n")
    p.add_argument("--out", default="nomofuse-demo", metavar="DIR", help="output folder (default: %(default)s)")
    p.add_argument("--patients", type=int, default=400, metavar="N", help="patients generated (default 400)")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="worker processes (default 2)")
    p.add_argument("--seed", type=int, default=20210, metavar="S", help="seed of the cohort (default 20210)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import time
    from pathlib import Path

    from fusion.study.demo_data import make_demo_cohort

    from .run import execute

    out = Path(args.out)
    data = out / "data"
    t = time.perf_counter()
    try:
        if (data / "clinical.csv").exists():
            cohort_note = f"reusing the synthetic cohort in {data}"
            study = data / "study.yaml"
        else:
            if not args.quiet:
                print(f"writing a synthetic cohort of {args.patients} patients to {data} ...", flush=True)
            cohort = make_demo_cohort(data, n_patients=args.patients, random_state=args.seed, jobs=args.jobs)
            study = cohort.study
            cohort_note = f"cohort written in {time.perf_counter() - t:.0f} s"
    except (ValueError, OSError) as err:
        print(f"nomofuse demo: {err}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(cohort_note, flush=True)
    note = (f"Demo: a seeded synthetic cohort ({args.patients} patients, seed {args.seed}; "
            "fusion.study.demo_data documents what is planted). No real patient data.")
    code = execute(study, out, jobs=args.jobs, quiet=args.quiet, notes=[note])
    if code == 0:
        print(f"demo finished in {time.perf_counter() - t:.0f} s; open {out / 'report.html'}")
    return code
