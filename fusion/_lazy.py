"""Attributes of a package imported on first use, so that ``nomofuse --help`` stays light."""

from __future__ import annotations

import importlib
import sys


def lazy_attributes(package: str, modules: dict[str, str], public: list[str]):
    """``__getattr__`` and ``__dir__`` for a package whose names live in submodules.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    modules : dict
        Public name → submodule (relative, without the dot) that defines it.
    public : list of str
        The package's ``__all__``.
    """

    def __getattr__(name):
        if name in modules:
            value = getattr(importlib.import_module(f".{modules[name]}", package), name)
            setattr(sys.modules[package], name, value)  # later look-ups skip this function
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(vars(sys.modules[package])) | set(public))

    return __getattr__, __dir__
