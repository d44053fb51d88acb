"""``nomofuse screen``: score new patients from raw inputs with a study's bundle.

::

    nomofuse screen DIR/bundle --clinical new.csv [--scans scans.csv] [--slides slides.csv]
        --out scores.csv [--jobs N]

Runs the same feature extraction as the study (same radiomics parameters and
regions, same slide encoder and tile grid), applies the study's labels
unchanged and scores every patient with their cancer type's nomogram: points
per factor, total points, probability (or survival), risk group, the model
used. A patient who cannot be scored (missing value, unknown category or
cancer type, no scan, failed extraction) gets lines in
scores.csv.errors.csv naming the row, column, value and what is allowed; the
others are always scored.

Exit status: 0 every patient was scored; 2 some were not (the others are
written); 1 none was, or the bundle or an input is unusable.
"""

from __future__ import annotations

import argparse
import sys

from ._help import description_from_doc


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "screen", help="score new patients from their clinical data, scans and slides with a study's bundle",
        description=description_from_doc(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  nomofuse screen results/bundle --clinical new.csv --scans scans.csv "
               "--slides slides.csv --out scores.csv\n")
    p.add_argument("bundle", metavar="BUNDLE", help="the bundle/ folder a study run wrote")
    p.add_argument("--clinical", required=True, metavar="CSV", help="one row per new patient")
    p.add_argument("--scans", metavar="CSV", help="scans manifest (<patient id>,image,mask)")
    p.add_argument("--slides", metavar="CSV", help="slides manifest (slide_id,path,<patient id>)")
    p.add_argument("--out", required=True, metavar="CSV", help="scores; errors go to <out>.errors.csv")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes for extraction")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from fusion.study import StudyFileError
    from fusion.study.bundle import BundleError, screen

    try:
        res = screen(args.bundle, args.clinical, scans=args.scans, slides=args.slides, out=args.out,
                     jobs=args.jobs, progress=not args.quiet, echo=None if args.quiet else print)
    except (StudyFileError, BundleError, OSError) as err:
        print(f"nomofuse screen: {err}", file=sys.stderr)
        return 1
    if res.n_scored == 0:
        return 1
    return 2 if res.n_not_scored else 0
