"""``nomofuse radiomics`` end to end on small synthetic volumes (real files, real pyradiomics).

The reference values are :func:`imaging.radiomics.extract_case` called
directly in this process on the same files; the command must reproduce them
(rtol 1e-9: the same code, run in a worker process with one ITK thread).
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from fusion.cli import main
from fusion.commands.radiomics import parse_regions
from fusion_cohort_cases import write_case

SMALL_PARAMS = """\
imageType:
  Original: {}
featureClass:
  firstorder:
  glcm:
  shape:
setting:
  binWidth: 25
"""
GOOD = ["c1", "c2", "c3"]


@pytest.fixture
def study(tmp_path):
    rows = []
    for i, cid in enumerate(GOOD):
        rows.append((cid, *write_case(tmp_path, cid, seed=i, size=(20, 20, 10)), "1"))
    rows.append(("geo", *write_case(tmp_path, "geo", size=(20, 20, 10), mask_spacing=(1, 1, 3)), ""))
    rows.append(("empty", *write_case(tmp_path, "empty", size=(20, 20, 10), empty=True), "1"))
    rows.append(("gone", "gone.nrrd", "c1_mask.nrrd", "1"))
    manifest = tmp_path / "cases.csv"
    pd.DataFrame(rows, columns=["case_id", "image", "mask", "label"]).to_csv(manifest, index=False)
    params = tmp_path / "small.yaml"
    params.write_text(SMALL_PARAMS)
    return {"dir": tmp_path, "manifest": manifest, "params": params,
            "out": tmp_path / "out" / "features.parquet"}


def _run(study, *extra):
    return main(["radiomics", "--manifest", str(study["manifest"]), "--out", str(study["out"]),
                 "--params", str(study["params"]), "--quiet", *extra])


def test_features_errors_and_summary(study, capsys):
    from imaging.radiomics import extract_case

    rc = _run(study, "--jobs", "2")
    text = capsys.readouterr().out
    assert rc == 2  # some cases failed, the table of the others is written
    assert "3 of 6 cases succeeded (3 computed, 0 from cache), 3 failed" in text
    assert str(study["out"]) in text and "features.parquet.errors.csv" in text
    feats = pd.read_parquet(study["out"])
    assert feats.columns[0] == "case_id" and feats["case_id"].tolist() == GOOD
    for cid in GOOD:
        ref = extract_case(cid, study["dir"] / f"{cid}_image.nrrd", study["dir"] / f"{cid}_mask.nrrd",
                           params=str(study["params"]))
        got = feats.set_index("case_id").loc[cid, list(ref)]
        pd.testing.assert_series_equal(got.astype(float), pd.Series(ref, name=cid, dtype=float),
                                       check_exact=False, rtol=1e-9, check_names=False)
    assert "lesion_original_firstorder_Mean" in feats.columns
    err = pd.read_csv(study["out"].parent / "features.parquet.errors.csv").set_index("case_id")
    assert err.loc["geo", "stage"] == "geometry" and "--resample-mask" in err.loc["geo", "message"]
    assert err.loc["empty", "stage"] == "region"
    assert err.loc["empty", "error_type"] == "EmptyRegionError"
    assert err.loc["gone", "stage"] == "read" and err.loc["gone", "row"] == 7


def test_rerun_is_cached_and_a_changed_params_file_is_not(study, capsys):
    _run(study)
    capsys.readouterr()
    assert _run(study, "--jobs", "2") == 2
    assert "(0 computed, 3 from cache)" in capsys.readouterr().out
    first = pd.read_parquet(study["out"])
    # same file name, new content: every case is recomputed
    study["params"].write_text(SMALL_PARAMS.replace("binWidth: 25", "binWidth: 5"))
    _run(study)
    assert "(3 computed, 0 from cache)" in capsys.readouterr().out
    second = pd.read_parquet(study["out"])
    assert not (first["lesion_original_glcm_Contrast"] == second["lesion_original_glcm_Contrast"]).any()
    # the geometry failure is fixed by --resample-mask: a new key for every case
    assert _run(study, "--resample-mask") == 2
    out = capsys.readouterr().out
    assert "4 of 6 cases succeeded (4 computed, 0 from cache)" in out


def test_dask_scheduler_option(study, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        rc = _run(study, "--scheduler", cluster.scheduler_address, "--no-cache")
    assert rc == 2
    assert "3 of 6 cases succeeded (3 computed, 0 from cache), 3 failed" in capsys.readouterr().out


def test_bad_input_is_refused_with_the_fix(study, capsys, tmp_path):
    assert _run(study, "--strict") == 1
    err = capsys.readouterr().err
    assert "row 7 (case 'gone'): image file 'gone.nrrd' does not exist" in err
    assert not study["out"].exists()
    assert _run(study, "--regions", "lesion,rim") == 1
    assert "unknown: ['rim']" in capsys.readouterr().err
    assert _run(study, "--regions", "lesion,soil") == 1
    assert "region 'soil' needs an organ_mask column" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"case_id": ["a"], "img": ["x"]}).to_csv(bad, index=False)
    assert main(["radiomics", "--manifest", str(bad), "--out", str(tmp_path / "o.parquet")]) == 1
    assert "lacks required column(s) ['image', 'mask']" in capsys.readouterr().err
    assert _run(study, "--params", str(tmp_path / "none.yaml")) == 1
    assert "neither a preset" in capsys.readouterr().err


def test_parse_regions():
    assert parse_regions("lesion, ring3,ring5mm ,soil") == (("lesion", "ring", "soil"), (3.0, 5.0))
    assert parse_regions("lesion") == (("lesion",), ())
    with pytest.raises(ValueError, match="Got ''"):
        parse_regions("")


def test_option_columns_are_typed_and_checked(tmp_path, capsys):
    img, msk = write_case(tmp_path, "l2", size=(20, 20, 10), label=2)
    (tmp_path / "small.yaml").write_text(SMALL_PARAMS)
    good = tmp_path / "good.csv"
    pd.DataFrame({"case_id": ["l2"], "image": [img], "mask": [msk], "label": ["2"],
                  "site": ["A"]}).to_csv(good, index=False)
    rc = main(["radiomics", "--manifest", str(good), "--out", str(tmp_path / "f.parquet"),
               "--params", str(tmp_path / "small.yaml"), "--quiet", "--no-cache"])
    captured = capsys.readouterr()
    assert rc == 0, captured.out
    assert "columns ['site'] are not used by nomofuse radiomics; ignored" in captured.err
    assert pd.read_parquet(tmp_path / "f.parquet")["lesion_original_shape_VoxelVolume"].iloc[0] > 0
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"case_id": ["a", "b"], "image": [img, img], "mask": [msk, msk],
                  "label": ["2", "two"], "suv_factor": ["x", "0.5"]}).to_csv(bad, index=False)
    assert main(["radiomics", "--manifest", str(bad), "--out", str(tmp_path / "g.parquet")]) == 1
    err = capsys.readouterr().err
    assert "row 3 (case 'b'): column 'label' must be an integer; got 'two'" in err
    assert "row 2 (case 'a'): column 'suv_factor' must be a number; got 'x'" in err


def test_killed_cli_run_resumes_without_recomputing(tmp_path, capsys):
    """SIGKILL the command mid-cohort; the re-run reads every finished case from the cache."""
    import json
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import numpy as np
    import SimpleITK as sitk

    from fusion.cohort import ResultCache

    data = Path(__file__).resolve().parents[1] / "data" / "pyradiomics"
    if not (data / "brain1_image.nrrd").is_file():
        pytest.skip("tests/data/pyradiomics/brain1_* not present")
    img = sitk.ReadImage(str(data / "brain1_image.nrrd"))
    rows = []
    for i in range(5):  # five real-size cases with different content (one voxel each)
        arr = sitk.GetArrayFromImage(img)
        arr.reshape(-1)[i] += 1
        out = sitk.GetImageFromArray(arr)
        out.CopyInformation(img)
        sitk.WriteImage(out, str(tmp_path / f"b{i}_image.nrrd"))
        rows.append((f"b{i}", f"b{i}_image.nrrd", str(data / "brain1_label.nrrd")))
    manifest = tmp_path / "cases.csv"
    pd.DataFrame(rows, columns=["case_id", "image", "mask"]).to_csv(manifest, index=False)
    (tmp_path / "small.yaml").write_text(SMALL_PARAMS)
    out = tmp_path / "features.parquet"
    cache = tmp_path / "cache"
    argv = ["radiomics", "--manifest", str(manifest), "--out", str(out), "--params",
            str(tmp_path / "small.yaml"), "--cache-dir", str(cache), "--quiet"]
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "fusion.cli", *argv], env=env,
                            start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if cache.is_dir() and len(ResultCache(cache)) >= 2:
                break
            if proc.poll() is not None:
                pytest.skip(f"the run finished before it could be killed: {proc.communicate()[1][-300:]}")
            time.sleep(0.02)
        else:
            pytest.fail("no case finished within 180 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    entries = {p: p.stat().st_mtime_ns for p in cache.glob("??/*.json")}
    done = {json.loads(p.read_text())["case_id"] for p in entries}
    assert 2 <= len(done) < 5 and not out.exists()

    assert main(argv) == 0
    text = capsys.readouterr().out
    assert f"5 of 5 cases succeeded ({5 - len(done)} computed, {len(done)} from cache)" in text
    for p, mtime in entries.items():  # finished entries were read, not rewritten
        assert p.stat().st_mtime_ns == mtime
    feats = pd.read_parquet(out)
    assert feats["case_id"].tolist() == [f"b{i}" for i in range(5)]
    assert np.isfinite(feats.drop(columns="case_id").to_numpy(float)).all()


def test_params_are_identified_by_their_text_not_their_name(tmp_path):
    from fusion.commands.radiomics import params_identity
    from imaging.radiomics import preset_path

    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(SMALL_PARAMS)
    b.write_text(SMALL_PARAMS)
    assert params_identity(str(a)) == params_identity(str(b))
    b.write_text(SMALL_PARAMS + "  normalize: true\n")
    assert params_identity(str(a)) != params_identity(str(b))
    assert params_identity("CT")["text"] == preset_path("CT").read_text()
