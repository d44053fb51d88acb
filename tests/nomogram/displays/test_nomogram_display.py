"""NomogramDisplay: rms plot.nomogram layout, tick positions read back from the artists,
patient overlay, and PNG/SVG/PDF output.

The side of every predictor axis' tick labels is compared with the layout rms 6.5-0
``plot.nomogram`` computes (``plot_layout`` in tests/reference/rms_models/*.json,
written by tests/reference/rms_models.R). Positions are compared with the
nomogram's points with ``atol=1e-9`` (they are the same floats, only multiplied by
the total-points scale factor).
"""

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from lifelines.datasets import load_gbsg2  # noqa: E402

from nomogram import CoxNomogram, LogisticNomogram  # noqa: E402
from nomogram._pretty import pretty  # noqa: E402
from nomogram.displays.nomogram import NomogramDisplay, rms_label_sides  # noqa: E402
from tests._reference import load_rms_reference  # noqa: E402

LOGISTIC_X = ["age", "tsize", "pnodes", "tgrade", "horTh", "menostat"]
COX_X = ["age", "tgrade", "pnodes", "horTh"]


@pytest.fixture(scope="module")
def gbsg2():
    return load_gbsg2()


@pytest.fixture(scope="module")
def logistic(gbsg2):
    X = gbsg2[LOGISTIC_X]
    return LogisticNomogram(splines={"age": 4, "tsize": 3}).fit(X, gbsg2["cens"]), X


@pytest.fixture(scope="module")
def cox(gbsg2):
    X = gbsg2[COX_X]
    return CoxNomogram(splines={"age": 4}, times=[1095, 1825]).fit(X, gbsg2[["time", "cens"]]), X


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _bottom_factor(nom):
    """rms rescales the total-points axis so max(total points) spans maxscale."""
    total = nom.axis("Total Points")
    return nom.maxscale / float(np.max(total.points))


def _expected_x(nom, axis):
    f = 1.0 if axis.kind == "predictor" else _bottom_factor(nom)
    return np.asarray(axis.points, dtype=float) * f


def _texts_by_gid(ax, prefix):
    return {t.get_gid(): t for t in ax.texts if (t.get_gid() or "").startswith(prefix)}


def _lines_by_gid(ax, prefix):
    return [ln for ln in ax.lines if (ln.get_gid() or "").startswith(prefix)]


# --------------------------------------------------------------------- rms layout
@pytest.mark.parametrize("model", ["L1", "L2", "L3", "L4_pen2", "C1", "C2"])
def test_label_sides_match_rms_plot_layout(model):
    ref = load_rms_reference(model)["nomogram"]
    discrete = ref["info"]["discrete"]
    n_checked = 0
    for axis in ref["axes"]:
        if axis["kind"] != "predictor":
            continue
        layout = axis["plot_layout"]
        expected = np.zeros(len(layout["at"]), dtype=int)
        for seg in layout["segments"]:
            idx = np.atleast_1d(seg["index"]).astype(int) - 1  # R is 1-based
            expected[idx] = -1 if seg["side"] == 1 else 1
        got = rms_label_sides(layout["at"], bool(discrete[axis["predictor"]]))
        np.testing.assert_array_equal(got, expected, err_msg=f"{model}: {axis['axis']}")
        n_checked += 1
    assert n_checked >= 4


def test_u_shaped_age_axis_split_as_rms(logistic):
    """L1 age (restricted cubic spline, 4 knots) goes down, up, down: labels below/above/below."""
    model, _ = logistic
    age = model.nomogram().axis("age")
    sides = rms_label_sides(age.points, discrete=False)
    # rms: 20..45 below, 50..60 above, 65..80 below (tests/reference/rms_models/L1.json)
    assert age.tick_labels[:6] == ["20", "25", "30", "35", "40", "45"]
    np.testing.assert_array_equal(sides, [-1] * 6 + [1] * 3 + [-1] * 4)


