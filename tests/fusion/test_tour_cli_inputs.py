"""Issue #12, second tour: `nomofuse predict` / `slides` arguments that lost data or were taken silently."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from fusion.cli import main
from nomogram import LogisticNomogram


@pytest.fixture()
def files(tmp_path):
    r = np.random.default_rng(0)
    X = pd.DataFrame({"age": r.normal(60, 10, 80), "size": r.gamma(2, 2, 80)})
    y = (r.random(80) < 1 / (1 + np.exp(-0.3 * (X["size"] - 4)))).astype(int)
    model = tmp_path / "model.json"
    LogisticNomogram().fit(X, y).to_json(model)
    patients = tmp_path / "patients.csv"
    X.head(10).to_csv(patients, index=False)
    return model, patients


def _run(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    return code, lines, err


@pytest.mark.parametrize("extra, message", [
    (["--cutoff", "1.5"], "'cutoff' parameter of score_csv must be a probability in \\(0, 1\\)"),
    (["--range-margin", "nan"], "'range_margin' parameter of score_csv must be a finite number"),
])
def test_predict_refuses_options_that_would_be_taken_silently(files, tmp_path, capsys, extra, message):
    model, patients = files
    code, lines, err = _run(capsys, ["predict", str(model), str(patients), "--out", str(tmp_path / "s.csv"),
                                     "--quiet", *extra])
    assert code == 1 and len(lines) == 1 and "Traceback" not in err
    assert re.search(message, lines[0]), lines[0]
    assert not (tmp_path / "s.csv").exists()


def test_predict_never_overwrites_its_input_nor_writes_csv_under_another_suffix(files, tmp_path, capsys):
    model, patients = files
    before = patients.read_bytes()
    code, lines, _ = _run(capsys, ["predict", str(model), str(patients), "--out", str(patients)])
    assert code == 1 and len(lines) == 1 and "would replace the patients file" in lines[0]
    assert patients.read_bytes() == before
    code, lines, _ = _run(capsys, ["predict", str(model), str(patients), "--out", str(tmp_path / "s.parquet")])
    assert code == 1 and len(lines) == 1 and "must end in .csv" in lines[0]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, lines, _ = _run(capsys, ["predict", str(model), str(empty), "--out", str(tmp_path / "s.csv")])
    assert code == 1 and lines == [f"nomofuse predict: error: score_csv: the patients file '{empty}' is empty; it needs "
                                   "a header line and one row per patient."]


def test_slides_names_the_allowed_range_of_an_option(tmp_path, capsys):
    (tmp_path / "s1.svs").write_bytes(b"")
    manifest = tmp_path / "slides.csv"
    manifest.write_text("slide_id,path\ns1,s1.svs\n")
    for opt, value, allowed in (("--mpp", "0", "positive number of microns"), ("--tile", "3", "integer >= 8")):
        code, lines, err = _run(capsys, ["slides", "--manifest", str(manifest), "--out", str(tmp_path / "f.csv"),
                                         "--random-init", opt, value])
        assert code == 1 and len(lines) == 1 and "Traceback" not in err, err
        assert f"The '{opt}' option must be a" in lines[0] and allowed in lines[0]
