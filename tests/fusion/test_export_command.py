"""``nomofuse export`` from a saved model file: charts (PDF/SVG/PNG at 300 dpi), a group's chart per
cancer type and multi-page PDF, points table and formulas that match the model, the calculator file,
and errors that say what to fix."""

import json
import re
import struct
import warnings
import xml.etree.ElementTree as ET
import zlib

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_gbsg2

from fusion.cli import main
from fusion.exports import export_model
from fusion.models import NomogramGroup
from fusion.models.synthetic import make_multicancer_cohort
from nomogram import CoxNomogram, LogisticNomogram, load_model, points_table
from nomogram.exceptions import StatisticalWarning


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = load_gbsg2()
    X = d[["age", "tsize", "pnodes", "tgrade", "horTh", "menostat"]]
    folder = tmp_path_factory.mktemp("models")
    cox = CoxNomogram(splines={"age": 4, "tsize": 3}, times=[1095, 1825], time_unit="days",
                      outcome_name="recurrence-free survival").fit(X, d[["time", "cens"]])
    logistic = LogisticNomogram(splines={"age": 4}).fit(X, d["cens"])  # no outcome name in the file
    cohort = make_multicancer_cohort(1500, cancer_types=("lung", "prostate", "breast"), random_state=3)
    G = cohort.clinical.set_index("patient_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        group = NomogramGroup(by="cancer_type", shared=["age", "grade"], candidates=["psa", "smoking"],
                              categorical=["grade"]).fit(G, G["bone_metastasis"])
    return {"cox": cox.to_json(folder / "cox.json"), "logistic": logistic.to_json(folder / "logistic.json"),
            "group": group.to_json(folder / "group.json"), "X": X, "G": G}


def _png_dpi(raw: bytes) -> float:
    """Resolution written in the PNG's pHYs chunk (pixels per metre -> dpi)."""
    i = raw.index(b"pHYs")
    ppm_x, _ = struct.unpack(">II", raw[i + 4:i + 12])
    return ppm_x * 0.0254


