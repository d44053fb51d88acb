"""Former home of the result cache; it lives in :mod:`fusion.cohort.cache` (names kept here)."""

from .cohort.cache import (  # noqa: F401
    FileDigests,
    ResultCache,
    atomic_write_bytes,
    cache_key,
    file_sha256,
    output_record,
)

__all__ = ["FileDigests", "ResultCache", "cache_key", "file_sha256", "atomic_write_bytes",
           "output_record"]
