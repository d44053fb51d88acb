"""One model file format for every fitted object of nomofuse: versioned, checksummed JSON.

Every fitted object (nomogram models, signatures, ComBat, habitat models,
and later groups and networks' configurations) saves with
``obj.to_json(path=None)`` and loads with :func:`load_model`. A file is one
UTF-8 JSON object (never a pickle) that starts with

=============  ===================================================================
key            content
=============  ===================================================================
``format``     ``"nomofuse.<package>.<Class>"``, e.g. ``"nomofuse.nomogram.ComBat"``
``version``    integer version of that class's content
``sha256``     hex SHA-256 of the canonical content: the object without this key,
               serialised with sorted keys, no whitespace, UTF-8
               (:func:`content_checksum`)
=============  ===================================================================

and then the class's own fields. :func:`load_model` reads the text, checks
it (size, encoding, JSON syntax, nesting depth, finite numbers), looks the
``format`` up in a registry filled by :func:`register_model_format` (each
class registers itself when its module is imported; for a format of a package
not imported yet, ``load_model`` imports that package: ``nomofuse.imaging.X``
imports :mod:`imaging`), verifies the checksum, and hands the object to the
class's loader, which validates every field it reads (:class:`ModelReader`).
A file whose checksum does not match (edited by hand, damaged) is refused
unless ``verify=False``. Numbers that are legitimately undefined (a NaN
statistic) are written as ``null``.

Older files still load: the ``nomofuse-model`` scheme (``format_version``
1, ``model_type`` ``LogisticNomogram``/``CoxNomogram``) and version-1 files of
``nomofuse.imaging.ComBat``, ``nomofuse.imaging.ImagingSignature``,
``nomofuse.imaging.HabitatModel`` and ``nomofuse.fusion.ModalityLabel`` /
``EarlyFusion`` / ``NomogramGroup``, all written before checksums existed.
A nomogram's specification (``nomofuse.nomogram.NomogramSpec``, see
:mod:`nomogram.points`) is a model file too; written by another program it may
lack the checksum.

Nomogram models (``nomofuse.nomogram.LogisticNomogram`` / ``CoxNomogram``,
version 1) hold:

=========================  ===============================================================
key                        content
=========================  ===============================================================
``nomofuse_version``       version that wrote the file (information only)
``params``                 constructor parameters (``splines``, ``categorical``, ...)
``design``                 one entry per predictor: ``name``, ``kind`` (``linear``,
                           ``rcs``, ``categorical``), design ``columns``, ``knots``,
                           ``levels`` (first = reference), datadist ``adjust``, ``low``,
                           ``high``, ``values``; ``interaction`` (one pair) or
                           ``interactions`` (several pairs) and their columns
``coefficients``           ``{"names": [...], "values": [...]}`` in design order
                           (``Intercept`` first for logistic models)
``covariance``             matrix, rows and columns in coefficient order
``statistics``             model statistics (``stats_``)
``linear_predictor_range`` smallest and largest training linear predictor
``loglik``                 null and fitted log-likelihood
``cox``                    Cox models only: ``center``, ``means``, ``max_time``,
                           ``baseline_survival`` ``{"time": [...], "survival": [...]}``
                           (stratified: also ``"stratum"`` per time, and ``strata``
                           ``{"columns", "levels", "max_time"}``) and
                           ``baseline_hazard_variance`` ``{"V0": [...], "A": [[...]]}``
                           (for ``survest`` standard errors)
``nomogram``               the default nomogram as its specification
                           (``Nomogram.to_spec``, format ``nomofuse.nomogram.NomogramSpec``:
                           axes, points and outcome mappings, for other programs to
                           read; the loaded model recomputes it)
=========================  ===============================================================

Floats are written with ``repr`` precision, so predictions after a round trip
are bit-identical.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .checks import check_is_fitted
from ._design import Design, interaction_pairs
from .exceptions import ModelFileError

__all__ = [
    "file_sha256",
    "save_state_dict",
    "load_state_dict",
    "load_model",
    "save_model",
    "model_to_dict",
    "model_from_dict",
    "register_model_format",
    "registered_formats",
    "write_model",
    "content_checksum",
    "ModelReader",
    "ModelFileMixin",
    "MAX_MODEL_BYTES",
    "MAX_MODEL_DEPTH",
    "LEGACY_FORMAT",
]

#: Largest model file :func:`load_model` reads (bytes).
MAX_MODEL_BYTES = 256 * 2**20
#: Deepest nesting of JSON arrays/objects accepted.
MAX_MODEL_DEPTH = 32
#: The format name of the first nomogram-model files (``format_version`` 1).
LEGACY_FORMAT = "nomofuse-model"
#: Modules ``load_model`` may import to find the loader of a format's package (never a name from the file).
_IMPORTABLE = {"nomogram": ("nomogram", "nomogram.features"),
               "imaging": ("imaging", "imaging.signature", "imaging.habitats"),
               "pathology": ("pathology.signature", "pathology.pooling", "pathology.tiling"),
               "fusion": ("fusion.models.labels", "fusion.models.network", "fusion.models.group")}


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class _Entry:
    loader: Callable[..., object]
    unsigned_versions: tuple[int, ...]
    wants_path: bool = False


_REGISTRY: dict[str, _Entry] = {}


def register_model_format(format: str, loader: Callable[..., object], *,
                          unsigned_versions=(), wants_path: bool = False, replace: bool = False) -> None:
    """Make :func:`load_model` read files whose ``"format"`` is ``format``.

    Parameters
    ----------
    format : str
        ``"nomofuse.<package>.<Class>"``.
    loader : callable ``(data: dict, source: str) -> object``
        Builds the fitted object from the parsed file (``source`` names the
        file in messages). It validates the fields it reads and raises
        :class:`~nomogram.ModelFileError` naming ``source`` and the field
        (:class:`ModelReader` does both).
    unsigned_versions : tuple of int
        Versions written before checksums existed; only these load without a
        ``sha256`` field.
    wants_path : bool, default False
        The loader is called as ``loader(data, source, path)`` with the
        :class:`~pathlib.Path` of the file read (None when the model came as
        JSON text or a dict): for a model whose JSON names companion files
        beside it (a network's weights).
    replace : bool, default False
        Registering a format twice with another loader is an error unless True.
    """
    if not isinstance(format, str) or not format.startswith("nomofuse.") or format.count(".") != 2:
        raise ValueError(
            f"register_model_format: format must be 'nomofuse.<package>.<Class>'; got {format!r}."
        )
    entry = _Entry(loader, tuple(int(v) for v in unsigned_versions), bool(wants_path))
    old = _REGISTRY.get(format)
    if old is not None and old != entry and not replace:
        if getattr(old.loader, "__qualname__", None) != getattr(loader, "__qualname__", None):
            raise ValueError(f"register_model_format: {format!r} is already registered to {old.loader!r}.")
    _REGISTRY[format] = entry


def registered_formats() -> list[str]:
    """The formats :func:`load_model` reads now (without importing more packages)."""
    return sorted(_REGISTRY) + [LEGACY_FORMAT]


# --------------------------------------------------------------------------- writing
def _plain(obj):
    """JSON-ready copy: numpy scalars/arrays to Python, tuples to lists, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_plain(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"write_model: cannot write a {type(obj).__name__} ({obj!r:.60}) to JSON.")


def _canonical(d: dict) -> bytes:
    return json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_checksum(data: dict) -> str:
    """Hex SHA-256 of ``data`` without its ``"sha256"`` key, in canonical JSON form."""
    return hashlib.sha256(_canonical({k: v for k, v in data.items() if k != "sha256"})).hexdigest()


def write_model(data: dict, path=None):
    """Sign a model dictionary and return its JSON text (or write it to ``path``).

    ``data`` must hold ``"format"`` and ``"version"``; numpy values are
    converted, non-finite floats become ``null``, and ``"sha256"`` is set to
    :func:`content_checksum`. With ``path`` the text is written (UTF-8, via a
    temporary file renamed into place) and the :class:`~pathlib.Path` is
    returned; without, the text is returned.
    """
    body = _plain(data)
    fmt, version = body.get("format"), body.get("version")
    if not isinstance(fmt, str) or not fmt.startswith("nomofuse.") or not isinstance(version, int):
        raise ValueError("write_model: data must start with 'format' ('nomofuse.<package>.<Class>') and "
                         f"an integer 'version'; got {fmt!r}, {version!r}.")
    body.pop("sha256", None)
    out = {"format": fmt, "version": version, "sha256": content_checksum(body)}
    out.update({k: v for k, v in body.items() if k not in out})
    text = json.dumps(out, indent=1, ensure_ascii=False, allow_nan=False)
    if path is None:
        return text
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"to_json: the folder '{path.parent}' of '{path}' does not exist; create it first "
                                "or give another path.")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


