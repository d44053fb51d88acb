"""Small synthetic whole-slide images that OpenSlide reads, for tests and demos.

:func:`write_slide` writes an RGB image as a pyramidal, tiled TIFF with JPEG
tiles and resolution tags: the "generic tiled TIFF" format OpenSlide opens
(vendor ``generic-tiff``), with ``openslide.mpp-x``/``mpp-y`` taken from the
resolution tags. Each pyramid level halves the previous one. The tiles are
JPEG-encoded by Pillow and written unchanged by tifffile, so no JPEG codec
beyond Pillow's is needed.

:func:`he_like_image` draws an H&E-like field (pink stroma, purple nuclei, white
background) whose nuclear density and size are parameters, so a test or a demo
can plant a tissue pattern that an encoder can pick up.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

__all__ = ["write_slide", "he_like_image"]


def _jpeg_tiles(level: np.ndarray, tile: int, quality: int):
    from PIL import Image

    h, w = level.shape[:2]
    for y in range(0, h, tile):
        for x in range(0, w, tile):
            block = np.full((tile, tile, 3), 255, np.uint8)
            sub = level[y:y + tile, x:x + tile]
            block[:sub.shape[0], :sub.shape[1]] = sub
            buf = io.BytesIO()
            Image.fromarray(block).save(buf, format="JPEG", quality=quality)
            yield buf.getvalue()


def _halve(a: np.ndarray) -> np.ndarray:
    """Half the size by averaging 2 x 2 blocks (Pillow's box reduction)."""
    from PIL import Image

    h, w = (a.shape[0] // 2) * 2, (a.shape[1] // 2) * 2
    return np.asarray(Image.fromarray(np.ascontiguousarray(a[:h, :w])).reduce(2))


def write_slide(path: str | os.PathLike, image: np.ndarray, *, mpp: float | None = 0.5,
                tile: int = 256, levels: int | None = None, quality: int = 90,
                description: str | None = None) -> Path:
    """Write ``image`` as a pyramidal tiled JPEG TIFF that OpenSlide opens.

    Parameters
    ----------
    path : str or path
        Output file (``.tif``/``.tiff``).
    image : ndarray of uint8, shape (height, width, 3)
        Level-0 RGB pixels.
    mpp : float or None, default 0.5
        Level-0 micrometres per pixel, written as TIFF resolution tags
        (pixels per centimetre). ``None`` writes no resolution (a slide whose
        µm/px OpenSlide cannot report).
    tile : int, default 256
        Tile edge in pixels (a multiple of 16, as TIFF requires).
    levels : int, optional
        Number of pyramid levels; default: halve until the level fits one tile.
    quality : int, default 90
        JPEG quality.
    description : str, optional
        ImageDescription of level 0 (e.g. an Aperio-style header).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import tifffile

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"write_slide expects an RGB uint8 image of shape (height, width, 3); "
                         f"got dtype {image.dtype} and shape {image.shape}.")
    if tile % 16:
        raise ValueError(f"The 'tile' parameter of write_slide must be a multiple of 16. Got {tile} instead.")
    if mpp is not None and not (np.isfinite(mpp) and mpp > 0):
        raise ValueError(f"The 'mpp' parameter of write_slide must be a positive number or None. "
                         f"Got {mpp!r} instead.")
    pyramid = [image]
    while (levels is None and max(pyramid[-1].shape[:2]) > tile) or \
            (levels is not None and len(pyramid) < levels):
        if min(pyramid[-1].shape[:2]) < 2:
            break
        pyramid.append(_halve(pyramid[-1]))
    path = Path(path)
    with tifffile.TiffWriter(path) as tw:
        for i, level in enumerate(pyramid):
            kw = {}
            if mpp is not None:
                ppcm = 1e4 / (mpp * 2 ** i)
                kw.update(resolution=(ppcm, ppcm), resolutionunit="CENTIMETER")
            tw.write(_jpeg_tiles(level, tile, quality), shape=level.shape, dtype=np.uint8,
                     tile=(tile, tile), compression="jpeg", photometric="ycbcr",
                     subfiletype=0 if i == 0 else 1,
                     description=description if i == 0 else None, metadata=None, **kw)
    return path


def he_like_image(height: int, width: int, *, nuclei_density: float = 0.002,
                  nucleus_radius: float = 3.0, tissue: np.ndarray | None = None,
                  stroma_rgb=(232, 170, 200), nucleus_rgb=(95, 50, 140),
                  random_state=None) -> np.ndarray:
    """An H&E-like RGB field: pink stroma with purple nuclei on a white background.

    Parameters
    ----------
    height, width : int
        Size in pixels.
    nuclei_density : float, default 0.002
        Nuclei per tissue pixel.
    nucleus_radius : float, default 3.0
        Nucleus radius in pixels.
    tissue : ndarray of bool, shape (height, width), optional
        Where tissue is; default: an ellipse filling most of the field.
    stroma_rgb, nucleus_rgb : tuple of 3 int
        Mean colours of stroma and nuclei (a stain or scanner difference).
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    ndarray of uint8, shape (height, width, 3)
    """
    rng = np.random.default_rng(random_state)
    if tissue is None:
        yy, xx = np.ogrid[:height, :width]
        tissue = ((yy - height / 2) / (0.42 * height)) ** 2 + ((xx - width / 2) / (0.42 * width)) ** 2 < 1
    tissue = np.asarray(tissue, bool)
    if tissue.shape != (height, width):
        raise ValueError(f"he_like_image: 'tissue' has shape {tissue.shape} but the image is "
                         f"({height}, {width}).")
    # Stroma: a smooth intensity variation drawn on a 1/8 grid and upsampled.
    coarse = rng.normal(0, 1, (height // 8 + 2, width // 8 + 2)).astype(np.float32)
    coarse = (coarse[:-1, :-1] + coarse[1:, :-1] + coarse[:-1, 1:] + coarse[1:, 1:]) / 4 * 30
    colour = np.asarray(stroma_rgb, np.float32) + coarse[..., None] * np.array([0.3, 0.6, 0.4], np.float32)
    colour = np.clip(colour, 0, 255).astype(np.uint8)
    stroma = np.repeat(np.repeat(colour, 8, axis=0), 8, axis=1)[:height, :width]
    img = np.array(stroma)
    img[~tissue] = (243, 243, 246)  # glass
    # Nuclei: discs stamped at random tissue positions.
    n = rng.poisson(nuclei_density * np.count_nonzero(tissue))
    if n:
        py = rng.integers(0, height, 4 * n + 16)
        px = rng.integers(0, width, 4 * n + 16)
        keep = tissue[py, px]
        py, px = py[keep][:n], px[keep][:n]
        n = len(py)
        r = max(int(np.ceil(nucleus_radius)), 1)
        dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
        inside = dy ** 2 + dx ** 2 <= nucleus_radius ** 2
        dy, dx = dy[inside], dx[inside]
        qy = np.clip(py[:, None] + dy[None, :], 0, height - 1).ravel()
        qx = np.clip(px[:, None] + dx[None, :], 0, width - 1).ravel()
        shade = np.repeat(rng.normal(0, 12, n), len(dy))
        rgb = np.clip(np.asarray(nucleus_rgb, np.float32) + shade[:, None], 0, 255).astype(np.uint8)
        on = tissue[qy, qx]
        img[qy[on], qx[on]] = rgb[on]
    return img