# --------------------------------------------------------------------- positions
@pytest.mark.parametrize("which", ["logistic", "cox"])
def test_tick_positions_are_the_nomogram_points(which, logistic, cox):
    model, _ = {"logistic": logistic, "cox": cox}[which]
    nom = model.nomogram()
    disp = nom.plot()
    ax = disp.ax_
    assert disp.figure_ is ax.figure
    for k, axis in enumerate(nom.axes):
        x = _expected_x(nom, axis)
        # every tick of the axis is drawn (ticks toward their labels: up and down markers)
        ticks = np.concatenate([ln.get_xdata() for ln in _lines_by_gid(ax, f"axis{k}-ticks")])
        np.testing.assert_allclose(np.sort(ticks), np.sort(x), atol=1e-9, err_msg=axis.label)
        # the axis line runs from the smallest to the largest tick
        (line,) = _lines_by_gid(ax, f"axis{k}-line")
        np.testing.assert_allclose(sorted(line.get_xdata()), [x.min(), x.max()], atol=1e-9)
        y = line.get_ydata()[0]
        # each drawn label sits on its tick and reads as the nomogram's tick label
        labels = _texts_by_gid(ax, f"axis{k}-label")
        assert labels, axis.label
        for gid, t in labels.items():
            i = int(gid.rsplit("label", 1)[1])
            assert t.get_text() == axis.tick_labels[i]
            np.testing.assert_allclose(t.xy, (x[i], y), atol=1e-9, err_msg=f"{axis.label} {t.get_text()}")
        drawn = {int(g.rsplit("label", 1)[1]) for g in labels}
        # the ends of every axis keep their labels; categorical levels are never dropped
        assert {0, len(x) - 1} <= drawn, axis.label
        if axis.kind == "predictor" and all(isinstance(v, str) for v in axis.values):
            assert drawn == set(range(len(x))), axis.label
        assert disp.rows_[axis.label]["dropped"] == sorted(set(range(len(x))) - drawn)
        # the variable name is at the left of its row
        (name,) = _texts_by_gid(ax, f"axis{k}-name").values()
        assert name.get_text().replace("\n", " ") == axis.label
        assert name.get_position()[1] == y and name.get_position()[0] < min(x.min(), 0)

    # Points ruler: pretty(c(0, 100), 10) = 0, 10, ..., 100, labelled above
    ruler = pretty([0, nom.maxscale], 10)
    labels = _texts_by_gid(ax, "points-ruler-label")
    assert sorted(float(t.get_text()) for t in labels.values()) == list(ruler)
    for t in labels.values():
        assert t.xy[0] == pytest.approx(float(t.get_text()))
        assert t.get_position()[1] > 0  # offset upwards: above the ruler
    # minor ticks every quarter step (rms: dif/4), majors excluded
    (minor,) = _lines_by_gid(ax, "points-ruler-minor")
    np.testing.assert_allclose(np.sort(minor.get_xdata()),
                               [v for v in np.arange(0, 100.1, 2.5) if v % 10], atol=1e-9)


@pytest.mark.parametrize("which", ["logistic", "cox"])
def test_no_two_texts_overlap(which, logistic, cox):
    model, X = {"logistic": logistic, "cox": cox}[which]
    disp = model.nomogram().plot(patient=X.iloc[[7]], col_grid=True)
    renderer = disp.figure_.canvas.get_renderer()
    boxes = [(t.get_gid(), t.get_window_extent(renderer)) for t in disp.ax_.texts if t.get_text()]
    assert len(boxes) > 40
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            (ga, ba), (gb, bb) = boxes[a], boxes[b]
            overlap_w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            overlap_h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            assert not (overlap_w > 0.5 and overlap_h > 0.5), f"{ga} overlaps {gb}"


def test_u_shaped_axis_uses_both_sides(logistic):
    model, _ = logistic
    nom = model.nomogram()
    disp = nom.plot()
    k = [a.label for a in nom.axes].index("age")
    sides = disp.rows_["age"]["sides"]
    assert set(sides.values()) == {-1, 1}
    # labels drawn above the line are those rms puts above (50, 55, 60) or moved there
    above = {nom.axes[k].tick_labels[i] for i, s in sides.items() if s > 0}
    assert {"50", "55"} <= above


