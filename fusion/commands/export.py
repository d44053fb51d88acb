"""``nomofuse export``: nomogram chart, points table, formulas and offline web calculator of a model file.

::

    nomofuse export MODEL.json [--chart nomogram.pdf] [--html calculator.html]
        [--points-table points.csv] [--formulas formulas.txt] [--cutoff X]
        [--outcome-name TEXT] [--time-unit days] [--patient patient.csv] [--dpi 300]
        [--font-family NAME] [--font-size PT] [--compact] [--conf-int 0.7,0.9]

MODEL.json is a model file written by ``to_json``: a ``LogisticNomogram``,
``CoxNomogram``, a saved nomogram (``NomogramSpec``) or a ``NomogramGroup``
(one chart per cancer type, a multi-page PDF, and a calculator with a
cancer-type selector). See :mod:`fusion.exports`.

Exit status: 0 when everything asked was written, 1 when the input or an
option is unusable (one line says what is wrong and the fix), as every
``nomofuse`` command (:mod:`fusion.commands.exit_status`).
"""

from __future__ import annotations

import argparse

_DESCRIPTION = """\
Export a saved nomogram for a paper and for the clinic.

MODEL.json is a model file written by to_json: a logistic or Cox nomogram, a
saved nomogram (NomogramSpec), or a nomogram group (one model per cancer type).

  --chart       the nomogram as PDF, SVG or PNG (300 dpi); a group writes one
                chart per cancer type (<stem>_<type>.<ext>) and, for a PDF, all
                of them as one multi-page PDF
  --html        one self-contained web page (works offline, holds the model's
                coefficients only, never patient data): an input per
                predictor, live points, total points, probability or survival
                with its confidence interval, risk group, and the nomogram
                with the patient marked; a group gets a cancer-type selector
  --points-table  points of every tick of every axis, and the outcome at
                regular total points (CSV)
  --formulas    each predictor's points as exact formulas (linear pieces and
                spline polynomials), to recompute by hand (text)"""

_EPILOG = """\
examples:
  nomofuse export cox_model.json --chart nomogram.pdf --html calculator.html --points-table points.csv
  nomofuse export group.json --chart nomograms.pdf --html calculator.html
  nomofuse export model.json --chart nomogram.png --time-unit days --outcome-name "overall survival"
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "export",
        help="nomogram chart (PDF/SVG/PNG), points table, formulas and offline web calculator of a model",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", metavar="MODEL.json", help="a model file written by to_json")
    p.add_argument("--chart", metavar="FILE", help="nomogram chart: .pdf, .svg or .png")
    p.add_argument("--html", metavar="FILE", help="offline web calculator (one HTML file)")
    p.add_argument("--points-table", metavar="CSV", help="points table")
    p.add_argument("--formulas", metavar="TXT", help="points formulas per predictor")
    p.add_argument("--cutoff", metavar="X[,Y]", default=None,
                   help="risk-group cut-off(s) of a single model's calculator: probability (logistic) or "
                        "linear predictor (Cox); a group uses its own")
    p.add_argument("--outcome-name", metavar="TEXT", help="what is predicted, when the model file does not say")
    p.add_argument("--time-unit", choices=["days", "weeks", "months", "years"],
                   help="unit of a Cox model's times, when the model file does not say")
    p.add_argument("--patient", metavar="CSV", help="draw the first row of this CSV on the chart")
    p.add_argument("--dpi", type=int, default=300, help="PNG resolution (default %(default)s)")
    p.add_argument("--font-family", metavar="NAME", help="chart font (e.g. Arial, serif)")
    p.add_argument("--font-size", type=float, default=9.0, metavar="PT", help="chart font size (default 9)")
    p.add_argument("--compact", action="store_true", help="tighter chart rows, for many predictors")
    p.add_argument("--conf-int", metavar="L[,L]", default=None,
                   help="draw rms conf.int bars for the linear predictor at these levels, e.g. 0.7,0.9")
    p.add_argument("--conf-level", type=float, default=0.95, help="calculator CI level (default 0.95)")
    p.set_defaults(func=run)
    return p


def _numbers(text, option):
    if text is None:
        return None
    try:
        values = [float(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{option} takes numbers separated by commas; got {text!r}.") from None
    if not values:
        raise ValueError(f"{option} takes numbers separated by commas; got {text!r}.")
    return values[0] if len(values) == 1 else values


def run(args) -> int:
    """Export; a user error raises ``ValueError``/``OSError``, which the command line prints as one line
    (:func:`fusion.commands.exit_status.guarded`, exit status 1)."""
    from pathlib import Path

    from nomogram import load_model

    if not any([args.chart, args.html, args.points_table, args.formulas]):
        raise ValueError("nothing to write; give --chart, --html, --points-table or --formulas.")
    try:
        model = load_model(args.model)
    except (OSError, ValueError) as err:
        from .exit_status import one_line

        raise ValueError(f"cannot read the model: {one_line(err)}") from err
    import pandas as pd

    from fusion.exports import export_model

    patient = None
    if args.patient:
        patient = pd.read_csv(Path(args.patient)).iloc[[0]]
    conf_int = _numbers(args.conf_int, "--conf-int")
    options = {"fontsize": args.font_size, "compact": args.compact}
    if args.font_family:
        options["fontfamily"] = args.font_family
    if conf_int is not None:
        options["conf_int"] = conf_int
    try:
        summary = export_model(model, chart=args.chart, html=args.html, points_table=args.points_table,
                               formulas=args.formulas, cutoff=_numbers(args.cutoff, "--cutoff"),
                               outcome_name=args.outcome_name, time_unit=args.time_unit, patient=patient,
                               dpi=args.dpi, chart_options=options, conf_level=args.conf_level)
    except TypeError as err:  # a model file of another kind (a label, a network): the user's input
        raise ValueError(str(err)) from err
    for line in summary.lines():
        print(line)
    return 0
