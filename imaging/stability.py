"""Thin name kept for users of ``imaging.stability``: the implementation is :mod:`nomogram.features.stability`."""

from nomogram.features.stability import *  # noqa: F401,F403
from nomogram.features.stability import __all__  # noqa: F401
