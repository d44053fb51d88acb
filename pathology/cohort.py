"""One slide from file to features: the per-slide function of ``nomofuse slides``.

:func:`slide_features` runs the whole chain for one slide: check and
resolution (:func:`~pathology.slide.check_slide`), tissue mask and its
overlay PNG, tile grid at the target µm/px, encoding streamed into the
slide's HDF5 (:class:`~pathology.features_h5.FeatureFileWriter`) while the
pooled features accumulate (:class:`~pathology.pooling.RunningPool`). It
returns one row: the pooled features, what was done (tiles, µm/px and their
source, throughput) and where the outputs are (``h5``, ``overlay``; the
cohort runner records their size and SHA-256 and recomputes a slide whose
file was deleted or changed).

It raises the errors of :mod:`pathology.exceptions`, whose ``stage``
(``read``, ``mpp``, ``tissue``, ``tiling``, ``encode``) the cohort runner
records. Memory does not grow with the slide: tiles are read batch by batch,
features go to disk batch by batch, and the encoder is built once per
process and kept for the next slide.

:func:`patient_table` pools the slide rows of each patient.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from nomogram.model_io import file_sha256

from .exceptions import PathologyError

__all__ = ["slide_features", "patient_table", "safe_name"]

_ENCODER_CACHE: dict = {}
_NORMALIZER_CACHE: dict = {}


def safe_name(slide_id) -> str:
    """A file name for a slide id (characters other than letters, digits, ``._-`` become ``_``)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", str(slide_id)).strip(".")
    return name or "slide"


def _encoder(name, weights, random_init, sha256, device):
    from .encoders import create_encoder

    key = (name, None if weights is None else os.path.abspath(weights), bool(random_init), sha256,
           str(device))
    if key not in _ENCODER_CACHE:
        _ENCODER_CACHE.clear()  # one encoder per process: memory stays flat across a cohort
        _ENCODER_CACHE[key] = create_encoder(name, weights, random_init=random_init, sha256=sha256,
                                             device=device)
    return _ENCODER_CACHE[key]


def _normalizer(path):
    if path is None:
        return None
    from .tiling import MacenkoNormalizer

    key = os.path.abspath(path)
    if key not in _NORMALIZER_CACHE:
        _NORMALIZER_CACHE.clear()
        _NORMALIZER_CACHE[key] = MacenkoNormalizer.from_json(path)
    return _NORMALIZER_CACHE[key]


