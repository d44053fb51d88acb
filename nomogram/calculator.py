"""An offline web calculator of a nomogram: one self-contained HTML file.

:func:`calculator_html` turns one :class:`~nomogram.Nomogram` (or several,
e.g. one per cancer type) into a single HTML page that works opened from disk:
its script and style are inline, it loads nothing (no CDN, no font, no
request of any kind; a Content-Security-Policy forbids every fetch), and it
holds the model's coefficients only — the nomogram specification
(``Nomogram.to_spec``: bases, coefficients, points scale, outcome mappings,
the coefficients' covariance and rms ``survest``'s variance pieces), never a
patient row. R's DynNom, by contrast, needs a Shiny server and ships the
training data.

The page has a form control per predictor (a number with the training range
beside it; the levels of a factor), and shows live the points of each
predictor, the total points, the linear predictor and its standard error,
the probability (logistic) or the survival at each model time (Cox) with its
confidence interval (:meth:`Nomogram.confidence_limits`), the risk group at
the model's cut-off, and the nomogram itself (the chart of
:class:`~nomogram.displays.NomogramDisplay`, as inline SVG) with the
patient's values marked. A value outside the training range is flagged on
its input, on its points and in a banner, and the result is labelled an
extrapolation. With several models a selector (named after the routing
column, e.g. ``cancer_type``) switches between them. The controls are native
form elements with labels (keyboard-usable), and the layout folds to one
column on a phone.

DOM contract (stable, for tests and other programs): each input's ``name`` is
the predictor's name; each output element carries ``data-output`` =
``"points_<predictor>"``, ``"total_points"``, ``"linear_predictor"``,
``"probability"`` (logistic) or ``"survival_<time>"`` (Cox; the time as the
model gives it, ``survival_1095``), ``"<output>_lower"`` and
``"<output>_upper"`` (confidence limits) and ``"risk_group"``, with the
full-precision number in ``data-value`` (JavaScript's shortest round-trip
text of the double; empty while inputs are missing) beside the rounded text.
A predictor folded into an interaction axis (the partner factor) has no
points of its own, as in :meth:`Nomogram.points`.

References
----------
Jalali A, Alvarez-Iglesias A, Roshan D, Newell J (2019). Visualising
statistical models using dynamic nomograms. PLoS ONE 14(11):e0225253 (DynNom).
"""

from __future__ import annotations

import html
import io
import json
import math
from importlib import resources

import numpy as np

from .points import Nomogram, _format_number

__all__ = ["calculator_html", "write_calculator", "CALCULATOR_FORMAT"]

#: ``"format"`` of the JSON payload embedded in the page.
CALCULATOR_FORMAT = "nomofuse.nomogram.Calculator"

_CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
        "font-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'")


def _asset(name: str) -> str:
    return resources.files("nomogram").joinpath("calculator_assets", name).read_text(encoding="utf-8")


def output_key(outcome: dict) -> str:
    """The ``data-output`` name of an outcome of a spec: ``probability`` or ``survival_<time>``."""
    if outcome["type"] == "logistic":
        return "probability"
    return f"survival_{_format_number(outcome['time'])}"


def _risk_groups(spec, cutoff, labels):
    if cutoff is None:
        return None
    cuts = [float(c) for c in np.atleast_1d(cutoff)]
    if any(not math.isfinite(c) for c in cuts) or cuts != sorted(cuts):
        raise ValueError(f"calculator_html: cut-offs must be finite and increasing; got {cuts}.")
    on = "probability" if spec["model_kind"] == "logistic" else "linear_predictor"
    if on == "probability" and not all(0 < c < 1 for c in cuts):
        raise ValueError(f"calculator_html: a logistic model's cut-off is a probability in (0, 1); got {cuts}.")
    if labels is None:
        labels = ["low", "high"] if len(cuts) == 1 else ["low"] + [f"group {i + 2}" for i in range(len(cuts) - 1)]
        if len(cuts) == 2:
            labels = ["low", "intermediate", "high"]
    if len(labels) != len(cuts) + 1:
        raise ValueError(f"calculator_html: {len(cuts)} cut-off(s) need {len(cuts) + 1} labels; got {labels}.")
    what = "predicted probability" if on == "probability" else "linear predictor"
    desc = "; ".join(f"{labels[i + 1]} when the {what} is at least {c:.4g}" for i, c in enumerate(cuts))
    return {"on": on, "cutoffs": cuts, "labels": list(labels), "description": desc}


