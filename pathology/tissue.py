r"""Where the tissue is: a thumbnail, a tissue mask, a quick-look overlay.

The thumbnail is read at ``mask_mpp`` microns per pixel (default 8 µm/px:
a 20 x 15 mm section is 2500 x 1875 pixels) from the lowest-resolution
pyramid level that is fine enough, block by block, so no level is ever held
whole in memory.

:func:`detect_tissue` finds tissue on it:

1. pixels that are nearly black (value < 0.15: black ink, scanner border) or
   pen marks (green ink: hue 70-190°, saturation > 0.25; blue ink: hue
   190-245°, saturation > 0.4; H&E stains are pink to purple, hue 245-360°
   and 0-70°) are excluded;
2. HSV saturation ``S = (max - min) / max`` of the others is thresholded with
   Otsu's method (Otsu 1979), at least ``min_saturation`` (white glass and
   JPEG noise have S < 0.05);
3. morphological closing then opening with a disc of ``smooth_um`` µm;
4. holes smaller than ``max_hole_um2`` are filled (larger ones, e.g. a gland
   lumen or a tear, stay out);
5. connected pieces smaller than ``min_area_um2`` are dropped (dust, debris).

The result is a :class:`TissueMask`, which knows its scale (level-0 pixels
per mask pixel) and gives the exact tissue fraction of any level-0 box. A
user's own mask (GeoJSON polygons in level-0 pixels, as QuPath exports, or a
PNG covering the slide) may replace it: :func:`read_tissue_mask`.

References
----------
Otsu N. A threshold selection method from gray-level histograms. IEEE Trans
Syst Man Cybern 1979;9:62-66.
Lu MY et al. Data-efficient and weakly supervised computational pathology on
whole-slide images (CLAM). Nat Biomed Eng 2021;5:555-570 (saturation
thresholding on a thumbnail, hole and area filters).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .exceptions import TissueError, _where
from .slide import SlideInfo, best_level, open_slide, read_region_rgb

__all__ = ["TissueMask", "slide_thumbnail", "detect_tissue", "tissue_mask", "read_tissue_mask",
           "otsu_threshold"]

#: Largest region (pixels on a side, at the level read) fetched at once for a thumbnail.
_MAX_READ = 512


def slide_thumbnail(slide, info: SlideInfo, mpp: float = 8.0) -> np.ndarray:
    """The slide at ``mpp`` µm/px as an ``(h, w, 3)`` uint8 array, read block by block.

    Parameters
    ----------
    slide : openslide.OpenSlide or path
    info : SlideInfo
        From :func:`~pathology.slide.check_slide` (gives the level-0 µm/px).
    mpp : float, default 8.0
        Microns per thumbnail pixel; must be coarser than the slide's.

    Notes
    -----
    Thumbnail pixel ``(i, j)`` averages (box filter) the level-0 square
    ``[i f, (i+1) f) x [j f, (j+1) f)``, ``f = mpp / info.mpp``, read from the
    coarsest level whose downsample is at most ``f``.
    """
    from PIL import Image

    own = not hasattr(slide, "read_region")
    if own:
        slide = open_slide(slide, slide_id=info.slide_id)
    try:
        f = float(mpp) / info.mpp
        if not f >= 1.0:
            raise TissueError(f"The thumbnail resolution ({mpp} µm/px) must be coarser than the "
                              f"slide's ({info.mpp:.4g} µm/px){_where(info.path, info.slide_id)}; "
                              "raise mask_mpp.")
        tw, th = max(1, math.ceil(info.width / f)), max(1, math.ceil(info.height / f))
        level = best_level(info.level_downsamples, f)
        d = info.level_downsamples[level]
        lw, lh = info.level_dimensions[level]
        step = max(1, int(_MAX_READ * d / f))  # thumbnail pixels per block side
        out = np.empty((th, tw, 3), np.uint8)
        for ty0 in range(0, th, step):
            ty1 = min(th, ty0 + step)
            for tx0 in range(0, tw, step):
                tx1 = min(tw, tx0 + step)
                lx0, ly0 = tx0 * f / d, ty0 * f / d
                lx1, ly1 = min(tx1 * f / d, lw), min(ty1 * f / d, lh)
                ix0, iy0 = int(math.floor(lx0)), int(math.floor(ly0))
                ix1, iy1 = min(lw, int(math.ceil(lx1))), min(lh, int(math.ceil(ly1)))
                if ix1 <= ix0 or iy1 <= iy0:
                    out[ty0:ty1, tx0:tx1] = 255
                    continue
                block = read_region_rgb(slide, (round(ix0 * d), round(iy0 * d)), level,
                                        (ix1 - ix0, iy1 - iy0))
                img = Image.fromarray(block).resize(
                    (tx1 - tx0, ty1 - ty0), Image.Resampling.BOX,
                    box=(lx0 - ix0, ly0 - iy0, max(lx1 - ix0, lx0 - ix0 + 1e-3),
                         max(ly1 - iy0, ly0 - iy0 + 1e-3)))
                out[ty0:ty1, tx0:tx1] = np.asarray(img)
        return out
    finally:
        if own:
            slide.close()


def otsu_threshold(values: np.ndarray, bins: int = 256, value_range=(0.0, 1.0)) -> float:
    """Otsu's threshold of ``values``: maximises the between-class variance of the histogram."""
    hist, edges = np.histogram(values, bins=bins, range=value_range)
    hist = hist.astype(np.float64)
    total = hist.sum()
    if total == 0:
        return float(value_range[1])
    centres = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(hist)
    w1 = total - w0
    m0 = np.cumsum(hist * centres)
    mu_t = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu_t * w0 / total - m0) ** 2 / (w0 * w1 / total)
    between[~np.isfinite(between)] = -1
    k = int(np.argmax(between))
    return float(edges[k + 1])


