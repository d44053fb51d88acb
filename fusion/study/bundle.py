"""The screening bundle: everything needed to score a new patient from raw inputs.

``nomofuse run`` writes ``DIR/bundle/``:

``bundle.json``
    ``{"format": "nomofuse.study.Bundle", "version": 1, ...}``: the study,
    the outcome, the screening model's name, the clinical columns it reads,
    the radiomics parameters and regions, the slide encoder (name, weights
    SHA-256 or ``random-init:<seed>``, µm/px, tile size), the labels and the
    files, each with its SHA-256 (checked when the bundle is read).
``model.json``
    The :class:`~fusion.models.NomogramGroup` of the screening model.
``labels/``
    The fitted labels it uses (:class:`~fusion.models.ModalityLabel` JSON, or
    :class:`~fusion.models.EarlyFusion` JSON + state dict).

:func:`screen` (``nomofuse screen DIR/bundle --clinical new.csv [--scans
scans.csv] [--slides slides.csv] --out scores.csv``) runs the same
extraction with the same parameters on new patients, applies the labels
unchanged and scores every patient with the cancer type's nomogram. A row that
cannot be scored (missing value, unknown category or cancer type, failed
extraction...) gets its own lines in ``scores.csv.errors.csv`` naming the row,
column, value and what is allowed; the good rows are always scored.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import RADIOMICS_PRESETS, StudyConfig, StudyFileError
from .stages import file_sha256

__all__ = ["write_bundle", "read_bundle", "screen", "ScreenResult", "BundleError", "BUNDLE_FORMAT"]

BUNDLE_FORMAT = "nomofuse.study.Bundle"
BUNDLE_VERSION = 1


class BundleError(ValueError):
    """A screening bundle is missing, altered, or of an unknown version."""


def write_bundle(cfg: StudyConfig, out: Path, model_name: str, group, label_files: dict) -> Path:
    """Write ``out/bundle/`` for the model ``model_name`` (a fitted NomogramGroup)."""
    bundle = Path(out) / "bundle"
    tmp = Path(out) / "bundle.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "labels").mkdir(parents=True)
    group.to_json(tmp / "model.json")
    spec = cfg.models[model_name]
    labels = {}
    for name in spec.labels:
        lab = cfg.labels[name]
        src = Path(label_files[name])
        dst = tmp / "labels" / src.name
        shutil.copyfile(src, dst)
        extra = src.with_suffix(".pt")
        if extra.exists():
            shutil.copyfile(extra, dst.with_suffix(".pt"))
        labels[name] = {"file": f"labels/{src.name}", "method": lab.method,
                        "source": [lab.source] if isinstance(lab.source, str) else list(lab.source),
                        "regions": list(lab.regions) if lab.regions else None, "output": lab.output}
    meta = {
        "format": BUNDLE_FORMAT, "version": BUNDLE_VERSION,
        "study": cfg.name, "model": model_name,
        "outcome": cfg.outcome.to_dict(),
        "clinical": {"patient_id": cfg.clinical.patient_id,
                     "cancer_type": cfg.cancer_type.column if cfg.cancer_type is not None else None,
                     "factors": [f for f in group.feature_names_in_ if f != "cancer_type"
                                 and f not in labels],
                     "categorical": list(cfg.clinical_factors.categorical)},
        "labels": labels,
        "imaging": None, "pathology": None,
    }
    sources = {s for lab in labels.values() for s in lab["source"]}
    if "imaging" in sources:
        params = cfg.imaging.params
        if isinstance(params, str) and params not in RADIOMICS_PRESETS:
            shutil.copyfile(params, tmp / "radiomics_params.yaml")
            params = {"file": "radiomics_params.yaml"}
        elif isinstance(params, str):
            params = {"preset": params}
        else:
            params = {"mapping": params.to_dict()}
        meta["imaging"] = {"params": params, "regions": list(cfg.imaging.regions),
                           "aggregate": cfg.imaging.aggregate}
    if "pathology" in sources:
        from .features import pathology_kwargs

        kw, key = pathology_kwargs(cfg, ".")
        meta["pathology"] = {"encoder": kw["encoder"], "random_init": kw["random_init"],
                             "weights": kw["weights"], "weights_sha256": key["weights"],
                             "mpp": kw["target_mpp"], "tile": kw["tile_size"], "min_tissue": kw["min_tissue"],
                             "batch_size": kw["batch_size"], "pooling": list(kw["pooling"]),
                             "aggregate": cfg.pathology.aggregate}
    meta["files"] = {p.relative_to(tmp).as_posix(): file_sha256(p)
                     for p in sorted(tmp.rglob("*")) if p.is_file()}
    (tmp / "bundle.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    if bundle.exists():
        shutil.rmtree(bundle)
    os.replace(tmp, bundle)
    return bundle


def read_bundle(path) -> dict:
    """Read and check ``bundle.json`` (format, version, every file's SHA-256)."""
    folder = Path(path)
    if folder.is_file():
        folder = folder.parent
    meta_path = folder / "bundle.json"
    if not meta_path.is_file():
        raise BundleError(f"'{folder}' is not a screening bundle (no bundle.json); give the bundle/ folder "
                          "that 'nomofuse run' wrote.")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"'{meta_path}' is not a nomofuse screening bundle (format {meta.get('format')!r}).")
    if meta.get("version") != BUNDLE_VERSION:
        raise BundleError(f"'{meta_path}' is bundle version {meta.get('version')}; this nomofuse reads version "
                          f"{BUNDLE_VERSION}. Re-run 'nomofuse run' to write a new bundle.")
    for rel, sha in meta["files"].items():
        p = folder / rel
        if not p.is_file():
            raise BundleError(f"bundle file '{p}' is missing; copy the whole bundle/ folder.")
        if file_sha256(p) != sha:
            raise BundleError(f"bundle file '{p}' was changed after 'nomofuse run' wrote it (SHA-256 differs); "
                              "restore it or re-run the study.")
    meta["folder"] = str(folder.resolve())
    return meta


