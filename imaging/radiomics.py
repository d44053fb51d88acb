"""Radiomics features per case: pyradiomics with presets, regions and a memory-saving crop.

:class:`RadiomicsExtractor` wraps pyradiomics'
``featureextractor.RadiomicsFeatureExtractor`` with presets shipped as YAML
parameter files in ``imaging/params/`` (``"CT"``, ``"MR"``, ``"PET"``; each
file documents its choices), and :func:`extract_case` is the function the
cohort runner calls once per case.

Memory
------
pyradiomics filters (LoG, wavelet, ...) the *whole* image when no resampling
is set, which for a 512 x 512 x 600 CT and eight wavelet decompositions takes
gigabytes. Before any filter, nomofuse crops the image and the region mask to
the region's bounding box plus ``padDistance`` voxels (pyradiomics' own margin
for filters), after the whole-image steps (intensity normalisation) have run:

1. mask of the region (binary, label 1);
2. ``normalize`` (if set) on the full image, as pyradiomics does;
3. if ``resampledPixelSpacing`` is set: pyradiomics' ``resampleImage``, which
   already resamples only the bounding box plus ``padDistance``;
   otherwise: a crop to the box plus ``padDistance`` voxels, widened to 12
   LoG sigmas when LoG is enabled (:meth:`RadiomicsExtractor.crop_margin`);
4. pyradiomics ``execute`` on the small image with normalisation and
   resampling switched off (already done).

With resampling (all three presets) this is *exactly* pyradiomics' own
pipeline, so every feature, filtered ones included, is the same float as
``RadiomicsFeatureExtractor.execute`` on the full image (tested on real cases).
Without resampling, features of the Original and Gradient images (cases brain1
and lung1, tested) and Wavelet images (lung1 tested; brain1 also seen identical)
were identical to a full-image run on the pyradiomics cases, LoG agreed within 6e-10 relative (tested to 1e-8) and LBP3D within
4e-6 relative (LBP3D interpolates on spheres; not tested), but Square,
SquareRoot, Logarithm and Exponential are *not* comparable: pyradiomics rescales
them by the maximum absolute value of the image it is given, so they describe
the cropped image (as pyradiomics' own
``preCrop: true`` and every resampled run do). ``crop=False`` runs the full image.

``benchmarks/bench_radiomics_crop.py``: on a 512 x 512 x 80 CT holding the real
lung1 nodule, Original + Wavelet + LoG without resampling took 69.7 s and 3.4 GB
peak memory in pyradiomics' plain run and 2.0 s and 0.6 GB with the crop.
"""

from __future__ import annotations

import copy
import functools
import logging
import numbers
import os
from collections.abc import Mapping, Sequence

import numpy as np
import SimpleITK as sitk

from .exceptions import EmptyRegionError, ImagingError, RadiomicsParamsError, _where
from .geometry import check_image_mask_geometry, resample_mask_to_image
from .io import as_label_image, check_label, read_image, read_mask
from .presets import (DEFAULT_PRESET, MAX_PARAMS_BYTES, PARAMS_DIR, PRESETS,  # noqa: F401
                      preset_path, read_params)
from .regions import lesion_region, organ_soil, peritumoral_ring, region_name, ring_name

__all__ = [
    "RadiomicsExtractor",
    "extract_case",
    "PRESETS",
    "IMAGE_TYPES",
    "preset_path",
    "limit_itk_threads",
    "check_settings",
]

IMAGE_TYPES = ("Original", "Wavelet", "LoG", "Square", "SquareRoot", "Logarithm",
               "Exponential", "Gradient", "LBP2D", "LBP3D")
REGIONS = ("lesion", "ring", "soil")
#: Margin, in LoG sigmas, kept around the region before LoG filtering without resampling.
LOG_MARGIN_SIGMAS = 12.0

_PET_KEYS = ("suv_factor", "suv_dicom", "pet_metrics", "mtv_relative", "mtv_absolute")


