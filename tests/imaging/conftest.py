import hashlib
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

DATA = Path(__file__).resolve().parents[1] / "data" / "pyradiomics"

SHA256 = {
    "brain1_image.nrrd": "fffdb111ee8b428ede7256707393c927a7d5be912f0604cf3c6f1bd5fc9644cf",
    "brain1_label.nrrd": "ae6d8e6b84f7e99d68c210ee2fa6aaaefa0b2df0a84f55efca4feebe2b216059",
    "breast1_image.nrrd": "0e8b668f3ce9b9aacff20dc3c216866f43069ff96b269fb45b76f5e205a431e2",
    "breast1_label.nrrd": "07085bb0e36a956de5bd1c1c1b5f8bdf2ce80952125b13cbd352412c108c8950",
    "lung1crop_image.nrrd": "e4dbeeb41e4a26a620be29f72a7c08174b7d455e63a538e4d0ab44984049f12e",
    "lung1crop_label.nrrd": "6fb94c1d00b19769bbf554598804b26bdaf7de7f33536b4570b40007944cbb12",
}


def case_files(case):
    """(image path, mask path) of a pyradiomics test case, after checking both hashes."""
    out = []
    for kind in ("image", "label"):
        p = DATA / f"{case}_{kind}.nrrd"
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        assert digest == SHA256[p.name], f"{p} changed (sha256 {digest})"
        out.append(p)
    return tuple(out)


def make_image(arr, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0)):
    """SimpleITK image from a (z, y, x) array with spacing given as (x, y, z)."""
    img = sitk.GetImageFromArray(np.asarray(arr))
    img.SetSpacing(tuple(float(s) for s in spacing))
    img.SetOrigin(tuple(float(o) for o in origin))
    return img


@pytest.fixture
def ball_mask():
    """Ball of radius 6 voxels in a 32^3 grid, spacing 1 x 1 x 2 mm."""
    z, y, x = np.mgrid[:32, :32, :32]
    arr = (((x - 16) ** 2 + (y - 16) ** 2 + (z - 16) ** 2) <= 36).astype(np.uint8)
    return make_image(arr, spacing=(1.0, 1.0, 2.0))
