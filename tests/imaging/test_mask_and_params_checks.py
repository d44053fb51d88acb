"""The mask checker, the label checker and the parameter-file reader refuse what would give garbage.

Swapped image/mask files (the "mask" is an image: hundreds of values, continuous
values, negative Hounsfield units), a non-integer label, and parameter files
that are not pyradiomics' shape or schema are refused with the file, the case
and the fix, never turned into features.
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from imaging import (ImageReadError, LabelError, RadiomicsParamsError, check_label, extract_case,
                     lesion_region, organ_soil, read_mask)
from imaging.io import MAX_LABELS, as_label_image
from imaging.presets import read_params
from imaging.radiomics import RadiomicsExtractor, check_settings

SMALL = {"imageType": {"Original": {}}, "featureClass": {"firstorder": ["Mean"]},
         "setting": {"binWidth": 25}}


def _volume(arr, path=None):
    img = sitk.GetImageFromArray(np.asarray(arr))
    img.SetSpacing((1.0, 1.0, 2.0))
    if path is not None:
        sitk.WriteImage(img, str(path))
    return img


@pytest.fixture
def pair(tmp_path):
    """A small MR-like image (uint16, many values) and its one-label mask, as files."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 1200, size=(8, 24, 24)).astype(np.uint16)
    mask = np.zeros_like(image, dtype=np.uint8)
    mask[2:6, 8:16, 8:16] = 1
    _volume(image, tmp_path / "image.nrrd")
    _volume(mask, tmp_path / "mask.nrrd")
    return tmp_path / "image.nrrd", tmp_path / "mask.nrrd"


def test_swapped_image_and_mask_are_refused_naming_the_file(pair, tmp_path):
    image, mask = pair
    assert extract_case("c1", image, mask, params=SMALL)["lesion_original_firstorder_Mean"] > 0
    with pytest.raises(ImageReadError, match=r"distinct non-zero values.*case 'c1'.*image\.nrrd"
                                             r".*image and the mask are not swapped"):
        extract_case("c1", mask, image, params=SMALL)          # columns swapped
    # a CT in Hounsfield units as the mask
    ct = tmp_path / "ct.nrrd"
    _volume(np.full((8, 24, 24), -1000, dtype=np.int16), ct)
    with pytest.raises(ImageReadError, match=r"negative values \(minimum -1000\).*ct\.nrrd.*swapped"):
        read_mask(ct, case_id="c2")
    # a PET (continuous values) as the mask
    pet = tmp_path / "pet.nrrd"
    _volume(np.random.default_rng(1).gamma(2.0, 1.5, size=(8, 24, 24)).astype(np.float32), pet)
    with pytest.raises(ImageReadError, match=r"non-integer values \(\d+ voxels, e\.g\. .*pet\.nrrd.*swapped"):
        read_mask(pet, case_id="c3")
    nan = _volume(np.where(np.eye(24)[None] > 0, np.nan, 0.0).repeat(8, 0).astype(np.float32))
    with pytest.raises(ImageReadError, match="NaN or infinite"):
        as_label_image(nan)


def test_a_label_map_with_many_structures_is_still_a_mask():
    labels = np.zeros((4, 40, 40), dtype=np.uint16)
    labels.reshape(-1)[: MAX_LABELS * 3] = np.repeat(np.arange(1, MAX_LABELS + 1), 3)
    out = as_label_image(_volume(labels))  # exactly MAX_LABELS labels: accepted
    assert out.GetPixelID() == sitk.sitkUInt8
    freesurfer = np.zeros((4, 40, 40), dtype=np.int32)  # few labels, large values (aseg 2035)
    freesurfer[0, :5, :5], freesurfer[1, :5, :5] = 2035, 1000
    assert as_label_image(_volume(freesurfer)).GetPixelID() == sitk.sitkUInt32
    labels.reshape(-1)[MAX_LABELS * 3] = MAX_LABELS + 1  # one more: refused...
    with pytest.raises(ImageReadError, match=f"{MAX_LABELS + 1} distinct non-zero values"):
        as_label_image(_volume(labels))
    assert as_label_image(_volume(labels), max_labels=300) is not None  # ...unless allowed
    floats = labels.astype(np.float32)  # integer values in a float file: accepted and cast
    assert as_label_image(_volume(floats), max_labels=300).GetPixelID() == sitk.sitkUInt32


@pytest.mark.parametrize("label", [1.5, 0, -2, True, float("nan"), "1", None])
def test_a_label_that_is_not_a_positive_integer_is_refused(pair, label):
    image, mask = pair
    with pytest.raises(LabelError, match=r"positive integer.*case 'c1', file '.*mask\.nrrd'.*"
                                         r"Got .* instead; give the lesion's value"):
        extract_case("c1", image, mask, params=SMALL, label=label)
    m = read_mask(mask)
    with pytest.raises(LabelError):
        lesion_region(m, label)
    if label is not None:  # organ_label=None means "any non-zero voxel"
        with pytest.raises(LabelError):
            organ_soil(m, m, organ_label=label)