def _pdf_pages(raw: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", raw))


def test_export_cox_model_file(files, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["export", str(files["cox"]), "--chart", str(out / "nomogram.pdf"), "--html",
                 str(out / "calculator.html"), "--points-table", str(out / "points.csv"), "--formulas",
                 str(out / "formulas.txt"), "--cutoff", "0"])
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("nomogram.pdf", "calculator.html", "points.csv", "formulas.txt"):
        assert (out / name).exists() and str(out / name) in printed
    pdf = (out / "nomogram.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and _pdf_pages(pdf) == 1
    assert b"/FontFile2" in pdf and b"/Subtype /Type3" not in pdf  # TrueType fonts, as journals ask
    model = load_model(files["cox"])
    nom = model.nomogram()
    table = pd.read_csv(out / "points.csv")
    want = points_table(nom)
    np.testing.assert_allclose(table["points"], want["points"], rtol=0, atol=1e-12)
    assert "3-year recurrence-free survival" in table.columns
    text = (out / "formulas.txt").read_text(encoding="utf-8")
    assert text.startswith("Nomogram predicting 3-year and 5-year recurrence-free survival")
    assert "age (restricted cubic spline, knots" in text
    html = (out / "calculator.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="nomofuse-data">(.*?)</script>', html, re.S).group(1).replace("<\\/", "</"))
    spec = data["models"]["model"]["spec"]
    assert spec == json.loads(json.dumps(nom.to_spec()))  # the very specification of the saved model
    assert data["models"]["model"]["risk_groups"]["cutoffs"] == [0.0]
    assert [o["key"] for o in data["models"]["model"]["outcomes"]] == ["survival_1095", "survival_1825"]


def test_export_png_and_svg_at_print_resolution(files, tmp_path):
    assert main(["export", str(files["logistic"]), "--chart", str(tmp_path / "n.png"), "--outcome-name",
                 "recurrence or death", "--font-family", "serif", "--compact"]) == 0
    raw = (tmp_path / "n.png").read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and _png_dpi(raw) == pytest.approx(300, abs=0.5)
    width, height = struct.unpack(">II", raw[16:24])
    assert width > 1800  # 7 inches at 300 dpi, less the trimmed margins
    assert main(["export", str(files["logistic"]), "--chart", str(tmp_path / "n.svg"), "--outcome-name",
                 "recurrence or death", "--patient", str(_patient_csv(files, tmp_path))]) == 0
    root = ET.parse(tmp_path / "n.svg").getroot()
    texts = {"".join(el.itertext()).strip() for el in root.iter() if el.tag.endswith("text")}
    # the outcome stated from --outcome-name (the file has none), text kept as text
    assert "Nomogram predicting the risk of recurrence or death" in texts
    assert any(t.startswith("Risk of recurrence") for t in texts) and "Patient" in texts


def _patient_csv(files, tmp_path):
    path = tmp_path / "patient.csv"
    files["X"].iloc[[4]].to_csv(path, index=False)
    return path


def test_export_group_chart_per_cancer_type_and_multipage_pdf(files, tmp_path):
    group = load_model(files["group"])
    out = tmp_path / "g"
    patient = files["G"].iloc[[0]]
    summary = export_model(group, chart=out / "nomograms.pdf", html=out / "calculator.html",
                           points_table=out / "points.csv", formulas=out / "formulas.txt", patient=patient)
    keys = sorted(group.models_)
    assert sorted(summary.models) == keys
    pdf = (out / "nomograms.pdf").read_bytes()
    assert _pdf_pages(pdf) == len(keys)
    for key in keys:
        one = (out / f"nomograms_{key}.pdf").read_bytes()
        assert _pdf_pages(one) == 1
    table = pd.read_csv(out / "points.csv")
    assert sorted(table["model"].unique()) == keys
    text = (out / "formulas.txt").read_text(encoding="utf-8")
    for key in keys:
        assert f"== {key}: Nomogram predicting" in text
    html = (out / "calculator.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="nomofuse-data">(.*?)</script>', html, re.S).group(1).replace("<\\/", "</"))
    assert data["selector"]["name"] == "cancer_type"
    assert {o["value"]: o["model"] for o in data["selector"]["options"]} == group.routing_
    for key in keys:
        rg = data["models"][key]["risk_groups"]
        assert rg["cutoffs"] == [group.cutoffs_[key]] and rg["on"] == "probability"
    assert 'name="cancer_type"' in html
    # PNG charts of a group: one file per cancer type
    export_model(group, chart=out / "n.png", dpi=300)
    assert sorted(p.name for p in out.glob("n_*.png")) == [f"n_{k}.png" for k in keys]


def test_export_errors_say_what_to_fix(files, tmp_path, capsys):
    assert main(["export", str(files["cox"])]) == 1
    assert "nothing to write" in capsys.readouterr().err
    assert main(["export", str(files["cox"]), "--chart", str(tmp_path / "n.jpg")]) == 1
    assert "must end in one of" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.json"), "--chart", str(tmp_path / "n.pdf")]) == 1
    assert "cannot read the model" in capsys.readouterr().err
    assert main(["export", str(files["group"]), "--html", str(tmp_path / "c.html"), "--cutoff", "0.3"]) == 1
    assert "its own cut-offs" in capsys.readouterr().err
    assert main(["export", str(files["logistic"]), "--html", str(tmp_path / "c.html"), "--cutoff", "2"]) == 1
    assert "probability in (0, 1)" in capsys.readouterr().err
    assert main(["export", str(files["logistic"]), "--chart", str(tmp_path / "c.pdf"), "--conf-int", "x"]) == 1
    assert "--conf-int takes numbers" in capsys.readouterr().err
    with pytest.raises(TypeError, match="holds no nomogram"):
        export_model(object(), chart=tmp_path / "x.pdf")
    for model in ("logistic", "group"):  # no survival axes: a time unit would be ignored silently
        assert main(["export", str(files[model]), "--chart", str(tmp_path / "t.pdf"), "--time-unit", "days"]) == 1
        assert "logistic model" in capsys.readouterr().err
    assert not (tmp_path / "t.pdf").exists()
