"""The study file: one YAML file that describes a whole nomogram study.

A study file names the clinical table and the outcome, the optional cancer-type
column (one nomogram per cancer type), the scans and slides with how features
are extracted from them, how patients are split, which clinical factors are
candidates and how they are selected, the labels (per-modality scores), the
models to compare and how they are validated. :func:`load_study` reads and
checks it and returns a :class:`StudyConfig` with every default filled in.

Every problem in the file is reported at once, each with the line, the key
path, the value received and what is allowed; an unknown key is an error with
the closest allowed key::

    StudyFileError: study.yaml has 2 problems:
      study.yaml, line 7: 'outcome.type' must be one of {'binary', 'survival'}. Got 'binar' instead. Did you mean 'binary'?
      study.yaml, line 12: unknown key 'split' at the top level. Did you mean 'splits'? Allowed keys: ...

The schema (every key, its type, default and meaning) is printed by
:func:`schema_reference`; documented examples of the three study designs the
project serves are in ``fusion/study/examples/`` (:func:`example_path`).

Examples
--------
>>> from fusion.study import example_path, load_study
>>> cfg = load_study(example_path("bone_metastasis"), check_files=False)
>>> cfg.outcome.type
'binary'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path

from ._schema import Field, NamedSections, Problems, Section, key_lines, suggestion, validate

__all__ = [
    "StudyConfig",
    "StudyFileError",
    "Settings",
    "load_study",
    "parse_study",
    "example_path",
    "EXAMPLES",
    "schema_reference",
    "region_spec",
]

#: Documented example study files shipped with the package (name -> design).
EXAMPLES = {
    "bone_metastasis": "binary bone-metastasis screening by cancer type, imaging + pathology labels "
                       "and early fusion (seed 004)",
    "seed_soil_survival": "time to brain metastasis with seed (primary lesion) + soil (target organ) "
                          "radiomics and Kaplan-Meier risk groups (seed 000)",
    "occult_lymph_node": "occult lymph-node metastasis with habitat radiomics and an external "
                         "centre (seed 002)",
}

RADIOMICS_PRESETS = ("CT", "MR", "PET")
LABEL_METHODS = ("lasso", "xgboost", "early_fusion")
LABEL_SOURCES = ("imaging", "pathology")
SELECTION_METHODS = ("univariable_then_backward", "backward", "none")
CUTOFF_RULES = ("median", "maxstat", "youden")
TIME_UNITS = ("days", "weeks", "months", "years")
AGGREGATES = ("max", "mean", "largest")
POOLINGS = ("mean", "max", "attention")


class StudyFileError(ValueError):
    """A study file cannot be read or breaks the schema.

    ``problems`` holds one line per problem (the lines of the message).
    """

    def __init__(self, message: str, problems=()):
        super().__init__(message)
        self.problems = list(problems)


# ----------------------------------------------------------------------------------------
# Region names: lesion, ringN (N mm), soil, habitats
# ----------------------------------------------------------------------------------------
_RING = re.compile(r"ring(\d+(?:\.\d+)?)(?:mm)?")


def region_spec(name: str) -> tuple[str, float | None]:
    """``"ring5"`` -> ``("ring", 5.0)``; ``"lesion"`` -> ``("lesion", None)``.

    Raises ``ValueError`` for a name that is none of lesion, ringN, soil, habitats.
    """
    m = _RING.fullmatch(name)
    if m:
        return "ring", float(m.group(1))
    if name in ("lesion", "soil", "habitats"):
        return name, None
    raise ValueError(name)


def _region_check(value) -> str | None:
    bad = []
    for r in value:
        try:
            region_spec(r)
        except ValueError:
            bad.append(r)
    if bad:
        hint = suggestion(bad[0], ["lesion", "soil", "habitats", "ring5"]).strip()
        return ("a list of regions from lesion, ringN (a peritumoral ring of N mm, e.g. ring5), "
                f"soil (needs an organ_mask column) and habitats; {bad} "
                f"{'is' if len(bad) == 1 else 'are'} none of these" + (f" ({hint})" if hint else ""))
    return None


def _params_check(value) -> str | None:
    if isinstance(value, Mapping):
        allowed = {"imageType", "featureClass", "setting", "voxelSetting"}
        extra = [k for k in value if k not in allowed]
        if extra:
            return (f"a pyradiomics parameter mapping with keys from {sorted(allowed)} "
                    f"(unknown: {extra})")
        return None
    return None


def _cutoff_check(value) -> str | None:
    if isinstance(value, bool):
        return "one of " + ", ".join(repr(c) for c in CUTOFF_RULES) + " or a number"
    if isinstance(value, str) and value not in CUTOFF_RULES:
        return "one of " + ", ".join(repr(c) for c in CUTOFF_RULES) + " or a number"
    return None


def _name_check(name: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _+.\-]*", name):
        return ("letters, digits, spaces and _ + . - (starting with a letter or digit), "
                "since it names files and table rows")
    return None


# ----------------------------------------------------------------------------------------
# Cross-key rules
# ----------------------------------------------------------------------------------------
def _outcome_rule(out: dict, problems: Problems, path: tuple) -> None:
    kind = out.get("type")
    binary_keys = ("column", "event_level")
    survival_keys = ("time", "event", "time_unit", "horizons")
    if kind == "binary":
        if out.get("column") is None:
            problems.add(path, "'outcome.column' is required for a binary outcome (the column "
                               "holding 0/1, true/false or two text levels).")
        for k in survival_keys:
            if out.get(k) is not None:
                problems.add((*path, k), f"'outcome.{k}' is for a survival outcome; remove it or "
                                         "set outcome.type: survival.")
    elif kind == "survival":
        for k, what in (("time", "the follow-up time column"), ("event", "the 0/1 event column"),
                        ("time_unit", f"one of {list(TIME_UNITS)}"),
                        ("horizons", "the evaluation time(s), in the data's time unit")):
            if out.get(k) is None:
                problems.add(path, f"'outcome.{k}' is required for a survival outcome ({what}).")
        for k in binary_keys:
            if out.get(k) is not None:
                problems.add((*path, k), f"'outcome.{k}' is for a binary outcome; remove it or "
                                         "set outcome.type: binary.")


def _study_rule(cfg: dict, problems: Problems, path: tuple) -> None:
    """Rules that tie sections together (names that must refer to something defined)."""
    imaging, pathology = cfg.get("imaging"), cfg.get("pathology")
    factors = cfg.get("clinical_factors") or {}
    candidates = list(factors.get("candidates") or [])
    cancer = cfg.get("cancer_type")
    outcome = cfg.get("outcome") or {}

    for key in ("categorical", "shared"):
        for i, name in enumerate(factors.get(key) or []):
            if name not in candidates:
                problems.add(("clinical_factors", key, i),
                             f"'clinical_factors.{key}[{i}]' is {name!r}, which is not among "
                             f"clinical_factors.candidates {candidates}; add it there or remove it."
                             + suggestion(name, candidates))
    known = set(candidates) | set(cfg.get("labels") or {})
    for name in (factors.get("display_names") or {}):
        if name not in known:
            problems.add(("clinical_factors", "display_names", name),
                         f"'clinical_factors.display_names' names {name!r}, which is neither a "
                         f"candidate factor nor a label (known: {sorted(known)})." + suggestion(name, sorted(known)))
    for name in (factors.get("splines") or {}):
        if name not in candidates:
            problems.add(("clinical_factors", "splines", name),
                         f"'clinical_factors.splines' names {name!r}, which is not among "
                         f"clinical_factors.candidates {candidates}.")
        elif name in (factors.get("categorical") or []):
            problems.add(("clinical_factors", "splines", name),
                         f"'clinical_factors.splines' names {name!r}, which is categorical; a "
                         "spline needs a continuous factor.")
    specific = factors.get("specific")
    if isinstance(specific, Mapping):
        if cancer is None:
            problems.add(("clinical_factors", "specific"),
                         "'clinical_factors.specific' lists factors per cancer type, but the study "
                         "has no 'cancer_type' section; add one or set specific: none.")
        for ctype, names in specific.items():
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                problems.add(("clinical_factors", "specific", ctype),
                             f"'clinical_factors.specific.{ctype}' must be a list of factor names. "
                             f"Got {names!r} instead.")
                continue
            for n in names:
                if n not in candidates:
                    problems.add(("clinical_factors", "specific", ctype),
                                 f"'clinical_factors.specific.{ctype}' names {n!r}, which is not "
                                 f"among clinical_factors.candidates {candidates}.")
    elif isinstance(specific, str) and specific not in ("select", "none"):
        problems.add(("clinical_factors", "specific"),
                     "'clinical_factors.specific' must be 'select', 'none' or a mapping from "
                     f"cancer type to a list of factors. Got {specific!r} instead.")

    regions = list((imaging or {}).get("regions") or [])
    if imaging is not None and "soil" in regions:
        pass  # the organ_mask column is checked against the manifest at run time
    labels = cfg.get("labels") or {}
    for name, lab in labels.items():
        if not isinstance(lab, dict):
            continue
        src = lab.get("source") or []
        src = [src] if isinstance(src, str) else src
        where = ("labels", name)
        if "imaging" in src and imaging is None:
            problems.add((*where, "source"), f"label {name!r} uses imaging features but the study "
                                             "has no 'imaging' section; add one or change its source.")
        if "pathology" in src and pathology is None:
            problems.add((*where, "source"), f"label {name!r} uses pathology features but the study "
                                             "has no 'pathology' section; add one or change its source.")
        if lab.get("method") == "early_fusion":
            if sorted(src) != ["imaging", "pathology"]:
                problems.add((*where, "source"),
                             f"label {name!r} is an early-fusion network, which fuses imaging and "
                             "pathology: set source: [imaging, pathology].")
        elif len(src) != 1:
            problems.add((*where, "source"),
                         f"label {name!r} ({lab.get('method')}) scores one modality: set source to "
                         "imaging or pathology (early_fusion takes both).")
        if lab.get("output") not in (None, "fused") and lab.get("method") != "early_fusion":
            problems.add((*where, "output"), f"'labels.{name}.output' is for early_fusion labels; "
                                             "remove it.")
        for i, r in enumerate(lab.get("regions") or []):
            if "imaging" not in src:
                problems.add((*where, "regions"), f"'labels.{name}.regions' is for imaging labels; "
                                                  "remove it.")
                break
            if r not in regions:
                problems.add((*where, "regions", i),
                             f"'labels.{name}.regions[{i}]' is {r!r}, which is not among "
                             f"imaging.regions {regions}." + suggestion(r, regions))

    models = cfg.get("models") or {}
    for name, model in models.items():
        if not isinstance(model, dict):
            continue
        for i, lab in enumerate(model.get("labels") or []):
            if lab not in labels:
                problems.add(("models", name, "labels", i),
                             f"model {name!r} uses label {lab!r}, which is not defined under "
                             f"'labels' (defined: {list(labels)})." + suggestion(lab, labels))
        if not model.get("clinical", True) and not model.get("labels"):
            problems.add(("models", name), f"model {name!r} has no clinical factors and no "
                                           "labels; give it at least one of them.")
    validation = cfg.get("validation") or {}
    ref = validation.get("reference")
    if ref is not None and models and ref not in models:
        problems.add(("validation", "reference"),
                     f"'validation.reference' is {ref!r}, which is not a model (models: "
                     f"{list(models)})." + suggestion(ref, models))
    splits = cfg.get("splits") or {}
    for i, s in enumerate(splits.get("stratify") or []):
        if s == "cancer_type" and cancer is None:
            problems.add(("splits", "stratify", i),
                         "'splits.stratify' names cancer_type but the study has no 'cancer_type' "
                         "section.")
    if outcome.get("type") == "survival" and (validation.get("calibration") or {}).get("horizon") is not None:
        h = validation["calibration"]["horizon"]
        if h not in (outcome.get("horizons") or []):
            problems.add(("validation", "calibration", "horizon"),
                         f"'validation.calibration.horizon' is {h!r}, which is not among "
                         f"outcome.horizons {outcome.get('horizons')}.")


# ----------------------------------------------------------------------------------------
# The schema
# ----------------------------------------------------------------------------------------
SCHEMA = Section(
    doc="A nomogram study.",
    rule=_study_rule,
    fields={
        "name": Field("text", "the study's title (report heading)", required=True),
        "description": Field("text", "a paragraph shown at the top of the report", nullable=True),
        "clinical": Section(
            doc="The clinical table: one row per patient.",
            required=True,
            fields={
                "table": Field("path", "CSV (or Parquet) file, one row per patient", required=True),
                "patient_id": Field("text", "column holding the patient identifier", required=True),
                "exclude": Field("list", "exclusion rules, each {query: pandas query, reason: text}; "
                                 "patients matching a query are excluded with that reason",
                                 item="mapping", default=list),
            },
        ),
        "outcome": Section(
            doc="What is predicted.",
            required=True,
            rule=_outcome_rule,
            fields={
                "type": Field("text", "binary (an event yes/no) or survival (time to event)",
                              required=True, choices=("binary", "survival")),
                "name": Field("text", "how the report names the outcome, e.g. 'bone metastasis'",
                              nullable=True),
                "column": Field("text", "binary: the outcome column", nullable=True),
                "event_level": Field("any", "binary: the value of 'column' that means the event "
                                     "(default: 1, true, or the larger of two levels)",
                                     nullable=True),
                "time": Field("text", "survival: the follow-up time column", nullable=True),
                "event": Field("text", "survival: the event column (1 = event, 0 = censored)",
                               nullable=True),
                "time_unit": Field("text", "survival: unit of the time column", nullable=True,
                                   choices=TIME_UNITS),
                "horizons": Field("list", "survival: evaluation time(s) in the time unit, e.g. "
                                  "[12, 24, 36] months", item="number", low=0, low_open=True,
                                  min_items=1, nullable=True),
            },
        ),
        "cancer_type": Section(
            doc="Optional: the column that routes each patient to their cancer type's nomogram; "
                "without it the study fits one nomogram.",
            optional=True,
            fields={
                "column": Field("text", "column holding the cancer type", required=True),
                "min_events_per_df": Field("number", "fewest events per model degree of freedom a "
                                           "cancer type needs for its own nomogram", default=10,
                                           low=0, low_open=True),
                "small_types": Field("text", "a type with too few events: 'refuse' (stop with its "
                                     "event count) or 'merge' (pool such types into 'other')",
                                     default="refuse", choices=("refuse", "merge")),
            },
        ),
        "imaging": Section(
            doc="Optional: scans and masks, and how radiomics features are extracted.",
            optional=True,
            fields={
                "manifest": Field("path", "CSV with columns <patient id>, image, mask (+ organ_mask "
                                  "for soil, label, lesion_id for several lesions); paths relative "
                                  "to the manifest", required=True),
                "params": Field("text", "radiomics parameters: a preset (CT, MR, PET), a pyradiomics "
                                "YAML file, or a mapping with imageType/featureClass/setting",
                                default="CT", also=("mapping",), check=_params_check),
                "regions": Field("list", "regions described: lesion, ringN (N mm around the lesion), "
                                 "soil (organ minus lesion; needs organ_mask), habitats "
                                 "(intratumoral clusters fitted on the training split)",
                                 item="text", default=lambda: ["lesion"], min_items=1,
                                 check=_region_check),
                "habitats": Section(
                    doc="Habitat clustering (used when regions holds habitats).",
                    fields={
                        "n_habitats": Field("integer", "number of habitats; null: chosen by "
                                            "silhouette in k_range", nullable=True, low=2),
                        "k_range": Field("list", "range of habitat numbers tried", item="number",
                                         default=lambda: [2, 5], min_items=2),
                    },
                ),
                "aggregate": Field("text", "several lesions per patient: max, mean of each feature, "
                                   "or the largest lesion's", default="largest", choices=AGGREGATES),
                "harmonize": Section(
                    doc="ComBat harmonisation of features across a batch column (fitted on the "
                        "training split).",
                    optional=True,
                    fields={
                        "batch": Field("text", "clinical column naming the batch (scanner, centre)",
                                       required=True),
                        "covariates": Field("list", "clinical columns whose effect is kept",
                                            item="text", default=list),
                    },
                ),
            },
        ),
        "pathology": Section(
            doc="Optional: whole-slide images and how tile features are extracted.",
            optional=True,
            fields={
                "manifest": Field("path", "CSV with columns slide_id, path, <patient id> (+ mpp)",
                                  required=True),
                "encoder": Field("text", "registered encoder or timm model name", required=True),
                "weights": Field("text", "local weights file, or 'random' for a randomly "
                                 "initialised encoder (stated in the report)", required=True),
                "mpp": Field("number", "tile resolution in micrometres per pixel", default=0.5,
                             low=0, low_open=True),
                "tile": Field("integer", "tile size in pixels", default=224, low=16),
                "min_tissue": Field("number", "fewest tissue fraction a tile needs", default=0.5,
                                    low=0, high=1),
                "pooling": Field("list", "slide-level pooling of tile features",
                                 item="text", choices=POOLINGS, default=lambda: ["mean", "max"],
                                 min_items=1),
                "aggregate": Field("text", "several slides per patient", default="mean",
                                   choices=("max", "mean")),
                "batch_size": Field("integer", "tiles per encoder batch", default=64, low=1),
                "heatmaps": Field("integer", "slides drawn with their attention heatmap in the "
                                  "report", default=3, low=0),
            },
        ),
        "splits": Section(
            doc="How patients are split into train, internal test and external test.",
            required=True,
            fields={
                "seed": Field("integer", "random seed of the split (and of every fit)", required=True),
                "internal_test": Field("number", "fraction of the non-external patients held out "
                                       "as internal test", default=0.3, low=0, high=1,
                                       high_open=True),
                "stratify": Field("list", "what the random split is stratified on: 'outcome', "
                                  "'cancer_type' or clinical columns", item="text",
                                  default=lambda: ["outcome"]),
                "external": Section(
                    doc="External test set: patients whose centre column takes these values.",
                    optional=True,
                    fields={
                        "column": Field("text", "the centre column", required=True),
                        "values": Field("list", "centres held out as external test", min_items=1,
                                        required=True),
                    },
                ),
            },
        ),
        "clinical_factors": Section(
            doc="Candidate clinical factors and how they are selected.",
            required=True,
            fields={
                "candidates": Field("list", "clinical columns considered", item="text",
                                    required=True, min_items=1),
                "categorical": Field("list", "candidates treated as categories", item="text",
                                     default=list),
                "splines": Field("mapping", "restricted cubic splines: factor -> number of knots "
                                 "(3-7)", default=dict,
                                 check=lambda v: None if all(isinstance(k, int) and not isinstance(k, bool)
                                                             and 3 <= k <= 7 for k in v.values())
                                 else "a mapping from factor to a knot number between 3 and 7"),
                "shared": Field("list", "factors in every cancer type's model (homogeneous)",
                                item="text", default=list),
                "display_names": Field("mapping", "how charts name a factor or a label, e.g. {alp: "
                                       "'ALP (U/L)', imaging_label: 'Imaging label'} (default: the "
                                       "column name, underscores as spaces)", default=dict,
                                       check=lambda v: None if all(isinstance(t, str) and t.strip()
                                                                   for t in v.values())
                                       else "a mapping from factor or label name to a non-empty text"),
                "specific": Field("text", "per-cancer factors (heterogeneous): 'select' (chosen per "
                                  "type by the selection rule), 'none', or a mapping cancer type -> "
                                  "list of factors", default="select", also=("mapping",)),
                "selection": Section(
                    doc="How factors are selected on the training split.",
                    fields={
                        "method": Field("text", "univariable_then_backward (univariable p < "
                                        "p_enter, then backward elimination by AIC), backward, "
                                        "or none (keep every candidate)",
                                        default="univariable_then_backward",
                                        choices=SELECTION_METHODS),
                        "p_enter": Field("number", "univariable screening threshold",
                                         default=0.1, low=0, high=1, low_open=True),
                    },
                ),
            },
        ),
        "labels": NamedSections(
            doc="Per-modality scores ('rad-score', 'path-score', fused score), each cross-fitted on "
                "the training split and applied unchanged to the test splits.",
            section=Section(fields={
                "source": Field("text", "imaging or pathology; [imaging, pathology] for "
                                "early_fusion", required=True, also=("list",),
                                check=lambda v: None if all(s in LABEL_SOURCES for s in
                                                            ([v] if isinstance(v, str) else v))
                                else f"one of {list(LABEL_SOURCES)} or a list of them"),
                "method": Field("text", "lasso (penalised regression on the features), xgboost, "
                                "or early_fusion (the max-pool + channel-concatenation network)",
                                default="lasso", choices=LABEL_METHODS),
                "regions": Field("list", "imaging regions whose features the label uses "
                                 "(default: all)", item="text", nullable=True),
                "output": Field("text", "early_fusion: which head is the label", default="fused",
                                choices=("fused", "imaging", "pathology")),
                "folds": Field("integer", "cross-fitting folds on the training split", default=5,
                               low=2),
                "params": Field("mapping", "settings of the method (e.g. lasso: {lambda_rule: 1se}; "
                                "xgboost: {max_depth: 2}; early_fusion: {epochs: 50})",
                                default=dict),
                "description": Field("text", "what the report says about this label",
                                     nullable=True),
            }),
        ),
        "models": NamedSections(
            doc="Models compared (at least one).",
            required=True,
            min_items=1,
            name_check=_name_check,
            section=Section(fields={
                "clinical": Field("boolean", "include the selected clinical factors", default=True),
                "labels": Field("list", "labels added as covariates", item="text", default=list),
                "description": Field("text", "what the report says about this model",
                                     nullable=True),
            }),
        ),
        "validation": Section(
            doc="How models are validated on every split.",
            fields={
                "reference": Field("text", "the model others are compared with (DeLong test); "
                                   "default: the first model", nullable=True),
                "n_boot": Field("integer", "bootstrap resamples for optimism correction and CIs",
                                default=200, low=1),
                "conf_level": Field("number", "confidence level of intervals", default=0.95,
                                    low=0, high=1, low_open=True, high_open=True),
                "calibration": Section(
                    doc="Calibration curves.",
                    fields={
                        "groups": Field("integer", "risk groups of the grouped calibration on "
                                        "test splits", default=10, low=2),
                        "horizon": Field("number", "survival: the horizon calibrated (default: "
                                         "the last of outcome.horizons)", nullable=True),
                    },
                ),
                "decision_curve": Section(
                    doc="Decision-curve threshold probabilities.",
                    fields={
                        "from": Field("number", "lowest threshold", default=0.01, low=0, high=1,
                                      high_open=True),
                        "to": Field("number", "highest threshold", default=0.6, low=0, high=1,
                                    high_open=True),
                        "by": Field("number", "step", default=0.01, low=0, high=1, low_open=True),
                    },
                ),
                "risk_groups": Section(
                    doc="Risk groups (survival: Kaplan-Meier curves per group).",
                    fields={
                        "cutoff": Field("any", "median, maxstat (maximally selected log-rank; "
                                        "survival), youden (binary), or a fixed value (a probability "
                                        "for binary, a risk by the horizon for survival); chosen on "
                                        "the training split", default="median",
                                        check=_cutoff_check),
                    },
                ),
            },
        ),
        "run": Section(
            doc="How the run uses the machine.",
            fields={
                "jobs": Field("integer", "worker processes for extraction", default=1, low=1),
                "scheduler": Field("text", "Dask scheduler address (run extraction on that "
                                   "cluster)", nullable=True),
                "cache_dir": Field("path", "per-case feature cache (default: <out>/cache)",
                                   nullable=True),
            },
        ),
    },
)


# ----------------------------------------------------------------------------------------
# The validated study
# ----------------------------------------------------------------------------------------
class Settings(Mapping):
    """A read-only mapping whose keys are also attributes (``cfg.outcome.type``)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping):
        object.__setattr__(self, "_data", dict(data))

    def __getitem__(self, key):
        return _wrap(self._data[key])

    def __getattr__(self, key):
        try:
            return _wrap(self._data[key])
        except KeyError:
            raise AttributeError(
                f"study setting has no key {key!r}; keys: {list(self._data)}") from None

    def __setattr__(self, key, value):
        raise AttributeError("study settings are read-only")

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Settings({self._data!r})"

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self._data, default=str))


