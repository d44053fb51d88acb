"""Read any nomofuse model file by its ``"format"``.

``nomogram.load_model`` reads the nomogram files (``"format":
"nomofuse-model"``); the fusion models add their own formats
(``"nomofuse.fusion.<Class>"``). :func:`load_model` dispatches on the
format so that ``nomofuse predict`` takes either kind of file.
"""

from __future__ import annotations

import json
from pathlib import Path

from nomogram.exceptions import ModelFileError

__all__ = ["load_model", "FUSION_FORMATS"]

#: Format name -> (module, class) of the fusion models.
FUSION_FORMATS = {
    "nomofuse.fusion.NomogramGroup": ("group", "NomogramGroup"),
    "nomofuse.fusion.ModalityLabel": ("labels", "ModalityLabel"),
    "nomofuse.fusion.EarlyFusion": ("network", "EarlyFusion"),
}


def load_model(path):
    """Load a model file written by any nomofuse model's ``to_json``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    LogisticNomogram, CoxNomogram, NomogramGroup, ModalityLabel or EarlyFusion

    Raises
    ------
    ModelFileError
        Not JSON, or a format this nomofuse does not know (the message lists the known ones).
    """
    import importlib

    import nomogram

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_model: no model file at '{path}'.")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(f"load_model: '{path}' is not a JSON model file ({err}).") from err
    fmt = d.get("format") if isinstance(d, dict) else None
    if fmt in FUSION_FORMATS:
        module, cls = FUSION_FORMATS[fmt]
        klass = getattr(importlib.import_module(f"fusion.models.{module}"), cls)
        return klass.from_json(path) if fmt == "nomofuse.fusion.EarlyFusion" else klass.from_json(d)
    if fmt == "nomofuse-model":
        return nomogram.load_model(path)
    known = ["nomofuse-model", *FUSION_FORMATS]
    raise ModelFileError(f"load_model: '{path}' has format {fmt!r}; nomofuse reads {known}.")
