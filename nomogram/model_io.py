"""Versioned JSON files for fitted nomogram models (no pickle).

Format ``nomofuse-model``, version 1. One JSON object:

=========================  ===============================================================
key                        content
=========================  ===============================================================
``format``                 ``"nomofuse-model"``
``format_version``         ``1``
``nomofuse_version``       version that wrote the file (information only)
``model_type``             ``"LogisticNomogram"`` or ``"CoxNomogram"``
``params``                 constructor parameters (``splines``, ``categorical``, ...)
``design``                 one entry per predictor: ``name``, ``kind`` (``linear``,
                           ``rcs``, ``categorical``), design ``columns``, ``knots``,
                           ``levels`` (first = reference), datadist ``adjust``, ``low``,
                           ``high``, ``values``; ``interaction`` and its columns
``coefficients``           ``{"names": [...], "values": [...]}`` in design order
                           (``Intercept`` first for logistic models)
``covariance``             matrix, rows and columns in coefficient order
``statistics``             model statistics (``stats_``)
``linear_predictor_range`` smallest and largest training linear predictor
``loglik``                 null and fitted log-likelihood
``cox``                    Cox models only: ``center``, ``means``, ``max_time``,
                           ``baseline_survival`` ``{"time": [...], "survival": [...]}`` and
                           ``baseline_hazard_variance`` ``{"V0": [...], "A": [[...]]}``
                           (for ``survest`` standard errors)
``nomogram``               the default nomogram's axes (for reading; the loaded model
                           recomputes them)
=========================  ===============================================================

Floats are written with ``repr`` precision, so predictions after a round trip
are bit-identical.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .checks import check_is_fitted
from ._design import Design
from .exceptions import ModelFileError

__all__ = ["FORMAT", "FORMAT_VERSION", "save_model", "load_model", "model_to_dict", "model_from_dict"]

FORMAT = "nomofuse-model"
FORMAT_VERSION = 1


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("nomofuse")
    except Exception:  # not installed (running from a checkout)
        return "unknown"


def _floats(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=float).ravel()]


def model_to_dict(model) -> dict:
    """The JSON-ready dictionary of a fitted model (see the module docstring)."""
    from .cox import CoxNomogram
    from .logistic import LogisticNomogram

    if not isinstance(model, (LogisticNomogram, CoxNomogram)):
        raise TypeError(f"save_model expects a LogisticNomogram or CoxNomogram; got {type(model).__name__}.")
    check_is_fitted(model, "coef_")
    params = model.get_params()
    if params.get("interaction") is not None:
        params["interaction"] = list(params["interaction"])
    if params.get("times") is not None:
        params["times"] = _floats(params["times"])
    out = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "nomofuse_version": _version(),
        "model_type": type(model).__name__,
        "params": params,
        "design": model.design_.to_dict(),
        "coefficients": {"names": list(model.coef_.index), "values": _floats(model.coef_)},
        "covariance": np.asarray(model.cov_, dtype=float).tolist(),
        "statistics": {k: float(v) for k, v in model.stats_.items()},
        "linear_predictor_range": list(model.linear_predictor_range_),
        "loglik": list(map(float, model.loglik_)),
    }
    if isinstance(model, CoxNomogram):
        out["cox"] = {
            "center": float(model.center_),
            "means": _floats(model.means_),
            "max_time": float(model.max_time_),
            "baseline_survival": {
                "time": _floats(model.baseline_survival_["time"]),
                "survival": _floats(model.baseline_survival_["survival"]),
            },
            "baseline_hazard_variance": {
                "V0": _floats(model.baseline_hazard_variance_["V0"]),
                "A": np.asarray(model.baseline_hazard_variance_.iloc[:, 1:], dtype=float).tolist(),
            },
        }
    try:
        out["nomogram"] = model.nomogram().to_dict()
    except ValueError:
        out["nomogram"] = None
    return out


def save_model(model, path) -> Path:
    """Write a fitted model to ``path`` as JSON; returns the path."""
    path = Path(path)
    data = model_to_dict(model)
    text = json.dumps(data, indent=1, allow_nan=False)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def load_model(path):
    """Read a model written by :func:`save_model` / ``model.to_json``.

    Raises
    ------
    ModelFileError
        The file is not JSON, not a nomofuse model, of an unknown version, or
        internally inconsistent (names, shapes, non-finite numbers, an invalid
        baseline survival); the message names the file and the field.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_model: no file at '{path}'.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ModelFileError(f"'{path}' is not valid JSON ({err}).") from err
    return model_from_dict(data, source=str(path))


