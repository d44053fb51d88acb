"""Figures of slides: tile attention over the thumbnail, and the tissue mask.

Computation lives elsewhere (:mod:`pathology.tissue`, :mod:`pathology.pooling`);
these classes only draw. matplotlib is imported inside ``plot``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AttentionHeatmapDisplay", "TissueMaskDisplay", "attention_grid"]


def attention_grid(coords, values, size0: float, scale: float, shape) -> np.ndarray:
    """Per-pixel attention on a thumbnail grid: each tile paints its square; overlaps average.

    Parameters
    ----------
    coords : ndarray (n, 2)
        Level-0 top-left corners of the tiles.
    values : ndarray (n,)
    size0 : float
        Tile side in level-0 pixels.
    scale : float
        Level-0 pixels per thumbnail pixel.
    shape : (h, w)
        Thumbnail shape.

    Returns
    -------
    ndarray (h, w) float, NaN where no tile lies.
    """
    h, w = shape
    acc = np.zeros((h, w), np.float64)
    cnt = np.zeros((h, w), np.float64)
    c = np.asarray(coords, dtype=np.float64) / scale
    side = size0 / scale
    for (x, y), v in zip(c, np.asarray(values, dtype=np.float64)):
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        x1, y1 = min(w, int(np.ceil(x + side))), min(h, int(np.ceil(y + side)))
        if x1 > max(x0, 0) and y1 > max(y0, 0):
            acc[max(y0, 0):y1, max(x0, 0):x1] += v
            cnt[max(y0, 0):y1, max(x0, 0):x1] += 1
    with np.errstate(invalid="ignore"):
        return np.where(cnt > 0, acc / cnt, np.nan)


class AttentionHeatmapDisplay:
    """Attention of an attention-MIL model drawn over the slide's thumbnail.

    Parameters
    ----------
    thumbnail : ndarray (h, w, 3) uint8
    heatmap : ndarray (h, w) float
        Attention per thumbnail pixel (NaN where no tile lies), see :func:`attention_grid`.
    slide_id : str, optional
    score : float, optional
        The slide's score, shown in the title.

    Examples
    --------
    >>> disp = AttentionHeatmapDisplay.from_estimator(mil, "slide.svs", "slide.h5")  # doctest: +SKIP
    >>> disp.plot().figure_.savefig("attention.png")                                 # doctest: +SKIP
    """

    def __init__(self, thumbnail, heatmap, *, slide_id=None, score=None):
        self.thumbnail = np.asarray(thumbnail)
        self.heatmap = np.asarray(heatmap, dtype=float)
        self.slide_id = slide_id
        self.score = score

    @classmethod
    def from_predictions(cls, attention, coords, thumbnail, *, size0: float, scale: float,
                         slide_id=None, score=None, rank: bool = True):
        """Build from per-tile ``attention`` and their level-0 ``coords``.

        ``rank=True`` draws attention percentiles (0-1) rather than raw weights,
        which are tiny on large slides.
        """
        a = np.asarray(attention, dtype=float)
        if len(a) != len(coords):
            raise ValueError(f"attention has {len(a)} values but there are {len(coords)} tiles.")
        if rank and len(a) > 1:
            a = np.argsort(np.argsort(a)) / (len(a) - 1)
        grid = attention_grid(coords, a, size0, scale, np.asarray(thumbnail).shape[:2])
        return cls(thumbnail, grid, slide_id=slide_id, score=score)

    @classmethod
    def from_estimator(cls, estimator, slide, features, *, mpp=None, thumbnail_mpp: float = 8.0,
                       rank: bool = True):
        """Build from a fitted :class:`~pathology.pooling.AttentionMIL`, the slide and its feature file.

        Parameters
        ----------
        estimator : AttentionMIL
        slide : path
        features : path or SlideFeatures
            The slide's tile features (coords in level-0 pixels and ``patch_size_level0``).
        mpp : float, optional
            The slide's µm/px when it states none.
        thumbnail_mpp : float, default 8
        """
        from .features_h5 import load_features
        from .slide import check_slide
        from .tissue import slide_thumbnail

        sf = features if hasattr(features, "coords") else load_features(features)
        if sf.coords is None or sf.patch_size_level0 is None:
            raise ValueError(f"Feature file {sf.path!r} lacks coords or patch_size_level0; the "
                             "heatmap needs to know where each tile is.")
        info = check_slide(slide, mpp=mpp)
        mpp_t = max(thumbnail_mpp, info.mpp)
        thumb = slide_thumbnail(slide, info, mpp_t)
        score = float(estimator.decision_function([sf.features])[0])
        return cls.from_predictions(estimator.attention(sf.features), sf.coords, thumb,
                                    size0=sf.patch_size_level0, scale=mpp_t / info.mpp,
                                    slide_id=info.slide_id or str(slide), score=score, rank=rank)

    def plot(self, ax=None, *, cmap: str = "inferno", alpha: float = 0.55, colorbar: bool = True):
        """Draw; stores ``ax_`` and ``figure_`` and returns self."""
        import matplotlib.pyplot as plt

        if ax is None:
            h, w = self.thumbnail.shape[:2]
            fig, ax = plt.subplots(figsize=(7, 7 * h / max(w, 1) + 0.6))
        ax.imshow(self.thumbnail)
        im = ax.imshow(np.ma.masked_invalid(self.heatmap), cmap=cmap, alpha=alpha, vmin=0,
                       vmax=np.nanmax(self.heatmap) if np.isfinite(self.heatmap).any() else 1)
        if colorbar:
            ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="attention (percentile)")
        title = "Attention" + (f" - {self.slide_id}" if self.slide_id else "")
        if self.score is not None:
            title += f" (score {self.score:.2f})"
        ax.set_title(title)
        ax.set_axis_off()
        self.ax_, self.figure_ = ax, ax.figure
        return self


class TissueMaskDisplay:
    """The tissue mask outlined over the thumbnail (and, optionally, the tile grid).

    Build with :meth:`from_mask`; :meth:`plot` draws.
    """

    def __init__(self, thumbnail, mask, *, grid=None, scale=None, slide_id=None):
        self.thumbnail = np.asarray(thumbnail)
        self.mask = np.asarray(mask, dtype=bool)
        self.grid = grid
        self.scale = scale
        self.slide_id = slide_id

    @classmethod
    def from_mask(cls, tissue_mask, thumbnail, *, grid=None, slide_id=None):
        """From a :class:`~pathology.tissue.TissueMask`, its thumbnail and optionally a TileGrid."""
        return cls(thumbnail, tissue_mask.mask, grid=grid, scale=tissue_mask.scale, slide_id=slide_id)

    def plot(self, ax=None):
        """Draw; stores ``ax_`` and ``figure_`` and returns self."""
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle

        if ax is None:
            h, w = self.thumbnail.shape[:2]
            fig, ax = plt.subplots(figsize=(7, 7 * h / max(w, 1) + 0.4))
        ax.imshow(self.thumbnail)
        ax.contour(self.mask.astype(float), levels=[0.5], colors=["#00c040"], linewidths=1.2)
        if self.grid is not None and self.scale:
            s = self.grid.size0 / self.scale
            for x, y in np.asarray(self.grid.coords, float) / self.scale:
                ax.add_patch(Rectangle((x - 0.5, y - 0.5), s, s, fill=False, lw=0.4, ec="#2060ff"))
        n = "" if self.grid is None else f", {len(self.grid)} tiles"
        ax.set_title("Tissue" + (f" - {self.slide_id}" if self.slide_id else "") + n)
        ax.set_axis_off()
        self.ax_, self.figure_ = ax, ax.figure
        return self
