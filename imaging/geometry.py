"""Image/mask geometry checks and resampling.

A mask is only meaningful on the grid of its image: same size, spacing, origin
and direction. :func:`check_image_mask_geometry` checks this once, with a
message that shows both values and the fix, instead of letting pyradiomics or
NumPy fail later with a shape error.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .exceptions import GeometryMismatchError, _where

__all__ = ["check_image_mask_geometry", "resample_mask_to_image", "resample_image"]


def _fmt(values) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"


def check_image_mask_geometry(image: sitk.Image, mask: sitk.Image, tol: float = 1e-3,
                              case_id=None, *, mask_name: str | None = None) -> None:
    """Check that ``mask`` lies on the grid of ``image``.

    Compares size (exactly), spacing, origin and direction (each within
    ``tol``, absolute, in mm for spacing and origin).

    Parameters
    ----------
    image, mask : SimpleITK.Image
    tol : float, default 1e-3
        Absolute tolerance for spacing (mm), origin (mm) and direction cosines.
    case_id : str, optional
        Named in the message.
    mask_name : str, optional
        File name (or other label) of the mask, named in the message.

    Raises
    ------
    GeometryMismatchError
        Naming the first property that differs, both values, and the fix:
        "mask 'case_017_label.nrrd' has spacing (1, 1, 2.5) but image has
        (0.7, 0.7, 2.5); resample the mask or pass --resample-mask".

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> img = sitk.Image(8, 8, 4, sitk.sitkInt16)
    >>> check_image_mask_geometry(img, sitk.Image(8, 8, 4, sitk.sitkUInt8))
    """
    who = f"mask {mask_name!r}" if mask_name else "mask"
    where = _where(None, case_id)
    fix = ("resample the mask onto the image grid (imaging.resample_mask_to_image) "
           "or pass --resample-mask")
    if image.GetDimension() != mask.GetDimension():
        raise GeometryMismatchError(
            f"{who}{where} is {mask.GetDimension()}-D but image is {image.GetDimension()}-D; "
            "give a mask with the dimension of the image."
        )
    if tuple(image.GetSize()) != tuple(mask.GetSize()):
        raise GeometryMismatchError(
            f"{who}{where} has size {tuple(mask.GetSize())} but image has {tuple(image.GetSize())}; {fix}"
        )
    for name, getter in (("spacing", "GetSpacing"), ("origin", "GetOrigin"),
                         ("direction", "GetDirection")):
        a = np.asarray(getattr(image, getter)(), dtype=float)
        b = np.asarray(getattr(mask, getter)(), dtype=float)
        if not np.allclose(a, b, rtol=0.0, atol=tol):
            raise GeometryMismatchError(
                f"{who}{where} has {name} {_fmt(b)} but image has {_fmt(a)} "
                f"(tolerance {tol:g}); {fix}"
            )


def resample_mask_to_image(mask: sitk.Image, image: sitk.Image) -> sitk.Image:
    """Resample a label image onto the grid of ``image`` with nearest-neighbour interpolation.

    Nearest neighbour keeps label values intact (no new labels at borders).
    Voxels of the image grid outside the mask's physical extent become 0.
    The pixel type of the mask is kept.
    """
    return sitk.Resample(mask, image, sitk.Transform(), sitk.sitkNearestNeighbor, 0,
                         mask.GetPixelID())


def resample_image(image: sitk.Image, spacing, *, interpolator=sitk.sitkBSpline,
                   default_value: float = 0.0) -> sitk.Image:
    """Resample ``image`` to a new voxel ``spacing`` (mm) covering the same physical extent.

    The output grid keeps origin and direction; its size is
    ``round(size * old_spacing / new_spacing)``. Use ``sitk.sitkNearestNeighbor``
    for label images.
    """
    spacing = np.asarray(spacing, dtype=float)
    old_spacing = np.asarray(image.GetSpacing(), dtype=float)
    size = np.maximum(1, np.round(np.asarray(image.GetSize()) * old_spacing / spacing)).astype(int)
    return sitk.Resample(image, [int(s) for s in size], sitk.Transform(), interpolator,
                         image.GetOrigin(), tuple(float(s) for s in spacing),
                         image.GetDirection(), default_value, image.GetPixelID())