def model_from_dict(data: dict, source: str = "<dict>"):
    """Rebuild a fitted model from :func:`model_to_dict` output, validating it."""
    from .cox import CoxNomogram
    from .logistic import LogisticNomogram

    def fail(msg):
        raise ModelFileError(f"'{source}': {msg}")

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        fail(f"not a nomofuse model file (expected \"format\": \"{FORMAT}\").")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        fail(f"format_version {version!r} is not supported by this nomofuse (reads {FORMAT_VERSION}); "
             "upgrade nomofuse or re-export the model.")
    classes = {"LogisticNomogram": LogisticNomogram, "CoxNomogram": CoxNomogram}
    mtype = data.get("model_type")
    if mtype not in classes:
        fail(f"model_type must be one of {sorted(classes)}; got {mtype!r}.")
    for key in ("params", "design", "coefficients", "covariance", "statistics", "linear_predictor_range", "loglik"):
        if key not in data:
            fail(f"required field '{key}' is missing.")
    params = dict(data["params"])
    if params.get("interaction") is not None:
        params["interaction"] = tuple(params["interaction"])
    try:
        model = classes[mtype](**params)
    except TypeError as err:
        fail(f"'params' do not fit {mtype}: {err}.")
    try:
        design = Design.from_dict(data["design"])
    except (KeyError, TypeError) as err:
        fail(f"'design' is malformed: {err}.")
    names = data["coefficients"].get("names")
    values = data["coefficients"].get("values")
    expected = (["Intercept"] if mtype == "LogisticNomogram" else []) + design.column_names
    if names != expected:
        fail(f"coefficient names {names} do not match the design's columns {expected}.")
    if not isinstance(values, list) or len(values) != len(names):
        fail(f"'coefficients.values' must have {len(names)} numbers.")
    coef = np.asarray(values, dtype=float)
    if not np.isfinite(coef).all():
        fail("coefficients must be finite numbers.")
    cov = np.asarray(data["covariance"], dtype=float)
    if cov.shape != (len(names), len(names)) or not np.isfinite(cov).all():
        fail(f"'covariance' must be a finite {len(names)}x{len(names)} matrix; got shape {cov.shape}.")
    for term in design.terms:
        if term.kind == "rcs" and (term.knots is None or len(term.knots) != len(term.columns) + 1
                                   or any(np.diff(term.knots) <= 0)):
            fail(f"predictor '{term.name}': knots must be {len(term.columns) + 1} increasing numbers.")
        if term.kind == "categorical" and (not term.levels or len(term.levels) != len(term.columns) + 1):
            fail(f"predictor '{term.name}': levels must list {len(term.columns) + 1} levels.")
    model.design_ = design
    model.coef_ = pd.Series(coef, index=names)
    model.cov_ = pd.DataFrame(cov, index=names, columns=names)
    model.stats_ = pd.Series(data["statistics"], dtype=float)
    lo, hi = data["linear_predictor_range"]
    model.linear_predictor_range_ = (float(lo), float(hi))
    model.loglik_ = tuple(float(v) for v in data["loglik"])
    if mtype == "CoxNomogram":
        cox = data.get("cox")
        if not isinstance(cox, dict):
            fail("Cox model without the 'cox' field (center, means, baseline_survival).")
        bs = cox.get("baseline_survival") or {}
        t = np.asarray(bs.get("time", []), dtype=float)
        s = np.asarray(bs.get("survival", []), dtype=float)
        if len(t) == 0 or len(t) != len(s):
            fail("'cox.baseline_survival' needs 'time' and 'survival' of equal, non-zero length.")
        if np.any(np.diff(t) <= 0) or np.any(np.diff(s) > 1e-12) or s.min() < 0 or s.max() > 1:
            fail("'cox.baseline_survival' must have increasing times and non-increasing survival in [0, 1].")
        means = np.asarray(cox.get("means", []), dtype=float)
        if len(means) != len(names):
            fail(f"'cox.means' must have {len(names)} values.")
        center = float(cox["center"])
        if not math.isclose(center, float(means @ coef), rel_tol=1e-9, abs_tol=1e-12):
            fail("'cox.center' is not means @ coefficients; the file was edited inconsistently.")
        model.means_ = pd.Series(means, index=names)
        model.center_ = center
        model.max_time_ = float(cox["max_time"])
        model.baseline_survival_ = pd.DataFrame({"time": t, "survival": s})
        bhv = cox.get("baseline_hazard_variance") or {}
        V0 = np.asarray(bhv.get("V0", []), dtype=float)
        A = np.asarray(bhv.get("A", []), dtype=float)
        if V0.shape != t.shape or A.shape != (len(t), len(names)) or not np.isfinite(A).all():
            fail(f"'cox.baseline_hazard_variance' needs V0 ({len(t)} values) and A ({len(t)}x{len(names)}).")
        model.baseline_hazard_variance_ = pd.DataFrame(
            np.column_stack([V0, A]), columns=["V0"] + [f"A[{c}]" for c in names]
        )
    return model