@dataclass
class ScreenResult:
    """What :func:`screen` wrote: the scores, the per-row errors and the counts."""

    scores: Path
    errors: Path
    n_rows: int
    n_scored: int
    n_not_scored: int
    n_flagged: int


def _load_label(folder: Path, entry: dict):
    if entry["method"] == "early_fusion":
        from fusion.models import EarlyFusion

        return EarlyFusion.from_json(folder / entry["file"])
    from fusion.models import ModalityLabel

    return ModalityLabel.from_json(folder / entry["file"])


def screen(bundle, clinical, *, scans=None, slides=None, out, jobs: int = 1, progress: bool = True,
           echo=print) -> ScreenResult:
    """Score new patients from raw inputs with a study's bundle.

    Parameters
    ----------
    bundle : path
        The ``bundle/`` folder of a study run.
    clinical : path
        CSV with one row per patient: the patient id column, the cancer type
        column and the clinical factors the model reads.
    scans, slides : path, optional
        Manifests of the patients' scans (``<patient id>,image,mask``) and
        slides (``slide_id,path,<patient id>``); needed when the model uses
        imaging or pathology labels.
    out : path
        The scores CSV; errors go to ``<out>.errors.csv``; extracted features
        and their cache to ``<out>.work/``.
    jobs : int, default 1

    Returns
    -------
    ScreenResult
    """
    from fusion.models import score_table

    meta = read_bundle(bundle)
    folder = Path(meta["folder"])
    out = Path(out)
    work = out.with_name(out.name + ".work")
    pid = meta["clinical"]["patient_id"]
    table = pd.read_csv(clinical, dtype=str, keep_default_na=False)
    if pid not in table.columns:
        raise StudyFileError(f"clinical file '{clinical}' has no '{pid}' column (the patient id the model "
                             f"was built with); its columns are {list(table.columns)}.")
    table.index = table[pid].astype(str)
    sources = {s for lab in meta["labels"].values() for s in lab["source"]}
    extra_errors = []
    imaging = slide_rows = None
    if "imaging" in sources:
        if scans is None:
            raise StudyFileError("this model uses imaging labels: give the scans manifest (--scans scans.csv).")
        imaging, fails = _screen_imaging(meta, folder, scans, work, list(table.index), jobs, progress)
        extra_errors.append(fails)
    if "pathology" in sources:
        if slides is None:
            raise StudyFileError("this model uses pathology labels: give the slides manifest (--slides slides.csv).")
        slide_rows, fails = _screen_slides(meta, slides, work, list(table.index), jobs, progress)
        extra_errors.append(fails)
    ids = list(table.index)
    from .pipeline import label_scores
    from .config import Settings

    X = pd.DataFrame(index=table.index)
    ct = meta["clinical"]["cancer_type"]
    X["cancer_type"] = table[ct] if ct is not None else "all"
    for f in meta["clinical"]["factors"]:
        X[f] = table[f] if f in table.columns else ""
    nets = {}

    def bags(pids):
        from .features import SIZE_COLUMN, slide_bags

        img = path = None
        if imaging is not None:
            cols = [c for c in imaging.columns if c not in ("case_id", "patient_id")]
            per = {}
            for p, g in imaging.groupby("patient_id"):
                if meta["imaging"]["aggregate"] == "largest" and SIZE_COLUMN in g.columns:
                    g = g.sort_values(SIZE_COLUMN, ascending=False).head(1)
                per[p] = g[cols].to_numpy(np.float32).T
            img = [per.get(p) for p in pids]
        if slide_rows is not None:
            path = slide_bags(slide_rows, list(pids))
        return img, path

    shim = _BundleStudy(meta)
    for name, entry in meta["labels"].items():
        spec = Settings({"method": entry["method"], "source": entry["source"], "regions": entry["regions"],
                         "output": entry["output"]})
        if entry["file"] not in nets:
            nets[entry["file"]] = _load_label(folder, entry)
        fitted = nets[entry["file"]]
        have = _patients_with(entry["source"], imaging, slide_rows)
        present = [p for p in ids if p in have]
        scores = pd.Series(np.nan, index=table.index, name=name)
        if present:
            got = label_scores(shim, name, spec, fitted, present, imaging, slide_rows, bags=bags)
            scores.loc[present] = got.reindex(present).to_numpy()
        X[name] = scores.map(lambda v: "" if pd.isna(v) else repr(float(v)))
    X.insert(0, "patient_id", table.index)
    from fusion.models.group import NomogramGroup

    group = NomogramGroup.from_json(folder / "model.json")
    scores, errors = score_table(group, X.reset_index(drop=True), id_column="patient_id")
    extra = pd.concat(extra_errors, ignore_index=True) if extra_errors else pd.DataFrame()
    if len(extra):
        row_of = {p: i + 1 for i, p in enumerate(ids)}
        extra["row"] = extra["id"].map(row_of)
        extra = extra[extra["row"].notna()]
        extra["row"] = extra["row"].astype(int)
        errors = pd.concat([extra[errors.columns], errors], ignore_index=True).sort_values(
            ["row"], kind="stable")
    out.parent.mkdir(parents=True, exist_ok=True)
    scores.to_csv(out, index=False)
    err_path = out.with_name(out.name + ".errors.csv")
    errors.to_csv(err_path, index=False)
    not_scored = len(ids) - len(scores)
    flagged = int(scores["flagged"].astype(str).str.len().gt(0).sum()) if "flagged" in scores else 0
    if echo is not None:
        echo(f"scored {len(scores)} of {len(ids)} patients ({not_scored} not scored, {flagged} flagged); "
             f"scores: {out}; errors: {err_path}")
    return ScreenResult(out, err_path, len(ids), len(scores), not_scored, flagged)