class ModelFileMixin:
    """``to_json`` / ``from_json`` for a fitted class, and its registration with :func:`load_model`.

    A subclass sets ``_model_format = "nomofuse.<package>.<Class>"`` and
    ``_model_version``, implements ``to_dict()`` (the fields after
    ``format``/``version``) and a classmethod ``_from_model_dict(data,
    source)``; defining the class registers the format
    (``_model_unsigned_versions`` lists versions written before checksums).
    A subclass that sets no ``_model_format`` of its own is written under its
    parent's format unless it overrides it. A class whose file names
    companion files beside it (a network's weights) sets
    ``_model_wants_path = True``; its ``_from_model_dict(data, source, path)``
    then receives the file's path (None for JSON text).
    """

    _model_format: str | None = None
    _model_version: int = 1
    _model_unsigned_versions: tuple[int, ...] = ()
    #: True when ``_from_model_dict(data, source, path)`` needs the file's path (companion files).
    _model_wants_path: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_model_format"):
            register_model_format(cls._model_format, cls._load_model_dict,
                                  unsigned_versions=cls._model_unsigned_versions,
                                  wants_path=cls._model_wants_path, replace=True)

    @classmethod
    def _load_model_dict(cls, data: dict, source: str, path=None):
        if cls._model_wants_path:
            return cls._from_model_dict(data, source, path)
        return cls._from_model_dict(data, source)

    def _model_header(self) -> dict:
        return {"format": type(self)._model_format, "version": type(self)._model_version}

    def to_json(self, path=None):
        """Save the fitted object as versioned, checksummed JSON.

        Parameters
        ----------
        path : path-like, optional

        Returns
        -------
        str or pathlib.Path
            The JSON text, or the path written when ``path`` is given. Load it
            back with :func:`nomogram.load_model` (or ``from_json``).
        """
        return write_model(self.to_dict(), path)

    @classmethod
    def from_json(cls, source, *, verify: bool = True):
        """Load an object of this class from a path or JSON text (see :func:`load_model`)."""
        obj = load_model(source, verify=verify)
        if not isinstance(obj, cls):
            raise ModelFileError(
                f"{cls.__name__}.from_json: {_source_name(source)} holds a {type(obj).__name__}, "
                f"not a {cls.__name__}; use nomogram.load_model to load any model file."
            )
        return obj


