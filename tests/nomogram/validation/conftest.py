"""Shared fixtures: the issue #3 models on gbsg2 and the committed R references."""

import pandas as pd
import pytest

from nomogram import CoxNomogram, LogisticNomogram
from tests._reference import reference_csv, reference_data


LOGISTIC_COLUMNS = ["age", "tsize", "pnodes", "tgrade", "horTh", "menostat"]
COX_COLUMNS = ["age", "tgrade", "pnodes", "horTh", "tsize"]


def r_table(name: str) -> pd.DataFrame:
    """A CSV written by tests/reference/validation/validation_reference.R."""
    return reference_csv(f"validation/{name}")


@pytest.fixture(scope="session")
def gbsg2():
    return reference_data("gbsg2")


@pytest.fixture(scope="session")
def logistic_model(gbsg2):
    # rms: lrm(cens ~ rcs(age,4) + rcs(tsize,3) + pnodes + tgrade + horTh + menostat)
    return LogisticNomogram(splines={"age": 4, "tsize": 3}).fit(gbsg2[LOGISTIC_COLUMNS], gbsg2["cens"])


@pytest.fixture(scope="session")
def cox_model(gbsg2):
    # rms: cph(Surv(time, cens) ~ rcs(age,4) + tgrade + rcs(pnodes,3) + horTh + tsize)
    return CoxNomogram(splines={"age": 4, "pnodes": 3}).fit(gbsg2[COX_COLUMNS], gbsg2[["time", "cens"]])