def _hsv(rgb: np.ndarray):
    x = rgb.astype(np.float32) / 255.0
    mx, mn = x.max(axis=-1), x.min(axis=-1)
    delta = mx - mn
    with np.errstate(divide="ignore", invalid="ignore"):
        sat = np.where(mx > 0, delta / mx, 0.0)
        r, g, b = x[..., 0], x[..., 1], x[..., 2]
        hue = np.where(mx == r, ((g - b) / delta) % 6,
                       np.where(mx == g, (b - r) / delta + 2, (r - g) / delta + 4)) * 60.0
    hue = np.where(delta > 0, hue, 0.0)
    return hue, sat, mx


def _disc(radius: int) -> np.ndarray:
    r = max(0, int(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return xx ** 2 + yy ** 2 <= r * r + 1e-9


def detect_tissue(thumbnail: np.ndarray, mpp: float, *, min_saturation: float = 0.05,
                  smooth_um: float = 16.0, max_hole_um2: float = 20000.0,
                  min_area_um2: float = 20000.0, exclude_pens: bool = True) -> np.ndarray:
    """Boolean tissue mask of an RGB thumbnail (see the module docstring for the steps).

    Parameters
    ----------
    thumbnail : ndarray (h, w, 3) uint8
    mpp : float
        Microns per thumbnail pixel (sets the µm parameters in pixels).
    min_saturation : float, default 0.05
        Lowest saturation threshold, whatever Otsu says (a blank slide stays blank).
    smooth_um : float, default 16
        Radius of the closing/opening disc.
    max_hole_um2 : float, default 20000 (0.02 mm²)
        Holes smaller than this are filled.
    min_area_um2 : float, default 20000
        Tissue pieces smaller than this are dropped.
    exclude_pens : bool, default True
        Exclude green and blue ink and black marks.

    Returns
    -------
    ndarray (h, w) bool
    """
    from scipy import ndimage

    rgb = np.asarray(thumbnail)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise TissueError(f"detect_tissue expects an (h, w, 3) uint8 RGB thumbnail; got shape "
                          f"{rgb.shape} and dtype {rgb.dtype}.")
    # Saturation (quantised to 256 levels: Otsu works on a 256-bin histogram anyway) and the
    # usable pixels, computed a band of rows at a time so the float temporaries stay small.
    sat = np.empty(rgb.shape[:2], np.uint8)
    usable = np.empty(rgb.shape[:2], bool)
    for r0 in range(0, rgb.shape[0], 256):
        hue, s, val = _hsv(rgb[r0:r0 + 256])
        ok = val >= 0.15
        if exclude_pens:
            green = (hue >= 70) & (hue < 190) & (s > 0.25)
            blue = (hue >= 190) & (hue < 245) & (s > 0.4)
            ok &= ~(green | blue)
        sat[r0:r0 + 256] = np.minimum(np.floor(s * 256.0), 255).astype(np.uint8)
        usable[r0:r0 + 256] = ok
    cand = sat[usable]
    thr = max(otsu_threshold(cand, value_range=(0, 256)) / 256.0, float(min_saturation)) if cand.size else 1.0
    mask = usable & (sat >= np.ceil(thr * 256.0))
    px_area = float(mpp) ** 2
    r = int(round(smooth_um / mpp))
    if r >= 1:
        disc = _disc(r)
        mask = ndimage.binary_closing(mask, structure=disc, border_value=0)
        mask = ndimage.binary_opening(mask, structure=disc, border_value=0)
    holes = ndimage.binary_fill_holes(mask) & ~mask
    if holes.any():
        lab, n = ndimage.label(holes)
        sizes = np.bincount(lab.ravel(), minlength=n + 1) * px_area
        small = sizes < max_hole_um2
        small[0] = False
        mask |= small[lab]
    lab, n = ndimage.label(mask)
    if n:
        sizes = np.bincount(lab.ravel(), minlength=n + 1) * px_area
        keep = sizes >= min_area_um2
        keep[0] = False
        mask = keep[lab]
    return mask


@dataclass
class TissueMask:
    """A boolean tissue mask on a regular grid over the slide.

    Attributes
    ----------
    mask : ndarray (h, w) bool
        True on tissue. Pixel ``(i, j)`` covers the level-0 square
        ``[j s, (j+1) s) x [i s, (i+1) s)``.
    scale : float
        ``s``, level-0 pixels per mask pixel (``mask_mpp / slide_mpp``).
    width, height : int
        Level-0 size of the slide.
    mpp : float
        Microns per mask pixel.
    source : str
        ``"otsu"``, ``"geojson"`` or ``"png"``.
    """

    mask: np.ndarray
    scale: float
    width: int
    height: int
    mpp: float
    source: str = "otsu"

    def __post_init__(self):
        self.mask = np.asarray(self.mask, dtype=bool)
        self._sat = None

    @property
    def tissue_area_mm2(self) -> float:
        return float(self.mask.sum()) * (self.mpp / 1000.0) ** 2

    def fractions(self, coords, size0: float) -> np.ndarray:
        """Exact tissue fraction of level-0 boxes ``[x, x + size0) x [y, y + size0)``.

        The integral of the piecewise-constant mask over a box with fractional
        corners is the bilinear interpolation of its summed-area table at the
        corners, so the fraction is exact whatever the tile/mask alignment.
        Outside the slide counts as background.

        Parameters
        ----------
        coords : ndarray (n, 2)
            Level-0 ``(x, y)`` of each box's top-left corner.
        size0 : float
            Side of the boxes in level-0 pixels.
        """
        if self._sat is None:
            sat = np.zeros((self.mask.shape[0] + 1, self.mask.shape[1] + 1), np.float64)
            sat[1:, 1:] = np.cumsum(np.cumsum(self.mask, axis=0, dtype=np.float64), axis=1)
            self._sat = sat
        c = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        u0, v0 = c[:, 0] / self.scale, c[:, 1] / self.scale
        u1, v1 = (c[:, 0] + size0) / self.scale, (c[:, 1] + size0) / self.scale
        area = self._F(u1, v1) - self._F(u0, v1) - self._F(u1, v0) + self._F(u0, v0)
        return np.clip(area / (size0 / self.scale) ** 2, 0.0, 1.0)

    def _F(self, u, v):
        """Integral of the mask over [0, u) x [0, v) (u: columns, v: rows), bilinear in the table."""
        sat = self._sat
        h, w = self.mask.shape
        u = np.clip(u, 0.0, w)
        v = np.clip(v, 0.0, h)
        j = np.minimum(np.floor(u).astype(np.int64), w - 1)
        i = np.minimum(np.floor(v).astype(np.int64), h - 1)
        du, dv = u - j, v - i
        s00, s01 = sat[i, j], sat[i, j + 1]
        s10, s11 = sat[i + 1, j], sat[i + 1, j + 1]
        return s00 * (1 - du) * (1 - dv) + s01 * du * (1 - dv) + s10 * (1 - du) * dv + s11 * du * dv

    # ------------------------------------------------------------ files
    def save(self, path) -> Path:
        """Write the mask as a 1-bit PNG whose text chunk holds scale, size and source."""
        from PIL import Image
        from PIL.PngImagePlugin import PngInfo

        path = Path(path)
        info = PngInfo()
        info.add_text("nomofuse", json.dumps({
            "format": "nomofuse.pathology.TissueMask", "version": 1, "scale": self.scale,
            "width": self.width, "height": self.height, "mpp": self.mpp, "source": self.source}))
        Image.fromarray(self.mask).save(path, pnginfo=info)
        return path

    @classmethod
    def load(cls, path) -> "TissueMask":
        """Read a mask written by :meth:`save`."""
        from PIL import Image

        with Image.open(path) as img:
            meta = json.loads(img.text.get("nomofuse", "{}") or "{}")
            arr = np.asarray(img.convert("L")) > 0
        if meta.get("format") != "nomofuse.pathology.TissueMask":
            raise TissueError(f"'{path}' is not a tissue mask written by TissueMask.save; use "
                              "read_tissue_mask for a user-drawn mask.")
        return cls(arr, float(meta["scale"]), int(meta["width"]), int(meta["height"]),
                   float(meta["mpp"]), str(meta.get("source", "otsu")))

    def overlay(self, thumbnail: np.ndarray, color=(0, 200, 60), alpha: float = 0.35) -> np.ndarray:
        """The thumbnail with tissue tinted and its outline drawn (RGB uint8), for a quick look."""
        from scipy import ndimage

        rgb = np.asarray(thumbnail, dtype=np.float32).copy()
        if rgb.shape[:2] != self.mask.shape:
            raise TissueError(f"thumbnail {rgb.shape[:2]} and mask {self.mask.shape} differ in size.")
        col = np.asarray(color, np.float32)
        rgb[self.mask] = (1 - alpha) * rgb[self.mask] + alpha * col
        edge = self.mask & ~ndimage.binary_erosion(self.mask, iterations=max(1, self.mask.shape[0] // 400))
        rgb[edge] = col
        return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)

    def save_overlay(self, thumbnail: np.ndarray, path, max_side: int = 1024) -> Path:
        """Write :meth:`overlay` as a PNG no larger than ``max_side`` pixels."""
        from PIL import Image

        img = Image.fromarray(self.overlay(thumbnail))
        if max(img.size) > max_side:
            k = max_side / max(img.size)
            img = img.resize((max(1, round(img.size[0] * k)), max(1, round(img.size[1] * k))),
                             Image.Resampling.BOX)
        path = Path(path)
        img.save(path)
        return path


def tissue_mask(slide, info: SlideInfo, *, mask_mpp: float = 8.0, user_mask=None,
                return_thumbnail: bool = False, **detect_kwargs):
    """The tissue mask of a slide: detected on its thumbnail, or read from ``user_mask``.

    Parameters
    ----------
    slide : openslide.OpenSlide or path
    info : SlideInfo
    mask_mpp : float, default 8.0
        Microns per mask pixel.
    user_mask : path, optional
        GeoJSON or PNG mask replacing detection (see :func:`read_tissue_mask`).
    return_thumbnail : bool, default False
        Also return the thumbnail (for the overlay).
    **detect_kwargs
        Passed to :func:`detect_tissue`.

    Returns
    -------
    TissueMask, or (TissueMask, ndarray) with ``return_thumbnail``.

    Raises
    ------
    TissueError
        No tissue found; the message gives the thresholds to relax.
    """
    mask_mpp = float(mask_mpp)
    mpp = max(mask_mpp, info.mpp)
    thumb = slide_thumbnail(slide, info, mpp) if (return_thumbnail or user_mask is None) else None
    if user_mask is not None:
        tm = read_tissue_mask(user_mask, info, mask_mpp=mpp)
    else:
        tm = TissueMask(detect_tissue(thumb, mpp, **detect_kwargs), mpp / info.mpp,
                        info.width, info.height, mpp, "otsu")
        if not tm.mask.any():
            raise TissueError(
                f"No tissue found on the slide's thumbnail at {mpp:g} µm/px"
                f"{_where(info.path, info.slide_id)}. If the slide does hold tissue (pale stain, "
                "small biopsy), lower min_saturation or min_area_um2, or give a tissue mask "
                "(GeoJSON or PNG) in the manifest's tissue_mask column."
            )
    return (tm, thumb) if return_thumbnail else tm


def _geojson_polygons(data):
    """Yield lists of rings (exterior first) of every Polygon/MultiPolygon in a GeoJSON object."""
    if isinstance(data, list):
        for item in data:
            yield from _geojson_polygons(item)
        return
    if not isinstance(data, dict):
        return
    kind = data.get("type")
    if kind == "FeatureCollection":
        yield from _geojson_polygons(data.get("features", []))
    elif kind == "Feature":
        yield from _geojson_polygons(data.get("geometry"))
    elif kind == "GeometryCollection":
        yield from _geojson_polygons(data.get("geometries", []))
    elif kind == "Polygon":
        yield data.get("coordinates", [])
    elif kind == "MultiPolygon":
        yield from data.get("coordinates", [])


def read_tissue_mask(path, info: SlideInfo, *, mask_mpp: float = 8.0) -> TissueMask:
    """A user-drawn tissue mask on the slide's mask grid.

    Parameters
    ----------
    path : path
        ``.geojson``/``.json``: Polygon or MultiPolygon features with
        coordinates in level-0 pixels (QuPath's "Export objects as GeoJSON");
        holes (inner rings) are excluded. ``.png`` (or another image): any
        size with the slide's aspect ratio; non-zero pixels are tissue.
    info : SlideInfo
    mask_mpp : float, default 8.0

    Raises
    ------
    TissueError
        Unreadable file, no polygon, coordinates outside the slide (the
        GeoJSON is probably in µm or another level's pixels), an image whose
        aspect ratio is not the slide's, or an empty mask.
    """
    from PIL import Image, ImageDraw

    path = Path(path)
    where = _where(path, info.slide_id)
    if not path.is_file():
        raise TissueError(f"Tissue mask file does not exist{where}; fix the tissue_mask path.")
    scale = float(mask_mpp) / info.mpp
    w, h = max(1, math.ceil(info.width / scale)), max(1, math.ceil(info.height / scale))
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TissueError(f"Tissue mask is not valid GeoJSON ({exc}){where}.") from exc
        polys = [p for p in _geojson_polygons(data) if p]
        if not polys:
            raise TissueError(f"Tissue mask GeoJSON holds no Polygon or MultiPolygon{where}; "
                              "export the annotations as polygons (QuPath: Export objects as GeoJSON).")
        pts = np.concatenate([np.asarray(r, dtype=float).reshape(-1, 2) for p in polys for r in p])
        if pts.size and (pts.min() < -0.01 * max(info.width, info.height)
                         or pts[:, 0].max() > 1.01 * info.width or pts[:, 1].max() > 1.01 * info.height):
            raise TissueError(
                f"Tissue mask coordinates reach ({pts[:, 0].max():.0f}, {pts[:, 1].max():.0f}) but the "
                f"slide is {info.width} x {info.height} level-0 pixels{where}. The GeoJSON must be in "
                "level-0 pixels (QuPath's default); convert µm or lower-level coordinates first."
            )
        img = Image.new("1", (w, h), 0)
        draw = ImageDraw.Draw(img)
        for rings in polys:
            for k, ring in enumerate(rings):
                xy = [(float(x) / scale, float(y) / scale) for x, y in np.asarray(ring, float).reshape(-1, 2)]
                if len(xy) >= 3:
                    draw.polygon(xy, fill=1 if k == 0 else 0)
        arr, source = np.asarray(img, dtype=bool), "geojson"
    else:
        try:
            with Image.open(path) as im:
                im.load()
                mw, mh = im.size
                if abs(mw / mh - info.width / info.height) > 0.02 * info.width / info.height:
                    raise TissueError(
                        f"Tissue mask image is {mw} x {mh} but the slide is {info.width} x "
                        f"{info.height} (aspect ratios differ by more than 2 %){where}; the mask "
                        "must cover the whole slide."
                    )
                arr = np.asarray(im.convert("L").resize((w, h), Image.Resampling.NEAREST)) > 0
        except OSError as exc:
            raise TissueError(f"Tissue mask image cannot be read ({exc}){where}.") from exc
        source = "png"
    if not arr.any():
        raise TissueError(f"Tissue mask is empty{where}; draw at least one tissue region.")
    return TissueMask(arr, scale, info.width, info.height, float(mask_mpp), source)
