"""Memory does not grow with slide size; displays draw what they are given."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pathology import AttentionHeatmapDisplay, TissueMaskDisplay, check_slide, tile_grid, tissue_mask
from pathology.displays import attention_grid

_PEAK = textwrap.dedent("""
    import sys, tracemalloc
    from pathology.encoders import EncoderConfig, register_encoder
    from pathology.cohort import slide_features
    from pathology.synthetic import write_synthetic_slide
    register_encoder(EncoderConfig(name="mem_test", timm_name="resnet18", feature_dim=256,
                                   truncate="layer3", input_size=32))
    side = float(sys.argv[2])
    p = write_synthetic_slide(sys.argv[1] + "/s.tif", width=int(side / 0.5), height=int(side / 0.5),
                              mpp=0.5, levels=[1, 4], tissue=((0.1, 0.1, 0.9, 0.9),))
    slide_features("warm", p, out_dir=sys.argv[1], encoder="mem_test", random_init=True,
                   tile_size=128, num_workers=0, batch_size=16)
    tracemalloc.start()
    row = slide_features("s", p, out_dir=sys.argv[1], encoder="mem_test", random_init=True,
                         tile_size=128, num_workers=0, batch_size=16)
    print(row["n_tiles"], tracemalloc.get_traced_memory()[1])
""")


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_slide_size(tmp_path):
    """Traced (Python and numpy) peak of one slide, for a slide and one of 4x its area.

    Holding the larger slide's level 0 would take 48 MB; the peak may grow only by
    the tile coordinates (16 bytes a tile) and the thumbnail.
    """
    peaks, tiles = [], []
    for side in (1000.0, 2000.0):  # µm at 0.5 µm/px; the second has 4x the area and ~4x the tiles
        d = tmp_path / str(int(side))
        d.mkdir()
        out = subprocess.run([sys.executable, "-c", _PEAK, str(d), str(side)], capture_output=True,
                             text=True, timeout=600, check=True).stdout.split()
        tiles.append(int(out[0]))
        peaks.append(int(out[1]))
    assert tiles[1] > 3.5 * tiles[0]
    level0_bytes = int(2000 / 0.5) ** 2 * 3
    assert peaks[1] - peaks[0] < 0.05 * level0_bytes, peaks
    assert peaks[1] < 1.5 * peaks[0], peaks


def test_attention_heatmap_and_tissue_display(slides, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    info = check_slide(slides["tiff025"])
    tm, thumb = tissue_mask(slides["tiff025"], info, return_thumbnail=True)
    grid = tile_grid(info, tm, target_mpp=0.5, tile_size=32, min_tissue=0.5)
    att = np.linspace(0, 1, len(grid))
    disp = AttentionHeatmapDisplay.from_predictions(att, grid.coords, thumb, size0=grid.size0,
                                                    scale=tm.scale, slide_id="tiff025", score=1.5)
    disp.plot()
    assert disp.figure_ is disp.ax_.figure
    h = disp.heatmap
    assert np.isnan(h[0, 0]) and np.nanmax(h) == pytest.approx(1.0)
    disp.figure_.savefig(tmp_path / "attention.png", dpi=60)
    TissueMaskDisplay.from_mask(tm, thumb, grid=grid, slide_id="tiff025").plot().figure_.savefig(
        tmp_path / "tissue.png", dpi=60)
    # overlapping tiles average
    g = attention_grid(np.array([[0, 0], [8, 0]]), [1.0, 3.0], 16.0, 4.0, (4, 6))
    assert g[0, 0] == 1.0 and g[0, 2] == 2.0 and g[0, 5] == 3.0
