"""Synthetic whole-slide images for tests, benchmarks and demonstrations.

:func:`write_synthetic_slide` writes a pyramidal tiled TIFF, tile by tile
(memory stays small whatever the slide's size), in one of three flavours
that OpenSlide reads:

``"tiff"``
    generic tiled TIFF with ``XResolution``/``YResolution`` in centimetres;
``"svs"``
    Aperio-style: the first ImageDescription starts with ``Aperio`` and
    states ``MPP = <mpp>|AppMag = <mag>``, no resolution tags;
``"no-mpp"``
    generic tiled TIFF with no resolution at all.

The image is white glass with a little noise, H&E-coloured tissue (pink
stroma, purple nuclei) inside given rectangles in µm, and optionally a pen
stroke. A ``pattern`` callable may paint anything else: it receives the µm
coordinates of every pixel of a tile.

JPEG tiles need the ``imagecodecs`` package (a test dependency); without it
the tiles are written uncompressed (``compression=None``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["write_synthetic_slide", "he_texture"]

GLASS = np.array([242, 240, 244], np.float32)


def he_texture(xu: np.ndarray, yu: np.ndarray, seed: int = 0) -> np.ndarray:
    """H&E-like RGB texture at µm coordinates (pink stroma with purple nuclei of ~8 µm)."""
    cell = 12.0
    gx, gy = np.floor(xu / cell), np.floor(yu / cell)
    h = np.sin(gx * 12.9898 + gy * 78.233 + seed * 37.719) * 43758.5453
    rnd = h - np.floor(h)
    cx, cy = (gx + 0.5) * cell, (gy + 0.5) * cell
    nucleus = (rnd > 0.45) & (((xu - cx) ** 2 + (yu - cy) ** 2) < (0.33 * cell) ** 2)
    stroma = np.array([228, 150, 190], np.float32)
    nuc = np.array([110, 70, 160], np.float32)
    out = np.where(nucleus[..., None], nuc, stroma)
    return out + 10.0 * (rnd[..., None] - 0.5)


def _render(x0, y0, w, h, ds, mpp, tissue, pen, pattern, seed):
    """RGB float of level pixels [x0, x0+w) x [y0, y0+h) at downsample ``ds``."""
    xs = (np.arange(x0, x0 + w, dtype=np.float64) + 0.5) * ds * mpp
    ys = (np.arange(y0, y0 + h, dtype=np.float64) + 0.5) * ds * mpp
    xu, yu = np.meshgrid(xs, ys)
    rng = np.random.default_rng(abs(hash((x0, y0, ds, seed))) % (2**32))
    img = np.broadcast_to(GLASS, (h, w, 3)) + rng.normal(0, 1.5, (h, w, 3))
    inside = np.zeros((h, w), bool)
    for (ax, ay, bx, by) in tissue:
        inside |= (xu >= ax) & (xu < bx) & (yu >= ay) & (yu < by)
    if inside.any():
        img = np.where(inside[..., None], he_texture(xu, yu, seed), img)
    if pen is not None:
        (ax, ay, bx, by), color = pen
        on = (xu >= ax) & (xu < bx) & (yu >= ay) & (yu < by)
        img = np.where(on[..., None], np.asarray(color, np.float32), img)
    if pattern is not None:
        img = pattern(xu, yu, img)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def write_synthetic_slide(path, *, width: int, height: int, mpp: float, kind: str = "tiff",
                          tissue=((0.25, 0.25, 0.75, 0.75),), tissue_units: str = "fraction",
                          pen=None, pattern=None, tile: int = 256, levels=None,
                          compression: str | None = "jpeg", quality: int = 90, seed: int = 0,
                          objective_power: float | None = None) -> Path:
    """Write a pyramidal tiled TIFF slide of ``width`` x ``height`` pixels at ``mpp`` µm/px.

    Parameters
    ----------
    path : path
    width, height : int
        Level-0 size in pixels.
    mpp : float
        Microns per level-0 pixel (written as resolution tags, in the Aperio
        description, or not at all, per ``kind``).
    kind : {"tiff", "svs", "no-mpp"}
    tissue : sequence of (x0, y0, x1, y1)
        Tissue rectangles, as fractions of the slide (``tissue_units="fraction"``)
        or in µm (``"um"``).
    pen : ((x0, y0, x1, y1), (r, g, b)), optional
        A pen stroke rectangle (same units as ``tissue``) and its colour.
    pattern : callable, optional
        ``pattern(x_um, y_um, rgb_float) -> rgb_float`` applied last.
    tile : int, default 256
    levels : sequence of int, optional
        Downsamples of the pyramid; default 1, 4, 16, ... down to ~512 px.
    compression : {"jpeg", None}, default "jpeg"
        ``None`` (or a missing imagecodecs) writes uncompressed tiles.
    seed : int
    objective_power : float, optional
        Written as ``AppMag`` for ``kind="svs"`` (default ``10 / mpp``).

    Returns
    -------
    pathlib.Path
    """
    import tifffile

    if kind not in ("tiff", "svs", "no-mpp"):
        raise ValueError(f"The 'kind' parameter of write_synthetic_slide must be one of "
                         f"{{'no-mpp', 'svs', 'tiff'}}. Got {kind!r} instead.")
    if compression == "jpeg":
        try:
            import imagecodecs  # noqa: F401
        except ImportError:
            compression = None
    path = Path(path)
    scale = (1.0, 1.0) if tissue_units == "um" else (width * mpp, height * mpp)

    def to_um(r):
        return (r[0] * scale[0], r[1] * scale[1], r[2] * scale[0], r[3] * scale[1])

    rects = [to_um(r) for r in tissue]
    pen_um = None if pen is None else (to_um(pen[0]), pen[1])
    if levels is None:
        levels = [1]
        while max(width, height) / levels[-1] > 1024:
            levels.append(levels[-1] * 4)
    with tifffile.TiffWriter(str(path), bigtiff=width * height * 3 > 2**31) as tw:
        for k, ds in enumerate(levels):
            lw, lh = max(1, math.ceil(width / ds)), max(1, math.ceil(height / ds))

            def tiles(lw=lw, lh=lh, ds=ds):
                for ty in range(0, lh, tile):
                    for tx in range(0, lw, tile):
                        t = np.full((tile, tile, 3), 255, np.uint8)
                        w, h = min(tile, lw - tx), min(tile, lh - ty)
                        t[:h, :w] = _render(tx, ty, w, h, ds, mpp, rects, pen_um, pattern, seed)
                        yield t

            kw = {}
            if kind == "tiff":
                kw = {"resolution": (1e4 / (mpp * ds), 1e4 / (mpp * ds)), "resolutionunit": "CENTIMETER"}
            desc = None
            if kind == "svs" and k == 0:
                mag = objective_power if objective_power is not None else round(10.0 / mpp)
                desc = (f"Aperio Image Library v12.0.15 \r\n{width}x{height} [0,0 {width}x{height}] "
                        f"({tile}x{tile}) JPEG/RGB Q={quality}|AppMag = {mag:g}|MPP = {mpp:g}")
            tw.write(tiles(), shape=(lh, lw, 3), dtype=np.uint8, tile=(tile, tile),
                     compression="jpeg" if compression == "jpeg" else None,
                     compressionargs={"level": quality} if compression == "jpeg" else None,
                     photometric="rgb", subfiletype=1 if k else 0, description=desc,
                     metadata=None, **kw)
    return path
