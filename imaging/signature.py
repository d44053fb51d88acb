"""Thin name kept for users of ``imaging.signature``: the implementation is :mod:`nomogram.features.signature`."""

from nomogram.features.signature import *  # noqa: F401,F403
from nomogram.features.signature import __all__  # noqa: F401