def _chart(nom: Nomogram, fontsize: float):
    """The chart as inline SVG text and the coordinates (SVG units) the page marks a patient with."""
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from .displays.nomogram import NomogramDisplay

    disp = NomogramDisplay(nom).plot(title=False, fontsize=fontsize)
    fig, ax = disp.figure_, disp.ax_
    W, H = (float(v) * 72.0 for v in fig.get_size_inches())
    to_fig = ax.transData + fig.transFigure.inverted()

    def svg_xy(x, y):
        fx, fy = to_fig.transform((x, y))
        return float(fx * W), float((1.0 - fy) * H)

    x_at0, ruler_y = svg_xy(0.0, disp.rows_["Points"]["y"] if "Points" in disp.rows_ else 0.0)
    x_at1, _ = svg_xy(1.0, 0.0)
    to_x_bottom = disp._to_x_bottom()
    rows, bottom = [], []
    for a in nom.axes:
        r = disp.rows_[a.label]
        if a.kind == "predictor":
            branches = []
            for b in r["branches"]:
                lo, hi = b["values"]
                branches.append({"lo": None if lo is None else float(lo), "hi": None if hi is None else float(hi),
                                 "y": svg_xy(0.0, b["y"])[1]})
            rows.append({"label": a.label, "predictor": a.predictor,
                         "condition": {k: (v.item() if hasattr(v, "item") else v) for k, v in a.condition.items()},
                         "branches": branches})
        else:
            ticks = np.asarray(a.points, dtype=float) * to_x_bottom
            bottom.append({"label": a.label, "kind": a.kind, "y": svg_xy(0.0, r["y"])[1],
                           "x_min": svg_xy(float(ticks.min()), 0.0)[0], "x_max": svg_xy(float(ticks.max()), 0.0)[0]})
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "nomofuse-calculator"}):
        Figure.savefig(fig, buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                         "Type": None, "Title": nom.title})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE: inline SVG needs neither
    svg = svg.replace(f'width="{W:g}pt"', "").replace(f'height="{H:g}pt"', "")
    coords = {"x0": x_at0, "dx": x_at1 - x_at0, "to_x_bottom": float(to_x_bottom), "ruler_y": ruler_y,
              "rows": rows, "bottom": bottom, "width": W, "height": H}
    return svg, coords


def _model_entry(nom: Nomogram, key: str, *, cutoff, labels, chart: bool, fontsize: float, title: str | None):
    if not isinstance(nom, Nomogram):
        raise TypeError(f"calculator_html: model '{key}' must be a Nomogram (model.nomogram() or "
                        f"nomogram.load_model of a NomogramSpec file); got {type(nom).__name__}.")
    spec = json.loads(json.dumps(nom.to_spec(), allow_nan=False))
    if spec.get("variance") is None:
        note = "No confidence intervals: the model file carries no covariance of the coefficients."
    else:
        note = ""
    outcomes = [{"label": o["label"], "key": output_key(o), "type": o["type"]} for o in spec["outcomes"]]
    keys = [o["key"] for o in outcomes]
    if len(set(keys)) != len(keys):
        raise ValueError(f"calculator_html: model '{key}' has two outcome axes with the same output name {keys}; "
                         "use distinct times.")
    entry = {"spec": spec, "title": title or spec["title"], "note": note, "outcomes": outcomes,
             "risk_groups": _risk_groups(spec, cutoff, labels), "chart": None}
    svg = None
    if chart:
        svg, entry["chart"] = _chart(nom, fontsize)
    return entry, svg


