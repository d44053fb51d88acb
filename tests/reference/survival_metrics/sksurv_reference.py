"""Reference values from scikit-survival for time-dependent AUC and Uno's C.

No R package for these is installable here (timeROC, survAUC, survC1 are not
packaged for apt), so scikit-survival is the reference. Run from the repo root:

    python tests/reference/survival_metrics/sksurv_reference.py

Reads  tests/reference/survival_metrics/gbsg2_scores.csv (written by survival_reference.R)
Writes tests/reference/survival_metrics/sksurv_reference.json
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import sksurv
from sksurv.metrics import concordance_index_ipcw, cumulative_dynamic_auc
from sksurv.util import Surv

here = Path(__file__).parent
s = pd.read_csv(here / "gbsg2_scores.csv")
y = Surv.from_arrays(event=s["cens"].astype(bool), time=s["time"].astype(float))
times = [365.0, 730.0, 1095.0, 1460.0, 1825.0]
out = {"sksurv_version": sksurv.__version__,
       "scores_md5": hashlib.md5((here / "gbsg2_scores.csv").read_bytes()).hexdigest(), "times": times, "cumulative_dynamic_auc": {},
       "concordance_index_ipcw": {}}
for name in ["lp1", "lp2", "pnodes", "risk2"]:
    auc, mean_auc = cumulative_dynamic_auc(y, y, s[name].to_numpy(float), times)
    out["cumulative_dynamic_auc"][name] = auc.tolist()
    for tau in [1000.0, 1825.0]:
        c = concordance_index_ipcw(y, y, s[name].to_numpy(float), tau=tau)
        out["concordance_index_ipcw"][f"{name}_{int(tau)}"] = c[0]
(here / "sksurv_reference.json").write_text(json.dumps(out, indent=2))
print(json.dumps(out, indent=2))
