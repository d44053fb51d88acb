"""Every committed reference file loads through tests/_reference.py, and the pinned inputs are intact."""

import hashlib
import shutil

import pytest

import tests._reference as ref
from tests._reference import INPUT_SHA256, REFERENCE_DIR, reference_csv, reference_json, reference_path

FILES = sorted(p.relative_to(REFERENCE_DIR).as_posix() for p in REFERENCE_DIR.rglob("*")
               if p.suffix in (".csv", ".json"))


@pytest.mark.parametrize("name", sorted(INPUT_SHA256))
def test_pinned_input_has_its_sha256(name):
    assert hashlib.sha256((REFERENCE_DIR / name).read_bytes()).hexdigest() == INPUT_SHA256[name]


@pytest.mark.parametrize("name", FILES)
def test_every_reference_file_loads(name):
    data = reference_csv(name) if name.endswith(".csv") else reference_json(name)
    assert len(data) > 0


@pytest.mark.parametrize(
    "scores,output",
    [
        ("pROC/rossi_scores.csv", "pROC/proc_reference.json"),
        ("survival_metrics/gbsg2_scores.csv", "survival_metrics/survival_reference.json"),
        ("survival_metrics/gbsg2_scores.csv", "survival_metrics/sksurv_reference.json"),
    ],
)
def test_outputs_were_computed_from_the_committed_scores(scores, output):
    """The R / scikit-survival scripts recorded the md5 of the score file they read."""
    assert hashlib.md5(reference_path(scores).read_bytes()).hexdigest() == reference_json(output)["scores_md5"]


def test_a_changed_input_fails_with_the_fix(tmp_path, monkeypatch):
    shutil.copytree(REFERENCE_DIR / "data", tmp_path / "data")
    (tmp_path / "data" / "rossi.csv").write_bytes((REFERENCE_DIR / "data" / "rossi.csv").read_bytes() + b"\n")
    monkeypatch.setattr(ref, "REFERENCE_DIR", tmp_path)
    with pytest.raises(AssertionError, match=r"tests/reference/data/rossi.csv has sha256 .*Restore the committed"):
        ref.reference_data("rossi")
    with pytest.raises(FileNotFoundError, match="data/ has"):
        ref.reference_csv("data/missing.csv")