def limit_itk_threads(n_threads: int = 1) -> None:
    """Limit ITK filters (SimpleITK, used by pyradiomics) to ``n_threads`` threads in this process.

    The worker initialiser ``nomofuse radiomics`` gives the cohort runner
    when several workers share a machine: N workers then use N cores instead
    of N x cores threads. With one worker ITK may keep every core.
    """
    n_threads = int(n_threads)
    if n_threads < 1:
        raise ValueError(f"The 'n_threads' parameter of limit_itk_threads must be >= 1. "
                         f"Got {n_threads} instead.")
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(n_threads)


def _quiet_radiomics():
    logging.getLogger("radiomics").setLevel(logging.ERROR)


class RadiomicsExtractor:
    """pyradiomics feature extraction with presets, named regions and cropping.

    Parameters
    ----------
    params : {"CT", "MR", "PET"}, path or dict, default "CT"
        A preset shipped in ``imaging/params/`` (see the comments in each YAML
        file for the choices), a pyradiomics parameter file (YAML or JSON), or a
        parameter dict with the keys ``imageType``, ``featureClass``, ``setting``.
    image_types : dict or sequence of str, optional
        Replaces the ``imageType`` section: e.g. ``["Original", "Wavelet"]`` or
        ``{"Original": {}, "LoG": {"sigma": [1.0, 3.0]}}``. Allowed names:
        Original, Wavelet, LoG, Square, SquareRoot, Logarithm, Exponential,
        Gradient, LBP2D, LBP3D.
    feature_classes : dict or sequence of str, optional
        Replaces the ``featureClass`` section (``{"firstorder": None, "glcm": ["Contrast"]}``
        or ``["firstorder", "shape"]``).
    settings : dict, optional
        Overrides entries of the ``setting`` section (``{"binWidth": 10}``).
    diagnostics : bool, default False
        Keep pyradiomics' ``diagnostics_*`` entries (versions, settings, image and
        mask statistics). They describe the cropped (and resampled) image passed
        to pyradiomics and are strings/tuples, not features.
    crop : bool, default True
        Crop to the region's bounding box plus ``padDistance`` before filtering
        (see the module docstring). ``False`` passes the full image to pyradiomics.

    Attributes
    ----------
    params_ : dict
        The parameter dict actually used (after overrides), as pyradiomics reads it.

    Examples
    --------
    >>> ext = RadiomicsExtractor("CT", image_types=["Original"])       # doctest: +SKIP
    >>> row = ext.extract_case("case_001", "ct.nrrd", "mask.nrrd",
    ...                        regions=("lesion", "ring"), ring_mm=5)  # doctest: +SKIP
    >>> row["lesion_original_firstorder_Mean"]                         # doctest: +SKIP
    """

    def __init__(self, params=DEFAULT_PRESET, *, image_types=None, feature_classes=None, settings=None,
                 diagnostics: bool = False, crop: bool = True):
        self.params = params
        self.image_types = image_types
        self.feature_classes = feature_classes
        self.settings = settings
        self.diagnostics = diagnostics
        self.crop = crop
        self.params_ = self._build_params()
        self._check_filters()
        self._validated()  # pyradiomics' own schema, now rather than at the first case
        self.params_name_ = params if isinstance(params, str) and params in PRESETS else (
            os.fspath(params) if isinstance(params, (str, os.PathLike)) else "custom")

    # ------------------------------------------------------------------ parameters
    def _build_params(self) -> dict:
        params = read_params(self.params)  # one reader: preset, file or dict, shape checked
        params.setdefault("imageType", {"Original": {}})
        params.setdefault("featureClass", None)
        params.setdefault("setting", {})
        if self.image_types is not None:
            it = self.image_types
            if isinstance(it, str):
                it = [it]
            if not isinstance(it, Mapping):
                it = {name: {} for name in it}
            unknown = [k for k in it if k not in IMAGE_TYPES]
            if unknown:
                raise ValueError(
                    f"The 'image_types' parameter of RadiomicsExtractor must hold names from "
                    f"{list(IMAGE_TYPES)}. Got {unknown} instead."
                )
            params["imageType"] = {k: dict(v or {}) for k, v in it.items()}
        if self.feature_classes is not None:
            fc = self.feature_classes
            if isinstance(fc, str):
                fc = [fc]
            if not isinstance(fc, Mapping):
                fc = {name: None for name in fc}
            params["featureClass"] = dict(fc)
        if params["featureClass"] is None:
            del params["featureClass"]
        if self.settings:
            params["setting"] = {**(params["setting"] or {}), **dict(self.settings)}
        params["setting"] = dict(params["setting"] or {})
        params["setting"]["additionalInfo"] = bool(self.diagnostics)
        return params

    def _check_filters(self):
        """Fail early, with the fix, where pyradiomics would skip a filter with only a log warning."""
        types = self.params_["imageType"]
        if "LBP3D" in types:
            import scipy.special

            if not hasattr(scipy.special, "sph_harm") and hasattr(scipy.special, "sph_harm_y"):
                # SciPy 1.17 removed sph_harm(m, n, theta, phi), which pyradiomics' LBP3D imports;
                # sph_harm_y(n, m, polar, azimuth) is the same function with arguments reordered.
                def sph_harm(m, n, theta, phi, _y=scipy.special.sph_harm_y):
                    return _y(n, m, phi, theta)

                scipy.special.sph_harm = sph_harm
            try:
                import trimesh  # noqa: F401
            except ImportError as exc:
                raise ImportError(
                    "The LBP3D image type needs the package 'trimesh' (pyradiomics would silently "
                    "skip the filter); install it with: pip install trimesh"
                ) from exc
        if "LBP2D" in types:
            try:
                import skimage  # noqa: F401
            except ImportError as exc:
                raise ImportError(
                    "The LBP2D image type needs scikit-image (pyradiomics would silently skip "
                    "the filter); install it with: pip install scikit-image"
                ) from exc

    def _validated(self):
        """Build both pyradiomics extractors: pyradiomics validates the parameters then."""
        self._extractor  # noqa: B018 - cached properties, built for their checks
        self._extractor_prepared  # noqa: B018

    def _pyradiomics_extractor(self, params):
        """pyradiomics' extractor for ``params``; its schema errors as one RadiomicsParamsError."""
        from radiomics import featureextractor

        _quiet_radiomics()
        pykwalify_log = logging.getLogger("pykwalify")
        level = pykwalify_log.level
        pykwalify_log.setLevel(logging.CRITICAL)  # pyradiomics' validator logs every error too
        try:
            return featureextractor.RadiomicsFeatureExtractor(params)
        except Exception as exc:  # pykwalify's SchemaError, pyradiomics' ValueError
            if type(exc).__name__ != "SchemaError" and not isinstance(exc, (ValueError, KeyError)):
                raise
            raise RadiomicsParamsError(
                f"{self._params_where()} is not valid for pyradiomics: {_schema_problems(exc)}; "
                "fix it (the names are case-sensitive; see "
                "https://pyradiomics.readthedocs.io/en/latest/customization.html)."
            ) from exc
        finally:
            pykwalify_log.setLevel(level)

    def _params_where(self) -> str:
        p = self.params
        if isinstance(p, str) and p in PRESETS:
            return f"preset {p!r}" + (" (with overrides)" if self._overridden() else "")
        if isinstance(p, (str, os.PathLike)):
            return f"parameter file '{os.fspath(p)}'" + (
                " (with overrides)" if self._overridden() else "")
        return "the parameter dict"

    def _overridden(self) -> bool:
        return any(v is not None for v in (self.image_types, self.feature_classes)) or bool(
            self.settings)

    @functools.cached_property
    def _extractor(self):
        """pyradiomics extractor with the full settings (what a plain pyradiomics run does)."""
        return self._pyradiomics_extractor(copy.deepcopy(self.params_))

    @functools.cached_property
    def _extractor_prepared(self):
        """Same features, for an image already normalised, resampled and cropped."""
        params = copy.deepcopy(self.params_)
        s = params["setting"]
        s["normalize"] = False
        s["removeOutliers"] = None
        s["resampledPixelSpacing"] = None
        s["preCrop"] = False
        return self._pyradiomics_extractor(params)

    # ------------------------------------------------------------------ one region
    def prepare(self, image: sitk.Image, region: sitk.Image):
        """Normalise (whole image), then resample or crop to the region's box plus ``padDistance``.

        Returns the ``(image, mask)`` pair pyradiomics would filter; exactly the
        steps of pyradiomics' ``loadImage`` with ``preCrop`` forced on.
        """
        from radiomics import imageoperations

        s = dict(self._extractor.settings)
        s["label"] = 1
        mask = imageoperations.getMask(region, **s)
        if s.get("normalize", False):
            image = imageoperations.normalizeImage(image, **s)
        if s.get("interpolator") is not None and s.get("resampledPixelSpacing") is not None:
            image, mask = imageoperations.resampleImage(image, mask, **s)
        else:
            bb, corrected = imageoperations.checkMask(image, mask, **s)
            if corrected is not None:
                mask = corrected
            pad = self.crop_margin(image)
            if len(set(pad)) == 1:
                image, mask = imageoperations.cropToTumorMask(image, mask, bb, padDistance=pad[0])
            else:
                lo = np.maximum(np.asarray(bb[0::2]) - pad, 0)
                hi = np.minimum(np.asarray(bb[1::2]) + pad, np.asarray(image.GetSize()) - 1)
                size = [int(v) for v in hi - lo + 1]
                image = sitk.RegionOfInterest(image, size, [int(v) for v in lo])
                mask = sitk.RegionOfInterest(mask, size, [int(v) for v in lo])
        return image, mask

    def crop_margin(self, image: sitk.Image) -> np.ndarray:
        """Margin (voxels, per axis x, y, z) kept around the region when there is no resampling.

        ``padDistance`` voxels (pyradiomics' margin for filters), widened for the
        LoG filter to :math:`\\lceil 12\\sigma_{max} / s_i \\rceil` voxels along an axis
        of spacing :math:`s_i` mm (``LOG_MARGIN_SIGMAS``). ``padDistance`` counts voxels while
        the Gaussian's support is in mm, and SimpleITK's LoG is a recursive (IIR) filter whose
        border effect decays slowly: with 4 sigma, LoG features of the pyradiomics brain1 case
        differed by up to 0.6 % from a full-image run; with 12 sigma by at most 6e-10 (relative).
        """
        s = self._extractor.settings
        pad = np.full(image.GetDimension(), int(s.get("padDistance", 5)), dtype=int)
        log = self._extractor.enabledImagetypes.get("LoG")
        if log is not None:
            sigmas = log.get("sigma", s.get("sigma", [])) or []
            if sigmas:
                need = np.ceil(LOG_MARGIN_SIGMAS * max(sigmas) / np.asarray(image.GetSpacing())).astype(int)
                pad = np.maximum(pad, need)
        return pad

    def extract_region(self, image: sitk.Image, region: sitk.Image, *, name: str | None = None,
                       case_id=None) -> dict:
        """Features of one binary region (1 inside), columns prefixed ``<name>_``.

        Parameters
        ----------
        image : SimpleITK.Image
        region : SimpleITK.Image
            Binary mask on the image grid (as returned by :mod:`imaging.regions`).
        name : str, optional
            Column prefix; default the region's stored name (``lesion``...).

        Returns
        -------
        dict
            ``{"<name>_<pyradiomics feature name>": float}``, in pyradiomics' order.
        """
        name = name or region_name(region)
        try:
            if self.crop:
                img, msk = self.prepare(image, region)
                raw = self._extractor_prepared.execute(img, msk, label=1)
            else:
                raw = self._extractor.execute(image, region, label=1)
        except (ValueError, AssertionError) as exc:
            raise ImagingError(
                f"pyradiomics failed on region {name!r}{_where(None, case_id)}: {exc}"
            ) from exc
        out = {}
        for key, value in raw.items():
            if key.startswith("diagnostics_"):
                if self.diagnostics:
                    out[f"{name}_{key}"] = value
                continue
            out[f"{name}_{key}"] = float(value)
        return out

    # ------------------------------------------------------------------ one case
    def extract_case(self, case_id, image, mask, *, regions: Sequence[str] = ("lesion",),
                     label: int = 1, organ_mask=None, ring_mm: float | Sequence[float] = 5.0,
                     ring_within=None, resample_mask: bool = False, **pet) -> dict[str, float]:
        """Features of one case for each requested region; see :func:`extract_case`."""
        unknown = [k for k in pet if k not in _PET_KEYS]
        if unknown:
            raise TypeError(
                f"extract_case got unexpected keyword argument(s) {unknown}; "
                f"the PET options are {list(_PET_KEYS)}."
            )
        regions = (regions,) if isinstance(regions, str) else tuple(regions)
        bad = [r for r in regions if r not in REGIONS]
        if bad:
            raise ValueError(
                f"The 'regions' parameter of extract_case must hold names from {list(REGIONS)}. "
                f"Got {bad} instead."
            )
        image_path = image if not isinstance(image, sitk.Image) else None
        mask_path = mask if not isinstance(mask, sitk.Image) else None
        label = check_label(label, path=mask_path, case_id=case_id)
        image = read_image(image, case_id=case_id) if image_path is not None else image
        mask = (read_mask(mask, case_id=case_id, reference=image) if mask_path is not None
                else as_label_image(mask, case_id=case_id))
        mask = self._on_grid(image, mask, resample_mask, case_id, mask_path)

        # PET: convert to SUV before anything else.
        suv_factor = pet.get("suv_factor")
        if pet.get("suv_dicom") is not None:
            if suv_factor is not None:
                raise ValueError("Give either suv_factor or suv_dicom to extract_case, not both.")
            from .pet import suv_factor_from_dicom

            suv_factor = suv_factor_from_dicom(pet["suv_dicom"], case_id=case_id)
        if suv_factor is not None:
            image = sitk.Cast(image, sitk.sitkFloat64) * float(suv_factor)
        want_pet = pet.get("pet_metrics")
        if want_pet is None:
            want_pet = suv_factor is not None or self.params_name_ == "PET"

        region_images = []
        lesion = lesion_region(mask, label, case_id=case_id)
        if "lesion" in regions:
            region_images.append(lesion)
        if "ring" in regions:
            within = None
            if ring_within is not None:
                within = self._load_mask(ring_within, image, resample_mask, case_id)
            mms = [ring_mm] if isinstance(ring_mm, numbers.Real) else list(ring_mm)
            for mm in mms:
                region_images.append(peritumoral_ring(mask, mm, within, label=label,
                                                      case_id=case_id))
        if "soil" in regions:
            if organ_mask is None:
                raise ValueError(
                    f"Region 'soil' needs organ_mask{_where(None, case_id)}: pass the organ's "
                    "label image (file or SimpleITK image), or drop 'soil' from regions."
                )
            organ = self._load_mask(organ_mask, image, resample_mask, case_id)
            region_images.append(organ_soil(organ, lesion, case_id=case_id))

        row: dict[str, float] = {}
        for reg in region_images:
            name = region_name(reg)
            if want_pet:
                from .pet import pet_metrics

                row.update({f"{name}_pet_{k}": v for k, v in pet_metrics(
                    image, reg, relative=pet.get("mtv_relative", 0.4),
                    absolute=pet.get("mtv_absolute", 2.5), case_id=case_id).items()})
            row.update(self.extract_region(image, reg, name=name, case_id=case_id))
        return row

    @staticmethod
    def _on_grid(image, mask, resample_mask, case_id, mask_path):
        if resample_mask:
            try:
                check_image_mask_geometry(image, mask, case_id=case_id)
            except ImagingError:
                mask = resample_mask_to_image(mask, image)
        else:
            check_image_mask_geometry(
                image, mask, case_id=case_id,
                mask_name=os.path.basename(os.fspath(mask_path)) if mask_path is not None else None)
        return mask

    def _load_mask(self, m, image, resample_mask, case_id):
        path = m if not isinstance(m, sitk.Image) else None
        m = (read_mask(m, case_id=case_id, reference=image) if path is not None
             else as_label_image(m, case_id=case_id))
        return self._on_grid(image, m, resample_mask, case_id, path)

    def __repr__(self):
        return (f"RadiomicsExtractor(params={self.params!r}, image_types="
                f"{list(self.params_['imageType'])}, crop={self.crop})")


