"""JSON text of fitted imaging models: write it, read it back with its format and version checked.

The fitted estimators of :mod:`imaging` (:class:`~imaging.HabitatModel`,
:class:`~imaging.ComBat`, :class:`~imaging.ImagingSignature`) are saved as
JSON, never pickled. Each ``to_dict`` starts with a ``"format"`` name and a
``"version"`` number; these two functions hold what their ``to_json`` and
``from_json`` share. Files are UTF-8 (RFC 8259).
"""

from __future__ import annotations

import json
from pathlib import Path

from nomogram.exceptions import ModelFileError


def model_json_text(d: dict, path=None, *, ensure_ascii: bool = True) -> str:
    """``json.dumps(d, indent=1)``, also written to ``path`` (UTF-8) when given.

    ``ensure_ascii=False`` keeps non-ASCII characters (e.g. feature names) as
    they are instead of ``\\uXXXX`` escapes.
    """
    text = json.dumps(d, indent=1, ensure_ascii=ensure_ascii)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def read_model_json(source, caller: str, format: str, version: int) -> dict:
    """Parse ``source`` (a path, or the JSON text itself) and check its format and version.

    Raises
    ------
    ModelFileError
        When the text is not JSON, or its ``"format"`` is not ``format``, or
        its ``"version"`` is not ``version``; the message starts with
        ``caller`` (e.g. ``"ComBat.from_json"``).
    """
    s = str(source)
    text = s if s.lstrip().startswith("{") else Path(source).read_text(encoding="utf-8")
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{caller}: not valid JSON ({exc}).") from exc
    if d.get("format") != format:
        raise ModelFileError(f"{caller}: expected format {format!r}, got {d.get('format')!r}.")
    if d.get("version") != version:
        raise ModelFileError(f"{caller}: unsupported version {d.get('version')!r}.")
    return d
