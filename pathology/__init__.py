"""Whole-slide images to tiles, tile features, slide pooling and a pathology signature.

Per slide: :func:`check_slide` (opens with OpenSlide, catches truncated
files, resolves µm/px without ever assuming a magnification),
:func:`tissue_mask` (saturation/Otsu on a thumbnail, or a user GeoJSON/PNG),
:func:`tile_grid` (tiles exact in µm at a target µm/px), an encoder from the
registry (:func:`create_encoder`, local weights only), :func:`encode_tiles`
(parallel readers, bf16 on CUDA), one HDF5 per slide in the CLAM/TRIDENT
layout (:class:`FeatureFileWriter`, :func:`load_features`), pooling (mean,
max, :class:`AttentionMIL`) and the path-score (:class:`PathologySignature`,
the signature builder of :mod:`nomogram.features`). :func:`slide_features`
chains them for one slide; ``nomofuse slides`` runs it over a cohort.

Heavy dependencies (torch, timm, openslide, h5py, matplotlib) are imported
inside the functions that need them.
"""

from .exceptions import (
    EncoderError,
    FeatureFileError,
    PathologyError,
    ResolutionError,
    SlideReadError,
    TilingError,
    TissueError,
    WeightsError,
)
from .slide import MPP_RANGE, SlideInfo, check_slide, open_slide, slide_mpp
from .tissue import TissueMask, detect_tissue, read_tissue_mask, slide_thumbnail, tissue_mask
from .tiling import MacenkoNormalizer, TileGrid, read_tile, tile_grid
from .encoders import (
    EncoderConfig,
    TileEncoder,
    create_encoder,
    encoder_config,
    list_encoders,
    register_encoder,
)
from .inference import EncodingStats, encode_tiles, forward_rate
from .features_h5 import FeatureFileWriter, SlideFeatures, load_features
from .pooling import AttentionMIL, RunningPool, pool_features
from .signature import PathologySignature
from .displays import AttentionHeatmapDisplay, TissueMaskDisplay
from .cohort import patient_table, slide_features

__all__ = [
    "PathologyError", "SlideReadError", "ResolutionError", "TissueError", "TilingError",
    "EncoderError", "WeightsError", "FeatureFileError",
    "SlideInfo", "check_slide", "open_slide", "slide_mpp", "MPP_RANGE",
    "TissueMask", "tissue_mask", "detect_tissue", "read_tissue_mask", "slide_thumbnail",
    "TileGrid", "tile_grid", "read_tile", "MacenkoNormalizer",
    "EncoderConfig", "TileEncoder", "create_encoder", "encoder_config", "list_encoders",
    "register_encoder",
    "EncodingStats", "encode_tiles", "forward_rate",
    "FeatureFileWriter", "SlideFeatures", "load_features",
    "RunningPool", "pool_features", "AttentionMIL",
    "PathologySignature",
    "AttentionHeatmapDisplay", "TissueMaskDisplay",
    "slide_features", "patient_table",
]
