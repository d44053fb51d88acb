"""Read the versioned JSON files of fitted pathology objects (no pickle).

Every file is ``{"format": "nomofuse.pathology.<Class>", "version": N, ...}``.
"""

from __future__ import annotations

import json
from pathlib import Path

from nomogram.exceptions import ModelFileError


def read_json_model(source, format: str, version: int, caller: str) -> dict:
    """Parse ``source`` (a path or JSON text) and check its ``format`` and ``version``."""
    s = str(source)
    try:
        text = s if s.lstrip().startswith("{") else Path(source).read_text(encoding="utf-8")
        d = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{caller}: cannot read {s[:200]!r} as JSON ({exc}).") from exc
    if not isinstance(d, dict) or d.get("format") != format:
        got = d.get("format") if isinstance(d, dict) else type(d).__name__
        raise ModelFileError(f"{caller}: expected format {format!r}, got {got!r}.")
    if d.get("version") != version:
        raise ModelFileError(f"{caller}: unsupported version {d.get('version')!r} (this nomofuse "
                             f"reads version {version}); upgrade nomofuse or re-save the file.")
    return d


def write_json_model(d: dict, path=None) -> str:
    """``json.dumps(d, indent=1)``; also written (UTF-8) to ``path`` when given."""
    text = json.dumps(d, indent=1, ensure_ascii=False, allow_nan=False)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