class _BundleStudy:
    """The few study settings :func:`label_scores` reads, taken from a bundle."""

    def __init__(self, meta):
        from .config import Settings

        img = meta.get("imaging") or {}
        path = meta.get("pathology") or {}
        self.imaging = Settings({"regions": img.get("regions", []), "aggregate": img.get("aggregate")})
        self.pathology = Settings({"aggregate": path.get("aggregate", "mean")})


def _patients_with(sources, imaging, slides) -> set:
    sets = []
    if "imaging" in sources:
        sets.append(set(imaging["patient_id"]) if imaging is not None else set())
    if "pathology" in sources:
        sets.append(set(slides["patient_id"]) if slides is not None else set())
    return set.intersection(*sets) if sets else set()


def _error_rows(failures: pd.DataFrame, column: str) -> pd.DataFrame:
    if len(failures) == 0:
        return pd.DataFrame(columns=["row", "id", "column", "value", "problem", "allowed", "action"])
    return pd.DataFrame({"row": 0, "id": failures["patient_id"], "column": column,
                         "value": failures["case_id"],
                         "problem": "extraction failed at stage " + failures["stage"].astype(str) + ": "
                                    + failures["message"].astype(str),
                         "allowed": "a readable file", "action": "not scored"})


def _screen_imaging(meta, folder, scans, work, ids, jobs, progress):
    from .config import Settings
    from .features import extract_imaging, imaging_manifest

    img = meta["imaging"]
    params = img["params"]
    if "preset" in params:
        params = params["preset"]
    elif "file" in params:
        params = str(folder / params["file"])
    else:
        params = params["mapping"]
    shim = Settings({"clinical": {"patient_id": meta["clinical"]["patient_id"]},
                     "imaging": {"manifest": str(Path(scans).resolve()), "params": params,
                                 "regions": img["regions"], "aggregate": img["aggregate"]}})
    manifest = imaging_manifest(shim, ids)
    ex = extract_imaging(shim, manifest, cache_dir=work / "cache" / "imaging", jobs=jobs, progress=progress)
    missing = sorted(set(ids) - set(manifest["patient_id"]))
    fails = _error_rows(ex.failures, "image")
    if missing:
        fails = pd.concat([fails, pd.DataFrame({"row": 0, "id": missing, "column": "image", "value": "",
                                                "problem": "no scan in the scans manifest",
                                                "allowed": "a scan per patient", "action": "not scored"})])
    return ex.features, fails