def test_col_grid_draws_faint_verticals_at_ruler_ticks(logistic):
    model, _ = logistic
    nom = model.nomogram()
    disp = nom.plot(col_grid=("0.8", "0.93"))
    majors = [c for c in disp.ax_.collections if c.get_gid() == "grid-major"]
    minors = [c for c in disp.ax_.collections if c.get_gid() == "grid-minor"]
    assert len(majors) == 1 and len(minors) == 1
    xs = sorted(seg[0, 0] for seg in majors[0].get_segments())
    np.testing.assert_allclose(xs, pretty([0, 100], 10))
    # from the Points ruler down to the last predictor axis (rms: space.used)
    seg = majors[0].get_segments()[0]
    last_pred = [a for a in nom.axes if a.kind == "predictor"][-1].label
    assert sorted(seg[:, 1]) == pytest.approx(sorted([0.0, disp.rows_[last_pred]["y"]]))
    assert not [c for c in nom.plot().ax_.collections if (c.get_gid() or "").startswith("grid")]


def test_interaction_axes_are_continuations(gbsg2):
    X = gbsg2[["age", "horTh", "tgrade", "pnodes"]]
    model = LogisticNomogram(splines={"age": 4}, interaction=("age", "horTh")).fit(X, gbsg2["cens"])
    nom = model.nomogram()
    patient = X.iloc[[3]]  # horTh = yes
    assert patient["horTh"].iloc[0] == "yes"
    disp = nom.plot(patient=patient)
    y_no = disp.rows_["age (horTh=no)"]["y"]
    y_yes = disp.rows_["age (horTh=yes)"]["y"]
    assert y_no - y_yes == pytest.approx(0.7)  # rms ia.space
    # the patient is marked on the line of its own horTh level only
    dots = _lines_by_gid(disp.ax_, "patient-dot-age")
    assert len(dots) == 1
    assert dots[0].get_ydata()[0] == pytest.approx(y_yes)
    assert dots[0].get_xdata()[0] == pytest.approx(nom.points(patient)["age"].iloc[0])


# --------------------------------------------------------------------- patient
def test_patient_overlay_logistic(logistic):
    model, X = logistic
    nom = model.nomogram()
    patient = X.iloc[[0]]
    disp = NomogramDisplay(nom, patient=patient).plot()
    ax = disp.ax_
    pts = nom.points(patient).iloc[0]
    # the points are the model's: total points map back to the fitted linear predictor
    assert nom.total_points_to_lp(pts["Total Points"]) == pytest.approx(model.decision_function(patient)[0], abs=1e-9)
    f = _bottom_factor(nom)
    for name in LOGISTIC_X:
        (dot,) = _lines_by_gid(ax, f"patient-dot-{name}")
        assert dot.get_xdata()[0] == pytest.approx(pts[name])
        assert dot.get_ydata()[0] == pytest.approx(disp.rows_[name]["y"])
        (drop,) = _lines_by_gid(ax, f"patient-drop-{name}")
        assert list(drop.get_xdata()) == pytest.approx([pts[name]] * 2)
        assert sorted(drop.get_ydata()) == pytest.approx(sorted([disp.rows_[name]["y"], 0.0]))  # to the ruler
        text = _texts_by_gid(ax, f"patient-points-{name}")[f"patient-points-{name}"]
        assert text.get_text() == f"{pts[name]:.1f} pts"
    (ruler_dots,) = _lines_by_gid(ax, "patient-ruler-dots")
    np.testing.assert_allclose(sorted(ruler_dots.get_xdata()), sorted(pts[LOGISTIC_X]))
    # total points: on the Total Points axis, at its rescaled position
    (tdot,) = _lines_by_gid(ax, "patient-dot-total_points")
    assert tdot.get_xdata()[0] == pytest.approx(pts["Total Points"] * f)
    assert tdot.get_ydata()[0] == pytest.approx(disp.rows_["Total Points"]["y"])
    assert _texts_by_gid(ax, "patient-total_points")["patient-total_points"].get_text() == f"{pts['Total Points']:.1f}"
    # predicted risk, from the model itself
    risk = model.predict_proba(patient)[0, 1]
    assert _texts_by_gid(ax, "patient-outcome")["patient-outcome"].get_text() == f"{risk:.3f}"
    assert disp.patient_points_.equals(nom.points(patient))