# --------------------------------------------------------------------------- reading
def _source_name(source) -> str:
    if isinstance(source, (bytes, bytearray)) or _is_text(source):
        return "the JSON text"
    return f"'{os.fspath(source)}'"


def _is_text(source) -> bool:
    return isinstance(source, str) and source.lstrip()[:1] in ("{", "[")


def _read_text(source, max_bytes: int) -> tuple[str, str]:
    """(text, name for messages) from a path, JSON text or bytes; refuses non-JSON early."""
    if isinstance(source, (bytes, bytearray)):
        raw, name = bytes(source), "the JSON bytes"
    elif _is_text(source):
        if len(source) > max_bytes:
            raise ModelFileError(f"the JSON text is {len(source)} characters; model files are at most "
                                 f"{max_bytes} bytes.")
        return source, "the JSON text"
    else:
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"load_model expects a path, JSON text or bytes; got {type(source).__name__} "
                            f"{source!r}.")
        path = Path(os.fspath(source))
        name = f"'{path}'"
        if not path.is_file():
            raise FileNotFoundError(f"load_model: no file at {name}.")
        size = path.stat().st_size
        if size > max_bytes:
            raise ModelFileError(f"{name} is {size} bytes; model files are at most {max_bytes} bytes "
                                 "(load_model(..., max_bytes=) to raise the limit).")
        raw = path.read_bytes()
    if len(raw) > max_bytes:
        raise ModelFileError(f"{name} is {len(raw)} bytes; model files are at most {max_bytes} bytes.")
    if raw[:1] == b"\x80":
        raise ModelFileError(f"{name} is a Python pickle, not a JSON model file; nomofuse never loads "
                             "pickles. Re-export the model with to_json().")
    if raw[:4] == b"PK\x03\x04":
        raise ModelFileError(f"{name} is a zip archive (a torch.save file?), not a JSON model file.")
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelFileError(f"{name} is not UTF-8 text (byte {err.start}: {raw[err.start:err.start + 1]!r}); "
                             "model files are UTF-8 JSON.") from None
    if "\x00" in text:
        raise ModelFileError(f"{name} holds NUL characters: a binary file, not a JSON model file.")
    return text, name


