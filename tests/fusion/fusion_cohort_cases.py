"""Per-case functions and a synthetic cohort for the cohort-runner tests.

They live in an importable module (not in a test file) because worker
processes receive the per-case function by reference and import it.

``toy_features`` reads an image and a mask with SimpleITK like a radiomics
step does, fails the way real cases fail (unreadable file, geometry mismatch,
empty mask) and leaves one marker file per call so tests can count how many
times each case was really computed.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np
import SimpleITK as sitk


class CaseError(Exception):
    """A per-case failure that names its stage, as the runner expects."""

    def __init__(self, message: str, stage: str):
        super().__init__(message)
        self.stage = stage


def toy_features(case_id, image, mask, *, label=1, scale=1.0, marker_dir=None, sleep=0.0,
                 exit_on=None):
    """Mean and volume of the labelled region (a stand-in for ``extract_case``)."""
    if marker_dir is not None:
        Path(marker_dir, f"{case_id}.{uuid.uuid4().hex}").touch()
    if exit_on is not None and case_id == exit_on:
        os._exit(3)  # simulates a crash in native code: the worker process dies
    try:
        img = sitk.ReadImage(str(image))
        msk = sitk.ReadImage(str(mask))
    except RuntimeError as exc:
        raise CaseError(str(exc).strip().splitlines()[-1], "read") from exc
    if img.GetSize() != msk.GetSize() or not np.allclose(img.GetSpacing(), msk.GetSpacing()):
        raise CaseError(
            f"mask has size {msk.GetSize()} spacing {msk.GetSpacing()} but image has "
            f"size {img.GetSize()} spacing {img.GetSpacing()}", "geometry")
    a = sitk.GetArrayFromImage(img).astype(float)
    m = sitk.GetArrayFromImage(msk) == int(label)
    if not m.any():
        raise CaseError(f"mask has no voxel with label {label}", "extract")
    if sleep:
        time.sleep(sleep)
    voxel = float(np.prod(img.GetSpacing()))
    return {"mean": float(a[m].mean()) * scale, "volume_mm3": float(m.sum()) * voxel,
            "n_voxels": int(m.sum())}


def write_case(folder, case_id, *, size=(12, 12, 8), spacing=(1.0, 1.0, 2.0), seed=0,
               mask_spacing=None, empty=False, label=1):
    """Write ``<case_id>_image.nrrd`` and ``<case_id>_mask.nrrd``; return their names."""
    rng = np.random.default_rng(seed)
    arr = rng.normal(100 + seed, 10, size=size[::-1]).astype(np.float32)
    m = np.zeros(size[::-1], dtype=np.uint8)
    if not empty:
        m[2:6, 3:9, 3:9] = label
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    msk = sitk.GetImageFromArray(m)
    msk.SetSpacing(mask_spacing or spacing)
    folder = Path(folder)
    sitk.WriteImage(img, str(folder / f"{case_id}_image.nrrd"))
    sitk.WriteImage(msk, str(folder / f"{case_id}_mask.nrrd"))
    return f"{case_id}_image.nrrd", f"{case_id}_mask.nrrd"


def calls(marker_dir) -> dict[str, int]:
    """Case id -> number of times ``toy_features`` ran for it."""
    out: dict[str, int] = {}
    for p in Path(marker_dir).iterdir():
        cid = p.name.rsplit(".", 1)[0]
        out[cid] = out.get(cid, 0) + 1
    return out


def thread_settings(case_id):
    """What a worker process was set up with: thread variables, BLAS and ITK threads."""
    import SimpleITK as sitk
    from threadpoolctl import threadpool_info

    blas = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return {"omp": float(os.environ.get("OMP_NUM_THREADS", "nan")),
            "openblas": float(os.environ.get("OPENBLAS_NUM_THREADS", "nan")),
            "blas_threads": float(max(blas)) if blas else float("nan"),
            "itk_threads": float(sitk.ProcessObject.GetGlobalDefaultNumberOfThreads())}