def slide_features(slide_id, path, *, out_dir, encoder: str = "resnet50_trunc", weights=None,
                   random_init: bool = False, weights_sha256: str | None = None,
                   target_mpp: float | None = None, tile_size: int = 224, overlap: int = 0,
                   min_tissue: float = 0.25, mpp=None, prefer_mpp: str = "slide", tissue_mask=None,
                   stain_reference=None, mask_mpp: float = 8.0, batch_size: int = 32,
                   num_workers: int | None = None, num_threads: int | None = None, device=None,
                   pooling=("mean", "max"), patient_id=None) -> dict:
    """Tile features of one slide to ``<out_dir>/<slide_id>.h5`` and its pooled row.

    Parameters
    ----------
    slide_id : str
    path : path
        The slide file.
    out_dir : path
        Folder of the HDF5 files (and ``<slide_id>.tissue.png`` overlays).
    encoder : str, default "resnet50_trunc"
        A registered encoder or timm name (:func:`~pathology.encoders.create_encoder`).
    weights : path, optional
        Local weights file; required unless ``random_init``.
    random_init : bool, default False
    weights_sha256 : str, optional
        Expected checksum of ``weights``.
    target_mpp : float, optional
        Tile resolution; default the encoder's (0.5 µm/px for the registered ones).
    tile_size, overlap, min_tissue
        See :func:`~pathology.tiling.tile_grid`.
    mpp : float, optional
        The slide's µm/px when it states none (the manifest's ``mpp`` column).
    prefer_mpp : {"slide", "override"}
        See :func:`~pathology.slide.slide_mpp`.
    tissue_mask : path, optional
        A GeoJSON or PNG tissue mask replacing detection.
    stain_reference : path, optional
        A :class:`~pathology.tiling.MacenkoNormalizer` JSON; tiles are normalised to it.
    mask_mpp : float, default 8
    batch_size, num_workers, num_threads, device
        See :func:`~pathology.inference.encode_tiles`.
    pooling : sequence of {"mean", "max"}
    patient_id : str, optional
        Copied into the row (for :func:`patient_table`).

    Returns
    -------
    dict
        ``patient_id`` (when given), ``n_tiles``, ``slide_mpp``, ``mpp_source``,
        ``target_mpp``, ``tile_um``, ``tissue_mm2``, ``read_level``,
        ``tiles_per_s``, ``read_s``, ``preprocess_s``, ``model_s``,
        ``wait_s``, ``encoder``, ``weights_sha256``, ``h5``, ``h5_sha256``,
        ``overlay`` and the pooled features ``mean_0000``...

    Raises
    ------
    SlideReadError, ResolutionError, TissueError, TilingError, EncoderError
    """
    from .features_h5 import FeatureFileWriter, nomofuse_version
    from .inference import encode_tiles
    from .pooling import RunningPool
    from .slide import check_slide, open_slide
    from .tiling import tile_grid
    from .tissue import tissue_mask as make_mask

    info = check_slide(path, mpp=mpp, prefer=prefer_mpp, slide_id=slide_id)
    enc = _encoder(encoder, weights, random_init, weights_sha256, device)
    if target_mpp is None:
        target_mpp = enc.config.mpp if enc.config.mpp is not None else 0.5
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = safe_name(slide_id)
    slide = open_slide(path, slide_id=slide_id)
    try:
        tm, thumb = make_mask(slide, info, mask_mpp=mask_mpp, user_mask=tissue_mask,
                              return_thumbnail=True)
    finally:
        slide.close()
    overlay = tm.save_overlay(thumb, out_dir / f"{name}.tissue.png")
    del thumb
    grid = tile_grid(info, tm, target_mpp=float(target_mpp), tile_size=int(tile_size),
                     overlap=int(overlap), min_tissue=float(min_tissue))
    attrs = {
        "encoder": enc.name, "weights_sha256": enc.weights_sha256, "patch_size": grid.tile_size,
        "patch_size_level0": grid.size0, "target_mpp": grid.target_mpp, "slide_mpp": info.mpp,
        "mpp_source": info.mpp_source, "level0_magnification": info.objective_power,
        "level0_width": info.width, "level0_height": info.height, "overlap": grid.overlap,
        "read_level": grid.level, "name": str(slide_id), "nomofuse_version": nomofuse_version(),
        "stain_normalization": "macenko" if stain_reference is not None else "none",
    }
    h5 = out_dir / f"{name}.h5"
    pool = RunningPool(enc.feature_dim)

    with FeatureFileWriter(h5, enc.feature_dim, attrs) as writer:
        def sink(features, coords, fraction):
            writer.append(features, coords, fraction)
            pool.update(features)

        _, stats = encode_tiles(path, grid, enc, on_batch=sink, batch_size=batch_size,
                                num_workers=num_workers, num_threads=num_threads,
                                normalizer=_normalizer(stain_reference))
    if pool.n != len(grid):
        raise PathologyError(f"slide {slide_id!r}: {pool.n} features written for {len(grid)} tiles.")
    row = {} if patient_id is None else {"patient_id": str(patient_id)}
    row.update({
        "n_tiles": len(grid), "slide_mpp": info.mpp, "mpp_source": info.mpp_source,
        "target_mpp": grid.target_mpp, "tile_um": grid.tile_um, "tissue_mm2": tm.tissue_area_mm2,
        "read_level": grid.level, "tiles_per_s": stats.tiles_per_s, "read_s": stats.read_s,
        "preprocess_s": stats.preprocess_s, "model_s": stats.model_s, "wait_s": stats.wait_s,
        "encoder": enc.name, "weights_sha256": enc.weights_sha256, "h5": str(h5.resolve()),
        "h5_sha256": file_sha256(h5), "overlay": str(overlay.resolve()),
    })
    row.update(pool.row(pooling))
    return row


def patient_table(slides: pd.DataFrame, *, patient_col: str = "patient_id") -> pd.DataFrame:
    """Pool slide rows into one row per patient.

    ``mean_*`` columns are averaged weighted by each slide's ``n_tiles`` (so
    they equal the mean over all the patient's tiles), ``max_*`` columns take
    the maximum; ``n_slides`` and ``n_tiles`` are counted. A slide without a
    patient id is its own patient.

    Parameters
    ----------
    slides : pandas.DataFrame
        Rows of :func:`slide_features` (with ``case_id``/``slide_id``,
        ``n_tiles``, ``mean_*``/``max_*``).
    patient_col : str, default "patient_id"

    Returns
    -------
    pandas.DataFrame
        ``patient_id``, ``n_slides``, ``n_tiles``, pooled feature columns.
    """
    if "n_tiles" not in slides.columns:
        raise ValueError("patient_table needs the 'n_tiles' column of slide_features rows.")
    id_col = next((c for c in ("slide_id", "case_id") if c in slides.columns), None)
    pid = (slides[patient_col] if patient_col in slides.columns
           else pd.Series([None] * len(slides), index=slides.index))
    fallback = slides[id_col].astype(str) if id_col else pd.Series(slides.index.astype(str), index=slides.index)
    pid = pid.where(pid.notna() & (pid.astype(str).str.strip() != ""), fallback).astype(str)
    mean_cols = [c for c in slides.columns if str(c).startswith("mean_")]
    max_cols = [c for c in slides.columns if str(c).startswith("max_")]
    n = slides["n_tiles"].astype(float)
    rows = []
    for p, idx in pid.groupby(pid, sort=False).groups.items():
        w = n.loc[idx].to_numpy()
        rec = {"patient_id": p, "n_slides": len(idx), "n_tiles": int(w.sum())}
        if mean_cols:
            m = slides.loc[idx, mean_cols].to_numpy(dtype=float)
            rec.update(dict(zip(mean_cols, (w[:, None] * m).sum(axis=0) / w.sum())))
        if max_cols:
            rec.update(dict(zip(max_cols, slides.loc[idx, max_cols].to_numpy(dtype=float).max(axis=0))))
        rows.append(rec)
    return pd.DataFrame(rows)