def test_patient_overlay_cox(cox):
    model, X = cox
    patient = X.iloc[[11]]
    disp = NomogramDisplay.from_estimator(model, patient=patient)
    surv = model.predict_survival(patient, times=[1095, 1825]).iloc[0]
    texts = [t for t in disp.ax_.texts if t.get_gid() == "patient-outcome"]
    assert [t.get_text() for t in texts] == [f"{surv[1095]:.3f}", f"{surv[1825]:.3f}"]
    ys = sorted((t.xy[1] for t in texts), reverse=True)
    assert ys == pytest.approx([disp.rows_["S(1095)"]["y"], disp.rows_["S(1825)"]["y"]])
    total = disp.patient_points_["Total Points"].iloc[0]
    (line,) = _lines_by_gid(disp.ax_, "patient-reading-line")
    assert line.get_xdata()[0] == pytest.approx(total * _bottom_factor(disp.nomogram))


def test_patient_must_be_one_row_dataframe(logistic):
    model, X = logistic
    nom = model.nomogram()
    with pytest.raises(ValueError, match="exactly one row.*got 2.*iloc"):
        nom.plot(patient=X.iloc[:2])
    with pytest.raises(TypeError, match="one-row DataFrame, got a Series"):
        nom.plot(patient=X.iloc[0])
    with pytest.raises(TypeError, match="expects a Nomogram"):
        NomogramDisplay(model)


# --------------------------------------------------------------------- output files
@pytest.mark.parametrize("which", ["logistic", "cox"])
def test_saves_png_svg_pdf(which, logistic, cox, tmp_path):
    model, X = {"logistic": logistic, "cox": cox}[which]
    nom = model.nomogram()
    disp = nom.plot(patient=X.iloc[[2]], col_grid=True)
    w_in, h_in = disp.figure_.get_size_inches()
    assert w_in == pytest.approx(7.0)
    n_rows = len(nom.axes) + 1
    assert 0.4 * n_rows < h_in < 0.55 * n_rows + 1  # sized from the number of axes

    png = tmp_path / "nomogram.png"
    disp.figure_.savefig(png, dpi=200)
    raw = png.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", raw[16:24])  # IHDR
    assert (width, height) == (round(w_in * 200), round(h_in * 200))
    assert len(raw) > 20_000

    svg = tmp_path / "nomogram.svg"
    disp.figure_.savefig(svg)
    root = ET.parse(svg).getroot()
    texts = {"".join(el.itertext()).strip() for el in root.iter() if el.tag.endswith("text")}
    for axis in nom.axes:
        assert axis.label in texts, axis.label  # real text, not glyph outlines
    assert "Points" in texts

    pdf = tmp_path / "nomogram.pdf"
    disp.figure_.savefig(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert b"/FontFile2" in data  # TrueType (Type 42) embedded, not Type 3
    assert b"/Subtype /Type3" not in data


def test_display_savefig_and_user_axes(logistic, tmp_path):
    model, _ = logistic
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 5))
    disp = model.nomogram().plot(ax=ax2, fontsize=8)
    assert disp.ax_ is ax2 and disp.figure_ is fig
    assert not ax2.axison
    out = tmp_path / "n.svg"
    disp.savefig(out)
    texts = {"".join(el.itertext()).strip() for el in ET.parse(out).getroot().iter() if el.tag.endswith("text")}
    assert {"age", "Total Points", "Risk"} <= texts
    # rms xfrac: the name column is xfrac * maxscale wide, left of 0
    assert model.nomogram().plot(xfrac=0.35).ax_.get_xlim()[0] == pytest.approx(-35.0)


def test_module_does_not_import_matplotlib():
    code = ("import sys, nomogram.displays.nomogram as m, nomogram; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
