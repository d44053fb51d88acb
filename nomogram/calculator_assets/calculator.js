/* nomofuse web calculator: evaluates a nomogram specification (nomofuse.nomogram.NomogramSpec v1)
 * in the browser, with no network access. Everything it needs is in the page's JSON payload
 * (script#nomofuse-data): the model's coefficients, spline knots, factor levels, points scale,
 * outcome mappings, the coefficients' covariance for confidence intervals, risk-group cut-offs
 * and the chart (an SVG) with the coordinates needed to mark a patient on it.
 *
 * DOM contract (kept stable for tests and other programs):
 *   - one form control per predictor, whose name is the predictor's name (a group's model
 *     selector is named after the group's routing column);
 *   - each output carries data-output="total_points" | "linear_predictor" | "probability" |
 *     "survival_<time>" | "points_<predictor>" (and "<output>_lower" / "<output>_upper" for
 *     confidence limits, "risk_group"), the full-precision number in data-value beside the
 *     rounded text (data-value is "" when the inputs are incomplete).
 * The formulas are those of nomogram/points.py (module docstring).
 */
(function () {
  "use strict";

  var payload = JSON.parse(document.getElementById("nomofuse-data").textContent);
  var state = {};          // predictor name -> raw input text
  var currentKey = null;   // key of the model in use
  var SVGNS = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------------ the model's arithmetic
  function rcsBasis(x, t) {
    var k = t.length;
    var kd = Math.pow(t[k - 1] - t[0], 2.0 / 3.0);
    var out = [x];
    var tailK = Math.pow(Math.max((x - t[k - 1]) / kd, 0.0), 3);
    var tailK1 = Math.pow(Math.max((x - t[k - 2]) / kd, 0.0), 3);
    for (var j = 0; j < k - 2; j++) {
      out.push(Math.pow(Math.max((x - t[j]) / kd, 0.0), 3) +
               ((t[k - 2] - t[j]) * tailK - (t[k - 1] - t[j]) * tailK1) / (t[k - 1] - t[k - 2]));
    }
    return out;
  }

  function basis(pred, value) {
    if (pred.type === "categorical") {
      var idx = levelIndex(pred, value);
      var out = [];
      for (var i = 1; i < pred.levels.length; i++) out.push(i === idx ? 1.0 : 0.0);
      return out;
    }
    if (pred.type === "linear") return [value];
    return rcsBasis(value, pred.knots);
  }

  function dot(a, b) {
    var s = 0.0;
    for (var i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  function levelIndex(pred, value) {
    for (var i = 0; i < pred.levels.length; i++) if (String(pred.levels[i]) === String(value)) return i;
    return -1;
  }

  function predictorsByName(spec) {
    var m = {};
    spec.predictors.forEach(function (p) { m[p.name] = p; });
    return m;
  }

  // the interactions of a spec: version 1 has one ("interaction"), version 2 a list ("interactions")
  function interactionsOf(spec) {
    if (spec.interactions) return spec.interactions;
    return spec.interaction ? [spec.interaction] : [];
  }

  // the predictors folded into a points column: version 1 "partner" (or null), version 2 "partners"
  function partnersOf(col) {
    if (col.partners) return col.partners;
    return col.partner ? [col.partner] : [];
  }

  // products of the two bases of an interaction, in its column order (first predictor fastest)
  function interactionRow(inter, ba, bb) {
    var out = [];
    for (var k = 0; k < inter.columns.length; k++) out.push(ba[k % ba.length] * bb[Math.floor(k / ba.length)]);
    return out;
  }

  // points of every column, total points, LP and outcomes (nomogram/points.py module docstring)
  function evaluate(spec, values) {
    var preds = predictorsByName(spec);
    var sc = spec.points_per_unit;
    var res = {points: {}, total: 0.0};
    spec.points.forEach(function (col) {
      var name = col.predictor, partners = partnersOf(col);
      if (partners.length === 0 && col.level_points) {
        var lp = null;
        col.level_points.forEach(function (pair) { if (String(pair[0]) === String(values[name])) lp = pair[1]; });
        res.points[name] = lp;
        return;
      }
      var bases = {};
      bases[name] = basis(preds[name], values[name]);
      partners.forEach(function (p) { bases[p] = basis(preds[p], values[p]); });
      var xb = 0.0;
      Object.keys(bases).forEach(function (v) { xb += dot(bases[v], preds[v].coef); });
      interactionsOf(spec).forEach(function (inter) {
        var a = inter.predictors[0], b = inter.predictors[1];
        if (bases[a] && bases[b]) xb += dot(interactionRow(inter, bases[a], bases[b]), inter.coef);
      });
      res.points[name] = (xb - col.offset) * sc;
    });
    spec.points.forEach(function (col) { res.total += res.points[col.predictor]; });
    res.lp = spec.intercept + res.total / sc;
    res.outcomes = spec.outcomes.map(function (o) {
      var v;
      if (o.type === "logistic") v = 1.0 / (1.0 + Math.exp(-res.lp));
      else v = o.baseline_survival === null ? NaN : Math.pow(o.baseline_survival, Math.exp(res.lp));
      return v;
    });
    return res;
  }

  // the patient's design row in the covariance's column order (intercept 1, Cox: minus the means)
  function designRow(spec, values) {
    var cols = {};
    spec.predictors.forEach(function (p) {
      var b = basis(p, values[p.name]);
      p.columns.forEach(function (c, i) { cols[c] = b[i]; });
    });
    var preds = predictorsByName(spec);
    interactionsOf(spec).forEach(function (inter) {
      var ba = basis(preds[inter.predictors[0]], values[inter.predictors[0]]);
      var bb = basis(preds[inter.predictors[1]], values[inter.predictors[1]]);
      var row = interactionRow(inter, ba, bb);
      inter.columns.forEach(function (c, k) { cols[c] = row[k]; });
    });
    var v = spec.variance;
    return v.columns.map(function (c, i) {
      var x = c === "Intercept" ? 1.0 : cols[c];
      return v.center === null ? x : x - v.center[i];
    });
  }

  function quad(z, V) {
    var s = 0.0;
    for (var i = 0; i < z.length; i++) {
      var r = 0.0;
      for (var j = 0; j < z.length; j++) r += V[i][j] * z[j];
      s += z[i] * r;
    }
    return s;
  }

  // confidence limits (Nomogram.confidence_limits: rms predict se.fit / survest conf.type "log")
  function limits(spec, values, res, zcrit) {
    if (!spec.variance) return null;
    var z = designRow(spec, values), V = spec.variance.covariance;
    var se = Math.sqrt(quad(z, V));
    var out = {se: se, outcomes: []};
    spec.outcomes.forEach(function (o, i) {
      if (o.type === "logistic") {
        out.outcomes.push([1.0 / (1.0 + Math.exp(-(res.lp - zcrit * se))),
                           1.0 / (1.0 + Math.exp(-(res.lp + zcrit * se)))]);
      } else if (o.hazard_variance !== undefined && o.hazard_variance !== null && o.baseline_survival !== null) {
        var H = -Math.log(o.baseline_survival);
        var q = z.map(function (zi, j) { return H * zi - o.hazard_covariance[j]; });
        var seH = Math.exp(res.lp) * Math.sqrt(o.hazard_variance + quad(q, V));
        var s = res.outcomes[i];
        out.outcomes.push([s * Math.exp(-zcrit * seH), Math.min(1.0, s * Math.exp(zcrit * seH))]);
      } else {
        out.outcomes.push(null);
      }
    });
    return out;
  }

  // ------------------------------------------------------------------ page building
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmt(v, digits) {
    if (v === null || !isFinite(v)) return "\u2013";
    return Number(v).toFixed(digits);
  }

  function model() { return payload.models[currentKey]; }

  function numericRange(p) { return p.range ? p.range : null; }

  // a range end as a reader wants it (the check itself uses the exact value)
  function short(v) { return String(Number(Number(v).toPrecision(6))); }

  function idFor(name) { return "in-" + name.replace(/[^A-Za-z0-9_-]/g, "_"); }

  function renderForm() {
    var m = model(), spec = m.spec;
    var form = document.getElementById("inputs");
    form.textContent = "";
    spec.predictors.forEach(function (p) {
      var row = el("div", {"class": "field"});
      var id = idFor(p.name);
      var label = el("label", {"for": id}, p.name);
      row.appendChild(label);
      var input;
      if (p.type === "categorical") {
        input = el("select", {id: id, name: p.name});
        p.levels.forEach(function (lev) { input.appendChild(el("option", {value: String(lev)}, String(lev))); });
        if (state[p.name] === undefined || levelIndex(p, state[p.name]) < 0) {
          state[p.name] = p.adjust !== undefined && p.adjust !== null ? String(p.adjust) : String(p.levels[0]);
        }
        input.value = state[p.name];
      } else {
        input = el("input", {id: id, name: p.name, type: "number", step: "any", inputmode: "decimal",
                             "aria-describedby": id + "-hint"});
        var r = numericRange(p);
        if (state[p.name] === undefined) state[p.name] = p.adjust !== undefined && p.adjust !== null ? String(p.adjust) : "";
        input.value = state[p.name];
        var hint = el("span", {id: id + "-hint", "class": "hint"},
                      r ? "training range " + short(r[0]) + " \u2013 " + short(r[1]) : "");
        row.appendChild(input);
        row.appendChild(hint);
        row.appendChild(el("span", {"class": "flag", id: id + "-flag", role: "status"}));
      }
      if (p.type === "categorical") row.appendChild(input);
      input.addEventListener("input", onInput);
      input.addEventListener("change", onInput);
      form.appendChild(row);
    });
  }

  function outputSpan(key, extra) {
    var attrs = {"data-output": key, "data-value": ""};
    Object.keys(extra || {}).forEach(function (k) { attrs[k] = extra[k]; });
    return el("span", attrs, "\u2013");
  }

  function renderOutputs() {
    var m = model(), spec = m.spec;
    var table = document.getElementById("points-table");
    table.textContent = "";
    var head = el("tr");
    head.appendChild(el("th", {scope: "col"}, "Predictor"));
    head.appendChild(el("th", {scope: "col"}, "Points"));
    table.appendChild(head);
    spec.points.forEach(function (col) {
      var tr = el("tr");
      var partners = partnersOf(col);
      var name = partners.length ? col.predictor + " (with " + partners.join(", ") + ")" : col.predictor;
      tr.appendChild(el("th", {scope: "row"}, name));
      var td = el("td");
      td.appendChild(outputSpan("points_" + col.predictor));
      tr.appendChild(td);
      table.appendChild(tr);
    });
    var tot = el("tr", {"class": "total"});
    tot.appendChild(el("th", {scope: "row"}, "Total points"));
    var td = el("td");
    td.appendChild(outputSpan("total_points"));
    tot.appendChild(td);
    table.appendChild(tot);
    var lpr = el("tr");
    lpr.appendChild(el("th", {scope: "row"}, "Linear predictor"));
    td = el("td");
    td.appendChild(outputSpan("linear_predictor"));
    if (spec.variance) {
      td.appendChild(document.createTextNode(" (SE "));
      td.appendChild(outputSpan("linear_predictor_se"));
      td.appendChild(document.createTextNode(")"));
    }
    lpr.appendChild(td);
    table.appendChild(lpr);

    var box = document.getElementById("outcomes");
    box.textContent = "";
    m.outcomes.forEach(function (o) {
      var card = el("div", {"class": "outcome"});
      card.appendChild(el("div", {"class": "outcome-label"}, o.label));
      var val = el("div", {"class": "outcome-value"});
      val.appendChild(outputSpan(o.key));
      card.appendChild(val);
      if (spec.variance) {
        var ci = el("div", {"class": "outcome-ci"});
        ci.appendChild(document.createTextNode(Math.round(payload.conf_level * 100) + "% CI "));
        ci.appendChild(outputSpan(o.key + "_lower"));
        ci.appendChild(document.createTextNode(" \u2013 "));
        ci.appendChild(outputSpan(o.key + "_upper"));
        card.appendChild(ci);
      }
      box.appendChild(card);
    });
    var risk = document.getElementById("risk");
    risk.textContent = "";
    if (m.risk_groups) {
      risk.appendChild(document.createTextNode("Risk group: "));
      risk.appendChild(outputSpan("risk_group"));
      risk.appendChild(el("span", {"class": "hint"}, " (" + m.risk_groups.description + ")"));
    }
    document.getElementById("model-title").textContent = payload.selector ? m.title : "Prediction";
    document.getElementById("model-note").textContent = m.note || "";
    var charts = document.querySelectorAll(".chart");
    for (var i = 0; i < charts.length; i++) charts[i].hidden = charts[i].getAttribute("data-model") !== currentKey;
  }

  function setOutput(key, value, digits, asPercent) {
    var nodes = document.querySelectorAll('[data-output="' + key + '"]');
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      if (value === null || value === undefined || (typeof value === "number" && !isFinite(value))) {
        n.setAttribute("data-value", "");
        n.textContent = "\u2013";
      } else if (typeof value === "string") {
        n.setAttribute("data-value", value);
        n.textContent = value;
      } else {
        n.setAttribute("data-value", String(value));
        n.textContent = asPercent ? fmt(100 * value, digits) + "%" : fmt(value, digits);
      }
    }
  }

  // ------------------------------------------------------------------ reading the inputs
  function readValues() {
    var spec = model().spec, values = {}, missing = [], flagged = [];
    spec.predictors.forEach(function (p) {
      var raw = state[p.name];
      if (p.type === "categorical") {
        if (levelIndex(p, raw) < 0) missing.push(p.name);
        values[p.name] = raw;
        return;
      }
      var text = raw === undefined ? "" : String(raw).trim();
      var v = text === "" ? NaN : Number(text);
      if (!isFinite(v)) { missing.push(p.name); return; }
      values[p.name] = v;
      var r = numericRange(p);
      if (r && (v < r[0] || v > r[1])) flagged.push(p.name);
    });
    return {values: values, missing: missing, flagged: flagged};
  }

  function showFlags(read) {
    var spec = model().spec;
    spec.predictors.forEach(function (p) {
      if (p.type === "categorical") return;
      var input = document.getElementById(idFor(p.name));
      var flag = document.getElementById(idFor(p.name) + "-flag");
      var isOut = read.flagged.indexOf(p.name) >= 0, isMissing = read.missing.indexOf(p.name) >= 0;
      input.setAttribute("aria-invalid", isOut || isMissing ? "true" : "false");
      input.classList.toggle("out-of-range", isOut);
      var r = numericRange(p);
      flag.textContent = isOut ? "Outside the training range (" + short(r[0]) + " \u2013 " + short(r[1]) +
                                 "): the prediction extrapolates." : (isMissing ? "Enter a number." : "");
    });
    var banner = document.getElementById("status");
    var results = document.getElementById("results");
    results.setAttribute("data-extrapolated", read.flagged.length ? "true" : "false");
    results.setAttribute("data-complete", read.missing.length ? "false" : "true");
    if (read.missing.length) {
      banner.textContent = "Missing or invalid: " + read.missing.join(", ") + ".";
      banner.className = "status warn";
    } else if (read.flagged.length) {
      banner.textContent = "Outside the training range: " + read.flagged.join(", ") +
        ". The model was not fitted on such values; the result is an extrapolation.";
      banner.className = "status warn";
    } else {
      banner.textContent = "";
      banner.className = "status";
    }
  }

  function update() {
    var m = model(), spec = m.spec;
    var read = readValues();
    showFlags(read);
    var complete = read.missing.length === 0;
    var res = complete ? evaluate(spec, read.values) : null;
    var lim = complete ? limits(spec, read.values, res, payload.z) : null;
    spec.points.forEach(function (col) {
      setOutput("points_" + col.predictor, res ? res.points[col.predictor] : null, 1);
      var nodes = document.querySelectorAll('[data-output="points_' + col.predictor + '"]');
      for (var i = 0; i < nodes.length; i++) {
        var out = read.flagged.indexOf(col.predictor) >= 0 ||
                  partnersOf(col).some(function (p) { return read.flagged.indexOf(p) >= 0; });
        nodes[i].setAttribute("data-extrapolated", out ? "true" : "false");
      }
    });
    setOutput("total_points", res ? res.total : null, 1);
    setOutput("linear_predictor", res ? res.lp : null, 3);
    setOutput("linear_predictor_se", lim ? lim.se : null, 3);
    m.outcomes.forEach(function (o, i) {
      setOutput(o.key, res ? res.outcomes[i] : null, 1, true);
      var ci = lim && lim.outcomes[i] ? lim.outcomes[i] : [null, null];
      setOutput(o.key + "_lower", ci[0], 1, true);
      setOutput(o.key + "_upper", ci[1], 1, true);
    });
    if (m.risk_groups) {
      var g = null;
      if (res) {
        var rg = m.risk_groups;
        var x = rg.on === "probability" ? res.outcomes[0] : rg.on === "total_points" ? res.total : res.lp;
        g = rg.labels[0];
        rg.cutoffs.forEach(function (c, i) { if (x >= c) g = rg.labels[i + 1]; });
      }
      setOutput("risk_group", g);
    }
    drawPatient(res, read);
  }

  // ------------------------------------------------------------------ the chart
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function drawPatient(res, read) {
    var m = model();
    var holder = document.querySelector('.chart[data-model="' + currentKey + '"] svg');
    if (!holder || !m.chart) return;
    var old = holder.querySelector("#patient-overlay");
    if (old) old.parentNode.removeChild(old);
    if (!res) return;
    var c = m.chart, g = svgEl("g", {id: "patient-overlay"});
    var color = "#b2182b";
    function ring(x, y, off) {
      g.appendChild(svgEl("circle", {cx: x, cy: y, r: 4.2, fill: "none", stroke: color, "stroke-width": 1.3,
                                     "data-role": off ? "patient-off-axis" : "patient-marker"}));
    }
    function guide(x, y0, y1) {
      g.appendChild(svgEl("line", {x1: x, y1: y0, x2: x, y2: y1, stroke: color, "stroke-width": 0.8,
                                   "stroke-dasharray": "3 2", opacity: 0.75}));
    }
    c.rows.forEach(function (row) {
      var v = read.values[row.predictor];
      var ok = true;
      Object.keys(row.condition).forEach(function (k) {
        if (String(read.values[k]) !== String(row.condition[k])) ok = false;
      });
      if (!ok || res.points[row.predictor] === undefined || res.points[row.predictor] === null) return;
      var b = row.branches[0];
      if (row.branches.length > 1 && typeof v === "number") {
        var inside = row.branches.filter(function (br) { return br.lo <= v && v <= br.hi; });
        b = inside.length ? inside[0] : (v < row.branches[0].lo ? row.branches[0] : row.branches[row.branches.length - 1]);
      }
      var x = c.x0 + c.dx * res.points[row.predictor];
      guide(x, b.y - 4.2, c.ruler_y);
      ring(x, b.y, false);
    });
    var xt = c.x0 + c.dx * c.to_x_bottom * res.total;
    if (c.bottom.length) {
      guide(xt, c.bottom[0].y, c.bottom[c.bottom.length - 1].y);
      c.bottom.forEach(function (r) {
        var off = xt < r.x_min - 0.01 || xt > r.x_max + 0.01;
        ring(xt, r.y, off);
      });
    }
    holder.appendChild(g);
  }

  // ------------------------------------------------------------------ events
  function onInput(ev) {
    state[ev.target.name] = ev.target.value;
    update();
  }

  function selectModel(key) {
    currentKey = key;
    renderForm();
    renderOutputs();
    update();
  }

  function init() {
    var sel = document.getElementById("model-select");
    if (payload.selector) {
      payload.selector.options.forEach(function (o) {
        sel.appendChild(el("option", {value: o.value, "data-model": o.model}, o.value));
      });
      sel.addEventListener("change", function () {
        var opt = sel.options[sel.selectedIndex];
        selectModel(opt.getAttribute("data-model"));
      });
      selectModel(payload.selector.options[0].model);
    } else {
      document.getElementById("selector").hidden = true;
      selectModel(Object.keys(payload.models)[0]);
    }
    document.body.setAttribute("data-ready", "true");
  }

  // a hook for tests and other programs: the same arithmetic the page shows
  window.nomofuse = {payload: payload, evaluate: evaluate, limits: limits, update: update};
  init();
})();
