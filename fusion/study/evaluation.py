"""Evaluation of a study's models: the tables and figures of the report.

Every number comes from :mod:`nomogram` and :mod:`fusion.models`:

- model comparison on every split: :func:`fusion.models.compare_models`
  (AUC with DeLong CI and DeLong test against the reference model, or
  Harrell's C and its comparison; NRI, IDI; calibration intercept and slope;
  Brier; decision curves);
- optimism-corrected indexes on the training split: :func:`nomogram.validate`
  (bootstrap, ``validation.n_boot`` resamples) for each cancer type's model;
  the labels are held fixed in the resamples (they were cross-fitted once);
- bias-corrected calibration on the training split: :func:`nomogram.calibrate`;
- risk groups: the screening model's cut-off per cancer type (binary), or
  Kaplan-Meier curves of the groups with numbers at risk (survival,
  :func:`nomogram.risk_groups`), the cut-off chosen on the training split;
- per cancer type: the comparison restricted to each type's patients.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .config import StudyConfig

__all__ = ["evaluate"]


def _slug(name: str) -> str:
    from .pipeline import _slug as slug

    return slug(name)


def _horizon(cfg: StudyConfig):
    if not cfg.survival:
        return None
    h = cfg.validation.calibration.horizon
    return float(h if h is not None else cfg.outcome.horizons[-1])


def _y(cfg, y_all, ids):
    if cfg.survival:
        return y_all.loc[ids, ["time", "event"]].reset_index(drop=True)
    return y_all.loc[ids].to_numpy()


def evaluate(cfg: StudyConfig, out: Path, groups: dict, X_all: pd.DataFrame, y_all, data: pd.DataFrame,
             split_names, screen_name: str, *, slides=None, log=print) -> list[Path]:
    """Compute and write every evaluation table and figure; return the files written.

    Figures are saved and closed; the matplotlib backend is left as the caller
    has it (a notebook keeps showing its own figures after a study run).
    """
    from fusion.models import compare_models

    from .pipeline import _savefig, _write_csv

    tables, figures = out / "tables", out / "figures"
    files: list[Path] = []
    seed = int(cfg.splits.seed)
    v = cfg.validation
    horizon = _horizon(cfg)
    ids = {s: list(data.index[data["split"] == s]) for s in split_names}
    splits = {s: (X_all.loc[ids[s]], _y(cfg, y_all, ids[s])) for s in split_names}
    reference = cfg.reference_model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        comp = compare_models(groups, splits, reference=reference, horizon=horizon,
                              conf_level=float(v.conf_level), thresholds=np.array(cfg.thresholds),
                              n_boot=min(int(v.n_boot), 200), random_state=seed)
    table = comp.table.copy()
    files.append(_write_csv(table, tables / "model_comparison.csv"))
    log("evaluation: comparison table written")

    dca_rows, cal_rows = [], []
    for split in split_names:
        disp = comp.plot(split=split)
        files += _savefig(disp.figure_, figures / f"comparison_{_slug(split)}")
        dc = comp.decision_curves[split].summary().copy()
        dc.insert(0, "split", split)
        dca_rows.append(dc)
        from nomogram.displays import DecisionCurveDisplay

        d = DecisionCurveDisplay.from_result(comp.decision_curves[split])
        d.ax_.set_title(f"Decision curve ({split})")
        files += _savefig(d.figure_, figures / f"decision_curve_{_slug(split)}")
        for model, cal in comp.calibration[split].items():
            c = pd.DataFrame(cal).copy()
            c.insert(0, "model", model)
            c.insert(0, "split", split)
            cal_rows.append(c)
    files.append(_write_csv(pd.concat(dca_rows, ignore_index=True), tables / "decision_curve.csv"))
    if cal_rows:
        files.append(_write_csv(pd.concat(cal_rows, ignore_index=True), tables / "calibration_curves.csv"))

    # -- optimism-corrected indexes (bootstrap) per model and cancer-type model, training split
    files += _validation(cfg, out, groups, X_all.loc[ids["train"]], _y(cfg, y_all, ids["train"]), log)

    # -- models: coefficients, factors, selection; nomograms of the screening model
    for name, g in groups.items():
        files.append(_write_csv(g.summary().reset_index(), tables / f"coefficients_{_slug(name)}.csv"))
        files.append(_write_csv(g.factor_table().reset_index(), tables / f"factors_{_slug(name)}.csv"))
        files.append(_write_csv(g.selection_, tables / f"selection_{_slug(name)}.csv"))
    g = groups[screen_name]
    for key in g.models_:
        files += _nomogram_figure(cfg, g, key, figures / f"nomogram_{_slug(screen_name)}_{_slug(key)}")
    log("evaluation: nomograms drawn")

    # -- risk groups of the screening model
    files += _risk_groups(cfg, out, g, screen_name, splits, ids, horizon)

    # -- per cancer type
    if cfg.cancer_type is not None:
        files += _per_cancer(cfg, out, comp, data, ids, split_names, reference, horizon)
    # -- attention heatmaps of a few slides
    if (cfg.pathology is not None and slides is not None and int(cfg.pathology.heatmaps) > 0
            and "path" in slides.columns):
        files += _heatmaps(cfg, out, slides, data, y_all, ids, split_names, log)
    return files


def _heatmaps(cfg, out, slides, data, y_all, ids, split_names, log) -> list[Path]:
    """Gated attention MIL trained on the training slides; its attention over a few test slides."""
    from pathology import AttentionHeatmapDisplay, AttentionMIL, load_features

    from .pipeline import _savefig

    train = slides[slides["patient_id"].isin(ids["train"])]
    bags = [np.asarray(load_features(h).features, dtype=np.float32) for h in train["h5"]]
    if cfg.survival:
        y = y_all.loc[train["patient_id"], ["time", "event"]].reset_index(drop=True)
    else:
        y = y_all.loc[train["patient_id"]].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mil = AttentionMIL(outcome="survival" if cfg.survival else "binary", random_state=int(cfg.splits.seed),
                           max_epochs=40).fit(bags, y)
    split = next((s for s in ("external", "internal test") if s in split_names), "train")
    pool = slides[slides["patient_id"].isin(ids[split])].sort_values("n_tiles", ascending=False)
    files = []
    for row in pool.head(int(cfg.pathology.heatmaps)).itertuples():
        disp = AttentionHeatmapDisplay.from_estimator(mil, row.path, row.h5).plot()
        disp.ax_.set_title(f"{row.case_id} ({split}): attention of the MIL model trained on the training split",
                           fontsize=9)
        files += _savefig(disp.figure_, out / "figures" / f"heatmap_{_slug(row.case_id)}")
    log(f"evaluation: attention heatmaps of {min(len(pool), int(cfg.pathology.heatmaps))} {split} slides")
    return files


def _validation(cfg, out, groups, X_train, y_train, log) -> list[Path]:
    from nomogram import calibrate, validate
    from nomogram.displays import CalibrationDisplay

    from .pipeline import _savefig, _write_csv

    import matplotlib.pyplot as plt

    v = cfg.validation
    seed = int(cfg.splits.seed)
    rows = []
    files = []
    survival = cfg.survival
    keys_train = {}
    for name, g in groups.items():
        route = g.route(X_train).to_numpy()
        for key, sub in g.models_.items():
            m = route == key
            Xk = X_train.loc[m, g.factors_[key]]
            yk = y_train[m].reset_index(drop=True) if survival else y_train[m]
            keys_train[(name, key)] = (Xk, yk)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = validate(sub, Xk, yk, B=int(v.n_boot), random_state=seed)
            except (ValueError, np.linalg.LinAlgError) as err:
                rows.append({"model": name, "cancer type model": key, "n": int(m.sum()), "index": "not computed",
                             "apparent": np.nan, "optimism": np.nan, "corrected": np.nan, "resamples": 0,
                             "note": str(err)})
                log(f"evaluation: validation of '{name}' ({key}) not computed: {err}")
                continue
            t = res.table
            for index in t.index:
                rows.append({"model": name, "cancer type model": key, "n": int(m.sum()),
                             "index": index, "apparent": t.loc[index, "index.orig"],
                             "optimism": t.loc[index, "optimism"],
                             "corrected": t.loc[index, "index.corrected"], "resamples": t.loc[index, "n"]})
            dxy = t.loc["Dxy"]
            rows.append({"model": name, "cancer type model": key, "n": int(m.sum()),
                         "index": "C (AUC)" if not survival else "C",
                         "apparent": dxy["index.orig"] / 2 + 0.5, "optimism": dxy["optimism"] / 2,
                         "corrected": dxy["index.corrected"] / 2 + 0.5, "resamples": dxy["n"]})
    files.append(_write_csv(pd.DataFrame(rows), out / "tables" / "validation.csv"))
    log(f"evaluation: bootstrap validation (B = {v.n_boot}) of {len(keys_train)} cancer-type models")

    # bias-corrected calibration of the screening model, per cancer-type model
    screen = list(groups)[-1]
    keys = [k for (n, k) in keys_train if n == screen]
    fig, axes = plt.subplots(1, len(keys), figsize=(4.4 * len(keys), 4.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        Xk, yk = keys_train[(screen, key)]
        kw = {"u": _horizon(cfg)} if survival else {}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cal = calibrate(groups[screen].models_[key], Xk, yk, B=int(v.n_boot), random_state=seed, **kw)
            CalibrationDisplay.from_result(cal, ax=ax)
        except (ValueError, np.linalg.LinAlgError) as err:  # e.g. too few patients for the smoother's grid
            ax.text(0.5, 0.5, f"not computed for {len(Xk)} patients:\n{str(err)[:80]}", ha="center",
                    va="center", fontsize=8, wrap=True, transform=ax.transAxes)
            ax.set_axis_off()
            log(f"evaluation: calibration of '{screen}' ({key}) not computed: {err}")
        ax.set_title(f"{key} (training, bootstrap)", fontsize=10)
    fig.suptitle(f"Calibration of '{screen}' on the training split (B = {v.n_boot})", fontsize=11)
    fig.tight_layout()
    files += _savefig(fig, out / "figures" / f"calibration_train_{_slug(screen)}")
    return files


def _nomogram_figure(cfg, group, key, stem) -> list[Path]:
    from .pipeline import _savefig

    name = cfg.outcome.name or "the outcome"
    kw = {}
    if cfg.survival:
        unit = cfg.outcome.time_unit
        kw["funlabel"] = [f"{h:g}-{unit[:-1]} survival" for h in cfg.outcome.horizons]
    else:
        kw["funlabel"] = f"Risk of {name}"
    try:
        nom = group.nomogram(key, **kw)
    except TypeError:
        nom = group.nomogram(key)
    names = {a.predictor: a.predictor.replace("_", " ") for a in nom.axes if a.predictor}
    names.update(cfg.clinical_factors.display_names or {})
    what = f"survival ({name})" if cfg.survival else f"risk of {name}"
    disp = nom.plot(labels=names, title=f"{key.capitalize()}: nomogram of the {what}")
    return _savefig(disp.figure_, stem, dpi=100)


def _risk_groups(cfg, out, group, screen_name, splits, ids, horizon) -> list[Path]:
    from .pipeline import _savefig, _write_csv

    files = []
    if not cfg.survival:
        rows = []
        for split, (X, y) in splits.items():
            rg = group.risk_group(X).to_numpy()
            for lab in ("low", "high"):
                m = rg == lab
                rows.append({"split": split, "risk group": lab, "patients": int(m.sum()),
                             "events": int(np.asarray(y)[m].sum()),
                             "observed rate": float(np.asarray(y)[m].mean()) if m.any() else np.nan})
        t = pd.DataFrame(rows)
        t.insert(0, "model", screen_name)
        files.append(_write_csv(t, out / "tables" / "risk_groups.csv"))
        return files
    from nomogram import risk_groups
    from nomogram.displays import KaplanMeierDisplay

    year = {"days": 365.25, "weeks": 52.18, "months": 12.0, "years": 1.0}[cfg.outcome.time_unit]
    Xtr, ytr = splits["train"]
    score_tr = 1 - group.predict_survival(Xtr, times=[horizon]).to_numpy().ravel()
    rule = cfg.validation.risk_groups.cutoff
    rule = rule if rule in ("median", "maxstat") or isinstance(rule, (int, float)) else "median"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = risk_groups(ytr["time"], ytr["event"], score_tr, cutoff=rule, year=year)
    cut = float(fitted.cutoff)
    rows = []
    for split, (X, y) in splits.items():
        score = 1 - group.predict_survival(X, times=[horizon]).to_numpy().ravel()
        if (score > cut).all() or (score <= cut).all():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = risk_groups(y["time"], y["event"], score, cutoff=cut, year=year,
                              landmarks=[float(h) for h in cfg.outcome.horizons])
        s = res.summary().reset_index()
        s.insert(0, "split", split)
        rows.append(s)
        disp = KaplanMeierDisplay.from_result(res, risk_table_times=[0, *cfg.outcome.horizons],
                                                   xlabel=f"Time ({cfg.outcome.time_unit})")
        disp.figure_.suptitle(f"Risk groups ({split}); cut-off {cut:.3f} ({rule}, training split)", fontsize=10)
        files += _savefig(disp.figure_, out / "figures" / f"km_{_slug(split)}")
    if rows:
        files.append(_write_csv(pd.concat(rows, ignore_index=True), out / "tables" / "risk_groups.csv"))
    return files


def _per_cancer(cfg, out, comp, data, ids, split_names, reference, horizon) -> list[Path]:
    from fusion.models import compare_predictions

    from .pipeline import _write_csv

    rows = []
    for split in split_names:
        risks = comp.risks[split]
        scores = comp.scores[split]
        y = comp.y[split]
        ctype = data.loc[ids[split], "cancer_type"].to_numpy()
        for c in sorted(set(ctype)):
            m = ctype == c
            ysub = y[m] if not cfg.survival else y.iloc[np.flatnonzero(m)].reset_index(drop=True)
            events = ysub["event"].sum() if cfg.survival else np.sum(ysub)
            if m.sum() < 5 or events < 2 or (not cfg.survival and events > m.sum() - 2):
                rows.append({"cancer type": c, "split": split, "n": int(m.sum()), "events": int(events),
                             "note": "too few patients or events to evaluate"})
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = compare_predictions(ysub, risks.iloc[np.flatnonzero(m)].reset_index(drop=True),
                                        scores=scores.iloc[np.flatnonzero(m)].reset_index(drop=True)
                                        if cfg.survival else None,
                                        reference=reference, horizon=horizon, split=split,
                                        conf_level=float(cfg.validation.conf_level), n_boot=50,
                                        random_state=int(cfg.splits.seed))
            t = r.table.copy()
            t.insert(0, "cancer type", c)
            t["note"] = ""
            rows.append(t)
    frames = [r if isinstance(r, pd.DataFrame) else pd.DataFrame([r]) for r in rows]
    return [_write_csv(pd.concat(frames, ignore_index=True), out / "tables" / "per_cancer.csv")]
