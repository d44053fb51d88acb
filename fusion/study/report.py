"""``report.html``: one self-contained file a co-author can open.

:func:`render_report` turns a :class:`ReportContent` (what a study run
produced: tables as DataFrames, figures as PNG files) into one HTML page with
every figure embedded as a base64 PNG and the style sheet inline. The page
makes no network request of any kind: no script, font, style sheet or image
is fetched, and links are only to anchors inside the page.

Sections, in order (each has a fixed ``id`` the TRIPOD+AI checklist links to):

==================  ==============================================================
``summary``         the study, its design, the headline result
``flow``            cohort flow: patients in, excluded with reasons, per split
``table1``          Table 1 by split
``methods``         features, labels, factor selection, models, validation
``models``          factors per cancer type, coefficients, nomograms
``comparison``      model comparison per split (AUC/C with CI, DeLong p vs reference)
``validation``      optimism-corrected indexes, calibration
``decision``        decision curves
``risk-groups``     risk groups (Kaplan-Meier for survival)
``per-cancer``      one subsection per cancer type
``failures``        what could not be extracted, and why
``heatmaps``        attention heatmaps of a few slides
``reproducibility`` versions, seeds, input checksums, timings
``tripod``          the TRIPOD+AI checklist, each item linked to its section
==================  ==============================================================

A section without content is left out, and a checklist item whose section is
absent says so.

References
----------
Collins GS, Moons KGM, Dhiman P, et al. TRIPOD+AI statement: updated guidance
for reporting clinical prediction models that use regression or machine
learning methods. BMJ 2024;385:e078378.
"""

from __future__ import annotations

import base64
import datetime
import html
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ReportContent", "Figure", "render_report", "write_report", "TRIPOD_AI", "SECTIONS"]

#: Section ids and titles, in page order.
SECTIONS = {
    "summary": "Study",
    "flow": "Cohort flow",
    "table1": "Table 1: patients by split",
    "methods": "Methods",
    "models": "Models",
    "comparison": "Model comparison",
    "validation": "Validation and calibration",
    "decision": "Decision curves",
    "risk-groups": "Risk groups",
    "per-cancer": "Per cancer type",
    "failures": "Extraction failures",
    "heatmaps": "Attention heatmaps",
    "reproducibility": "Reproducibility",
    "tripod": "TRIPOD+AI checklist",
}

