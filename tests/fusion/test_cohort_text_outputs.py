"""The cohort runner keeps text outputs (digests, paths) as text and never parses them as numbers.

pandas 2.3's to_numeric segfaults on text such as a hex SHA-256 that starts "5e3412345678...":
a slide's feature-file digest can, so the runner converts only columns that hold numbers.
"""

import pandas as pd

from fusion.cohort import run_cohort


def digest_of(case_id, value):
    return {"digest": value, "size": float(len(value)), "maybe": None if case_id == "a" else 1}


def test_hex_digests_stay_text_and_numbers_become_float(tmp_path):
    cases = pd.DataFrame({"case_id": ["a", "b"],
                          "value": ["5e3412345678901234aa0b", "1e99999999999999999999"]})
    res = run_cohort(digest_of, cases, file_columns=(), jobs=1, progress=False,
                     cache_dir=tmp_path / "cache")
    f = res.features
    assert f["digest"].tolist() == ["5e3412345678901234aa0b", "1e99999999999999999999"]
    assert f["digest"].dtype == object
    assert f["size"].dtype == float and f["maybe"].isna().tolist() == [True, False]
    again = run_cohort(digest_of, cases, file_columns=(), jobs=1, progress=False,
                       cache_dir=tmp_path / "cache")  # from the cache (JSON) too
    assert again.n_cached == 2 and again.features["digest"].tolist() == f["digest"].tolist()
