"""Reading (NIfTI/NRRD/MHA/DICOM series), geometry checks, lesion / ring / soil regions."""

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage

from imaging import (
    EmptyRegionError,
    GeometryMismatchError,
    ImageReadError,
    check_image_mask_geometry,
    lesion_region,
    organ_soil,
    peritumoral_ring,
    read_image,
    read_mask,
    region_name,
    resample_mask_to_image,
)
from imaging.io import list_dicom_series

from .conftest import case_files, make_image


# ------------------------------------------------------------------ geometry
def test_geometry_messages_show_both_values_and_fix():
    img = make_image(np.zeros((4, 8, 8), np.int16), (0.7, 0.7, 2.5))
    check_image_mask_geometry(img, make_image(np.zeros((4, 8, 8), np.uint8), (0.7, 0.7, 2.5)))
    bad = make_image(np.zeros((4, 8, 8), np.uint8), (1.0, 1.0, 2.5))
    with pytest.raises(GeometryMismatchError,
                       match=r"mask 'c17_label.nrrd' \(case 'c17'\) has spacing \(1, 1, 2.5\) but image "
                             r"has \(0.7, 0.7, 2.5\).*resample the mask.*or pass --resample-mask"):
        check_image_mask_geometry(img, bad, case_id="c17", mask_name="c17_label.nrrd")
    with pytest.raises(GeometryMismatchError, match=r"size \(8, 8, 5\) but image has \(8, 8, 4\)"):
        check_image_mask_geometry(img, make_image(np.zeros((5, 8, 8), np.uint8), (0.7, 0.7, 2.5)))
    shifted = make_image(np.zeros((4, 8, 8), np.uint8), (0.7, 0.7, 2.5), origin=(0, 0, 0.002))
    with pytest.raises(GeometryMismatchError, match="origin"):
        check_image_mask_geometry(img, shifted)
    check_image_mask_geometry(img, shifted, tol=0.01)
    rotated = make_image(np.zeros((4, 8, 8), np.uint8), (0.7, 0.7, 2.5))
    rotated.SetDirection((0, 1, 0, 1, 0, 0, 0, 0, 1))
    with pytest.raises(GeometryMismatchError, match="direction"):
        check_image_mask_geometry(img, rotated)
    assert issubclass(GeometryMismatchError, ValueError)


def test_resample_mask_to_image_nearest_neighbour():
    img = make_image(np.zeros((10, 20, 20), np.int16), (0.5, 0.5, 1.0))
    coarse = np.zeros((5, 10, 10), np.uint8)
    coarse[2, 3:6, 3:6] = 2
    m = make_image(coarse, (1.0, 1.0, 2.0), origin=(0.25, 0.25, 0.5))
    r = resample_mask_to_image(m, img)
    check_image_mask_geometry(img, r)
    assert set(np.unique(sitk.GetArrayViewFromImage(r))) == {0, 2}   # no interpolated labels
    assert int((sitk.GetArrayViewFromImage(r) == 2).sum()) == 9 * 8  # 3x3 -> 6x6 in-plane, 1 -> 2 slices


# ------------------------------------------------------------------ regions
def test_ring_is_physical_distance_not_voxel_dilation():
    """Ring voxels are those whose centre lies within mm of a lesion voxel centre (brute force)."""
    arr = np.zeros((15, 40, 40), np.uint8)
    arr[7, 18:22, 17:23] = 1
    arr[8, 19:21, 19:21] = 1
    spacing = (0.6, 0.8, 3.0)  # x, y, z
    mask = make_image(arr, spacing)
    ring = peritumoral_ring(mask, mm=5)
    assert region_name(ring) == "ring5mm"
    got = sitk.GetArrayFromImage(ring).astype(bool)
    dist = ndimage.distance_transform_edt(arr == 0, sampling=spacing[::-1])
    expected = (dist > 0) & (dist <= 5 + 1e-9)
    np.testing.assert_array_equal(got, expected)
    # through-plane the ring spans 1 slice (3 mm) each side, in-plane 8 voxels (0.6 mm)
    zs = np.nonzero(got.any(axis=(1, 2)))[0]
    assert (zs.min(), zs.max()) == (6, 9)
    # a voxel-count dilation would have spanned 5 slices each side
    assert not np.array_equal(got, ndimage.binary_dilation(arr, iterations=5) & (arr == 0))


def test_ring_within_and_soil(ball_mask):
    organ = sitk.Cast(sitk.BinaryDilate(ball_mask, [6, 6, 3]), sitk.sitkUInt8)
    ring = peritumoral_ring(ball_mask, 4.0, within=organ)
    soil = organ_soil(organ, ball_mask)
    r, s, m, o = (sitk.GetArrayViewFromImage(x) > 0 for x in (ring, soil, ball_mask, organ))
    assert not (r & m).any() and not (r & ~o).any()
    np.testing.assert_array_equal(s, o & ~m)
    assert region_name(soil) == "soil"
    lesion = lesion_region(ball_mask)
    assert region_name(lesion) == "lesion"
    np.testing.assert_array_equal(sitk.GetArrayViewFromImage(lesion) > 0, m)