#: The TRIPOD+AI checklist (Collins et al. 2024): item, topic, what to report, and the
#: report sections that answer it (empty: the authors must answer it in the paper).
TRIPOD_AI = [
    ("1", "Title", "Identify the study as developing or evaluating a prediction model, the target "
     "population and the outcome", ["summary"]),
    ("2", "Abstract", "See TRIPOD+AI for Abstracts", []),
    ("3a", "Background", "Healthcare context and rationale for the model", []),
    ("3b", "Background", "Target population and intended purpose in the care pathway", ["summary"]),
    ("3c", "Background", "Known health inequalities between sociodemographic groups", []),
    ("4", "Objectives", "Whether the study develops, evaluates, or both", ["summary"]),
    ("5a", "Data", "Sources of data, separately for development and evaluation", ["flow", "methods"]),
    ("5b", "Data", "Dates of the collected participant data", []),
    ("6a", "Participants", "Study setting (e.g. centres)", ["flow", "table1"]),
    ("6b", "Participants", "Eligibility criteria", ["flow"]),
    ("6c", "Participants", "Treatments received, if relevant", []),
    ("7", "Data preparation", "Pre-processing and quality checking", ["methods", "failures"]),
    ("8a", "Outcome", "Definition of the outcome, including the time horizon", ["summary", "methods"]),
    ("8b", "Outcome", "Qualifications of outcome assessors, if subjective", []),
    ("8c", "Outcome", "Blinding of outcome assessment", []),
    ("9a", "Predictors", "Choice of the initial predictors and any pre-selection", ["methods", "models"]),
    ("9b", "Predictors", "Definition of every predictor, how and when measured", ["methods"]),
    ("9c", "Predictors", "Qualifications and blinding of predictor assessors", []),
    ("10", "Sample size", "How the study size was arrived at", ["flow", "methods"]),
    ("11", "Missing data", "How missing data were handled", ["flow", "methods"]),
    ("12a", "Analytical methods", "How the data were used (development, evaluation)", ["methods"]),
    ("12b", "Analytical methods", "How predictors were handled (functional form, scaling)", ["methods"]),
    ("12c", "Analytical methods", "Model type, building steps, tuning, internal validation",
     ["methods", "validation"]),
    ("12d", "Analytical methods", "Heterogeneity in estimates and performance across clusters",
     ["per-cancer", "comparison"]),
    ("12e", "Analytical methods", "Measures and plots of performance; comparison of models",
     ["comparison", "validation", "decision"]),
    ("12f", "Analytical methods", "Model updating (e.g. recalibration)", []),
    ("12g", "Analytical methods", "How predictions were calculated for evaluation", ["models", "methods"]),
    ("13", "Class imbalance", "Class imbalance methods, if used", ["methods"]),
    ("14", "Fairness", "Approaches to model fairness", []),
    ("15", "Model output", "Output of the model and rationale of any threshold", ["risk-groups", "methods"]),
    ("16", "Training versus evaluation", "Differences between development and evaluation data",
     ["table1", "flow"]),
    ("17", "Ethical approval", "Ethics committee and consent", []),
    ("18a", "Funding", "Sources of funding and the funder's role", []),
    ("18b", "Conflicts of interest", "Conflicts of interest and financial disclosures", []),
    ("18c", "Protocol", "Where the protocol can be accessed", []),
    ("18d", "Registration", "Registration of the study", []),
    ("18e", "Data sharing", "Availability of the data", []),
    ("18f", "Code sharing", "Availability of the analytical code", ["reproducibility"]),
    ("19", "Patient and public involvement", "Patient and public involvement", []),
    ("20a", "Participants", "Flow of participants, with and without the outcome, follow-up", ["flow"]),
    ("20b", "Participants", "Characteristics overall and per data source, missing data", ["table1", "flow"]),
    ("20c", "Participants", "Predictor distributions of evaluation against development data", ["table1"]),
    ("21", "Model development", "Participants and events in each analysis", ["flow", "comparison"]),
    ("22", "Model specification", "The full model (formula, code, object) for new predictions",
     ["models", "reproducibility"]),
    ("23a", "Model performance", "Performance with confidence intervals, including subgroups",
     ["comparison", "validation", "per-cancer"]),
    ("23b", "Model performance", "Heterogeneity of performance across clusters", ["per-cancer"]),
    ("24", "Model updating", "Results of any model updating", []),
    ("25", "Interpretation", "Overall interpretation, fairness", []),
    ("26", "Limitations", "Limitations of the study", ["methods"]),
    ("27a", "Usability", "How poor-quality or unavailable input data are handled in use",
     ["failures", "methods"]),
    ("27b", "Usability", "User interaction with input data and expertise needed", []),
    ("27c", "Usability", "Next steps: applicability and generalisability", []),
]


@dataclass
class Figure:
    """A figure of the report: a PNG file and its caption."""

    path: str | os.PathLike
    caption: str = ""
    alt: str = ""


@dataclass
class ReportContent:
    """Everything a report shows; empty parts leave their section out.

    Attributes
    ----------
    title, description : str
    facts : list of (label, text)
        The study's design in a few lines (outcome, splits, models...).
    headline : str
        One sentence with the main result.
    flow : DataFrame
        Cohort flow: columns ``step``, ``patients``, ``reason`` (exclusions
        have a reason), in order.
    split_counts : DataFrame
        One row per split: ``split``, ``patients``, ``events`` (+ cancer types).
    table_one : DataFrame
        Table 1 by split (``nomogram.table_one(...).summary()``).
    methods : list of (heading, paragraph)
    factor_table : DataFrame
        Factors (rows) per cancer-type model (columns).
    models : list of dict
        ``{"name", "description", "tables": {caption: DataFrame}, "figures": [Figure]}``.
    comparison : DataFrame
        Model comparison (one row per split and model).
    comparison_figures, validation_figures, decision_figures, risk_group_figures : list of Figure
    validation : DataFrame
        Optimism-corrected indexes (bootstrap) of each model on the training split.
    calibration : DataFrame
    decision : DataFrame
        Net benefit at a few thresholds.
    risk_groups : DataFrame
    per_cancer : dict of {cancer type: {"tables": {caption: DataFrame}, "figures": [Figure]}}
    failures : DataFrame
        Extraction failures: ``modality``, ``case_id``, ``stage``, ``message``.
    heatmaps : list of Figure
    reproducibility : list of (label, text) and tables
    notes : list of str
        Statements the reader must see (e.g. a randomly initialised encoder).
    """

    title: str
    description: str = ""
    facts: list = field(default_factory=list)
    headline: str = ""
    notes: list = field(default_factory=list)
    flow: pd.DataFrame | None = None
    split_counts: pd.DataFrame | None = None
    table_one: pd.DataFrame | None = None
    methods: list = field(default_factory=list)
    factor_table: pd.DataFrame | None = None
    models: list = field(default_factory=list)
    comparison: pd.DataFrame | None = None
    comparison_figures: list = field(default_factory=list)
    validation: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    validation_figures: list = field(default_factory=list)
    decision: pd.DataFrame | None = None
    decision_figures: list = field(default_factory=list)
    risk_groups: pd.DataFrame | None = None
    risk_group_figures: list = field(default_factory=list)
    per_cancer: dict = field(default_factory=dict)
    failures: pd.DataFrame | None = None
    heatmaps: list = field(default_factory=list)
    reproducibility: list = field(default_factory=list)
    reproducibility_tables: dict = field(default_factory=dict)
    generated: str = ""


