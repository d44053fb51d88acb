"""Displays draw what the result holds; matplotlib stays out of the computing modules."""

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from nomogram.decision_curve import decision_curve  # noqa: E402
from nomogram.displays import (  # noqa: E402
    ClinicalImpactDisplay,
    DecisionCurveDisplay,
    KaplanMeierDisplay,
)
from nomogram.risk_groups import risk_groups  # noqa: E402

from tests._reference import reference_csv, reference_data


def test_computing_modules_do_not_import_matplotlib():
    code = (
        "import sys; import nomogram.decision_curve, nomogram.risk_groups, nomogram.tables, "
        "nomogram.displays; print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_decision_curve_display():
    import matplotlib.pyplot as plt

    rr = reference_csv("clinical/rossi_risks.csv")
    disp = DecisionCurveDisplay.from_predictions(
        rr.arrest, {"full": rr.risk_full, "prio": rr.risk_prio}, n_boot=20, random_state=0
    )
    labels = [ln.get_label() for ln in disp.ax_.lines]
    assert labels == ["Treat All", "Treat None", "full", "prio"]
    res = decision_curve(rr.arrest, {"full": rr.risk_full, "prio": rr.risk_prio})
    np.testing.assert_allclose(disp.ax_.lines[2].get_ydata(), res.net_benefit("full"))
    assert len(disp.ax_.collections) == 2  # bootstrap bands
    assert disp.figure_ is disp.ax_.figure
    fig, ax = plt.subplots()
    d2 = DecisionCurveDisplay(res, statistic="net_intervention_avoided").plot(ax=ax)
    assert d2.ax_ is ax and "per 100" in ax.get_ylabel()
    plt.close("all")


def test_clinical_impact_display():
    import matplotlib.pyplot as plt

    rr = reference_csv("clinical/rossi_risks.csv")
    disp = ClinicalImpactDisplay.from_predictions(rr.arrest, {"full": rr.risk_full})
    hi = disp.ax_.lines[0].get_ydata()
    assert hi[0] == pytest.approx(1000 * np.mean(rr.risk_full >= 0.01))
    plt.close("all")


def test_kaplan_meier_display_with_risk_table():
    import matplotlib.pyplot as plt

    g = reference_data("gbsg2")
    score = reference_csv("clinical/gbsg2_score.csv").score.values
    rg = risk_groups(g[["time", "cens"]], score)
    disp = KaplanMeierDisplay.from_result(rg, risk_table_times=[0, 1000, 2000], xlabel="Days")
    texts = [t.get_text() for t in disp.table_ax_.texts]
    nr = rg.numbers_at_risk([0, 1000, 2000])
    expected = [str(v) for lab in ["low", "high"] for v in nr.loc[lab].values]
    assert texts == expected
    assert "Log-rank" in disp.ax_.texts[0].get_text()
    d2 = KaplanMeierDisplay.from_survival(g[["time", "cens"]], g.horTh)
    assert [ln.get_label() for ln in d2.ax_.lines if not ln.get_label().startswith("_")] == ["no", "yes"]
    # the same figure from the result's own plot() and from the score
    d3 = rg.plot(risk_table_times=[0, 1000, 2000])
    assert [t.get_text() for t in d3.table_ax_.texts] == expected
    d4 = KaplanMeierDisplay.from_predictions(g[["time", "cens"]], score, risk_table_times=[0, 1000, 2000])
    assert [t.get_text() for t in d4.table_ax_.texts] == expected
    # one curve: numbers at risk recovered from the curve's own counts
    from nomogram import kaplan_meier

    km = kaplan_meier(g[["time", "cens"]])
    d5 = km.plot(risk_table_times=[0, 1000, 2000])
    assert [t.get_text() for t in d5.table_ax_.texts] == [
        str(int((g.time >= t).sum())) for t in (0, 1000, 2000)]
    plt.close("all")


def test_old_display_names_warn():
    import matplotlib.pyplot as plt

    g = reference_data("gbsg2")
    score = reference_csv("clinical/gbsg2_score.csv").score.values
    rg = risk_groups(g[["time", "cens"]], score)
    with pytest.warns(FutureWarning, match="renamed from_result"):
        KaplanMeierDisplay.from_risk_groups(rg)
    with pytest.warns(FutureWarning, match=r"KaplanMeierDisplay.from_survival\(y, group"):
        KaplanMeierDisplay.from_survival(g.time, g.cens, g.horTh)
    plt.close("all")
