"""check_manifest: every problem listed at once, with row numbers and the fix."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from fusion.cohort import ManifestError, check_manifest

# what the radiomics command asks of its manifest
IMAGING = {"required": ("image", "mask"), "file_columns": ("image", "mask", "organ_mask")}


def _write(folder, rows, columns=("case_id", "image", "mask")):
    path = folder / "cases.csv"
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "study"
    (d / "img").mkdir(parents=True)
    for name in ("a_img.nrrd", "a_msk.nrrd", "b_img.nrrd", "b_msk.nrrd"):
        (d / "img" / name).write_bytes(b"x")
    return d


def test_relative_paths_are_resolved_against_the_manifest_folder(files, tmp_path, monkeypatch):
    path = _write(files, [("a", "img/a_img.nrrd", "img/a_msk.nrrd"),
                          ("007", "img/b_img.nrrd", str(files / "img/b_msk.nrrd"))])
    monkeypatch.chdir(tmp_path)  # not the manifest's folder
    df = check_manifest(path, **IMAGING)
    assert df["case_id"].tolist() == ["a", "007"]  # ids stay text: no 7
    assert df["image"].tolist() == [str(files / "img/a_img.nrrd"), str(files / "img/b_img.nrrd")]
    assert all(os.path.isabs(p) for p in df["mask"])


def test_all_problems_are_listed_at_once_with_rows_and_fixes(files):
    path = _write(files, [
        ("a", "img/a_img.nrrd", "img/a_msk.nrrd"),
        ("b", "img/nothere.nrrd", "img/b_msk.nrrd"),    # row 3: missing file
        ("a", "img/b_img.nrrd", "img/b_msk.nrrd"),      # row 4: duplicate of row 2
        ("", "img/b_img.nrrd", "img/b_msk.nrrd"),       # row 5: blank id
        ("c", "img/b_img.nrrd", ""),                    # row 6: blank mask
    ])
    with pytest.raises(ManifestError) as info:
        check_manifest(path, **IMAGING)
    msg = str(info.value)
    assert "has 4 problem(s)" in msg
    problems = info.value.problems
    assert any("rows 2, 4" in p and "'a'" in p and "unique" in p for p in problems)
    assert any(p.startswith("row 3 (case 'b'): image file 'img/nothere.nrrd' does not exist")
               and "relative paths are relative to" in p for p in problems)
    assert any(p.startswith("row 5: case_id is blank") for p in problems)
    assert any(p.startswith("row 6 (case 'c'): column 'mask' is blank") for p in problems)
    assert len(problems) == 4


def test_missing_columns_name_what_is_expected(files):
    path = _write(files, [("a", "img/a_img.nrrd")], columns=("case_id", "img"))
    with pytest.raises(ManifestError, match=r"lacks required column\(s\) \['image', 'mask'\]"):
        check_manifest(path, **IMAGING)
    with pytest.raises(ManifestError, match="does not exist"):
        check_manifest(files / "nope.csv", **IMAGING)


def test_missing_files_can_be_kept_for_the_runner_unless_all_are_missing(files):
    path = _write(files, [("a", "img/a_img.nrrd", "img/a_msk.nrrd"),
                          ("b", "img/gone.nrrd", "img/b_msk.nrrd")])
    df = check_manifest(path, missing_files="keep", **IMAGING)
    assert df["case_id"].tolist() == ["a", "b"]
    wrong = _write(files, [("a", "a_img.nrrd", "a_msk.nrrd"), ("b", "b_img.nrrd", "b_msk.nrrd")])
    with pytest.raises(ManifestError, match="none of the 2 cases has all its files"):
        check_manifest(wrong, missing_files="keep", **IMAGING)
    with pytest.raises(ValueError, match="'missing_files' parameter of check_manifest"):
        check_manifest(path, missing_files="ignore", **IMAGING)


def test_optional_path_columns_may_be_blank(files):
    path = files / "cases.csv"
    pd.DataFrame({"case_id": ["a", "b"], "image": ["img/a_img.nrrd", "img/b_img.nrrd"],
                  "mask": ["img/a_msk.nrrd", "img/b_msk.nrrd"],
                  "organ_mask": ["img/a_msk.nrrd", ""], "label": ["2", ""]}).to_csv(path, index=False)
    df = check_manifest(path, **IMAGING)
    assert df["organ_mask"].tolist() == [str(files / "img/a_msk.nrrd"), None]
    assert df["label"].iloc[0] == "2" and pd.isna(df["label"].iloc[1])


def test_the_checker_is_generic_id_required_and_file_columns_are_parameters(tmp_path):
    (tmp_path / "s1.svs").write_bytes(b"x")
    path = tmp_path / "slides.csv"
    pd.DataFrame({"slide_id": ["s1", "s2", "s2"], "path": ["s1.svs", "s2.svs", ""],
                  "mpp": ["0.25", "", "x"]}).to_csv(path, index=False)
    with pytest.raises(ManifestError) as info:
        check_manifest(path, id_column="slide_id", required=("path",), file_columns=("path",))
    problems = info.value.problems
    assert any(p.startswith("rows 3, 4: slide_id 's2' is used more than once") for p in problems)
    assert any(p.startswith("row 3 (case 's2'): path file 's2.svs' does not exist") for p in problems)
    assert any(p.startswith("row 4 (case 's2'): column 'path' is blank") for p in problems)
    # nothing imaging-specific by default: only the id column is required
    df = check_manifest(pd.DataFrame({"case_id": ["a"], "anything": ["x"]}))
    assert df.columns.tolist() == ["case_id", "anything"]
    with pytest.raises(ManifestError, match=r"lacks required column\(s\) \['slide_id'\]"):
        check_manifest(pd.DataFrame({"case_id": ["a"]}), id_column="slide_id")
    with pytest.raises(TypeError, match="sequences of column names"):
        check_manifest(pd.DataFrame({"case_id": ["a"]}), file_columns="path")


def test_old_parameter_name_and_import_path_still_work(files):
    from fusion.manifest import check_manifest as old

    path = _write(files, [("a", "img/a_img.nrrd", "img/a_msk.nrrd")])
    with pytest.warns(FutureWarning, match="renamed 'file_columns'"):
        df = old(path, required=("image", "mask"), path_columns=("image", "mask"))
    assert os.path.isabs(df["image"].iloc[0])
