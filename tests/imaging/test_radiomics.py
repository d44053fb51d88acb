"""extract_case against pyradiomics itself, on real CT/MR cases shipped with pyradiomics."""

import math

import numpy as np
import pytest
import SimpleITK as sitk
from radiomics import featureextractor

from imaging import EmptyRegionError, GeometryMismatchError, RadiomicsExtractor, extract_case
from imaging.radiomics import PRESETS, preset_path

from .conftest import case_files


def pyradiomics_row(params, image, mask, prefix="lesion"):
    raw = featureextractor.RadiomicsFeatureExtractor(params).execute(str(image), str(mask))
    return {f"{prefix}_{k}": float(v) for k, v in raw.items() if not k.startswith("diagnostics_")}


def assert_identical(got, ref):
    assert list(got) == list(ref)  # same columns in the same order
    diff = [k for k in ref if not (got[k] == ref[k] or (math.isnan(got[k]) and math.isnan(ref[k])))]
    assert diff == [], f"{len(diff)} features differ, e.g. {diff[:3]}"


@pytest.mark.parametrize("case,preset", [("lung1crop", "CT"), ("breast1", "MR")])
def test_extract_case_equals_pyradiomics_execute_full_preset(case, preset):
    """Every feature of the full preset (Original + LoG + Wavelet, resampling) is the same float."""
    image, mask = case_files(case)
    ext = RadiomicsExtractor(preset)
    got = extract_case(case, image, mask, params=ext)
    ref = pyradiomics_row(ext.params_, image, mask)
    assert len(got) > 1000
    assert_identical(got, ref)
    assert "lesion_original_firstorder_Mean" in got
    assert "lesion_wavelet-LLH_glcm_Contrast" in got
    assert not any("diagnostics" in k for k in got)


def test_extract_case_preset_by_name_equals_pyradiomics_yaml():
    """params="MR" (by name) reads imaging/params/MR.yaml: same floats as pyradiomics on that file."""
    import yaml

    image, mask = case_files("brain1")
    params = yaml.safe_load(preset_path("MR").read_text())
    params["imageType"] = {"Original": {}}  # keep the test fast; filters are covered above
    params["setting"]["additionalInfo"] = False
    got = extract_case("brain1", image, mask, params=params)
    assert_identical(got, pyradiomics_row(params, image, mask))
    assert len(got) == 105  # 14 shape + 18 firstorder + 22 glcm + 16 glrlm + 16 glszm + 14 gldm + 5 ngtdm


@pytest.mark.parametrize("case,types", [
    ("lung1crop", {"Original": {}, "Wavelet": {}, "Gradient": {}}),
    ("brain1", {"Original": {}, "Gradient": {}}),
])
def test_crop_gives_identical_features_without_resampling(case, types):
    """The memory-saving crop changes no feature of Original, Wavelet, Gradient (real cases)."""
    image, mask = case_files(case)
    kw = dict(image_types=types, settings={"resampledPixelSpacing": None})
    cropped = RadiomicsExtractor("CT", crop=True, **kw).extract_case(case, image, mask)
    full = RadiomicsExtractor("CT", crop=False, **kw).extract_case(case, image, mask)
    assert_identical(cropped, full)
    # and crop=False is pyradiomics' plain run on the full image
    assert_identical(full, pyradiomics_row(RadiomicsExtractor("CT", **kw).params_, image, mask))


def test_crop_is_smaller_than_image_and_log_agrees():
    image, mask = case_files("brain1")
    ext = RadiomicsExtractor("CT", image_types={"Original": {}, "LoG": {"sigma": [1.0, 3.0]}},
                             settings={"resampledPixelSpacing": None})
    img = sitk.ReadImage(str(image))
    small, _ = ext.prepare(img, sitk.ReadImage(str(mask)) > 0)
    assert np.prod(small.GetSize()) < 0.4 * np.prod(img.GetSize())  # 12-sigma margin for sigma 3 mm
    cropped = ext.extract_case("brain1", image, mask)
    full = RadiomicsExtractor("CT", crop=False, image_types=ext.params_["imageType"],
                              settings={"resampledPixelSpacing": None}).extract_case("brain1", image, mask)
    # LoG is a recursive (IIR) filter: with a 12-sigma margin it agrees to 1e-8 relative
    for k in full:
        assert cropped[k] == pytest.approx(full[k], rel=1e-8, abs=1e-10), k


