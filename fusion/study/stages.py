"""Stage records of a study run: what each stage depends on and what it wrote.

A study run is a chain of stages (cohort, imaging features, pathology
features, split, labels, one per model, evaluation, figures, report). Each
stage has a *key*: the SHA-256 of everything it depends on (the settings it
reads, the content of its input files, the keys of the stages before it, the
versions of the libraries that compute it). When a stage finishes, its key
and the size and SHA-256 of every file it wrote are stored in
``<out>/.nomofuse/stages/<stage>.json``. A later run skips a stage whose key
is unchanged and whose files are all present and intact, and recomputes it
otherwise; so a run after a kill, or after a change of one model's setting,
redoes only what that change touches. (Per-case feature extraction has its
own content-keyed cache in the cohort runner, so even a recomputed extraction
stage reads finished cases from it.)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nomogram.model_io import file_sha256

__all__ = ["StageStore", "file_record", "digest", "file_sha256"]


def file_record(path: str | os.PathLike) -> dict:
    """``{"bytes": size, "sha256": digest}`` of a file."""
    return {"bytes": os.path.getsize(path), "sha256": file_sha256(path)}


def digest(*parts) -> str:
    """SHA-256 of JSON-able parts (canonical JSON: sorted keys)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class StageStore:
    """The stage records of one output folder.

    Parameters
    ----------
    out : path
        The run's output folder.
    force : bool
        Ignore every record (recompute every stage).
    """

    out: Path
    force: bool = False
    ran: dict = field(default_factory=dict)       # stage -> "computed" | "reused"
    seconds: dict = field(default_factory=dict)   # stage -> seconds (this run)

    def __post_init__(self):
        self.out = Path(self.out)
        self.folder = self.out / ".nomofuse" / "stages"

    def _path(self, stage: str) -> Path:
        return self.folder / f"{stage.replace('/', '__').replace(' ', '_')}.json"

    def record(self, stage: str) -> dict | None:
        path = self._path(stage)
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def fresh(self, stage: str, key: str) -> bool:
        """True when ``stage`` finished with ``key`` and every file it wrote is intact."""
        if self.force:
            return False
        rec = self.record(stage)
        if rec is None or rec.get("key") != key:
            return False
        for rel, meta in rec.get("files", {}).items():
            path = self.out / rel
            if not path.is_file() or path.stat().st_size != meta["bytes"]:
                return False
            if file_sha256(path) != meta["sha256"]:
                return False
        if self.ran.get(stage) != "computed":  # a stage computed earlier in this run stays "computed"
            self.ran[stage] = "reused"
            self.seconds[stage] = 0.0
        return True

    def done(self, stage: str, key: str, files: Iterable[str | os.PathLike], seconds: float,
             extra: Mapping | None = None) -> None:
        """Store that ``stage`` finished with ``key``, having written ``files``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        recs = {}
        for f in files:
            p = Path(f)
            rel = p.resolve().relative_to(self.out.resolve()).as_posix()
            recs[rel] = file_record(p)
        rec = {"stage": stage, "key": key, "files": recs, "seconds": round(seconds, 3),
               "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **dict(extra or {})}
        tmp = self._path(stage).with_suffix(".json.tmp")
        tmp.write_text(json.dumps(rec, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self._path(stage))
        self.ran[stage] = "computed"
        self.seconds[stage] = round(seconds, 3)
