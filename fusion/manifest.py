"""Former home of the manifest checker; it lives in :mod:`fusion.cohort.manifest` (names kept here)."""

from .cohort.manifest import ManifestError, check_manifest, read_manifest  # noqa: F401

__all__ = ["ManifestError", "check_manifest", "read_manifest"]