def _screen_slides(meta, slides, work, ids, jobs, progress):
    from .config import Settings
    from .features import extract_pathology, slide_manifest

    p = meta["pathology"]
    if not p["random_init"]:
        from .stages import file_sha256 as sha

        if not p["weights"] or not os.path.isfile(p["weights"]):
            raise BundleError(f"the bundle's encoder weights '{p['weights']}' are not on this machine; copy "
                              "them there (SHA-256 " + str(p["weights_sha256"]) + ").")
        if sha(p["weights"]) != p["weights_sha256"]:
            raise BundleError(f"encoder weights '{p['weights']}' differ from the ones the model was built "
                              "with (SHA-256); use the same file.")
    shim = Settings({"clinical": {"patient_id": meta["clinical"]["patient_id"]},
                     "pathology": {"manifest": str(Path(slides).resolve()), "encoder": p["encoder"],
                                   "weights": "random" if p["random_init"] else p["weights"], "mpp": p["mpp"],
                                   "tile": p["tile"], "min_tissue": p["min_tissue"],
                                   "batch_size": p["batch_size"], "pooling": p["pooling"],
                                   "aggregate": p["aggregate"]}})
    manifest = slide_manifest(shim, ids)
    ex = extract_pathology(shim, manifest, out_dir=work / "slides", cache_dir=work / "cache" / "slides",
                           jobs=jobs, progress=progress)
    missing = sorted(set(ids) - set(manifest["patient_id"]))
    fails = _error_rows(ex.failures, "slide")
    if missing:
        fails = pd.concat([fails, pd.DataFrame({"row": 0, "id": missing, "column": "slide", "value": "",
                                                "problem": "no slide in the slides manifest",
                                                "allowed": "a slide per patient", "action": "not scored"})])
    return ex.features, fails
