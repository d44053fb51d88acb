"""``nomofuse`` itself: help, version, and what starting it costs (which modules it imports).

Import cost is asserted on *modules*, not on seconds: ``nomofuse --help`` must
not load any third-party library, and a fully cached ``nomofuse radiomics``
re-run must not load the libraries that compute radiomics (SimpleITK,
pyradiomics, scipy, scikit-learn) nor torch or matplotlib. Each runs in a fresh
interpreter, as a user's shell would.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from fusion.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "timm", "SimpleITK", "radiomics", "sklearn", "scipy", "matplotlib", "dask",
         "distributed", "openslide", "xgboost", "h5py")

_PROBE = """
import json, sys
from fusion.cli import main
try:
    rc = main({argv!r})
except SystemExit as exc:
    rc = exc.code
print(json.dumps({{"rc": rc, "modules": sorted(sys.modules)}}))
"""


def _modules_after(argv, cwd=REPO):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(argv=list(argv))], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    last = proc.stdout.strip().splitlines()[-1]
    info = json.loads(last)
    tops = {m.split(".")[0] for m in info["modules"]}
    return info["rc"], tops, info["modules"]


def test_help_imports_no_third_party_library():
    rc, tops, _ = _modules_after(["--help"])
    assert rc == 0
    loaded = sorted(t for t in tops if t in (*HEAVY, "numpy", "pandas", "pyarrow", "yaml"))
    assert loaded == [], f"`nomofuse --help` imported {loaded}"
    assert "nomogram" not in tops  # nor the statistical core (it imports scikit-learn)


def test_cached_radiomics_rerun_imports_nothing_that_computes_radiomics(tmp_path):
    from fusion_cohort_cases import write_case

    rows = [(c, *write_case(tmp_path, c, seed=i, size=(16, 16, 8))) for i, c in enumerate("ab")]
    pd.DataFrame(rows, columns=["case_id", "image", "mask"]).to_csv(tmp_path / "m.csv", index=False)
    (tmp_path / "p.yaml").write_text("imageType:\n  Original: {}\nfeatureClass:\n  firstorder:\n"
                                     "setting:\n  binWidth: 25\n")
    argv = ["radiomics", "--manifest", str(tmp_path / "m.csv"), "--out", str(tmp_path / "f.parquet"),
            "--params", str(tmp_path / "p.yaml"), "--quiet"]
    assert main(argv) == 0  # fills the cache
    rc, tops, modules = _modules_after(argv)
    assert rc == 0
    loaded = sorted(t for t in tops if t in HEAVY)
    assert loaded == [], f"a cached re-run imported {loaded}"
    assert "imaging.radiomics" not in modules and "nomogram" not in tops


def test_imaging_imports_its_heavy_parts_on_first_use():
    code = ("import sys, imaging; a = sorted(m for m in {heavy!r} if m in sys.modules); "
            "imaging.PRESETS; b = sorted(m for m in {heavy!r} if m in sys.modules); "
            "imaging.HabitatModel; c = 'sklearn' in sys.modules; print(a, b, c)")
    out = subprocess.run([sys.executable, "-c", code.format(heavy=HEAVY)], cwd=REPO,
                         capture_output=True, text=True, timeout=300).stdout.strip()
    assert out == "[] [] True"


def test_version_and_bare_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"nomofuse \d+\.\d+\.\d+\S*\n", out), out
    assert main([]) == 0  # bare `nomofuse` prints the help, not an error
    text = capsys.readouterr().out
    assert text.startswith("usage: nomofuse") and "radiomics" in text and "example" in text


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_has_no_markup_or_internal_names(command, capsys):
    with pytest.raises(SystemExit):
        main(["--help"] if command is None else [command, "--help"])
    text = capsys.readouterr().out
    assert "``" not in text and ":func:" not in text and ":class:" not in text
    assert not re.search(r"\b(extract_case|run_cohort|check_manifest|fusion\.|imaging\.)", text)


def test_runner_imports_nothing_of_a_domain():
    """fusion.cohort and the command skeleton are domain-free (checked on their imports)."""
    files = [*(REPO / "fusion" / "cohort").glob("*.py"),
             REPO / "fusion" / "commands" / "cohort_command.py"]
    forbidden = ("imaging", "pathology", "SimpleITK", "radiomics", "torch", "openslide")
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{f.name} imports {name}"
