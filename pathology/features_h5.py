"""Tile-feature files: one HDF5 per slide in the layout CLAM and TRIDENT use.

Layout written by nomofuse (readable by CLAM's and TRIDENT's own loaders):

==================  =============================================================
``features``        dataset ``[n_tiles, dim]`` float32 (attribute ``encoder``)
``coords``          dataset ``[n_tiles, 2]`` int64: ``(x, y)`` of each tile's
                    top-left corner in level-0 pixels; TRIDENT's attributes
                    ``patch_size``, ``patch_size_level0`` (rounded),
                    ``level0_magnification``, ``overlap``, ``name``,
                    ``level0_width``, ``level0_height``
``tissue_fraction`` dataset ``[n_tiles]`` float32 (nomofuse only)
file attributes     ``encoder``, ``weights_sha256``, ``patch_size`` (pixels the
                    encoder saw), ``patch_size_level0`` (exact, float),
                    ``target_mpp``, ``slide_mpp``, ``level0_magnification``
                    (only when the slide states it), ``level0_width``,
                    ``level0_height``, ``overlap``, ``name``, ``nomofuse_version``,
                    ``format`` = ``"nomofuse.pathology.features"``, ``version`` = 1
==================  =============================================================

:func:`load_features` reads these files, TRIDENT's (attributes on the
``coords`` and ``features`` datasets), CLAM's (``features`` and ``coords``
without attributes, or its ``.pt`` files of features only) and reports which
it found.

Files are written to a temporary name in the same folder and renamed when
complete, so a killed run never leaves a half file under the final name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .exceptions import FeatureFileError

__all__ = ["FeatureFileWriter", "SlideFeatures", "load_features", "nomofuse_version", "FORMAT"]

FORMAT = "nomofuse.pathology.features"


def nomofuse_version() -> str:
    """Installed nomofuse version, or the checkout's ``pyproject.toml`` version."""
    from importlib import metadata

    try:
        return metadata.version("nomofuse")
    except metadata.PackageNotFoundError:
        try:
            import tomllib

            root = Path(__file__).resolve().parents[1]
            return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
        except (OSError, KeyError, ValueError):
            return "unknown"


def _attr(value):
    if value is None:
        return None
    if isinstance(value, (np.generic,)):
        return value.item()
    return value


class FeatureFileWriter:
    """Write a slide's tile features batch by batch (memory stays one batch).

    Parameters
    ----------
    path : path
        Final ``.h5`` file; written as ``.<name>.tmp`` beside it and renamed
        by :meth:`close` (or on leaving the ``with`` block without error).
    dim : int
        Feature dimension.
    attrs : mapping
        File attributes (see the module docstring); ``None`` values are skipped.
    chunk : int, default 256
        Rows per HDF5 chunk.

    Examples
    --------
    >>> with FeatureFileWriter("slide.h5", 1024, attrs) as w:   # doctest: +SKIP
    ...     for feats, coords, frac in batches:
    ...         w.append(feats, coords, frac)
    """

    def __init__(self, path, dim: int, attrs: dict, *, chunk: int = 256):
        import h5py

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.dim = int(dim)
        self.n = 0
        self._f = h5py.File(self.tmp, "w")
        self._feat = self._f.create_dataset("features", shape=(0, self.dim), maxshape=(None, self.dim),
                                            chunks=(chunk, self.dim), dtype="float32")
        self._coords = self._f.create_dataset("coords", shape=(0, 2), maxshape=(None, 2),
                                              chunks=(chunk * 16, 2), dtype="int64")
        self._frac = self._f.create_dataset("tissue_fraction", shape=(0,), maxshape=(None,),
                                            chunks=(chunk * 16,), dtype="float32")
        attrs = {k: _attr(v) for k, v in dict(attrs).items() if v is not None}
        attrs.setdefault("nomofuse_version", nomofuse_version())
        attrs["format"], attrs["version"] = FORMAT, 1
        for k, v in attrs.items():
            self._f.attrs[k] = v
        self._feat.attrs["encoder"] = str(attrs.get("encoder", ""))
        if "name" in attrs:
            self._feat.attrs["name"] = str(attrs["name"])
        trident = {"patch_size": attrs.get("patch_size"), "overlap": attrs.get("overlap", 0),
                   "name": attrs.get("name"), "level0_width": attrs.get("level0_width"),
                   "level0_height": attrs.get("level0_height"),
                   "level0_magnification": attrs.get("level0_magnification"),
                   "patch_size_level0": (int(round(attrs["patch_size_level0"]))
                                         if "patch_size_level0" in attrs else None)}
        for k, v in trident.items():
            if v is not None:
                self._coords.attrs[k] = v
        self.closed = False

    def append(self, features, coords, tissue_fraction=None) -> None:
        """Add a batch: ``features`` (b, dim), ``coords`` (b, 2), ``tissue_fraction`` (b,)."""
        f = np.asarray(features, dtype=np.float32)
        c = np.asarray(coords, dtype=np.int64).reshape(-1, 2)
        if f.ndim != 2 or f.shape[1] != self.dim or len(f) != len(c):
            raise FeatureFileError(f"FeatureFileWriter.append: features {f.shape} and coords {c.shape} "
                                   f"do not fit a [n, {self.dim}] file.")
        if not np.isfinite(f).all():
            bad = int((~np.isfinite(f)).any(axis=1).sum())
            raise FeatureFileError(f"The encoder produced non-finite features for {bad} tile(s) "
                                   f"of this batch (coords {c[:3].tolist()}...); check the weights and "
                                   "the input normalisation.")
        b = len(f)
        n0, self.n = self.n, self.n + b
        self._feat.resize(self.n, axis=0)
        self._feat[n0:] = f
        self._coords.resize(self.n, axis=0)
        self._coords[n0:] = c
        self._frac.resize(self.n, axis=0)
        self._frac[n0:] = (np.ones(b, np.float32) if tissue_fraction is None
                           else np.asarray(tissue_fraction, np.float32))

    def close(self) -> Path:
        """Finish the file and move it to its final name; returns the path."""
        if not self.closed:
            self._f.attrs["n_tiles"] = self.n
            self._f.close()
            os.replace(self.tmp, self.path)
            self.closed = True
        return self.path

    def abort(self) -> None:
        """Drop the temporary file (after an error)."""
        if not self.closed:
            try:
                self._f.close()
            finally:
                self.tmp.unlink(missing_ok=True)
                self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