def _schema_problems(exc: Exception) -> str:
    """pykwalify's list of schema errors (or pyradiomics' message) as one line."""
    import re

    text = str(getattr(exc, "msg", None) or exc)
    problems = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("- "):
            continue
        m = re.fullmatch(r"- (.*?)\.?\s*(?:Value )?[Pp]ath: '([^']*)'\.?", line)
        problems.append(f"{m.group(1)} (at '{m.group(2) or '/'}')" if m else line[2:])
    return " ".join(("; ".join(problems) if problems else text).split())


@functools.lru_cache(maxsize=16)
def _cached_extractor(params, content: str = "") -> RadiomicsExtractor:
    return RadiomicsExtractor(params)


def _extractor_for(params) -> RadiomicsExtractor:
    """A :class:`RadiomicsExtractor` for ``params``, reused while the parameter file is unchanged.

    The reuse is keyed by the file's *content*, not only its name: a file
    edited between two runs in one process (or in a worker forked from it)
    never reuses the settings read before the edit.
    """
    if isinstance(params, RadiomicsExtractor):
        return params
    if isinstance(params, Mapping):
        return RadiomicsExtractor(params)
    name = os.fspath(params) if isinstance(params, os.PathLike) else params
    content = ""
    if isinstance(name, str) and name not in PRESETS and os.path.isfile(name):
        import hashlib

        try:
            with open(name, "rb") as fh:
                content = hashlib.sha256(fh.read(MAX_PARAMS_BYTES + 1)).hexdigest()
        except OSError:
            content = ""  # read_params reports it
    return _cached_extractor(name, content)


