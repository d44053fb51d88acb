"""PET: body-weight SUV from numbers and from DICOM tags; SUVmax/mean/peak, MTV, TLG on synthetic spheres."""

import datetime as dt

import numpy as np
import pytest
import SimpleITK as sitk
from pydicom.dataset import Dataset

from imaging import DicomTagError
from imaging.pet import (
    SUVPEAK_RADIUS_MM,
    metabolic_volume,
    pet_metrics,
    sphere_offsets,
    suv_factor,
    suv_factor_from_dicom,
    suv_peak,
)

from ._dicom_files import write_dicom
from .conftest import make_image

F18_HALF_LIFE = 6586.2  # s


def test_suv_factor_formula():
    # one half-life after injection the dose is halved: factor = 1000 W / (D / 2)
    f = suv_factor(80.0, 400e6, F18_HALF_LIFE, 0.0, F18_HALF_LIFE)
    assert f == pytest.approx(1000 * 80.0 / 200e6, rel=1e-14)
    # datetimes work like seconds
    t0 = dt.datetime(2024, 5, 2, 9, 30)
    assert suv_factor(80, 400e6, F18_HALF_LIFE, t0, t0 + dt.timedelta(seconds=3600)) == pytest.approx(
        1000 * 80 / (400e6 * 2 ** (-3600 / F18_HALF_LIFE)), rel=1e-14)
    with pytest.raises(ValueError, match="before the injection"):
        suv_factor(80, 400e6, F18_HALF_LIFE, 100.0, 0.0)
    with pytest.raises(ValueError, match="'weight_kg'"):
        suv_factor(0, 400e6, F18_HALF_LIFE, 0.0, 1.0)


def _pet_dataset(**drop):
    ds = Dataset()
    ds.Modality = "PT"
    ds.Units = "BQML"
    ds.DecayCorrection = "START"
    ds.PatientWeight = "72.5"
    ds.SeriesDate = "20240502"
    ds.SeriesTime = "103015.000000"
    ds.AcquisitionDate = "20240502"
    ds.AcquisitionTime = "103500"
    rp = Dataset()
    rp.RadiopharmaceuticalStartTime = "092000.00"
    rp.RadionuclideTotalDose = "351000000"
    rp.RadionuclideHalfLife = "6586.2"
    ds.RadiopharmaceuticalInformationSequence = [rp]
    for tag in drop:
        if hasattr(ds, tag):
            delattr(ds, tag)
        elif hasattr(rp, tag):
            delattr(rp, tag)
    return ds


def _write(ds, path):
    return write_dicom(ds, path, "1.2.840.10008.5.1.4.1.1.128")  # PET Image Storage


def test_suv_factor_from_dicom_tags(tmp_path):
    path = _write(_pet_dataset(), tmp_path / "pet.dcm")
    # injection 09:20:00, series 10:30:15 -> 4215 s
    expected = 1000 * 72.5 / (351e6 * 2 ** (-4215 / 6586.2))
    assert suv_factor_from_dicom(path) == pytest.approx(expected, rel=1e-14)
    assert suv_factor_from_dicom(tmp_path) == pytest.approx(expected, rel=1e-14)  # directory
    # AcquisitionTime 10:35:00 -> 4500 s
    assert suv_factor_from_dicom(path, time_reference="acquisition") == pytest.approx(
        1000 * 72.5 / (351e6 * 2 ** (-4500 / 6586.2)), rel=1e-14)


def test_suv_from_dicom_datetime_and_midnight(tmp_path):
    ds = _pet_dataset()
    ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartDateTime = "20240502092000"
    assert suv_factor_from_dicom(ds) == pytest.approx(1000 * 72.5 / (351e6 * 2 ** (-4215 / 6586.2)))
    ds = _pet_dataset()
    ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartTime = "233000"
    ds.SeriesTime = "003000"  # one hour later, after midnight
    assert suv_factor_from_dicom(ds) == pytest.approx(1000 * 72.5 / (351e6 * 2 ** (-3600 / 6586.2)))
    ds = _pet_dataset()
    ds.DecayCorrection = "ADMIN"
    assert suv_factor_from_dicom(ds) == pytest.approx(1000 * 72.5 / 351e6)


@pytest.mark.parametrize("tag", ["PatientWeight", "RadionuclideTotalDose", "RadionuclideHalfLife",
                                 "RadiopharmaceuticalStartTime", "SeriesTime", "Units"])
def test_missing_tag_is_named(tmp_path, tag):
    path = _write(_pet_dataset(**{tag: True}), tmp_path / "pet.dcm")
    with pytest.raises(DicomTagError, match=rf"{tag}.*missing.*case 'p7'.*pet.dcm"):
        suv_factor_from_dicom(path, case_id="p7")


def test_units_must_be_bqml():
    ds = _pet_dataset()
    ds.Units = "CNTS"
    with pytest.raises(DicomTagError, match="Units is 'CNTS'.*BQML"):
        suv_factor_from_dicom(ds)


