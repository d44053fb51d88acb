"""Slides written by the tests themselves (pyramidal tiled TIFF, JPEG tiles) and tiny encoders."""

import numpy as np
import pytest

from pathology.encoders import EncoderConfig, register_encoder
from pathology.synthetic import write_synthetic_slide

# Tissue rectangle of every test slide, in µm: 96..352 x 64..256 (256 x 192 µm).
TISSUE_UM = (96.0, 64.0, 352.0, 256.0)
SLIDE_UM = (448.0, 320.0)


def _size(mpp):
    return int(round(SLIDE_UM[0] / mpp)), int(round(SLIDE_UM[1] / mpp))


@pytest.fixture(scope="session")
def slides(tmp_path_factory):
    """{name: path}: tiff at 0.25 and 0.5 µm/px, Aperio SVS at 0.2631, and one with no resolution."""
    d = tmp_path_factory.mktemp("slides")
    out = {}
    for name, mpp, kind, suffix in [("tiff025", 0.25, "tiff", ".tif"), ("svs", 0.2631, "svs", ".svs"),
                                    ("tiff05", 0.5, "tiff", ".tif"), ("nompp", 0.5, "no-mpp", ".tif")]:
        w, h = _size(mpp)
        out[name] = write_synthetic_slide(d / f"{name}{suffix}", width=w, height=h, mpp=mpp, kind=kind,
                                          tissue=(TISSUE_UM,), tissue_units="um", levels=[1, 4])
    return out


@pytest.fixture(scope="session")
def tiny_encoders():
    """Small registered encoders so that tests run in seconds on a CPU."""
    register_encoder(EncoderConfig(name="test_resnet18_trunc", timm_name="resnet18", feature_dim=256,
                                   truncate="layer3", input_size=64), overwrite=True)
    register_encoder(EncoderConfig(name="test_vit", timm_name="vit_tiny_patch16_224", feature_dim=192,
                                   input_size=32, timm_kwargs={"depth": 2, "img_size": 32}),
                     overwrite=True)
    return ["test_resnet18_trunc", "test_vit"]


def tissue_box_level0(mpp):
    x0, y0, x1, y1 = TISSUE_UM
    return np.array([x0, y0, x1, y1]) / mpp