def check_settings(*, params=DEFAULT_PRESET, regions: Sequence[str] = ("lesion",),
                   ring_mm: float | Sequence[float] = 5.0, **_ignored) -> None:
    """Check, before any case, the settings :func:`extract_case` gets for every case.

    Reads the parameter file (:func:`imaging.presets.read_params`), validates
    it with pyradiomics' own schema, checks that the filters it names can run,
    and checks ``regions`` and ``ring_mm``. ``nomofuse radiomics`` runs it
    once, before its first case is computed (``CohortJob.check``).

    Raises
    ------
    RadiomicsParamsError, ValueError
        Naming the file or the setting and the fix.
    """
    params = _extractor_for(params)
    regions = (regions,) if isinstance(regions, str) else tuple(regions)
    bad = [r for r in regions if r not in REGIONS]
    if bad:
        raise ValueError(f"The 'regions' parameter of extract_case must hold names from "
                         f"{list(REGIONS)}. Got {bad} instead.")
    if "ring" in regions:
        mms = [ring_mm] if isinstance(ring_mm, numbers.Real) else list(ring_mm)
        if not mms or not all(isinstance(m, numbers.Real) and np.isfinite(m) and m > 0
                              for m in mms):
            raise ValueError(f"The 'ring_mm' parameter of extract_case must be ring widths in "
                             f"mm, each > 0. Got {ring_mm!r} instead.")