def _nonfinite_field(obj, path: str = "") -> str | None:
    """Path (``a.b[3]``) of the first NaN or infinite number in a parsed file, else None."""
    stack = [(obj, path)]
    while stack:
        o, p = stack.pop()
        if isinstance(o, float):
            if not math.isfinite(o):
                return p or "<top>"
        elif isinstance(o, dict):
            stack.extend((v, f"{p}.{k}" if p else str(k)) for k, v in reversed(list(o.items())))
        elif isinstance(o, list):
            stack.extend((v, f"{p}[{i}]") for i, v in reversed(list(enumerate(o))))
    return None


def _depth(obj, limit: int) -> int:
    deepest, stack = 0, [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, (dict, list)):
            deepest = max(deepest, d)
            if deepest > limit:
                return deepest
            stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return deepest


def _parse(text: str, name: str) -> dict:
    try:
        data = json.loads(text)  # NaN/Infinity tokens and overflowing numbers are found by field below
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{name} is not valid JSON ({err}).") from None
    except RecursionError:
        raise ModelFileError(f"{name} is nested too deeply to be a model file.") from None
    if not isinstance(data, dict):
        raise ModelFileError(f"{name} holds a JSON {type(data).__name__}, not an object with a 'format' field.")
    if _depth(data, MAX_MODEL_DEPTH) > MAX_MODEL_DEPTH:
        raise ModelFileError(f"{name} is nested deeper than {MAX_MODEL_DEPTH} levels; not a model file.")
    return data


def _find_entry(fmt: str, name: str) -> _Entry:
    entry = _REGISTRY.get(fmt)
    if entry is None:
        package = fmt.split(".")[1] if fmt.count(".") == 2 else ""
        for module in _IMPORTABLE.get(package, ()):
            try:
                importlib.import_module(module)
            except ImportError as err:
                raise ModelFileError(f"{name}: format {fmt!r} needs the package {module!r}, which cannot "
                                     f"be imported ({err}).") from None
            entry = _REGISTRY.get(fmt)
            if entry is not None:
                break
    if entry is None:
        raise ModelFileError(f"{name}: unknown format {fmt!r}; this nomofuse reads {registered_formats()}. "
                             "Upgrade nomofuse, or check that the file is a nomofuse model.")
    return entry


def load_model(source, *, verify: bool = True, max_bytes: int = MAX_MODEL_BYTES):
    """Load any fitted nomofuse object from a model file or its JSON text.

    Parameters
    ----------
    source : path-like, str or bytes
        A file path, or the JSON text itself (a string starting with ``{``).
    verify : bool, default True
        Check the ``sha256`` content checksum. A file edited by hand no
        longer matches and is refused; pass ``verify=False`` to load it
        anyway (every field is still validated).
    max_bytes : int, default :data:`MAX_MODEL_BYTES`

    Returns
    -------
    The fitted object (``LogisticNomogram``, ``CoxNomogram``, ``Signature``,
    ``ComBat``, ``imaging.HabitatModel``, ...).

    Raises
    ------
    FileNotFoundError
        No file at ``source``.
    ModelFileError
        The file is too large, not UTF-8, not JSON (a pickle, a zip), nested
        too deeply, holds non-finite numbers, has an unknown format or
        version, a checksum that does not match, or a field of the wrong type
        or shape; the message names the file and the field.

    Examples
    --------
    >>> m.to_json("model.json"); same = load_model("model.json")  # doctest: +SKIP
    """
    text, name = _read_text(source, max_bytes)
    path = None if isinstance(source, (bytes, bytearray)) or _is_text(source) else Path(os.fspath(source))
    return model_from_dict(_parse(text, name), source=name, verify=verify, path=path)