def _wrap(value):
    return Settings(value) if isinstance(value, Mapping) and not isinstance(value, Settings) else value


class StudyConfig(Settings):
    """A checked study file: every section with its defaults filled in.

    Attributes are the study file's sections (``cfg.clinical.table``,
    ``cfg.outcome.horizons``, ``cfg.models``...); paths are absolute. ``source``
    is the file read (or ``None``), ``text`` its content.
    """

    __slots__ = ("source", "text")

    def __init__(self, data: Mapping, *, source: str | None = None, text: str | None = None):
        super().__init__(data)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "text", text)

    @property
    def survival(self) -> bool:
        return self._data["outcome"]["type"] == "survival"

    @property
    def reference_model(self) -> str:
        """The model every other is compared with."""
        return self._data["validation"].get("reference") or next(iter(self._data["models"]))

    @property
    def thresholds(self) -> list[float]:
        """Decision-curve threshold probabilities (``from``, ``to`` inclusive, step ``by``)."""
        dc = self._data["validation"]["decision_curve"]
        n = int(round((dc["to"] - dc["from"]) / dc["by"])) + 1
        return [round(dc["from"] + i * dc["by"], 10) for i in range(max(n, 1))]

    def digest(self, *sections: str) -> str:
        """SHA-256 of the given sections' settings (what a pipeline stage depends on)."""
        part = {s: self._data.get(s) for s in sections} if sections else self._data
        text = json.dumps(part, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        return f"StudyConfig(name={self._data.get('name')!r}, source={self.source!r})"


_PATH_KEYS = (("clinical", "table"), ("imaging", "manifest"), ("pathology", "manifest"),
              ("run", "cache_dir"))


def _resolve_paths(data: dict, base: Path, problems: Problems, check_files: bool) -> None:
    def resolve(section, key, must_exist=True):
        sec = data.get(section)
        if not isinstance(sec, dict) or sec.get(key) is None:
            return
        p = Path(os.path.expanduser(str(sec[key])))
        p = p if p.is_absolute() else (base / p)
        sec[key] = str(p.resolve())
        if check_files and must_exist and not p.exists():
            problems.add((section, key), f"'{section}.{key}' names the file '{p}', which does not "
                                         "exist; paths are relative to the study file's folder.")

    for section, key in _PATH_KEYS:
        resolve(section, key, must_exist=(key != "cache_dir"))
    imaging = data.get("imaging")
    if isinstance(imaging, dict) and isinstance(imaging.get("params"), str) \
            and imaging["params"] not in RADIOMICS_PRESETS:
        resolve("imaging", "params")
    pathology = data.get("pathology")
    if isinstance(pathology, dict) and pathology.get("weights") not in (None, "random"):
        resolve("pathology", "weights")


def parse_study(text: str, *, source: str = "<study>", base_dir: str | os.PathLike | None = None,
                check_files: bool = True) -> StudyConfig:
    """Check a study file's YAML text; see :func:`load_study`."""
    import yaml

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark is not None else source
        raise StudyFileError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)}). Check the "
                             "indentation and that every 'key: value' has a space after the colon.",
                             [str(exc)]) from None
    problems = Problems(source, key_lines(text))
    if not isinstance(raw, Mapping):
        raise StudyFileError(f"{source}: a study file is a YAML mapping of sections (name, clinical, "
                             f"outcome, ...). Got {type(raw).__name__} instead.")
    data = validate(SCHEMA, raw, problems)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if isinstance(data, dict):
        _resolve_paths(data, base.resolve(), problems, check_files)
    if problems:
        lines = problems.lines_text()
        head = f"{source} has {len(lines)} problem{'s' if len(lines) > 1 else ''}:"
        raise StudyFileError("\n  ".join([head, *lines]), lines)
    return StudyConfig(data, source=source, text=text)


