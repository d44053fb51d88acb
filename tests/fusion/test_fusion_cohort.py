"""Cohort runner: failures, cache, resume after a kill, worker crashes, Dask.

Every test runs on real files: small NRRD volumes written with SimpleITK and
read back by a per-case function in worker processes. The reference for each
feature value is the per-case function called directly in this process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fusion.cohort import FAILURE_COLUMNS, ResultCache, check_manifest, errors_path, run_cohort
from fusion_cohort_cases import calls, toy_features, write_case

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GOOD = ["p01", "p02", "p03", "p04", "p05"]
FILES = ("image", "mask")


@pytest.fixture
def cohort(tmp_path):
    """Five good cases and three broken ones, listed in a manifest with relative paths."""
    data = tmp_path / "data"
    data.mkdir()
    rows = []
    for i, cid in enumerate(GOOD):
        rows.append((cid, *write_case(data, cid, seed=i)))
    rows.insert(2, ("bad_missing", "gone_image.nrrd", write_case(data, "bm", seed=9)[1]))
    rows.insert(4, ("bad_geometry", *write_case(data, "bad_geometry", mask_spacing=(1, 1, 3))))
    rows.append(("bad_empty", *write_case(data, "bad_empty", empty=True)))
    manifest = data / "cases.csv"
    pd.DataFrame(rows, columns=["case_id", "image", "mask"]).to_csv(manifest, index=False)
    markers = tmp_path / "markers"
    markers.mkdir()
    return {"manifest": manifest, "data": data, "markers": markers, "tmp": tmp_path}


def _cases(cohort):
    return check_manifest(cohort["manifest"], required=("image", "mask"),
                          file_columns=FILES, missing_files="keep")


def _reference(cases, **kw):
    """Feature table computed by calling the per-case function directly (no runner)."""
    out = []
    for rec in cases.itertuples(index=False):
        if rec.case_id in GOOD:
            out.append({"case_id": rec.case_id, **toy_features(rec.case_id, rec.image, rec.mask, **kw)})
    return pd.DataFrame(out)


def test_failures_are_recorded_and_the_others_finish(cohort, tmp_path):
    cases = _cases(cohort)
    res = run_cohort(toy_features, cases, file_columns=FILES, jobs=2, cache_dir=tmp_path / "cache", progress=False,
                     kwargs={"marker_dir": str(cohort["markers"])})
    assert res.features["case_id"].tolist() == GOOD  # manifest order, failures left out
    assert res.features.columns[0] == "case_id"
    ref = _reference(cases)
    pd.testing.assert_frame_equal(res.features, ref,
                                  check_exact=False, rtol=1e-12)
    fails = res.failures.set_index("case_id")
    assert list(res.failures.columns) == FAILURE_COLUMNS
    assert fails.loc["bad_missing", "stage"] == "read"
    assert fails.loc["bad_missing", "error_type"] == "FileNotFoundError"
    assert "gone_image.nrrd" in fails.loc["bad_missing", "message"]
    assert fails.loc["bad_geometry", "stage"] == "geometry"
    assert "spacing" in fails.loc["bad_geometry", "message"]
    assert fails.loc["bad_empty", "stage"] == "extract"
    # rows as a spreadsheet numbers them (header = 1): bad_missing is the 3rd case -> row 4
    assert fails.loc["bad_missing", "row"] == 4
    assert fails.loc["bad_geometry", "row"] == 6
    assert (res.n_cases, res.n_succeeded, res.n_computed, res.n_cached, res.n_failed) == (8, 5, 5, 0, 3)
    s = res.summary()["count"]
    assert (s["succeeded"], s["failed"], s["from cache"]) == (5, 3, 0)

    out = tmp_path / "out" / "features.parquet"
    paths = res.write(out)
    assert paths["errors"] == out.parent / "features.parquet.errors.csv" == errors_path(out)
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(back, res.features)
    err = pd.read_csv(paths["errors"])
    assert sorted(err["case_id"]) == ["bad_empty", "bad_geometry", "bad_missing"]
    text = res.report("toy")
    assert "5 of 8 cases succeeded (5 computed, 0 from cache), 3 failed" in text
    assert str(out) in text and "bad_geometry" in text and "geometry" in text
    # the missing file never reached a worker; the two other broken cases did
    assert calls(cohort["markers"]) == {c: 1 for c in [*GOOD, "bad_geometry", "bad_empty"]}


def test_rerun_reads_the_cache_and_retries_only_failures(cohort, tmp_path):
    cases = _cases(cohort)
    kw = dict(jobs=2, cache_dir=tmp_path / "cache", progress=False,
              kwargs={"marker_dir": str(cohort["markers"])})
    first = run_cohort(toy_features, cases, file_columns=FILES, **kw)
    second = run_cohort(toy_features, cases, file_columns=FILES, **kw)
    assert (second.n_computed, second.n_cached, second.n_failed) == (0, 5, 3)
    pd.testing.assert_frame_equal(second.features, first.features)
    n = calls(cohort["markers"])
    assert all(n[c] == 1 for c in GOOD)  # never recomputed
    assert n["bad_geometry"] == n["bad_empty"] == 2  # failures are not cached: retried

    # reordered manifest, renamed (copied) files: same content -> same keys -> cache hits
    moved = cases.iloc[::-1].reset_index(drop=True).copy()
    newdir = tmp_path / "moved"
    newdir.mkdir()
    for col in ("image", "mask"):
        new = []
        for cid, p in zip(moved["case_id"], moved[col]):
            if p and os.path.exists(p):
                q = newdir / f"{cid}_{col}_renamed.nrrd"
                q.write_bytes(Path(p).read_bytes())
                new.append(str(q))
            else:
                new.append(p)
        moved[col] = new
    third = run_cohort(toy_features, moved, file_columns=FILES, **kw)
    assert (third.n_computed, third.n_cached) == (0, 5)
    assert calls(cohort["markers"])["p01"] == 1


def test_changed_parameters_or_inputs_never_reuse_stale_results(cohort, tmp_path):
    cases = _cases(cohort)
    cache = tmp_path / "cache"
    base = dict(jobs=1, cache_dir=cache, progress=False)
    markers = str(cohort["markers"])
    r1 = run_cohort(toy_features, cases, file_columns=FILES, kwargs={"scale": 1.0, "marker_dir": markers},
                    key_params={"scale": 1.0}, **base)
    r2 = run_cohort(toy_features, cases, file_columns=FILES, kwargs={"scale": 2.0, "marker_dir": markers},
                    key_params={"scale": 2.0}, **base)
    assert (r2.n_computed, r2.n_cached) == (5, 0)
    np.testing.assert_allclose(r2.features["mean"], 2 * r1.features["mean"], rtol=1e-12)
    # library versions are part of the key
    r3 = run_cohort(toy_features, cases, file_columns=FILES, kwargs={"scale": 2.0, "marker_dir": markers},
                    key_params={"scale": 2.0}, versions={"numpy": "0.0-other"}, **base)
    assert (r3.n_computed, r3.n_cached) == (5, 0)
    # editing one input file recomputes that case only
    p03 = cases.set_index("case_id").loc["p03"]
    arr_path = Path(p03["image"])
    import SimpleITK as sitk

    img = sitk.ReadImage(str(arr_path))
    sitk.WriteImage(img * 2.0, str(arr_path))
    r4 = run_cohort(toy_features, cases, file_columns=FILES, kwargs={"scale": 2.0, "marker_dir": markers},
                    key_params={"scale": 2.0}, versions={"numpy": "0.0-other"}, **base)
    assert (r4.n_computed, r4.n_cached) == (1, 4)
    got = r4.features.set_index("case_id").loc["p03", "mean"]
    assert got == pytest.approx(2 * r3.features.set_index("case_id").loc["p03", "mean"], rel=1e-6)


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{repo!r}, {here!r}]
    from fusion.cohort import check_manifest, run_cohort
    from fusion_cohort_cases import toy_features
    if __name__ == "__main__":
        cases = check_manifest({manifest!r}, required=("image", "mask"),
                               file_columns=("image", "mask"), missing_files="keep")
        run_cohort(toy_features, cases, file_columns=("image", "mask"), jobs=1, cache_dir={cache!r}, progress=False,
                   kwargs={{"marker_dir": {markers!r}, "sleep": 0.4}}, key_params={{"toy": 1}})
    """
)


