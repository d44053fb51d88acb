r"""RECIST 1.1 measurements from masks, and the response category.

Measurements are taken on axial slices, i.e. planes of constant third image
index (``k`` of ``(i, j, k)``; the array's first axis), which is the axial plane
for images in the usual (LPS/RAS, slices along z) orientation.

Diameters are *edge to edge*: each voxel of a slice is a rectangle of
``spacing_x × spacing_y`` mm, and the diameter is the largest distance between
two corners of these rectangles (the maximum Feret, or caliper, diameter of the
pixelated lesion), as a caliper laid on the displayed pixels would measure it.
For an axis-aligned rectangle of ``a × b`` pixels this is exactly
:math:`\sqrt{(a s_x)^2 + (b s_y)^2}`; for a digitised disc it is within one
pixel diagonal of the true diameter.

References
----------
Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria
in solid tumours: revised RECIST guideline (version 1.1). Eur J Cancer
2009;45:228-247.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import SimpleITK as sitk

from .exceptions import EmptyRegionError, _where

__all__ = [
    "AxialDiameters",
    "axial_diameters",
    "longest_axial_diameter",
    "short_axis",
    "sum_of_diameters",
    "response_category",
]


@dataclass(frozen=True)
class AxialDiameters:
    """Longest axial diameter and its perpendicular short axis, in mm.

    Attributes
    ----------
    long_axis_mm : float
        Largest maximum-Feret diameter over all axial slices.
    short_axis_mm : float
        Longest diameter perpendicular to the long axis, in the slice of the long axis.
    slice_index : int
        Axial slice (array index along the first axis) where the long axis lies.
    direction : tuple of float
        Unit vector (x, y) of the long axis in the slice (index axes, mm scaled).
    """

    long_axis_mm: float
    short_axis_mm: float
    slice_index: int
    direction: tuple[float, float]

    def summary(self) -> pd.DataFrame:
        """One row: ``long_axis_mm``, ``short_axis_mm``, ``slice_index``, ``direction_x``, ``direction_y``."""
        return pd.DataFrame([{"long_axis_mm": self.long_axis_mm, "short_axis_mm": self.short_axis_mm,
                              "slice_index": self.slice_index, "direction_x": float(self.direction[0]),
                              "direction_y": float(self.direction[1])}])


def _corner_points(slice_mask: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Corners (x, y in mm) of the boundary pixels of a 2-D mask (rows = y, columns = x)."""
    from scipy import ndimage

    border = slice_mask & ~ndimage.binary_erosion(slice_mask)
    yy, xx = np.nonzero(border)
    corners = []
    for dy in (-0.5, 0.5):
        for dx in (-0.5, 0.5):
            corners.append(np.stack([(xx + dx) * sx, (yy + dy) * sy], axis=1))
    pts = np.unique(np.concatenate(corners), axis=0)
    if len(pts) >= 3:
        from scipy.spatial import ConvexHull
        from scipy.spatial import QhullError

        try:
            pts = pts[ConvexHull(pts).vertices]
        except QhullError:  # collinear points: keep them all
            pass
    return pts


def _feret(pts: np.ndarray) -> tuple[float, np.ndarray]:
    d = np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=-1)
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    vec = pts[j] - pts[i]
    n = np.linalg.norm(vec)
    return float(n), (vec / n if n > 0 else np.array([1.0, 0.0]))


def axial_diameters(mask: sitk.Image, label: int | None = None, *, case_id=None) -> AxialDiameters:
    r"""Longest axial diameter and the perpendicular short axis of a lesion.

    For each axial slice :math:`k`, the maximum Feret diameter
    :math:`F_k = \max_{p, q \in C_k} \lVert p - q \rVert` over the pixel corners
    :math:`C_k` (in mm); the long axis is :math:`\max_k F_k`. The short axis is
    the longest diameter perpendicular to the long axis in the same slice: the
    largest outer extent of the pixelated lesion along a line perpendicular to
    the long axis, computed exactly (see ``_longest_perpendicular``).

    Parameters
    ----------
    mask : SimpleITK.Image
        3-D (or 2-D) label image.
    label : int, optional
        Lesion label; default any non-zero voxel.

    Raises
    ------
    EmptyRegionError
        The lesion is empty.
    """
    from .io import as_label_image, check_label

    mask = as_label_image(mask, case_id=case_id)
    if label is not None:
        label = check_label(label, case_id=case_id)
    arr = sitk.GetArrayViewFromImage(mask)
    m = arr > 0 if label is None else arr == label
    if m.ndim == 2:
        m = m[None]
    if not m.any():
        raise EmptyRegionError(f"The lesion mask is empty{_where(None, case_id)}; cannot measure RECIST diameters.")
    sx, sy = mask.GetSpacing()[0], mask.GetSpacing()[1]
    best = None
    for k in np.nonzero(m.reshape(m.shape[0], -1).any(axis=1))[0]:
        pts = _corner_points(m[k], sx, sy)
        length, u = _feret(pts)
        if best is None or length > best[0] + 1e-9:
            best = (length, u, k, pts)
    length, u, k, pts = best
    short = _longest_perpendicular(m[k], sx, sy, u)
    return AxialDiameters(long_axis_mm=length, short_axis_mm=short,
                          slice_index=int(k), direction=(float(u[0]), float(u[1])))


