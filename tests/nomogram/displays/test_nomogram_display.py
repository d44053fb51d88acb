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
def _drawn_ticks(ax, k):
    lines = _lines_by_gid(ax, f"axis{k}-ticks")
    return np.concatenate([ln.get_xdata() for ln in lines]) if lines else np.array([])


@pytest.mark.parametrize("which", ["logistic", "cox"])
def test_every_drawn_tick_is_a_labelled_nomogram_point(which, logistic, cox):
    """Ticks are the nomogram's own points; each drawn tick has its label; none is labelled silently away."""
    model, _ = {"logistic": logistic, "cox": cox}[which]
    nom = model.nomogram()
    disp = nom.plot()
    ax = disp.ax_
    assert disp.figure_ is ax.figure
    for k, axis in enumerate(nom.axes):
        x = _expected_x(nom, axis)
        row = disp.rows_[axis.label]
        labels = _texts_by_gid(ax, f"axis{k}-label")
        drawn = {int(g.rsplit("label", 1)[1]) for g in labels}
        assert drawn, axis.label
        # every drawn tick is at one of the nomogram's points and carries its label
        ticks = _drawn_ticks(ax, k)
        np.testing.assert_allclose(np.sort(ticks), np.sort(x[sorted(drawn)]), atol=1e-9, err_msg=axis.label)
        assert row["dropped"] == []
        assert sorted(drawn) + row["omitted"] == sorted(drawn) + sorted(set(range(len(x))) - drawn)
        for gid, t in labels.items():
            i = int(gid.rsplit("label", 1)[1])
            assert t.get_text() == axis.tick_labels[i]
            assert t.xy[0] == pytest.approx(x[i], abs=1e-9)
            assert t.xy[1] in [b["y"] for b in row["branches"]]
        # the smallest and largest value of every axis are labelled; levels are never left out
        vals = np.arange(len(x)) if axis.kind != "predictor" or isinstance(axis.values[0], str) \
            else np.asarray(axis.values, dtype=float)
        assert {int(np.argmin(vals)), int(np.argmax(vals))} <= drawn, axis.label
        if axis.kind == "predictor" and all(isinstance(v, str) for v in axis.values):
            assert drawn == set(range(len(x))), axis.label
        # lines run over the axis' points (one per branch of a folded axis)
        lines = _lines_by_gid(ax, f"axis{k}-line")
        xs = np.concatenate([ln.get_xdata() for ln in lines])
        assert xs.min() == pytest.approx(x.min(), abs=1e-6) and xs.max() == pytest.approx(x.max(), abs=1e-6)
        # the variable name is at the left of its (first) row
        (name,) = _texts_by_gid(ax, f"axis{k}-name").values()
        assert name.get_text().replace("\n", " ") == axis.label
        assert name.get_position()[1] == row["y"] and name.get_position()[0] < min(x.min(), 0)

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


def _boxes(disp):
    renderer = disp.figure_.canvas.get_renderer()
    return [(t.get_gid(), t.get_window_extent(renderer)) for t in disp.ax_.texts if t.get_text()]


def _assert_no_overlap(boxes, tol=0.5):
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            (ga, ba), (gb, bb) = boxes[a], boxes[b]
            overlap_w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            overlap_h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            assert not (overlap_w > tol and overlap_h > tol), f"{ga} overlaps {gb}"


@pytest.mark.parametrize("which", ["logistic", "cox"])
def test_no_two_texts_overlap(which, logistic, cox):
    model, X = {"logistic": logistic, "cox": cox}[which]
    disp = model.nomogram().plot(patient=X.iloc[[7]], col_grid=True)
    boxes = _boxes(disp)
    assert len(boxes) > 40
    _assert_no_overlap(boxes)


