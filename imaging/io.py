"""Reading volumes and masks: NIfTI, NRRD, MHA, DICOM series, DICOM SEG, RTSTRUCT.

Volumes and label images are read with SimpleITK, so every format it knows
(``.nii``, ``.nii.gz``, ``.nrrd``, ``.mha``, ``.mhd``, ...) works. A directory
is read as a DICOM series. DICOM SEG objects are read with ``highdicom`` and
RTSTRUCT contours are rasterised with pydicom (:func:`read_rtstruct`).
highdicom is optional (``pip install 'nomofuse[dicom]'``) and imported only
when used.

Every error names the file and, when given, the case id.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from .exceptions import ImageReadError, LabelError, MissingOptionalDependencyError, _where

__all__ = [
    "read_image",
    "read_mask",
    "as_label_image",
    "check_label",
    "MAX_LABELS",
    "list_dicom_series",
    "read_dicom_seg",
    "read_rtstruct",
]

_INTEGER_PIXEL_IDS = {
    sitk.sitkUInt8, sitk.sitkInt8, sitk.sitkUInt16, sitk.sitkInt16,
    sitk.sitkUInt32, sitk.sitkInt32, sitk.sitkUInt64, sitk.sitkInt64,
}


#: A mask with more distinct non-zero values than this is refused: it is an image, not labels.
MAX_LABELS = 255

_SWAPPED = ("check that the image and the mask are not swapped (in a manifest: the image and "
            "mask columns)")


def _require(module: str, extra: str, purpose: str):
    """Import ``module`` or raise an error naming the pip extra that provides it.

    The message is :func:`nomogram.checks.require`'s one line (``pip install "nomofuse[extra]"``).
    """
    from nomogram.checks import require
    from nomogram.exceptions import MissingDependencyError

    try:
        return require(module, purpose=purpose, extra=extra)
    except MissingDependencyError as exc:
        raise MissingOptionalDependencyError(str(exc), name=exc.module) from None


def list_dicom_series(directory, *, case_id=None) -> dict[str, list[str]]:
    """Return ``{SeriesInstanceUID: [sorted file names]}`` for a DICOM directory.

    Files are sorted by GDCM (slice position), as
    ``sitk.ImageSeriesReader.GetGDCMSeriesFileNames`` does.

    Raises
    ------
    ImageReadError
        If the directory does not exist or holds no DICOM series.
    """
    directory = str(directory)
    if not os.path.isdir(directory):
        raise ImageReadError(f"DICOM directory does not exist{_where(directory, case_id)}.")
    uids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(directory) or ()
    series = {
        uid: list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(directory, uid)) for uid in uids
    }
    if not series:
        raise ImageReadError(
            f"No DICOM series found in the directory{_where(directory, case_id)}; "
            "check that it holds .dcm files of one image series (not a SEG or RTSTRUCT alone)."
        )
    return series


def read_image(path, *, series_uid: str | None = None, case_id=None) -> sitk.Image:
    """Read a volume with SimpleITK.

    Parameters
    ----------
    path : str or path-like
        A file (NIfTI, NRRD, MHA/MHD, a single DICOM file, ...) or a directory,
        read as a DICOM series.
    series_uid : str, optional
        For a directory holding several series: the SeriesInstanceUID to read.
        By default the series with the most files (slices) is read.
    case_id : str, optional
        Used in error messages.

    Returns
    -------
    SimpleITK.Image
        The volume with its spacing, origin and direction. A DICOM series keeps
        the reader's metadata dictionary of its first slice on the returned image
        (``image.GetMetaData('0010|0010')``...).

    Raises
    ------
    ImageReadError
        The path is missing, unreadable, or the requested series is absent.

    Examples
    --------
    >>> img = read_image("case_001/CT")                        # doctest: +SKIP
    >>> img = read_image("case_001/ct.nii.gz", case_id="001")  # doctest: +SKIP
    """
    path = Path(path)
    if path.is_dir():
        series = list_dicom_series(path, case_id=case_id)
        if series_uid is None:
            series_uid = max(series, key=lambda uid: len(series[uid]))
        elif series_uid not in series:
            raise ImageReadError(
                f"SeriesInstanceUID {series_uid!r} is not in the directory{_where(path, case_id)}; "
                f"found {sorted(series)}. Pass one of these, or None to read the largest series."
            )
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(series[series_uid])
        reader.MetaDataDictionaryArrayUpdateOn()
        reader.LoadPrivateTagsOn()
        try:
            image = reader.Execute()
        except RuntimeError as exc:
            raise ImageReadError(
                f"Could not read DICOM series {series_uid!r}{_where(path, case_id)}: {exc}"
            ) from exc
        for key in reader.GetMetaDataKeys(0):
            try:
                image.SetMetaData(key, reader.GetMetaData(0, key))
            except (RuntimeError, UnicodeDecodeError):  # pragma: no cover - odd private tags
                pass
        return image
    if not path.exists():
        raise ImageReadError(f"Image file does not exist{_where(path, case_id)}.")
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise ImageReadError(
            f"SimpleITK could not read the image{_where(path, case_id)}: {str(exc).strip()}"
        ) from exc


def read_mask(path, *, case_id=None, series_uid: str | None = None,
              reference: sitk.Image | None = None, max_labels: int = MAX_LABELS) -> sitk.Image:
    """Read a label image (mask) and return it with an unsigned integer pixel type.

    A mask is a label image: 0 is background and each positive integer a
    structure. A floating-point file whose values are all integers (as some
    tools write) is accepted and cast; one with fractional values is refused.

    Parameters
    ----------
    path : str or path-like
        Label image file (NIfTI, NRRD, MHA, ...) or a DICOM directory. With
        ``reference`` given, a DICOM SEG file is recognised (Modality SEG) and
        read with :func:`read_dicom_seg` onto the reference grid. For RTSTRUCT
        use :func:`read_rtstruct` (it needs the ROI name).
    case_id : str, optional
        Used in error messages.
    reference : SimpleITK.Image, optional
        The image the mask belongs to (needed for DICOM SEG).
    max_labels : int, default :data:`MAX_LABELS`
        Most distinct non-zero labels accepted (see :func:`as_label_image`).

    Returns
    -------
    SimpleITK.Image
        ``sitkUInt8`` if the largest label is below 256, ``sitkUInt32`` otherwise.

    Raises
    ------
    ImageReadError
        Unreadable file, a vector image, fractional, non-finite or negative
        values, or too many labels (an image given as the mask); see
        :func:`as_label_image`.
    """
    if reference is not None and Path(path).is_file() and _is_dicom_seg(path):
        return read_dicom_seg(path, reference, case_id=case_id)
    image = read_image(path, case_id=case_id, series_uid=series_uid)
    return as_label_image(image, path=path, case_id=case_id, max_labels=max_labels)


def _is_dicom_seg(path) -> bool:
    """True if ``path`` is a DICOM file whose Modality is SEG (reads the header only)."""
    try:
        import pydicom
        from pydicom.misc import is_dicom

        if not is_dicom(os.fspath(path)):
            return False
        ds = pydicom.dcmread(os.fspath(path), stop_before_pixels=True, specific_tags=["Modality"])
        return str(getattr(ds, "Modality", "")) == "SEG"
    except Exception:  # not DICOM, unreadable header: let SimpleITK try and report
        return False


def as_label_image(image: sitk.Image, *, path=None, case_id=None,
                   max_labels: int = MAX_LABELS) -> sitk.Image:
    """Check that ``image`` is a label image (a mask) and cast it to an unsigned integer type.

    The one checker of masks (:func:`read_mask`, the organ and ring masks of
    :func:`imaging.extract_case` and DICOM SEG objects all pass through it).
    A label image holds 0 for background and one positive integer per
    structure, a few of them. Refused, with the file, the case and the fix:

    * a vector image (several components per voxel);
    * non-finite or fractional values (a probability map, or an image given
      as the mask: a PET or an MR in floating point);
    * negative values (a CT in Hounsfield units given as the mask);
    * more than ``max_labels`` distinct non-zero values (an integer MR or CT
      image given as the mask: it has hundreds or thousands of values, and
      "label 1" would be the scattered voxels of intensity 1).

    A floating-point file whose values are all integers (as some tools write)
    is accepted and cast.

    Parameters
    ----------
    image : SimpleITK.Image
    path, case_id : optional
        Named in the messages.
    max_labels : int, default :data:`MAX_LABELS` (255)
        Most distinct non-zero labels a mask may hold. Raise it for a label
        map that really has more structures.

    Returns
    -------
    SimpleITK.Image
        ``sitkUInt8`` if the largest label is below 256, ``sitkUInt32`` otherwise.

    Raises
    ------
    ImageReadError
    """
    where = _where(path, case_id)
    if image.GetNumberOfComponentsPerPixel() != 1:
        raise ImageReadError(
            f"Mask has {image.GetNumberOfComponentsPerPixel()} components per voxel{where};"
            " expected a scalar label image. Convert a one-hot/segmentation vector image to "
            f"labels first, or {_SWAPPED}."
        )
    arr = sitk.GetArrayViewFromImage(image)
    if image.GetPixelID() not in _INTEGER_PIXEL_IDS:
        finite = np.isfinite(arr)
        if not finite.all():
            raise ImageReadError(
                f"Mask holds {int((~finite).sum())} NaN or infinite value(s){where}; expected a "
                f"label image (0 = background, 1, 2, ... = structures): {_SWAPPED}, or fix the "
                "file."
            )
        fractional = np.mod(arr, 1) != 0
        if fractional.any():
            shown = ", ".join(f"{v:g}" for v in np.unique(arr[fractional])[:3])
            raise ImageReadError(
                f"Mask holds non-integer values ({int(fractional.sum())} voxels, e.g. {shown})"
                f"{where}; expected a label image (0 = background, 1, 2, ... = structures): "
                f"{_SWAPPED}, or threshold a probability map first."
            )
    amin = arr.min() if arr.size else 0
    if amin < 0:
        raise ImageReadError(
            f"Mask holds negative values (minimum {amin:g}){where}; expected 0 for background "
            f"and positive integers for structures: {_SWAPPED} (a CT in Hounsfield units is an "
            "image, not a mask)."
        )
    amax = arr.max() if arr.size else 0
    if amax > max_labels:  # only then can there be more than max_labels labels
        n_labels = _count_labels(arr, int(amax))
        if n_labels > max_labels:
            raise ImageReadError(
                f"Mask holds {n_labels} distinct non-zero values (from 1 to {amax:g}){where}; a "
                f"label image holds a few labels (at most {max_labels} accepted), so this looks "
                f"like an image: {_SWAPPED}. For a label map with more structures, pass "
                "max_labels= to imaging.read_mask."
            )
    target = sitk.sitkUInt8 if amax < 256 else sitk.sitkUInt32
    if image.GetPixelID() == target:
        return image
    return sitk.Cast(image, target)


def _count_labels(arr: np.ndarray, amax: int) -> int:
    """Distinct non-zero values of a non-negative integer-valued array."""
    if amax < (1 << 22):
        counts = np.bincount(np.asarray(arr, dtype=np.int64).ravel(), minlength=1)
        return int(np.count_nonzero(counts[1:]))
    values = np.unique(arr)
    return int(np.count_nonzero(values))


def check_label(label, *, path=None, case_id=None) -> int:
    """Check a lesion label (the mask value of the structure to describe); return it as ``int``.

    A label is a positive integer: 0 is the background; ``1.5`` is no label
    (``int(1.5)`` would silently pick label 1); ``True`` is not a label.

    Raises
    ------
    LabelError
        Naming the mask file and the case, with the fix.
    """
    import numbers

    ok = (isinstance(label, numbers.Real) and not isinstance(label, (bool, np.bool_))
          and np.isfinite(float(label)) and float(label).is_integer() and float(label) >= 1)
    if not ok:
        raise LabelError(
            f"The label must be a positive integer (the mask value of the lesion; 0 is the "
            f"background){_where(path, case_id)}. Got {label!r} instead; give the lesion's "
            "value in the mask, e.g. label=1 (in a manifest, the label column)."
        )
    return int(label)


def read_dicom_seg(path, reference: sitk.Image | None = None, *, segment_numbers=None,
                   case_id=None) -> sitk.Image:
    """Read a DICOM SEG object into a label image with ``highdicom``.

    Segments are combined into one label image (segment number = label value;
    overlapping segments are refused by highdicom). If ``reference`` is given,
    the label image is resampled onto its grid with nearest-neighbour
    interpolation, so it can be used directly as a mask for that image.

    Requires the optional extra ``dicom`` (``pip install 'nomofuse[dicom]'``).
    """
    hd = _require("highdicom", "dicom", "Reading a DICOM SEG")
    try:
        seg = hd.seg.segread(str(path))
        vol = seg.get_volume(combine_segments=True, segment_numbers=segment_numbers,
                             relabel=False)
        label = vol.to_simpleitk()
    except (OSError, ValueError, AttributeError, RuntimeError) as exc:
        raise ImageReadError(f"Could not read the DICOM SEG{_where(path, case_id)}: {exc}") from exc
    label = as_label_image(label, path=path, case_id=case_id)
    if reference is not None:
        from .geometry import resample_mask_to_image

        label = resample_mask_to_image(label, reference)
    return label


def _on_polygon(points: np.ndarray, poly: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """True for points lying on an edge of the closed polygon ``poly`` (within ``eps`` voxels)."""
    on = np.zeros(len(points), dtype=bool)
    for p, q in zip(poly, np.roll(poly, -1, axis=0)):
        d = q - p
        L2 = float(d @ d)
        rel = points - p
        if L2 == 0:
            on |= np.abs(rel).max(axis=1) <= eps
            continue
        cross = np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0]) / np.sqrt(L2)
        t = rel @ d / L2
        on |= (cross <= eps) & (t >= -eps) & (t <= 1 + eps)
    return on


def read_rtstruct(path, reference, roi_name: str, *, case_id=None) -> sitk.Image:
    """Rasterise one RTSTRUCT ROI onto the grid of its image.

    Contours (``ROIContourSequence`` / ``ContourSequence`` / ``ContourData``,
    patient coordinates in mm) are mapped to continuous voxel indices of
    ``reference``; each planar contour is assigned to the nearest slice and
    filled with the even-odd rule (a voxel is inside when its centre is inside,
    or on, an odd number of the slice's contours, so inner contours make holes).
    Centres lying on a contour count as inside, so contours traced through the
    centres of edge voxels (as planning systems and rt-utils write them from
    masks) give back the voxels they were traced from.

    Implemented with pydicom and ``matplotlib.path.Path`` rather than
    ``rt-utils``: rt-utils (last release 2023) allocates its masks as
    (Columns, Rows) and mislabels the axes of non-square images.

    Parameters
    ----------
    path : path-like
        The RTSTRUCT file.
    reference : SimpleITK.Image or path-like
        The image the structure set was drawn on, or its DICOM series directory.
    roi_name : str
        ``ROIName`` in ``StructureSetROISequence``.
    case_id : str, optional
        Used in error messages.

    Returns
    -------
    SimpleITK.Image
        ``sitkUInt8`` mask (1 inside the ROI) on the grid of ``reference``.

    Raises
    ------
    ImageReadError
        Not an RTSTRUCT, unknown ROI (the message lists the names), no contour,
        or a contour that is off the image slices.
    """
    import pydicom
    from matplotlib.path import Path as _Path

    image = reference if isinstance(reference, sitk.Image) else read_image(reference, case_id=case_id)
    where = _where(path, case_id)
    try:
        ds = pydicom.dcmread(os.fspath(path))
    except Exception as exc:  # pydicom raises InvalidDicomError and others
        raise ImageReadError(f"Could not read the RTSTRUCT{where}: {exc}") from exc
    if str(getattr(ds, "Modality", "")) != "RTSTRUCT":
        raise ImageReadError(f"File is not an RTSTRUCT (Modality {getattr(ds, 'Modality', None)!r}){where}.")
    names = {int(r.ROINumber): str(r.ROIName) for r in getattr(ds, "StructureSetROISequence", [])}
    numbers = [n for n, name in names.items() if name == roi_name]
    if not numbers:
        raise ImageReadError(f"ROI {roi_name!r} is not in the RTSTRUCT{where}; found {sorted(names.values())}.")
    contours = [c for rc in getattr(ds, "ROIContourSequence", [])
                if int(rc.ReferencedROINumber) == numbers[0]
                for c in getattr(rc, "ContourSequence", [])]
    if not contours:
        raise ImageReadError(f"ROI {roi_name!r} has no contour in the RTSTRUCT{where}.")
    nx, ny, nz = image.GetSize()
    arr = np.zeros((nz, ny, nx), dtype=np.uint8)
    for c in contours:
        pts = np.asarray(c.ContourData, dtype=float).reshape(-1, 3)
        idx = np.array([image.TransformPhysicalPointToContinuousIndex(tuple(p)) for p in pts])
        k = int(np.round(idx[:, 2].mean()))
        if not (0 <= k < nz) or np.abs(idx[:, 2] - k).max() > 0.5:
            raise ImageReadError(
                f"A contour of ROI {roi_name!r} does not lie on a slice of the image{where} "
                f"(continuous slice index {idx[:, 2].min():.2f} to {idx[:, 2].max():.2f} of 0 to {nz - 1}); "
                "check that the RTSTRUCT refers to this series."
            )
        if len(pts) < 3:  # a point or a line has no inside
            continue
        poly = idx[:, :2]
        x0, y0 = np.maximum(np.floor(poly.min(0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(poly.max(0)).astype(int), [nx - 1, ny - 1])
        if x1 < x0 or y1 < y0:
            continue
        yy, xx = np.mgrid[y0:y1 + 1, x0:x1 + 1]
        centres = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(float)
        inside = _Path(poly).contains_points(centres) | _on_polygon(centres, poly)
        arr[k, y0:y1 + 1, x0:x1 + 1] ^= inside.reshape(yy.shape).astype(np.uint8)
    mask = sitk.GetImageFromArray(arr)
    mask.CopyInformation(image)
    return mask
