"""report.html: self-contained, every section reachable from the TRIPOD+AI checklist, renders in Chromium."""

import re

import numpy as np
import pandas as pd
import pytest

from fusion.study.report import SECTIONS, TRIPOD_AI, Figure, ReportContent, render_report, write_report

from _browser import artifact_dir, open_page


def _png(path, title, kind="line"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    x = np.linspace(0, 1, 50)
    if kind == "line":
        ax.plot(x, x ** 0.5, label="model")
        ax.plot([0, 1], [0, 1], ls=":", color="0.5")
    else:
        ax.bar(["a", "b", "c"], [3, 1, 2])
    ax.set_title(title)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return Figure(path, caption=title)


@pytest.fixture
def content(tmp_path):
    flow = pd.DataFrame({"step": ["patients in the clinical table", "excluded", "excluded", "analysed"],
                         "patients": [400, 7, 2, 391],
                         "reason": ["", "missing calcium", "bone-targeted therapy <script>", ""]})
    comparison = pd.DataFrame({
        "split": ["external"] * 2, "model": ["clinical", "fusion"], "n": [120, 120], "events": [50, 50],
        "AUC": [0.70, 0.86], "AUC lower": [0.61, 0.80], "AUC upper": [0.79, 0.92],
        "p (DeLong)": [np.nan, 0.0004]})
    return ReportContent(
        title="Demo study", description="A synthetic cohort.", headline="Fusion beats clinical.",
        notes=["The pathology encoder is randomly initialised."],
        facts=[("Outcome", "bone metastasis (binary)")], flow=flow,
        split_counts=pd.DataFrame({"split": ["train", "test"], "patients": [200, 90], "events": [80, 35]}),
        table_one=pd.DataFrame({"variable": ["age"], "train": ["64 ± 9"], "p": [0.41]}),
        methods=[("Imaging", "pyradiomics on the lesion.")],
        factor_table=pd.DataFrame({"lung": ["x", ""], "breast": ["x", "x"]}, index=["alp", "calcium"]),
        models=[{"name": "fusion", "description": "clinical + labels",
                 "tables": {"lung": pd.DataFrame({"term": ["alp"], "coef": [0.5]})},
                 "figures": [_png(tmp_path / "nom.png", "Nomogram (lung)")]}],
        comparison=comparison,
        comparison_figures=[_png(tmp_path / "roc.png", "ROC (external)")],
        validation_figures=[_png(tmp_path / "cal.png", "Calibration (external)")],
        decision_figures=[_png(tmp_path / "dca.png", "Decision curve (external)")],
        per_cancer={"lung": {"tables": {"AUC": comparison}, "figures": []}},
        failures=pd.DataFrame({"modality": ["imaging"], "case_id": ["P0007"], "stage": ["read"],
                               "message": ["could not read"]}),
        heatmaps=[_png(tmp_path / "heat.png", "Attention", kind="bar")],
        reproducibility=[("nomofuse", "0.1.0")],
    )


def test_self_contained_and_escaped(content, tmp_path):
    page = render_report(content)
    # No reference to anything outside the page: every src is a data URI, every href an anchor.
    assert not re.search(r'(src|href)="(?!data:|#)', page)
    assert "http://" not in page.replace("http-equiv", "") and "https://" not in page
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "bone-targeted therapy &lt;script&gt;" in page
    assert page.count("data:image/png;base64,") == 5
    assert "Content-Security-Policy" in page


def test_tripod_links_point_to_sections_that_exist(content):
    page = render_report(content)
    ids = set(re.findall(r'<section id="([^"]+)"', page))
    links = set(re.findall(r'href="#([^"]+)"', page))
    assert links <= ids
    assert ids <= set(SECTIONS)
    # Every TRIPOD item is listed; items without a section in this report say so.
    for item, *_ in TRIPOD_AI:
        assert f'<td class="text">{item}</td>' in page
    assert "risk-groups" not in ids
    # A report without a cohort flow says so for item 6b (eligibility), instead of a dead link.
    bare = render_report(ReportContent(title="bare"))
    row = re.search(r'<td class="text">6b</td>.*?</tr>', bare).group(0)
    assert "not in this report (section empty)" in row and "href" not in row


def test_p_values_and_counts_formatting(content):
    page = render_report(content)
    assert "&lt;0.001" in page and "0.860" in page and ">391<" in page


def test_refuses_non_png(tmp_path):
    (tmp_path / "x.png").write_bytes(b"GIF89a")
    bad = ReportContent(title="t", heatmaps=[Figure(tmp_path / "x.png")])
    with pytest.raises(ValueError, match="embeds PNG figures only"):
        render_report(bad)


def test_renders_in_headless_chromium(content, tmp_path, tmp_path_factory):
    path = write_report(content, tmp_path / "report.html")
    shot = artifact_dir(tmp_path_factory) / "report_unit.png"
    seen = open_page(path, shot)
    print(f"\nreport screenshot: {shot}")
    assert seen["title"] == "Demo study"
    assert seen["requests"] == [seen["url"]], seen["requests"]  # the document itself, nothing else
    assert len(seen["images"]) == 5
    assert all(i["complete"] and i["naturalWidth"] > 0 for i in seen["images"]), seen["images"]
    assert not seen["console_errors"], seen["console_errors"]
    assert shot.stat().st_size > 10_000
