"""Errors raised by :mod:`pathology`.

Every error subclasses :class:`PathologyError` (a :class:`ValueError`) and
carries a ``stage`` attribute naming the step of the per-slide pipeline that
failed: ``read`` (the slide or a feature file cannot be opened or is
truncated), ``mpp`` (the slide's microns per pixel are unknown or absurd),
``tissue`` (tissue detection or a user mask), ``tiling`` (no tile can be
laid), ``encode`` (encoder, weights, inference). The cohort runner
(:func:`fusion.cohort.run_cohort`) records that stage beside the message, so
a failure table reads "slide_17  mpp  no microns-per-pixel ...".

Every message names the slide (file and id when known), says what was
expected and what was found, and gives the fix.
"""

from __future__ import annotations

__all__ = [
    "PathologyError",
    "SlideReadError",
    "ResolutionError",
    "TissueError",
    "TilingError",
    "EncoderError",
    "WeightsError",
    "FeatureFileError",
]


class PathologyError(ValueError):
    """Base class of every error raised by :mod:`pathology`."""

    stage = "pathology"


class SlideReadError(PathologyError):
    """A slide cannot be opened, is truncated, or has no pyramid."""

    stage = "read"


class ResolutionError(PathologyError):
    """A slide's microns per pixel are missing, inconsistent or implausible."""

    stage = "mpp"


class TissueError(PathologyError):
    """Tissue detection failed, or a user-given tissue mask does not fit the slide."""

    stage = "tissue"


class TilingError(PathologyError):
    """No tile can be laid (no tissue at the requested fraction, a bad tile size...)."""

    stage = "tiling"


class EncoderError(PathologyError):
    """An encoder is unknown, misconfigured, or was asked for without weights."""

    stage = "encode"


class WeightsError(EncoderError):
    """An encoder weights file is missing, has the wrong checksum, or does not fit."""


class FeatureFileError(PathologyError):
    """A tile-feature file (HDF5 or CLAM ``.pt``) is missing, malformed or inconsistent."""

    stage = "read"


def _where(path=None, slide_id=None) -> str:
    """``" (slide 'x', file 'y')"`` for messages, or ``""``."""
    parts = []
    if slide_id is not None:
        parts.append(f"slide {str(slide_id)!r}")
    if path is not None:
        parts.append(f"file {str(path)!r}")
    return f" ({', '.join(parts)})" if parts else ""
