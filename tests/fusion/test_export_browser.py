"""The web calculator in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

For each model — logistic with splines, factors and an interaction; Cox with two
interactions and two times; a group of three cancer types — the page is written by ``nomofuse export``'s
library function from a model file read back with ``load_model``, opened from
disk with every network request intercepted (and refused), and 50 random
patients are entered through the DOM contract (``name`` = predictor). Every
``data-value`` output must equal Python's prediction to 1e-9: points per
predictor, total points, linear predictor, probability or survival at each time,
their confidence limits, the risk group, and the out-of-range flags. One
browser serves the whole module and each model's page is loaded once.

A screenshot of each page (desktop, and the logistic one at phone width) and the
measured largest differences are saved under ``$NOMOFUSE_TEST_ARTIFACTS``
(default ``artifacts/`` in pytest's base temporary folder). Without Playwright or
Chromium the module is skipped, unless ``NOMOFUSE_REQUIRE_BROWSER=1`` (set by
``.ci/run``, which installs Debian's chromium), which makes it fail.
"""

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from scipy.stats import norm


def _unavailable(reason):
    # .ci/run sets NOMOFUSE_REQUIRE_BROWSER=1: there a missing browser is a failure, not a skip
    if os.environ.get("NOMOFUSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required (NOMOFUSE_REQUIRE_BROWSER=1) but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


try:
    import playwright.sync_api as playwright_api
except ImportError:
    _unavailable("playwright is not installed (pip install playwright; the [test] extra has it)")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)")

from lifelines.datasets import load_gbsg2  # noqa: E402

from fusion.exports import export_model  # noqa: E402
from fusion.models import NomogramGroup  # noqa: E402
from fusion.models.synthetic import make_multicancer_cohort  # noqa: E402
from nomogram import CoxNomogram, LogisticNomogram, load_model  # noqa: E402
from nomogram.exceptions import StatisticalWarning  # noqa: E402

ATOL = 1e-9
N_PATIENTS = 50
MAX_DIFF = {}
ARTIFACTS = None  # set by the browser fixture


# ------------------------------------------------------------------ browser and pages
@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One Chromium for the module; screenshots and measured differences go to the artifact folder:
    ``$NOMOFUSE_TEST_ARTIFACTS``, or ``artifacts/`` in pytest's base temporary folder."""
    global ARTIFACTS
    base = os.environ.get("NOMOFUSE_TEST_ARTIFACTS")
    ARTIFACTS = Path(base) if base else tmp_path_factory.getbasetemp() / "artifacts"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()
    (ARTIFACTS / "calculator_max_differences.json").write_text(json.dumps(MAX_DIFF, indent=1))


class Page:
    """One calculator page opened from disk, every request but the page's own refused and recorded."""

    def __init__(self, browser, path: Path, width=1200):
        self.url = path.resolve().as_uri()
        self.requests = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(self.url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=10_000)

    def _route(self, route):
        self.requests.append(route.request.url)
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def enter(self, values: dict, model_choice=None, selector=None) -> dict:
        """Set the inputs through the DOM contract and read every output's data-value."""
        return self.page.evaluate(
            """([values, choice, selector]) => {
                if (choice !== null) {
                    const sel = document.querySelector(`select[name="${CSS.escape(selector)}"]`);
                    sel.value = choice;
                    sel.dispatchEvent(new Event("change", {bubbles: true}));
                }
                for (const [name, value] of Object.entries(values)) {
                    const el = document.querySelector(`#inputs [name="${CSS.escape(name)}"]`);
                    if (!el) throw new Error("no input named " + name);
                    el.value = value;
                    el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", {bubbles: true}));
                }
                const out = {};
                for (const e of document.querySelectorAll("[data-output]")) out[e.dataset.output] = e.dataset.value;
                const res = document.getElementById("results");
                out.__extrapolated__ = res.dataset.extrapolated;
                out.__names__ = Array.from(document.querySelectorAll("#inputs [name]")).map(e => e.name);
                return out;
            }""",
            [values, model_choice, selector],
        )

    def close(self):
        self.context.close()


def _as_text(v):
    return repr(float(v)) if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, bool) \
        else str(v)


def _random_patients(model, X, n, seed):
    """New patients: numbers anywhere in (and 5 % beyond) the training range, random levels."""
    rng = np.random.default_rng(seed)
    cols = {}
    for term in model.design_.terms:
        if term.kind == "categorical":
            cols[term.name] = [term.levels[i] for i in rng.integers(0, len(term.levels), n)]
        else:
            span = term.high - term.low
            cols[term.name] = rng.uniform(term.low - 0.05 * span, term.high + 0.05 * span, n)
    return pd.DataFrame(cols)[list(model.design_.predictors)]


