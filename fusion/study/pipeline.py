"""A whole study from its study file: :func:`run_study` (``nomofuse run study.yaml --out DIR``).

The run goes through the existing mechanisms, stage by stage:

1. **patients**: the clinical table, the study's exclusions and incomplete
   records (:mod:`fusion.study.patients`);
2. **imaging / pathology features**: radiomics per scan and tile features per
   slide on the cohort runner (content-keyed per-case cache, resume, failure
   records; :mod:`fusion.study.features`);
3. **cohort**: patients without a usable scan or slide are excluded (with the
   reason), the rest split into train / internal test / external;
4. **labels**: each label (LASSO or XGBoost :class:`~fusion.models.ModalityLabel`,
   or the :class:`~fusion.models.EarlyFusion` network) is fitted on the
   training split, *cross-fitted* there and applied unchanged to the test splits;
5. **models**: one :class:`~fusion.models.NomogramGroup` per model of the
   study (one nomogram per cancer type, shared and selected factors);
6. **evaluation**: :func:`~fusion.models.compare_models` on every split
   (AUC or C with CI, DeLong against the reference model, NRI/IDI,
   calibration, decision curves), bootstrap validation and calibration on the
   training split, risk groups, per-cancer results, figures;
7. **bundle** (what ``nomofuse screen`` needs) and **report** (``report.html``).

Every stage records a key of what it depends on (:mod:`fusion.study.stages`);
a re-run skips stages whose key and files are unchanged, so a changed model
setting refits that model and the evaluation but never extracts features
again, and a run killed mid-way resumes where it stopped.

Outputs under ``DIR``: ``models/`` (JSON), ``tables/`` (CSV), ``figures/``
(PNG and PDF), ``features/`` (feature tables, slide HDF5 files),
``bundle/``, ``report.html`` and ``run.json`` (settings, input checksums,
software versions, seeds, timings, what each stage did).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import FusionError
from .config import StudyConfig, StudyFileError, load_study
from .csv_tables import read_table
from .patients import SPLITS, read_clinical, select_patients, split_patients
from .stages import StageStore, digest, file_record, file_sha256

__all__ = ["run_study", "StudyRun", "label_scores", "model_table"]

RUN_FORMAT = "nomofuse.study.Run"


def _feature_stage(store, name, key, feat_path, fail_path, unit, log, *, start, extract, outputs=None):
    """Run one modality's feature extraction, or reuse its finished stage.

    Returns the feature table and the failures table. ``extract()`` returns
    the extraction (``features``, ``failures``, ``n_computed``, ``n_cached``);
    ``outputs(features)`` lists further files the stage owns (checked on
    reuse). No extracted case at all stops the study (:func:`_require_some`).
    """
    if store.fresh(name, key):
        table = pd.read_parquet(feat_path)
        fail = pd.read_csv(fail_path, dtype=str).fillna("")
        log(f"{name}: reused ({len(table)} {unit}s)")
        return table, fail
    t = time.perf_counter()
    log(f"{name}: {start}")
    ex = extract()
    table, fail = ex.features, ex.failures
    table.to_parquet(feat_path)
    _write_csv(fail, fail_path)
    _require_some(table, fail, unit, fail_path)
    files = [feat_path, fail_path] + (list(outputs(table)) if outputs is not None else [])
    store.done(name, key, files, time.perf_counter() - t, {"computed": ex.n_computed, "cached": ex.n_cached})
    log(f"{name}: {len(table)} {unit}s extracted ({ex.n_computed} computed, {ex.n_cached} from cache), "
        f"{len(fail)} failed")
    return table, fail


def _require_some(features: pd.DataFrame, failures: pd.DataFrame, what: str, failures_file: Path) -> None:
    """Stop the study with the reasons when no case of a modality could be extracted."""
    if len(features):
        return
    reasons = failures["message"].astype(str).value_counts().head(3) if "message" in failures else pd.Series(dtype=int)
    detail = "; ".join(f"{n}× {r[:200]}" for r, n in reasons.items()) or "no case was listed"
    raise FusionError(f"no {what} could be extracted ({len(failures)} failed: {detail}). Every failure is "
                      f"listed in {failures_file}; fix the inputs or the settings it names and run again "
                      "(finished cases are reused from the cache).")


@dataclass
class StudyRun:
    """What :func:`run_study` produced.

    Attributes
    ----------
    out : Path
    report : Path
        ``report.html``.
    run_json : Path
    comparison : DataFrame
        The model comparison (one row per split and model).
    stages : dict
        Stage -> ``"computed"`` or ``"reused"``.
    seconds : float
        Wall time.
    failures : DataFrame
        Extraction failures.
    headline : str
    """

    out: Path
    report: Path
    run_json: Path
    bundle: Path
    comparison: pd.DataFrame
    stages: dict
    seconds: float
    failures: pd.DataFrame
    headline: str = ""
    timings: dict = field(default_factory=dict)


def _slug(name: str) -> str:
    s = "".join(ch if ch.isalnum() else "_" for ch in str(name).lower())
    while "__" in s:
        s = s.replace("__", "_")
    return s.strip("_") or "model"


def _write_csv(df: pd.DataFrame, path: Path, index: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    df.to_csv(tmp, index=index, float_format="%.10g")
    os.replace(tmp, path)
    return path


def _savefig(fig, stem: Path, dpi: int = 110) -> list[Path]:
    import matplotlib.pyplot as plt

    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in ("png", "pdf"):
        p = stem.with_suffix(f".{ext}")
        fig.savefig(p, dpi=dpi if ext == "png" else None, bbox_inches="tight",
                    metadata={"CreationDate": None} if ext == "pdf" else {"Software": None})
        out.append(p)
    plt.close(fig)
    return out


def _versions() -> dict:
    from importlib import metadata

    names = ["nomofuse", "numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "PyYAML", "SimpleITK",
             "pyradiomics-bhklab", "torch", "timm", "openslide-python", "openslide-bin", "xgboost", "h5py"]
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            pass
    return out


def _files_state(manifest: pd.DataFrame, columns) -> list:
    """Path, size and modification time of every input file of a manifest (a replaced file changes it).

    The stage is skipped only when this is unchanged; when it changes, the cohort runner's
    content-keyed per-case cache still reuses every case whose files' content is the same.
    """
    state = []
    for c in columns:
        if c not in manifest.columns:
            continue
        for p in manifest[c].dropna():
            try:
                st = os.stat(p)
                state.append((str(p), st.st_size, st.st_mtime_ns))
            except OSError:
                state.append((str(p), None, None))
    return state


# ------------------------------------------------------------------------------------------
# Labels
# ------------------------------------------------------------------------------------------
def _label_inputs(cfg: StudyConfig, spec, imaging: pd.DataFrame | None, slides: pd.DataFrame | None):
    """Feature table and groups for a LASSO/XGBoost label of one modality."""
    from .features import SIZE_COLUMN, region_columns

    source = spec.source if isinstance(spec.source, str) else spec.source[0]
    if source == "imaging":
        regions = list(spec.regions or cfg.imaging.regions)
        cols = [c for r in regions for c in region_columns(imaging.columns, r)]
        if not cols:
            raise StudyFileError(f"label regions {regions} match no imaging feature column.")
        X = imaging[cols + ([SIZE_COLUMN] if SIZE_COLUMN in imaging.columns and SIZE_COLUMN not in cols
                            else [])]
        return X, imaging["patient_id"].to_numpy(), cfg.imaging.aggregate, SIZE_COLUMN
    feats = slides
    cols = [c for c in feats.columns if str(c).startswith(("mean_", "max_"))]
    return feats[cols], feats["patient_id"].to_numpy(), cfg.pathology.aggregate, None


def _early_fusion_params(spec) -> dict:
    params = dict(spec.params or {})
    if "epochs" in params:
        params["max_epochs"] = params.pop("epochs")
    return params


def fit_label(cfg: StudyConfig, name: str, spec, train_ids, imaging, slides, y_train, *, bags=None):
    """Fit one label on the training patients; returns (fitted object, cross-fitted scores Series)."""
    outcome = "survival" if cfg.survival else "binary"
    seed = int(cfg.splits.seed)
    if spec.method == "early_fusion":
        from fusion.models import EarlyFusion

        net = EarlyFusion(outcome=outcome, cv=int(spec.folds), random_state=seed, **_early_fusion_params(spec))
        img, path = bags(train_ids)
        oof = net.fit_transform(img, path, y_train, patients=list(train_ids))
        return net, oof
    from fusion.models import ModalityLabel

    X, groups, aggregate, size = _label_inputs(cfg, spec, imaging, slides)
    rows = np.isin(groups, list(train_ids))
    yrows = _rows_outcome(y_train, train_ids, groups[rows], cfg.survival)
    params = dict(spec.params or {})
    label = ModalityLabel(spec.method, outcome=outcome, name=name,
                          aggregate=aggregate if len(set(groups)) < len(groups) else None,
                          size_column=size if aggregate == "largest" else None, params=params or None,
                          cv=int(spec.folds), random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        oof = label.fit_transform(X[rows].reset_index(drop=True), yrows, groups=groups[rows])
    return label, oof[name]


def _rows_outcome(y_train, train_ids, row_patients, survival):
    """The outcome of each feature row, from its patient's."""
    pos = {p: i for i, p in enumerate(train_ids)}
    idx = np.array([pos[p] for p in row_patients])
    if survival:
        return y_train.iloc[idx].reset_index(drop=True)
    return np.asarray(y_train)[idx]


