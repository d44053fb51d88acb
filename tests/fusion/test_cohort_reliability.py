"""Cohort runs never lose or overwrite finished output, and fail early with one clear line.

One test per class of fault (issue 12): a run that cannot work fails before any
case and keeps the earlier output; two runs on one ``--out``; a parent killed
with SIGKILL leaves no worker behind; ``--jobs`` is clamped; inputs edited in
place (same size and time) and damaged cache entries are never trusted; an
input that changes during its case fails the case.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from fusion.cli import main
from fusion.cohort import OutputLock, ResultCache, available_cores, lock_path, run_cohort
from fusion.cohort import cache as cache_mod
from fusion_cohort_cases import calls, summary_command, toy_features, write_case

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SMALL_PARAMS = "imageType:\n  Original: {}\nfeatureClass:\n  firstorder: [Mean]\nsetting:\n  binWidth: 25\n"


@pytest.fixture
def slides(tmp_path):
    """Four small files, a slides-like manifest, an earlier output to protect."""
    data = tmp_path / "slides"
    data.mkdir()
    for i, sid in enumerate(["s1", "s2", "s3", "s4"]):
        (data / f"{sid}.svs").write_bytes(os.urandom(40 + i))
    manifest = tmp_path / "slides.csv"
    pd.DataFrame({"slide_id": ["s1", "s2", "s3", "s4"],
                  "path": [f"slides/s{i}.svs" for i in range(1, 5)]}).to_csv(manifest, index=False)
    out = tmp_path / "out" / "slides.parquet"
    out.parent.mkdir()
    out.write_bytes(b"the table of an earlier run")
    return {"dir": tmp_path, "manifest": manifest, "out": out}


def _argv(s, *extra, out=None):
    return ["--manifest", str(s["manifest"]), "--out", str(out or s["out"]), "--quiet", *extra]


def _one_error_line(err: str, prog: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: ") and "Traceback" not in err, err
    return lines[0]


# ------------------------------------------------------------------ fail before any case
def test_a_run_that_cannot_work_fails_before_any_case_and_keeps_the_output(slides, capsys):
    cmd = summary_command()
    before = slides["out"].read_bytes()
    blocker = slides["dir"] / "a_file"
    blocker.write_text("x")
    (slides["dir"] / "out" / "folder.parquet").mkdir()
    bad = {
        "cache folder is a file": (["--cache-dir", str(blocker)], "is a file, not a folder"),
        "cache folder cannot be made": (["--cache-dir", str(blocker / "c")],
                                        "cannot write in the result cache folder"),
        "scheduler address": (["--scheduler", "tcp//head:8786"], "must read 'tcp://HOST:PORT'"),
        "scheduler port": (["--scheduler", "tcp://head:99999"], "must read 'tcp://HOST:PORT'"),
        "negative lock wait": (["--lock-wait", "-1"], "'--lock-wait' option must be >= 0"),
    }
    for name, (extra, message) in bad.items():
        assert cmd.main(_argv(slides, *extra)) == 1, name
        line = _one_error_line(capsys.readouterr().err, "nomofuse summaries")
        assert message in line, (name, line)
    outs = {
        "out is a folder": (slides["dir"] / "out" / "folder.parquet", "is a folder"),
        "out folder under a file": (blocker / "x.parquet", "cannot create the output folder"),
        "out is the manifest": (slides["manifest"], "is also an input of the run"),
        "out is an input": (slides["dir"] / "slides" / "s1.svs", "must name a .parquet or .csv"),
        "compressed csv": (slides["dir"] / "f.csv.gz", "must name a .parquet or .csv file"),
    }
    for name, (out, message) in outs.items():
        assert cmd.main(_argv(slides, out=out)) == 1, name
        line = _one_error_line(capsys.readouterr().err, "nomofuse summaries")
        assert message in line, (name, line)
    assert slides["out"].read_bytes() == before
    assert not (slides["dir"] / "out" / "summaries").exists()  # no case ran
    assert slides["manifest"].read_text().startswith("slide_id,path")
    assert not list(slides["dir"].rglob("*.lock"))  # no lock left behind


def test_bad_radiomics_params_fail_before_the_first_case(tmp_path, capsys):
    rows = [(c, *write_case(tmp_path, c, seed=i, size=(12, 12, 6))) for i, c in enumerate("ab")]
    manifest = tmp_path / "cases.csv"
    pd.DataFrame(rows, columns=["case_id", "image", "mask"]).to_csv(manifest, index=False)
    out = tmp_path / "features.csv"
    out.write_text("case_id,x\nold,1\n")
    for n, (text, message) in enumerate({
            "setting:\n  binWidht: 25\n": "not valid for pyradiomics: Key 'binWidht' was not defined",
            "imageType: [\n": "is not valid YAML at line 2",
            "binWidth: 5\n": "unknown section(s) ['binWidth']"}.items()):
        params = tmp_path / f"p{n}.yaml"
        params.write_text(text)
        rc = main(["radiomics", "--manifest", str(manifest), "--out", str(out), "--params",
                   str(params), "--quiet", "--jobs", "2"])
        captured = capsys.readouterr()
        assert rc == 1 and captured.out == ""
        assert message in _one_error_line(captured.err, "nomofuse radiomics")
        assert out.read_text() == "case_id,x\nold,1\n"
        assert not (tmp_path / "features.csv.errors.csv").exists()  # no case ran, nothing failed
        assert len(ResultCache(tmp_path / ".nomofuse_cache")) == 0
    # the suffix decides the format: .csv is CSV text, .parquet is Parquet
    params = tmp_path / "good.yaml"
    params.write_text(SMALL_PARAMS)
    for name in ("features.csv", "features.CSV", "features.parquet"):
        assert main(["radiomics", "--manifest", str(manifest), "--out", str(tmp_path / name),
                     "--params", str(params), "--quiet"]) == 0
    assert (tmp_path / "features.csv").read_text().startswith("case_id,lesion_original_firstorder_Mean")
    assert (tmp_path / "features.CSV").read_bytes()[:4] != b"PAR1"
    assert (tmp_path / "features.parquet").read_bytes()[:4] == b"PAR1"


# ------------------------------------------------------------------ two runs, one output
_HOLDER = textwrap.dedent(
    """
    import sys, time, pathlib
    sys.path[:0] = [{repo!r}]
    from fusion.cohort import OutputLock
    lock = OutputLock({out!r}, command="nomofuse summaries (the first run)").acquire()
    pathlib.Path({ready!r}).touch()
    while not pathlib.Path({release!r}).exists():
        time.sleep(0.05)
    lock.release()
    """
)


def _holder(tmp_path, out):
    ready, release = tmp_path / "ready", tmp_path / "release"
    for f in (ready, release):
        f.unlink(missing_ok=True)
    script = tmp_path / "holder.py"
    script.write_text(_HOLDER.format(repo=str(REPO), out=str(out), ready=str(ready),
                                     release=str(release)))
    proc = subprocess.Popen([sys.executable, str(script)])
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline, "the holder did not start"
        time.sleep(0.02)
    return proc, release


def test_a_second_run_on_the_same_output_refuses_or_waits_and_a_dead_holder_is_taken_over(
        slides, tmp_path, capsys):
    cmd = summary_command()
    before = slides["out"].read_bytes()
    proc, release = _holder(tmp_path, slides["out"])
    try:
        t0 = time.monotonic()
        assert cmd.main(_argv(slides)) == 75
        line = _one_error_line(capsys.readouterr().err, "nomofuse summaries")
        assert f"another run is writing '{slides['out']}'" in line
        assert f"pid {proc.pid} on host " in line and "the first run" in line and "started 20" in line
        assert "--lock-wait SECONDS" in line and str(lock_path(slides["out"])) in line
        assert time.monotonic() - t0 < 10 and slides["out"].read_bytes() == before
        # waiting: the first run ends after a second, the second one then runs
        threading.Timer(1.0, release.touch).start()
        assert cmd.main(_argv(slides, "--lock-wait", "60")) == 0
        assert pd.read_parquet(slides["out"])["slide_id"].tolist() == ["s1", "s2", "s3", "s4"]
        proc.wait(timeout=30)
    finally:
        release.touch()
        proc.wait(timeout=30)
    assert not lock_path(slides["out"]).exists()
    capsys.readouterr()

    # the holder is killed with SIGKILL: the lock is taken over, with a note
    proc, release = _holder(tmp_path, slides["out"])
    proc.kill()
    proc.wait()
    assert lock_path(slides["out"]).exists()
    assert cmd.main(_argv(slides)) == 0
    err = capsys.readouterr().err
    assert f"note: took over the lock file '{lock_path(slides['out'])}' of a run that ended " \
           f"without removing it (pid {proc.pid} on host" in err
    assert not lock_path(slides["out"]).exists()


def test_without_flock_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path, monkeypatch):
    import errno
    import fcntl
    import socket

    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_flock)
    out = tmp_path / "f.parquet"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_path(out).write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid}))
    with OutputLock(out) as lock:
        assert f"pid {dead.pid}" in lock.note and lock.held
        with pytest.raises(Exception, match=f"pid {os.getpid()}") as info:
            OutputLock(out).acquire()  # alive (this process): refused
        assert info.value.exit_code == 75
    assert not lock_path(out).exists()
    lock_path(out).write_text(json.dumps({"host": "another-node", "pid": 1}))
    with pytest.raises(Exception, match="on host another-node.*if that run is gone, delete"):
        OutputLock(out).acquire()  # another host: cannot be checked, never taken silently


# ------------------------------------------------------------------ workers die with the run
_KILLED_PARENT = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{repo!r}, {here!r}]
    import pandas as pd
    from fusion.cohort import run_cohort
    if __name__ == "__main__":
        cases = pd.DataFrame({{"slide_id": ["a", "b", "c", "d"], "path": {paths!r}}})
        run_cohort("fusion_cohort_cases:summarise_file", cases, id_column="slide_id",
                   file_columns=("path",), kwargs={{"out_dir": {out!r}, "gate_dir": {gate!r}}},
                   jobs=2, progress=False, start_method={method!r})
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")  # a zombie has ended; only its parent's reaping is missing


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_workers_end_when_the_run_is_killed_with_sigkill(tmp_path, method):
    if method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"no {method} start method here")
    gate = tmp_path / "gate"
    gate.mkdir()
    paths = []
    for c in "abcd":
        (tmp_path / f"{c}.bin").write_bytes(b"x")
        paths.append(str(tmp_path / f"{c}.bin"))
    script = tmp_path / "run.py"
    script.write_text(_KILLED_PARENT.format(repo=str(REPO), here=str(HERE), paths=paths,
                                            out=str(tmp_path / "o"), gate=str(gate), method=method))
    proc = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 120
        while len(list(gate.glob("started.*"))) < 2:  # both workers are inside a case
            assert proc.poll() is None, "the run ended early"
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.05)
        workers = {int(p.name.rsplit(".", 1)[1]) for p in gate.glob("started.*")}
        assert len(workers) == 2 and all(_alive(w) for w in workers)
        proc.kill()  # SIGKILL of the run only, not of its process group
        proc.wait()
        deadline = time.monotonic() + 5
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [w for w in workers if _alive(w)], "workers outlived their run"
    finally:
        (gate / "open").touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not list(gate.glob("done.*"))  # no worker finished its case after the run died


# ------------------------------------------------------------------ --jobs clamped
def test_jobs_above_the_cores_or_the_cases_are_clamped_with_a_note():
    cases = pd.DataFrame({"case_id": ["a", "b", "c"]})
    res = run_cohort("fusion_cohort_cases:worker_pid", cases, file_columns=(), jobs=64,
                     progress=False)
    cores = available_cores()
    assert res.n_succeeded == 3
    assert len(set(res.features["pid"])) <= min(cores, 3)
    if cores < 64:
        assert f"jobs=64 is more than the {cores} CPU core" in " ".join(res.notes)
    if min(cores, 64) > 3:
        assert "only 3 cases to compute; started 3 worker processes" in " ".join(res.notes)
    assert all(f"note: {n}" in res.report() for n in res.notes) and res.notes
    with pytest.raises(ValueError, match="'jobs' parameter of run_cohort must be an integer"):
        run_cohort(toy_features, cases, file_columns=(), jobs=2.5)


# ------------------------------------------------------------------ inputs and cache entries
def _toy_cohort(tmp_path):
    rows = [(c, *write_case(tmp_path, c, seed=i)) for i, c in enumerate(["p1", "p2"])]
    cases = pd.DataFrame(rows, columns=["case_id", "image", "mask"])
    for col in ("image", "mask"):
        cases[col] = [str(tmp_path / p) for p in cases[col]]
    return cases


def _run_toy(cases, tmp_path, **kw):
    return run_cohort(toy_features, cases, file_columns=("image", "mask"), progress=False,
                      cache_dir=tmp_path / "cache", kwargs={"marker_dir": str(tmp_path / "m")},
                      key_params={}, **kw)


def test_a_mask_edited_in_place_with_the_same_size_and_time_is_recomputed(tmp_path, monkeypatch):
    import numpy as np
    import SimpleITK as sitk

    monkeypatch.setattr(cache_mod.FileDigests, "SETTLE_SECONDS", 0.0)  # arm the fast path now
    (tmp_path / "m").mkdir()
    cases = _toy_cohort(tmp_path)
    first = _run_toy(cases, tmp_path)
    assert _run_toy(cases, tmp_path).n_cached == 2  # unchanged: from the cache
    memo = json.loads((tmp_path / "cache" / "file_digests.json").read_text())["files"]
    mask = cases.loc[0, "mask"]
    assert mask in memo  # the stat fast path was trusted for this file
    st = os.stat(mask)
    m = sitk.ReadImage(mask)
    arr = sitk.GetArrayFromImage(m)
    arr[2:6, 3:9, 3:5] = 0  # a smaller lesion, same file size (raw NRRD)
    edited = sitk.GetImageFromArray(arr)
    edited.CopyInformation(m)
    sitk.WriteImage(edited, mask)
    os.utime(mask, ns=(st.st_atime_ns, st.st_mtime_ns))  # modification time put back
    assert (os.stat(mask).st_size, os.stat(mask).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    again = _run_toy(cases, tmp_path)
    assert (again.n_computed, again.n_cached) == (1, 1)
    vol = again.features.set_index("case_id")["volume_mm3"]
    assert vol["p1"] < first.features.set_index("case_id")["volume_mm3"]["p1"]
    assert calls(tmp_path / "m") == {"p1": 2, "p2": 1}


def test_a_damaged_cache_entry_is_recomputed_with_a_note(tmp_path):
    (tmp_path / "m").mkdir()
    cases = _toy_cohort(tmp_path)
    first = _run_toy(cases, tmp_path)
    entries = sorted((tmp_path / "cache").glob("??/*.json"))
    text = entries[0].read_text()
    entry = json.loads(text)
    entry["result"]["mean"] = 0.0  # plausible, valid JSON, wrong
    entries[0].write_text(json.dumps(entry))
    entries[1].write_text(text[: len(text) // 3])  # truncated
    again = _run_toy(cases, tmp_path)
    assert (again.n_computed, again.n_cached) == (2, 0)
    pd.testing.assert_frame_equal(again.features, first.features)
    assert any("2 cache entries were damaged" in n for n in again.notes)
    assert "note: 2 cache entries were damaged" in again.report()
    assert _run_toy(cases, tmp_path).n_cached == 2  # rewritten whole


def test_an_input_that_changes_while_its_case_runs_fails_that_case(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    for c in ("a", "b"):
        (data / f"{c}.bin").write_bytes(b"0123456789")
    gate = tmp_path / "gate"
    gate.mkdir()
    cases = pd.DataFrame({"slide_id": ["a", "b"], "path": [str(data / "a.bin"), str(data / "b.bin")]})

    def edit_then_open():
        deadline = time.monotonic() + 60
        while not list(gate.glob("started.a.*")) and time.monotonic() < deadline:
            time.sleep(0.02)
        (data / "a.bin").write_bytes(b"9876543210")  # rewritten while case a runs
        (gate / "open").touch()

    threading.Thread(target=edit_then_open, daemon=True).start()
    res = run_cohort("fusion_cohort_cases:summarise_file", cases, id_column="slide_id",
                     file_columns=("path",), output_columns=("summary_path",),
                     kwargs={"out_dir": str(tmp_path / "o"), "gate_dir": str(gate)},
                     cache_dir=tmp_path / "cache", jobs=2, progress=False)
    assert res.features["slide_id"].tolist() == ["b"]
    fail = res.failures.set_index("slide_id").loc["a"]
    assert fail["stage"] == "read" and fail["error_type"] == "InputChanged"
    assert "changed while the case ran" in fail["message"] and "a.bin" in fail["message"]
    assert len(ResultCache(tmp_path / "cache")) == 1  # nothing kept for a


def test_a_forked_worker_that_outlives_a_killed_run_does_not_hold_its_lock(tmp_path):
    import signal
    import subprocess
    import sys

    from fusion.cohort.lock import OutputLock

    out = tmp_path / "features.parquet"
    code = ("import os, sys, time\nfrom fusion.cohort.lock import OutputLock\n"
            "lock = OutputLock(sys.argv[1], command='the killed run').acquire()\n"
            "child = os.fork()\n"
            "if child == 0:\n    os.write(1, b'worker running\\n')\n    time.sleep(60)\n    os._exit(0)\n"
            "os.write(1, f'{child}\\n'.encode())\ntime.sleep(60)\n")  # one write each: lines never interleave
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline().strip() for _ in range(2)]  # the worker has started (its fork is done)
    assert "worker running" in lines
    child = int(next(line for line in lines if line != "worker running"))
    try:
        proc.kill()  # kill -9 of the run only: its forked worker lives on
        proc.wait()
        with OutputLock(out, command="the next run") as lock:
            assert "the killed run" in lock.note  # taken over at once, with a note
    finally:
        os.kill(child, signal.SIGKILL)
