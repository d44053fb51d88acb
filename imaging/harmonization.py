"""Thin name kept for users of ``imaging.harmonization``: the implementation is :mod:`nomogram.features.harmonization`."""

from nomogram.features.harmonization import *  # noqa: F401,F403
from nomogram.features.harmonization import __all__  # noqa: F401
