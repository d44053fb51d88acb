"""Benchmark: memory and time of one case's radiomics with and without nomofuse's crop.

Data: the real pyradiomics CT nodule shipped in tests/data/pyradiomics (lung1crop,
124 x 126 x 23 voxels of 0.57 x 0.57 x 5 mm) placed, unchanged, in a larger CT-sized
volume (``--size`` voxels in-plane, ``--slices`` slices) filled with the same CT by
mirror-padding, so the lesion and its surroundings are real and the volume has the
size of a clinical chest CT.

For each setting, one run in a fresh subprocess (so peak resident memory, ``ru_maxrss``,
belongs to that run only) of ``RadiomicsExtractor(...).extract_case`` with Original +
Wavelet + LoG (sigma 1, 3 mm) and *no resampling*, the case where pyradiomics filters
the whole image: crop=False (pyradiomics' plain ``execute``) vs crop=True (nomofuse).
Printed: wall time, peak RSS, and the ratios baseline / ours (> 1: ours is better), and
the largest relative difference between the two feature vectors (LoG: IIR border
effect; see imaging.radiomics).

Run:  python benchmarks/bench_radiomics_crop.py [--size 512] [--slices 80]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from imaging import RadiomicsExtractor
ext = RadiomicsExtractor("CT", image_types={{"Original": {{}}, "Wavelet": {{}}, "LoG": {{"sigma": [1.0, 3.0]}}}},
                         settings={{"resampledPixelSpacing": None}}, crop={crop})
t = time.perf_counter()
row = ext.extract_case("bench", {image!r}, {mask!r})
dt = time.perf_counter() - t
print(json.dumps({{"seconds": dt, "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "row": row}}))
"""


def build_volume(size: int, slices: int, out: Path):
    import numpy as np
    import SimpleITK as sitk

    data = ROOT / "tests" / "data" / "pyradiomics"
    img = sitk.ReadImage(str(data / "lung1crop_image.nrrd"))
    msk = sitk.ReadImage(str(data / "lung1crop_label.nrrd"))
    a, m = sitk.GetArrayFromImage(img), sitk.GetArrayFromImage(msk)
    pads = [((n - s) // 2, n - s - (n - s) // 2) for n, s in zip((slices, size, size), a.shape)]
    big = np.pad(a, pads, mode="symmetric").astype(np.int16)
    bigm = np.pad(m, pads, mode="constant").astype(np.uint8)
    for arr, name in ((big, "image"), (bigm, "label")):
        im = sitk.GetImageFromArray(arr)
        im.SetSpacing(img.GetSpacing())
        sitk.WriteImage(im, str(out / f"{name}.nrrd"))
    return out / "image.nrrd", out / "label.nrrd", big.shape


def run(image, mask, crop: bool) -> dict:
    code = CHILD.format(root=str(ROOT), image=str(image), mask=str(mask), crop=crop)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--slices", type=int, default=80)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        image, mask, shape = build_volume(args.size, args.slices, Path(tmp))
        print(f"volume {shape[::-1]} voxels (x, y, z), lesion 837 voxels; Original + Wavelet + LoG(1, 3 mm)")
        full = run(image, mask, crop=False)
        ours = run(image, mask, crop=True)
    print(f"{'':24s}{'seconds':>10s}{'peak RSS MB':>14s}")
    print(f"{'pyradiomics (no crop)':24s}{full['seconds']:10.2f}{full['maxrss_mb']:14.0f}")
    print(f"{'nomofuse crop':24s}{ours['seconds']:10.2f}{ours['maxrss_mb']:14.0f}")
    print(f"ratio baseline/ours: time {full['seconds'] / ours['seconds']:.1f}x, "
          f"memory {full['maxrss_mb'] / ours['maxrss_mb']:.1f}x")
    a, b = full["row"], ours["row"]
    rel = max(abs(a[k] - b[k]) / max(abs(a[k]), 1e-12) for k in a)
    same = sum(a[k] == b[k] for k in a)
    print(f"{same}/{len(a)} features identical; largest relative difference {rel:.2e}")


if __name__ == "__main__":
    main()