def test_regions_ring_and_soil_columns(tmp_path):
    image, mask = case_files("breast1")
    img = sitk.ReadImage(str(image))
    m = sitk.ReadImage(str(mask))
    organ = sitk.Cast(sitk.BinaryDilate(m > 0, [4, 4, 2]), sitk.sitkUInt8)  # synthetic organ
    ext = RadiomicsExtractor("MR", image_types=["Original"], feature_classes=["firstorder", "shape"])
    row = extract_case("breast1", img, m, params=ext, regions=("lesion", "ring", "soil"),
                       organ_mask=organ, ring_mm=(2, 4))
    prefixes = sorted({k.split("_")[0] for k in row})
    assert prefixes == ["lesion", "ring2mm", "ring4mm", "soil"]
    # the 4 mm ring holds the 2 mm ring: larger volume
    assert row["ring4mm_original_shape_VoxelVolume"] > row["ring2mm_original_shape_VoxelVolume"]
    assert all(isinstance(v, float) for v in row.values())


def test_diagnostics_only_when_asked():
    image, mask = case_files("breast1")
    ext = RadiomicsExtractor("MR", image_types=["Original"], feature_classes=["firstorder"],
                             diagnostics=True)
    row = extract_case("breast1", image, mask, params=ext)
    assert any(k.startswith("lesion_diagnostics_") for k in row)


def test_presets_load_and_document_choices():
    for name in PRESETS:
        text = preset_path(name).read_text()
        assert text.lstrip().startswith("#")
        ext = RadiomicsExtractor(name)
        assert set(ext.params_["imageType"]) == {"Original", "LoG", "Wavelet"}
    assert RadiomicsExtractor("CT").params_["setting"]["binWidth"] == 25
    assert RadiomicsExtractor("MR").params_["setting"]["normalize"] is True
    assert RadiomicsExtractor("MR").params_["setting"]["binWidth"] == 5
    assert RadiomicsExtractor("PET").params_["setting"]["binWidth"] == 0.25


def test_bad_inputs_name_case_and_fix(tmp_path):
    image, mask = case_files("breast1")
    with pytest.raises(ValueError, match="must be one of"):
        RadiomicsExtractor("XR")
    with pytest.raises(ValueError, match="image_types"):
        RadiomicsExtractor("CT", image_types=["Wavelett"])
    with pytest.raises(EmptyRegionError, match=r"Label 3 is absent from the mask \(case 'b1'\)"):
        extract_case("b1", image, mask, params=RadiomicsExtractor("CT", image_types=["Original"]), label=3)
    with pytest.raises(ValueError, match="organ_mask"):
        extract_case("b1", image, mask, regions=("soil",))
    with pytest.raises(TypeError, match="PET options"):
        extract_case("b1", image, mask, suv=2.0)
    m = sitk.ReadImage(str(mask))
    m.SetSpacing((1.0, 1.0, 2.1))
    with pytest.raises(GeometryMismatchError, match=r"case 'b1'.*spacing .* but image has .*--resample-mask"):
        extract_case("b1", image, m)


def test_resample_mask_option_recovers_from_shifted_origin():
    image, mask = case_files("breast1")
    m = sitk.ReadImage(str(mask))
    m.SetOrigin(tuple(o + 0.01 for o in m.GetOrigin()))  # 0.01 mm: beyond tol, same voxels
    ext = RadiomicsExtractor("MR", image_types=["Original"], feature_classes=["firstorder"])
    with pytest.raises(GeometryMismatchError):
        extract_case("b1", image, m, params=ext)
    row = extract_case("b1", image, m, params=ext, resample_mask=True)
    assert row == extract_case("b1", image, mask, params=ext)


def test_lbp3d_filter_runs():
    image, mask = case_files("breast1")
    ext = RadiomicsExtractor("MR", image_types=["LBP3D"], feature_classes=["firstorder"],
                             settings={"resampledPixelSpacing": None, "binWidth": 1, "padDistance": 2})
    row = ext.extract_case("breast1", image, mask)
    assert any(k.startswith("lesion_lbp-3D-m1_firstorder_") for k in row)
