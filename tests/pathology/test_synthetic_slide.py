"""pathology.synthetic.write_slide: OpenSlide reads the pyramid, the pixels and the resolution."""

import numpy as np
import pytest

from pathology.synthetic import he_like_image, write_slide


def test_pyramid_pixels_and_mpp_round_trip(tmp_path):
    import openslide

    img = np.full((600, 800, 3), 240, np.uint8)
    img[100:300, 200:500] = (150, 60, 140)
    path = write_slide(tmp_path / "s.tif", img, mpp=0.2631, tile=128)
    s = openslide.OpenSlide(str(path))
    assert s.dimensions == (800, 600)
    assert s.level_dimensions[1] == (400, 300) and s.level_count == 4
    assert float(s.properties["openslide.mpp-x"]) == pytest.approx(0.2631, rel=1e-6)
    inside = np.asarray(s.read_region((250, 150), 0, (100, 100)).convert("RGB")).astype(int)
    outside = np.asarray(s.read_region((600, 400), 0, (100, 100)).convert("RGB")).astype(int)
    assert np.abs(inside.mean((0, 1)) - (150, 60, 140)).max() < 4  # JPEG keeps the colour
    assert np.abs(outside.mean((0, 1)) - 240).max() < 3
    low = np.asarray(s.read_region((0, 0), 2, (200, 150)).convert("RGB")).astype(int)
    assert np.abs(low[40, 80] - (150, 60, 140)).max() < 8  # level 2 pixel (40, 80) = level 0 (160, 320)


def test_no_resolution_and_bad_input(tmp_path):
    import openslide

    path = write_slide(tmp_path / "n.tif", he_like_image(256, 256, random_state=0), mpp=None)
    assert "openslide.mpp-x" not in openslide.OpenSlide(str(path)).properties
    with pytest.raises(ValueError, match="RGB uint8 image"):
        write_slide(tmp_path / "x.tif", np.zeros((10, 10)))
    with pytest.raises(ValueError, match="multiple of 16"):
        write_slide(tmp_path / "x.tif", np.zeros((10, 10, 3), np.uint8), tile=100)


def test_nuclei_density_is_planted():
    sparse = he_like_image(256, 256, nuclei_density=0.001, random_state=1)
    dense = he_like_image(256, 256, nuclei_density=0.004, random_state=1)
    purple = lambda a: ((a[..., 0] < 140) & (a[..., 2] > a[..., 1] + 40)).mean()  # noqa: E731
    assert purple(dense) > 2.5 * purple(sparse) > 0
