"""What a study run's report shows, read back from the run's output folder.

:func:`build_content` reads ``tables/*.csv``, ``figures/*.png`` and
``run.json`` (never the in-memory objects), so the report of a run that
reused every stage is the same as the first one, and a report can be
rebuilt from an output folder alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .config import StudyConfig
from .patients import SPLITS
from .report import Figure, ReportContent

__all__ = ["build_content", "headline"]

_COMPARISON_COLUMNS = ["split", "model", "n", "events", "AUC", "AUC lower", "AUC upper", "C", "C lower",
                       "C upper", "difference", "p (DeLong)", "p (C comparison)", "NRI", "NRI lower",
                       "NRI upper", "IDI", "IDI lower", "IDI upper", "calibration intercept",
                       "calibration slope", "observed/expected", "Brier"]


def _slug(name):
    from .pipeline import _slug as s

    return s(name)


def _csv(path: Path) -> pd.DataFrame | None:
    from .csv_tables import read_table

    return read_table(path, text=["patient_id", "case_id", "model", "split", "group", "cancer type"]) \
        if path.is_file() else None


def _fig(path: Path, caption: str) -> Figure | None:
    return Figure(path, caption=caption) if path.is_file() else None


def headline(cfg: StudyConfig, comparison: pd.DataFrame) -> str:
    """One sentence: the screening model against the reference on the most external split."""
    if comparison is None or not len(comparison):
        return ""
    final = list(cfg.models)[-1]
    ref = cfg.reference_model
    split = next((s for s in ("external", "internal test", "train") if (comparison["split"] == s).any()), None)
    t = comparison[comparison["split"] == split].set_index("model")
    metric = "C" if cfg.survival else "AUC"
    pcol = "p (C comparison)" if cfg.survival else "p (DeLong)"
    if final not in t.index or ref not in t.index or final == ref:
        return ""
    a, b = t.loc[final], t.loc[ref]
    p = a.get(pcol, np.nan)
    p_txt = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    better = "higher" if a[metric] > b[metric] else "not higher"
    return (f"On the {split} split ({int(a['n'])} patients, {int(a['events'])} events), '{final}' has "
            f"{metric} {a[metric]:.3f} ({a[f'{metric} lower']:.3f}–{a[f'{metric} upper']:.3f}) against "
            f"{b[metric]:.3f} ({b[f'{metric} lower']:.3f}–{b[f'{metric} upper']:.3f}) for '{ref}': "
            f"{better}, {'DeLong test' if not cfg.survival else 'C comparison'} {p_txt}.")


def _facts(cfg: StudyConfig, run: dict) -> list:
    o = cfg.outcome
    facts = []
    if o.type == "binary":
        facts.append(("Outcome", f"{o.name or o.column} (binary; column '{o.column}')"))
    else:
        facts.append(("Outcome", f"{o.name or o.event} (time to event; '{o.time}' in {o.time_unit}, event "
                                 f"'{o.event}'); horizons {', '.join(f'{h:g}' for h in o.horizons)} {o.time_unit}"))
    facts.append(("Models per", f"cancer type (column '{cfg.cancer_type.column}')" if cfg.cancer_type is not None
                  else "the whole cohort (one model)"))
    sp = cfg.splits
    ext = (f"; external test: {sp.external.column} in {list(sp.external['values'])}" if sp.external is not None
           else "")
    facts.append(("Splits", f"random {1 - sp.internal_test:.0%} train / {sp.internal_test:.0%} internal test "
                            f"(seed {sp.seed}, stratified on {', '.join(sp.stratify) or 'nothing'}){ext}"))
    if cfg.imaging is not None:
        params = cfg.imaging.params if isinstance(cfg.imaging.params, str) else "custom parameters"
        facts.append(("Imaging", f"radiomics ({Path(params).name if isinstance(params, str) else params}); "
                                 f"regions {', '.join(cfg.imaging.regions)}"))
    if cfg.pathology is not None:
        p = cfg.pathology
        w = "randomly initialised (no pretrained weights)" if p.weights == "random" else f"weights {Path(p.weights).name}"
        facts.append(("Pathology", f"encoder {p.encoder}, {w}; tiles {p.tile} px at {p.mpp:g} µm/px; "
                                   f"pooling {', '.join(p.pooling)}"))
    facts.append(("Labels", "; ".join(f"{n}: {s.method} on {s.source if isinstance(s.source, str) else '+'.join(s.source)}"
                                      for n, s in cfg.labels.items()) or "none"))
    facts.append(("Models compared", "; ".join(
        f"{n}: {'clinical factors' if m.clinical else ''}{' + ' if m.clinical and m.labels else ''}"
        f"{' + '.join(m.labels)}" for n, m in cfg.models.items())))
    facts.append(("Reference model", cfg.reference_model))
    facts.append(("Screening model", run.get("screening_model", list(cfg.models)[-1])))
    facts.append(("Run", f"{run.get('finished', '')}; {run.get('timings', {}).get('total', 0):.0f} s"))
    return facts


def _methods(cfg: StudyConfig) -> list:
    m = []
    excl = "; ".join(f"{r['reason']} ({r['query']})" for r in cfg.clinical.exclude) or "none"
    m.append(("Participants and missing data",
              f"Patients of the clinical table were excluded, in this order and each at the first reason that "
              f"applied: the study's exclusion rules ({excl}); a missing outcome; a missing cancer type; a "
              f"missing value of any candidate factor (complete-case analysis, no imputation); no scan or slide "
              f"in the manifests, or a scan or slide whose feature extraction failed (listed under Extraction "
              f"failures). The counts are in the cohort flow. Sample size was not computed by the software."))
    if cfg.imaging is not None:
        m.append(("Imaging features",
                  f"Radiomics features (pyradiomics through imaging.extract_case) of the regions "
                  f"{', '.join(cfg.imaging.regions)}; a ring region is the peritumoral band of the given width "
                  f"in mm. Several lesions of a patient: {cfg.imaging.aggregate}. Each scan is checked for "
                  "image/mask geometry before extraction."))
    if cfg.pathology is not None:
        p = cfg.pathology
        stmt = ("The encoder was randomly initialised (no pretrained weights were available), so its features "
                "describe colour and texture only, not learned histology." if p.weights == "random"
                else "The encoder's weights were read from a local file whose SHA-256 is in run.json.")
        m.append(("Pathology features",
                  f"Tissue was detected on a thumbnail; tiles of {p.tile} px at exactly {p.mpp:g} µm/px (from "
                  f"each slide's own resolution) with at least {p.min_tissue:.0%} tissue were encoded with "
                  f"{p.encoder}. Tile features were pooled per slide ({', '.join(p.pooling)}) and per patient "
                  f"({p.aggregate}). {stmt}"))
    for name, s in cfg.labels.items():
        what = {"lasso": "a LASSO signature (the signature builder of nomogram.features: filters, then a "
                         "cross-validated penalised regression)",
                "xgboost": "gradient-boosted trees (XGBoost)",
                "early_fusion": "the early-fusion network (each modality max-pooled, projected and "
                                f"concatenated along the channel axis; the '{s.output}' head is the label)"}[s.method]
        m.append((f"Label '{name}'",
                  f"{s.description + '. ' if s.description else ''}The score is {what}, fitted on the training "
                  f"split only. On the training split each patient's score is cross-fitted ({s.folds}-fold: from "
                  "a model fitted without that patient's fold, every filter and scaler refitted inside the fold); "
                  "on the test splits it is the full training model's score, applied unchanged."))
    f = cfg.clinical_factors
    sel = {"univariable_then_backward": f"candidates with univariable likelihood-ratio p < {f.selection.p_enter:g} "
                                        "entered a multivariable model reduced by backward elimination on AIC",
           "backward": "all candidates entered a multivariable model reduced by backward elimination on AIC",
           "none": "every candidate was kept"}[f.selection.method]
    ct = (f"One logistic or Cox nomogram per cancer type (column '{cfg.cancer_type.column}'); factors "
          f"{', '.join(f.shared) or '(none)'} and the labels are in every type's model (homogeneous), the other "
          f"candidates were chosen per type (heterogeneous): {sel}. A type with fewer than "
          f"{cfg.cancer_type.min_events_per_df:g} events per degree of freedom is "
          f"{'pooled into an other model' if cfg.cancer_type.small_types == 'merge' else 'refused'}."
          if cfg.cancer_type is not None else f"One model for the whole cohort: {sel}.")
    splines = ", ".join(f"{k} ({v} knots)" for k, v in (f.splines or {}).items())
    m.append(("Models", f"{ct} Continuous factors enter linearly"
                        f"{'; restricted cubic splines for ' + splines if splines else ''}; categorical factors "
                        f"({', '.join(f.categorical) or 'none'}) as indicator variables. Estimates are rms-"
                        "identical (nomogram.LogisticNomogram / CoxNomogram). No class-imbalance method was used."))
    v = cfg.validation
    m.append(("Validation",
              f"Discrimination (AUC with DeLong 95% CI, or Harrell's C) on every split, compared with "
              f"'{cfg.reference_model}' by the paired DeLong test (or C comparison), with NRI and IDI; "
              f"calibration intercept and slope and the Brier score; decision curves at thresholds "
              f"{v.decision_curve['from']:g} to {v.decision_curve.to:g}. On the training split, optimism-corrected "
              f"indexes by the bootstrap ({v.n_boot} resamples, rms validate) and bias-corrected calibration "
              f"(rms calibrate); the labels are held fixed in these resamples. Risk groups at the "
              f"{v.risk_groups.cutoff} cut-off fitted on the training split."))
    m.append(("Limitations",
              "Labels are cross-fitted, so the training-split numbers are not optimistic through the labels, but "
              "the factor selection and the bootstrap do not repeat the label fitting. Complete-case analysis. "
              "Small cancer types give wide intervals; see the per-type section."))
    return m


def build_content(cfg: StudyConfig, out, run: dict, *, notes=()) -> ReportContent:
    """The report of the run in ``out`` (see :mod:`fusion.study.report`)."""
    out = Path(out)
    tables, figures = out / "tables", out / "figures"
    comparison = _csv(tables / "model_comparison.csv")
    splits = [s for s in SPLITS if comparison is not None and (comparison["split"] == s).any()]
    final = list(cfg.models)[-1]
    all_notes = list(notes)
    if cfg.pathology is not None and cfg.pathology.weights == "random":
        all_notes.append(f"The slide encoder ({cfg.pathology.encoder}) is randomly initialised: no pretrained "
                         "weights were used, so pathology features capture colour and texture, not learned "
                         "histology. Use pathology.weights with a local checkpoint in a real study.")
    all_notes += [f"Run note: {w}" for w in run.get("warnings", [])]
    content = ReportContent(title=cfg.name, description=cfg.description or "", notes=all_notes,
                            facts=_facts(cfg, run), headline=headline(cfg, comparison),
                            generated=run.get("finished", ""))
    content.flow = _csv(tables / "cohort_flow.csv")
    content.split_counts = _csv(tables / "split_counts.csv")
    t1 = _csv(tables / "table_one.csv")
    if t1 is not None:
        content.table_one = t1.fillna("")
    content.methods = _methods(cfg)
    ft = _csv(tables / f"factors_{_slug(final)}.csv")
    if ft is not None:
        content.factor_table = ft.set_index(ft.columns[0]).fillna("")
    for name, spec in cfg.models.items():
        coef = _csv(tables / f"coefficients_{_slug(name)}.csv")
        part = {"name": name, "description": spec.description or (
            ("clinical factors" if spec.clinical else "") + (" + " if spec.clinical and spec.labels else "")
            + " + ".join(spec.labels)), "tables": {}, "figures": []}
        if coef is not None:
            keep = [c for c in coef.columns if c in ("group", "index", "term", "Unnamed: 0", "coef", "se", "p",
                                                   "OR", "HR", "lower", "upper", "OR lower", "OR upper")]
            part["tables"]["Coefficients (per cancer-type model)"] = coef[keep] if keep else coef
        if name == final:
            part["figures"] = [_fig(p, f"Nomogram of '{name}': {p.stem.split('_')[-1]}")
                               for p in sorted(figures.glob(f"nomogram_{_slug(name)}_*.png"))]
        content.models.append(part)
    if comparison is not None:
        content.comparison = comparison[[c for c in _COMPARISON_COLUMNS if c in comparison.columns]]
        content.comparison_figures = [
            _fig(figures / f"comparison_{_slug(s)}.png",
                 f"{s}: ROC curves, calibration and decision curves of every model") for s in splits]
    val = _csv(tables / "validation.csv")
    if val is not None:
        keep = ["C (AUC)", "C", "Dxy", "R2", "Intercept", "Slope", "Emax", "B"]
        content.validation = val[val["index"].isin(keep)][["model", "cancer type model", "n", "index", "apparent",
                                                           "optimism", "corrected", "resamples"]]
    cal = sorted(figures.glob("calibration_train_*.png"))
    content.validation_figures = [_fig(p, "Bias-corrected calibration on the training split") for p in cal]
    content.decision_figures = [_fig(figures / f"decision_curve_{_slug(s)}.png", f"Decision curves, {s}")
                                for s in splits]
    dca = _csv(tables / "decision_curve.csv")
    if dca is not None and "threshold" in dca.columns:
        pick = dca[np.isclose(dca["threshold"].to_numpy(float)[:, None], [0.1, 0.2, 0.3, 0.4]).any(axis=1)]
        cols = [c for c in ("split", "threshold", "model", "net_benefit") if c in pick.columns]
        content.decision = pick[cols] if cols else None
    content.risk_groups = _csv(tables / "risk_groups.csv")
    content.risk_group_figures = [_fig(figures / f"km_{_slug(s)}.png", f"Kaplan-Meier curves of the risk groups, {s}")
                                  for s in splits]
    pc = _csv(tables / "per_cancer.csv")
    if pc is not None:
        for ctype, sub in pc.groupby("cancer type", sort=True):
            cols = [c for c in ("split", "model", "n", "events", "AUC", "AUC lower", "AUC upper", "C", "C lower",
                                "C upper", "p (DeLong)", "p (C comparison)", "note") if c in sub.columns]
            key = _slug(str(ctype))
            figs = [_fig(figures / f"nomogram_{_slug(final)}_{key}.png", f"Nomogram of '{final}' for {ctype}")]
            content.per_cancer[str(ctype)] = {"tables": {"Discrimination by split": sub[cols]}, "figures": figs}
    fail = _csv(tables / "extraction_failures.csv")
    content.failures = fail if fail is not None else pd.DataFrame()
    content.heatmaps = [_fig(p, f"Attention of slide {p.stem.replace('heatmap_', '')}")
                        for p in sorted(figures.glob("heatmap_*.png"))]
    versions = run.get("versions", {})
    content.reproducibility = [
        ("Output folder", str(out.resolve())),
        ("Study file", f"{run.get('study', {}).get('file')} (SHA-256 {run.get('study', {}).get('sha256', '')[:16]}…)"),
        ("Software", ", ".join(f"{k} {v}" for k, v in versions.items() if k not in ("platform",))),
        ("Seeds", ", ".join(f"{k}: {v}" for k, v in run.get("seeds", {}).items() if not isinstance(v, dict))),
        ("Models and bundle", "models/*.json (versioned JSON, no pickle); bundle/ scores new patients with "
                              "'nomofuse screen'"),
    ]
    inputs = pd.DataFrame([{"input": k, "path": v.get("path"), "bytes": v.get("bytes"), "sha256": v.get("sha256")}
                           for k, v in run.get("inputs", {}).items()])
    stages = pd.DataFrame([{"stage": k, "this run": run.get("stages", {}).get(k, "computed"), "seconds": v}
                           for k, v in run.get("timings", {}).items()])
    content.reproducibility_tables = {"Inputs": inputs, "Stages and timings": stages}
    return content