def label_scores(cfg_or_spec, name: str, spec, fitted, ids, imaging, slides, *, bags=None) -> pd.Series:
    """Scores of the patients ``ids`` from a fitted label (NaN for a patient without the modality)."""
    if spec.method == "early_fusion":
        img, path = bags(ids)
        out = fitted.transform(img, path, patients=list(ids))
        column = {"fused": "fused_score", "imaging": "imaging_label", "pathology": "pathology_label"}[spec.output]
        return out[column].rename(name)
    X, groups, _, _ = _label_inputs(cfg_or_spec, spec, imaging, slides)
    rows = np.isin(groups, list(ids))
    if not rows.any():
        return pd.Series(np.nan, index=pd.Index(list(ids)), name=name)
    s = fitted.transform(X[rows].reset_index(drop=True), groups=groups[rows])[name]
    return s.reindex(list(ids)).rename(name)


def _early_fusion_scores(cfg, spec, name, out, store, net_key, train_ids, data, imaging, slides, y_train,
                         bags, log):
    """The early-fusion network's three scores for every patient (trained once per settings)."""
    from fusion.models import EarlyFusion

    tag = net_key[:10]
    model_path = out / "models" / "labels" / f"early_fusion_{tag}.json"
    scores_path = out / "features" / "labels" / f"early_fusion_{tag}.csv"
    stage = f"early fusion {tag}"
    column = {"fused": "fused_score", "imaging": "imaging_label", "pathology": "pathology_label"}[spec.output]
    if store.fresh(stage, net_key):
        log(f"label {name}: reused (early-fusion network {tag}, {spec.output} head)")
        scores = read_table(scores_path, text=["patient_id"]).set_index("patient_id")
        return scores[column].rename(name), model_path
    t = time.perf_counter()
    log(f"label {name}: early-fusion network {tag} ({spec.folds}-fold cross-fitting; {spec.output} head)")
    net = EarlyFusion(outcome="survival" if cfg.survival else "binary", cv=int(spec.folds),
                      random_state=int(cfg.splits.seed), **_early_fusion_params(spec))
    img, path = bags(train_ids)
    oof = net.fit_transform(img, path, y_train, patients=list(train_ids))
    others = [p for p in data.index if p not in set(train_ids)]
    img, path = bags(others)
    rest = net.transform(img, path, patients=others)
    scores = pd.concat([oof, rest]).reindex(data.index)
    scores.index.name = "patient_id"
    net.to_json(model_path)
    _write_csv(scores, scores_path, index=True)
    files = [model_path, scores_path] + [p for p in model_path.parent.glob(f"early_fusion_{tag}.*")
                                         if p != model_path]
    store.done(stage, net_key, files, time.perf_counter() - t)
    return scores[column].rename(name), model_path


