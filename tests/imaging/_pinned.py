"""Paths of the committed reference inputs under tests/reference/imaging, checked by sha256.

The R outputs (``icc_psych.csv``, ``combat_sva_*.csv``, ``lasso_glmnet_*.csv``)
were computed from exactly these bytes; a changed input would make the
comparison meaningless, so it fails here with the fix.
"""

import hashlib
from pathlib import Path

REF = Path(__file__).resolve().parents[1] / "reference" / "imaging"

SHA256 = {
    "icc_readings.csv": "794dad1f2a7745196356e3f4b1b2553a3783bcee246414f72bbbb913d74e213b",
    "shrout_fleiss_sf.csv": "983d5e443509b826ad8a01b04b9bd7be4a741f3222e3217f9009b218e577203a",
    "combat_input.csv": "4962ad0ae16e35288ec6986a601884616a4bc40f09ebd993f40e086e5bf2d63b",
    "lasso_binomial_input.csv": "f001a35846ee3e4c5a8d356e03a70359c642b59efadc0ce8d343b85e90823f2d",
    "lasso_cox_input.csv": "ac8cc67f43a4fd55cb6ca4b935d1cd4d983bee91aced2fe8a84f08aa949aa96b",
    "lasso_cox_untied_input.csv": "3e2e5e366d50b85c01b9ad00396a2d41db152aad953befa81d560caa36b5e821",
    "lasso_lambdas.json": "00d604f31e05a8b4a2451fd2756e045cc520b100571da8a82e51be9527565ec6",
}


def pinned(name: str) -> Path:
    """Return the path of reference input ``name`` after checking its sha256."""
    path = REF / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256[name]:
        raise AssertionError(
            f"{path} has sha256 {digest}, expected {SHA256[name]}: restore the committed file, "
            "or regenerate it and the R output together (see tests/reference/imaging/README.md)."
        )
    return path