@pytest.fixture
def hot_sphere():
    """SUV 10 in a 15 mm ball, 1 elsewhere; VOI = 20 mm ball; 2 mm isotropic voxels."""
    n = 40
    z, y, x = np.mgrid[:n, :n, :n].astype(float) * 2.0
    r = np.sqrt((x - 40) ** 2 + (y - 40) ** 2 + (z - 40) ** 2)
    hot = r <= 15
    arr = np.where(hot, 10.0, 1.0)
    voi = (r <= 20).astype(np.uint8)
    return make_image(arr, (2, 2, 2)), make_image(voi, (2, 2, 2)), hot, r <= 20


def test_pet_metrics_exact_on_sphere(hot_sphere):
    img, voi, hot, inside = hot_sphere
    m = pet_metrics(img, voi)
    n_hot, n_voi = int(hot.sum()), int(inside.sum())
    assert m["SUVmax"] == 10.0
    assert m["SUVmean"] == pytest.approx((10.0 * n_hot + (n_voi - n_hot)) / n_voi, rel=1e-15)
    assert m["SUVpeak"] == pytest.approx(10.0, rel=1e-15)   # the 6.2 mm sphere fits in the 15 mm ball
    assert m["MTV40_ml"] == n_hot * 8 / 1000.0               # 40 % of 10 = 4: only hot voxels
    assert m["SUVmean40"] == 10.0
    assert m["TLG40"] == pytest.approx(10.0 * n_hot * 8 / 1000.0, rel=1e-15)
    assert m["MTV2p5_ml"] == n_hot * 8 / 1000.0
    mask40 = metabolic_volume(img, voi, relative=0.4)
    assert int(sitk.GetArrayViewFromImage(mask40).sum()) == n_hot


def test_suvpeak_linear_ramp_is_value_at_best_centre():
    """For SUV linear in x, the mean over a symmetric sphere is the value at its centre."""
    n = 30
    z, y, x = np.mgrid[:n, :n, :n]
    spacing = (1.5, 2.0, 3.0)  # anisotropic, x y z
    arr = 1.0 + 0.1 * x * spacing[0]
    voi = np.zeros((n, n, n), np.uint8)
    voi[10:20, 8:22, 5:17] = 1
    peak, where = suv_peak(make_image(arr, spacing), make_image(voi, spacing))
    assert where[2] == 16
    assert peak == pytest.approx(1.0 + 0.1 * 16 * 1.5, rel=1e-12)


def test_suvpeak_equals_brute_force_search():
    rng = np.random.default_rng(0)
    arr = rng.gamma(2.0, 1.0, size=(14, 16, 18))
    voi = np.zeros(arr.shape, np.uint8)
    voi[3:9, 4:12, 2:15] = 1
    spacing = (2.0, 2.0, 3.0)
    peak, where = suv_peak(make_image(arr, spacing), make_image(voi, spacing))
    offs = sphere_offsets(spacing[::-1], SUVPEAK_RADIUS_MM)
    best = -np.inf
    for c in np.argwhere(voi > 0):
        p = offs + c
        ok = np.all((p >= 0) & (p < arr.shape), axis=1)
        best = max(best, arr[tuple(p[ok].T)].mean())
    assert peak == pytest.approx(best, rel=1e-12)
    # the 6.2 mm sphere is 998 mm^3; on a 1 mm lattice it holds 1021 voxel centres
    assert len(sphere_offsets((1.0, 1.0, 1.0), SUVPEAK_RADIUS_MM)) == 1021
    assert 4 / 3 * np.pi * SUVPEAK_RADIUS_MM**3 == pytest.approx(1000, rel=0.002)


def test_extract_case_with_suv_factor_adds_pet_columns(hot_sphere):
    from imaging import RadiomicsExtractor, extract_case

    img, voi, hot, _ = hot_sphere
    bq = sitk.Cast(img, sitk.sitkFloat64) * 1000.0  # "Bq/ml"
    ext = RadiomicsExtractor("PET", image_types=["Original"], feature_classes=["firstorder"])
    row = extract_case("pet1", bq, voi, params=ext, suv_factor=1e-3)
    assert row["lesion_pet_SUVmax"] == pytest.approx(10.0, rel=1e-12)
    assert row["lesion_pet_MTV40_ml"] == int(hot.sum()) * 8 / 1000.0
    assert "lesion_original_firstorder_Maximum" in row


def test_extract_case_suv_dicom_equals_suv_factor(tmp_path, hot_sphere):
    from imaging import RadiomicsExtractor, extract_case

    img, voi, _, _ = hot_sphere
    path = _write(_pet_dataset(), tmp_path / "pet.dcm")
    ext = RadiomicsExtractor("PET", image_types=["Original"], feature_classes=["firstorder"])
    a = extract_case("pet2", img, voi, params=ext, suv_dicom=path)
    b = extract_case("pet2", img, voi, params=ext, suv_factor=suv_factor_from_dicom(path))
    assert a == b
    assert a["lesion_pet_SUVmax"] == pytest.approx(10.0 * 1000 * 72.5 / (351e6 * 2 ** (-4215 / 6586.2)))
    with pytest.raises(DicomTagError, match=r"PatientWeight.*case 'pet3'"):
        extract_case("pet3", img, voi, params=ext,
                     suv_dicom=_write(_pet_dataset(PatientWeight=True), tmp_path / "nw.dcm"))
