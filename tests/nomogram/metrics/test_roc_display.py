"""RocDisplay draws what the metrics computed; matplotlib is imported lazily."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nomogram.metrics import roc_curve

from tests._reference import proc_reference

SCORES, REF = proc_reference()


@pytest.fixture(autouse=True)
def _agg():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_from_predictions_draws_curve_band_and_cutoff():
    from nomogram.displays import RocDisplay

    d = RocDisplay.from_predictions(SCORES["arrest"], SCORES["p2"], name="model 2", n_boot=200,
                                    random_state=0)
    assert d.ax_.figure is d.figure_
    c = roc_curve(SCORES["arrest"], SCORES["p2"])
    x, y = d.line_.get_data()
    np.testing.assert_allclose(x, 1 - c.specificities)
    np.testing.assert_allclose(y, c.sensitivities)
    assert len(d.ax_.collections) == 1  # the sensitivity band
    best = REF["scores"]["p2"]["youden"]
    assert d.cutoff.threshold == pytest.approx(best["threshold"][0], rel=1e-12)
    marker = [ln for ln in d.ax_.lines if ln.get_marker() == "o"][0]
    np.testing.assert_allclose(marker.get_data()[0], [1 - best["specificity"][0]])
    np.testing.assert_allclose(marker.get_data()[1], [best["sensitivity"][0]])
    legend = [t.get_text() for t in d.ax_.get_legend().get_texts()]
    assert legend[0].startswith("model 2 (AUC 0.661, 95% CI 0.603-0.719)")


def test_second_curve_on_same_axes():
    from nomogram.displays import RocDisplay

    d1 = RocDisplay.from_predictions(SCORES["arrest"], SCORES["p1"], ci_band=False, cutoff=None)
    d2 = RocDisplay.from_predictions(SCORES["arrest"], SCORES["prio"], ci_band=False, cutoff=None, ax=d1.ax_)
    assert d2.ax_ is d1.ax_ and d2.line_ in d1.ax_.lines


def test_metrics_do_not_import_matplotlib():
    code = "import nomogram.metrics, sys; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "False"
