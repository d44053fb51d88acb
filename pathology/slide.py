"""Open a whole-slide image, check it, and find its microns per pixel.

:func:`check_slide` is the one checker for a slide file: it opens it with
OpenSlide (SVS, NDPI, MRXS, SCN, generic tiled TIFF, Philips TIFF, ...),
verifies that a TIFF-based file is complete (every tile it lists lies inside
the file, so a truncated copy is caught before any tile is read), that it has
a pyramid when it is large, and resolves its resolution with
:func:`slide_mpp`. It returns a :class:`SlideInfo`.

Resolution is never guessed from a nominal magnification. In order:

1. OpenSlide's ``openslide.mpp-x`` / ``openslide.mpp-y`` (from the vendor's
   metadata: Aperio ``MPP``, Hamamatsu, MIRAX, Philips, Leica, ...);
2. the TIFF ``XResolution``/``YResolution`` tags with a ``ResolutionUnit`` of
   centimetre or inch;
3. the ``mpp`` override (the ``mpp=`` argument, or the ``mpp`` column of a
   slide manifest).

None of these gives a :class:`~pathology.exceptions.ResolutionError` that
names the slide and the fix. A value outside 0.05-20 µm/px (a 72-dpi default
tag gives 352.8 µm/px) is refused the same way. An override that disagrees
with the slide's own metadata by more than 2 % is refused unless
``prefer="override"`` says the metadata is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .exceptions import ResolutionError, SlideReadError, _where

__all__ = ["SlideInfo", "check_slide", "open_slide", "slide_mpp", "read_region_rgb",
           "best_level", "MPP_RANGE"]

#: Plausible microns per pixel of a scanned slide (40x is about 0.25, 5x about 2).
MPP_RANGE = (0.05, 20.0)
#: A single-level slide larger than this (pixels on its longer side) has "no pyramid".
MAX_UNPYRAMIDED = 16384


@dataclass(frozen=True)
class SlideInfo:
    """What nomofuse needs to know about a slide (see :func:`check_slide`).

    Attributes
    ----------
    path : str
    slide_id : str or None
    vendor : str
        OpenSlide's ``openslide.vendor`` (``"aperio"``, ``"generic-tiff"``...).
    width, height : int
        Level-0 size in pixels.
    level_dimensions : tuple of (int, int)
    level_downsamples : tuple of float
    mpp_x, mpp_y : float
        Microns per level-0 pixel.
    mpp_source : str
        ``"openslide"``, ``"tiff-tags"`` or ``"override"``.
    objective_power : float or None
        Scanner's objective magnification (``openslide.objective-power``)
        when the slide states it; for information only, never used to size tiles.
    """

    path: str
    slide_id: str | None
    vendor: str
    width: int
    height: int
    level_dimensions: tuple
    level_downsamples: tuple
    mpp_x: float
    mpp_y: float
    mpp_source: str
    objective_power: float | None = None
    properties: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def mpp(self) -> float:
        """Mean of ``mpp_x`` and ``mpp_y`` (they agree to 2 % or less; see :func:`slide_mpp`)."""
        return 0.5 * (self.mpp_x + self.mpp_y)

    @property
    def level_count(self) -> int:
        return len(self.level_dimensions)


def open_slide(path, *, slide_id=None):
    """Open ``path`` with OpenSlide; a missing or unreadable file raises :class:`SlideReadError`."""
    import openslide

    path = Path(path)
    if not path.exists():
        raise SlideReadError(f"Slide file does not exist{_where(path, slide_id)}; "
                             "fix the path (in the manifest) or restore the file.")
    if path.is_dir():
        raise SlideReadError(f"Slide path is a folder, not a slide file{_where(path, slide_id)}; "
                             "give the slide's main file (e.g. the .mrxs next to its data folder).")
    try:
        return openslide.OpenSlide(str(path))
    except openslide.OpenSlideUnsupportedFormatError as exc:
        raise SlideReadError(
            f"OpenSlide does not recognise this file as a slide{_where(path, slide_id)}: "
            "expected SVS, NDPI, MRXS, SCN, VMS, BIF, Philips TIFF or a tiled pyramidal TIFF. "
            "Convert it to a tiled pyramidal TIFF (e.g. `vips tiffsave in out.tif --tile "
            "--pyramid --compression jpeg`) or check that the file is complete."
        ) from exc
    except openslide.OpenSlideError as exc:
        raise SlideReadError(
            f"OpenSlide cannot open the slide{_where(path, slide_id)}: {exc}. The file is "
            "probably truncated or corrupt: copy it again from the source."
        ) from exc


def _float(value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def _tiff_tag_mpp(props) -> tuple[float, float] | None:
    """µm/px from the TIFF resolution tags as OpenSlide reports them (``tiff.*`` properties)."""
    unit = str(props.get("tiff.ResolutionUnit", "")).lower()
    per = {"centimeter": 1e4, "inch": 25400.0}.get(unit)
    xr, yr = _float(props.get("tiff.XResolution")), _float(props.get("tiff.YResolution"))
    if per is None or xr is None:
        return None
    return per / xr, per / (yr if yr is not None else xr)


def slide_mpp(properties, *, mpp=None, prefer: str = "slide", path=None, slide_id=None
              ) -> tuple[float, float, str]:
    """Microns per level-0 pixel of a slide: ``(mpp_x, mpp_y, source)``.

    Parameters
    ----------
    properties : mapping
        OpenSlide's ``slide.properties``.
    mpp : float, optional
        Override (from the ``mpp=`` argument or the manifest's ``mpp`` column).
    prefer : {"slide", "override"}, default "slide"
        With both the slide's metadata and an override: ``"slide"`` uses the
        metadata and refuses an override that differs by more than 2 %;
        ``"override"`` uses the override (the metadata is known to be wrong).
    path, slide_id : optional
        For messages.

    Returns
    -------
    (float, float, str)
        ``mpp_x``, ``mpp_y`` and where they came from: ``"openslide"``,
        ``"tiff-tags"`` or ``"override"``.

    Raises
    ------
    ResolutionError
        No source gives a resolution, or the one found is outside
        :data:`MPP_RANGE`, or x and y differ by more than 2 %.
    """
    if prefer not in ("slide", "override"):
        raise ValueError(f"The 'prefer' parameter of slide_mpp must be one of {{'override', 'slide'}}. "
                         f"Got {prefer!r} instead.")
    found = None
    mx, my = _float(properties.get("openslide.mpp-x")), _float(properties.get("openslide.mpp-y"))
    if mx is not None or my is not None:
        found = (mx or my, my or mx, "openslide")
    else:
        tags = _tiff_tag_mpp(properties)
        if tags is not None:
            found = (*tags, "tiff-tags")
    override = None
    if mpp is not None:
        override = _float(mpp)
        if override is None:
            raise ResolutionError(f"The 'mpp' override must be a positive number of microns per "
                                  f"pixel{_where(path, slide_id)}. Got {mpp!r} instead.")
        override = (override, override, "override")
    if found is not None and override is not None:
        rel = abs(found[0] - override[0]) / found[0]
        if prefer == "override":
            found = override
        elif rel > 0.02:
            raise ResolutionError(
                f"The slide states {found[0]:.4g} µm/px ({found[2]}) but the mpp override is "
                f"{override[0]:.4g}{_where(path, slide_id)}. Remove the override (blank the mpp "
                "cell of the manifest) to use the slide's value, or pass prefer='override' "
                "(--mpp-override-wins) if the slide's metadata is wrong."
            )
    elif found is None:
        found = override
    if found is None:
        raise ResolutionError(
            f"The slide has no microns-per-pixel: neither openslide.mpp-x/y nor TIFF resolution "
            f"tags in cm or inch{_where(path, slide_id)}. nomofuse never assumes a magnification. "
            "Give the scanner's resolution in the manifest's mpp column (e.g. 0.25 for most 40x "
            "scans, 0.5 for 20x; check the scanner report), or pass mpp=."
        )
    x, y, source = found
    lo, hi = MPP_RANGE
    for name, v in (("x", x), ("y", y)):
        if not lo <= v <= hi:
            raise ResolutionError(
                f"The slide's resolution ({source}) is {v:.4g} µm/px in {name}, outside the "
                f"{lo}-{hi} µm/px of scanned slides{_where(path, slide_id)}; the tag is probably a "
                "default (72 dpi gives 352.8 µm/px). Give the true resolution in the manifest's "
                "mpp column and prefer='override' (--mpp-override-wins)."
            )
    if abs(x - y) / max(x, y) > 0.02:
        raise ResolutionError(
            f"The slide's pixels are not square: {x:.4g} x {y:.4g} µm ({source}){_where(path, slide_id)}. "
            "nomofuse tiles square pixels only; resample the slide or give one mpp override "
            "with prefer='override'."
        )
    return float(x), float(y), source


def _check_tiff_complete(path: Path, slide_id=None) -> None:
    """Every strip/tile a TIFF lists lies inside the file (a truncated copy fails here).

    Reads only the directory entries (a few kB), not the image data. Files
    that are not TIFF (MRXS index, VMS...) are left to OpenSlide.
    """
    import tifffile

    size = path.stat().st_size
    try:
        tif = tifffile.TiffFile(str(path))
    except Exception:  # noqa: BLE001 - not a TIFF (MRXS, VMS, ...): nothing to check here
        return
    with tif:
        for i, page in enumerate(tif.pages):
            try:
                offsets = np.asarray(page.dataoffsets, dtype=np.int64)
                counts = np.asarray(page.databytecounts, dtype=np.int64)
            except Exception as exc:  # noqa: BLE001 - unreadable directory = damaged file
                raise SlideReadError(
                    f"The slide's TIFF directory {i} cannot be read ({exc}){_where(path, slide_id)}; "
                    "the file is truncated or corrupt: copy it again from the source."
                ) from exc
            if offsets.size and counts.size:
                end = int((offsets + counts).max())
                if end > size:
                    raise SlideReadError(
                        f"The slide file is truncated: image {i} needs {end:,} bytes but the file "
                        f"has {size:,}{_where(path, slide_id)}. Copy it again from the source "
                        "(an interrupted download or transfer leaves such files)."
                    )


def check_slide(path, *, mpp=None, prefer: str = "slide", slide_id=None,
                max_unpyramided: int = MAX_UNPYRAMIDED) -> SlideInfo:
    """Check that a slide can be tiled and return what is known about it.

    Parameters
    ----------
    path : path-like
        The slide file.
    mpp : float, optional
        Microns per pixel to use when the slide states none (see :func:`slide_mpp`).
    prefer : {"slide", "override"}, default "slide"
        Which wins when both the slide and ``mpp`` give a resolution.
    slide_id : str, optional
        Named in messages.
    max_unpyramided : int, default 16384
        A slide with a single level longer than this on a side is refused as
        having no pyramid (every thumbnail would read the full image).

    Returns
    -------
    SlideInfo

    Raises
    ------
    SlideReadError
        Missing, unreadable, unsupported or truncated file; no pyramid.
    ResolutionError
        No usable microns per pixel (see :func:`slide_mpp`).

    Examples
    --------
    >>> info = check_slide("TCGA-XX.svs")          # doctest: +SKIP
    >>> info.mpp, info.mpp_source                  # doctest: +SKIP
    (0.2527, 'openslide')
    """
    import openslide

    path = Path(path)
    if path.is_file():
        _check_tiff_complete(path, slide_id)
    slide = open_slide(path, slide_id=slide_id)
    try:
        props = dict(slide.properties)
        dims = tuple(tuple(int(v) for v in d) for d in slide.level_dimensions)
        downs = tuple(float(d) for d in slide.level_downsamples)
        if not dims or min(dims[0]) < 1:
            raise SlideReadError(f"The slide has no image level{_where(path, slide_id)}; "
                                 "the file is corrupt: copy it again from the source.")
        if len(dims) == 1 and max(dims[0]) > max_unpyramided:
            raise SlideReadError(
                f"The slide has no pyramid: a single level of {dims[0][0]} x {dims[0][1]} "
                f"pixels{_where(path, slide_id)}; every overview would read the whole image. "
                "Convert it to a pyramidal TIFF (e.g. `vips tiffsave in out.tif --tile --pyramid "
                "--compression jpeg --tile-width 256 --tile-height 256`)."
            )
        # One small read at the lowest resolution proves the image data decode.
        w, h = dims[-1]
        try:
            slide.read_region((0, 0), len(dims) - 1, (min(w, 64), min(h, 64)))
            slide.read_region((int(dims[0][0] // 2), int(dims[0][1] // 2)), len(dims) - 1,
                              (min(w, 16), min(h, 16)))
        except openslide.OpenSlideError as exc:
            raise SlideReadError(
                f"The slide's image data cannot be decoded ({exc}){_where(path, slide_id)}; "
                "the file is truncated or corrupt: copy it again from the source."
            ) from exc
        mx, my, source = slide_mpp(props, mpp=mpp, prefer=prefer, path=path, slide_id=slide_id)
        return SlideInfo(
            path=str(path), slide_id=None if slide_id is None else str(slide_id),
            vendor=str(props.get("openslide.vendor", "unknown")),
            width=dims[0][0], height=dims[0][1], level_dimensions=dims, level_downsamples=downs,
            mpp_x=mx, mpp_y=my, mpp_source=source,
            objective_power=_float(props.get("openslide.objective-power")),
            properties=props,
        )
    finally:
        slide.close()


def read_region_rgb(slide, location, level: int, size) -> np.ndarray:
    """``slide.read_region`` as an ``(h, w, 3)`` uint8 RGB array; transparent pixels are white.

    OpenSlide returns RGBA with alpha 0 outside the scanned area (and past
    the slide's edge); those pixels become white background, as on glass.
    """
    rgba = np.asarray(slide.read_region(tuple(int(v) for v in location), int(level),
                                        tuple(int(v) for v in size)))
    rgb = rgba[..., :3].copy()
    alpha = rgba[..., 3]
    if alpha.min() < 255:
        # OpenSlide gives un-premultiplied RGBA; blend onto white.
        a = alpha[..., None].astype(np.float32) / 255.0
        rgb = (rgb.astype(np.float32) * a + 255.0 * (1.0 - a) + 0.5).astype(np.uint8)
    return rgb


def best_level(level_downsamples, downsample: float) -> int:
    """Index of the lowest-resolution level whose downsample is at most ``downsample``.

    That level has at least the resolution needed (reading it and shrinking
    is exact; a coarser level would need enlarging). Level 0 if none is fine enough.
    """
    best = 0
    for i, d in enumerate(level_downsamples):
        if d <= downsample * (1 + 1e-6) and d >= level_downsamples[best]:
            best = i
    return best

