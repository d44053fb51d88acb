"""``nomofuse predict``: score new patients with a nomogram or a per-cancer nomogram group.

::

    nomofuse predict MODEL.json patients.csv --out scores.csv [--id-column patient_id]
        [--cutoff P] [--range-margin F] [--chunksize N]

MODEL.json is any model file written by ``to_json``: a single
``LogisticNomogram`` / ``CoxNomogram`` or a ``NomogramGroup`` (each patient
is scored by their cancer type's model). ``scores.csv`` has per patient the
points of every factor, the total points, the linear predictor, the
probability (or survival at each model time), the risk group at the model's
cut-off, the model used and any out-of-range flag. Rows that cannot be scored
(missing value, text instead of a number, unseen category, unknown cancer
type) are listed in ``scores.csv.errors.csv`` with the row, column, value and
what is allowed; values outside the training range are flagged there too but
scored. The file is read in chunks, so its size is not limited by memory.

Exit status: 0 when every row was scored, 2 when some were not (the others
are written), 1 when none was or the input is unusable.
"""

from __future__ import annotations

import argparse
import sys

_DESCRIPTION = """\
Score new patients with a nomogram or a per-cancer nomogram group.

MODEL.json is a model file written by to_json: a single logistic or Cox
nomogram, or a nomogram group (each patient is scored by the model of their
cancer type). The scores file has, per patient, the points of every factor,
the total points, the linear predictor, the probability (or the survival at
each model time), the risk group at the model's cut-off, the model used and
any out-of-range flag. Rows that cannot be scored (missing value, text
instead of a number, unseen category, unknown cancer type) are listed in
<out>.errors.csv with the row, column, value and what is allowed; values
outside the training range are flagged there too, and scored. The file is
read in chunks, so its size is not limited by memory.

Exit status: 0 when every row was scored, 2 when some were not (the others
are written), 1 when none was or the input is unusable."""

_EPILOG = """\
examples:
  nomofuse predict group.json patients.csv --out scores.csv --id-column patient_id
  nomofuse predict lung_nomogram.json patients.csv --out scores.csv --cutoff 0.3
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "predict",
        help="score new patients with a nomogram or a per-cancer group (points, risk, risk group)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL.json", help="a model file written by to_json")
    p.add_argument("patients", metavar="patients.csv", help="one row per patient, a header line first")
    p.add_argument("--out", required=True, metavar="CSV",
                   help="scores file; rows that cannot be scored go to <out>.errors.csv")
    p.add_argument("--id-column", default=None, metavar="NAME", help="column copied to the outputs as 'id'")
    p.add_argument("--cutoff", type=float, default=None, metavar="X",
                   help="risk-group cut-off (probability for logistic, linear predictor for Cox); "
                        "default: the model's own (a single nomogram has none)")
    p.add_argument("--range-margin", type=float, default=0.0, metavar="F",
                   help="flag numbers outside the training range widened by F x range on each side (default 0)")
    p.add_argument("--chunksize", type=int, default=100_000, metavar="N",
                   help="rows read at a time (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from fusion.models.model_files import load_model
    from fusion.models.screening import score_csv

    try:
        model = load_model(args.model)
    except (OSError, ValueError) as err:
        from .exit_status import one_line

        raise ValueError(f"cannot read the model: {one_line(err)}") from err

    shown = []  # a progress line was printed: end it before any message

    def progress(n):
        if not args.quiet:
            shown.append(n)
            print(f"\r  {n:,} rows", end="", file=sys.stderr, flush=True)

    try:
        summary = score_csv(model, args.patients, args.out, id_column=args.id_column, cutoff=args.cutoff,
                            range_margin=args.range_margin, chunksize=args.chunksize, progress=progress)
    finally:  # an error becomes one line (and its exit status) in fusion.commands.exit_status.guarded
        if shown:
            print(file=sys.stderr)
        shown.clear()
    for line in summary.lines():
        print(line)
    if summary.n_scored == 0:
        return 1
    return 2 if summary.n_not_scored else 0
