"""The committed example notebooks are executed, in order, without errors, and are current.

``test_notebook_reexecutes_to_the_committed_outputs`` runs each notebook again (nbclient, as
``notebooks/build_notebooks.py`` does) and compares every text and HTML output with the
committed file, so a notebook that no longer runs, or whose numbers changed, fails here; figures
are compared by presence only (PNG bytes depend on the matplotlib build).
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ has no executed example"
    sys.path.insert(0, str(HERE))
    try:
        import build_notebooks
    finally:
        sys.path.remove(str(HERE))
    missing = sorted(set(build_notebooks.NOTEBOOKS) - {p.stem for p in NOTEBOOKS})
    assert not missing, f"notebooks not committed: {missing}; run python notebooks/build_notebooks.py {' '.join(missing)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executed_without_errors(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert all(isinstance(n, int) for n in counts), f"{path.name} has unexecuted cells; run notebooks/build_notebooks.py"
    assert counts == sorted(counts), f"{path.name} was executed out of order"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    images = [o for c in code for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure"
    ids = [c.get("id") for c in nb["cells"]]
    assert ids == [f"cell-{i}" for i in range(len(ids))], "cell ids must be the fixed ones build_notebooks.py writes"
    assert not any("execution" in c.get("metadata", {}) for c in code), "timing metadata makes every re-run a diff"


def _texts(cell):
    out = []
    for o in cell["outputs"]:
        if o["output_type"] == "stream":
            out.append(("stream", "".join(o["text"])))
        elif o["output_type"] in ("execute_result", "display_data"):
            data = o["data"]
            for kind in ("text/plain", "text/html"):
                if kind in data and "image/png" not in data:
                    out.append((kind, "".join(data[kind])))
            if "image/png" in data:
                out.append(("image/png", "present"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_reexecutes_to_the_committed_outputs(path, tmp_path):
    if importlib.util.find_spec("nbclient") is None:
        pytest.skip("nbclient is not installed (pip install -e '.[notebooks]')")
    sys.path.insert(0, str(HERE))
    try:
        import build_notebooks
    finally:
        sys.path.remove(str(HERE))
    name = path.stem
    assert name in build_notebooks.NOTEBOOKS, f"{path.name} is not built by notebooks/build_notebooks.py"
    fresh = build_notebooks.build(name, build_notebooks.NOTEBOOKS[name], out_dir=tmp_path)  # raises on an error
    old = json.loads(path.read_text(encoding="utf-8"))
    new = json.loads(fresh.read_text(encoding="utf-8"))
    assert [c["source"] for c in new["cells"]] == [c["source"] for c in old["cells"]], \
        f"{path.name} is out of date with build_notebooks.py; run python notebooks/build_notebooks.py {name}"
    if name not in build_notebooks.EXACT:
        # Trains networks and boosted trees: the last digits may differ between CPUs. The notebook
        # asserts its own results (the report's numbers recomputed from the saved models).
        assert all(_texts(b) for a, b in zip(old["cells"], new["cells"])
                   if a["cell_type"] == "code" and _texts(a)), f"{path.name}: a cell lost its output"
        return
    for i, (a, b) in enumerate(zip(old["cells"], new["cells"])):
        if a["cell_type"] == "code":
            assert _texts(b) == _texts(a), f"{path.name} cell {i} gives other outputs than the committed ones"