def extract_case(case_id, image, mask, *, params=DEFAULT_PRESET, regions: Sequence[str] = ("lesion",),
                 label: int = 1, organ_mask=None, ring_mm: float | Sequence[float] = 5.0,
                 ring_within=None, resample_mask: bool = False, **pet) -> dict[str, float]:
    """Radiomics features of one case: one flat ``dict`` of floats, one key per feature.

    This is the function the cohort runner (``nomofuse radiomics``) calls once
    per case; its signature is stable.

    Parameters
    ----------
    case_id : str
        Case identifier, named in every error message.
    image : path-like or SimpleITK.Image
        The volume: a file SimpleITK reads (NIfTI, NRRD, MHA, ...) or a DICOM
        series directory (the largest series is read).
    mask : path-like or SimpleITK.Image
        Label image on the image grid (0 background), or a DICOM SEG file
        (read onto the image grid with :func:`imaging.io.read_dicom_seg`; segment
        number = label).
    params : {"CT", "MR", "PET"}, path, dict or RadiomicsExtractor, default "CT"
        Preset name, pyradiomics parameter file, parameter dict, or a configured
        :class:`RadiomicsExtractor` (to choose image types, diagnostics, crop).
    regions : sequence of {"lesion", "ring", "soil"}, default ("lesion",)
        Regions to describe. ``"ring"``: peritumoral ring(s) of ``ring_mm`` mm
        (see :func:`imaging.regions.peritumoral_ring`); ``"soil"``: ``organ_mask``
        minus the lesion (:func:`imaging.regions.organ_soil`).
    label : int, default 1
        Lesion label in ``mask``.
    organ_mask : path-like or SimpleITK.Image, optional
        Organ label image (any non-zero voxel is organ); required for ``"soil"``.
    ring_mm : float or sequence of float, default 5.0
        Ring width(s) in mm; several widths give several ring regions
        (``ring3mm``, ``ring5mm``...).
    ring_within : path-like or SimpleITK.Image, optional
        Organ or body mask the ring is restricted to.
    resample_mask : bool, default False
        If the mask (or organ/ring masks) is not on the image grid, resample it
        with nearest neighbour instead of raising
        :class:`~imaging.exceptions.GeometryMismatchError` (``--resample-mask``).
    **pet
        PET options: ``suv_factor`` (float: the image is multiplied by it to get
        SUV), ``suv_dicom`` (path of a PET DICOM file or series directory: the
        body-weight SUV factor is computed from its tags by
        :func:`imaging.pet.suv_factor_from_dicom`), ``pet_metrics`` (bool; default
        True when an SUV factor is given or params is "PET": adds
        ``<region>_pet_SUVmax``, ``SUVmean``, ``SUVpeak``, ``MTV40_ml``, ``TLG40``,
        ``MTV2.5_ml``... from :func:`imaging.pet.pet_metrics`), ``mtv_relative``
        (default 0.4 of SUVmax), ``mtv_absolute`` (default 2.5 SUV).

    Returns
    -------
    dict[str, float]
        ``{"<region>_<pyradiomics feature name>": value}``, e.g.
        ``"lesion_original_firstorder_Mean"``, ``"ring5mm_wavelet-LLH_glcm_Contrast"``,
        ``"soil_original_shape_MeshVolume"``. No ``diagnostics_*`` entries unless
        ``params`` is a ``RadiomicsExtractor(..., diagnostics=True)``.

    Raises
    ------
    ImageReadError, GeometryMismatchError, EmptyRegionError, ImagingError
        All subclasses of ``ValueError``, naming the case and file.

    Examples
    --------
    >>> row = extract_case("case_001", "ct.nrrd", "seg.nrrd", params="CT",
    ...                    regions=("lesion", "ring"), ring_mm=5)   # doctest: +SKIP
    """
    ext = _extractor_for(params)
    return ext.extract_case(case_id, image, mask, regions=regions, label=label,
                            organ_mask=organ_mask, ring_mm=ring_mm, ring_within=ring_within,
                            resample_mask=resample_mask, **pet)