def model_from_dict(data: dict, source: str = "<dict>", *, verify: bool = True, path=None):
    """Build the fitted object a parsed model file describes (see :func:`load_model`).

    ``path`` is the file the dictionary was read from, for formats whose
    loader finds companion files beside it (``wants_path``).
    """
    if not isinstance(data, dict):
        raise ModelFileError(f"{source}: a model file holds a JSON object; got {type(data).__name__}.")
    fmt = data.get("format")
    if fmt == LEGACY_FORMAT:
        bad = _nonfinite_field(data)
        if bad is not None:
            raise ModelFileError(f"{source}: field '{bad}' holds a non-finite number (NaN or infinity).")
        return _call_loader(_legacy_nomogram_model, data, source, fmt)
    if not isinstance(fmt, str) or not fmt.startswith("nomofuse."):
        raise ModelFileError(f"{source}: not a nomofuse model file: format {fmt!r} (field 'format' must be "
                             "'nomofuse.<package>.<Class>').")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ModelFileError(f"{source}: field 'version' must be an integer; got {version!r}.")
    entry = _find_entry(fmt, source)
    unsigned = "sha256" not in data and version in entry.unsigned_versions
    bad = _nonfinite_field(data)
    if bad is not None and not unsigned:  # files from before checksums wrote NaN for undefined values
        raise ModelFileError(f"{source}: field '{bad}' holds a non-finite number (NaN or infinity); model "
                             "files hold finite numbers (null where a value is undefined).")
    if verify:
        stored = data.get("sha256")
        if stored is None:
            if version not in entry.unsigned_versions:
                raise ModelFileError(
                    f"{source}: field 'sha256' is missing; a {fmt} file of version {version} is written "
                    "with a checksum. Re-export it, or load_model(..., verify=False) to skip the check."
                )
        elif not isinstance(stored, str) or stored != content_checksum(data):
            raise ModelFileError(
                f"{source}: the content does not match its sha256 checksum: the file was edited by hand "
                "or damaged. Re-export the model, or load_model(..., verify=False) if the edit was "
                "intended."
            )
    if entry.wants_path:
        return _call_loader(entry.loader, data, source, fmt, path)
    return _call_loader(entry.loader, data, source, fmt)


def _call_loader(loader, data, source, fmt, *path):
    try:
        return loader(data, source, *path)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
        raise ModelFileError(f"{source}: the {fmt} content is malformed ({type(err).__name__}: {err}).") from err


