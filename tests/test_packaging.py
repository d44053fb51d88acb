"""Packaging: the core installs light, each optional package belongs to a declared extra, and a
missing one is named with the pip install that fixes it."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from nomogram.checks import EXTRAS, missing_extra_message, require
from nomogram.exceptions import MissingDependencyError

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
HEAVY = ("torch", "torchvision", "timm", "SimpleITK", "pyradiomics", "openslide", "xgboost", "dask", "h5py")


def _name(requirement: str) -> str:
    import re

    return re.split(r"[<>=!\[; ]", requirement, maxsplit=1)[0].lower()


def test_core_dependencies_are_light():
    core = {_name(r) for r in PROJECT["dependencies"]}
    assert not core & {h.lower() for h in HEAVY}, core
    assert {"numpy", "pandas", "scipy", "scikit-learn", "pyyaml", "matplotlib"} <= core


def test_every_extra_named_in_messages_is_declared():
    extras = PROJECT["optional-dependencies"]
    assert set(EXTRAS.values()) <= set(extras), set(EXTRAS.values()) - set(extras)
    everything = " ".join(extras["all"])
    for name in ("imaging", "pathology", "fusion", "cluster", "dicom"):
        assert name in everything
    assert "nomofuse[all" in " ".join(extras["test"]) and "playwright" in " ".join(extras["test"])


def test_importing_the_core_loads_no_heavy_library():
    code = ("import sys, nomogram, fusion.study; heavy = %r; "
            "print(sorted(m for m in heavy if m in sys.modules))" % (HEAVY,))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_missing_optional_package_is_one_line_with_the_fix():
    with pytest.raises(MissingDependencyError) as info:
        require("SimpleITK_not_here", purpose="Reading CT volumes", extra="imaging")
    msg = str(info.value)
    assert msg == ('Reading CT volumes needs SimpleITK_not_here, which is not installed: '
                   'pip install "nomofuse[imaging]" (or "nomofuse[all]")')
    assert "\n" not in msg and info.value.extra == "imaging"
    assert isinstance(info.value, ImportError)
    assert 'pip install "nomofuse[pathology]"' in missing_extra_message("openslide")
    assert missing_extra_message("somepkg") == "This step needs somepkg, which is not installed: pip install somepkg"
    assert require("json").dumps([1]) == "[1]"


def test_a_missing_dependency_of_an_installed_module_is_not_renamed(tmp_path, monkeypatch):
    (tmp_path / "present_mod.py").write_text("import absent_inner_mod\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as info:
        require("present_mod", extra="imaging")
    assert info.value.name == "absent_inner_mod" and not isinstance(info.value, MissingDependencyError)


def test_imaging_names_the_same_fix():
    from imaging.exceptions import MissingOptionalDependencyError
    from imaging.io import _require

    with pytest.raises(MissingOptionalDependencyError) as info:
        _require("highdicom_not_here", "dicom", "Reading a DICOM SEG")
    assert str(info.value) == ('Reading a DICOM SEG needs highdicom_not_here, which is not installed: '
                               'pip install "nomofuse[dicom]" (or "nomofuse[all]")')
    assert isinstance(info.value, ImportError)
