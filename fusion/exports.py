"""Publication exports of a saved model: nomogram charts, points tables and formulas, web calculator.

:func:`export_model` takes any model file's content that holds nomograms — a
:class:`~nomogram.LogisticNomogram` / :class:`~nomogram.CoxNomogram`, a
saved :class:`~nomogram.Nomogram` specification, or a
:class:`~fusion.models.NomogramGroup` (one nomogram per cancer type) — and
writes what was asked:

* ``chart``: the nomogram (PDF, SVG or PNG at ``dpi``, 300 by default); for a
  group one chart per model (``<stem>_<type>.<ext>``, titled with its cancer
  type(s)) and, for a PDF, also every chart as one multi-page PDF at ``chart``;
* ``points_table``: :func:`nomogram.points_table` as CSV (a group: one block
  per model, with a ``model`` column);
* ``formulas``: :func:`nomogram.points_formulas` as text;
* ``html``: :func:`nomogram.calculator.calculator_html` (a group: a cancer-type
  selector named after the group's ``by`` column, each type routed to its
  model, risk groups at the group's cut-offs).

The chart, formulas and calculator all come from the same nomogram
specification, so they agree with ``nomofuse predict`` to the last digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["export_model", "ExportSummary", "nomograms_of"]

_CHART_SUFFIXES = (".pdf", ".svg", ".png")


@dataclass
class ExportSummary:
    """What :func:`export_model` wrote.

    Attributes
    ----------
    written : list of pathlib.Path
    models : list of str
        The models exported (one for a single nomogram; a group's keys).
    """

    written: list = field(default_factory=list)
    models: list = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"exported {len(self.models)} model(s): {', '.join(self.models)}"]
        out += [f"  wrote {p}" for p in self.written]
        return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "model"


def _is_logistic(model) -> bool:
    """Whether ``model`` (a nomogram, a model or a group) predicts a risk, not survival."""
    from nomogram import LogisticNomogram, Nomogram

    from .models.group import NomogramGroup

    if isinstance(model, Nomogram):
        return model.model_kind == "logistic"
    if isinstance(model, NomogramGroup):
        return all(isinstance(m, LogisticNomogram) for m in getattr(model, "models_", {}).values())
    return isinstance(model, LogisticNomogram)


def nomograms_of(model, *, outcome_name=None, time_unit=None):
    """The nomogram(s) of a loaded model file, with what a page and a chart need about each.

    Parameters
    ----------
    model : LogisticNomogram, CoxNomogram, Nomogram or NomogramGroup
    outcome_name, time_unit : str, optional
        Override the model's own (``Nomogram.from_model``); ignored for a saved
        Nomogram, which carries its own labels.

    Returns
    -------
    dict
        ``nomograms`` {key: Nomogram}, ``titles`` {key: str}, ``routing``
        {choice: key} or None, ``cutoffs`` {key: float or None}, ``by`` (selector
        name) or None.
    """
    from nomogram import CoxNomogram, LogisticNomogram, Nomogram

    from .models.group import NomogramGroup

    kw = {k: v for k, v in (("outcome_name", outcome_name), ("time_unit", time_unit)) if v is not None}
    if time_unit is not None and _is_logistic(model):
        raise ValueError(f"time_unit={time_unit!r} names the unit of survival times, and this is a logistic "
                         "model (no survival axes); leave it out (--time-unit is for Cox models).")
    if isinstance(model, Nomogram):
        return {"nomograms": {"model": model}, "titles": {"model": model.title}, "routing": None,
                "cutoffs": {"model": None}, "by": None}
    if isinstance(model, (LogisticNomogram, CoxNomogram)):
        nom = model.nomogram(**kw)
        return {"nomograms": {"model": nom}, "titles": {"model": nom.title}, "routing": None,
                "cutoffs": {"model": None}, "by": None}
    if isinstance(model, NomogramGroup):
        noms, titles = {}, {}
        for key in model.models_:
            nom = model.models_[key].nomogram(**kw)
            types = [t for t, k in model.routing_.items() if k == key]
            label = ", ".join(types) if types else key
            noms[key] = nom
            titles[key] = f"{label}: {nom.title}"
        return {"nomograms": noms, "titles": titles, "routing": dict(model.routing_),
                "cutoffs": dict(model.cutoffs_), "by": model.by}
    raise TypeError(
        f"export_model: a {type(model).__name__} holds no nomogram; export a LogisticNomogram, CoxNomogram, "
        "Nomogram (NomogramSpec file) or NomogramGroup model file."
    )


def export_model(model, *, chart=None, html=None, points_table=None, formulas=None, cutoff=None,
                 outcome_name=None, time_unit=None, patient=None, dpi: int = 300, chart_options=None,
                 conf_level: float = 0.95) -> ExportSummary:
    """Write the chart(s), points table, formulas and web calculator of a model.

    Parameters
    ----------
    model : LogisticNomogram, CoxNomogram, Nomogram or NomogramGroup
        A fitted model, e.g. ``nomogram.load_model("model.json")``.
    chart : path-like, optional
        ``.pdf``, ``.svg`` or ``.png``.
    html, points_table, formulas : path-like, optional
    cutoff : float or list of float, optional
        Risk-group cut-off(s) of a single model's calculator (a probability for
        logistic, a linear predictor for Cox); a group uses its own ``cutoffs_``.
    outcome_name, time_unit : str, optional
        Chart and page labels when the model file has none (e.g. a model fitted
        before these existed): "Risk of <outcome_name>", "3-year survival".
    patient : pandas.DataFrame of one row, optional
        Drawn on the chart (``NomogramDisplay``'s overlay); a group draws it on
        the chart of the patient's cancer type only (routed by ``by``).
    dpi : int, default 300
        Resolution of PNG charts (at least 300 for print).
    chart_options : dict, optional
        Passed to ``NomogramDisplay.plot`` (``fontfamily``, ``fontsize``,
        ``compact``, ``conf_int``, ``col_grid``...).
    conf_level : float, default 0.95
        Level of the calculator's confidence intervals.

    Returns
    -------
    ExportSummary
    """
    caller = "export_model"
    if chart is None and html is None and points_table is None and formulas is None:
        raise ValueError(f"{caller}: nothing to write; pass chart=, html=, points_table= or formulas=.")
    if chart is not None and Path(chart).suffix.lower() not in _CHART_SUFFIXES:
        raise ValueError(f"{caller}: chart '{chart}' must end in one of {_CHART_SUFFIXES} (PDF, SVG or PNG).")
    if not (isinstance(dpi, int) and dpi >= 72):
        raise ValueError(f"The 'dpi' parameter of {caller} must be an integer >= 72. Got {dpi!r} instead.")
    for target in (chart, html, points_table, formulas):
        if target is not None:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
    info = nomograms_of(model, outcome_name=outcome_name, time_unit=time_unit)
    noms = info["nomograms"]
    group = info["routing"] is not None
    summary = ExportSummary(models=list(noms))
    if cutoff is not None:
        if group:
            raise ValueError(f"{caller}: a nomogram group has its own cut-offs (cutoffs_); cutoff= is for a "
                             "single model.")
        info["cutoffs"] = {k: cutoff for k in noms}
    if chart is not None:
        summary.written += _charts(info, Path(chart), model, patient, dpi, dict(chart_options or {}))
    if points_table is not None:
        summary.written.append(_points_table(info, Path(points_table)))
    if formulas is not None:
        summary.written.append(_formulas(info, Path(formulas)))
    if html is not None:
        from nomogram.calculator import write_calculator

        kwargs = dict(cutoffs=info["cutoffs"], conf_level=conf_level)
        if group:
            kwargs.update(by=info["by"], routing=info["routing"], titles=info["titles"],
                          title=f"Nomogram calculator by {info['by']}")
            summary.written.append(write_calculator(html, noms, **kwargs))
        else:
            summary.written.append(write_calculator(html, noms["model"], **kwargs))
    return summary


def _patient_model(model, patient):
    from .models.group import NomogramGroup

    if patient is None or not isinstance(model, NomogramGroup):
        return None
    keys = model.route(patient)
    return str(keys.iloc[0])


def _charts(info, path: Path, model, patient, dpi, options):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    from nomogram.displays.nomogram import PUBLICATION_RC, NomogramDisplay

    noms, titles = info["nomograms"], info["titles"]
    group = info["routing"] is not None
    suffix = path.suffix.lower()
    patient_key = _patient_model(model, patient)
    written = []
    displays = {}
    for key, nom in noms.items():
        who = patient if (not group or key == patient_key) else None
        opts = dict(options)
        if group:
            opts.setdefault("title", titles[key])
        displays[key] = NomogramDisplay(nom, patient=who).plot(**opts)
    save_kw = {"dpi": dpi} if suffix == ".png" else {}
    with matplotlib.rc_context(PUBLICATION_RC):
        if not group:
            displays["model"].savefig(path, **save_kw)
            written.append(path)
        else:
            for key, disp in displays.items():
                one = path.with_name(f"{path.stem}_{_slug(key)}{path.suffix}")
                disp.savefig(one, **save_kw)
                written.append(one)
            if suffix == ".pdf":
                tmp = path.with_name(path.name + ".tmp")
                with PdfPages(tmp, metadata={"Title": "Nomograms by " + str(info["by"])}) as pdf:
                    for disp in displays.values():
                        pdf.savefig(disp.figure_, bbox_inches="tight")
                tmp.replace(path)
                written.insert(0, path)
    for disp in displays.values():
        plt.close(disp.figure_)
    return written


def _points_table(info, path: Path):
    import pandas as pd

    from nomogram import points_table

    tables = []
    for key, nom in info["nomograms"].items():
        t = points_table(nom)
        if info["routing"] is not None:
            t.insert(0, "model", key)
        tables.append(t)
    out = pd.concat(tables, ignore_index=True)
    tmp = path.with_name(path.name + ".tmp")
    out.to_csv(tmp, index=False)
    tmp.replace(path)
    return path


def _formulas(info, path: Path):
    from nomogram import points_formulas

    parts = []
    for key, nom in info["nomograms"].items():
        text = points_formulas(nom).as_text()
        if info["routing"] is not None:
            text = f"== {info['titles'][key]} ==\n{text}"
        parts.append(text)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
    return path