def calculator_html(models, *, title: str | None = None, cutoffs=None, risk_labels=None, by: str = "model",
                    routing: dict | None = None, titles: dict | None = None, conf_level: float = 0.95,
                    chart: bool = True, fontsize: float = 9.0) -> str:
    """The web calculator of one nomogram or of a group of them, as one HTML text.

    Parameters
    ----------
    models : Nomogram or dict of {str: Nomogram}
        One nomogram, or one per key (e.g. per cancer type's model).
    title : str, optional
        Page title; default the nomogram's ``title`` (one model) or "Nomogram calculator".
    cutoffs : float, list of float, or dict of {str: float or list or None}, optional
        Risk-group cut-off(s) of each model: a probability for a logistic
        model, a linear predictor for a Cox model (as ``NomogramGroup.cutoffs_``
        and ``nomofuse predict --cutoff``); a patient at or above a cut-off is in
        the higher group. None: no risk group.
    risk_labels : list of str, optional
        Names of the groups, lowest first (default "low", "high"; with two
        cut-offs "low", "intermediate", "high").
    by : str, default "model"
        Name of the selector (several models): the routing column, e.g. ``"cancer_type"``.
    routing : dict of {str: str}, optional
        Selector choices -> model key (``NomogramGroup.routing_``: several cancer
        types may share the pooled "other" model). Default: one choice per model.
    titles : dict of {str: str}, optional
        Heading of each model's panel.
    conf_level : float, default 0.95
    chart : bool, default True
        Include the nomogram chart (needs matplotlib).
    fontsize : float, default 9
        Font size of the chart.

    Returns
    -------
    str
        The HTML page (UTF-8 text).

    Examples
    --------
    >>> html = calculator_html(model.nomogram(), cutoffs=0.3)  # doctest: +SKIP
    >>> write_calculator("calculator.html", model.nomogram())  # doctest: +SKIP
    """
    from scipy.stats import norm

    caller = "calculator_html"
    if isinstance(models, Nomogram):
        models = {"model": models}
        single = True
    elif isinstance(models, dict) and models:
        single = False
    else:
        raise TypeError(f"{caller}: models must be a Nomogram or a non-empty dict of {{name: Nomogram}}; "
                        f"got {type(models).__name__}.")
    if not (isinstance(conf_level, (int, float)) and 0 < float(conf_level) < 1):
        raise ValueError(f"The 'conf_level' parameter of {caller} must be in (0, 1). Got {conf_level!r} instead.")
    if routing is None:
        routing = {k: k for k in models}
    unknown = sorted({v for v in routing.values() if v not in models})
    if unknown:
        raise ValueError(f"{caller}: routing points to model(s) {unknown} that are not given; models are "
                         f"{sorted(models)}.")
    if not isinstance(cutoffs, dict):
        cutoffs = {k: cutoffs for k in models}
    entries, svgs = {}, {}
    for key, nom in models.items():
        entries[key], svgs[key] = _model_entry(nom, key, cutoff=cutoffs.get(key), labels=risk_labels, chart=chart,
                                               fontsize=fontsize, title=(titles or {}).get(key))
    if title is None:
        title = entries[next(iter(models))]["spec"]["title"] if single else "Nomogram calculator"
    payload = {
        "format": CALCULATOR_FORMAT, "version": 1, "title": title, "conf_level": float(conf_level),
        "z": float(norm.ppf(0.5 + float(conf_level) / 2)),
        "selector": None if single else {"name": by, "options": [{"value": str(v), "model": m}
                                                                  for v, m in routing.items()]},
        "models": entries,
    }
    data = json.dumps(payload, allow_nan=False, ensure_ascii=False).replace("</", "<\\/")
    charts = "\n".join(
        f'<div class="chart" data-model="{html.escape(k)}" hidden>{svg}</div>' for k, svg in svgs.items() if svg)
    select_name = html.escape(by)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{html.escape(title)}</title>
<style>
{_asset("calculator.css")}
</style>
</head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<p>Works offline: this page holds the model's coefficients only (no patient data) and sends nothing anywhere.
For research use; not a substitute for clinical judgement.</p>
<div id="selector"><label for="model-select">{select_name}</label>
<select id="model-select" name="{select_name}"></select></div>
</header>
<main>
<form id="inputs-form" onsubmit="return false" aria-labelledby="inputs-legend">
<fieldset><legend id="inputs-legend">Patient</legend>
<div id="inputs"></div>
</fieldset>
</form>
<section id="results" aria-live="polite" aria-labelledby="model-title">
<h2 id="model-title"></h2>
<p id="status" class="status" role="status"></p>
<div id="outcomes" class="outcomes"></div>
<p id="risk"></p>
<table id="points-table"></table>
<p id="model-note" class="hint"></p>
<div class="chart-box"><h2>Nomogram</h2>
{charts}
</div>
</section>
</main>
<footer>Made with nomofuse. Points, total points and predictions follow the model exactly (no reading off the
chart); confidence intervals at {100 * float(conf_level):g}% (logistic: on the logit scale; Cox: rms survest,
log scale).</footer>
<script type="application/json" id="nomofuse-data">{data}</script>
<script>
{_asset("calculator.js")}
</script>
</body>
</html>
"""


def write_calculator(path, models, **kwargs):
    """Write :func:`calculator_html` to ``path`` (UTF-8); returns the :class:`~pathlib.Path`."""
    from pathlib import Path

    path = Path(path)
    text = calculator_html(models, **kwargs)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
