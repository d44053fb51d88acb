"""Synthetic multi-cancer cohorts with planted signal, for tests, benchmarks and demos.

:func:`make_multicancer_cohort` draws patients of several primary cancers
with clinical factors, lesion-level radiomics rows and slide-level pooled
pathology features, and an outcome (bone metastasis yes/no, or time to it)
whose true model is known:

* shared ("homogeneous") effects in every cancer: ``age`` (+0.03 per year),
  ``grade`` (G2 +0.5, G3 +1.0 log-odds vs G1), the imaging signal (the
  maximum over a patient's lesions of radiomics feature ``rad_00``) and the
  pathology signal (slide feature ``path_00``);
* specific ("heterogeneous") effects: ``psa`` in prostate, ``smoking`` in
  lung, ``cea`` in colorectal, ``alp`` in kidney (each +1.2 log-odds per sd);
  no specific effect in the others;
* every other column is noise.

Nothing is downloaded; the same ``random_state`` gives the same cohort.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["SyntheticCohort", "make_multicancer_cohort", "CANCER_TYPES", "SPECIFIC_EFFECTS"]

CANCER_TYPES = ("lung", "breast", "prostate", "kidney", "colorectal", "bladder")

#: The factor planted as specific to each cancer (log-odds or log-hazard per sd).
SPECIFIC_EFFECTS = {"prostate": "psa", "lung": "smoking", "colorectal": "cea", "kidney": "alp"}


@dataclass
class SyntheticCohort:
    """A synthetic cohort.

    Attributes
    ----------
    clinical : pandas.DataFrame
        One row per patient: ``patient_id``, ``cancer_type``, ``age``, ``sex``,
        ``grade``, ``psa``, ``smoking``, ``cea``, ``alp``, ``ldh`` and the
        outcome (``bone_metastasis``, or ``time`` and ``event``).
    radiomics : pandas.DataFrame
        One row per lesion (1-3 per patient): ``patient_id``, ``volume``,
        ``rad_00`` ... (signal in the largest lesion's ``rad_00``).
    pathology : pandas.DataFrame
        One row per patient (pooled slide features): ``patient_id``, ``path_00`` ...
    specific : dict
        The planted cancer-specific factor of each cancer type.
    """

    clinical: pd.DataFrame
    radiomics: pd.DataFrame
    pathology: pd.DataFrame
    specific: dict = field(default_factory=dict)


def make_multicancer_cohort(n=3000, *, cancer_types=CANCER_TYPES, outcome="binary", n_radiomics=20,
                            n_pathology=16, imaging_effect=1.0, pathology_effect=1.0, random_state=0,
                            ) -> SyntheticCohort:
    """Draw a cohort (see the module docstring for the true model).

    Parameters
    ----------
    n : int, default 3000
        Patients (cancer types equally likely).
    cancer_types : sequence of str
    outcome : {"binary", "survival"}
        Binary: ``bone_metastasis`` ~ Bernoulli(expit(lp)); survival:
        exponential time with hazard ``0.1 exp(lp)`` per month, censored
        uniformly up to 60 months (``time``, ``event``).
    n_radiomics, n_pathology : int
        Feature columns; only ``rad_00`` and ``path_00`` carry signal.
    imaging_effect, pathology_effect : float
        Log-odds (log-hazard) per sd of the planted imaging and pathology signals (0: pure noise).
    random_state : int
    """
    rng = np.random.default_rng(random_state)
    types = np.asarray(cancer_types, dtype=object)[rng.integers(0, len(cancer_types), n)]
    ids = np.array([f"P{i:06d}" for i in range(n)], dtype=object)
    age = rng.normal(62, 10, n).round(0)
    sex = np.where(types == "prostate", 1, rng.integers(0, 2, n))
    grade = np.asarray(["G1", "G2", "G3"], dtype=object)[rng.integers(0, 3, n)]
    clin = {name: rng.normal(0, 1, n) for name in ("psa", "smoking", "cea", "alp", "ldh")}
    # lesions: 1-3 per patient; the imaging signal lives in the largest lesion's rad_00
    n_les = rng.integers(1, 4, n)
    owner = np.repeat(np.arange(n), n_les)
    volume = rng.lognormal(2.0, 0.6, len(owner))
    rad = rng.normal(0, 1, (len(owner), n_radiomics))
    largest = pd.Series(volume).groupby(owner).idxmax().to_numpy()
    img_signal = rad[largest, 0]
    path = rng.normal(0, 1, (n, n_pathology))
    path_signal = path[:, 0]
    lp = (-1.0 + 0.03 * (age - 62) + np.select([grade == "G2", grade == "G3"], [0.5, 1.0], 0.0)
          + imaging_effect * img_signal + pathology_effect * path_signal)
    for cancer, factor in SPECIFIC_EFFECTS.items():
        lp = lp + np.where(types == cancer, 1.2 * clin[factor], 0.0)
    clinical = pd.DataFrame({"patient_id": ids, "cancer_type": types, "age": age, "sex": sex,
                             "grade": grade, **{k: v.round(3) for k, v in clin.items()}})
    if outcome == "binary":
        clinical["bone_metastasis"] = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(int)
    elif outcome == "survival":
        t_event = rng.exponential(1 / (0.1 * np.exp(lp)))
        t_cens = rng.uniform(6, 60, n)
        clinical["time"] = np.minimum(t_event, t_cens).round(2) + 0.01
        clinical["event"] = (t_event <= t_cens).astype(int)
    else:
        raise ValueError(f"The 'outcome' parameter of make_multicancer_cohort must be one of "
                         f"{{'binary', 'survival'}}. Got {outcome!r} instead.")
    radiomics = pd.DataFrame(rad, columns=[f"rad_{j:02d}" for j in range(n_radiomics)])
    radiomics.insert(0, "volume", volume.round(3))
    radiomics.insert(0, "patient_id", ids[owner])
    pathology = pd.DataFrame(path, columns=[f"path_{j:02d}" for j in range(n_pathology)])
    pathology.insert(0, "patient_id", ids)
    specific = {t: SPECIFIC_EFFECTS.get(t) for t in cancer_types}
    return SyntheticCohort(clinical, radiomics, pathology, specific)