def test_u_shaped_spline_axis_is_drawn_as_monotone_branches(logistic):
    """age (4-knot spline) falls, rises, falls: three labelled branches, monotone labels on each."""
    model, _ = logistic
    nom = model.nomogram()
    k = [a.label for a in nom.axes].index("age")
    axis = nom.axes[k]
    disp = nom.plot()
    row = disp.rows_["age"]
    branches = row["branches"]
    assert [b["direction"] for b in branches] == [-1, 1, -1]
    # branches are stacked under the name, from the youngest to the oldest ages
    assert [b["y"] for b in branches] == sorted((b["y"] for b in branches), reverse=True)
    assert branches[0]["values"][0] == pytest.approx(20) and branches[-1]["values"][1] == pytest.approx(80)
    for b0, b1 in zip(branches[:-1], branches[1:]):
        assert b0["values"][1] == pytest.approx(b1["values"][0])  # they meet at the turning point
        turn = b0["values"][1]
        p = nom.predictor_points(axis, [turn - 0.5, turn, turn + 0.5])
        assert (p[1] - p[0]) * (p[1] - p[2]) > 0  # a local extremum of the points
        assert b0["x"][1] == pytest.approx(float(nom.predictor_points(axis, [turn])[0]))
    # each branch names its range of ages at its left, and its labels are monotone
    tags = [b["tag"].get_text() for b in branches]
    assert tags[0].startswith("20\u2013") and tags[-1].endswith("\u201380")
    for b in branches:
        on = sorted((t for t in row["labels"].values() if t.xy[1] == b["y"]), key=lambda t: t.xy[0])
        vals = [float(t.get_text()) for t in on]
        assert len(vals) >= 2
        assert vals == sorted(vals) or vals == sorted(vals, reverse=True), vals
        lo, hi = b["values"]
        assert all(lo - 1e-9 <= v <= hi + 1e-9 for v in vals)
    # every tick value lies on exactly the branch whose range holds it; 65, 70, 75 keep their labels
    assert {"65", "70", "75"} <= {t.get_text() for t in row["labels"].values()}
    # a connector joins each fold
    assert len(_lines_by_gid(disp.ax_, f"axis{k}-fold")) == len(branches) - 1


def test_skewed_spline_axis_keeps_only_ticks_whose_labels_fit(logistic):
    """tsize 0-120: points rise to ~17 by 40 and then barely move; rms piles 30-120 into a black block."""
    model, _ = logistic
    nom = model.nomogram()
    k = [a.label for a in nom.axes].index("tsize")
    disp = nom.plot()
    row = disp.rows_["tsize"]
    renderer = disp.figure_.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in row["labels"].values()]
    gap = 0.3 * 0.85 * 9 * disp.figure_.dpi / 72
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            ba, bb = boxes[a], boxes[b]
            same_line = min(ba.y1, bb.y1) > max(ba.y0, bb.y0)
            assert not same_line or ba.x1 + gap <= bb.x0 or bb.x1 + gap <= ba.x0
    drawn = {t.get_text() for t in row["labels"].values()}
    assert {"0", "120", "40"} <= drawn  # ends, and the knee where the curve flattens
    assert len(row["omitted"]) >= 5  # 50..110 sit within a point of each other
    assert len(_drawn_ticks(disp.ax_, k)) == len(drawn)


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
    no, yes = disp.rows_["age (horTh=no)"], disp.rows_["age (horTh=yes)"]
    # rms ia.space: the continuation follows 0.7 rows below the last line of the first level (more
    # only when its labels need it), closer than the next predictor
    gap = no["branches"][-1]["y"] - yes["y"]
    assert 0.7 - 1e-9 <= gap < 1.0
    assert yes["branches"][-1]["y"] - disp.rows_["pnodes"]["y"] >= 1.0 - 1e-9
    # the patient is marked on the line of its own horTh level only (on the branch holding its age)
    dots = _lines_by_gid(disp.ax_, "patient-dot-age")
    assert len(dots) == 1
    age = float(patient["age"].iloc[0])
    (branch,) = [b for b in yes["branches"] if b["values"][0] <= age <= b["values"][1]] or [yes["branches"][0]]
    assert dots[0].get_ydata()[0] == pytest.approx(branch["y"])
    assert dots[0].get_xdata()[0] == pytest.approx(nom.points(patient)["age"].iloc[0])


# --------------------------------------------------------------------- patient
def _pieces(line):
    """Segments of a guide drawn as one line with NaN breaks."""
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    out, cur = [], []
    for xi, yi in zip(x, y):
        if np.isnan(yi):
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append((xi, yi))
    if cur:
        out.append(cur)
    return out


