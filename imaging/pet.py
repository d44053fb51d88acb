r"""PET quantification: body-weight SUV, SUVmax/mean/peak, metabolic tumour volume, TLG.

Body-weight SUV (QIBA FDG-PET/CT profile; Kinahan & Fletcher 2010):

.. math::

    \mathrm{SUV_{bw}} = \frac{C\,[\mathrm{Bq/ml}] \cdot W\,[\mathrm{g}]}
                           {D_0\,[\mathrm{Bq}] \cdot 2^{-\Delta t / T_{1/2}}}

with :math:`C` the voxel activity concentration (DICOM ``Units`` = ``BQML``),
:math:`W` the patient weight in grams (``PatientWeight`` is in kg),
:math:`D_0` the injected dose (``RadionuclideTotalDose``), :math:`T_{1/2}` the
half-life (``RadionuclideHalfLife``) and :math:`\Delta t` the time between
injection (``RadiopharmaceuticalStartDateTime`` or ``...StartTime``) and the
time the image is decay-corrected to (``SeriesDate/SeriesTime`` when
``DecayCorrection`` is ``START``). With ``DecayCorrection`` = ``ADMIN`` the
image is already corrected to the injection time and :math:`\Delta t = 0`.
The SUV image is :math:`C \times` :func:`suv_factor`.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .exceptions import DicomTagError, EmptyRegionError, ImageReadError, _where

__all__ = [
    "suv_factor",
    "suv_factor_from_dicom",
    "to_suv",
    "pet_metrics",
    "suv_peak",
    "metabolic_volume",
    "SUVPEAK_RADIUS_MM",
]

#: Radius (mm) of the 1 cm^3 sphere of SUVpeak: (3 / (4 pi) * 1000 mm^3)^(1/3) = 6.2035 mm.
SUVPEAK_RADIUS_MM = 6.2


def suv_factor(weight_kg: float, injected_dose_bq: float, half_life_s: float,
               injection_time, scan_time) -> float:
    r"""Factor turning Bq/ml into body-weight SUV (g/ml).

    .. math:: f = \frac{1000\,W_{kg}}{D_0 \, 2^{-\Delta t / T_{1/2}}}

    Parameters
    ----------
    weight_kg : float
        Patient weight (kg).
    injected_dose_bq : float
        Injected activity at injection time (Bq).
    half_life_s : float
        Radionuclide half-life (s); 6586.2 s for 18F.
    injection_time, scan_time : datetime.datetime or float
        Injection time and the time the image is decay-corrected to; both
        datetimes, or both seconds on the same clock. ``scan_time`` must not be
        earlier than ``injection_time``.

    Returns
    -------
    float

    Examples
    --------
    >>> round(suv_factor(70, 370e6, 6586.2, 0.0, 3600.0), 8)  # 70 kg, 370 MBq, 60 min
    0.00027634
    """
    for name, v in (("weight_kg", weight_kg), ("injected_dose_bq", injected_dose_bq),
                    ("half_life_s", half_life_s)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(v) and v > 0):
            raise ValueError(f"The '{name}' parameter of suv_factor must be a positive number. "
                             f"Got {v!r} instead.")
    if isinstance(injection_time, _dt.datetime) and isinstance(scan_time, _dt.datetime):
        delta = (scan_time - injection_time).total_seconds()
    else:
        delta = float(scan_time) - float(injection_time)
    if delta < 0:
        raise ValueError(
            f"The scan (decay-correction) time is {-delta:.0f} s before the injection time; "
            "check RadiopharmaceuticalStartTime and SeriesTime/AcquisitionTime."
        )
    decayed = injected_dose_bq * 2.0 ** (-delta / half_life_s)
    return 1000.0 * weight_kg / decayed


def _parse_da_tm(da: str | None, tm: str) -> _dt.datetime:
    tm = str(tm).strip()
    hh, mm, ss = int(tm[0:2]), int(tm[2:4] or 0), float(tm[4:] or 0)
    date = _dt.datetime.strptime(str(da).strip(), "%Y%m%d") if da else _dt.datetime(2000, 1, 1)
    return date + _dt.timedelta(hours=hh, minutes=mm, seconds=ss)


def _parse_dt(dt: str) -> _dt.datetime:
    dt = str(dt).strip()
    for sign in "+-":
        if sign in dt[8:]:
            dt = dt[: 8 + dt[8:].index(sign)]  # drop the UTC offset, both times share it
    return _parse_da_tm(dt[:8], dt[8:] or "000000")


def suv_factor_from_dicom(source, *, case_id=None, time_reference: str = "series") -> float:
    """Body-weight SUV factor from the tags of a PET DICOM file (or series directory).

    Parameters
    ----------
    source : path-like or pydicom.Dataset
        A PET DICOM file, a directory (its first DICOM file is read) or a dataset.
    time_reference : {"series", "acquisition"}, default "series"
        Scan time used for decay: ``SeriesDate/SeriesTime`` (QIBA, for
        ``DecayCorrection`` = ``START``) or ``AcquisitionDate/AcquisitionTime``.

    Returns
    -------
    float
        Multiply the image (Bq/ml) by it to get SUVbw.

    Raises
    ------
    DicomTagError
        A needed tag is missing or unusable; the message names the tag and the file.
    """
    import pydicom

    path = None
    if isinstance(source, pydicom.Dataset):
        ds = source
    else:
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file())
            if not files:
                raise ImageReadError(f"No file in the PET directory{_where(path, case_id)}.")
            path = files[0]
        try:
            ds = pydicom.dcmread(os.fspath(path), stop_before_pixels=True)
        except Exception as exc:  # pydicom raises InvalidDicomError and others
            raise ImageReadError(f"Could not read the DICOM file{_where(path, case_id)}: {exc}") from exc
    where = _where(path, case_id)

    def need(obj, tag, ctx=""):
        value = getattr(obj, tag, None)
        if value is None or value == "":
            raise DicomTagError(
                f"DICOM tag {tag}{ctx} is missing{where}; it is needed for body-weight SUV. "
                "Give the SUV factor directly with suv_factor=... (imaging.pet.suv_factor)."
            )
        return value

    units = str(need(ds, "Units")).upper()
    if units != "BQML":
        raise DicomTagError(
            f"DICOM tag Units is {units!r}{where}; body-weight SUV from tags needs 'BQML' "
            "(activity concentration). For CNTS or GML images give suv_factor= directly."
        )
    weight = float(need(ds, "PatientWeight"))
    if not weight > 0:
        raise DicomTagError(f"DICOM tag PatientWeight is {weight!r}{where}; expected a weight in kg > 0.")
    seq = need(ds, "RadiopharmaceuticalInformationSequence")
    if len(seq) == 0:
        raise DicomTagError(f"DICOM tag RadiopharmaceuticalInformationSequence is empty{where}.")
    rp = seq[0]
    ctx = " (in RadiopharmaceuticalInformationSequence)"
    dose = float(need(rp, "RadionuclideTotalDose", ctx))
    half_life = float(need(rp, "RadionuclideHalfLife", ctx))
    decay = str(getattr(ds, "DecayCorrection", "START") or "START").upper()
    if decay == "ADMIN":
        return suv_factor(weight, dose, half_life, 0.0, 0.0)
    if decay != "START":
        raise DicomTagError(f"DICOM tag DecayCorrection is {decay!r}{where}; supported: START, ADMIN.")

    if getattr(rp, "RadiopharmaceuticalStartDateTime", None):
        inj = _parse_dt(rp.RadiopharmaceuticalStartDateTime)
        inj_has_date = True
    else:
        inj = _parse_da_tm(None, need(rp, "RadiopharmaceuticalStartTime", ctx))
        inj_has_date = False
    if time_reference == "series":
        date_tag, time_tag = "SeriesDate", "SeriesTime"
    elif time_reference == "acquisition":
        date_tag, time_tag = "AcquisitionDate", "AcquisitionTime"
    else:
        raise ValueError("The 'time_reference' parameter of suv_factor_from_dicom must be one of "
                         f"{{'acquisition', 'series'}}. Got {time_reference!r} instead.")
    scan_tm = need(ds, time_tag)
    if inj_has_date:
        scan = _parse_da_tm(need(ds, date_tag), scan_tm)
    else:
        scan = _parse_da_tm(None, scan_tm)
        if scan < inj:  # injection before midnight, scan after
            scan += _dt.timedelta(days=1)
    return suv_factor(weight, dose, half_life, inj, scan)


def to_suv(image: sitk.Image, factor: float) -> sitk.Image:
    """Return ``image * factor`` as a float64 image (Bq/ml to SUV)."""
    return sitk.Cast(image, sitk.sitkFloat64) * float(factor)


def _arrays(image, voi, case_id):
    from .geometry import check_image_mask_geometry

    check_image_mask_geometry(image, voi, case_id=case_id, mask_name="VOI")
    arr = sitk.GetArrayFromImage(image).astype(np.float64)
    m = sitk.GetArrayViewFromImage(voi) > 0
    if not m.any():
        raise EmptyRegionError(f"The PET VOI is empty{_where(None, case_id)}.")
    return arr, m


def sphere_offsets(spacing_zyx, radius_mm: float) -> np.ndarray:
    """Integer (z, y, x) offsets of the voxels whose centres lie within ``radius_mm`` of the origin."""
    r = [int(math.floor(radius_mm / s)) for s in spacing_zyx]
    zz, yy, xx = np.meshgrid(*[np.arange(-k, k + 1) for k in r], indexing="ij")
    d2 = (zz * spacing_zyx[0]) ** 2 + (yy * spacing_zyx[1]) ** 2 + (xx * spacing_zyx[2]) ** 2
    keep = d2 <= radius_mm ** 2 + 1e-9
    return np.stack([zz[keep], yy[keep], xx[keep]], axis=1)


def suv_peak(image: sitk.Image, voi: sitk.Image, *, radius_mm: float = SUVPEAK_RADIUS_MM,
             case_id=None) -> tuple[float, tuple[int, int, int]]:
    r"""SUVpeak: the largest mean SUV in a 1 cm³ sphere (PERCIST 1.0).

    .. math:: \mathrm{SUV_{peak}} = \max_{c \in V} \frac{1}{|S_c|}\sum_{v \in S_c} \mathrm{SUV}(v),
              \quad S_c = \{v : \lVert x_v - x_c \rVert \le r\}

    Search domain: the sphere centre :math:`c` runs over the centres of the
    voxels of the VOI :math:`V`; the sphere :math:`S_c` takes every image voxel
    whose centre is within :math:`r` = 6.2 mm (1 cm³) of :math:`c`, inside or
    outside the VOI (PERCIST places the sphere "within the tumour" by its centre).
    Near the image border only voxels inside the image are averaged.

    Returns
    -------
    (float, (z, y, x))
        SUVpeak and the array index (z, y, x) of the sphere centre.

    References
    ----------
    Wahl RL, Jacene H, Kasamon Y, Lodge MA. From RECIST to PERCIST: evolving
    considerations for PET response criteria in solid tumors. J Nucl Med
    2009;50 Suppl 1:122S-150S.
    """
    arr, m = _arrays(image, voi, case_id)
    sp = image.GetSpacing()[::-1]
    offs = sphere_offsets(sp, radius_mm)
    r = np.abs(offs).max(axis=0)
    idx = np.argwhere(m)
    lo = np.maximum(idx.min(0) - r, 0)
    hi = np.minimum(idx.max(0) + r + 1, arr.shape)
    sub = arr[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    kernel = np.zeros(2 * r + 1)
    kernel[tuple((offs + r).T)] = 1.0
    from scipy import ndimage

    sums = ndimage.correlate(sub, kernel, mode="constant", cval=0.0)
    counts = ndimage.correlate(np.ones_like(sub), kernel, mode="constant", cval=0.0)
    means = sums / counts
    msub = m[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    cand = np.where(msub, means, -np.inf)
    best = np.unravel_index(int(np.argmax(cand)), cand.shape)
    return float(cand[best]), tuple(int(b + l) for b, l in zip(best, lo))


def metabolic_volume(image: sitk.Image, voi: sitk.Image, *, relative: float | None = 0.4,
                     absolute: float | None = None, case_id=None) -> sitk.Image:
    r"""Metabolic tumour volume mask: VOI voxels with SUV at or above a threshold.

    .. math:: M = \{v \in V : \mathrm{SUV}(v) \ge t\},\quad
              t = \text{relative}\cdot\mathrm{SUV_{max}}(V) \text{ or } t = \text{absolute}

    Give exactly one of ``relative`` (fraction of SUVmax, e.g. 0.4 for the 41 %/40 %
    rule) or ``absolute`` (SUV, e.g. 2.5).

    Returns
    -------
    SimpleITK.Image
        Binary ``sitkUInt8`` mask named ``mtv40`` / ``mtv2p5`` (see :func:`imaging.regions.region_name`).
    """
    if (relative is None) == (absolute is None):
        raise ValueError("Give exactly one of relative= or absolute= to metabolic_volume.")
    arr, m = _arrays(image, voi, case_id)
    if relative is not None:
        if not 0 < relative <= 1:
            raise ValueError(f"The 'relative' parameter of metabolic_volume must be in (0, 1]. "
                             f"Got {relative!r} instead.")
        t = relative * arr[m].max()
        name = f"mtv{relative * 100:g}".replace(".", "p")
    else:
        t = float(absolute)
        name = f"mtv{absolute:g}".replace(".", "p")
    out = sitk.GetImageFromArray((m & (arr >= t)).astype(np.uint8))
    out.CopyInformation(voi)
    out.SetMetaData("nomofuse_region", name)
    return out


def pet_metrics(image: sitk.Image, voi: sitk.Image, *, relative: float = 0.4,
                absolute: float | None = 2.5, case_id=None) -> dict[str, float]:
    r"""SUVmax, SUVmean, SUVpeak, MTV and TLG of a VOI on an SUV image.

    Keys (``r`` = ``relative``·100, ``a`` = ``absolute`` with "." written "p"):

    - ``SUVmax``, ``SUVmean`` (over the VOI), ``SUVpeak`` (:func:`suv_peak`);
    - ``MTV{r}_ml``: volume (ml) of VOI voxels with SUV ≥ ``relative`` × SUVmax,
      ``SUVmean{r}`` their mean, ``TLG{r}`` = SUVmean{r} × MTV{r}_ml;
    - ``MTV{a}_ml``, ``SUVmean{a}``, ``TLG{a}`` likewise for SUV ≥ ``absolute``
      (``SUVmean{a}`` and ``TLG{a}`` are 0 when no voxel reaches the threshold).

    Volumes are voxel counts times the voxel volume (mm³ / 1000).

    References
    ----------
    Boellaard R et al. FDG PET/CT: EANM procedure guidelines for tumour imaging:
    version 2.0. Eur J Nucl Med Mol Imaging 2015;42:328-354.
    """
    arr, m = _arrays(image, voi, case_id)
    vox_mm3 = float(np.prod(image.GetSpacing()))
    vals = arr[m]
    out = {"SUVmax": float(vals.max()), "SUVmean": float(vals.mean())}
    out["SUVpeak"] = suv_peak(image, voi, case_id=case_id)[0]
    thresholds = []
    if relative is not None:
        thresholds.append((f"{relative * 100:g}".replace(".", "p"), relative * vals.max()))
    if absolute is not None:
        thresholds.append((f"{absolute:g}".replace(".", "p"), float(absolute)))
    for tag, t in thresholds:
        sel = vals[vals >= t]
        mtv = sel.size * vox_mm3 / 1000.0
        mean = float(sel.mean()) if sel.size else 0.0
        out[f"MTV{tag}_ml"] = mtv
        out[f"SUVmean{tag}"] = mean
        out[f"TLG{tag}"] = mean * mtv
    return out