def test_a_killed_run_resumes_without_recomputing_finished_cases(cohort, tmp_path):
    cache = tmp_path / "cache"
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT.format(repo=str(REPO), here=str(HERE),
                                          manifest=str(cohort["manifest"]), cache=str(cache),
                                          markers=str(cohort["markers"])))
    proc = subprocess.Popen([sys.executable, str(script)], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if cache.is_dir() and len(ResultCache(cache)) >= 2:
                break
            if proc.poll() is not None:
                pytest.fail(f"the run ended before it could be killed: {proc.communicate()}")
            time.sleep(0.05)
        else:
            pytest.fail("no case finished within 120 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its worker: like a kill -9 / node loss
        proc.wait()
    done_before = {json.loads(p.read_text())["case_id"] for p in cache.glob("??/*.json")}
    assert 2 <= len(done_before) < len(GOOD)
    # a kill during a write may leave a temporary file, never a partial entry
    for entry in cache.glob("??/*.json"):
        assert json.loads(entry.read_text())["key"] == entry.stem

    res = run_cohort(toy_features, _cases(cohort), file_columns=FILES, jobs=2, cache_dir=cache, progress=False,
                     kwargs={"marker_dir": str(cohort["markers"]), "sleep": 0.0},
                     key_params={"toy": 1})  # the sleep is no parameter of the result
    assert res.features["case_id"].tolist() == GOOD
    assert res.n_cached == len(done_before)
    assert res.n_computed == len(GOOD) - len(done_before)
    n = calls(cohort["markers"])
    for cid in done_before:
        assert n[cid] == 1, f"{cid} was finished before the kill but computed again"
    pd.testing.assert_frame_equal(res.features, _reference(_cases(cohort)),
                                  check_exact=False, rtol=1e-12)


def test_a_case_that_kills_its_worker_is_isolated(cohort, tmp_path):
    cases = _cases(cohort)
    res = run_cohort(toy_features, cases, file_columns=FILES, jobs=2, cache_dir=tmp_path / "cache", progress=False,
                     kwargs={"marker_dir": str(cohort["markers"]), "exit_on": "p03"})
    assert res.features["case_id"].tolist() == ["p01", "p02", "p04", "p05"]
    fails = res.failures.set_index("case_id")
    assert fails.loc["p03", "stage"] == "worker"
    assert fails.loc["p03", "error_type"] == "WorkerDied"
    assert "exit code 3" in fails.loc["p03", "message"]
    assert set(fails.index) == {"p03", "bad_missing", "bad_geometry", "bad_empty"}


def test_dask_scheduler_path_gives_the_same_table(cohort, tmp_path):
    distributed = pytest.importorskip("distributed")
    cases = _cases(cohort)
    local = run_cohort(toy_features, cases, file_columns=FILES, jobs=1, cache_dir=None, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        res = run_cohort(toy_features, cases, file_columns=FILES, scheduler=cluster.scheduler_address,
                         cache_dir=tmp_path / "cache", progress=False,
                         kwargs={"marker_dir": str(cohort["markers"])})
        again = run_cohort(toy_features, cases, file_columns=FILES, scheduler=cluster.scheduler_address,
                           cache_dir=tmp_path / "cache", progress=False,
                           kwargs={"marker_dir": str(cohort["markers"])})
    pd.testing.assert_frame_equal(res.features, local.features)
    pd.testing.assert_frame_equal(res.failures, local.failures)
    assert (res.n_computed, again.n_computed, again.n_cached) == (5, 0, 5)


def test_bad_function_results_and_arguments_are_reported(tmp_path):
    cases = pd.DataFrame({"case_id": ["a", "b"], "value": [1, 2]})
    res = run_cohort(str, cases, file_columns=(), progress=False)  # str(case_id, value=..) fails
    assert res.n_failed == 2 and set(res.failures["stage"]) == {"compute"}
    assert set(res.failures["error_type"]) == {"TypeError"}
    named = run_cohort(str, cases, file_columns=(), progress=False,
                       stages={KeyError: "lookup", TypeError: "call"})
    assert set(named.failures["stage"]) == {"call"}
    res = run_cohort(os.path.basename, cases[["case_id"]], file_columns=(), progress=False)
    assert set(res.failures["stage"]) == {"result"}
    assert "returned str; expected a dict" in res.failures["message"][0]
    with pytest.raises(ValueError, match="'jobs' parameter of run_cohort must be an integer >= 1"):
        run_cohort(toy_features, cases, file_columns=(), jobs=0)
    with pytest.raises(ValueError, match="repeated: \\['a'\\]"):
        run_cohort(toy_features, pd.DataFrame({"case_id": ["a", "a"]}), file_columns=())
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'file_columns'"):
        run_cohort(toy_features, cases)  # no imaging default
    with pytest.raises(TypeError, match="'file_columns' parameter of run_cohort must be a sequence"):
        run_cohort(toy_features, cases, file_columns="image")


def test_workers_use_one_thread_each_so_workers_scale():
    from fusion_cohort_cases import thread_settings

    cases = pd.DataFrame({"case_id": ["a", "b", "c"]})
    # imaging's worker initialiser (what `nomofuse radiomics --jobs 2` passes) limits ITK too
    two = run_cohort(thread_settings, cases, file_columns=(), jobs=2, progress=False,
                     worker_init="imaging.radiomics:limit_itk_threads")
    assert (two.features[["omp", "openblas", "blas_threads", "itk_threads"]] == 1).all().all()
    one = run_cohort(thread_settings, cases, file_columns=(), jobs=1, progress=False)
    assert (one.features[["omp", "openblas", "blas_threads"]] == 1).all().all()
    # without the hook ITK keeps its default (all cores): the runner knows nothing of ITK
    import SimpleITK as sitk

    assert (one.features["itk_threads"] == sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()).all()


def test_progress_falls_back_to_a_stderr_counter_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails as if not installed
    cases = pd.DataFrame({"case_id": ["a", "b", "c"]})
    res = run_cohort(os.path.basename, cases, file_columns=(), progress=True, desc="toy")
    assert res.n_failed == 3
    assert "toy: 3/3 (3 failed)" in capsys.readouterr().err


def test_worker_initialiser_failure_fails_the_cases_at_stage_setup():
    cases = pd.DataFrame({"case_id": ["a", "b"]})
    res = run_cohort("fusion_cohort_cases:thread_settings", cases, file_columns=(), jobs=2,
                     progress=False, worker_init="fusion_cohort_cases:broken_init")
    assert res.n_succeeded == 0 and set(res.failures["stage"]) == {"setup"}
    msg = res.failures["message"][0]
    assert "'fusion_cohort_cases:broken_init' failed" in msg and "no GPU on this node" in msg


def test_functions_by_reference_and_the_stage_protocol():
    from fusion.cohort import function_identity
    from fusion.cohort.worker import stage_of
    from imaging.exceptions import (DicomTagError, EmptyRegionError, GeometryMismatchError,
                                    ImageReadError, ImagingError)

    # a reference and the callable are the same function for the cache
    assert function_identity("fusion_cohort_cases:toy_features") == function_identity(toy_features)
    with pytest.raises(ValueError, match="must read 'module:name' when given as text"):
        run_cohort("toy_features", pd.DataFrame({"case_id": ["a"]}), file_columns=(), jobs=1,
                   progress=False)
    # imaging's exceptions name their stage; the runner reads it, whatever the default
    expected = {ImageReadError: "read", DicomTagError: "read", GeometryMismatchError: "geometry",
                EmptyRegionError: "region", ImagingError: "extract"}
    for cls, stage in expected.items():
        assert stage_of(cls("x"), "compute") == stage
    assert stage_of(FileNotFoundError("x"), "compute") == "read"
    assert stage_of(RuntimeError("x"), "compute", [(RuntimeError, "encode")]) == "encode"
    assert stage_of(RuntimeError("x"), "compute") == "compute"


def test_an_unreachable_scheduler_is_one_clear_error(tmp_path, capsys):
    import socket

    import dask

    pytest.importorskip("distributed")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cases = pd.DataFrame({"case_id": ["a"]})
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(ConnectionError, match=f"cannot reach the Dask scheduler at "
                                                  f"'tcp://127.0.0.1:{port}'"):
            run_cohort(os.path.basename, cases, file_columns=(), progress=False,
                       scheduler=f"tcp://127.0.0.1:{port}")
