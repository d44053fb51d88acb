"""The radiomics parameter presets shipped with nomofuse: one place for their names and files.

``"CT"``, ``"MR"`` and ``"PET"`` are pyradiomics YAML parameter files in
``imaging/params/``; each file documents its choices. :func:`read_params` is
the one reader of a parameter file (a preset or the user's own): it checks
the file's *shape* (readable UTF-8 YAML or JSON, a mapping of pyradiomics'
sections). pyradiomics' own schema is checked by
:class:`imaging.RadiomicsExtractor` (:func:`imaging.radiomics.check_settings`).

This module imports nothing heavy (PyYAML only, on use), so a command line can
list, read and hash the presets without loading SimpleITK or pyradiomics.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .exceptions import RadiomicsParamsError

__all__ = ["PRESETS", "DEFAULT_PRESET", "PARAMS_DIR", "SECTIONS", "preset_path", "read_params"]

#: Folder of the preset files.
PARAMS_DIR = Path(__file__).resolve().parent / "params"
#: Names of the presets.
PRESETS = ("CT", "MR", "PET")
#: The preset :class:`imaging.RadiomicsExtractor` and :func:`imaging.extract_case` use by default.
DEFAULT_PRESET = "CT"


def preset_path(name: str) -> Path:
    """Path of the YAML parameter file of preset ``name`` (``"CT"``, ``"MR"`` or ``"PET"``)."""
    if name not in PRESETS:
        shown = "{" + ", ".join(repr(p) for p in PRESETS) + "}"
        raise RadiomicsParamsError(
            f"The 'params' parameter of RadiomicsExtractor must be one of {shown} or a path to a "
            f"pyradiomics YAML/JSON parameter file. Got {name!r} instead."
        )
    return PARAMS_DIR / f"{name}.yaml"


#: The sections of a pyradiomics parameter file (each a mapping, or empty).
SECTIONS = ("imageType", "featureClass", "setting", "voxelSetting")
#: A parameter file larger than this is not one (pyradiomics' own are a few kB).
MAX_PARAMS_BYTES = 1 << 20

_DOCS = "https://pyradiomics.readthedocs.io/en/latest/customization.html"


def read_params(params) -> dict:
    """The parameter dict of a preset name, a pyradiomics YAML/JSON file, or a mapping.

    Checks the shape pyradiomics expects: a mapping whose keys are among
    :data:`SECTIONS`, each a mapping (or empty). Whether each setting is valid
    is pyradiomics' schema's business (:class:`imaging.RadiomicsExtractor`
    checks it with pyradiomics' own validation).

    Parameters
    ----------
    params : {"CT", "MR", "PET"}, path or mapping

    Returns
    -------
    dict
        A new dict (a mapping is copied, not validated against the file rules).

    Raises
    ------
    RadiomicsParamsError
        Naming the file, what is wrong (line and column of a YAML syntax error)
        and the fix. An unknown name without a suffix is reported with the
        list of presets.
    """
    import copy

    if isinstance(params, Mapping):
        data, where = copy.deepcopy(dict(params)), "the parameter dict"
    else:
        if not isinstance(params, (str, os.PathLike)):
            raise RadiomicsParamsError(
                f"The 'params' parameter must be a preset name {list(PRESETS)}, the path of a "
                f"pyradiomics YAML/JSON parameter file, or a dict. Got {type(params).__name__} "
                "instead.")
        if isinstance(params, str) and params in PRESETS:
            path = preset_path(params)
        else:
            path = Path(params)
            if not path.is_file():
                if isinstance(params, str) and not path.suffix and not path.exists():
                    preset_path(params)  # raises, listing the presets
                what = "is a folder" if path.is_dir() else "does not exist"
                raise RadiomicsParamsError(
                    f"parameter file '{path}' {what}; give a preset name {list(PRESETS)} or the "
                    "path of a pyradiomics YAML/JSON parameter file.")
        where = f"parameter file '{path}'"
        data = _load_yaml(path, where)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RadiomicsParamsError(
            f"{where} holds {_kind(data)} at its top level; a pyradiomics parameter file is a "
            f"mapping with the sections {list(SECTIONS)} (e.g. 'setting:' then 'binWidth: 25' "
            f"indented below it). See {_DOCS}")
    unknown = [str(k) for k in data if k not in SECTIONS]
    if unknown:
        raise RadiomicsParamsError(
            f"{where} has unknown section(s) {unknown}; the sections of a pyradiomics "
            f"parameter file are {list(SECTIONS)} (names are case-sensitive; a setting such "
            f"as binWidth goes inside 'setting:'). See {_DOCS}")
    for key in SECTIONS:
        value = data.get(key)
        if value is not None and not isinstance(value, dict):
            example = ("imageType: {Original: {}}" if key == "imageType" else
                       "featureClass: {firstorder: null}" if key == "featureClass" else
                       f"{key}: {{binWidth: 25}}")
            raise RadiomicsParamsError(
                f"{where}: section '{key}' holds {_kind(value)}; it must be a mapping of names "
                f"to values, e.g. '{example}'. See {_DOCS}")
    return data


def _kind(value) -> str:
    return {list: "a list", str: "text", int: "a number", float: "a number",
            bool: "true/false"}.get(type(value), f"a {type(value).__name__}")


def _load_yaml(path: Path, where: str):
    import yaml

    try:
        size = path.stat().st_size
        if size > MAX_PARAMS_BYTES:
            raise RadiomicsParamsError(
                f"{where} is {size} bytes; a pyradiomics parameter file is a small YAML or JSON "
                "text file: check that this is the right file.")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RadiomicsParamsError(
            f"{where} is not UTF-8 text (byte {exc.start}); a pyradiomics parameter file is a "
            "YAML or JSON text file: check that this is the right file, or save it as UTF-8."
        ) from exc
    except OSError as exc:
        raise RadiomicsParamsError(f"cannot read {where} ({exc.strerror or exc}).") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RadiomicsParamsError(
            f"{where} is not valid YAML{at}: {problem}; fix the syntax (indent with spaces, "
            f"'key: value' pairs). See {_DOCS}") from exc
    except RecursionError as exc:
        raise RadiomicsParamsError(f"{where} is nested too deeply to be a parameter file.") from exc
