"""Layering and privacy of the four packages (CONTRIBUTING.md, "Layering").

Every import in ``nomogram/``, ``imaging/``, ``pathology/`` and ``fusion/`` is
parsed with :mod:`ast` (module-level and inside functions, plus
``importlib.import_module("...")`` / ``__import__("...")`` with a literal
name) and resolved to an absolute module path. Forbidden:

* ``nomogram`` importing ``imaging``, ``pathology`` or ``fusion``;
* ``imaging`` importing ``pathology`` or ``fusion``;
* ``pathology`` importing ``imaging`` or ``fusion``;
* any package importing a private module of another package: a component of
  the imported path after the top-level package starts with ``_`` (dunder
  names such as ``__init__`` are not private), e.g. ``nomogram._splines`` or
  ``from nomogram import _splines``.

Each violation is reported as ``path:line: message``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("nomogram", "imaging", "pathology", "fusion")
#: package -> packages of nomofuse it must not import
FORBIDDEN = {
    "nomogram": {"imaging", "pathology", "fusion"},
    "imaging": {"pathology", "fusion"},
    "pathology": {"imaging", "fusion"},
    "fusion": set(),
}


def _is_private(component: str) -> bool:
    return component.startswith("_") and not (component.startswith("__") and component.endswith("__"))


def _module_of(path: Path, root: Path) -> list[str]:
    """Dotted module path of a source file, as a list (``__init__`` is its package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return parts


def _resolve(node: ast.ImportFrom, module: list[str], is_package: bool) -> str:
    """Absolute module named by a (possibly relative) ``from ... import``."""
    if node.level == 0:
        return node.module or ""
    package = module if is_package else module[:-1]
    base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
    return ".".join(base + ([node.module] if node.module else []))  # "" only beyond the top


def _imports(tree: ast.AST, module: list[str], is_package: bool):
    """Yield ``(line, absolute imported name)`` for every import in a parsed file.

    ``from a.b import c`` yields ``a.b.c`` (``c`` may be a module or a name; a
    private name of another package is forbidden either way).
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module, is_package)
            for alias in node.names:
                yield node.lineno, base if alias.name == "*" else ".".join(filter(None, (base, alias.name)))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            arg = node.args[0]
            if name in ("import_module", "__import__") and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                if not arg.value.startswith("."):
                    yield node.lineno, arg.value


def layering_violations(root: Path, packages=PACKAGES) -> list[str]:
    """Every forbidden import under ``root`` as ``"path:line: message"`` (path relative to root)."""
    out = []
    for pkg in packages:
        pkg_dir = root / pkg
        if not pkg_dir.is_dir():
            continue
        for path in sorted(pkg_dir.rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            module = _module_of(path, root)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
            for line, name in _imports(tree, module, path.name == "__init__.py"):
                parts = name.split(".")
                target = parts[0]
                if target not in packages or target == pkg:
                    continue
                if target in FORBIDDEN[pkg]:
                    out.append(f"{rel}:{line}: {pkg} must not import {target} (imports '{name}')")
                elif any(_is_private(p) for p in parts[1:]):
                    out.append(
                        f"{rel}:{line}: imports private '{name}' of package {target}; "
                        f"use a public module of {target}"
                    )
    return out


def test_no_forbidden_import():
    bad = layering_violations(REPO)
    assert not bad, "forbidden imports (CONTRIBUTING.md, Layering):\n" + "\n".join(bad)


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_checker_catches_planted_violations(tmp_path):
    for pkg in PACKAGES:
        _write(tmp_path, f"{pkg}/__init__.py", "")
    _write(tmp_path, "nomogram/_private.py", "X = 1\n")
    _write(tmp_path, "nomogram/public.py", "from ._private import X\nimport numpy\n")  # allowed
    _write(tmp_path, "nomogram/bad.py", "import numpy\n\n\ndef f():\n    import imaging.io\n    return 1\n")
    _write(tmp_path, "imaging/reader.py", "from nomogram import public\nfrom nomogram._private import X\n")
    _write(tmp_path, "imaging/sub/__init__.py", "from ..reader import public\nfrom nomogram.public import _hidden\n")
    _write(tmp_path, "pathology/tiles.py", "from nomogram import _private\nfrom imaging import reader\n")
    _write(tmp_path, "pathology/lazy.py", "import importlib\nm = importlib.import_module('fusion.cli')\n")
    _write(tmp_path, "fusion/cli.py", "import imaging, pathology\nfrom nomogram.public import X\n"
                                      "from pathology.tiles import _helper\n")
    found = layering_violations(tmp_path)
    lines = {v.split(": ")[0] for v in found}
    assert lines == {
        "nomogram/bad.py:5",
        "imaging/reader.py:2",
        "imaging/sub/__init__.py:2",
        "pathology/tiles.py:1",
        "pathology/tiles.py:2",
        "pathology/lazy.py:2",
        "fusion/cli.py:3",
    }, found
    assert any("nomogram must not import imaging" in v for v in found)
    assert any("private 'nomogram._private.X'" in v for v in found)