def _longest_perpendicular(slice_mask: np.ndarray, sx: float, sy: float, u: np.ndarray) -> float:
    r"""Longest diameter of the pixelated lesion along lines perpendicular to ``u``.

    A line :math:`\{p : p\cdot u = s\}` crosses each pixel square in an interval
    of :math:`t = p\cdot v` (``v`` the unit normal of ``u``); the diameter on that
    line is the outer extent :math:`\max t_1 - \min t_0` over the pixels it crosses.
    As a function of ``s`` this is the sum of an upper envelope and a negated lower
    envelope of linear pieces (convex between the projections of the pixel corners
    on ``u``), so its maximum is reached at one of these projections, where it is
    evaluated: the result is exact for the pixelated lesion.
    """
    from scipy import ndimage

    border = slice_mask & ~ndimage.binary_erosion(slice_mask)
    yy, xx = np.nonzero(border)
    cx, cy = xx * sx, yy * sy
    hx, hy = sx / 2.0, sy / 2.0
    v = np.array([-u[1], u[0]])
    corners = np.concatenate([np.stack([cx + dx, cy + dy], 1) for dx in (-hx, hx) for dy in (-hy, hy)])
    svals = np.unique(np.round(corners @ u, 12))
    best = 0.0
    for chunk in np.array_split(svals, max(1, len(svals) // 256)):
        s = chunk[:, None]
        lo = np.full((len(chunk), len(cx)), -np.inf)
        hi = np.full((len(chunk), len(cx)), np.inf)
        ok = np.ones((len(chunk), len(cx)), dtype=bool)
        for c, h, uc, vc in ((cx, hx, u[0], v[0]), (cy, hy, u[1], v[1])):
            if abs(vc) > 1e-12:
                a = (c - h - s * uc) / vc
                b = (c + h - s * uc) / vc
                lo = np.maximum(lo, np.minimum(a, b))
                hi = np.minimum(hi, np.maximum(a, b))
            else:
                ok &= np.abs(s * uc - c) <= h + 1e-12
        ok &= hi >= lo - 1e-12
        if not ok.any():
            continue
        ext = np.where(ok, hi, -np.inf).max(axis=1) - np.where(ok, lo, np.inf).min(axis=1)
        ext = ext[np.isfinite(ext)]
        if ext.size:
            best = max(best, float(ext.max()))
    return best


def longest_axial_diameter(mask: sitk.Image, label: int | None = None, *, case_id=None) -> float:
    """Longest axial diameter (mm) of a lesion; see :func:`axial_diameters`."""
    return axial_diameters(mask, label, case_id=case_id).long_axis_mm


def short_axis(mask: sitk.Image, label: int | None = None, *, case_id=None) -> float:
    """Short axis (mm) of a lymph node: longest diameter perpendicular to the long axis."""
    return axial_diameters(mask, label, case_id=case_id).short_axis_mm


def sum_of_diameters(lesions: Sequence[sitk.Image], nodes: Sequence[sitk.Image] = ()) -> float:
    """RECIST sum of diameters: long axes of non-nodal targets plus short axes of nodal targets (mm)."""
    return float(sum(longest_axial_diameter(m) for m in lesions)
                 + sum(short_axis(m) for m in nodes))


def response_category(baseline_sum: float, followup_sum: float, *, nadir_sum: float | None = None,
                      new_lesions: bool = False,
                      node_short_axes: Sequence[float] | None = None) -> str:
    r"""RECIST 1.1 target-lesion response: ``"CR"``, ``"PR"``, ``"SD"`` or ``"PD"``.

    - **PD**: new lesions, or the sum rose by at least 20 % *and* at least
      5 mm above the nadir (the smallest sum on study, baseline included):
      :math:`S - S_{nadir} \ge 0.2\,S_{nadir}` and :math:`S - S_{nadir} \ge 5` mm.
    - **CR**: every non-nodal target gone and every nodal target < 10 mm short
      axis. With ``node_short_axes`` given, the follow-up sum then holds only
      node short axes; without nodes, CR means ``followup_sum == 0``.
    - **PR**: at least 30 % decrease from baseline: :math:`S \le 0.7\,S_{baseline}`.
    - **SD**: otherwise.

    Parameters
    ----------
    baseline_sum, followup_sum : float
        Sums of diameters (mm) at baseline and at the follow-up.
    nadir_sum : float, optional
        Smallest sum on study before this follow-up; default ``baseline_sum``.
        It is taken as ``min(nadir_sum, baseline_sum)``.
    new_lesions : bool, default False
        Unequivocal new lesions at the follow-up.
    node_short_axes : sequence of float, optional
        Follow-up short axes (mm) of the nodal targets, for the CR rule.

    Examples
    --------
    >>> response_category(100, 65)
    'PR'
    >>> response_category(100, 80, nadir_sum=20)   # +60 mm from nadir
    'PD'
    >>> response_category(20, 24)   # +20 % but only +4 mm
    'SD'
    """
    for name, v in (("baseline_sum", baseline_sum), ("followup_sum", followup_sum)):
        if not (np.isfinite(v) and v >= 0):
            raise ValueError(f"The '{name}' parameter of response_category must be a number >= 0. "
                             f"Got {v!r} instead.")
    nadir = baseline_sum if nadir_sum is None else min(float(nadir_sum), float(baseline_sum))
    increase = followup_sum - nadir
    tol = 1e-9
    if new_lesions or (increase >= 0.2 * nadir - tol and increase >= 5.0 - tol):
        return "PD"
    if node_short_axes is not None:
        nodes = np.asarray(node_short_axes, dtype=float)
        non_nodal = followup_sum - nodes.sum()
        if non_nodal <= tol and np.all(nodes < 10.0):
            return "CR"
    elif followup_sum <= tol:
        return "CR"
    if followup_sum <= 0.7 * baseline_sum + tol:
        return "PR"
    return "SD"
