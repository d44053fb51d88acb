"""Every ``nomofuse`` failure is one line with the fix and a documented exit status.

No Python traceback reaches the user unless ``--debug``; a closed pipe
(``nomofuse ... | head``) ends the command quietly; the exit statuses are
listed by ``nomofuse --help``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fusion.cli import main
from fusion.commands.exit_status import EXIT_CODES
from fusion_cohort_cases import exploding_setup_command, summary_command, write_case

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests" / "fusion"),
                                                    os.environ.get("PYTHONPATH", "")])}
SMALL_PARAMS = "imageType:\n  Original: {}\nfeatureClass:\n  firstorder: [Mean]\nsetting:\n  binWidth: 25\n"


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_help_documents_every_exit_status_and_debug(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "exit status:" in text and "--debug" in text
    for code, meaning in EXIT_CODES.items():
        assert f"{code:>3}  {meaning.split(' (')[0]}" in text, code
    with pytest.raises(SystemExit):
        main(["radiomics", "--help"])
    sub = capsys.readouterr().out
    assert "--debug" in sub and " 75  another run is writing the same output" in sub


def test_a_command_line_that_cannot_be_parsed_exits_64_not_2(capsys):
    for argv in (["bogus"], ["radiomics", "--manifest", "m.csv"],
                 ["radiomics", "--manifest", "m.csv", "--out", "f.csv", "--jobs", "many"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 64, argv  # 2 means "some cases failed"
        err = capsys.readouterr().err
        assert err.startswith("usage: nomofuse") and "Traceback" not in err


def test_unreadable_manifests_are_one_line_with_the_file_and_the_fix(tmp_path, capsys):
    bad = {
        "missing.csv": (None, "does not exist"),
        "folder.csv": ("dir", "is a folder"),
        "binary.csv": (b"\x89PNG\r\n\x1a\n\xff\xfe\x00", "is not UTF-8 text"),
        "empty.csv": (b"", "is empty"),
        "quotes.csv": (b'case_id,image,mask\n"a,b\n', "cannot be read as CSV"),
    }
    for name, (content, message) in bad.items():
        path = tmp_path / name
        if content == "dir":
            path.mkdir()
        elif content is not None:
            path.write_bytes(content)
        rc = main(["radiomics", "--manifest", str(path), "--out", str(tmp_path / "f.parquet")])
        line = _one_line(capsys.readouterr().err)
        assert rc == 1 and line.startswith("nomofuse radiomics: error: ") and message in line, line
        assert name in line
    # a BOM (Excel's "CSV UTF-8") is not part of the first column's name
    img, msk = write_case(tmp_path, "a", size=(12, 12, 6))
    (tmp_path / "bom.csv").write_bytes(f"\ufeffcase_id,image,mask\na,{img},{msk}\n".encode())
    (tmp_path / "p.yaml").write_text(SMALL_PARAMS)
    assert main(["radiomics", "--manifest", str(tmp_path / "bom.csv"), "--out",
                 str(tmp_path / "f.parquet"), "--params", str(tmp_path / "p.yaml"), "--quiet"]) == 0


def test_a_bug_is_one_line_exit_70_and_debug_shows_the_traceback(tmp_path, capsys):
    data = tmp_path / "s.svs"
    data.write_bytes(b"x")
    manifest = tmp_path / "m.csv"
    pd.DataFrame({"slide_id": ["s"], "path": [str(data)]}).to_csv(manifest, index=False)
    argv = ["--manifest", str(manifest), "--out", str(tmp_path / "o.parquet"), "--quiet"]
    assert exploding_setup_command().main(argv) == 70
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("nomofuse summaries: internal error: KeyError: 'no such key'; this is "
                           "a bug in nomofuse: rerun with --debug")
    assert exploding_setup_command().main([*argv, "--debug"]) == 70
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "in setup" in err
    assert err.rstrip().splitlines()[-1].startswith("nomofuse summaries: internal error: KeyError")
    # a user error under --debug: the traceback, then the same one line
    assert summary_command().main([*argv, "--debug", "--jobs", "0"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().splitlines()[-1] == (
        "nomofuse summaries: error: The '--jobs' option must be >= 1. Got 0 instead.")
    assert not (tmp_path / "o.parquet").exists()


def _closed_pipe_run(argv, *, close_stderr=False, cwd=None):
    """Run ``nomofuse argv`` with stdout (and stderr) a pipe whose reader is already gone."""
    r, w = os.pipe()
    os.close(r)
    err_r, err_w = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "fusion.cli", *argv], stdout=w,
                                stderr=w if close_stderr else err_w, env=ENV, cwd=cwd or REPO)
    finally:
        os.close(w)
        os.close(err_w)
    with os.fdopen(err_r, "rb") as fh:
        err = fh.read().decode()
    return proc.wait(timeout=300), err


def test_a_closed_output_pipe_ends_quietly(tmp_path):
    rc, err = _closed_pipe_run(["--help"])  # argparse itself ignores a failed write
    assert rc in (0, 141) and err == "", err  # no "BrokenPipeError", no "Exception ignored"
    rows = [(c, *write_case(tmp_path, c, seed=i, size=(12, 12, 6))) for i, c in enumerate("ab")]
    pd.DataFrame(rows, columns=["case_id", "image", "mask"]).to_csv(tmp_path / "m.csv", index=False)
    (tmp_path / "p.yaml").write_text(SMALL_PARAMS)
    argv = ["radiomics", "--manifest", str(tmp_path / "m.csv"), "--out", str(tmp_path / "f.csv"),
            "--params", str(tmp_path / "p.yaml"), "--jobs", "2"]
    # `nomofuse radiomics ... 2>&1 | head` with head gone: the progress bar and the summary
    # cannot be shown, but the run finishes and writes its outputs
    rc, err = _closed_pipe_run(argv, close_stderr=True)
    assert rc == 141, err
    assert pd.read_csv(tmp_path / "f.csv")["case_id"].tolist() == ["a", "b"]


def test_per_case_mask_and_label_errors_name_the_file_and_the_others_finish(tmp_path, capsys):
    rows = [("good", *write_case(tmp_path, "good", size=(12, 12, 6)), "1")]
    img, msk = write_case(tmp_path, "swap", seed=1, size=(12, 12, 6))
    rows.append(("swap", msk, img, "1"))                  # image and mask columns swapped
    rows.append(("zero", *write_case(tmp_path, "zero", seed=2, size=(12, 12, 6)), "0"))
    manifest = tmp_path / "m.csv"
    pd.DataFrame(rows, columns=["case_id", "image", "mask", "label"]).to_csv(manifest, index=False)
    (tmp_path / "p.yaml").write_text(SMALL_PARAMS)
    argv = ["radiomics", "--manifest", str(manifest), "--out", str(tmp_path / "f.parquet"),
            "--params", str(tmp_path / "p.yaml"), "--quiet"]
    assert main(argv) == 2
    capsys.readouterr()
    assert pd.read_parquet(tmp_path / "f.parquet")["case_id"].tolist() == ["good"]
    err = pd.read_csv(tmp_path / "f.parquet.errors.csv").set_index("case_id")
    assert err.loc["swap", "stage"] == "read" and "swap_image.nrrd" in err.loc["swap", "message"]
    assert "non-integer values" in err.loc["swap", "message"]
    assert "image and the mask are not swapped" in err.loc["swap", "message"]
    assert err.loc["zero", "stage"] == "region" and err.loc["zero", "error_type"] == "LabelError"
    assert "zero_mask.nrrd" in err.loc["zero", "message"] and "Got 0 instead" in err.loc["zero", "message"]
    # a non-integer label in the manifest is never truncated to 1: refused before any case
    pd.DataFrame([rows[0][:3] + ("1.5",)], columns=["case_id", "image", "mask", "label"]).to_csv(
        manifest, index=False)
    assert main([*argv, "--no-cache"]) == 1
    line = _one_line(capsys.readouterr().err.split("\n", 1)[1])  # the problem's own line
    assert "row 2 (case 'good'): column 'label' must be an integer; got '1.5'" in line
    for bad in ("nan", "inf"):
        pd.DataFrame([rows[0][:3] + ("1", bad)], columns=["case_id", "image", "mask", "label",
                                                         "suv_factor"]).to_csv(manifest, index=False)
        assert main([*argv, "--no-cache"]) == 1
        assert f"column 'suv_factor' must be a number; got '{bad}'" in capsys.readouterr().err