# ------------------------------------------------------------------------------------------
# Models
# ------------------------------------------------------------------------------------------
def model_table(cfg: StudyConfig, data: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """The design table of every model: ``cancer_type``, candidate factors and label scores."""
    X = data[["cancer_type", *cfg.clinical_factors.candidates]].copy()
    for c in labels.columns:
        X[c] = labels[c].reindex(X.index)
    return X


def _group(cfg: StudyConfig, spec, X_train, y_train):
    """Build and fit the NomogramGroup of one model."""
    if isinstance(y_train, pd.DataFrame):  # the training outcome is positional: give it the patients' ids
        y_train = y_train.set_axis(X_train.index)

    f = cfg.clinical_factors
    labels = list(spec.labels)
    shared = list(labels)
    candidates = []
    specific = "select"
    if spec.clinical:
        shared = list(f.shared) + labels
        candidates = [c for c in f.candidates if c not in f.shared]
        if isinstance(f.specific, str) and f.specific == "none" and cfg.cancer_type is not None and candidates:
            # one selection on the pooled training split; the chosen factors are shared by all types
            pooled = _group_object(cfg, shared, candidates, "select")
            Xp = X_train.assign(cancer_type="all")
            pooled.fit(Xp[["cancer_type", *shared, *candidates]], y_train)
            shared = list(pooled.factors_["all"])
            candidates, specific = [], {}
        elif not isinstance(f.specific, str):
            specific = {k: list(v) for k, v in f.specific.items()}
    else:
        specific = {}
    if not candidates and specific == "select":
        specific = {}
    group = _group_object(cfg, shared, candidates, specific)
    cols = ["cancer_type", *dict.fromkeys([*shared, *candidates,
                                           *[c for v in (specific.values() if isinstance(specific, dict) else [])
                                             for c in v]])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        group.fit(X_train[cols], y_train)
    return group


def _group_object(cfg, shared, candidates, specific):
    from fusion.models import NomogramGroup

    f = cfg.clinical_factors
    sel = f.selection
    alpha = float(sel.p_enter) if sel.method == "univariable_then_backward" else 0.999999
    if sel.method == "none" and candidates:
        alpha = 0.999999
    cut = cfg.validation.risk_groups.cutoff
    survival = cfg.survival
    if isinstance(cut, (int, float)) and not isinstance(cut, bool):
        cutoff = float(cut)
    elif cut == "youden" and not survival:
        cutoff = "youden"
    else:
        cutoff = "median"
    ct = cfg.cancer_type
    return NomogramGroup(
        by="cancer_type", shared=list(shared), specific=specific,
        candidates=list(candidates) if specific == "select" else None,
        model="cox" if survival else "logistic", alpha=alpha,
        selection="none" if sel.method == "none" else "backward_aic",
        min_events_per_df=float(ct.min_events_per_df) if ct is not None else 10.0,
        small_groups=("merge" if ct is not None and ct.small_types == "merge" else "raise"),
        splines={k: int(v) for k, v in (f.splines or {}).items()} or None,
        categorical=[c for c in f.categorical] or None,
        times=[float(h) for h in cfg.outcome.horizons] if survival else None,
        cutoff=cutoff)


# ------------------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------------------
class _Log:
    def __init__(self, echo, quiet):
        self.echo = echo
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, msg):
        if not self.quiet and self.echo is not None:
            self.echo(f"[{time.perf_counter() - self.t0:6.1f}s] {msg}")


def run_study(config, out, *, jobs: int | None = None, progress: bool = True, force: bool = False,
              echo=print, quiet: bool = False, notes=()) -> StudyRun:
    """Run the study described by ``config`` and write everything under ``out``.

    Parameters
    ----------
    config : StudyConfig or path
        A checked study (:func:`~fusion.study.load_study`) or the study file.
    out : path
        Output folder (created). A previous run's folder is reused: stages
        whose inputs did not change are not recomputed.
    jobs : int, optional
        Worker processes for extraction (default: the study file's ``run.jobs``).
    progress : bool, default True
        Progress bars during extraction.
    force : bool, default False
        Recompute every stage (per-case extraction results still come from
        the cohort runner's cache).
    echo : callable, default print
        Where progress lines go.
    quiet : bool, default False
        No progress lines.
    notes : sequence of str
        Statements added at the top of the report (``nomofuse demo`` states
        the synthetic cohort there).

    Returns
    -------
    StudyRun

    Raises
    ------
    OutputLockedError
        Another run is writing the same folder (it holds ``out/run.json.lock``).
    """
    from fusion.cohort.lock import OutputLock

    config = config if isinstance(config, StudyConfig) else load_study(config)  # a bad file creates nothing
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with OutputLock(out / "run.json", command=f"nomofuse run (study {config.source or config.name})"):
        return _run_study(config, out, jobs=jobs, progress=progress, force=force, echo=echo, quiet=quiet,
                          notes=notes)


def _run_study(config, out, *, jobs, progress, force, echo, quiet, notes) -> StudyRun:
    """:func:`run_study` while holding the folder's lock."""
    t_start = time.perf_counter()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    cfg = config if isinstance(config, StudyConfig) else load_study(config)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log = _Log(echo, quiet)
    store = StageStore(out, force=force)
    jobs = int(jobs or cfg.run.jobs)
    cache_dir = Path(cfg.run.cache_dir) if cfg.run.cache_dir else out / "cache"
    seed = int(cfg.splits.seed)
    survival = cfg.survival
    for sub in ("models", "tables", "figures", "features"):
        (out / sub).mkdir(exist_ok=True)
    if cfg.imaging is not None and "habitats" in cfg.imaging.regions:
        raise StudyFileError(
            "imaging.regions holds 'habitats', which 'nomofuse run' does not run yet (habitat clustering "
            "must be fitted on the training split, then applied per scan). Use imaging.HabitatModel from "
            "Python for now, or remove 'habitats' from imaging.regions and from the labels' regions.")

    # ---------------------------------------------------------------- patients
    t = time.perf_counter()
    clinical = read_clinical(cfg)
    first = select_patients(cfg, clinical)
    eligible = list(first.data.index)
    inputs = {"clinical table": {"path": cfg.clinical.table, **file_record(cfg.clinical.table)}}
    store.seconds["patients"] = round(time.perf_counter() - t, 3)
    log(f"patients: {len(clinical)} in the clinical table, {len(eligible)} eligible before imaging/slides")

    # ---------------------------------------------------------------- features
    failures = []
    modality_exclusions: dict = {}
    imaging = slides = None
    if cfg.imaging is not None:
        from .features import extract_imaging, imaging_kwargs, imaging_manifest

        manifest = imaging_manifest(cfg, eligible)
        inputs["imaging manifest"] = {"path": cfg.imaging.manifest, **file_record(cfg.imaging.manifest)}
        _, ikey = imaging_kwargs(cfg)
        key = digest("imaging", ikey, file_sha256(cfg.imaging.manifest), sorted(eligible),
                     _files_state(manifest, ("image", "mask", "organ_mask")))
        imaging, ifail = _feature_stage(
            store, "imaging features", key, out / "features" / "imaging.parquet",
            out / "features" / "imaging_failures.csv", "scan", log,
            start=f"{len(manifest)} scans, {jobs} worker(s)",
            extract=lambda: extract_imaging(cfg, manifest, cache_dir=cache_dir / "imaging", jobs=jobs,
                                            scheduler=cfg.run.scheduler, progress=progress))
        failures.append(ifail)
        have = set(imaging["patient_id"])
        listed = set(manifest["patient_id"])
        modality_exclusions["no scan in imaging.manifest"] = set(eligible) - listed
        modality_exclusions["scan extraction failed"] = listed - have
    if cfg.pathology is not None:
        from .features import extract_pathology, pathology_kwargs, slide_manifest

        manifest = slide_manifest(cfg, eligible)
        inputs["slide manifest"] = {"path": cfg.pathology.manifest, **file_record(cfg.pathology.manifest)}
        slide_dir = out / "features" / "slides"
        _, pkey = pathology_kwargs(cfg, slide_dir)
        key = digest("pathology", pkey, file_sha256(cfg.pathology.manifest), sorted(eligible),
                     _files_state(manifest, ("path",)))
        weights = "random init" if cfg.pathology.weights == "random" else "local weights"
        slides, sfail = _feature_stage(
            store, "pathology features", key, out / "features" / "slides.parquet",
            out / "features" / "slide_failures.csv", "slide", log,
            start=f"{len(manifest)} slides, encoder {cfg.pathology.encoder} ({weights}), {jobs} worker(s)",
            extract=lambda: extract_pathology(cfg, manifest, out_dir=slide_dir, cache_dir=cache_dir / "slides",
                                              jobs=jobs, scheduler=cfg.run.scheduler, progress=progress),
            outputs=lambda table: [Path(p) for p in table["h5"]])
        failures.append(sfail)
        have = set(slides["patient_id"])
        listed = set(manifest["patient_id"])
        modality_exclusions["no slide in pathology.manifest"] = set(eligible) - listed
        modality_exclusions["slide extraction failed"] = listed - have
    failures = (pd.concat(failures, ignore_index=True) if failures
                else pd.DataFrame(columns=["modality", "case_id", "patient_id", "stage", "message"]))
    _write_csv(failures, out / "tables" / "extraction_failures.csv")

    # ---------------------------------------------------------------- cohort and split
    t = time.perf_counter()
    sel = select_patients(cfg, clinical, modalities={k: v for k, v in modality_exclusions.items() if v})
    data = sel.data
    data.insert(0, "split", split_patients(cfg, data))
    split_names = [s for s in SPLITS if (data["split"] == s).any()]
    ev = "event" if survival else "y"
    counts = (data.groupby("split", sort=False)
              .agg(patients=(ev, "size"), events=(ev, "sum")).reindex(split_names).reset_index())
    counts["events"] = counts["events"].astype(int)
    if cfg.cancer_type is not None:
        per = data.groupby(["split", "cancer_type"]).size().unstack(fill_value=0).reindex(split_names)
        counts = counts.merge(per.reset_index(), on="split")
    _write_csv(data.reset_index(), out / "tables" / "cohort.csv")
    _write_csv(sel.flow, out / "tables" / "cohort_flow.csv")
    _write_csv(sel.excluded, out / "tables" / "excluded_patients.csv")
    _write_csv(counts, out / "tables" / "split_counts.csv")
    cohort_key = digest(data.reset_index().to_csv(index=False))
    t1 = _table_one(cfg, data)
    _write_csv(t1, out / "tables" / "table_one.csv")
    store.seconds["cohort"] = round(time.perf_counter() - t, 3)
    log("cohort: " + ", ".join(f"{r.split} {r.patients} ({r.events} events)" for r in counts.itertuples()))
    for split, n_ev in zip(counts["split"], counts["events"]):
        if n_ev == 0 or n_ev == int(counts.loc[counts["split"] == split, "patients"].iloc[0]):
            raise StudyFileError(f"the {split} split has {n_ev} events among its patients; every split needs "
                                 "patients with and without the outcome. Check the outcome column or the splits.")

    train_ids = list(data.index[data["split"] == "train"])
    y_all = data[["time", "event"]] if survival else data["y"]
    y_train = (data.loc[train_ids, ["time", "event"]].reset_index(drop=True) if survival
               else data.loc[train_ids, "y"].to_numpy())

    # ---------------------------------------------------------------- labels
    bag_cache: dict = {}

    def bags(ids):
        ids = list(ids)
        img = None
        if imaging is not None:
            from .features import SIZE_COLUMN

            cols = [c for c in imaging.columns if c not in ("case_id", "patient_id")]
            per = {}
            for p, g in imaging.groupby("patient_id"):
                if cfg.imaging.aggregate == "largest" and SIZE_COLUMN in g.columns:
                    g = g.sort_values(SIZE_COLUMN, ascending=False).head(1)
                per[p] = g[cols].to_numpy(np.float32).T  # channels x lesions: a bag of lesions
            img = [per.get(p) for p in ids]
        path = None
        if slides is not None:
            from .features import slide_bags

            missing = [p for p in ids if p not in bag_cache]
            if missing:
                bag_cache.update(zip(missing, slide_bags(slides, missing)))
            path = [bag_cache[p] for p in ids]
        return img, path

    label_frames, label_keys, fitted_labels = {}, {}, {}
    run_warnings: list[str] = []
    feat_keys = {"imaging": digest(pd.util.hash_pandas_object(imaging, index=False).sum())
                 if imaging is not None else None,
                 "pathology": digest(list(slides["h5_sha256"])) if slides is not None else None}
    (out / "models" / "labels").mkdir(parents=True, exist_ok=True)
    (out / "features" / "labels").mkdir(parents=True, exist_ok=True)
    used = {lab for m in cfg.models.values() for lab in m.labels}
    for name, spec in cfg.labels.items():
        if name not in used:
            log(f"label {name}: not used by any model, not fitted")
            continue
        src = [spec.source] if isinstance(spec.source, str) else list(spec.source)
        key = digest("label", spec.to_dict(), [feat_keys[s] for s in src], cohort_key, cfg.digest("outcome"))
        scores_path = out / "features" / "labels" / f"{_slug(name)}.csv"
        label_keys[name] = key
        if spec.method == "early_fusion":
            t = time.perf_counter()
            s, model_path = _early_fusion_scores(cfg, spec, name, out, store, digest(
                "early_fusion", {k: v for k, v in spec.to_dict().items() if k not in ("output", "description")},
                [feat_keys[x] for x in src], cohort_key, cfg.digest("outcome")), train_ids, data, imaging, slides,
                y_train, bags, log)
            _write_csv(s.to_frame(), scores_path, index=True)
            label_frames[name] = s
            fitted_labels[name] = model_path
            store.seconds[f"label {name}"] = round(time.perf_counter() - t, 3)
            continue
        model_path = out / "models" / "labels" / f"{_slug(name)}.json"
        stage = f"label {name}"
        if store.fresh(stage, key):
            label_frames[name] = read_table(scores_path, text=["patient_id"]).set_index("patient_id")[name]
            fitted_labels[name] = model_path
            log(f"label {name}: reused")
            continue
        t = time.perf_counter()
        log(f"label {name}: {spec.method} on {', '.join(src)} ({spec.folds}-fold cross-fitting)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted, train_scores = fit_label(cfg, name, spec, train_ids, imaging, slides, y_train)
        for w in caught:
            if issubclass(w.category, (UserWarning, RuntimeWarning)) and "StatisticalWarning" in w.category.__name__:
                run_warnings.append(f"label {name}: {w.message}")
                log(f"label {name}: {w.message}")
        fitted.to_json(model_path)
        others = [p for p in data.index if p not in set(train_ids)]
        test_scores = label_scores(cfg, name, spec, fitted, others, imaging, slides, bags=bags)
        s = pd.concat([train_scores.rename(name), test_scores]).reindex(data.index)
        s.index.name = "patient_id"
        _write_csv(s.to_frame(), scores_path, index=True)
        store.done(stage, key, [scores_path, model_path], time.perf_counter() - t)
        label_frames[name] = s
        fitted_labels[name] = model_path
    labels = pd.DataFrame(label_frames).reindex(data.index) if label_frames else pd.DataFrame(index=data.index)
    if labels.isna().any().any():
        bad = labels.columns[labels.isna().any()].tolist()
        raise RuntimeError(f"labels {bad} have no score for some analysed patients; this is a bug in the "
                           "pipeline (every analysed patient has every modality).")
    X_all = model_table(cfg, data, labels)
    _write_csv(X_all.assign(split=data["split"]).reset_index(), out / "tables" / "model_inputs.csv")

    # ---------------------------------------------------------------- models
    groups, model_keys = {}, {}
    X_train = X_all.loc[train_ids]
    for name, spec in cfg.models.items():
        key = digest("model", spec.to_dict(), cfg.digest("clinical_factors", "cancer_type", "outcome"),
                     [label_keys[l] for l in spec.labels], cohort_key,
                     cfg.validation.risk_groups.to_dict())
        path = out / "models" / f"{_slug(name)}.json"
        model_keys[name] = key
        from fusion.models import NomogramGroup

        if store.fresh(f"model {name}", key):
            groups[name] = NomogramGroup.from_json(path)
            log(f"model {name}: reused")
            continue
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                group = _group(cfg, spec, X_train, y_train)
            except ValueError as err:
                raise StudyFileError(
                    f"model '{name}' cannot be fitted on the training split ({len(train_ids)} patients): {err} "
                    "In the study file: lower cancer_type.min_events_per_df, set cancer_type.small_types: merge, "
                    "or give the model fewer factors.") from None
        for w in caught:
            if "StatisticalWarning" in w.category.__name__:
                run_warnings.append(f"model {name}: {w.message}")
                log(f"model {name}: {w.message}")
        group.to_json(path)
        store.done(f"model {name}", key, [path], time.perf_counter() - t)
        groups[name] = group
        log(f"model {name}: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in group.factors_.items()))

    # ---------------------------------------------------------------- evaluation
    from . import evaluation

    eval_key = digest("evaluation", model_keys, cfg.digest("validation"), cohort_key)
    screen_name = list(cfg.models)[-1]
    if store.fresh("evaluation", eval_key):
        log("evaluation: reused")
    else:
        t = time.perf_counter()
        log(f"evaluation: {len(groups)} models on {len(split_names)} splits (bootstrap B = {cfg.validation.n_boot})")
        files = evaluation.evaluate(cfg, out, groups, X_all, y_all, data, split_names, screen_name,
                                    slides=slides, log=log)
        store.done("evaluation", eval_key, files, time.perf_counter() - t)

    # ---------------------------------------------------------------- bundle
    from .bundle import write_bundle

    t = time.perf_counter()
    bundle = write_bundle(cfg, out, screen_name, groups[screen_name], fitted_labels)
    store.seconds["bundle"] = round(time.perf_counter() - t, 3)

    # ---------------------------------------------------------------- run.json and report
    seconds = time.perf_counter() - t_start
    run = {
        "format": RUN_FORMAT, "version": 1,
        "study": {"name": cfg.name, "file": cfg.source, "sha256": digest(cfg.text)},
        "settings": cfg.to_dict(),
        "inputs": inputs,
        "versions": _versions(),
        "seeds": {"splits": seed, "labels": seed, "cross-fitting folds": {n: int(s.folds) for n, s in cfg.labels.items()},
                  "bootstrap": seed, "encoder": ("random-init:0" if cfg.pathology is not None
                                                 and cfg.pathology.weights == "random" else None)},
        "stages": dict(store.ran),
        "timings": {**store.seconds, "total": round(seconds, 3)},
        "started": started, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(sys.argv),
        "screening_model": screen_name,
        "warnings": run_warnings,
    }
    if cfg.pathology is not None:
        from .features import pathology_kwargs

        _, pk = pathology_kwargs(cfg, out)
        run["encoder"] = {"name": cfg.pathology.encoder, "weights": cfg.pathology.weights,
                          "weights_sha256": pk["weights"],
                          "random_init": cfg.pathology.weights == "random"}
    run_json = out / "run.json"
    tmp = run_json.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(run, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, run_json)
    from .report_content import build_content
    from .report import write_report

    content = build_content(cfg, out, run, notes=list(notes))
    report = write_report(content, out / "report.html")
    comparison = read_table(out / "tables" / "model_comparison.csv", text=["split", "model"])
    log(f"report: {report}")
    return StudyRun(out=out, report=report, run_json=run_json, bundle=bundle, comparison=comparison,
                    stages=dict(store.ran), seconds=seconds, failures=failures, headline=content.headline,
                    timings=dict(store.seconds))


def _table_one(cfg: StudyConfig, data: pd.DataFrame) -> pd.DataFrame:
    from nomogram import table_one

    f = cfg.clinical_factors
    cat = list(f.categorical) + (["cancer_type"] if cfg.cancer_type is not None else [])
    cont = [c for c in f.candidates if c not in f.categorical]
    d = data.copy()
    if cfg.survival:
        d["event"] = d["event"].astype(int).astype(str)
        cat.append("event")
        cont.append("time")
    else:
        d["y"] = d["y"].astype(int).astype(str)
        cat.append("y")
    name = cfg.outcome.name or ("event" if cfg.survival else "outcome")
    d = d.rename(columns={"y": name, "event": name})
    cat = [name if c in ("y", "event") else c for c in cat]
    d["split"] = pd.Categorical(d["split"], categories=[s for s in SPLITS if (d["split"] == s).any()])
    if d["split"].nunique() < 2:
        d["split"] = d["split"].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t1 = table_one(d, group="split", categorical=cat, continuous=cont, random_state=int(cfg.splits.seed))
    return t1.summary()
