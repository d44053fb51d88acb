"""Write ``icc_readings.csv``: first-order features of 150 real images under two segmentations.

The images are the first 150 of scikit-learn's ``load_digits`` (UCI optical
recognition of handwritten digits: real scanned 8×8 images, grey levels 0–16,
shipped with scikit-learn, CC BY 4.0). Each image is "segmented" by two
readers that disagree the way radiologists do at a boundary:

* reader1: the object is every pixel with grey level >= 5;
* reader2: every pixel >= 8, grown by one pixel (4-connected) inside the >= 3 region.

For each case and reader, seven first-order features of the grey levels inside
the mask are computed (IBSI definitions, population moments). The table is the
input of ``icc_psych.R`` (R psych::ICC), whose output ``icc_psych.csv`` the
tests compare to :func:`imaging.stability.feature_icc`.

Run from the repository root: ``python tests/reference/imaging/make_icc_readings.py``.
"""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage, stats
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parent / "icc_readings.csv"


def first_order(values: np.ndarray) -> dict:
    v = values.astype(float)
    counts = np.bincount(values.astype(int), minlength=17)
    p = counts[counts > 0] / counts.sum()
    return {
        "area": float(v.size),
        "mean": v.mean(),
        "variance": v.var(),
        "skewness": float(stats.skew(v)) if v.var() > 0 else 0.0,
        "energy": float((v**2).sum()),
        "entropy": float(-(p * np.log2(p)).sum()),
        "p10": float(np.percentile(v, 10)),
    }


def main() -> None:
    images = load_digits().images[:150]
    rows = []
    for case, img in enumerate(images):
        m1 = img >= 5
        m2 = ndimage.binary_dilation(img >= 8) & (img >= 3)
        for reader, m in (("reader1", m1), ("reader2", m2)):
            rows.append({"case": f"digit{case:03d}", "reader": reader, **first_order(img[m])})
    pd.DataFrame(rows).to_csv(OUT, index=False, float_format="%.17g")


if __name__ == "__main__":
    main()
