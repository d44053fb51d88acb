r"""Agreement between two segmentations: Dice, Jaccard, HD95, volume difference.

Used to report inter-reader or reader-vs-model agreement of the masks that
radiomics features come from (e.g. before an ICC analysis of features).

Surface distances follow MedPy (``medpy.metric.binary.hd95``): the surface of
a mask is the set of its voxels with at least one face-neighbour outside it
(mask XOR its erosion with a 6-connected structuring element), distances are
Euclidean between voxel centres in mm (voxel spacing used), and HD95 is the
95th percentile of the *pooled* directed distances of both surfaces:

.. math::

    \mathrm{HD95}(A, B) = P_{95}\left(\{d(a, \partial B)\}_{a \in \partial A}
                                      \cup \{d(b, \partial A)\}_{b \in \partial B}\right)
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .exceptions import EmptyRegionError
from .geometry import check_image_mask_geometry

__all__ = ["dice", "jaccard", "hausdorff95", "surface_distances", "volume_difference",
           "segmentation_agreement"]


def _pair(a: sitk.Image, b: sitk.Image, label=None):
    """Both segmentations as boolean arrays, each checked as a label image (and the label)."""
    from .io import as_label_image, check_label

    a = as_label_image(a, path="first segmentation")
    b = as_label_image(b, path="second segmentation")
    check_image_mask_geometry(a, b, mask_name="second segmentation")
    if label is not None:  # 1.5 would make both regions empty and the agreement perfect
        label = check_label(label)
    x = sitk.GetArrayViewFromImage(a)
    y = sitk.GetArrayViewFromImage(b)
    if label is None:
        return x > 0, y > 0
    return x == label, y == label


def dice(a: sitk.Image, b: sitk.Image, label: int | None = None) -> float:
    r"""Dice similarity coefficient :math:`2|A\cap B| / (|A| + |B|)` (1 when both are empty)."""
    x, y = _pair(a, b, label)
    s = x.sum() + y.sum()
    return 1.0 if s == 0 else float(2.0 * np.logical_and(x, y).sum() / s)


def jaccard(a: sitk.Image, b: sitk.Image, label: int | None = None) -> float:
    r"""Jaccard index :math:`|A\cap B| / |A\cup B|` (1 when both are empty); = D / (2 - D)."""
    x, y = _pair(a, b, label)
    u = np.logical_or(x, y).sum()
    return 1.0 if u == 0 else float(np.logical_and(x, y).sum() / u)


def _surface(m: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    st = ndimage.generate_binary_structure(m.ndim, 1)
    return m ^ ndimage.binary_erosion(m, structure=st, iterations=1)


def surface_distances(a: sitk.Image, b: sitk.Image, label: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Directed surface distances in mm: (each surface voxel of ``a`` to the surface of ``b``, and back)."""
    from scipy import ndimage

    x, y = _pair(a, b, label)
    if not x.any() or not y.any():
        raise EmptyRegionError("Surface distances need two non-empty segmentations; one is empty.")
    sampling = a.GetSpacing()[::-1]
    sx, sy = _surface(x), _surface(y)
    dt_y = ndimage.distance_transform_edt(~sy, sampling=sampling)
    dt_x = ndimage.distance_transform_edt(~sx, sampling=sampling)
    return dt_y[sx], dt_x[sy]


def hausdorff95(a: sitk.Image, b: sitk.Image, label: int | None = None) -> float:
    """Symmetric 95th-percentile Hausdorff distance (mm), pooled as in MedPy; see the module docstring."""
    dab, dba = surface_distances(a, b, label)
    return float(np.percentile(np.concatenate([dab, dba]), 95))


def volume_difference(a: sitk.Image, b: sitk.Image, label: int | None = None) -> dict[str, float]:
    r"""Volumes (ml) and their difference: ``volume_a_ml``, ``volume_b_ml``,
    ``difference_ml`` (:math:`V_B - V_A`) and ``relative_difference``
    (:math:`(V_B - V_A) / V_A`, NaN if :math:`V_A = 0`)."""
    x, y = _pair(a, b, label)
    vox = float(np.prod(a.GetSpacing())) / 1000.0
    va, vb = x.sum() * vox, y.sum() * vox
    return {"volume_a_ml": float(va), "volume_b_ml": float(vb), "difference_ml": float(vb - va),
            "relative_difference": float((vb - va) / va) if va > 0 else float("nan")}


def segmentation_agreement(a: sitk.Image, b: sitk.Image, label: int | None = None) -> dict[str, float]:
    """All measures at once: ``dice``, ``jaccard``, ``hd95_mm`` and the volume entries."""
    out = {"dice": dice(a, b, label), "jaccard": jaccard(a, b, label),
           "hd95_mm": hausdorff95(a, b, label)}
    out.update(volume_difference(a, b, label))
    return out