def _outside(model, X):
    flags = np.zeros(len(X), dtype=bool)
    for term in model.design_.terms:
        if term.kind != "categorical":
            v = X[term.name].to_numpy(dtype=float)
            flags |= (v < term.low) | (v > term.high)
    return flags


def _record(name, key, diff):
    MAX_DIFF.setdefault(name, {})
    MAX_DIFF[name][key] = max(MAX_DIFF[name].get(key, 0.0), float(diff))


def _compare(name, got: dict, want: dict):
    for key, value in want.items():
        assert key in got, f"{name}: the page has no output data-output='{key}'"
        if isinstance(value, str) or value is None:
            assert got[key] == (value or ""), (key, got[key], value)
            continue
        page = float(got[key])
        diff = abs(page - float(value))
        _record(name, key.split("_")[0] if key.startswith("points_") else key, diff)
        assert diff <= ATOL, f"{name}: {key} page {page!r} python {value!r}"


def _screenshot(page, name):
    path = ARTIFACTS / f"{name}.png"
    page.page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    return path


def _assert_offline(page, html_text):
    assert page.requests == [page.url], f"requests other than the page itself: {page.requests}"
    assert page.errors == []
    # nothing in the file could fetch: every src/href is inline (data:) or a fragment
    for attr in re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html_text):
        assert attr.startswith(("data:", "#")), attr
    assert "default-src 'none'" in html_text


# ------------------------------------------------------------------ models
@pytest.fixture(scope="module")
def gbsg2():
    return load_gbsg2()


@pytest.fixture(scope="module")
def logistic_page(browser, gbsg2, tmp_path_factory):
    X = gbsg2[["age", "tsize", "pnodes", "tgrade", "horTh", "menostat"]]
    model = LogisticNomogram(splines={"age": 4, "tsize": 3}, categorical=["tgrade"], interaction=("age", "horTh"),
                             outcome_name="recurrence or death").fit(X, gbsg2["cens"])
    folder = tmp_path_factory.mktemp("logistic")
    model = load_model(model.to_json(folder / "model.json"))
    html = folder / "calculator.html"
    export_model(model, html=html, cutoff=0.5)
    page = Page(browser, html)
    yield model, X, page, html
    page.close()


@pytest.fixture(scope="module")
def cox_page(browser, gbsg2, tmp_path_factory):
    X = gbsg2[["age", "tsize", "pnodes", "tgrade", "horTh"]]
    # two interactions: a version-2 nomogram specification ("interactions", "partners")
    model = CoxNomogram(splines={"age": 4}, times=[1095, 1825], time_unit="days",
                        interaction=[("age", "horTh"), ("tsize", "tgrade")],
                        outcome_name="recurrence-free survival").fit(X, gbsg2[["time", "cens"]])
    folder = tmp_path_factory.mktemp("cox")
    model = load_model(model.to_json(folder / "model.json"))
    html = folder / "calculator.html"
    export_model(model, html=html, cutoff=0.0)
    page = Page(browser, html)
    yield model, X, page, html
    page.close()