def test_an_integral_label_of_any_numeric_type_is_accepted(pair):
    image, mask = pair
    assert check_label(np.int64(2)) == 2 and check_label(3.0) == 3
    assert extract_case("c1", image, mask, params=SMALL, label=np.uint8(1)) == \
        extract_case("c1", image, mask, params=SMALL, label=1)


def test_parameter_files_are_checked_for_shape_then_by_pyradiomics(tmp_path):
    cases = {
        "imageType: [\n": r"not valid YAML at line 2, column 1",
        "just text\n": r"holds text at its top level",
        "- Original\n": r"holds a list at its top level",
        "binWidth: 25\n": r"unknown section\(s\) \['binWidth'\].*goes inside 'setting:'",
        "setting: [1, 2]\n": r"section 'setting' holds a list; it must be a mapping",
        "setting:\n  binWidht: 25\n": r"not valid for pyradiomics: Key 'binWidht' was not defined "
                                      r"\(at '/setting'\)",
        "setting:\n  binWidth: -5\n": r"not valid for pyradiomics: .*'-5'.* \(at '/setting/binWidth'\)",
        "imageType:\n  Wavelett: {}\n": r"Image Type Wavelett is not recognized",
        "featureClass:\n  glcm: [Contrastt]\n": r"unrecognized features: \{'Contrastt'\}",
    }
    for n, (text, message) in enumerate(cases.items()):
        f = tmp_path / f"p{n}.yaml"
        f.write_text(text)
        with pytest.raises(RadiomicsParamsError, match=message) as info:
            check_settings(params=str(f))
        assert f"parameter file '{f}'" in str(info.value) and "\n" not in str(info.value)
    binary = tmp_path / "scan.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(RadiomicsParamsError, match="is not UTF-8 text"):
        read_params(binary)
    with pytest.raises(RadiomicsParamsError, match="is a folder"):
        read_params(tmp_path)
    with pytest.raises(RadiomicsParamsError, match="must be one of"):
        read_params("XR")
    with pytest.raises(RadiomicsParamsError, match="not valid for pyradiomics"):
        RadiomicsExtractor({"setting": {"binWidht": 1}})  # a dict is validated at construction
    assert read_params("CT")["setting"]["binWidth"] == 25
    with pytest.raises(ValueError, match="'ring_mm' parameter of extract_case"):
        check_settings(params=SMALL, regions=("lesion", "ring"), ring_mm=[5, -1])


def test_every_mask_entry_point_uses_the_one_checker(pair):
    """Siblings: agreement, RECIST and habitats refuse what extract_case refuses."""
    from imaging import HabitatModel, axial_diameters, dice, segmentation_agreement

    image, mask = pair
    m, img = read_mask(mask), sitk.ReadImage(str(image))
    assert dice(m, m) == 1.0
    with pytest.raises(LabelError):
        dice(m, m, label=1.5)  # both regions empty: the agreement would be a perfect 1.0
    prob = sitk.Cast(m, sitk.sitkFloat32) * 0.7
    with pytest.raises(ImageReadError, match="non-integer values.*first segmentation"):
        segmentation_agreement(prob, m)
    with pytest.raises(ImageReadError, match="distinct non-zero values"):
        axial_diameters(img)  # the image given as the mask
    with pytest.raises(LabelError):
        axial_diameters(m, label=0.5)
    arr = sitk.GetArrayFromImage(img).astype(float)
    with pytest.raises(ImageReadError, match="distinct non-zero values"):
        HabitatModel(n_habitats=2).fit([(arr, arr)])
    with pytest.raises(LabelError):
        HabitatModel(n_habitats=2, label=1.5).fit([(arr, sitk.GetArrayFromImage(m))])


def test_an_edited_parameter_file_is_read_again_in_the_same_process(pair, tmp_path):
    """Sibling of the stale-cache class: extractors are reused by file content, not by name."""
    image, mask = pair
    f = tmp_path / "p.yaml"
    f.write_text("imageType: {Original: {}}\nfeatureClass: {glcm: [Contrast]}\nsetting: {binWidth: 25}\n")
    first = extract_case("c1", image, mask, params=str(f))
    f.write_text("imageType: {Original: {}}\nfeatureClass: {glcm: [Contrast]}\nsetting: {binWidth: 5}\n")
    second = extract_case("c1", image, mask, params=str(f))
    assert first["lesion_original_glcm_Contrast"] != second["lesion_original_glcm_Contrast"]
