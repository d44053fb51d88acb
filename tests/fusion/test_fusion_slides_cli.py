"""``nomofuse slides``: a cohort with a truncated slide and one without µm/px finishes the rest.

The command runs in a fresh process, as from the shell: the cohort runner forks its workers,
and a process that has already run torch (this test session) must not fork workers that run
torch again (GNU OpenMP is not fork-safe).
"""

import subprocess
import sys
import textwrap
from types import SimpleNamespace

import h5py
import numpy as np
import pandas as pd
import pytest

from pathology.synthetic import write_synthetic_slide

_MAIN = textwrap.dedent("""
    import sys
    from pathology.encoders import EncoderConfig, register_encoder
    register_encoder(EncoderConfig(name="test_cli_resnet18_trunc", timm_name="resnet18",
                                   feature_dim=256, truncate="layer3", input_size=48))
    from fusion.commands.slides import COMMAND
    sys.exit(COMMAND.main(sys.argv[1:]))
""")


def _main(args):
    res = subprocess.run([sys.executable, "-c", _MAIN, *map(str, args)], capture_output=True, text=True,
                         timeout=900)
    return res.returncode, SimpleNamespace(out=res.stdout, err=res.stderr)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("cohort")
    rows = []
    for i, (mpp, kind) in enumerate([(0.25, "tiff"), (0.2631, "svs"), (0.5, "tiff")]):
        w, h = int(400 / mpp), int(300 / mpp)
        p = write_synthetic_slide(d / f"s{i}.{'svs' if kind == 'svs' else 'tif'}", width=w, height=h,
                                  mpp=mpp, kind=kind, levels=[1, 4], seed=i)
        rows.append({"slide_id": f"s{i}", "path": p.name, "patient_id": "p1" if i < 2 else "p2"})
    good = (d / "s0.tif").read_bytes()
    (d / "cut.tif").write_bytes(good[: len(good) // 2])
    rows.append({"slide_id": "cut", "path": "cut.tif", "patient_id": "p3"})
    write_synthetic_slide(d / "nompp.tif", width=800, height=600, mpp=0.5, kind="no-mpp", levels=[1, 4])
    rows.append({"slide_id": "nompp", "path": "nompp.tif", "patient_id": "p3"})
    pd.DataFrame(rows).to_csv(d / "slides.csv", index=False)
    return d


def _run(d, *extra):
    return _main(["--manifest", d / "slides.csv", "--out", d / "out" / "slides.parquet",
                  "--encoder", "test_cli_resnet18_trunc", "--random-init", "--tile", "48", "--quiet", *extra])


def test_cohort_finishes_the_rest_and_names_both_failures(cohort):
    code, io = _run(cohort)
    assert code == 2, io.err
    report = io.out
    table = pd.read_parquet(cohort / "out" / "slides.parquet")
    assert list(table["slide_id"]) == ["s0", "s1", "s2"]
    assert list(table.columns[:2]) == ["slide_id", "patient_id"]
    assert table["slide_mpp"].tolist() == pytest.approx([0.25, 0.2631, 0.5], abs=1e-12)
    assert (table["tile_um"] == 24.0).all() and (table["n_tiles"] > 10).all()
    errors = pd.read_csv(cohort / "out" / "slides.parquet.errors.csv").set_index("slide_id")
    assert errors.loc["cut", "stage"] == "read" and "truncated" in errors.loc["cut", "message"]
    assert "cut.tif" in errors.loc["cut", "message"]
    assert errors.loc["nompp", "stage"] == "mpp" and "mpp column" in errors.loc["nompp", "message"]
    assert "nompp.tif" in errors.loc["nompp", "message"]
    assert "cut" in report and "nompp" in report
    # one HDF5 per slide, and one row per patient
    with h5py.File(table.loc[0, "h5"], "r") as f:
        assert f["features"].shape == (table.loc[0, "n_tiles"], 256)
        assert f.attrs["slide_mpp"] == 0.25 and f.attrs["weights_sha256"] == "random-init:0"
    patients = pd.read_parquet(cohort / "out" / "slides.patients.parquet").set_index("patient_id")
    assert list(patients.index) == ["p1", "p2"] and patients.loc["p1", "n_slides"] == 2
    f0 = h5py.File(table.loc[0, "h5"], "r")["features"][()]
    f1 = h5py.File(table.loc[1, "h5"], "r")["features"][()]
    np.testing.assert_allclose(patients.loc["p1", "mean_0007"], np.concatenate([f0, f1])[:, 7].mean(),
                               rtol=1e-5)


def test_rerun_reuses_the_cache_and_recomputes_a_deleted_feature_file(cohort):
    if not (cohort / "out" / "slides.parquet").exists():  # under xdist this worker may not have run the first test
        _run(cohort)
    code, io = _run(cohort)
    assert code == 2, io.err
    table = pd.read_parquet(cohort / "out" / "slides.parquet")
    assert "0 computed, 3 from cache" in io.out
    h5 = table.loc[1, "h5"]
    import os
    os.unlink(h5)
    code, io = _run(cohort)
    assert code == 2, io.err
    assert "1 computed, 2 from cache" in io.out
    with h5py.File(h5, "r") as f:
        assert f["features"].shape[0] == table.loc[1, "n_tiles"]


def test_random_init_must_be_asked_for(cohort):
    code, io = _main(["--manifest", cohort / "slides.csv", "--out", cohort / "x.parquet",
                      "--encoder", "test_cli_resnet18_trunc"])
    assert code == 1 and "--random-init" in io.err