@pytest.fixture(scope="module")
def group_page(browser, tmp_path_factory):
    cohort = make_multicancer_cohort(1800, cancer_types=("lung", "prostate", "breast"), random_state=4)
    X = cohort.clinical.set_index("patient_id")
    # full-precision measurements, so that a copied training row would be recognisable in the page
    jitter = np.random.default_rng(5)
    for col in ("age", "psa", "cea"):
        X[col] = X[col] + jitter.uniform(-0.4, 0.4, len(X)) * (0.01 if col != "age" else 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        group = NomogramGroup(by="cancer_type", shared=["age", "grade"], candidates=["psa", "smoking", "cea", "sex"],
                              splines={"age": 3}, categorical=["grade"],
                              model_params={"outcome_name": "bone metastasis"}).fit(X, X["bone_metastasis"])
    folder = tmp_path_factory.mktemp("group")
    group = load_model(group.to_json(folder / "group.json"))
    html = folder / "calculator.html"
    export_model(group, html=html)
    page = Page(browser, html)
    yield group, X, page, html
    page.close()


# ------------------------------------------------------------------ tests
def _expected_single(model, nom, X, conf_level=0.95, cutoff=None):
    pts = nom.points(X)
    lim = nom.confidence_limits(X, conf_level=conf_level)
    rows = []
    for i in range(len(X)):
        want = {f"points_{c}": pts[c].iloc[i] for c in pts.columns
                if c not in ("Total Points", "Linear Predictor") and c not in nom.outcome_labels}
        want["total_points"] = pts["Total Points"].iloc[i]
        want["linear_predictor"] = pts["Linear Predictor"].iloc[i]
        want["linear_predictor_se"] = lim["Linear Predictor SE"].iloc[i]
        rows.append(want)
    return rows, pts, lim


def test_logistic_page_reproduces_python(logistic_page):
    model, X, page, html = logistic_page
    nom = model.nomogram()
    patients = _random_patients(model, X, N_PATIENTS, seed=10)
    rows, pts, lim = _expected_single(model, nom, patients)
    proba = model.predict_proba(patients)[:, 1]
    lp = model.decision_function(patients)
    # the CI from the model's own covariance (rms predict se.fit), not through the nomogram
    Z = np.column_stack([np.ones(len(patients)), model.design_matrix(patients)])
    se = np.sqrt(np.einsum("ij,jk,ik->i", Z, model.cov_.to_numpy(), Z))
    z = norm.ppf(0.975)
    flags = _outside(model, patients)
    assert flags.any() and not flags.all()
    for i, want in enumerate(rows):
        values = {k: _as_text(v) for k, v in patients.iloc[i].items()}
        got = page.enter(values)
        assert set(got["__names__"]) == set(model.design_.predictors)
        want.update({"probability": proba[i], "probability_lower": expit(lp[i] - z * se[i]),
                     "probability_upper": expit(lp[i] + z * se[i]),
                     "risk_group": "high" if proba[i] >= 0.5 else "low"})
        assert abs(float(got["linear_predictor"]) - lp[i]) <= ATOL
        _compare("logistic", got, want)
        assert got["__extrapolated__"] == ("true" if flags[i] else "false")
    # the interaction partner is folded into the age axis (no points of its own, as in Nomogram.points)
    assert "points_horTh" not in got and "points_age" in got
    _assert_offline(page, html.read_text(encoding="utf-8"))
    _screenshot(page, "calculator_logistic")


def test_cox_page_reproduces_python_survival_and_survest_limits(cox_page):
    model, X, page, html = cox_page
    nom = model.nomogram()
    patients = _random_patients(model, X, N_PATIENTS, seed=11)
    rows, pts, lim = _expected_single(model, nom, patients)
    surv = model.predict_survival(patients, times=[1095, 1825])
    est = model.survest(patients, times=[1095, 1825])
    lp = model.decision_function(patients)
    for i, want in enumerate(rows):
        got = page.enter({k: _as_text(v) for k, v in patients.iloc[i].items()})
        for t in (1095, 1825):
            e = est.xs(float(t), level="time").iloc[i]
            want[f"survival_{t}"] = surv[t].iloc[i]
            want[f"survival_{t}_lower"] = e["lower"]
            want[f"survival_{t}_upper"] = e["upper"]
        want["risk_group"] = "high" if lp[i] >= 0.0 else "low"
        _compare("cox", got, want)
    _assert_offline(page, html.read_text(encoding="utf-8"))
    _screenshot(page, "calculator_cox")


def test_group_page_switches_model_by_cancer_type(group_page):
    group, X, page, html = group_page
    assert len(group.models_) == 3
    rng = np.random.default_rng(12)
    sample = X.iloc[rng.choice(len(X), N_PATIENTS, replace=False)].copy()
    risk = group.risk_group(sample)
    proba = group.predict_proba(sample)[:, 1]
    keys = group.route(sample)
    for i in range(N_PATIENTS):
        row = sample.iloc[[i]]
        key = keys.iloc[i]
        model = group.models_[key]
        factors = list(model.design_.predictors)
        # move the continuous factors off the training rows (anywhere in and around the range)
        for term in model.design_.terms:
            if term.kind != "categorical":
                span = term.high - term.low
                row.loc[:, term.name] = rng.uniform(term.low - 0.05 * span, term.high + 0.05 * span)
        nom = model.nomogram()
        (want,), pts, lim = _expected_single(model, nom, row[factors])
        p = model.predict_proba(row[factors])[0, 1]
        want["probability"] = p
        want["probability_lower"] = lim[f"{nom.outcome_labels[0]} lower"].iloc[0]
        want["probability_upper"] = lim[f"{nom.outcome_labels[0]} upper"].iloc[0]
        cut = group.cutoffs_[key]
        want["risk_group"] = None if cut is None else ("high" if p >= cut else "low")
        got = page.enter({f: _as_text(row[f].iloc[0]) for f in factors}, model_choice=str(row["cancer_type"].iloc[0]),
                         selector="cancer_type")
        assert sorted(got["__names__"]) == sorted(factors), key
        _compare("group", got, want)
        assert got["__extrapolated__"] == ("true" if _outside(model, row[factors])[0] else "false")
    # on the training rows themselves the page's risk group and probability are the group's
    for i in range(10):
        row = sample.iloc[i]
        factors = list(group.models_[keys.iloc[i]].design_.predictors)
        got = page.enter({f: _as_text(row[f]) for f in factors}, model_choice=str(row["cancer_type"]),
                         selector="cancer_type")
        assert abs(float(got["probability"]) - proba[i]) <= ATOL
        assert got["risk_group"] == (risk.iloc[i] or "")
    _assert_offline(page, html.read_text(encoding="utf-8"))
    _screenshot(page, "calculator_group")


def test_page_holds_coefficients_only(group_page, cox_page):
    """No training row is in the file: the continuous values of patients never appear."""
    group, X, _, html = group_page
    text = html.read_text(encoding="utf-8")
    # the model's own parameters may coincide with a patient's value (a knot or a median is a quantile
    # of the data, as in rms); anything else in the page would have to be a copied row
    params = set()
    for m in group.models_.values():
        for term in m.design_.terms:
            params |= {float(v) for v in (term.knots or []) + [term.low, term.high]
                       if isinstance(v, (int, float))}
            if isinstance(term.adjust, (int, float)):
                params.add(float(term.adjust))
    checked = 0
    for col in ("age", "psa", "cea"):
        values = X[col].to_numpy(dtype=float)
        # values with many digits, so that a match cannot be chance
        inner = [v for v in values if float(v) not in params
                 and len(repr(float(v)).replace(".", "").strip("-0")) >= 8][:300]
        found = [v for v in inner if repr(float(v)) in text]
        assert found == [], (col, found[:5])
        checked += len(inner)
    assert checked >= 300
    data = json.loads(re.search(r'<script type="application/json" id="nomofuse-data">(.*?)</script>', text,
                                re.S).group(1).replace("<\\/", "</"))
    assert set(data) == {"format", "version", "title", "conf_level", "z", "selector", "models"}
    for entry in data["models"].values():
        assert set(entry) == {"spec", "title", "note", "outcomes", "risk_groups", "chart"}
        assert entry["spec"]["format"] == "nomofuse.nomogram.NomogramSpec"


def test_keyboard_only_entry_and_out_of_range_flag(logistic_page):
    """Tab into the form, type a value, pick a level with the arrow keys; an age of 95 is flagged."""
    model, X, page, _ = logistic_page
    pg = page.page
    pg.evaluate("document.activeElement && document.activeElement.blur()")
    pg.focus("body")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.name") == "age"
    pg.keyboard.press("Control+A")
    pg.keyboard.type("95")
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.name") == "tsize"
    pg.keyboard.press("Control+A")
    pg.keyboard.type("30")
    for _ in range(2):
        pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.name") == "tgrade"
    pg.keyboard.press("ArrowDown")
    values = pg.evaluate("Object.fromEntries(Array.from(document.querySelectorAll('#inputs [name]'))"
                         ".map(e => [e.name, e.value]))")
    patient = pd.DataFrame([{k: (float(v) if k not in ("tgrade", "horTh", "menostat") else v)
                             for k, v in values.items()}])[list(X.columns)]
    assert patient["age"].iloc[0] == 95.0 and patient["tgrade"].iloc[0] != "I"
    got = float(pg.get_attribute('[data-output="probability"]', "data-value"))
    assert abs(got - model.predict_proba(patient)[0, 1]) <= ATOL
    assert pg.get_attribute('[name="age"]', "aria-invalid") == "true"
    assert "training range" in pg.text_content("#status")
    assert pg.get_attribute("#results", "data-extrapolated") == "true"
    assert pg.get_attribute('[data-output="points_age"]', "data-extrapolated") == "true"
    # the chart marks the patient: one ring per predictor axis of the patient's level, and the bottom axes
    rings = pg.eval_on_selector_all('.chart:not([hidden]) #patient-overlay circle', "els => els.length")
    assert rings == len(model.design_.predictors) - 1 + 3  # horTh is folded into age; total, LP, risk


def test_phone_width_is_one_column(browser, logistic_page):
    _, _, _, html = logistic_page
    phone = Page(browser, html, width=390)
    try:
        pg = phone.page
        form = pg.eval_on_selector("#inputs-form", "e => e.getBoundingClientRect().toJSON()")
        results = pg.eval_on_selector("#results", "e => e.getBoundingClientRect().toJSON()")
        assert results["top"] >= form["bottom"] - 1  # stacked, not side by side
        assert pg.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # no sideways page scroll
        font = pg.eval_on_selector('[name="age"]', "e => parseFloat(getComputedStyle(e).fontSize)")
        assert font >= 16  # phones do not zoom into inputs of 16 px
        _screenshot(phone, "calculator_logistic_phone")
        assert phone.requests == [phone.url]
    finally:
        phone.close()
