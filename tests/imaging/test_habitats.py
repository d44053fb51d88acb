"""HabitatModel: voxel clustering inside lesions, fitted on training cases, applied unchanged.

Synthetic lesions with two intensity halves (the only case where the right
answer is known), and one real CT crop (pyradiomics' lung1crop test case,
tests/data/pyradiomics) for shapes, geometry and per-habitat radiomics.
"""

from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from imaging.exceptions import EmptyRegionError, GeometryMismatchError
from imaging.habitats import HabitatModel
from nomogram.exceptions import ModelFileError, NotFittedError

DATA = Path(__file__).resolve().parents[1] / "data" / "pyradiomics"
SHAPE = (20, 24, 24)  # z, y, x


def halves_case(seed, swap=False, spacing=(0.8, 0.8, 2.0)):
    """Ball lesion whose x < centre half is ~100 and other half ~300 (noise sd 10)."""
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]
    mask = (((z - 10) * 1.5) ** 2 + (y - 12) ** 2 + (x - 12) ** 2 <= 81).astype(np.uint8)
    left, right = (300.0, 100.0) if swap else (100.0, 300.0)
    arr = rng.normal(0, 10, SHAPE) + np.where(x < 12, left, right)
    img = sitk.GetImageFromArray(arr.astype(np.float32))
    img.SetSpacing(spacing)
    img.SetOrigin((-10.0, 5.0, 3.0))
    msk = sitk.GetImageFromArray(mask)
    msk.CopyInformation(img)
    return img, msk


LEFT = np.mgrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]][2] < 12


def purity(labels, k):
    """Per habitat: share of its voxels in the left half."""
    arr = sitk.GetArrayFromImage(labels) if isinstance(labels, sitk.Image) else labels
    return [LEFT[arr == h].mean() for h in range(1, k + 1)]


@pytest.fixture(scope="module")
def train():
    return [halves_case(s) for s in range(3)]


@pytest.fixture(scope="module")
def model2(train):
    return HabitatModel(n_habitats=2, random_state=0).fit(train)


def test_two_intensity_halves_are_split_into_them(model2):
    img, msk = halves_case(42)
    labels = model2.predict(img, msk)
    arr = sitk.GetArrayFromImage(labels)
    lesion = sitk.GetArrayFromImage(msk) == 1
    assert set(np.unique(arr[lesion])) == {1, 2} and (arr[~lesion] == 0).all()
    # habitat 1 is the darker one (centres ordered by intensity): the left half
    np.testing.assert_array_equal(arr[lesion & LEFT], 1)
    np.testing.assert_array_equal(arr[lesion & ~LEFT], 2)
    # geometry of the label image is the image's
    assert labels.GetSpacing() == img.GetSpacing() and labels.GetOrigin() == img.GetOrigin()


def test_k_chosen_by_silhouette_is_two_on_intensity_features(train):
    m = HabitatModel(features=("intensity", "local_mean"), random_state=0).fit(train)
    assert m.n_habitats_ == 2
    assert m.k_scores_["k"].tolist() == [2, 3, 4, 5, 6]
    assert m.k_scores_.set_index("k")["silhouette"].idxmax() == 2
    p = purity(m.predict(*halves_case(7)), 2)
    np.testing.assert_allclose(p, [1.0, 0.0])


@pytest.mark.parametrize("two_step", [False, True])
def test_default_features_never_mix_the_halves(train, two_step):
    """With texture features the interface between the halves may become its own
    habitat, but no habitat takes voxels from both halves."""
    m = HabitatModel(two_step=two_step, random_state=0).fit(train)
    assert 2 <= m.n_habitats_ <= 6
    p = np.array(purity(m.predict(*halves_case(11)), m.n_habitats_))
    assert ((p < 0.02) | (p > 0.98)).all(), p


@pytest.mark.parametrize("two_step", [False, True])
def test_json_round_trip_gives_identical_labels(train, two_step, tmp_path):
    m = HabitatModel(two_step=two_step, n_supervoxels=20, random_state=3).fit(train)
    path = tmp_path / "habitats.json"
    m.to_json(path)
    back = HabitatModel.from_json(path)
    assert back.get_params() == m.get_params()
    np.testing.assert_array_equal(back.centers_, m.centers_)
    for seed in (5, 6):
        img, msk = halves_case(seed)
        np.testing.assert_array_equal(sitk.GetArrayFromImage(back.predict(img, msk)),
                                      sitk.GetArrayFromImage(m.predict(img, msk)))


def test_deterministic_with_random_state(train):
    a = HabitatModel(two_step=True, n_supervoxels=20, random_state=1).fit(train)
    b = HabitatModel(two_step=True, n_supervoxels=20, random_state=1).fit(train)
    assert a.to_json() == b.to_json()
    img, msk = halves_case(9)
    np.testing.assert_array_equal(sitk.GetArrayFromImage(a.predict(img, msk)),
                                  sitk.GetArrayFromImage(b.predict(img, msk)))


