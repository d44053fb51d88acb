"""Read any nomofuse model file: :func:`nomogram.load_model` under the fusion name.

Every fitted object of nomofuse (nomogram models and their nomograms,
signatures, ComBat, the fusion models ``nomofuse.fusion.ModalityLabel`` /
``EarlyFusion`` / ``NomogramGroup``) is one model format
(:mod:`nomogram.model_io`: versioned, checksummed JSON) and loads with
:func:`nomogram.load_model`, which dispatches on the file's ``"format"``.
``fusion.models.load_model`` is that function, kept so that
``from fusion.models import load_model`` still works.
"""

from __future__ import annotations

from nomogram.model_io import load_model

__all__ = ["load_model"]