def test_region_errors(ball_mask):
    with pytest.raises(EmptyRegionError, match=r"Label 2 is absent.*\(case 'x1'\).*labels present: \[0, 1\]"):
        lesion_region(ball_mask, label=2, case_id="x1")
    nowhere = sitk.Cast(ball_mask * 0, sitk.sitkUInt8)
    with pytest.raises(EmptyRegionError, match="'within' mask excludes"):
        peritumoral_ring(ball_mask, 3, within=nowhere)
    with pytest.raises(EmptyRegionError, match="covers the whole organ"):
        organ_soil(ball_mask, ball_mask)
    with pytest.raises(ValueError, match="'mm' parameter"):
        peritumoral_ring(ball_mask, 0)


# ------------------------------------------------------------------ reading
@pytest.mark.parametrize("ext", [".nii.gz", ".nrrd", ".mha"])
def test_read_formats_round_trip(tmp_path, ext):
    image, mask = case_files("breast1")
    img = sitk.ReadImage(str(image))
    p = tmp_path / f"img{ext}"
    sitk.WriteImage(img, str(p))
    back = read_image(p)
    np.testing.assert_array_equal(sitk.GetArrayViewFromImage(back), sitk.GetArrayViewFromImage(img))
    assert np.allclose(back.GetSpacing(), img.GetSpacing())
    m = read_mask(mask)
    assert m.GetPixelID() == sitk.sitkUInt8


def test_read_errors_name_file_and_case(tmp_path):
    with pytest.raises(ImageReadError, match=r"does not exist \(case 'c9', file '.*nope.nii.gz'\)"):
        read_image(tmp_path / "nope.nii.gz", case_id="c9")
    junk = tmp_path / "junk.nrrd"
    junk.write_text("not an image")
    with pytest.raises(ImageReadError, match="junk.nrrd"):
        read_image(junk, case_id="c9")
    frac = make_image(np.full((3, 4, 4), 0.5, np.float32))
    sitk.WriteImage(frac, str(tmp_path / "prob.nrrd"))
    with pytest.raises(ImageReadError, match="non-integer values.*prob.nrrd"):
        read_mask(tmp_path / "prob.nrrd")
    with pytest.raises(ImageReadError, match="No DICOM series"):
        read_image(tmp_path, case_id="c9")


def _write_dicom_series(arr, spacing, folder, series_uid):
    """Write a (z, y, x) int16 array as a DICOM CT series with SimpleITK."""
    folder.mkdir(parents=True, exist_ok=True)
    img = make_image(arr.astype(np.int16), spacing, origin=(-10.0, -20.0, 30.0))
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for k in range(arr.shape[0]):
        sl = img[:, :, k]
        for tag, value in (("0008|0060", "CT"), ("0020|000e", series_uid),
                           ("0020|000d", "1.2.826.0.1.3680043.2.1125.1"),
                           ("0020|0052", "1.2.826.0.1.3680043.2.1125.2"), ("0010|0020", "P1"),
                           ("0008|0018", f"{series_uid}.{k + 1}"),
                           ("0020|0032", "\\".join(map(str, img.TransformIndexToPhysicalPoint((0, 0, k))))),
                           ("0020|0037", "1\\0\\0\\0\\1\\0"), ("0020|0013", str(k + 1)),
                           ("0028|0030", f"{spacing[1]}\\{spacing[0]}"), ("0018|0050", str(spacing[2]))):
            sl.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"{series_uid[-3:]}_{k:03d}.dcm"))
        writer.Execute(sl)
    return img


def test_read_dicom_series_largest_or_by_uid(tmp_path):
    rng = np.random.default_rng(1)
    big = rng.integers(-1000, 1000, size=(6, 12, 10))
    small = rng.integers(-1000, 1000, size=(3, 12, 10))
    uid_big, uid_small = "1.2.826.0.1.3680043.2.1125.100", "1.2.826.0.1.3680043.2.1125.200"
    ref = _write_dicom_series(big, (0.8, 0.8, 2.0), tmp_path / "dcm", uid_big)
    _write_dicom_series(small, (0.8, 0.8, 2.0), tmp_path / "dcm", uid_small)
    assert set(list_dicom_series(tmp_path / "dcm")) == {uid_big, uid_small}
    img = read_image(tmp_path / "dcm")
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img), big)
    assert np.allclose(img.GetSpacing(), (0.8, 0.8, 2.0))
    assert np.allclose(img.GetOrigin(), ref.GetOrigin())
    img2 = read_image(tmp_path / "dcm", series_uid=uid_small)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img2), small)
    with pytest.raises(ImageReadError, match=r"SeriesInstanceUID '9.9' is not in the directory \(case 'd1'"):
        read_image(tmp_path / "dcm", series_uid="9.9", case_id="d1")


def test_resample_image_keeps_extent_and_values():
    from imaging import resample_image

    arr = np.arange(4 * 6 * 8, dtype=np.float32).reshape(4, 6, 8)
    img = make_image(arr, (1.0, 1.0, 2.0), origin=(5.0, -3.0, 10.0))
    out = resample_image(img, (0.5, 0.5, 1.0), interpolator=sitk.sitkNearestNeighbor)
    assert out.GetSize() == (16, 12, 8) and out.GetOrigin() == img.GetOrigin()
    # nearest neighbour on a grid twice as fine starting at the same origin: every other voxel is original
    np.testing.assert_array_equal(sitk.GetArrayFromImage(out)[::2, ::2, ::2], arr)