def test_applied_unchanged_to_new_cases(model2):
    before = model2.to_json()
    img, msk = halves_case(13, swap=True)  # bright on the left now
    arr = sitk.GetArrayFromImage(model2.predict(img, msk))
    assert model2.to_json() == before  # predicting learns nothing
    lesion = sitk.GetArrayFromImage(msk) == 1
    np.testing.assert_array_equal(arr[lesion & LEFT], 2)  # the dark habitat is the dark voxels
    np.testing.assert_array_equal(arr[lesion & ~LEFT], 1)
    # a case brighter overall falls entirely into the bright habitat: no refitting per case
    bright = sitk.Cast(img, sitk.sitkFloat32) * 0.0 + 300.0
    arr_b = sitk.GetArrayFromImage(model2.predict(bright, msk))
    assert (arr_b[lesion] == 2).all()


def test_fractions_masks_and_numpy_input(model2):
    img, msk = halves_case(21)
    labels = model2.predict(img, msk)
    arr = sitk.GetArrayFromImage(labels)
    fr = model2.volume_fractions(labels)
    n1, n2 = (arr == 1).sum(), (arr == 2).sum()
    np.testing.assert_allclose(fr["habitat1_fraction"], n1 / (n1 + n2))
    np.testing.assert_allclose(fr[["habitat1_fraction", "habitat2_fraction"]].sum(), 1.0)
    np.testing.assert_allclose(fr["habitat2_volume_mm3"], n2 * 0.8 * 0.8 * 2.0)
    masks = model2.habitat_masks(labels)
    assert list(masks) == ["habitat1", "habitat2"]
    total = sum(sitk.GetArrayFromImage(m).astype(int) for m in masks.values())
    np.testing.assert_array_equal(total, sitk.GetArrayFromImage(msk))  # a partition of the lesion
    # NumPy arrays in, NumPy array out, same labels
    arr_np = model2.predict(sitk.GetArrayFromImage(img), sitk.GetArrayFromImage(msk))
    np.testing.assert_array_equal(arr_np, arr)
    df = model2.habitat_fractions([halves_case(1), halves_case(2)], ["p1", "p2"])
    assert list(df.index) == ["p1", "p2"] and df.index.name == "case_id"


def test_real_ct_case_and_per_habitat_radiomics():
    from imaging import RadiomicsExtractor

    img = sitk.ReadImage(str(DATA / "lung1crop_image.nrrd"))
    msk = sitk.ReadImage(str(DATA / "lung1crop_label.nrrd"))
    m = HabitatModel(random_state=0).fit([(img, msk)], case_ids=["lung1crop"])
    labels = m.predict(img, msk, case_id="lung1crop")
    arr = sitk.GetArrayFromImage(labels)
    lesion = sitk.GetArrayFromImage(msk) > 0
    assert set(np.unique(arr[lesion])) == set(range(1, m.n_habitats_ + 1))
    assert (arr[~lesion] == 0).all()
    ext = RadiomicsExtractor("CT", image_types=["Original"], feature_classes=["firstorder"])
    row = m.habitat_features(ext, img, labels, case_id="lung1crop")
    for j in range(1, m.n_habitats_ + 1):
        assert f"habitat{j}_original_firstorder_Mean" in row
    # the habitats are ordered by intensity: mean HU increases with the habitat number
    means = [row[f"habitat{j}_original_firstorder_Mean"] for j in range(1, m.n_habitats_ + 1)]
    assert means == sorted(means)
    direct = ext.extract_region(img, m.habitat_masks(labels)["habitat1"], name="habitat1")
    assert direct["habitat1_original_firstorder_Mean"] == row["habitat1_original_firstorder_Mean"]


def test_bad_input_messages(train, model2):
    with pytest.raises(NotFittedError, match="HabitatModel instance is not fitted yet"):
        HabitatModel().predict(*halves_case(0))
    img, msk = halves_case(0)
    empty = sitk.Image(msk.GetSize(), sitk.sitkUInt8)
    empty.CopyInformation(msk)
    with pytest.raises(EmptyRegionError, match="case 'p7'"):
        model2.predict(img, empty, case_id="p7")
    shifted = sitk.Image(msk)
    shifted.SetOrigin((0.0, 0.0, 0.0))
    with pytest.raises(GeometryMismatchError, match="origin"):
        model2.predict(img, shifted)
    with pytest.raises(GeometryMismatchError, match="array shape"):
        model2.predict(np.zeros((4, 4, 4)), np.ones((4, 4, 5)))
    with pytest.raises(ValueError, match="window must be an odd positive int"):
        HabitatModel(window=4).fit(train)
    with pytest.raises(ValueError, match="The 'criterion' parameter of HabitatModel"):
        HabitatModel(criterion="elbow").fit(train)
    with pytest.raises(ValueError, match="The 'features' parameter of HabitatModel"):
        HabitatModel(features=("intensity", "gradient")).fit(train)
    with pytest.raises(TypeError, match=r"list of \(image, mask\) pairs"):
        HabitatModel().fit([img])
    with pytest.raises(ModelFileError, match="not a nomofuse model file"):
        HabitatModel.from_json('{"format": "other"}')
