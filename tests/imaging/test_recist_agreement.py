"""RECIST 1.1 diameters on synthetic discs/ellipses/rectangles; response rules; Dice/Jaccard/HD95."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from imaging.agreement import (
    dice,
    hausdorff95,
    jaccard,
    segmentation_agreement,
    surface_distances,
    volume_difference,
)
from imaging.recist import (
    axial_diameters,
    longest_axial_diameter,
    response_category,
    short_axis,
    sum_of_diameters,
)

from .conftest import make_image


def _ellipse_mask(a_mm, b_mm, spacing=(0.5, 0.5, 2.0), n=(9, 200, 200), slices=(3, 6)):
    """Ellipse with semi-axes a (x) and b (y) in mm, on the given slices."""
    z, y, x = np.mgrid[:n[0], :n[1], :n[2]]
    cx = (n[2] - 1) / 2 * spacing[0]
    cy = (n[1] - 1) / 2 * spacing[1]
    inside = ((x * spacing[0] - cx) / a_mm) ** 2 + ((y * spacing[1] - cy) / b_mm) ** 2 <= 1
    inside &= (z >= slices[0]) & (z < slices[1])
    return make_image(inside.astype(np.uint8), spacing)


def test_rectangle_diameter_is_exact_diagonal():
    arr = np.zeros((5, 40, 40), np.uint8)
    arr[2, 10:22, 5:35] = 1          # 12 rows (y) x 30 columns (x)
    arr[3, 10:14, 5:10] = 1          # a smaller slice
    d = axial_diameters(make_image(arr, (0.8, 0.6, 3.0)))
    assert d.long_axis_mm == pytest.approx(np.hypot(30 * 0.8, 12 * 0.6), rel=1e-12)
    assert d.slice_index == 2


@pytest.mark.parametrize("diam", [10.0, 23.0, 41.0])
def test_disc_diameter_within_one_pixel(diam):
    m = _ellipse_mask(diam / 2, diam / 2)
    d = axial_diameters(m)
    assert abs(d.long_axis_mm - diam) <= 0.5 * np.sqrt(2)      # one pixel diagonal
    assert abs(d.short_axis_mm - diam) <= 0.5 * np.sqrt(2)


def test_ellipse_long_and_short_axis():
    m = _ellipse_mask(20.0, 8.0)         # 40 mm x 16 mm
    d = axial_diameters(m)
    assert d.long_axis_mm == pytest.approx(40.0, abs=0.5 * np.sqrt(2))
    assert d.short_axis_mm == pytest.approx(16.0, abs=0.5 * np.sqrt(2))
    assert abs(d.direction[0]) == pytest.approx(1.0, abs=0.02)   # long axis along x
    assert longest_axial_diameter(m) == d.long_axis_mm
    assert short_axis(m) == d.short_axis_mm
    assert sum_of_diameters([m], nodes=[_ellipse_mask(9.0, 6.0)]) == pytest.approx(40 + 12, abs=1.5)


def test_anisotropic_pixels_are_measured_in_mm():
    m1 = _ellipse_mask(15.0, 15.0, spacing=(0.5, 0.5, 2.0))
    m2 = _ellipse_mask(15.0, 15.0, spacing=(0.5, 1.0, 2.0), n=(9, 100, 200))
    assert longest_axial_diameter(m2) == pytest.approx(longest_axial_diameter(m1), abs=1.0)


@pytest.mark.parametrize("base,fu,nadir,new,expected", [
    (100, 0, None, False, "CR"),
    (100, 70, None, False, "PR"),       # exactly -30 %
    (100, 71, None, False, "SD"),
    (100, 119, None, False, "SD"),
    (100, 120, None, False, "PD"),      # +20 % and +20 mm
    (20, 24, None, False, "SD"),        # +20 % but only +4 mm
    (20, 25, None, False, "PD"),        # +25 % and +5 mm
    (100, 60, 40, False, "PD"),         # +50 % from the nadir though -40 % from baseline
    (100, 45, 40, False, "PR"),         # +12.5 % from the nadir: not PD; -55 % from baseline
    (100, 50, None, True, "PD"),        # new lesion
])
def test_response_category(base, fu, nadir, new, expected):
    assert response_category(base, fu, nadir_sum=nadir, new_lesions=new) == expected


def test_response_nodes_below_10mm_are_cr():
    assert response_category(60, 17, node_short_axes=[9.0, 8.0]) == "CR"
    assert response_category(60, 19, node_short_axes=[9.0, 10.0]) == "PR"


# ------------------------------------------------------------------ agreement
def _cube(n, lo, hi, spacing=(1.0, 1.0, 1.0)):
    a = np.zeros((n, n, n), np.uint8)
    a[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = 1
    return make_image(a, spacing)


def test_dice_jaccard_volume_exact():
    a = _cube(20, (2, 2, 2), (12, 12, 12))            # 1000 voxels
    b = _cube(20, (2, 2, 7), (12, 12, 17))            # shifted 5 in x: overlap 500
    assert dice(a, b) == 2 * 500 / 2000
    assert jaccard(a, b) == 500 / 1500
    assert jaccard(a, b) == pytest.approx(dice(a, b) / (2 - dice(a, b)))
    a2 = _cube(20, (2, 2, 2), (12, 12, 12), spacing=(0.5, 0.5, 2.0))
    b2 = _cube(20, (2, 2, 2), (12, 12, 14), spacing=(0.5, 0.5, 2.0))
    v = volume_difference(a2, b2)
    assert v["volume_a_ml"] == pytest.approx(1000 * 0.5 / 1000)
    assert v["difference_ml"] == pytest.approx(200 * 0.5 / 1000)
    assert v["relative_difference"] == pytest.approx(0.2)


def _surface_points(img):
    from scipy import ndimage

    m = __import__("SimpleITK").GetArrayFromImage(img) > 0
    s = m ^ ndimage.binary_erosion(m, ndimage.generate_binary_structure(3, 1))
    return np.argwhere(s) * np.asarray(img.GetSpacing()[::-1])


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.7, 0.9, 2.5)])
def test_hd95_equals_brute_force_surface_distances(spacing):
    z, y, x = np.mgrid[:24, :24, :24]
    a = ((x - 12) ** 2 + (y - 12) ** 2 + (z - 12) ** 2 <= 64).astype(np.uint8)
    b = (((x - 10) / 1.2) ** 2 + (y - 13) ** 2 + (z - 12) ** 2 <= 49).astype(np.uint8)
    A, B = make_image(a, spacing), make_image(b, spacing)
    pa, pb = _surface_points(A), _surface_points(B)
    d = cdist(pa, pb)
    brute = np.percentile(np.concatenate([d.min(axis=1), d.min(axis=0)]), 95)
    assert hausdorff95(A, B) == pytest.approx(brute, rel=1e-12)
    dab, dba = surface_distances(A, B)
    assert dab.max() == pytest.approx(d.min(axis=1).max(), rel=1e-12)
    agg = segmentation_agreement(A, B)
    assert set(agg) >= {"dice", "jaccard", "hd95_mm", "difference_ml"}
    assert hausdorff95(A, A) == 0.0


def _brute_perpendicular(slice_mask, sx, sy, u, n_lines=1500, n_pts=3000):
    """Outer extent along densely sampled lines perpendicular to u (independent, approximate)."""
    v = np.array([-u[1], u[0]])
    yy, xx = np.nonzero(slice_mask)
    cs = np.stack([xx * sx, yy * sy], 1)
    r = np.hypot(*slice_mask.shape[::-1] * np.array([sx, sy]))
    s_all = np.linspace((cs @ u).min() - sx, (cs @ u).max() + sx, n_lines)
    t = np.linspace(-r - (cs @ v).max(), r + (cs @ v).max() * 2, n_pts)
    best = 0.0
    for s in s_all:
        p = s * u + t[:, None] * v                        # points on the line
        ix = np.floor(p[:, 0] / sx + 0.5).astype(int)
        iy = np.floor(p[:, 1] / sy + 0.5).astype(int)
        ok = (ix >= 0) & (iy >= 0) & (ix < slice_mask.shape[1]) & (iy < slice_mask.shape[0])
        inside = np.zeros(len(t), bool)
        inside[ok] = slice_mask[iy[ok], ix[ok]]
        if inside.any():
            best = max(best, t[inside].max() - t[inside].min())
    return best, (t[1] - t[0]) + (s_all[1] - s_all[0]) * 2


def test_short_axis_is_longest_perpendicular_chord_non_convex():
    arr = np.zeros((1, 40, 50), np.uint8)
    arr[0, 5:35, 5:12] = 1     # an L: long vertical bar ...
    arr[0, 28:35, 5:45] = 1    # ... and a long horizontal foot
    img = make_image(arr, (0.7, 0.9, 3.0))
    d = axial_diameters(img)
    brute, step = _brute_perpendicular(arr[0].astype(bool), 0.7, 0.9, np.array(d.direction))
    assert d.short_axis_mm == pytest.approx(brute, abs=2 * step)
    assert d.short_axis_mm >= brute - 1e-9   # the exact value bounds the sampled one
