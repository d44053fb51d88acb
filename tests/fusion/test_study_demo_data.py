"""The demo cohort: seeded, readable by the study's readers, and carrying the planted signal."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from fusion.study import load_study
from fusion.study.demo_data import CANCER_TYPES, make_demo_cohort


def _digest(folder, names):
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return make_demo_cohort(tmp_path_factory.mktemp("demo"), n_patients=60, random_state=3)


def test_cohort_files_and_study_validate(cohort):
    cfg = load_study(cohort.study)  # checks that every named file exists
    assert cfg.outcome.column == "bone_metastasis" and cfg.pathology.weights == "random"
    clinical = pd.read_csv(cohort.clinical)
    assert len(clinical) == 60 and clinical["patient_id"].is_unique
    assert set(clinical["cancer_type"]) <= set(CANCER_TYPES)
    assert set(clinical["centre"]) == {"A", "B"}
    for column in cfg.clinical_factors.candidates:
        assert column in clinical.columns
    assert clinical["bone_metastasis"].isin([0, 1]).all() and 0.2 < clinical["bone_metastasis"].mean() < 0.8
    assert clinical.loc[clinical["cancer_type"] == "prostate", "sex"].eq("M").all()
    scans = pd.read_csv(cohort.scans)
    slides = pd.read_csv(cohort.slides)
    assert len(scans) == 59 and len(slides) == 60  # one patient has no scan


def test_same_seed_same_cohort_whatever_the_workers(cohort, tmp_path):
    again = make_demo_cohort(tmp_path / "again", n_patients=60, random_state=3, jobs=2, slides=False)
    names = ["clinical.csv", "scans.csv", "truth.csv"]
    assert _digest(cohort.root, names) == _digest(again.root, names)
    scans = pd.read_csv(again.scans)
    assert _digest(cohort.root, scans["mask"].tolist()[:5]) == _digest(again.root, scans["mask"].tolist()[:5])
    with pytest.raises(FileExistsError, match="already holds a cohort"):
        make_demo_cohort(again.root, n_patients=60)
    from fusion.study import load_study

    cfg = load_study(again.study)  # the study without slides is a valid study file
    assert cfg.pathology is None and set(cfg.clinical_factors.display_names) <= \
        set(cfg.clinical_factors.candidates) | set(cfg.labels)


def test_volumes_carry_the_imaging_signal(cohort):
    import SimpleITK as sitk

    scans = pd.read_csv(cohort.scans)
    truth = pd.read_csv(cohort.truth).set_index("patient_id")
    sds, z, broken = [], [], 0
    for row in scans.itertuples():
        try:
            img = sitk.ReadImage(str(cohort.root / row.image))
        except RuntimeError:
            broken += 1
            continue
        mask = sitk.ReadImage(str(cohort.root / row.mask))
        assert img.GetSize() == (32, 32, 16) and img.GetSpacing() == (1.0, 1.0, 2.0)
        assert mask.GetSize() == img.GetSize()
        a, m = sitk.GetArrayFromImage(img), sitk.GetArrayFromImage(mask).astype(bool)
        assert 50 < m.sum() < a.size / 2
        sds.append(a[m].std())
        z.append(truth.loc[row.patient_id, "z_img"])
    assert broken == 1  # the truncated scan
    assert np.corrcoef(np.log(sds), z)[0, 1] > 0.7


def test_slides_open_in_openslide_and_carry_the_tissue_signal(cohort):
    import openslide

    slides = pd.read_csv(cohort.slides)
    truth = pd.read_csv(cohort.truth).set_index("patient_id")
    dark, z, broken = [], [], 0
    for row in slides.itertuples():
        try:
            s = openslide.OpenSlide(str(cohort.root / row.path))
        except openslide.OpenSlideError:
            broken += 1
            continue
        assert s.level_count == 3 and s.dimensions == (768, 768)
        assert float(s.properties["openslide.mpp-x"]) == pytest.approx(0.5, rel=1e-6)
        region = np.asarray(s.read_region((256, 256), 0, (256, 256)).convert("RGB")).astype(int)
        nuclei = (region[..., 0] < 140) & (region[..., 2] > region[..., 1] + 40)
        dark.append(nuclei.mean())
        z.append(truth.loc[row.patient_id, "z_path"])
        s.close()
    assert broken == 1  # the truncated slide
    assert np.corrcoef(np.log(np.array(dark) + 1e-3), z)[0, 1] > 0.7


def test_bad_arguments():
    with pytest.raises(ValueError, match="'n_patients' parameter of make_demo_cohort must be an integer >= 40"):
        make_demo_cohort("unused", n_patients=10)