class ModelReader:
    """Typed access to the fields of a parsed model file, failing with the file and field named.

    Loaders registered with :func:`register_model_format` use it::

        r = ModelReader(data, source)
        coef = r.array("coef", finite=True)            # 1-D float array
        names = r.get("features", list)

    Every failure is a :class:`~nomogram.ModelFileError` such as
    ``"'m.json': field 'coef' must hold finite numbers"``.
    """

    def __init__(self, data: dict, source: str, prefix: str = ""):
        if not isinstance(data, dict):
            raise ModelFileError(f"{source}: field '{prefix.rstrip('.') or '<top>'}' must be an object; "
                                 f"got {type(data).__name__}.")
        self.data = data
        self.source = source
        self.prefix = prefix

    def fail(self, message: str, key: str | None = None):
        where = f"field '{self.prefix}{key}'" if key is not None else (
            f"field '{self.prefix.rstrip('.')}'" if self.prefix else "the file")
        raise ModelFileError(f"{self.source}: {where} {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, kind=None, *, optional: bool = False, default=None):
        """The value of ``key``; ``kind`` a type (or tuple of types) it must be.

        ``float`` admits integers; ``bool`` is never taken for a number. An
        ``optional`` key that is absent or ``null`` gives ``default``.
        """
        if key not in self.data:
            if optional:
                return default
            self.fail("is missing.", key)
        value = self.data[key]
        if value is None and optional:
            return default
        if kind is None:
            return value
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and int not in kinds:
            kinds = kinds + (int,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
            shown = repr(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            self.fail(f"must be {names}; got {type(value).__name__} {shown}.", key)
        return value

    def number(self, key: str, *, optional: bool = False, default=None, allow_null: bool = False) -> float:
        """A finite number (``null`` gives NaN with ``allow_null``)."""
        if key not in self.data and optional:
            return default
        value = self.get(key, (float, type(None)))
        if value is None:
            if allow_null:
                return float("nan")
            self.fail("must be a finite number; got null.", key)
        return float(value)

    def array(self, key: str, *, ndim: int = 1, finite: bool = False, shape=None,
              optional: bool = False) -> np.ndarray | None:
        """A float array (``null`` entries become NaN unless ``finite``)."""
        value = self.get(key, list, optional=optional)
        if value is None:
            return None
        try:
            arr = np.asarray([np.nan if v is None else v for v in value] if ndim == 1 else value, dtype=float)
        except (TypeError, ValueError):
            arr = None
        if ndim > 1 and arr is not None and arr.dtype == object:
            arr = None
        if arr is None or (len(value) and arr.ndim != ndim):
            self.fail(f"must be {'a list of numbers' if ndim == 1 else f'a {ndim}-D list of numbers'}.", key)
        if len(value) == 0:
            arr = arr.reshape((0,) * ndim)
        if finite and not np.isfinite(arr).all():
            self.fail("must hold finite numbers.", key)
        if shape is not None and tuple(arr.shape) != tuple(shape):
            self.fail(f"must have shape {tuple(shape)}; got {arr.shape}.", key)
        return arr

    def strings(self, key: str, *, optional: bool = False) -> list[str] | None:
        value = self.get(key, list, optional=optional)
        if value is None:
            return None
        if not all(isinstance(v, str) for v in value):
            self.fail("must be a list of strings.", key)
        return list(value)

    def sub(self, key: str, *, optional: bool = False) -> "ModelReader | None":
        value = self.get(key, dict, optional=optional)
        if value is None:
            return None
        return ModelReader(value, self.source, prefix=f"{self.prefix}{key}.")

    def frame(self, key: str, *, optional: bool = False) -> pd.DataFrame | None:
        """A DataFrame stored as ``{column: [values]}`` (equal lengths)."""
        value = self.get(key, dict, optional=optional)
        if value is None:
            return None
        lengths = {len(v) if isinstance(v, list) else -1 for v in value.values()}
        if -1 in lengths or len(lengths) > 1:
            self.fail("must map column names to lists of equal length.", key)
        return pd.DataFrame(value)


# --------------------------------------------------------------------------- network weights
def file_sha256(path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (constant memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def save_state_dict(module, path) -> dict:
    """Write a torch module's state dict (tensors only) to ``<stem>.pt`` beside ``path``.

    Networks keep their configuration in the model file and their tensors in
    a ``.pt`` file beside it (never a pickle of the module). Returns the
    model file's ``"weights"`` entry: ``{"file": name, "sha256": digest}``.
    """
    import torch

    weights = Path(path).with_suffix(".pt")
    torch.save({k: v.detach().contiguous().clone() for k, v in module.state_dict().items()}, weights)
    return {"file": weights.name, "sha256": file_sha256(weights)}


def load_state_dict(reader: "ModelReader", path, module) -> None:
    """Load the ``"weights"`` entry of a model file into ``module`` (put in eval mode).

    The entry names a file beside the JSON ``path``; it must exist, match the
    recorded SHA-256 and fit the module. Read with ``weights_only=True`` (no
    code runs). Any failure is a :class:`ModelFileError` naming the file.
    """
    import torch

    w = reader.sub("weights")
    name, digest = w.get("file", str), w.get("sha256", str)
    if path is None:
        reader.fail("names a weights file, found beside the JSON file: load the model from its path, not "
                    "from JSON text.", "weights")
    if Path(name).name != name:
        w.fail(f"must be a file name beside the JSON; got {name!r}.", "file")
    weights = Path(path).parent / name
    source = reader.source
    if not weights.is_file():
        raise ModelFileError(f"{source}: the weights file '{weights}' named in the file is missing; "
                             "keep the .pt beside the .json.")
    if file_sha256(weights) != digest:
        raise ModelFileError(f"{source}: '{weights}' does not match the SHA-256 recorded in the file; "
                             "the weights were changed or belong to another model.")
    try:
        module.load_state_dict(torch.load(str(weights), map_location="cpu", weights_only=True))
    except (RuntimeError, ValueError) as err:
        raise ModelFileError(f"{source}: the weights in '{weights}' do not fit the config ({err}).") from err
    module.eval()


# --------------------------------------------------------------------------- nomogram models
_MODEL_FORMATS = {"LogisticNomogram": "nomofuse.nomogram.LogisticNomogram",
                  "CoxNomogram": "nomofuse.nomogram.CoxNomogram"}
_MODEL_VERSION = 1


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("nomofuse")
    except Exception:  # not installed (running from a checkout)
        return "unknown"


def _floats(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=float).ravel()]


def model_to_dict(model) -> dict:
    """The JSON-ready dictionary of any fitted nomofuse object (``model.to_dict()``).

    For nomogram models it is the table in the module docstring, after
    ``format`` and ``version``; :func:`write_model` adds the checksum.
    """
    return model.to_dict()


def nomogram_model_version_check(data: dict, source: str) -> None:
    """Refuse a nomogram-model file of a version this nomofuse does not read."""
    if data.get("version") != _MODEL_VERSION:
        raise ModelFileError(f"{source}: version {data.get('version')!r} of {data.get('format')} is not "
                             f"supported by this nomofuse (reads {_MODEL_VERSION}); upgrade nomofuse.")


def _nomogram_model_dict(model) -> dict:
    from .cox import CoxNomogram

    check_is_fitted(model, "coef_")
    params = model.get_params()
    if params.get("interaction") is not None:
        pairs = interaction_pairs(params["interaction"])
        params["interaction"] = list(pairs[0]) if len(pairs) == 1 else [list(p) for p in pairs]
    if params.get("times") is not None:
        params["times"] = _floats(params["times"])
    out = {
        "format": _MODEL_FORMATS[type(model).__name__],
        "version": _MODEL_VERSION,
        "nomofuse_version": _version(),
        "params": params,
        "design": model.design_.to_dict(),
        "coefficients": {"names": list(model.coef_.index), "values": _floats(model.coef_)},
        "covariance": np.asarray(model.cov_, dtype=float).tolist(),
        "statistics": {k: float(v) for k, v in model.stats_.items()},
        "linear_predictor_range": list(model.linear_predictor_range_),
        "loglik": list(map(float, model.loglik_)),
    }
    if isinstance(model, CoxNomogram):
        out["cox"] = {
            "center": float(model.center_),
            "means": _floats(model.means_),
            "max_time": float(model.max_time_),
            "baseline_survival": {
                "time": _floats(model.baseline_survival_["time"]),
                "survival": _floats(model.baseline_survival_["survival"]),
            },
            "baseline_hazard_variance": {
                "V0": _floats(model.baseline_hazard_variance_["V0"]),
                "A": np.asarray(model.baseline_hazard_variance_.iloc[:, 1:], dtype=float).tolist(),
            },
        }
        if model.is_stratified:
            out["cox"]["baseline_survival"]["stratum"] = list(model.baseline_survival_["stratum"])
            out["cox"]["strata"] = {"columns": list(model.strata_columns_), "levels": list(model.strata_levels_),
                                    "max_time": [float(model.stratum_max_time_[s]) for s in model.strata_levels_]}
    try:
        out["nomogram"] = model.nomogram().to_spec()
    except ValueError:
        out["nomogram"] = None
    return out


def save_model(model, path) -> Path:
    """Write any fitted object to ``path`` (``model.to_json(path)``); returns the path."""
    return write_model(model.to_dict(), path)


def _legacy_nomogram_model(data: dict, source: str):
    """A ``nomofuse-model`` file (``format_version`` 1, no checksum)."""
    version = data.get("format_version")
    if version != 1:
        raise ModelFileError(f"{source}: format_version {version!r} is not supported by this nomofuse (reads 1); "
                             "upgrade nomofuse or re-export the model.")
    mtype = data.get("model_type")
    if mtype not in _MODEL_FORMATS:
        raise ModelFileError(f"{source}: field 'model_type' must be one of {sorted(_MODEL_FORMATS)}; got {mtype!r}.")
    return _nomogram_model_from_dict(data, source, mtype)


def _nomogram_model_from_dict(data: dict, source: str, mtype: str):
    from .cox import CoxNomogram
    from .logistic import LogisticNomogram

    def fail(msg):
        raise ModelFileError(f"{source}: {msg}")

    r = ModelReader(data, source)
    for key in ("params", "design", "coefficients", "covariance", "statistics", "linear_predictor_range", "loglik"):
        if key not in data:
            fail(f"required field '{key}' is missing.")
    params = dict(r.get("params", dict))
    if params.get("interaction") is not None:
        try:
            pairs = interaction_pairs(params["interaction"], f"{source}: params")
        except ValueError as err:
            fail(str(err))
        params["interaction"] = pairs[0] if len(pairs) == 1 else pairs
    classes = {"LogisticNomogram": LogisticNomogram, "CoxNomogram": CoxNomogram}
    try:
        model = classes[mtype](**params)
    except TypeError as err:
        fail(f"field 'params' does not fit {mtype}: {err}.")
    try:
        design = Design.from_dict(r.get("design", dict))
    except (KeyError, TypeError) as err:
        fail(f"field 'design' is malformed: {err}.")
    coefs = r.sub("coefficients")
    names = coefs.get("names", list)
    expected = (["Intercept"] if mtype == "LogisticNomogram" else []) + design.column_names
    if names != expected:
        fail(f"coefficient names {names} do not match the design's columns {expected}.")
    values = coefs.get("values", list)
    if len(values) != len(names):
        fail(f"'coefficients.values' must have {len(names)} numbers.")
    coef = coefs.array("values", finite=True)
    cov = np.asarray(r.get("covariance", list), dtype=float)
    if cov.shape != (len(names), len(names)) or not np.isfinite(cov).all():
        fail(f"'covariance' must be a finite {len(names)}x{len(names)} matrix; got shape {cov.shape}.")
    for term in design.terms:
        if term.kind == "rcs" and (term.knots is None or len(term.knots) != len(term.columns) + 1
                                   or any(np.diff(term.knots) <= 0)):
            fail(f"predictor '{term.name}': knots must be {len(term.columns) + 1} increasing numbers.")
        if term.kind == "categorical" and (not term.levels or len(term.levels) != len(term.columns) + 1):
            fail(f"predictor '{term.name}': levels must list {len(term.columns) + 1} levels.")
    statistics = r.get("statistics", dict)
    model.design_ = design
    model._set_feature_names(design)
    model.coef_ = pd.Series(coef, index=names)
    model.cov_ = pd.DataFrame(cov, index=names, columns=names)
    model.stats_ = pd.Series({k: (np.nan if v is None else v) for k, v in statistics.items()}, dtype=float)
    lo, hi = r.array("linear_predictor_range", finite=True, shape=(2,))
    model.linear_predictor_range_ = (float(lo), float(hi))
    model.loglik_ = tuple(float(v) for v in r.array("loglik", finite=True, shape=(2,)))
    if mtype == "CoxNomogram":
        cox = data.get("cox")
        if not isinstance(cox, dict):
            fail("Cox model without the 'cox' field (center, means, baseline_survival).")
        bs = cox.get("baseline_survival") or {}
        t = np.asarray(bs.get("time", []), dtype=float)
        s = np.asarray(bs.get("survival", []), dtype=float)
        if len(t) == 0 or len(t) != len(s):
            fail("'cox.baseline_survival' needs 'time' and 'survival' of equal, non-zero length.")
        strata = cox.get("strata")
        stratum = np.asarray(bs.get("stratum", [""] * len(t)), dtype=object)
        if strata is not None:
            if not isinstance(strata, dict) or not all(k in strata for k in ("columns", "levels", "max_time")):
                fail("'cox.strata' needs 'columns', 'levels' and 'max_time'.")
            levels = [str(v) for v in strata["levels"]]
            if len(stratum) != len(t) or not set(stratum) <= set(levels) or len(strata["max_time"]) != len(levels):
                fail("'cox.baseline_survival.stratum' must name a stratum of 'cox.strata.levels' for every time, "
                     "and 'cox.strata.max_time' hold one time per stratum.")
        for lab in dict.fromkeys(stratum):
            ts, ss = t[stratum == lab], s[stratum == lab]
            if np.any(np.diff(ts) <= 0) or np.any(np.diff(ss) > 1e-12) or ss.min() < 0 or ss.max() > 1:
                fail("'cox.baseline_survival' must have increasing times and non-increasing survival in [0, 1]"
                     + ("" if strata is None else f" within each stratum ({lab})") + ".")
        means = np.asarray(cox.get("means", []), dtype=float)
        if len(means) != len(names):
            fail(f"'cox.means' must have {len(names)} values.")
        center = ModelReader(cox, source, "cox.").number("center")
        if not math.isclose(center, float(means @ coef), rel_tol=1e-9, abs_tol=1e-12):
            fail("'cox.center' is not means @ coefficients; the file was edited inconsistently.")
        model.means_ = pd.Series(means, index=names)
        model.center_ = center
        model.max_time_ = ModelReader(cox, source, "cox.").number("max_time")
        model.baseline_survival_ = pd.DataFrame({"time": t, "survival": s})
        if strata is not None:
            model.baseline_survival_.insert(0, "stratum", list(stratum))
            model.strata_columns_ = [str(c) for c in strata["columns"]]
            model.strata_levels_ = levels
            model.stratum_max_time_ = dict(zip(levels, (float(v) for v in strata["max_time"])))
            model.feature_names_in_ = np.asarray(list(design.predictors) + model.strata_columns_, dtype=object)
            model.n_features_in_ = len(model.feature_names_in_)
        bhv = cox.get("baseline_hazard_variance") or {}
        V0 = np.asarray(bhv.get("V0", []), dtype=float)
        A = np.asarray(bhv.get("A", []), dtype=float)
        if V0.shape != t.shape or A.shape != (len(t), len(names)) or not np.isfinite(A).all():
            fail(f"'cox.baseline_hazard_variance' needs V0 ({len(t)} values) and A ({len(t)}x{len(names)}).")
        model.baseline_hazard_variance_ = pd.DataFrame(
            np.column_stack([V0, A]), columns=["V0"] + [f"A[{c}]" for c in names]
        )
    return model

