"""Feature extraction for a study: radiomics per scan, tile features per slide, through the cohort runner.

Both run on :func:`fusion.cohort.run_cohort` with its content-keyed per-case
cache, so a re-run (after a kill, or after any change that does not touch
extraction) reads finished cases instead of recomputing them, and a case that
fails is recorded with its stage and reason while the others finish.

Imaging: :func:`imaging.radiomics.extract_case` per manifest row (a lesion);
columns are named ``<region>_<feature>`` with the region as the study file
writes it (``ring5_original_glcm_Contrast`` for ``ring5``). Pathology:
:func:`pathology.cohort.slide_features` per slide (one HDF5 of tile features
per slide under ``<out>/features/slides/``, and pooled features per slide).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import RADIOMICS_PRESETS, StudyConfig, StudyFileError, region_spec

__all__ = ["Extraction", "imaging_manifest", "extract_imaging", "slide_manifest", "extract_pathology",
           "imaging_kwargs", "pathology_kwargs", "region_columns", "SIZE_COLUMN"]

#: Feature used for ``aggregate: largest`` (the lesion's volume in voxels).
SIZE_COLUMN = "lesion_original_shape_VoxelVolume"


@dataclass
class Extraction:
    """Features of one modality: one row per case, the failures, and what identifies the run."""

    features: pd.DataFrame   # case_id, patient_id, features...
    failures: pd.DataFrame   # modality, case_id, patient_id, stage, message
    n_cases: int
    n_computed: int
    n_cached: int
    seconds: float


def _versions(names) -> dict:
    from importlib import metadata

    out = {}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            pass
    return out


def _read_manifest(cfg: StudyConfig, key: str, path) -> pd.DataFrame:
    """A manifest as text, its patient column (``clinical.patient_id``) renamed ``patient_id``."""
    pid = cfg.clinical.patient_id
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    if pid not in df.columns:
        raise StudyFileError(f"{key} '{path}' has no '{pid}' column (clinical.patient_id); "
                             f"its columns are {list(df.columns)}.")
    return df.rename(columns={pid: "patient_id"}) if pid != "patient_id" else df


def imaging_manifest(cfg: StudyConfig, patients=None) -> pd.DataFrame:
    """The scans manifest, checked: ``case_id``, ``patient_id``, image, mask (+ optional columns)."""
    from fusion.cohort import check_manifest

    path = cfg.imaging.manifest
    df = _read_manifest(cfg, "imaging.manifest", path)
    if "case_id" not in df.columns:
        if "lesion_id" in df.columns:
            df["case_id"] = df["patient_id"].astype(str) + "/" + df["lesion_id"].astype(str)
        else:
            dup = df["patient_id"][df["patient_id"].duplicated()].unique().tolist()
            if dup:
                raise StudyFileError(f"imaging.manifest '{path}' lists patient(s) {dup[:5]} more than "
                                     "once; add a lesion_id column to tell their lesions apart.")
            df["case_id"] = df["patient_id"]
    regions = list(cfg.imaging.regions)
    if "soil" in regions and "organ_mask" not in df.columns:
        raise StudyFileError(f"imaging.regions holds 'soil' but imaging.manifest '{path}' has no "
                             "organ_mask column (the target organ's mask of each patient).")
    if patients is not None:
        df = df[df["patient_id"].isin(set(patients))]
    return check_manifest(df.reset_index(drop=True), required=("image", "mask"),
                          file_columns=("image", "mask", "organ_mask"), id_column="case_id",
                          base_dir=Path(path).parent, missing_files="keep")


def imaging_kwargs(cfg: StudyConfig) -> tuple[dict, dict]:
    """``extract_case`` keyword arguments and what identifies them in the cache key."""
    params = cfg.imaging.params
    if isinstance(params, str) and params in RADIOMICS_PRESETS:
        from imaging.presets import preset_path

        params_id = {"preset": params, "text": Path(preset_path(params)).read_text(encoding="utf-8")}
    elif isinstance(params, str):
        params_id = {"file_text": Path(params).read_text(encoding="utf-8")}
    else:
        params = dict(params.to_dict() if hasattr(params, "to_dict") else params)
        params_id = {"mapping": params}
    regions, rings = [], []
    for r in cfg.imaging.regions:
        kind, mm = region_spec(r)
        if kind == "habitats":
            continue  # fitted on the training split, after the split (pipeline)
        if kind == "ring":
            rings.append(mm)
        if kind not in regions:
            regions.append(kind)
    if not regions:
        regions = ["lesion"]
    kwargs = {"params": params, "regions": tuple(regions)}
    if rings:
        kwargs["ring_mm"] = tuple(rings) if len(rings) > 1 else rings[0]
    key = {"params": params_id, "regions": list(regions), "ring_mm": rings}
    return kwargs, key


def region_columns(columns, region: str) -> list[str]:
    """Feature columns of one region as the study file names it (``lesion``, ``ring5``, ``soil``...)."""
    prefix = f"{region}_"
    return [c for c in columns if str(c).startswith(prefix)]


def _rename_rings(columns, regions) -> dict:
    """``ring5mm_x`` -> ``ring5_x`` (the region as the user typed it)."""
    out = {}
    for r in regions:
        kind, mm = region_spec(r)
        if kind == "ring":
            produced = f"ring{mm:g}mm_"
            for c in columns:
                if str(c).startswith(produced):
                    out[c] = f"{r}_" + str(c)[len(produced):]
    return out


def _failures(result, modality, ids) -> pd.DataFrame:
    f = result.failures.copy()
    id_col = result.id_column
    if len(f) == 0:
        return pd.DataFrame(columns=["modality", "case_id", "patient_id", "stage", "message"])
    f = f.rename(columns={id_col: "case_id"})
    f["patient_id"] = f["case_id"].map(ids)
    f["modality"] = modality
    return f[["modality", "case_id", "patient_id", "stage", "message"]]


def extract_imaging(cfg: StudyConfig, manifest: pd.DataFrame, *, cache_dir, jobs: int = 1, scheduler=None,
                    progress: bool = True) -> Extraction:
    """Radiomics features of every scan of ``manifest`` (rows that fail are recorded)."""
    from fusion.cohort import run_cohort

    kwargs, key = imaging_kwargs(cfg)
    several = jobs > 1 or scheduler is not None
    options = [c for c in ("label",) if c in manifest.columns]
    cases = manifest[["case_id", "image", "mask"] + [c for c in ("organ_mask",) if c in manifest.columns]
                     + options]
    if "label" in cases.columns:
        cases = cases.assign(label=pd.to_numeric(cases["label"]).astype("Int64"))
    result = run_cohort(
        "imaging.radiomics:extract_case", cases, file_columns=("image", "mask", "organ_mask"),
        option_columns=options, kwargs=kwargs, key_params=key,
        versions=_versions(("pyradiomics-bhklab", "pyradiomics", "numpy", "SimpleITK", "PyWavelets", "scipy")),
        jobs=jobs, scheduler=scheduler, cache_dir=cache_dir, progress=progress, desc="scans (radiomics)",
        default_stage="extract",
        worker_init="imaging.radiomics:limit_itk_threads" if several else None,
    )
    ids = dict(zip(manifest["case_id"], manifest["patient_id"]))
    feats = result.features.rename(columns=_rename_rings(result.features.columns, cfg.imaging.regions))
    feats.insert(1, "patient_id", feats["case_id"].map(ids))
    return Extraction(feats, _failures(result, "imaging", ids), result.n_cases, result.n_computed,
                      result.n_cached, result.seconds)


def slide_manifest(cfg: StudyConfig, patients=None) -> pd.DataFrame:
    """The slides manifest, checked: ``slide_id``, ``path``, ``patient_id`` (+ ``mpp``)."""
    from fusion.cohort import check_manifest

    path = cfg.pathology.manifest
    df = _read_manifest(cfg, "pathology.manifest", path)
    if patients is not None:
        df = df[df["patient_id"].isin(set(patients))]
    return check_manifest(df.reset_index(drop=True), required=("path",), file_columns=("path",),
                          id_column="slide_id", base_dir=Path(path).parent, missing_files="keep")


def pathology_kwargs(cfg: StudyConfig, out_dir) -> tuple[dict, dict]:
    """``slide_features`` keyword arguments and what identifies them in the cache key."""
    p = cfg.pathology
    random_init = p.weights == "random"
    kwargs = {"out_dir": str(out_dir), "encoder": p.encoder, "weights": None if random_init else p.weights,
              "random_init": random_init, "target_mpp": float(p.mpp), "tile_size": int(p.tile),
              "min_tissue": float(p.min_tissue), "batch_size": int(p.batch_size),
              "pooling": tuple(x for x in p.pooling if x in ("mean", "max")),
              "num_workers": 0, "num_threads": 1}
    weights_id = "random-init:0" if random_init else _sha(p.weights)
    key = {k: v for k, v in kwargs.items() if k not in ("weights", "num_workers", "num_threads")}
    key["weights"] = weights_id
    return kwargs, key


def _sha(path) -> str:
    from .stages import file_sha256

    if not os.path.isfile(path):
        raise StudyFileError(f"pathology.weights '{path}' does not exist; give a local weights file, "
                             "or 'random' for a randomly initialised encoder.")
    return file_sha256(path)


def extract_pathology(cfg: StudyConfig, manifest: pd.DataFrame, *, out_dir, cache_dir, jobs: int = 1,
                      scheduler=None, progress: bool = True) -> Extraction:
    """Tile features (one HDF5 per slide) and pooled features of every slide of ``manifest``."""
    from fusion.cohort import run_cohort

    kwargs, key = pathology_kwargs(cfg, out_dir)
    options = [c for c in ("patient_id", "mpp") if c in manifest.columns]
    cases = manifest[["slide_id", "path"] + options].copy()
    if "mpp" in cases.columns:
        cases["mpp"] = pd.to_numeric(cases["mpp"])
    result = run_cohort(
        "pathology.cohort:slide_features", cases, file_columns=("path",), id_column="slide_id",
        option_columns=options, output_columns=("h5",), kwargs=kwargs, key_params=key,
        versions=_versions(("torch", "timm", "openslide-python", "numpy")),
        jobs=jobs, scheduler=scheduler, cache_dir=cache_dir, progress=progress, desc="slides (tiles)",
        default_stage="encode",
    )
    ids = dict(zip(manifest["slide_id"], manifest["patient_id"]))
    feats = result.features.rename(columns={"slide_id": "case_id"})
    feats["path"] = feats["case_id"].map(dict(zip(manifest["slide_id"], manifest["path"])))
    if "patient_id" not in feats.columns:
        feats.insert(1, "patient_id", feats["case_id"].map(ids))
    return Extraction(feats, _failures(result, "pathology", ids), result.n_cases, result.n_computed,
                      result.n_cached, result.seconds)


def slide_bags(features: pd.DataFrame, patients) -> list:
    """Per patient, the tile features of all their slides stacked ``[n_tiles, dim]`` (None if none)."""
    from pathology import load_features

    bags = []
    by_patient = features.groupby("patient_id")["h5"].apply(list).to_dict()
    for p in patients:
        files = by_patient.get(p)
        if not files:
            bags.append(None)
            continue
        arrays = [np.asarray(load_features(f).features, dtype=np.float32) for f in files]
        arrays = [a for a in arrays if len(a)]
        bags.append(np.concatenate(arrays) if arrays else None)
    return bags
