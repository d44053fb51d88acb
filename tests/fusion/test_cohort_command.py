"""The cohort-command skeleton, through a slides-like command built on it (``fusion_cohort_cases``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from fusion.cohort import ResultCache
from fusion_cohort_cases import summary_command

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@pytest.fixture
def study(tmp_path):
    data = tmp_path / "slides"
    data.mkdir()
    rows = []
    for i, sid in enumerate(["s1", "s2", "s3", "s4"]):
        (data / f"{sid}.svs").write_bytes(os.urandom(50 + i))
        rows.append((sid, f"slides/{sid}.svs", f"P{i // 2}", "2" if sid == "s3" else ""))
    rows.append(("s5", "slides/gone.svs", "P2", ""))
    manifest = tmp_path / "slides.csv"
    pd.DataFrame(rows, columns=["slide_id", "path", "patient_id", "scale"]).to_csv(manifest, index=False)
    return {"dir": tmp_path, "manifest": manifest, "out": tmp_path / "out" / "slides.parquet"}


def _argv(study, *extra, out=None):
    return ["--manifest", str(study["manifest"]), "--out", str(out or study["out"]), "--quiet", *extra]


def test_a_command_on_the_skeleton_checks_runs_writes_and_reports(study, capsys):
    cmd = summary_command()
    rc = cmd.main(_argv(study, "--fail-on", "s2", "--jobs", "2"))
    out = capsys.readouterr().out
    assert rc == 2  # some cases failed, the table of the others is written
    assert "nomofuse summaries: 3 of 5 cases succeeded (3 computed, 0 from cache), 2 failed" in out
    assert "failed cases (slide_id, stage, error):" in out
    feats = pd.read_parquet(study["out"])
    assert feats.columns[:2].tolist() == ["slide_id", "patient_id"]  # carried after the id
    assert feats["slide_id"].tolist() == ["s1", "s3", "s4"]
    assert feats["patient_id"].tolist() == ["P0", "P1", "P1"]
    n_bytes = feats.set_index("slide_id")["n_bytes"]
    assert (n_bytes["s1"], n_bytes["s3"], n_bytes["s4"]) == (50, 2 * 52, 53)  # typed option
    assert all(Path(p).is_file() for p in feats["summary_path"])
    err = pd.read_csv(study["out"].parent / "slides.parquet.errors.csv").set_index("slide_id")
    assert sorted(err.index) == ["s2", "s5"]
    assert err.loc["s2", "stage"] == "tissue" and "no tissue found" in err.loc["s2", "message"]
    assert err.loc["s5", "stage"] == "read" and "gone.svs" in err.loc["s5", "message"]
    assert err.loc["s5", "row"] == 6

    # the same command again: everything that succeeded comes from the cache
    assert cmd.main(_argv(study, "--fail-on", "s2")) == 2
    assert "(0 computed, 3 from cache)" in capsys.readouterr().out
    # fixed input: exit 0, CSV output by suffix
    (study["dir"] / "slides" / "gone.svs").write_bytes(b"back")
    csv = study["dir"] / "out" / "slides.csv"
    assert cmd.main(_argv(study, out=csv)) == 0
    assert "5 of 5 cases succeeded (2 computed, 3 from cache), 0 failed" in capsys.readouterr().out
    assert pd.read_csv(csv)["slide_id"].tolist() == ["s1", "s2", "s3", "s4", "s5"]


def test_a_run_where_nothing_succeeds_leaves_the_earlier_table(study, capsys):
    cmd = summary_command()
    assert cmd.main(_argv(study, "--no-cache")) == 2
    before = study["out"].read_bytes()
    for p in (study["dir"] / "slides").iterdir():
        p.unlink()
    (study["dir"] / "slides" / "s1.svs").write_bytes(b"x")  # one file, so the manifest passes
    assert cmd.main(_argv(study, "--no-cache", "--fail-on", "s1")) == 1
    out = capsys.readouterr().out
    assert "0 of 5 cases succeeded" in out and "features: not written" in out
    assert study["out"].read_bytes() == before
    err = pd.read_csv(study["out"].parent / "slides.parquet.errors.csv")
    assert len(err) == 5  # the errors file is this run's


def test_unusable_input_is_refused_before_computing(study, capsys, tmp_path):
    cmd = summary_command()
    assert cmd.main(_argv(study, "--strict")) == 1
    err = capsys.readouterr().err
    assert err.startswith("nomofuse summaries: error: manifest")
    assert "row 6 (case 's5'): path file 'slides/gone.svs' does not exist" in err
    assert cmd.main(_argv(study, "--fail-on", "everything")) == 1
    assert "The '--fail-on' option cannot be 'everything'." in capsys.readouterr().err
    assert cmd.main(_argv(study, "--jobs", "0")) == 1
    assert "The '--jobs' option must be >= 1. Got 0 instead." in capsys.readouterr().err
    assert cmd.main(_argv(study, out=tmp_path / "o.xlsx")) == 1
    assert "must name a .parquet or .csv file" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"slide_id": ["s1"], "path": [str(study["dir"] / "slides" / "s1.svs")],
                  "scale": ["big"], "stain": ["HE"]}).to_csv(bad, index=False)
    assert cmd.main(["--manifest", str(bad), "--out", str(tmp_path / "o.parquet")]) == 1
    assert "row 2 (case 's1'): column 'scale' must be a number; got 'big'." in capsys.readouterr().err
    assert not (tmp_path / "o.parquet").exists()
    pd.DataFrame({"slide_id": ["s1"], "path": [str(study["dir"] / "slides" / "s1.svs")],
                  "stain": ["HE"]}).to_csv(bad, index=False)
    assert cmd.main(["--manifest", str(bad), "--out", str(tmp_path / "o.parquet"), "--quiet"]) == 0
    assert "columns ['stain'] are not used by nomofuse summaries; ignored" in capsys.readouterr().err


def test_help_lists_the_common_options_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        summary_command().main(["--help"])
    text = capsys.readouterr().out
    for option in ("--manifest", "--out", "--jobs", "--scheduler", "--cache-dir", "--no-cache",
                   "--strict", "--quiet", "--summaries-dir"):
        assert option in text
    assert "exit status:" in text and "143  terminated (SIGTERM" in text


_TERM_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{repo!r}, {here!r}]
    from fusion_cohort_cases import summary_command
    sys.exit(summary_command().main({argv!r}))
    """
)


def test_sigterm_stops_cleanly_and_the_same_command_resumes(study, tmp_path, capsys):
    cache = tmp_path / "cache"
    (study["dir"] / "slides" / "gone.svs").write_bytes(b"back")
    argv = _argv(study, "--sleep", "0.5", "--cache-dir", str(cache))
    script = tmp_path / "run.py"
    script.write_text(_TERM_SCRIPT.format(repo=str(REPO), here=str(HERE), argv=argv))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (cache.is_dir() and len(ResultCache(cache)) >= 1):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no case finished before the run ended: {proc.communicate()}")
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)  # the command only, as a scheduler's time limit does
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 143, err.decode()
    assert "nomofuse summaries: terminated. Cases finished so far are in the cache" in err.decode()
    assert not study["out"].exists()
    done = len(ResultCache(cache))
    assert 1 <= done < 5
    assert summary_command().main(_argv(study, "--cache-dir", str(cache))) == 0
    assert f"({5 - done} computed, {done} from cache)" in capsys.readouterr().out
