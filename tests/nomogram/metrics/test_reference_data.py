"""The reference outputs were computed on exactly the committed score files (pinned by MD5)."""

import hashlib

import pytest

from ._ref import REF, proc, surv


@pytest.mark.parametrize(
    "csv,ref",
    [
        ("pROC/rossi_scores.csv", lambda: proc()[1]),
        ("survival_metrics/gbsg2_scores.csv", lambda: surv()[1]),
        ("survival_metrics/gbsg2_scores.csv", lambda: surv()[2]),
    ],
)
def test_scores_match_reference_hash(csv, ref):
    assert hashlib.md5((REF / csv).read_bytes()).hexdigest() == ref()["scores_md5"]
