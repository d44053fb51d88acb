r"""A tile grid at a target resolution, exact in microns, and tile reading.

A tile of ``tile_size`` pixels at ``target_mpp`` µm/px covers
``tile_size * target_mpp`` µm whatever the scanner. In level-0 pixels its side is

.. math:: s_0 = \frac{\text{tile\_size} \times \text{target\_mpp}}{\text{slide\_mpp}}

which is rarely an integer (224 px at 0.5 µm/px on a 0.2631 µm/px Aperio
scan is 425.69 level-0 px). :func:`tile_grid` keeps ``s_0`` exact: tiles are
read from the coarsest pyramid level whose downsample ``d`` is at most
``s_0 / tile_size`` (at least the needed resolution, never enlarged), and the
box of ``s_0 / d`` level pixels (fractional) is resampled to ``tile_size``
pixels with an antialiasing filter. Only the tile's top-left corner is
rounded to a level-0 pixel (as CLAM and TRIDENT store coordinates), an
offset of at most half a level-0 pixel.

Tiles are kept when their tissue fraction (from the
:class:`~pathology.tissue.TissueMask`, exact for fractional boxes) is at least
``min_tissue``. ``overlap`` target pixels are shared by neighbours.

Stain normalisation: :class:`MacenkoNormalizer` (Macenko et al. 2009) is
fitted on reference tiles, saved as JSON, and applied to every tile read.

References
----------
Macenko M et al. A method for normalizing histology slides for quantitative
analysis. IEEE ISBI 2009:1107-1110.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .exceptions import TilingError, _where
from .slide import SlideInfo, best_level, read_region_rgb

__all__ = ["TileGrid", "tile_grid", "read_tile", "MacenkoNormalizer"]


@dataclass
class TileGrid:
    """Where the tiles of a slide are and how to read them.

    Attributes
    ----------
    coords : ndarray (n, 2) int64
        Level-0 ``(x, y)`` of each tile's top-left corner.
    tissue_fraction : ndarray (n,) float32
    tile_size : int
        Pixels per side of a tile as the encoder sees it.
    target_mpp : float
        Microns per tile pixel.
    slide_mpp : float
        Microns per level-0 pixel.
    size0 : float
        Tile side in level-0 pixels (``tile_size * target_mpp / slide_mpp``, not rounded).
    level : int
        Pyramid level the tiles are read from.
    downsample : float
        That level's downsample.
    overlap : int
        Target pixels shared by neighbouring tiles.
    width, height : int
        Level-0 size of the slide.
    """

    coords: np.ndarray
    tissue_fraction: np.ndarray
    tile_size: int
    target_mpp: float
    slide_mpp: float
    size0: float
    level: int
    downsample: float
    overlap: int = 0
    width: int = 0
    height: int = 0
    level0_magnification: float | None = None
    attrs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(len(self.coords))

    @property
    def tile_um(self) -> float:
        """Side of a tile in µm (exact)."""
        return self.tile_size * self.target_mpp


def tile_grid(info: SlideInfo, mask, *, target_mpp: float = 0.5, tile_size: int = 224,
              overlap: int = 0, min_tissue: float = 0.25) -> TileGrid:
    """Lay tiles of ``tile_size`` px at ``target_mpp`` µm/px over the tissue of a slide.

    Parameters
    ----------
    info : SlideInfo
        From :func:`~pathology.slide.check_slide`.
    mask : TissueMask
        From :func:`~pathology.tissue.tissue_mask`.
    target_mpp : float, default 0.5
        Microns per tile pixel (0.5 is what most "20x" encoders were trained at).
        Must be at least the slide's resolution (never enlarge).
    tile_size : int, default 224
    overlap : int, default 0
        Pixels (at the target resolution) shared by neighbouring tiles; ``0 <= overlap < tile_size``.
    min_tissue : float, default 0.25
        Smallest tissue fraction of a kept tile, in [0, 1].

    Returns
    -------
    TileGrid
        In row-major order (top to bottom, left to right).

    Raises
    ------
    TilingError
        Bad parameters, a target finer than the scan, or no tile with enough tissue.
    """
    where = _where(info.path, info.slide_id)
    if not (isinstance(tile_size, (int, np.integer)) and tile_size >= 8):
        raise TilingError(f"The 'tile_size' parameter of tile_grid must be an int >= 8. Got {tile_size!r} instead.")
    if not (isinstance(overlap, (int, np.integer)) and 0 <= overlap < tile_size):
        raise TilingError(f"The 'overlap' parameter of tile_grid must be an int in [0, tile_size). "
                          f"Got {overlap!r} instead.")
    if not (isinstance(min_tissue, (int, float)) and 0.0 <= min_tissue <= 1.0):
        raise TilingError(f"The 'min_tissue' parameter of tile_grid must be in [0, 1]. Got {min_tissue!r} instead.")
    target_mpp = float(target_mpp)
    if not (math.isfinite(target_mpp) and target_mpp > 0):
        raise TilingError(f"The 'target_mpp' parameter of tile_grid must be a positive number. "
                          f"Got {target_mpp!r} instead.")
    if target_mpp < info.mpp * (1 - 1e-3):
        raise TilingError(
            f"Target resolution {target_mpp:g} µm/px is finer than the scan ({info.mpp:.4g} µm/px)"
            f"{where}; tiles would be enlarged. Use target_mpp >= {info.mpp:.4g} (--mpp), or rescan."
        )
    size0 = tile_size * target_mpp / info.mpp
    step0 = (tile_size - overlap) * target_mpp / info.mpp
    nx = max(0, int(math.floor((info.width - size0) / step0)) + 1) if info.width >= size0 else 0
    ny = max(0, int(math.floor((info.height - size0) / step0)) + 1) if info.height >= size0 else 0
    if nx == 0 or ny == 0:
        raise TilingError(f"The slide ({info.width} x {info.height} px) is smaller than one tile of "
                          f"{size0:.1f} level-0 px{where}; lower tile_size or target_mpp.")
    xs = np.round(np.arange(nx) * step0).astype(np.int64)
    ys = np.round(np.arange(ny) * step0).astype(np.int64)
    coords = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    frac = mask.fractions(coords, size0)
    keep = frac >= min_tissue - 1e-9 if min_tissue > 0 else frac > 0
    if not keep.any():
        raise TilingError(
            f"No tile of {tile_size * target_mpp:g} µm has a tissue fraction >= {min_tissue:g}"
            f"{where} (the tissue mask covers {mask.tissue_area_mm2:.3g} mm²). Lower min_tissue, "
            "or check the tissue mask overlay."
        )
    level = best_level(info.level_downsamples, size0 / tile_size)
    return TileGrid(
        coords=coords[keep], tissue_fraction=frac[keep].astype(np.float32), tile_size=int(tile_size),
        target_mpp=target_mpp, slide_mpp=info.mpp, size0=float(size0), level=int(level),
        downsample=float(info.level_downsamples[level]), overlap=int(overlap),
        width=info.width, height=info.height, level0_magnification=info.objective_power,
    )


def read_tile(slide, grid: TileGrid, index: int) -> np.ndarray:
    """Tile ``index`` of ``grid`` as a ``(tile_size, tile_size, 3)`` uint8 array.

    Reads ``ceil(size0 / d) + 2`` pixels of the grid's level around the tile
    and resamples exactly the box ``[x, x + size0)`` (in level-0 units) to
    ``tile_size`` pixels (PIL's antialiasing bilinear filter; a plain copy
    when the box is already ``tile_size`` whole pixels).
    """
    from PIL import Image

    x0, y0 = (int(v) for v in grid.coords[index])
    d = grid.downsample
    lx, ly = x0 / d, y0 / d
    ix, iy = int(math.floor(lx)), int(math.floor(ly))
    side = grid.size0 / d
    n = int(math.ceil(lx - ix + side)) + 1
    m = int(math.ceil(ly - iy + side)) + 1
    # The level-0 location of level pixel (ix, iy) is ix * d (OpenSlide rounds it the same way).
    block = read_region_rgb(slide, (round(ix * d), round(iy * d)), grid.level, (n, m))
    bx, by = lx - ix, ly - iy
    if abs(side - grid.tile_size) < 1e-9 and bx == 0 and by == 0:
        return np.ascontiguousarray(block[:grid.tile_size, :grid.tile_size])
    img = Image.fromarray(block).resize((grid.tile_size, grid.tile_size), Image.Resampling.BILINEAR,
                                        box=(bx, by, bx + side, by + side))
    return np.asarray(img)


class MacenkoNormalizer:
    r"""Macenko stain normalisation, fitted on reference tiles, saved as JSON.

    Optical density ``OD = -log((I + 1) / I0)``; pixels with any channel's OD
    below ``beta`` are transparent and ignored. The stain plane is spanned by
    the two leading eigenvectors of the OD covariance; the hematoxylin and
    eosin vectors are the directions at the ``alpha`` and ``100 - alpha``
    percentiles of the angle in that plane. Each pixel's stain
    concentrations ``C`` solve ``OD = M C`` (least squares); a tile is
    normalised by scaling ``C`` so its 99th percentiles match the
    reference's and recomposing with the reference matrix:
    ``I = I0 exp(-M_ref C (c_ref / c))``.

    Parameters
    ----------
    io : float, default 240
        Transmitted light intensity (the glass).
    alpha : float, default 1
        Percentile of the robust extreme angles.
    beta : float, default 0.15
        OD threshold of transparent pixels.

    Attributes
    ----------
    stain_matrix_ : ndarray (3, 2)
        Hematoxylin and eosin OD vectors (unit columns) of the reference.
    max_concentrations_ : ndarray (2,)
        99th percentiles of the reference's concentrations.

    References
    ----------
    Macenko M et al. A method for normalizing histology slides for
    quantitative analysis. IEEE ISBI 2009:1107-1110.
    """

    FORMAT = "nomofuse.pathology.MacenkoNormalizer"

    def __init__(self, io: float = 240.0, alpha: float = 1.0, beta: float = 0.15):
        self.io = io
        self.alpha = alpha
        self.beta = beta

    def _od(self, rgb):
        x = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
        return -np.log((x + 1.0) / self.io)

    def stains(self, tiles) -> tuple[np.ndarray, np.ndarray]:
        """Stain matrix (3, 2) and 99th-percentile concentrations (2,) of some RGB pixels."""
        arrays = [np.asarray(t) for t in (tiles if isinstance(tiles, (list, tuple)) else [tiles])]
        od = np.concatenate([self._od(a) for a in arrays])
        tissue = od[(od > self.beta).all(axis=1)]
        if len(tissue) < 100:
            raise TilingError(
                f"Macenko stain estimation needs at least 100 stained pixels (OD > {self.beta} in "
                f"every channel); got {len(tissue)}. Fit on tiles that hold tissue.")
        _, vecs = np.linalg.eigh(np.cov(tissue.T))
        plane = vecs[:, [2, 1]]
        plane *= np.sign(plane[0:1, :] + 1e-12)  # first component positive
        proj = tissue @ plane
        phi = np.arctan2(proj[:, 1], proj[:, 0])
        lo, hi = np.percentile(phi, [self.alpha, 100 - self.alpha])
        v1 = plane @ np.array([np.cos(lo), np.sin(lo)])
        v2 = plane @ np.array([np.cos(hi), np.sin(hi)])
        # Hematoxylin absorbs more red than eosin does: it comes first.
        he = np.stack([v1, v2], axis=1) if v1[0] > v2[0] else np.stack([v2, v1], axis=1)
        he /= np.linalg.norm(he, axis=0, keepdims=True)
        conc, *_ = np.linalg.lstsq(he, tissue.T, rcond=None)
        return he, np.percentile(conc, 99, axis=1)

    def fit(self, tiles) -> "MacenkoNormalizer":
        """Fit on reference tiles (an RGB array or a list of them); returns self."""
        self.stain_matrix_, self.max_concentrations_ = self.stains(tiles)
        return self

    def transform(self, tile: np.ndarray) -> np.ndarray:
        """Normalise one RGB tile (h, w, 3) uint8 to the reference's stains."""
        if not hasattr(self, "stain_matrix_"):
            from nomogram.exceptions import NotFittedError

            raise NotFittedError("This MacenkoNormalizer instance is not fitted yet; call fit first.")
        tile = np.asarray(tile)
        try:
            he, maxc = self.stains(tile)
        except TilingError:  # (almost) no stain: nothing to normalise
            return tile
        od = self._od(tile)
        conc, *_ = np.linalg.lstsq(he, od.T, rcond=None)
        conc *= (self.max_concentrations_ / np.maximum(maxc, 1e-6))[:, None]
        out = self.io * np.exp(-(self.stain_matrix_ @ conc))
        return np.clip(out.T.reshape(tile.shape) + 0.5, 0, 255).astype(np.uint8)

    def to_dict(self) -> dict:
        if not hasattr(self, "stain_matrix_"):
            from nomogram.exceptions import NotFittedError

            raise NotFittedError("This MacenkoNormalizer instance is not fitted yet; call fit first.")
        return {"format": self.FORMAT, "version": 1,
                "params": {"io": self.io, "alpha": self.alpha, "beta": self.beta},
                "stain_matrix": self.stain_matrix_.tolist(),
                "max_concentrations": self.max_concentrations_.tolist()}

    def to_json(self, path=None) -> str:
        """JSON text of the fitted normaliser (also written to ``path``, UTF-8, when given)."""
        from ._model_file import write_json_model

        return write_json_model(self.to_dict(), path)

    @classmethod
    def from_json(cls, source) -> "MacenkoNormalizer":
        """Read :meth:`to_json` output (a path or the text)."""
        from ._model_file import read_json_model

        d = read_json_model(source, cls.FORMAT, 1, "MacenkoNormalizer.from_json")
        obj = cls(**d["params"])
        obj.stain_matrix_ = np.asarray(d["stain_matrix"], dtype=np.float64).reshape(3, 2)
        obj.max_concentrations_ = np.asarray(d["max_concentrations"], dtype=np.float64).reshape(2)
        return obj
