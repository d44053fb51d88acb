"""Per-case functions that write files: the cache reuses a result only while its files are intact."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pytest

from fusion.cohort import ResultCache, output_record, run_cohort
from fusion_cohort_cases import calls, lying_function, summarise_file

IDS = ["s1", "s2", "s3", "s4"]


@pytest.fixture
def inputs(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i, sid in enumerate(IDS):
        (data / f"{sid}.bin").write_bytes(os.urandom(100 + 10 * i))
    cases = pd.DataFrame({"slide_id": IDS, "path": [str(data / f"{s}.bin") for s in IDS]})
    markers = tmp_path / "markers"
    markers.mkdir()
    return {"cases": cases, "out": tmp_path / "summaries", "markers": markers,
            "cache": tmp_path / "cache"}


def _run(inputs, jobs=1, **kw):
    return run_cohort("fusion_cohort_cases:summarise_file", inputs["cases"], id_column="slide_id",
                      file_columns=("path",), output_columns=("summary_path",),
                      kwargs={"out_dir": str(inputs["out"]), "marker_dir": str(inputs["markers"])},
                      key_params={"out_dir": str(inputs["out"])}, cache_dir=inputs["cache"],
                      jobs=jobs, progress=False, **kw)


def test_output_files_are_recorded_and_a_damaged_one_is_recomputed(inputs):
    first = _run(inputs, jobs=2)
    assert first.features.columns.tolist() == ["slide_id", "n_bytes", "summary_path"]
    assert first.features["slide_id"].tolist() == IDS and first.n_computed == 4
    # the cache entry holds each output's size and SHA-256, taken when the case finished
    entries = [json.loads(p.read_text()) for p in inputs["cache"].glob("??/*.json")]
    assert len(entries) == 4
    for entry in entries:
        rec = entry["outputs"]["summary_path"]
        data = Path(rec["path"]).read_bytes()
        assert rec["size"] == len(data) and rec["sha256"] == hashlib.sha256(data).hexdigest()
        assert rec["path"] == entry["result"]["summary_path"]

    again = _run(inputs)
    assert (again.n_computed, again.n_cached, again.n_stale) == (0, 4, 0)

    paths = first.features.set_index("slide_id")["summary_path"]
    os.remove(paths["s1"])                                   # deleted
    with open(paths["s2"], "r+b") as fh:                     # truncated
        fh.truncate(10)
    text = Path(paths["s3"]).read_text()                     # same size, other content
    Path(paths["s3"]).write_text(text[::-1])
    st = os.stat(paths["s3"])
    os.utime(paths["s3"], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    third = _run(inputs)
    assert (third.n_computed, third.n_cached, third.n_stale) == (3, 1, 3)
    assert "3 cached results recomputed because an output file" in third.report()
    n = calls(inputs["markers"])
    assert n == {"s1": 2, "s2": 2, "s3": 2, "s4": 1}
    for sid in IDS:  # every output is intact again and matches its input
        want = hashlib.sha256(Path(inputs["cases"].set_index("slide_id").loc[sid, "path"])
                              .read_bytes()).hexdigest()
        assert Path(paths[sid]).read_text().strip() == want
    pd.testing.assert_frame_equal(third.features, first.features)


def test_a_reported_output_that_does_not_exist_fails_the_case(inputs):
    res = run_cohort(lying_function, inputs["cases"], id_column="slide_id", file_columns=("path",),
                     output_columns=("summary_path",), cache_dir=inputs["cache"], progress=False)
    assert res.n_succeeded == 0 and res.failures.columns[0] == "slide_id"
    assert set(res.failures["stage"]) == {"output"}
    msg = res.failures.set_index("slide_id").loc["s2", "message"]
    assert "'/nonexistent/s2.txt'" in msg and "shared" in msg
    assert len(ResultCache(inputs["cache"])) == 0  # nothing cached


def test_cases_with_identical_inputs_keep_their_own_output_files(inputs):
    cases = inputs["cases"].copy()
    cases.loc[1, "path"] = cases.loc[0, "path"]  # s2 is a copy of s1's input
    inputs["cases"] = cases
    res = _run(inputs)
    assert res.n_computed == 4
    paths = res.features.set_index("slide_id")["summary_path"]
    assert paths["s1"].endswith("s1.txt") and paths["s2"].endswith("s2.txt")


def test_output_record_and_cache_verification_directly(tmp_path):
    f = tmp_path / "o.h5"
    f.write_bytes(b"abc")
    rec = output_record(f)
    assert rec == {"path": str(f), "size": 3, "sha256": hashlib.sha256(b"abc").hexdigest()}
    cache = ResultCache(tmp_path / "c")
    cache.put("ab" + "1" * 62, {"x": 1.0, "out": str(f)}, outputs={"out": rec})
    assert cache.get("ab" + "1" * 62) == {"x": 1.0, "out": str(f)}
    f.write_bytes(b"abcd")
    assert cache.get("ab" + "1" * 62) is None and cache.n_stale == 1
    with pytest.raises(FileNotFoundError):
        output_record(tmp_path / "missing.h5")
    assert summarise_file  # imported for the worker processes' sake
