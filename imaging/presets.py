"""The radiomics parameter presets shipped with nomofuse: one place for their names and files.

``"CT"``, ``"MR"`` and ``"PET"`` are pyradiomics YAML parameter files in
``imaging/params/``; each file documents its choices. This module imports
nothing heavy, so a command line can list and hash the presets without
loading SimpleITK or pyradiomics.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PRESETS", "DEFAULT_PRESET", "PARAMS_DIR", "preset_path"]

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
        raise ValueError(
            f"The 'params' parameter of RadiomicsExtractor must be one of {shown} or a path to a "
            f"pyradiomics YAML/JSON parameter file. Got {name!r} instead."
        )
    return PARAMS_DIR / f"{name}.yaml"
