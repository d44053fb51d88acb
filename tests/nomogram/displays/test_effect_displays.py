"""AnovaDisplay, EffectsDisplay and PartialEffectDisplay draw what the results hold.

Positions are read back from the matplotlib artists and compared with the result
tables (the numbers themselves are checked against rms in
tests/nomogram/models/test_rms_verbs.py).
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nomogram import CoxNomogram, LogisticNomogram, anova, effects, partial_effects  # noqa: E402
from nomogram.displays import AnovaDisplay, EffectsDisplay, PartialEffectDisplay  # noqa: E402
from tests._reference import reference_data  # noqa: E402


@pytest.fixture(scope="module")
def l3():
    d = reference_data("gbsg2")
    return LogisticNomogram(splines={"age": 4}, interaction=("age", "horTh")).fit(
        d[["age", "horTh", "tgrade", "pnodes"]], d["cens"])


@pytest.fixture(scope="module")
def cox():
    d = reference_data("gbsg2")
    return CoxNomogram(splines={"age": 3}).fit(d[["age", "tgrade", "pnodes"]], d[["time", "cens"]])


def test_partial_effect_display_panels(l3, tmp_path):
    res = partial_effects(l3)
    disp = PartialEffectDisplay.from_result(res)
    assert len(disp.ax_) == 4 and disp.figure_ is disp.ax_[0].figure
    line = disp.lines_["age"][0]
    c = res.curve("age")
    np.testing.assert_allclose(line.get_xdata(), c["age"])
    np.testing.assert_allclose(line.get_ydata(), c["yhat"])
    band = [p for p in disp.ax_[0].collections if p.get_paths()]
    assert band, "the confidence band is drawn"
    verts = band[0].get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx(c["lower"].min()) and verts[:, 1].max() == pytest.approx(c["upper"].max())
    # categorical panel: one point per level at the estimate, error bars to the limits
    tg = res.curve("tgrade")
    pts = disp.lines_["tgrade"][0].lines[0]
    np.testing.assert_allclose(pts.get_ydata(), tg["yhat"])
    assert [t.get_text() for t in disp.ax_[2].get_xticklabels()] == ["I", "II", "III"]
    assert disp.ax_[0].get_ylabel() == "log odds"
    disp.figure_.savefig(tmp_path / "pe.png")
    plt.close(disp.figure_)


def test_partial_effect_display_by_and_survival(l3, cox):
    disp = PartialEffectDisplay.from_estimator(l3, "age", overlay="horTh", scale="risk")
    assert [ln.get_label() for ln in disp.lines_["age"]] == ["horTh=no", "horTh=yes"]
    assert all(0 < y < 1 for ln in disp.lines_["age"] for y in ln.get_ydata())
    plt.close(disp.figure_)
    fig, axes = plt.subplots(1, 2)
    disp = PartialEffectDisplay.from_estimator(cox, ["age", "pnodes"], scale="survival", horizon=1825, ax=axes)
    assert list(disp.ax_) == list(axes) and "Survival" in axes[0].get_ylabel()
    plt.close(fig)
    with pytest.raises(ValueError, match="2 predictors need 2 axes"):
        partial_effects(cox, ["age", "pnodes"]).plot(ax=plt.gca())
    plt.close("all")


def test_effects_display_forest(l3):
    res = effects(l3)
    disp = res.plot()
    r = res.ratios()
    pts = disp.ax_.lines[0]
    np.testing.assert_allclose(pts.get_xdata(), r["Odds Ratio"])
    assert disp.ax_.get_xscale() == "log"
    assert disp.labels_ == ["age - 61:46", "pnodes - 7:1", "horTh - yes:no", "tgrade - I:II", "tgrade - III:II"]
    segs = disp.ax_.collections[0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segs], r["lower"])
    np.testing.assert_allclose([s[1][0] for s in segs], r["upper"])
    plt.close(disp.figure_)
    disp = EffectsDisplay.from_estimator(l3, {"age": (40, 60)}, conf_level=0.9)
    assert disp.labels_[0] == "age - 60:40" and "90% CI" in disp.ax_.get_xlabel()
    plt.close(disp.figure_)


def test_anova_display_order(l3):
    res = anova(l3)
    disp = AnovaDisplay.from_result(res)
    t = res.table
    expected = {"age": t.iloc[0], "horTh": t.iloc[3], "tgrade": t.loc["tgrade"], "pnodes": t.loc["pnodes"]}
    x = disp.ax_.lines[0].get_xdata()
    labels = [tk.get_text() for tk in disp.ax_.get_yticklabels()]
    for lab, v in zip(labels, x):
        assert v == pytest.approx(expected[lab]["Chi-Square"] - expected[lab]["d.f."])
    assert disp.order_ == ["pnodes", "age", "horTh", "tgrade"]  # largest chi-square - d.f. first
    plt.close(disp.figure_)
    with pytest.raises(ValueError, match="'what' parameter of AnovaDisplay.plot"):
        AnovaDisplay.from_estimator(l3, what="aic")
    plt.close("all")
