"""Errors raised by :mod:`imaging`.

All subclass :class:`ValueError` (through the :mod:`nomogram.exceptions`
family where one fits) so that ``except ValueError`` in a cohort runner
catches every bad-input case, while a caller who wants to tell them apart can.
Every message names the file and the case id when they are known, states what
was expected and what was received, and gives the fix.

Each class carries a ``stage`` attribute, the step of a case it fails
(``"read"``, ``"geometry"``, ``"region"``); the cohort runner records it with
the failure (the protocol is described in :mod:`fusion.cohort.worker`).
"""

from __future__ import annotations

__all__ = [
    "ImagingError",
    "ImageReadError",
    "GeometryMismatchError",
    "EmptyRegionError",
    "LabelError",
    "DicomTagError",
    "RadiomicsParamsError",
    "MissingOptionalDependencyError",
]


class ImagingError(ValueError):
    """Base class of every error raised by :mod:`imaging`."""

    #: Stage of a case this error fails (recorded by the cohort runner); subclasses narrow it.
    stage = "extract"


class ImageReadError(ImagingError):
    """An image, mask, DICOM series, SEG or RTSTRUCT could not be read."""

    stage = "read"


class GeometryMismatchError(ImagingError):
    """Image and mask do not share size, spacing, origin or direction."""

    stage = "geometry"


class EmptyRegionError(ImagingError):
    """A region of interest (lesion, ring, soil, label) holds no voxel."""

    stage = "region"


class LabelError(ImagingError):
    """A lesion label is not a positive integer (``1.5``, ``0``, ``True``)."""

    stage = "region"


class DicomTagError(ImagingError):
    """A DICOM attribute needed for a computation (e.g. SUV) is missing or invalid."""

    stage = "read"


class RadiomicsParamsError(ImagingError):
    """A pyradiomics parameter file (or dict) is unreadable or not valid for pyradiomics."""

    stage = "setup"


class MissingOptionalDependencyError(ImportError):
    """An optional package is needed; the message names the pip extra to install."""

    stage = "setup"


def _where(path=None, case_id=None) -> str:
    """Return ``" (case 'x', file 'y')"`` for messages, or ``""``."""
    parts = []
    if case_id is not None:
        parts.append(f"case {case_id!r}")
    if path is not None:
        parts.append(f"file {str(path)!r}")
    return f" ({', '.join(parts)})" if parts else ""
