"""Versions: of the libraries a cached result depends on, and of nomofuse itself.

Light on purpose (no third-party import): ``nomofuse --version`` and a fully
cached re-run use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

__all__ = ["nomofuse_version", "library_versions"]


def nomofuse_version() -> str:
    """The installed distribution's version, or ``pyproject.toml``'s in a source checkout.

    A checkout's own ``pyproject.toml`` wins over an installed copy, so that a
    worktree run reports (and keys its cache on) the code it runs.
    """
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            import tomllib

            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
            if project.get("name") == "nomofuse" and project.get("version"):
                return str(project["version"])
        except (OSError, ValueError):
            pass
    from importlib import metadata

    try:
        return metadata.version("nomofuse")
    except metadata.PackageNotFoundError:
        return "unknown"


def library_versions(distributions: Iterable[str]) -> dict[str, str]:
    """``{distribution: version}`` of the installed ``distributions`` plus nomofuse's own.

    Part of a cache key: a result computed by other library versions is not
    reused. Distributions that are not installed are left out.
    """
    from importlib import metadata

    out = {}
    for dist in distributions:
        if dist == "nomofuse":
            continue
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    out["nomofuse"] = nomofuse_version()
    return out
