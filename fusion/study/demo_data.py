"""A seeded synthetic bone-metastasis cohort: clinical table, CT-like scans and H&E-like slides.

The demo study (``nomofuse demo``) runs the whole pipeline on this cohort, so
it has the shape of the studies nomofuse serves (seed 004: bone metastasis at
diagnosis, screened per cancer type from clinical factors, a CT of the primary
lesion and a biopsy slide) while staying small enough to finish in minutes on
a laptop. Nothing in it is real patient data.

What is generated (``make_demo_cohort(out)``)
---------------------------------------------
``clinical.csv`` (one row per patient)
    ``patient_id``, ``centre`` (A: 70 %, B: 30 %; B is older and has more lung
    cancer), ``scanner`` (A1/A2 at centre A, B1 at centre B), ``cancer_type``
    (lung 30 %, breast 25 %, prostate 20 %, kidney 25 %), ``age`` (years;
    normal per cancer type: lung 66 ± 9, breast 56 ± 11, prostate 69 ± 7,
    kidney 62 ± 10; 30–90), ``sex`` (M/F: prostate all M, breast 1 % M, lung
    60 % M, kidney 65 % M), ``histology`` (per cancer type, e.g. lung:
    adenocarcinoma 55 %, squamous 30 %, small cell 15 %), ``t_stage`` (T1–T4),
    ``n_stage`` (N0–N2), ``alp`` (alkaline phosphatase, U/L; log-normal,
    median 85, SD of log 0.3), ``calcium`` (serum calcium, mmol/L; normal
    2.35 ± 0.10), ``prior_bone_therapy`` (0/1; 2 %, an exclusion criterion)
    and the outcome ``bone_metastasis`` (0/1). About 2 % of patients have no
    calcium value (excluded as incomplete in the cohort flow).
``scans.csv`` and ``scans/``
    ``patient_id,image,mask``: one CT-like volume per patient (32 x 32 x 16
    voxels, 1 x 1 x 2 mm, int16 HU, NRRD) and its lesion mask. Soft tissue
    around 40 HU with a fat region; the lesion is an ellipsoid whose size grows
    with T stage and whose *texture* carries the imaging signal: with
    ``s = z_img + e`` (``e`` normal, SD 0.35: what the scan shows of the
    latent variable) its HU standard deviation is ``10 exp(0.45 s)``
    (spatially correlated noise) and its mean ``50 + 6 s``. Scanner B1 reads 5 HU higher. One patient
    has no scan (no manifest row) and one scan file is truncated (an
    extraction failure the report lists).
``slides.csv`` and ``slides/``
    ``slide_id,path,patient_id``: one H&E-like slide per patient, a 768 x
    768 pyramidal tiled TIFF (JPEG tiles, 0.5 µm/px in the resolution tags,
    three levels) that OpenSlide opens. Tissue is an ellipse of pink stroma
    with purple nuclei whose *density and size* carry the pathology signal:
    density ``0.0015 exp(0.5 z_path)`` per pixel, radius ``3 + 0.6 z_path``
    pixels. Centre B's stain is slightly bluer. One slide is truncated.
``truth.csv``
    The planted latent variables ``z_img``, ``z_path`` and the true linear
    predictor and risk, for checking what a model recovers. The study never
    reads it.
``study.yaml``
    The demo study file (``fusion/study/examples/demo.yaml``).

The outcome
-----------
``logit P(bone metastasis) = base[cancer] + 0.9 (log(alp) - log 85) / 0.3
+ specific[cancer] + 1.5 z_img + 1.5 z_path`` with ``z_img``, ``z_path``
independent standard normal; ``base`` = lung -0.7, breast -0.6, prostate
-0.7, kidney -0.5 (about 45 % with bone metastasis in each type); ``specific`` = lung 0.9 per N-stage step, breast 0.4 per
0.1 mmol/L calcium above 2.35, prostate 0.8 per T-stage step above T1, kidney
0.06 per year of age above 62. So ALP is a factor shared by every cancer
type, each type has one factor of its own, and the scans and slides carry
information the clinical factors do not: a model that adds the imaging and
pathology labels should discriminate better than clinical factors alone, on
the external centre too.

Examples
--------
>>> from fusion.study.demo_data import make_demo_cohort
>>> cohort = make_demo_cohort("demo-data", n_patients=60, random_state=0)   # doctest: +SKIP
>>> cohort.study                                                            # doctest: +SKIP
PosixPath('demo-data/study.yaml')
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DemoCohort", "make_demo_cohort", "CANCER_TYPES"]

#: Cancer types of the demo cohort: share, age (mean, SD), P(male), histology, base logit.
CANCER_TYPES = {
    "lung": dict(share=0.30, age=(66, 9), male=0.60, base=-0.7,
                 histology={"adenocarcinoma": 0.55, "squamous": 0.30, "small cell": 0.15}),
    "breast": dict(share=0.25, age=(56, 11), male=0.01, base=-0.6,
                   histology={"ductal": 0.80, "lobular": 0.20}),
    "prostate": dict(share=0.20, age=(69, 7), male=1.0, base=-0.7,
                     histology={"acinar": 0.95, "ductal": 0.05}),
    "kidney": dict(share=0.25, age=(62, 10), male=0.65, base=-0.5,
                   histology={"clear cell": 0.75, "papillary": 0.25}),
}
SHAPE = (16, 32, 32)          # z, y, x voxels
SPACING = (1.0, 1.0, 2.0)     # x, y, z in mm (SimpleITK order)
SLIDE_SIZE = 768
SLIDE_MPP = 0.5


@dataclass
class DemoCohort:
    """Paths of a generated demo cohort."""

    root: Path
    clinical: Path
    scans: Path
    slides: Path
    study: Path
    truth: Path
    n_patients: int


def _clinical(n: int, rng: np.random.Generator) -> pd.DataFrame:
    centre = np.where(rng.random(n) < 0.7, "A", "B")
    names = list(CANCER_TYPES)
    rows = []
    for i in range(n):
        shares = np.array([CANCER_TYPES[c]["share"] for c in names])
        if centre[i] == "B":  # centre B: more lung cancer (a case-mix shift)
            shares = shares * np.array([1.5, 0.9, 0.8, 0.8])
        ctype = names[rng.choice(len(names), p=shares / shares.sum())]
        spec = CANCER_TYPES[ctype]
        age = float(np.clip(rng.normal(*spec["age"]) + (3 if centre[i] == "B" else 0), 30, 90))
        hist = list(spec["histology"])
        rows.append(dict(
            patient_id=f"P{i + 1:04d}",
            centre=centre[i],
            scanner=("B1" if centre[i] == "B" else ("A1" if rng.random() < 0.6 else "A2")),
            cancer_type=ctype,
            age=round(age),
            sex="M" if rng.random() < spec["male"] else "F",
            histology=hist[rng.choice(len(hist), p=list(spec["histology"].values()))],
            t_stage=f"T{rng.choice(4, p=[0.25, 0.35, 0.25, 0.15]) + 1}",
            n_stage=f"N{rng.choice(3, p=[0.5, 0.3, 0.2])}",
            alp=round(float(np.exp(rng.normal(np.log(85), 0.3))), 0),
            calcium=round(float(rng.normal(2.35, 0.10)), 2),
            prior_bone_therapy=int(rng.random() < 0.02),
        ))
    return pd.DataFrame(rows)


def _linear_predictor(df: pd.DataFrame, z_img, z_path) -> np.ndarray:
    base = df["cancer_type"].map({c: s["base"] for c, s in CANCER_TYPES.items()}).to_numpy(float)
    alp = 0.9 * (np.log(df["alp"].to_numpy(float)) - np.log(85)) / 0.3
    n_step = df["n_stage"].str[1].astype(int).to_numpy()
    t_step = df["t_stage"].str[1].astype(int).to_numpy() - 1
    ctype = df["cancer_type"].to_numpy()
    specific = np.select(
        [ctype == "lung", ctype == "breast", ctype == "prostate", ctype == "kidney"],
        [0.9 * n_step, 0.4 * (df["calcium"].to_numpy(float) - 2.35) / 0.1, 0.8 * t_step,
         0.06 * (df["age"].to_numpy(float) - 62)])
    return base + alp + specific + 1.5 * z_img + 1.5 * z_path


def _write_volume(path_img: Path, path_mask: Path, rng, *, t_stage: int, z_img: float,
                  offset: float) -> None:
    import SimpleITK as sitk
    from scipy import ndimage

    nz, ny, nx = SHAPE
    zz, yy, xx = np.mgrid[:nz, :ny, :nx].astype(np.float32)
    zz_mm, yy_mm, xx_mm = zz * SPACING[2], yy * SPACING[1], xx * SPACING[0]
    # Soft tissue with smooth variation, a fat region in one corner, and scanner noise.
    tissue = 40 + ndimage.gaussian_filter(rng.normal(0, 1, SHAPE), 3) * 40
    fat = (yy + xx + rng.normal(0, 1)) > 50
    vol = np.where(fat, -100.0, tissue)
    # Lesion: an ellipsoid whose size grows with T stage.
    radius = np.clip(3.5 + 1.0 * t_stage + rng.normal(0, 0.7, 3), 3.0, 8.0)
    centre = np.array([nz * SPACING[2] / 2, ny / 2, nx / 2]) + rng.normal(0, 1.0, 3)
    lesion = (((zz_mm - centre[0]) / radius[0]) ** 2 + ((yy_mm - centre[1]) / radius[1]) ** 2
              + ((xx_mm - centre[2]) / radius[2]) ** 2) < 1
    texture = ndimage.gaussian_filter(rng.normal(0, 1, SHAPE), 0.8)
    texture /= texture[lesion].std() + 1e-9
    seen = z_img + rng.normal(0, 0.35)  # what the scan shows of the latent variable
    vol = np.where(lesion, 50 + 6 * seen + 10 * np.exp(0.45 * seen) * texture, vol)
    vol = vol + rng.normal(0, 6, SHAPE) + offset
    img = sitk.GetImageFromArray(np.round(vol).astype(np.int16))
    img.SetSpacing(SPACING)
    mask = sitk.GetImageFromArray(lesion.astype(np.uint8))
    mask.CopyInformation(img)
    sitk.WriteImage(img, str(path_img), True)
    sitk.WriteImage(mask, str(path_mask), True)


def _write_slide(path: Path, rng, *, z_path: float, centre: str) -> None:
    size = SLIDE_SIZE
    yy, xx = np.ogrid[:size, :size]
    a, b = rng.uniform(0.30, 0.44, 2) * size
    cy, cx = size / 2 + rng.normal(0, 20, 2)
    tissue = ((yy - cy) / a) ** 2 + ((xx - cx) / b) ** 2 < 1
    img = _he_like_image(size, size, nuclei_density=0.0015 * np.exp(0.5 * z_path),
                        nucleus_radius=float(np.clip(3 + 0.6 * z_path, 1.5, 6)),
                        tissue=tissue, random_state=rng,
                        # a bluer stain at the second centre
                        stroma_rgb=(224, 170, 210) if centre == "B" else (232, 170, 200),
                        nucleus_rgb=(87, 50, 150) if centre == "B" else (95, 50, 140))
    _write_pyramid(path, img, mpp=SLIDE_MPP, tile=256)


# ---------------------------------------------------------------------------------------
# Slides. Until the pathology package's synthetic-slide writer can write JPEG tiles without
# imagecodecs, the demo writes its pyramids here: Pillow encodes each tile and tifffile
# writes the encoded bytes unchanged (photometric YCbCr), which OpenSlide reads as a generic
# tiled TIFF with its µm/px from the resolution tags.
# ---------------------------------------------------------------------------------------
def _jpeg_tiles(level: np.ndarray, tile: int, quality: int):
    from PIL import Image

    h, w = level.shape[:2]
    for y in range(0, h, tile):
        for x in range(0, w, tile):
            block = np.full((tile, tile, 3), 255, np.uint8)
            sub = level[y:y + tile, x:x + tile]
            block[:sub.shape[0], :sub.shape[1]] = sub
            buf = io.BytesIO()
            Image.fromarray(block).save(buf, format="JPEG", quality=quality)
            yield buf.getvalue()


def _halve(a: np.ndarray) -> np.ndarray:
    """Half the size by averaging 2 x 2 blocks (Pillow's box reduction)."""
    from PIL import Image

    h, w = (a.shape[0] // 2) * 2, (a.shape[1] // 2) * 2
    return np.asarray(Image.fromarray(np.ascontiguousarray(a[:h, :w])).reduce(2))


def _write_pyramid(path: str | os.PathLike, image: np.ndarray, *, mpp: float | None = 0.5,
                tile: int = 256, levels: int | None = None, quality: int = 90,
                description: str | None = None) -> Path:
    """Write ``image`` as a pyramidal tiled JPEG TIFF that OpenSlide opens.

    Parameters
    ----------
    path : str or path
        Output file (``.tif``/``.tiff``).
    image : ndarray of uint8, shape (height, width, 3)
        Level-0 RGB pixels.
    mpp : float or None, default 0.5
        Level-0 micrometres per pixel, written as TIFF resolution tags
        (pixels per centimetre). ``None`` writes no resolution (a slide whose
        µm/px OpenSlide cannot report).
    tile : int, default 256
        Tile edge in pixels (a multiple of 16, as TIFF requires).
    levels : int, optional
        Number of pyramid levels; default: halve until the level fits one tile.
    quality : int, default 90
        JPEG quality.
    description : str, optional
        ImageDescription of level 0 (e.g. an Aperio-style header).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import tifffile

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"_write_pyramid expects an RGB uint8 image of shape (height, width, 3); "
                         f"got dtype {image.dtype} and shape {image.shape}.")
    if tile % 16:
        raise ValueError(f"The 'tile' parameter of _write_pyramid must be a multiple of 16. Got {tile} instead.")
    if mpp is not None and not (np.isfinite(mpp) and mpp > 0):
        raise ValueError(f"The 'mpp' parameter of _write_pyramid must be a positive number or None. "
                         f"Got {mpp!r} instead.")
    pyramid = [image]
    while (levels is None and max(pyramid[-1].shape[:2]) > tile) or \
            (levels is not None and len(pyramid) < levels):
        if min(pyramid[-1].shape[:2]) < 2:
            break
        pyramid.append(_halve(pyramid[-1]))
    path = Path(path)
    with tifffile.TiffWriter(path) as tw:
        for i, level in enumerate(pyramid):
            kw = {}
            if mpp is not None:
                ppcm = 1e4 / (mpp * 2 ** i)
                kw.update(resolution=(ppcm, ppcm), resolutionunit="CENTIMETER")
            tw.write(_jpeg_tiles(level, tile, quality), shape=level.shape, dtype=np.uint8,
                     tile=(tile, tile), compression="jpeg", photometric="ycbcr",
                     subfiletype=0 if i == 0 else 1,
                     description=description if i == 0 else None, metadata=None, **kw)
    return path


def _he_like_image(height: int, width: int, *, nuclei_density: float = 0.002,
                  nucleus_radius: float = 3.0, tissue: np.ndarray | None = None,
                  stroma_rgb=(232, 170, 200), nucleus_rgb=(95, 50, 140),
                  random_state=None) -> np.ndarray:
    """An H&E-like RGB field: pink stroma with purple nuclei on a white background.

    Parameters
    ----------
    height, width : int
        Size in pixels.
    nuclei_density : float, default 0.002
        Nuclei per tissue pixel.
    nucleus_radius : float, default 3.0
        Nucleus radius in pixels.
    tissue : ndarray of bool, shape (height, width), optional
        Where tissue is; default: an ellipse filling most of the field.
    stroma_rgb, nucleus_rgb : tuple of 3 int
        Mean colours of stroma and nuclei (a stain or scanner difference).
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    ndarray of uint8, shape (height, width, 3)
    """
    rng = np.random.default_rng(random_state)
    if tissue is None:
        yy, xx = np.ogrid[:height, :width]
        tissue = ((yy - height / 2) / (0.42 * height)) ** 2 + ((xx - width / 2) / (0.42 * width)) ** 2 < 1
    tissue = np.asarray(tissue, bool)
    if tissue.shape != (height, width):
        raise ValueError(f"he_like_image: 'tissue' has shape {tissue.shape} but the image is "
                         f"({height}, {width}).")
    # Stroma: a smooth intensity variation drawn on a 1/8 grid and upsampled.
    coarse = rng.normal(0, 1, (height // 8 + 2, width // 8 + 2)).astype(np.float32)
    coarse = (coarse[:-1, :-1] + coarse[1:, :-1] + coarse[:-1, 1:] + coarse[1:, 1:]) / 4 * 30
    colour = np.asarray(stroma_rgb, np.float32) + coarse[..., None] * np.array([0.3, 0.6, 0.4], np.float32)
    colour = np.clip(colour, 0, 255).astype(np.uint8)
    stroma = np.repeat(np.repeat(colour, 8, axis=0), 8, axis=1)[:height, :width]
    img = np.array(stroma)
    img[~tissue] = (243, 243, 246)  # glass
    # Nuclei: discs stamped at random tissue positions.
    n = rng.poisson(nuclei_density * np.count_nonzero(tissue))
    if n:
        py = rng.integers(0, height, 4 * n + 16)
        px = rng.integers(0, width, 4 * n + 16)
        keep = tissue[py, px]
        py, px = py[keep][:n], px[keep][:n]
        n = len(py)
        r = max(int(np.ceil(nucleus_radius)), 1)
        dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
        inside = dy ** 2 + dx ** 2 <= nucleus_radius ** 2
        dy, dx = dy[inside], dx[inside]
        qy = np.clip(py[:, None] + dy[None, :], 0, height - 1).ravel()
        qx = np.clip(px[:, None] + dx[None, :], 0, width - 1).ravel()
        shade = np.repeat(rng.normal(0, 12, n), len(dy))
        rgb = np.clip(np.asarray(nucleus_rgb, np.float32) + shade[:, None], 0, 255).astype(np.uint8)
        on = tissue[qy, qx]
        img[qy[on], qx[on]] = rgb[on]
    return img


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _write_patient(task) -> dict:
    root, i, pid, t_stage, z_img, z_path, scanner, centre, seed, with_scan, with_slide = task
    root = Path(root)
    out = {}
    if with_scan:
        img, mask = Path("scans") / f"{pid}_ct.nrrd", Path("scans") / f"{pid}_mask.nrrd"
        _write_volume(root / img, root / mask, np.random.default_rng([seed, i, 1]), t_stage=t_stage,
                      z_img=z_img, offset=5.0 if scanner == "B1" else 0.0)
        out["scan"] = {"patient_id": pid, "image": img.as_posix(), "mask": mask.as_posix()}
    if with_slide:
        path = Path("slides") / f"{pid}_HE.tif"
        _write_slide(root / path, np.random.default_rng([seed, i, 2]), z_path=z_path, centre=centre)
        out["slide"] = {"slide_id": f"{pid}_HE", "path": path.as_posix(), "patient_id": pid}
    return out


def make_demo_cohort(out: str | os.PathLike, *, n_patients: int = 400, random_state: int = 20210,
                     slides: bool = True, jobs: int = 1, overwrite: bool = False) -> DemoCohort:
    """Write the synthetic bone-metastasis demo cohort under ``out``.

    Parameters
    ----------
    out : str or path
        Folder to write (created). See the module docstring for its content.
    n_patients : int, default 400
        Patients generated (at least 40).
    random_state : int, default 20210
        Seed: the same seed writes the same cohort, byte for byte.
    slides : bool, default True
        Also write the slides (the slowest part); ``False`` leaves
        ``slides.csv`` and the pathology section out.
    jobs : int, default 1
        Worker processes writing scans and slides (the cohort is the same for
        any number).
    overwrite : bool, default False
        Replace an existing cohort in ``out``; otherwise a folder that already
        holds a ``clinical.csv`` is refused.

    Returns
    -------
    DemoCohort
    """
    if not isinstance(n_patients, (int, np.integer)) or isinstance(n_patients, bool) or n_patients < 40:
        raise ValueError(f"The 'n_patients' parameter of make_demo_cohort must be an integer >= 40. "
                         f"Got {n_patients!r} instead.")
    root = Path(out)
    if (root / "clinical.csv").exists() and not overwrite:
        raise FileExistsError(f"'{root}' already holds a cohort (clinical.csv); choose another "
                              "folder or pass overwrite=True.")
    for sub in ("scans", "slides"):
        if overwrite and (root / sub).exists():
            shutil.rmtree(root / sub)
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(random_state)
    df = _clinical(n_patients, rng)
    z_img = rng.normal(0, 1, n_patients)
    z_path = rng.normal(0, 1, n_patients)
    lp = _linear_predictor(df, z_img, z_path)
    risk = 1 / (1 + np.exp(-lp))
    df["bone_metastasis"] = (rng.random(n_patients) < risk).astype(int)
    # About 2 % without a calcium value (incomplete: excluded in the cohort flow).
    missing = rng.random(n_patients) < 0.02
    df.loc[missing, "calcium"] = np.nan

    # One task per patient (each with its own seeded generator, so the cohort does not
    # depend on the number of workers); one patient has no scan.
    no_scan = int(rng.integers(0, n_patients))
    tasks = [(str(root), i, row.patient_id, int(row.t_stage[1]), float(z_img[i]), float(z_path[i]),
              row.scanner, row.centre, random_state, i != no_scan, slides)
             for i, row in enumerate(df.itertuples(index=False))]
    if jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                          else "spawn")
        with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
            written = list(pool.map(_write_patient, tasks, chunksize=16))
    else:
        written = [_write_patient(t) for t in tasks]
    scan_rows = [w["scan"] for w in written if w.get("scan")]
    # One truncated scan and (below) one truncated slide: extraction failures the report lists.
    broken = scan_rows[int(rng.integers(0, len(scan_rows)))]
    _truncate(root / broken["image"], 1 / 3)
    pd.DataFrame(scan_rows).to_csv(root / "scans.csv", index=False)
    if slides:
        slide_rows = [w["slide"] for w in written]
        others = [r for r in slide_rows if r["patient_id"] != broken["patient_id"]]
        _truncate(root / others[int(rng.integers(0, len(others)))]["path"], 1 / 2)
        pd.DataFrame(slide_rows).to_csv(root / "slides.csv", index=False)

    df.to_csv(root / "clinical.csv", index=False)
    truth = pd.DataFrame({"patient_id": df["patient_id"], "z_img": z_img, "z_path": z_path,
                          "linear_predictor": lp, "risk": risk})
    truth.to_csv(root / "truth.csv", index=False)
    study = root / "study.yaml"
    template = Path(__file__).resolve().parent / "examples" / "demo.yaml"
    text = template.read_text(encoding="utf-8")
    if not slides:
        text = _without_pathology(text)
    study.write_text(text, encoding="utf-8")
    return DemoCohort(root=root, clinical=root / "clinical.csv", scans=root / "scans.csv",
                      slides=root / "slides.csv", study=study, truth=root / "truth.csv",
                      n_patients=n_patients)


def _without_pathology(text: str) -> str:
    """The demo study without its pathology section and the labels that use slides."""
    import yaml

    data = yaml.safe_load(text)
    data.pop("pathology", None)
    keep = {k: v for k, v in data.get("labels", {}).items()
            if "pathology" not in ([v["source"]] if isinstance(v["source"], str) else v["source"])}
    data["labels"] = keep
    data["models"] = {k: v for k, v in data["models"].items()
                      if all(lab in keep for lab in v.get("labels", []))}
    factors = data.get("clinical_factors", {})
    known = set(factors.get("candidates", [])) | set(keep)
    if "display_names" in factors:
        factors["display_names"] = {k: v for k, v in factors["display_names"].items() if k in known}
    header = "# The demo study without slides (make_demo_cohort(slides=False)).\n"
    return header + yaml.safe_dump(data, sort_keys=False)
