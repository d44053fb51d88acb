"""check_slide and slide_mpp: OpenSlide metadata, TIFF tags, overrides, and clear failures."""

import numpy as np
import pytest

from pathology import ResolutionError, SlideReadError, check_slide, slide_mpp
from pathology.synthetic import write_synthetic_slide


def test_mpp_from_openslide_generic_tiff_and_aperio(slides):
    tif = check_slide(slides["tiff025"], slide_id="a")
    assert (tif.mpp_x, tif.mpp_y, tif.mpp_source, tif.vendor) == (0.25, 0.25, "openslide", "generic-tiff")
    assert tif.level_count == 2 and tif.width == 1792
    svs = check_slide(slides["svs"])
    assert svs.vendor == "aperio"
    assert svs.mpp == pytest.approx(0.2631, abs=1e-12) and svs.mpp_source == "openslide"
    assert svs.objective_power == 38.0  # what the description says; never used to size tiles


def test_slide_without_resolution_names_file_and_fix(slides):
    with pytest.raises(ResolutionError) as err:
        check_slide(slides["nompp"], slide_id="s9")
    msg = str(err.value)
    assert "nompp.tif" in msg and "s9" in msg and "mpp column" in msg
    assert err.value.stage == "mpp"
    info = check_slide(slides["nompp"], mpp=0.5)
    assert (info.mpp, info.mpp_source) == (0.5, "override")


def test_override_disagreeing_with_metadata_is_refused_unless_preferred(slides):
    with pytest.raises(ResolutionError, match="prefer='override'"):
        check_slide(slides["tiff025"], mpp=0.5)
    assert check_slide(slides["tiff025"], mpp=0.251).mpp == 0.25  # within 2 %: the slide's value
    assert check_slide(slides["tiff025"], mpp=0.5, prefer="override").mpp == 0.5


@pytest.mark.parametrize("props, expected", [
    ({"tiff.XResolution": "40000", "tiff.YResolution": "40000", "tiff.ResolutionUnit": "centimeter"}, 0.25),
    ({"tiff.XResolution": "101600", "tiff.ResolutionUnit": "inch"}, 0.25),
    ({"openslide.mpp-x": "0.2527", "openslide.mpp-y": "0.2527", "tiff.XResolution": "1",
      "tiff.ResolutionUnit": "centimeter"}, 0.2527),
])
def test_resolution_sources(props, expected):
    x, y, source = slide_mpp(props)
    assert x == pytest.approx(expected, rel=1e-12) and y == pytest.approx(expected, rel=1e-12)
    assert source == ("openslide" if "openslide.mpp-x" in props else "tiff-tags")


def test_implausible_or_unitless_resolution_fails():
    with pytest.raises(ResolutionError, match="72 dpi"):
        slide_mpp({"tiff.XResolution": "72", "tiff.ResolutionUnit": "inch"}, path="x.tif")
    with pytest.raises(ResolutionError, match="no microns-per-pixel"):
        slide_mpp({"tiff.XResolution": "72", "tiff.ResolutionUnit": "none"}, path="x.tif")
    with pytest.raises(ResolutionError, match="not square"):
        slide_mpp({"openslide.mpp-x": "0.25", "openslide.mpp-y": "0.5"})


def test_truncated_slide_is_caught_before_reading(slides, tmp_path):
    data = slides["tiff025"].read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(SlideReadError) as err:
        check_slide(cut, slide_id="s3")
    assert "truncated" in str(err.value) and "cut.tif" in str(err.value)
    assert "copy it again" in str(err.value).lower() and err.value.stage == "read"


def test_missing_and_non_slide_files(tmp_path):
    with pytest.raises(SlideReadError, match="does not exist"):
        check_slide(tmp_path / "nope.svs")
    junk = tmp_path / "notes.svs"
    junk.write_text("not a slide")
    with pytest.raises(SlideReadError, match="does not recognise"):
        check_slide(junk)


def test_large_slide_without_pyramid_is_refused(tmp_path):
    p = write_synthetic_slide(tmp_path / "flat.tif", width=16640, height=64, mpp=0.5, levels=[1],
                              tissue=(), compression=None)
    with pytest.raises(SlideReadError, match="no pyramid"):
        check_slide(p)
    assert check_slide(p, max_unpyramided=20000).level_count == 1