@dataclass
class SlideFeatures:
    """Tile features of one slide, as read by :func:`load_features`.

    Attributes
    ----------
    features : ndarray (n, dim) float32
    coords : ndarray (n, 2) int64 or None
        Level-0 top-left corners (None for a CLAM ``.pt`` file).
    attrs : dict
        File attributes merged with those of the ``coords`` and ``features``
        datasets (file attributes win).
    layout : {"nomofuse", "trident", "clam", "clam-pt"}
    path : str
    """

    features: np.ndarray
    coords: np.ndarray | None
    attrs: dict = field(default_factory=dict)
    layout: str = "nomofuse"
    path: str = ""

    @property
    def n_tiles(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    @property
    def patch_size_level0(self) -> float | None:
        """Tile side in level-0 pixels when the file says (exact for nomofuse files)."""
        v = self.attrs.get("patch_size_level0")
        return None if v is None else float(v)


def _plain(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, str) and v == "None":  # TRIDENT writes None as the string 'None'
        return None
    return v


def load_features(path) -> SlideFeatures:
    """Read a tile-feature file written by nomofuse, TRIDENT or CLAM.

    Parameters
    ----------
    path : path
        ``.h5`` (any of the three layouts) or CLAM's ``.pt`` (a tensor of features).

    Returns
    -------
    SlideFeatures

    Raises
    ------
    FeatureFileError
        Missing or unreadable file; no ``features`` dataset; features not
        2-D; coords not ``[n, 2]`` with the same ``n``; non-finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise FeatureFileError(f"Feature file {str(path)!r} does not exist; run `nomofuse slides` "
                               "for this slide or fix the path.")
    if path.suffix == ".pt":
        import torch

        try:
            t = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001
            raise FeatureFileError(f"Feature file {str(path)!r} cannot be read as a tensor ({exc}).") from exc
        feats = np.asarray(t.float().numpy() if hasattr(t, "numpy") else t, dtype=np.float32)
        out = SlideFeatures(feats, None, {}, "clam-pt", str(path))
        _validate(out)
        return out
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "features" not in f:
                raise FeatureFileError(
                    f"Feature file {str(path)!r} has no 'features' dataset (it has {list(f.keys())}); "
                    "a CLAM/TRIDENT *patch* file holds coordinates only: extract features first.")
            feats = np.asarray(f["features"][()], dtype=np.float32)
            coords = np.asarray(f["coords"][()], dtype=np.int64) if "coords" in f else None
            attrs = {}
            for ds in ("features", "coords"):
                if ds in f:
                    attrs.update({k: _plain(v) for k, v in f[ds].attrs.items()})
            root = {k: _plain(v) for k, v in f.attrs.items()}
            attrs.update(root)
    except FeatureFileError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise FeatureFileError(f"Feature file {str(path)!r} cannot be read as HDF5 ({exc}); it is "
                               "truncated or corrupt: recompute it.") from exc
    if feats.ndim == 3 and feats.shape[0] == 1:  # some CLAM forks store [1, n, dim]
        feats = feats[0]
    if coords is not None and coords.ndim == 3 and coords.shape[0] == 1:
        coords = coords[0]
    if root.get("format") == FORMAT:
        layout = "nomofuse"
    elif any(k in attrs for k in ("patch_size_level0", "level0_magnification", "encoder")):
        layout = "trident"
    else:
        layout = "clam"
    out = SlideFeatures(feats, coords, attrs, layout, str(path))
    _validate(out)
    return out


def _validate(sf: SlideFeatures) -> None:
    where = f"Feature file {sf.path!r}"
    if sf.features.ndim != 2 or sf.features.shape[0] == 0:
        raise FeatureFileError(f"{where}: 'features' must be [n_tiles, dim] with n_tiles >= 1; got "
                               f"shape {sf.features.shape}.")
    if sf.coords is not None and (sf.coords.ndim != 2 or sf.coords.shape != (sf.features.shape[0], 2)):
        raise FeatureFileError(f"{where}: 'coords' must be [n_tiles, 2] = [{sf.features.shape[0]}, 2]; "
                               f"got {sf.coords.shape}.")
    if not np.isfinite(sf.features).all():
        rows = np.flatnonzero(~np.isfinite(sf.features).all(axis=1))
        raise FeatureFileError(f"{where}: non-finite features in {len(rows)} tile(s) (rows "
                               f"{rows[:5].tolist()}); recompute the file.")
