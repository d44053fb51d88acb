"""Journal layout of the nomogram chart: many predictors without colliding text, titles and outcome
labels from the outcome name and time unit, confidence bars, fonts, compact mode, output resolution.

Overlaps are judged from the renderer's text extents (``Text.get_window_extent``), not by eye.
"""

import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from lifelines.datasets import load_gbsg2  # noqa: E402
from scipy.stats import norm  # noqa: E402

from nomogram import CoxNomogram, LogisticNomogram  # noqa: E402
from nomogram.points import horizon_text, survival_label  # noqa: E402


def ten_predictor_data(n=600, seed=11):
    """Ten predictors of a made-up metastasis study: four splines, skewed labs, long level names."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": rng.uniform(25, 85, n).round(),
        "body mass index": rng.normal(26, 4.5, n).clip(15, 45),
        "tumour size (mm)": rng.gamma(2.0, 12.0, n).clip(2, 150),
        "CEA (ng/mL)": np.exp(rng.normal(1.2, 0.9, n)),
        "positive nodes": rng.poisson(2.5, n).astype(float) + rng.integers(0, 12, n) * (rng.random(n) < 0.3),
        "grade": rng.choice(["G1", "G2", "G3"], n, p=[0.3, 0.45, 0.25]),
        "clinical stage": rng.choice(["Stage I", "Stage II", "Stage IIIA", "Stage IIIB"], n),
        "sex": rng.choice(["female", "male"], n),
        "smoking": rng.choice(["never", "former", "current"], n),
        "rad-score": rng.normal(0, 1, n),
    })
    lp = (-1 + 0.002 * (X["age"] - 55) ** 2 + 0.04 * (X["body mass index"] - 26)
          + 1.2 * np.log(X["tumour size (mm)"] / 20) + 0.3 * np.log(X["CEA (ng/mL)"]) + 0.12 * X["positive nodes"]
          + 0.5 * (X["grade"] == "G3") + 0.4 * X["clinical stage"].isin(["Stage IIIA", "Stage IIIB"])
          + 0.3 * (X["sex"] == "male") + 0.25 * (X["smoking"] == "current") + 0.8 * X["rad-score"])
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def ten():
    X, y = ten_predictor_data()
    model = LogisticNomogram(splines={"age": 4, "body mass index": 3, "tumour size (mm)": 3, "CEA (ng/mL)": 4},
                             interaction=("age", "sex")).fit(X, y)
    return model, X


@pytest.fixture(scope="module")
def gbsg2_cox():
    d = load_gbsg2()
    X = d[["age", "tsize", "pnodes", "tgrade", "horTh", "menostat"]]
    model = CoxNomogram(splines={"age": 4, "tsize": 3}, times=[1095, 1825]).fit(X, d[["time", "cens"]])
    return model, X


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _text_boxes(disp):
    renderer = disp.figure_.canvas.get_renderer()
    return [(t.get_gid(), t.get_text(), t.get_window_extent(renderer)) for t in disp.ax_.texts if t.get_text()]


def _overlaps(boxes, tol=0.5):
    bad = []
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            (ga, sa, ba), (gb, sb, bb) = boxes[a], boxes[b]
            if min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > tol and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > tol:
                bad.append(f"{ga} '{sa}' / {gb} '{sb}'")
    return bad


@pytest.mark.parametrize("options, patient", [
    ({}, None),
    ({}, 5),
    ({"compact": True, "fontsize": 8}, 5),
    ({"conf_int": True, "fontfamily": "serif", "fontsize": 10}, 17),
    ({"compact": True, "conf_int": (0.9, 0.95), "label_lines": 2}, 40),
], ids=["default", "patient", "compact", "conf-serif", "compact-conf-two-lines"])
def test_ten_predictor_chart_has_no_overlapping_text(ten, options, patient):
    model, X = ten
    nom = model.nomogram(outcome_name="lymph-node metastasis")
    assert len([a for a in nom.axes if a.kind == "predictor"]) >= 10  # age is drawn per sex
    for patient in [None if patient is None else X.iloc[[patient]]]:
        disp = nom.plot(patient=patient, **options)
        boxes = _text_boxes(disp)
        assert len(boxes) > 80
        assert _overlaps(boxes) == []
        # every text lies inside the figure (nothing cut at the edges)
        fig_bb = disp.figure_.bbox
        for gid, s, bb in boxes:
            assert fig_bb.x0 - 0.5 <= bb.x0 and bb.x1 <= fig_bb.x1 + 0.5, (gid, s)
            assert fig_bb.y0 - 0.5 <= bb.y0 and bb.y1 <= fig_bb.y1 + 0.5, (gid, s)
        # every drawn tick of every axis is labelled
        for label, row in disp.rows_.items():
            assert row["dropped"] == [], label
        plt.close(disp.figure_)


def test_compact_mode_is_shorter(ten):
    model, _ = ten
    nom = model.nomogram()
    h = nom.plot().figure_.get_size_inches()[1]
    h_compact = nom.plot(compact=True).figure_.get_size_inches()[1]
    assert h_compact < 0.85 * h


def test_levels_crowded_on_a_short_axis_stay_with_their_axis(ten):
    """Stacked level labels push the next axis down instead of landing on it."""
    model, _ = ten
    nom = model.nomogram()
    disp = nom.plot()
    renderer = disp.figure_.canvas.get_renderer()
    trans = disp.ax_.transData
    names = [a.label for a in nom.axes if a.kind == "predictor"]
    for upper, lower in zip(names[:-1], names[1:]):
        y_lower = trans.transform((0, disp.rows_[lower]["y"]))[1]
        y_upper = trans.transform((0, disp.rows_[upper]["branches"][-1]["y"]))[1]
        below = [t for t, s in zip(disp.rows_[upper]["labels"].values(), disp.rows_[upper]["sides"].values()) if s < 0]
        above = [t for t, s in zip(disp.rows_[lower]["labels"].values(), disp.rows_[lower]["sides"].values()) if s > 0]
        for t in below:  # labels under an axis stay above the next axis' line...
            assert t.get_window_extent(renderer).y0 > y_lower, (upper, t.get_text())
        for t in above:  # ...and labels over an axis stay under the previous one's
            assert t.get_window_extent(renderer).y1 < y_upper, (lower, t.get_text())


# --------------------------------------------------------------------- outcome statement
def test_time_unit_labels_survival_axes_in_years_and_months():
    assert horizon_text(1095, "days") == "3-year" and horizon_text(1096, "days") == "3-year"
    assert horizon_text(1825, "days") == "5-year"
    assert horizon_text(182.6, "days") == "6-month"
    assert horizon_text(100, "days") == "100-day"
    assert horizon_text(36, "months") == "3-year" and horizon_text(18, "months") == "18-month"
    assert horizon_text(2, "years") == "2-year"
    assert horizon_text(52, "weeks") == "1-year"  # 364 days: within 0.5 % of 365.25
    assert horizon_text(10, "weeks") == "10-week"
    assert survival_label(1095) == "S(1095)"
    assert survival_label(1095, "days") == "3-year survival"
    assert survival_label(1095, "days", "overall survival") == "3-year overall survival"


def test_chart_states_the_outcome_and_time(gbsg2_cox):
    model, X = gbsg2_cox
    nom = model.nomogram(outcome_name="recurrence-free survival", time_unit="days")
    assert [a.label for a in nom.axes if a.kind == "outcome"] == ["3-year recurrence-free survival",
                                                                  "5-year recurrence-free survival"]
    assert nom.title == "Nomogram predicting 3-year and 5-year recurrence-free survival"
    disp = nom.plot(patient=X.iloc[[0]])
    texts = {t.get_gid(): t.get_text() for t in disp.ax_.texts}
    assert texts["title"] == nom.title
    names = {t.get_text().replace("\n", " ") for t in disp.ax_.texts if (t.get_gid() or "").endswith("-name")}
    assert {"3-year recurrence-free survival", "5-year recurrence-free survival"} <= names
    # the patient's outcome columns are named by the same labels
    assert "3-year recurrence-free survival" in disp.patient_points_.columns
    assert nom.plot(title="Figure 2").ax_.texts[0].get_text() == "Figure 2"
    assert not [t for t in nom.plot(title=False).ax_.texts if t.get_gid() == "title"]
    # without a unit the axes keep rms's "S(1095)", and the title says the times as numbers
    plain = model.nomogram()
    assert plain.outcome_labels == ["S(1095)", "S(1825)"]
    assert plain.title == "Nomogram predicting survival at time 1095 and 1825"
    with pytest.raises(ValueError, match="time_unit.*'days'"):
        model.nomogram(time_unit="day")


def test_logistic_outcome_name(ten):
    model, _ = ten
    nom = model.nomogram(outcome_name="lymph-node metastasis")
    assert nom.outcome_labels == ["Risk of lymph-node metastasis"]
    assert nom.title == "Nomogram predicting the risk of lymph-node metastasis"
    assert model.nomogram().title == "Nomogram predicting risk"


# --------------------------------------------------------------------- confidence bars
def test_conf_int_bars_are_rms_representative_intervals(gbsg2_cox):
    model, X = gbsg2_cox
    nom = model.nomogram(time_unit="days")
    disp = nom.plot(conf_int=(0.7, 0.9), patient=X.iloc[[3]])
    pts = disp.conf_points_
    assert len(pts) == 10 and list(pts.columns) == ["lp", "se"]
    f = nom.maxscale / float(np.max(nom.axis("Total Points").points))
    z = norm.ppf([0.85, 0.95])
    for i, zi in enumerate(z):
        lines = [ln for ln in disp.ax_.lines if ln.get_gid() == f"conf-bars-level{i}"]
        xs = np.concatenate([np.asarray(ln.get_xdata(), float) for ln in lines])
        xs = xs[~np.isnan(xs)]
        outer = [nom.lp_to_total_points(lp) * f + s * zi * se * nom.scale * f
                 for lp, se in zip(pts["lp"], pts["se"]) for s in (-1, 1)]
        for x in outer:  # every bar's outer ends are at LP -+ z se on the drawn scale
            assert np.min(np.abs(xs - x)) < 1e-9
    # the patient's own interval: LP -+ z(0.9) se, se from the model's covariance
    (bar,) = [ln for ln in disp.ax_.lines if ln.get_gid() == "patient-lp-ci"]
    lp = disp.patient_points_["Linear Predictor"].iloc[0]
    Xc = model.design_matrix(X.iloc[[3]]) - model.means_.to_numpy()
    se = float(np.sqrt((Xc @ model.cov_.to_numpy() @ Xc.T)[0, 0]))
    half = norm.ppf(0.95) * se * nom.scale * f
    np.testing.assert_allclose(sorted(bar.get_xdata()), [nom.lp_to_total_points(lp) * f - half,
                                                         nom.lp_to_total_points(lp) * f + half], atol=1e-9)
    # the patient's outcomes are printed with their interval (rms survest)
    limits = model.survest(X.iloc[[3]], conf_level=0.9)
    txt = [t.get_text() for t in disp.ax_.texts if t.get_gid() == "patient-outcome"][0]
    lo, hi = limits["lower"].iloc[0], limits["upper"].iloc[0]
    assert txt.endswith(f"({lo:.3f}\u2013{hi:.3f})")


def test_conf_int_needs_the_covariance(gbsg2_cox):
    from nomogram.points import Nomogram

    model, _ = gbsg2_cox
    spec = model.nomogram().to_spec()
    spec["variance"] = None
    with pytest.raises(ValueError, match="covariance"):
        Nomogram.from_spec(spec).plot(conf_int=True)
    with pytest.raises(ValueError, match="conf_int"):
        model.nomogram().plot(conf_int=1.5)


# --------------------------------------------------------------------- fonts and output
def test_font_family_and_sizes_apply_to_every_text(ten):
    model, X = ten
    disp = model.nomogram().plot(patient=X.iloc[[0]], fontfamily="serif", fontsize=10, tick_fontsize=7,
                                 title_fontsize=12)
    for t in disp.ax_.texts:
        if not t.get_text():
            continue
        assert t.get_fontfamily() == ["serif"], t.get_gid()
        gid = t.get_gid() or ""
        want = 12 if gid == "title" else 10 if gid.endswith("-name") else 7
        assert t.get_fontsize() == want, gid


def test_savefig_writes_300_dpi_png_by_default(ten, tmp_path):
    model, _ = ten
    disp = model.nomogram().plot()
    png = tmp_path / "n.png"
    disp.savefig(png, bbox_inches=None)
    w_in, h_in = disp.figure_.get_size_inches()
    raw = png.read_bytes()
    assert struct.unpack(">II", raw[16:24]) == (round(w_in * 300), round(h_in * 300))