_CSS = """
:root { --ink:#1d2329; --muted:#5b6670; --line:#d5dbe0; --accent:#1f5f8b; --bg:#fbfcfd; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
nav { position:fixed; top:0; left:0; bottom:0; width:230px; overflow-y:auto; padding:18px 14px;
      background:#eef2f5; border-right:1px solid var(--line); font-size:13.5px; }
nav a { display:block; color:var(--ink); text-decoration:none; padding:3px 6px; border-radius:4px; }
nav a:hover { background:#dde6ec; }
nav .brand { font-weight:700; color:var(--accent); margin-bottom:10px; }
main { margin-left:230px; padding:24px 40px 80px; max-width:1250px; }
h1 { font-size:26px; margin:0 0 6px; }
h2 { font-size:20px; margin:38px 0 10px; padding-top:8px; border-top:2px solid var(--line); }
h3 { font-size:16px; margin:22px 0 8px; }
p.lead { color:var(--muted); margin-top:0; }
.headline { background:#e8f1f8; border-left:4px solid var(--accent); padding:10px 14px; margin:14px 0; }
.note { background:#fff6e0; border-left:4px solid #d69a00; padding:8px 14px; margin:10px 0; }
dl.facts { display:grid; grid-template-columns: 190px 1fr; gap:4px 14px; margin:12px 0; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
.table-wrap { overflow-x:auto; margin:8px 0 16px; }
table { border-collapse:collapse; font-size:13px; background:#fff; }
th, td { border-bottom:1px solid var(--line); padding:4px 9px; text-align:right; white-space:nowrap; }
th { background:#f1f4f6; font-weight:600; position:sticky; top:0; }
td.text, th.text { text-align:left; }
td.wrap { white-space:normal; min-width:260px; max-width:560px; }
tr.sig td.p { font-weight:700; }
figure { margin:10px 0 22px; background:#fff; border:1px solid var(--line); padding:8px; display:inline-block;
         max-width:100%; }
figure img { max-width:100%; height:auto; display:block; }
figcaption { color:var(--muted); font-size:13px; margin-top:6px; max-width:900px; }
.grid { display:flex; flex-wrap:wrap; gap:12px; }
.grid figure { flex:1 1 380px; }
.tripod td.where a { margin-right:8px; }
.missing { color:#a33; }
footer { color:var(--muted); font-size:12px; margin-top:40px; }
@media print { nav { display:none; } main { margin-left:0; } }
"""


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _fmt_cell(value, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        low = column.lower()
        if low == "p" or low.startswith("p ") or low.startswith("p(") or low.endswith(" p") \
                or "p-value" in low or low.endswith("_p"):
            return "<0.001" if v < 0.001 else f"{v:.3f}"
        if v.is_integer() and abs(v) < 1e9 and low in ("n", "patients", "events", "tiles"):
            return str(int(v))
        if abs(v) >= 1000 or (abs(v) < 0.001 and v != 0):
            return f"{v:.3g}"
        return f"{v:.3f}"
    return str(value)


def table_html(df: pd.DataFrame, *, index: bool = False, caption: str = "", highlight_p: str | None = None,
               alpha: float = 0.05) -> str:
    """A DataFrame as an HTML table (cells escaped, numbers formatted for a paper)."""
    if df is None or len(df) == 0:
        return ""
    d = df.reset_index() if index else df
    text_cols = {c for c in d.columns if d[c].dtype == object}
    head = "".join(f'<th class="{"text" if c in text_cols else ""}">{_esc(c)}</th>' for c in d.columns)
    rows = []
    for _, r in d.iterrows():
        sig = (highlight_p is not None and highlight_p in d.columns and pd.notna(r[highlight_p])
               and float(r[highlight_p]) < alpha)
        cells = []
        for c in d.columns:
            cls = ["text"] if c in text_cols else []
            if c in text_cols and len(str(r[c])) > 40:
                cls.append("wrap")
            if c == highlight_p:
                cls.append("p")
            cells.append(f'<td class="{" ".join(cls)}">{_esc(_fmt_cell(r[c], str(c)))}</td>')
        rows.append(f'<tr class="{"sig" if sig else ""}">{"".join(cells)}</tr>')
    cap = f"<caption>{_esc(caption)}</caption>" if caption else ""
    return (f'<div class="table-wrap"><table>{cap}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def figure_html(fig: Figure) -> str:
    """A PNG file embedded as a base64 data URI, with its caption."""
    path = Path(fig.path)
    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"render_report embeds PNG figures only; '{path}' is not a PNG file.")
    b64 = base64.b64encode(data).decode("ascii")
    alt = _esc(fig.alt or fig.caption or path.stem)
    cap = f"<figcaption>{_esc(fig.caption)}</figcaption>" if fig.caption else ""
    return f'<figure><img src="data:image/png;base64,{b64}" alt="{alt}">{cap}</figure>'


def _figures(figs) -> str:
    figs = [f for f in figs if f is not None]
    if not figs:
        return ""
    return '<div class="grid">' + "".join(figure_html(f) for f in figs) + "</div>"


def _facts(pairs) -> str:
    if not pairs:
        return ""
    return '<dl class="facts">' + "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in pairs) + "</dl>"


def _present(content: ReportContent) -> dict:
    """Section id -> its HTML body, for the sections that have content."""
    c = content
    out = {}
    body = []
    if c.description:
        body.append(f'<p class="lead">{_esc(c.description)}</p>')
    if c.headline:
        body.append(f'<div class="headline">{_esc(c.headline)}</div>')
    body += [f'<div class="note">{_esc(n)}</div>' for n in c.notes]
    body.append(_facts(c.facts))
    out["summary"] = "".join(body)

    if c.flow is not None and len(c.flow):
        body = [table_html(c.flow, caption="Patients at each step; exclusions with their reasons")]
        if c.split_counts is not None:
            body.append("<h3>Per split</h3>" + table_html(c.split_counts))
        out["flow"] = "".join(body)
    if c.table_one is not None and len(c.table_one):
        out["table1"] = table_html(c.table_one)
    if c.methods:
        out["methods"] = "".join(f"<h3>{_esc(h)}</h3><p>{_esc(p)}</p>" for h, p in c.methods)
    body = []
    if c.factor_table is not None and len(c.factor_table):
        body.append("<h3>Factors of each cancer type's model</h3>"
                    + table_html(c.factor_table, index=True))
    for m in c.models:
        body.append(f'<h3 id="model-{_slug(m["name"])}">{_esc(m["name"])}</h3>')
        if m.get("description"):
            body.append(f"<p>{_esc(m['description'])}</p>")
        for caption, t in (m.get("tables") or {}).items():
            body.append(f"<p><b>{_esc(caption)}</b></p>" + table_html(t))
        body.append(_figures(m.get("figures") or []))
    if any(body):
        out["models"] = "".join(body)
    if c.comparison is not None and len(c.comparison):
        pcol = next((col for col in c.comparison.columns if str(col).startswith("p (")), None)
        out["comparison"] = (table_html(c.comparison, highlight_p=pcol)
                             + _figures(c.comparison_figures))
    body = []
    if c.validation is not None and len(c.validation):
        body.append("<h3>Optimism-corrected indexes (bootstrap, training split)</h3>"
                    + table_html(c.validation, index=True))
    if c.calibration is not None and len(c.calibration):
        body.append("<h3>Calibration</h3>" + table_html(c.calibration))
    body.append(_figures(c.validation_figures))
    if any(body):
        out["validation"] = "".join(body)
    if (c.decision is not None and len(c.decision)) or c.decision_figures:
        out["decision"] = (_figures(c.decision_figures)
                           + (table_html(c.decision) if c.decision is not None else ""))
    if (c.risk_groups is not None and len(c.risk_groups)) or c.risk_group_figures:
        out["risk-groups"] = ((table_html(c.risk_groups) if c.risk_groups is not None else "")
                              + _figures(c.risk_group_figures))
    if c.per_cancer:
        body = []
        for name, part in c.per_cancer.items():
            body.append(f'<h3 id="cancer-{_slug(name)}">{_esc(name)}</h3>')
            for caption, t in (part.get("tables") or {}).items():
                body.append(f"<p><b>{_esc(caption)}</b></p>" + table_html(t))
            body.append(_figures(part.get("figures") or []))
        out["per-cancer"] = "".join(body)
    if c.failures is not None:
        out["failures"] = (table_html(c.failures) if len(c.failures)
                           else "<p>Every scan and slide was extracted.</p>")
    if c.heatmaps:
        out["heatmaps"] = _figures(c.heatmaps)
    if c.reproducibility or c.reproducibility_tables:
        out["reproducibility"] = _facts(c.reproducibility) + "".join(
            f"<h3>{_esc(k)}</h3>" + table_html(v) for k, v in c.reproducibility_tables.items())
    return out


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in str(text).lower()).strip("-")


