"""Tissue detection, the tile grid at an exact µm/px, user masks, Macenko."""

import json

import numpy as np
import pytest
from PIL import Image

from pathology import (MacenkoNormalizer, TilingError, TissueError, TissueMask, check_slide,
                       open_slide, read_tile, read_tissue_mask, tile_grid, tissue_mask)
from pathology.synthetic import write_synthetic_slide

from .conftest import TISSUE_UM, tissue_box_level0


def _boxes_overlap(coords, size0, box):
    x0, y0, x1, y1 = box
    ox = np.clip(np.minimum(coords[:, 0] + size0, x1) - np.maximum(coords[:, 0], x0), 0, None)
    oy = np.clip(np.minimum(coords[:, 1] + size0, y1) - np.maximum(coords[:, 1], y0), 0, None)
    return ox * oy / size0**2


@pytest.mark.parametrize("name", ["tiff025", "svs", "tiff05"])
def test_tiles_cover_the_tissue_rectangle_and_avoid_background(slides, name):
    info = check_slide(slides[name])
    tm = tissue_mask(slides[name], info)
    grid = tile_grid(info, tm, target_mpp=0.5, tile_size=32, min_tissue=0.5)
    box = tissue_box_level0(info.mpp)
    inside = _boxes_overlap(grid.coords, grid.size0, box)
    # every kept tile lies mostly on the tissue rectangle; none on the glass
    assert inside.min() >= 0.4, inside.min()
    # every tile position fully inside the rectangle is kept
    step = grid.size0
    xs = np.round(np.arange(0, info.width, step)).astype(int)
    ys = np.round(np.arange(0, info.height, step)).astype(int)
    all_pos = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    full = all_pos[_boxes_overlap(all_pos, grid.size0, box) >= 0.999]
    # (morphological opening rounds the rectangle's corners by the 16 µm smoothing radius)
    centre = full + grid.size0 / 2
    corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[0], box[3]], [box[2], box[3]]])
    far = np.linalg.norm(centre[:, None, :] - corners[None], axis=2).min(axis=1) * info.mpp > 48
    kept = {tuple(c) for c in grid.coords}
    assert far.sum() > 20 and all(tuple(c) in kept for c in full[far])
    # the kept tiles cover at least 90 % of the rectangle
    area = (box[2] - box[0]) * (box[3] - box[1])
    assert inside.sum() * grid.size0**2 / area >= 0.9