def load_study(path: str | os.PathLike, *, check_files: bool = True) -> StudyConfig:
    """Read and check a study file.

    Parameters
    ----------
    path : str or path
        The YAML study file. Relative paths inside it are relative to its folder.
    check_files : bool, default True
        Also check that the files it names exist.

    Returns
    -------
    StudyConfig

    Raises
    ------
    StudyFileError
        Listing every problem at once, each with its line, key path, the value
        received and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise StudyFileError(f"study file '{path}' does not exist; give the path of a YAML file "
                             "(see fusion/study/examples/ for documented ones).")
    text = path.read_text(encoding="utf-8")
    return parse_study(text, source=path.name, base_dir=path.resolve().parent,
                       check_files=check_files)


def example_path(name: str) -> Path:
    """Path of a documented example study file shipped with nomofuse.

    ``name`` is one of :data:`EXAMPLES`: ``"bone_metastasis"`` (seed 004),
    ``"seed_soil_survival"`` (seed 000), ``"occult_lymph_node"`` (seed 002).
    """
    if name not in EXAMPLES:
        shown = "{" + ", ".join(repr(e) for e in EXAMPLES) + "}"
        raise ValueError(f"The 'name' parameter of example_path must be one of {shown}. "
                         f"Got {name!r} instead.")
    return Path(str(resources.files("fusion.study") / "examples" / f"{name}.yaml"))


def schema_reference() -> str:
    """Every key of the study file with its type, default and meaning (Markdown)."""
    lines = ["# Study file reference", ""]

    def walk(section, path, depth):
        for key, spec in section.fields.items():
            name = ".".join((*path, key))
            if isinstance(spec, Section):
                req = " (required)" if spec.required else (" (optional section)" if spec.optional else "")
                lines.append(f"{'#' * min(depth + 2, 6)} `{name}`{req}")
                lines.append("")
                if spec.doc:
                    lines.extend([spec.doc, ""])
                walk(spec, (*path, key), depth + 1)
            elif isinstance(spec, NamedSections):
                lines.append(f"{'#' * min(depth + 2, 6)} `{name}.<name>`")
                lines.append("")
                if spec.doc:
                    lines.extend([spec.doc, ""])
                walk(spec.section, (*path, key, "<name>"), depth + 1)
            else:
                default = spec.default_value()
                extra = " — required" if spec.required else (
                    f" — default `{json.dumps(default)}`" if default is not None else "")
                choices = (" — one of " + ", ".join(f"`{c}`" for c in spec.choices)) \
                    if spec.choices else ""
                lines.append(f"- `{name}` ({spec.kind}{'/' + '/'.join(spec.also) if spec.also else ''})"
                             f"{extra}{choices}: {spec.doc}")
        lines.append("")

    walk(SCHEMA, (), 0)
    return "\n".join(lines)