def _tripod(present: set) -> str:
    rows = []
    for item, topic, what, where in TRIPOD_AI:
        links = [f'<a href="#{s}">{_esc(SECTIONS[s])}</a>' for s in where if s in present]
        if links:
            cell = "".join(links)
        elif where:
            cell = '<span class="missing">not in this report (section empty); authors to report</span>'
        else:
            cell = '<span class="missing">authors to report in the paper</span>'
        rows.append(f'<tr><td class="text">{_esc(item)}</td><td class="text">{_esc(topic)}</td>'
                    f'<td class="text">{_esc(what)}</td><td class="text where">{cell}</td></tr>')
    return ('<p>Each item of the TRIPOD+AI checklist (Collins et al., BMJ 2024;385:e078378) with the '
            'section of this report that answers it. Items about the study\'s context, ethics and '
            'interpretation are for the authors to report.</p>'
            '<div class="table-wrap"><table class="tripod"><thead><tr><th class="text">Item</th>'
            '<th class="text">Topic</th><th class="text">What to report</th>'
            '<th class="text">Where</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table></div>")


def render_report(content: ReportContent) -> str:
    """The report as one HTML string (figures embedded; no network request).

    Parameters
    ----------
    content : ReportContent

    Returns
    -------
    str
    """
    if not isinstance(content, ReportContent):
        raise TypeError(f"render_report expects a ReportContent; got {type(content).__name__}.")
    bodies = _present(content)
    bodies["tripod"] = _tripod(set(bodies))
    nav = ['<div class="brand">nomofuse report</div>']
    sections = []
    for sid, title in SECTIONS.items():
        if sid not in bodies:
            continue
        nav.append(f'<a href="#{sid}">{_esc(title)}</a>')
        heading = (f"<h1>{_esc(content.title)}</h1>" if sid == "summary"
                   else f"<h2>{_esc(title)}</h2>")
        sections.append(f'<section id="{sid}">{heading}{bodies[sid]}</section>')
    generated = content.generated or datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            # No request of any kind: forbid every fetch, allow only inline style and data images.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "img-src data:; style-src 'unsafe-inline'\">"
            f"<title>{_esc(content.title)}</title><style>{_CSS}</style></head><body>"
            f"<nav>{''.join(nav)}</nav><main>{''.join(sections)}"
            f"<footer>Written by nomofuse on {_esc(generated)}. Self-contained: figures are embedded; "
            "the page loads nothing from the network.</footer></main></body></html>\n")


def write_report(content: ReportContent, path: str | os.PathLike) -> Path:
    """Write :func:`render_report`'s page to ``path`` (UTF-8) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_report(content), encoding="utf-8")
    os.replace(tmp, path)
    return path