@pytest.mark.parametrize("name, mpp", [("tiff025", 0.25), ("svs", 0.2631), ("tiff05", 0.5)])
def test_tile_covers_exactly_tile_times_target_microns(tmp_path, name, mpp):
    period_um = 40.0

    def stripes(xu, yu, img):
        v = 128 + 90 * np.sin(2 * np.pi * xu / period_um)
        return np.stack([v, 0.5 * v, v], -1)

    w, h = int(round(600 / mpp)), int(round(300 / mpp))
    path = write_synthetic_slide(tmp_path / f"stripes{'.svs' if name == 'svs' else '.tif'}", width=w,
                                 height=h, mpp=mpp, kind="svs" if name == "svs" else "tiff",
                                 pattern=stripes, levels=[1, 2, 8], tissue=((0, 0, 1, 1),))
    info = check_slide(path)
    assert info.mpp == pytest.approx(mpp, abs=1e-12)
    tm = TissueMask(np.ones((4, 4), bool), max(info.width, info.height) / 4, info.width, info.height, 8.0)
    grid = tile_grid(info, tm, target_mpp=0.5, tile_size=224, min_tissue=0.0)
    assert grid.size0 * info.mpp == pytest.approx(224 * 0.5, rel=1e-12)  # 112 µm, exactly
    assert grid.level == (1 if mpp == 0.25 else 0)  # best level at or above the needed resolution
    tile = read_tile(open_slide(path), grid, len(grid) // 2).astype(float)
    prof = tile[..., 0].mean(axis=0) - tile[..., 0].mean()
    x = np.arange(224)
    periods = np.linspace(60, 100, 4001)
    resid = []
    for per in periods:
        A = np.stack([np.cos(2 * np.pi * x / per), np.sin(2 * np.pi * x / per)], 1)
        coef = np.linalg.lstsq(A, prof, rcond=None)[0]
        resid.append(((A @ coef - prof) ** 2).sum())
    measured = periods[int(np.argmin(resid))]
    expected = period_um / 0.5  # 80 tile pixels
    assert measured == pytest.approx(expected, rel=0.01)
    if name == "svs":  # a nominal "40x = 0.25 µm/px" would give 76 px: 5 % off, outside the tolerance
        assert abs(expected * 0.25 / mpp - expected) / expected > 0.04


def test_pen_marks_and_black_are_not_tissue(tmp_path):
    path = write_synthetic_slide(tmp_path / "pen.tif", width=1600, height=1200, mpp=0.5,
                                 tissue=((0.3, 0.3, 0.7, 0.7),),
                                 pen=((0.05, 0.05, 0.15, 0.95), (40, 160, 70)))
    info = check_slide(path)
    tm = tissue_mask(path, info)
    h, w = tm.mask.shape
    assert not tm.mask[:, : int(0.17 * w)].any()  # green ink column
    assert tm.mask[int(0.5 * h), int(0.5 * w)]
    assert abs(tm.tissue_area_mm2 - 0.4 * 0.4 * 0.8 * 0.6) / (0.4 * 0.4 * 0.8 * 0.6) < 0.15


def test_blank_slide_has_no_tissue_and_says_what_to_do(tmp_path):
    path = write_synthetic_slide(tmp_path / "blank.tif", width=800, height=600, mpp=0.5, tissue=())
    with pytest.raises(TissueError, match="tissue_mask column"):
        tissue_mask(path, check_slide(path))


def test_fractions_are_exact_for_fractional_boxes():
    rng = np.random.default_rng(1)
    mask = rng.random((20, 30)) > 0.5
    tm = TissueMask(mask, 8.0, 240, 160, 4.0)
    fine = np.kron(mask, np.ones((8, 8), bool))  # one cell per level-0 pixel
    for _ in range(30):
        x, y = rng.integers(0, 200), rng.integers(0, 120)
        size = rng.integers(5, 40)
        brute = fine[y:y + size, x:x + size].mean()
        assert tm.fractions(np.array([[x, y]]), float(size))[0] == pytest.approx(brute, abs=1e-12)


def test_overlap_and_bad_parameters(slides):
    info = check_slide(slides["tiff05"])
    tm = tissue_mask(slides["tiff05"], info)
    g0 = tile_grid(info, tm, tile_size=32, min_tissue=0.0)
    g1 = tile_grid(info, tm, tile_size=32, overlap=16, min_tissue=0.0)
    assert np.diff(np.unique(g1.coords[:, 0]))[0] == 16 and len(g1) > 3 * len(g0)
    with pytest.raises(TilingError, match="overlap"):
        tile_grid(info, tm, tile_size=32, overlap=32)
    with pytest.raises(TilingError, match="finer than the scan"):
        tile_grid(info, tm, target_mpp=0.25)
    with pytest.raises(TilingError, match="min_tissue"):
        tile_grid(info, tm, min_tissue=1.5)


def test_user_masks_geojson_and_png(slides, tmp_path):
    info = check_slide(slides["tiff025"])
    x0, y0, x1, y1 = tissue_box_level0(0.25)
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    gj = tmp_path / "m.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}))
    tm = read_tissue_mask(gj, info)
    assert tm.source == "geojson"
    assert tm.tissue_area_mm2 == pytest.approx(0.256 * 0.192, rel=0.1)
    in_um = tmp_path / "um.geojson"
    in_um.write_text(json.dumps({"type": "Polygon", "coordinates": [[[v * 10 for v in p] for p in ring]]}))
    with pytest.raises(TissueError, match="level-0 pixels"):
        read_tissue_mask(in_um, info)
    png = tmp_path / "m.png"
    arr = np.zeros((160, 224), np.uint8)
    arr[32:128, 48:176] = 255
    Image.fromarray(arr).save(png)
    assert read_tissue_mask(png, info).mask.sum() == pytest.approx(tm.mask.sum(), rel=0.1)
    Image.fromarray(np.zeros((100, 100), np.uint8) + 255).save(tmp_path / "sq.png")
    with pytest.raises(TissueError, match="aspect ratios"):
        read_tissue_mask(tmp_path / "sq.png", info)


def test_mask_png_round_trip_and_overlay(slides, tmp_path):
    info = check_slide(slides["svs"])
    tm, thumb = tissue_mask(slides["svs"], info, return_thumbnail=True)
    back = TissueMask.load(tm.save(tmp_path / "mask.png"))
    assert np.array_equal(back.mask, tm.mask) and back.scale == tm.scale
    ov = tm.overlay(thumb)
    assert ov.shape == thumb.shape and ov.dtype == np.uint8


def _stained(rng, he, n=4000, io=240.0):
    conc = rng.gamma(2.0, 0.4, size=(2, n))
    od = he @ conc
    rgb = io * np.exp(-od.T)
    return np.clip(rgb, 0, 255).astype(np.uint8).reshape(40, 100, 3)


def test_macenko_recovers_stains_normalises_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    ref_he = np.array([[0.65, 0.07], [0.70, 0.99], [0.29, 0.11]])
    ref_he /= np.linalg.norm(ref_he, axis=0)
    other = np.array([[0.50, 0.20], [0.80, 0.90], [0.33, 0.38]])
    other /= np.linalg.norm(other, axis=0)
    ref = _stained(rng, ref_he)
    norm = MacenkoNormalizer().fit([ref])
    cos = np.abs((norm.stain_matrix_ * ref_he).sum(axis=0))
    assert cos.min() > 0.99
    src = _stained(np.random.default_rng(1), other)
    out = norm.transform(src)
    est_out, _ = MacenkoNormalizer().stains(out)
    assert np.abs((est_out * ref_he).sum(axis=0)).min() > 0.99  # now stained like the reference
    back = MacenkoNormalizer.from_json(norm.to_json(tmp_path / "stain.json"))
    assert np.array_equal(back.transform(src), out)
