"""The README's first command, ``nomofuse example``, runs and writes what it says."""

import json

from fusion.cli import main
from nomogram import load_model


def test_example_command_writes_charts_tables_and_models(tmp_path, capsys):
    assert main(["example", "--out", str(tmp_path)]) == 0
    for name in ("logistic", "cox"):
        assert (tmp_path / f"{name}_nomogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / f"{name}_nomogram.pdf").read_bytes()[:5] == b"%PDF-"
        assert "<svg" in (tmp_path / f"{name}_nomogram.svg").read_text()[:2000]
        model = load_model(tmp_path / f"{name}_model.json")
        data = json.loads((tmp_path / f"{name}_model.json").read_text(encoding="utf-8"))
        assert data["format"] == f"nomofuse.nomogram.{type(model).__name__}" and "sha256" in data
    out = capsys.readouterr().out
    assert "logistic: n=686, events=299" in out and "wrote 14 files" in out
