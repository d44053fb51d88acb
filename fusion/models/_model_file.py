"""Versioned JSON files of the fitted fusion models (labels, networks, nomogram groups).

Every file is one UTF-8 JSON object that starts with ``"format"``
(``"nomofuse.fusion.<Class>"``) and ``"version"``; floats are written with
``repr`` precision so a round trip reproduces predictions exactly. Never pickle.
"""

from __future__ import annotations

import json
from pathlib import Path

from nomogram.exceptions import ModelFileError

__all__ = ["write_model_json", "read_model_json", "FORMAT_PREFIX"]

FORMAT_PREFIX = "nomofuse.fusion."


def write_model_json(d: dict, path=None) -> str:
    """``json.dumps(d)`` (no NaN/inf allowed), also written atomically to ``path`` when given."""
    text = json.dumps(d, indent=1, ensure_ascii=False, allow_nan=False)
    if path is not None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    return text


def read_model_json(source, *, caller: str, format: str | None = None, version: int = 1) -> dict:
    """Parse ``source`` (a path, a JSON text, or an already parsed dict) and check format and version.

    Raises
    ------
    ModelFileError
        Not JSON, not a JSON object, another ``format`` or an unsupported ``version``;
        the message names the file and what was expected.
    """
    where = "<dict>"
    if isinstance(source, dict):
        d = source
    else:
        s = str(source)
        if s.lstrip().startswith("{"):
            text, where = s, "<text>"
        else:
            path = Path(source)
            if not path.is_file():
                raise FileNotFoundError(f"{caller}: no model file at '{path}'.")
            text, where = path.read_text(encoding="utf-8"), str(path)
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelFileError(f"{caller}: '{where}' is not valid JSON ({exc}).") from exc
    if not isinstance(d, dict):
        raise ModelFileError(f"{caller}: '{where}' must hold a JSON object; got {type(d).__name__}.")
    if format is not None and d.get("format") != format:
        raise ModelFileError(
            f"{caller}: '{where}' has format {d.get('format')!r}; expected {format!r}. "
            "Load it with nomogram.load_model / fusion.models.load_model, which dispatch on the format."
        )
    if format is not None and d.get("version") != version:
        raise ModelFileError(
            f"{caller}: '{where}' has version {d.get('version')!r}; this nomofuse reads version "
            f"{version}. Upgrade nomofuse or re-export the model."
        )
    return d