def _assert_guides_avoid_texts(disp):
    renderer = disp.figure_.canvas.get_renderer()
    boxes = [(t.get_gid(), t.get_window_extent(renderer)) for t in disp.ax_.texts if t.get_text()]
    trans = disp.ax_.transData
    guides = [ln for ln in disp.ax_.lines if (ln.get_gid() or "").startswith(("patient-drop", "patient-reading",
                                                                                 "axis"))
              and ("drop" in ln.get_gid() or "reading" in ln.get_gid() or "fold" in ln.get_gid())]
    assert guides
    for ln in guides:
        for piece in _pieces(ln):
            (xa, ya), (_, yb) = trans.transform(piece[0]), trans.transform(piece[-1])
            lo, hi = sorted((ya, yb))
            for gid, bb in boxes:
                crosses = bb.x0 + 0.5 < xa < bb.x1 - 0.5 and min(hi, bb.y1) - max(lo, bb.y0) > 0.5
                assert not crosses, f"{ln.get_gid()} crosses the text {gid}"


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
    column = set()
    for name in LOGISTIC_X:
        (dot,) = _lines_by_gid(ax, f"patient-dot-{name}")
        assert dot.get_xdata()[0] == pytest.approx(pts[name])
        assert dot.get_ydata()[0] in [b["y"] for b in disp.rows_[name]["branches"]]
        # an open ring under the ticks: the tick at the patient's value stays visible
        assert dot.get_markerfacecolor() == "none" and dot.get_zorder() < 2
        (drop,) = _lines_by_gid(ax, f"patient-drop-{name}")
        ys = np.asarray(drop.get_ydata(), float)
        assert np.nanmax(ys) <= 1e-9 and np.nanmin(ys) == pytest.approx(dot.get_ydata()[0])  # up to the ruler
        assert np.allclose(np.asarray(drop.get_xdata(), float)[~np.isnan(ys)], pts[name])
        text = _texts_by_gid(ax, f"patient-points-{name}")[f"patient-points-{name}"]
        assert text.get_text() == f"{pts[name]:.1f} pts"
        assert text.get_position()[1] == pytest.approx(dot.get_ydata()[0])  # on the patient's row
        column.add((text.get_position()[0], text.get_ha()))
    (ruler_dots,) = _lines_by_gid(ax, "patient-ruler-dots")
    np.testing.assert_allclose(sorted(ruler_dots.get_xdata()), sorted(pts[LOGISTIC_X]))
    # total points: on the Total Points axis, at its rescaled position
    (tdot,) = _lines_by_gid(ax, "patient-dot-total_points")
    assert tdot.get_xdata()[0] == pytest.approx(pts["Total Points"] * f)
    assert tdot.get_ydata()[0] == pytest.approx(disp.rows_["Total Points"]["y"])
    total = _texts_by_gid(ax, "patient-total_points")["patient-total_points"]
    assert total.get_text() == f"{pts['Total Points']:.1f} pts"
    # predicted risk, from the model itself
    risk = model.predict_proba(patient)[0, 1]
    outcome = _texts_by_gid(ax, "patient-outcome")["patient-outcome"]
    assert outcome.get_text() == f"{risk:.3f}"
    # every number of the patient in one column at the right, left-aligned: one side for all
    column |= {(t.get_position()[0], t.get_ha()) for t in (total, outcome)}
    assert len(column) == 1
    (x_col, _), = column
    assert x_col > max(max(r["ticks"].max(), *(b["x"][1] for b in r["branches"]))
                       for r in disp.rows_.values() if len(r["ticks"]))
    assert disp.patient_points_.equals(nom.points(patient))
    _assert_guides_avoid_texts(disp)


def test_patient_overlay_cox(cox):
    model, X = cox
    patient = X.iloc[[11]]
    disp = NomogramDisplay.from_estimator(model, patient=patient)
    surv = model.predict_survival(patient, times=[1095, 1825]).iloc[0]
    texts = [t for t in disp.ax_.texts if t.get_gid() == "patient-outcome"]
    assert [t.get_text() for t in texts] == [f"{surv[1095]:.3f}", f"{surv[1825]:.3f}"]
    ys = sorted((t.get_position()[1] for t in texts), reverse=True)
    assert ys == pytest.approx([disp.rows_["S(1095)"]["y"], disp.rows_["S(1825)"]["y"]])
    total = disp.patient_points_["Total Points"].iloc[0]
    (line,) = _lines_by_gid(disp.ax_, "patient-reading-line")
    assert np.nanmax(line.get_xdata()) == pytest.approx(total * _bottom_factor(disp.nomogram))
    _assert_guides_avoid_texts(disp)


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


def test_labels_rename_axes_and_their_interaction_axes(gbsg2):
    X = gbsg2[["age", "horTh", "pnodes"]]
    model = LogisticNomogram(interaction=("age", "horTh")).fit(X, gbsg2["cens"])
    nom = model.nomogram()
    plain = {t.get_text() for t in nom.plot().ax_.texts}
    drawn = {t.get_text() for t in nom.plot(labels={"age": "Age, years", "pnodes": "Positive nodes"}).ax_.texts}
    assert "pnodes" in plain and "Positive nodes" in drawn and "pnodes" not in drawn
    interaction_axes = [a.label for a in nom.axes if a.predictor == "age"]
    assert len(interaction_axes) == 2 and all(lab.startswith("age (") for lab in interaction_axes)
    assert {lab.replace("age (", "Age, years (") for lab in interaction_axes} <= drawn
    assert not any(lab in drawn for lab in interaction_axes)
