"""DICOM SEG (highdicom) and RTSTRUCT (pydicom) read onto the grid of their CT series."""

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.dataset import Dataset

from imaging import ImageReadError, read_dicom_seg, read_image, read_rtstruct

from ._dicom_files import write_dicom
from .test_regions_geometry_io import _write_dicom_series


@pytest.fixture
def ct_series(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(-100, 100, size=(6, 20, 14))  # non-square slices on purpose
    _write_dicom_series(arr, (0.8, 0.7, 2.0), tmp_path / "ct", "1.2.826.0.1.3680043.2.1125.300")
    return tmp_path / "ct"


def test_read_dicom_seg_onto_series_grid(tmp_path, ct_series):
    hd = pytest.importorskip("highdicom")
    img = read_image(ct_series)
    dss = sorted((pydicom.dcmread(p) for p in ct_series.iterdir()),
                 key=lambda d: float(d.ImagePositionPatient[2]))
    mask = np.zeros((6, 20, 14), bool)
    mask[2:4, 5:9, 3:7] = True
    mask[3, 12:15, 9:12] = True
    desc = hd.seg.SegmentDescription(
        segment_number=1, segment_label="tumour",
        segmented_property_category=hd.sr.CodedConcept("49755003", "SCT", "Morphologically Altered Structure"),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL)
    seg = hd.seg.Segmentation(
        source_images=dss, pixel_array=mask, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[desc], series_instance_uid=hd.UID(), series_number=2,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="nomofuse",
        manufacturer_model_name="test", software_versions="0", device_serial_number="1")
    seg.save_as(tmp_path / "seg.dcm")
    lab = read_dicom_seg(tmp_path / "seg.dcm", reference=img)
    assert lab.GetSize() == img.GetSize()
    np.testing.assert_array_equal(sitk.GetArrayFromImage(lab), mask.astype(np.uint8))
    with pytest.raises(ImageReadError, match=r"case 's1'.*nothing.dcm"):
        read_dicom_seg(tmp_path / "nothing.dcm", case_id="s1")
    # extract_case takes the SEG file as the mask of a DICOM series: same features as the label image
    from imaging import RadiomicsExtractor, extract_case

    ext = RadiomicsExtractor("CT", image_types=["Original"], feature_classes=["firstorder", "shape"],
                             settings={"resampledPixelSpacing": None})
    via_seg = extract_case("s1", ct_series, tmp_path / "seg.dcm", params=ext)
    label = sitk.GetImageFromArray(mask.astype(np.uint8))
    label.CopyInformation(img)
    assert via_seg == extract_case("s1", img, label, params=ext)


def _rtstruct(img, contours_by_roi, path):
    ds = Dataset()
    ds.Modality = "RTSTRUCT"
    ds.StructureSetROISequence = []
    ds.ROIContourSequence = []
    for number, (name, contours) in enumerate(contours_by_roi.items(), start=1):
        roi = Dataset()
        roi.ROINumber = number
        roi.ROIName = name
        ds.StructureSetROISequence.append(roi)
        rc = Dataset()
        rc.ReferencedROINumber = number
        rc.ContourSequence = []
        for k, corners in contours:
            c = Dataset()
            pts = [img.TransformContinuousIndexToPhysicalPoint((x, y, float(k))) for x, y in corners]
            c.ContourGeometricType = "CLOSED_PLANAR"
            c.NumberOfContourPoints = len(pts)
            c.ContourData = [f"{v:.6f}" for p in pts for v in p]
            rc.ContourSequence.append(c)
        ds.ROIContourSequence.append(rc)
    return write_dicom(ds, path, "1.2.840.10008.5.1.4.1.1.481.3")  # RT Structure Set Storage


def _rect(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def test_read_rtstruct_even_odd_fill(tmp_path, ct_series):
    img = read_image(ct_series)
    path = _rtstruct(img, {
        "tumour": [(2, _rect(3.5, 4.5, 9.5, 11.5)),   # pixels x 4..9, y 5..11
                   (2, _rect(6.5, 7.5, 7.5, 8.5)),    # hole: pixel (x 7, y 8)
                   (3, _rect(1.5, 15.5, 3.5, 17.5))],
        "body": [(0, _rect(-0.5, -0.5, 13.5, 19.5))],
    }, tmp_path / "rt.dcm")
    expected = np.zeros((6, 20, 14), np.uint8)
    expected[2, 5:12, 4:10] = 1
    expected[2, 8, 7] = 0
    expected[3, 16:18, 2:4] = 1
    got = read_rtstruct(path, ct_series, "tumour")
    np.testing.assert_array_equal(sitk.GetArrayFromImage(got), expected)
    assert got.GetSpacing() == img.GetSpacing() and got.GetOrigin() == img.GetOrigin()
    assert int(sitk.GetArrayViewFromImage(read_rtstruct(path, img, "body")).sum()) == 20 * 14
    with pytest.raises(ImageReadError, match=r"ROI 'liver' is not in the RTSTRUCT \(case 'r1'.*\['body', 'tumour'\]"):
        read_rtstruct(path, img, "liver", case_id="r1")
    off = _rtstruct(img, {"far": [(9, _rect(1, 1, 3, 3))]}, tmp_path / "off.dcm")
    with pytest.raises(ImageReadError, match="does not lie on a slice"):
        read_rtstruct(off, img, "far")


def test_read_rtstruct_written_by_rt_utils(tmp_path):
    rt_utils = pytest.importorskip("rt_utils")
    arr = np.zeros((5, 24, 24))
    _write_dicom_series(arr, (0.8, 0.8, 2.0), tmp_path / "ct", "1.2.826.0.1.3680043.2.1125.400")
    mask = np.zeros((5, 24, 24), bool)
    mask[1:4, 6:15, 8:18] = True
    rt = rt_utils.RTStructBuilder.create_new(dicom_series_path=str(tmp_path / "ct"))
    rt.add_roi(mask=np.transpose(mask, (1, 2, 0)), name="gtv")
    rt.save(str(tmp_path / "rt.dcm"))
    got = sitk.GetArrayFromImage(read_rtstruct(tmp_path / "rt.dcm", tmp_path / "ct", "gtv")).astype(bool)
    # rt-utils traces contours through the centres of the edge pixels: those count as inside
    np.testing.assert_array_equal(got, mask)
