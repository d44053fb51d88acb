"""Feature stability between repeated segmentations or readers: intraclass correlation.

A radiomics feature is only worth modelling if it does not depend on who drew
the mask. The usual check (Zwanenburg et al. 2020, IBSI; Traverso et al.
2018) has two or more readers, or repeated automatic segmentations, for the
same patients; each feature gets an intraclass correlation coefficient (ICC)
across readers and features below a threshold (commonly 0.75, "good"
reliability in Koo & Li 2016) are dropped before any model is fitted.

The coefficients are those of Shrout & Fleiss (1979) and McGraw & Wong (1996)
for single measurements, computed from the two-way ANOVA of an
``n subjects × k raters`` table, exactly as R's ``psych::ICC`` reports them
(its rows ICC1, ICC2 and ICC3, with the same F tests and confidence limits).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..checks import check_option, renamed_parameter, warn_deprecated

__all__ = [
    "ICC_KINDS",
    "intraclass_correlation",
    "feature_icc",
    "FeatureStability",
]

#: The three single-measurement coefficients, named as Shrout & Fleiss.
ICC_KINDS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)")

_DESCRIPTION = {
    "ICC(1,1)": "one-way random, single rater, absolute agreement",
    "ICC(2,1)": "two-way random, single rater, absolute agreement (McGraw-Wong ICC(A,1))",
    "ICC(3,1)": "two-way mixed, single rater, consistency (McGraw-Wong ICC(C,1))",
}


def _mean_squares(Y: np.ndarray):
    """Two-way ANOVA mean squares of ``Y`` with shape (n, k, p), vectorised over p.

    Returns MSB (between subjects), MSW (within subjects, one-way), MSJ
    (between judges/raters) and MSE (residual), each of shape (p,).
    """
    n, k = Y.shape[0], Y.shape[1]
    grand = Y.mean(axis=(0, 1))
    row_means = Y.mean(axis=1)  # (n, p)
    col_means = Y.mean(axis=0)  # (k, p)
    ss_total = ((Y - grand) ** 2).sum(axis=(0, 1))
    ss_rows = k * ((row_means - grand) ** 2).sum(axis=0)
    ss_cols = n * ((col_means - grand) ** 2).sum(axis=0)
    ss_err = ss_total - ss_rows - ss_cols
    ss_within = ss_total - ss_rows
    msb = ss_rows / (n - 1)
    msj = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    msw = ss_within / (n * (k - 1))
    return msb, msw, msj, mse


def _icc_table(Y: np.ndarray, alpha: float) -> dict[str, dict[str, np.ndarray]]:
    """All three ICCs, F tests and confidence limits for ``Y`` of shape (n, k, p)."""
    n, k = Y.shape[0], Y.shape[1]
    msb, msw, msj, mse = _mean_squares(Y)
    with np.errstate(divide="ignore", invalid="ignore"):
        icc1 = (msb - msw) / (msb + (k - 1) * msw)
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        icc3 = (msb - mse) / (msb + (k - 1) * mse)

        q = 1 - alpha / 2
        # ICC(1,1): F = MSB/MSW on (n-1, n(k-1)) df.
        f1 = msb / msw
        df1n, df1d = n - 1, n * (k - 1)
        f1l = f1 / stats.f.ppf(q, df1n, df1d)
        f1u = f1 * stats.f.ppf(q, df1d, df1n)
        l1 = (f1l - 1) / (f1l + (k - 1))
        u1 = (f1u - 1) / (f1u + (k - 1))
        # ICC(3,1) and the test of ICC(2,1): F = MSB/MSE on (n-1, (n-1)(k-1)) df.
        f3 = msb / mse
        df3n, df3d = n - 1, (n - 1) * (k - 1)
        f3l = f3 / stats.f.ppf(q, df3n, df3d)
        f3u = f3 * stats.f.ppf(q, df3d, df3n)
        l3 = (f3l - 1) / (f3l + (k - 1))
        u3 = (f3u - 1) / (f3u + (k - 1))
        # ICC(2,1): Satterthwaite degrees of freedom (McGraw & Wong 1996, table 7).
        fj = msj / mse
        vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        fu = stats.f.ppf(q, n - 1, v)
        fl = stats.f.ppf(q, v, n - 1)
        denom = k * msj + (k * n - k - n) * mse
        l2 = n * (msb - fu * mse) / (fu * denom + n * msb)
        u2 = n * (fl * msb - mse) / (denom + n * fl * msb)

    out = {
        "ICC(1,1)": dict(ICC=icc1, F=f1, df1=np.full_like(icc1, df1n), df2=np.full_like(icc1, df1d),
                         p=stats.f.sf(f1, df1n, df1d), lower=l1, upper=u1),
        "ICC(2,1)": dict(ICC=icc2, F=f3, df1=np.full_like(icc2, df3n), df2=np.full_like(icc2, df3d),
                         p=stats.f.sf(f3, df3n, df3d), lower=l2, upper=u2),
        "ICC(3,1)": dict(ICC=icc3, F=f3, df1=np.full_like(icc3, df3n), df2=np.full_like(icc3, df3d),
                         p=stats.f.sf(f3, df3n, df3d), lower=l3, upper=u3),
    }
    return out


@renamed_parameter("alpha", "conf_level", convert="one_minus")
def intraclass_correlation(ratings, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Single-measurement intraclass correlations of one ``subjects × raters`` table.

    Parameters
    ----------
    ratings : array-like or DataFrame, shape (n_subjects, n_raters)
        One row per subject (patient, lesion), one column per rater or
        repeated segmentation. No missing values.
    conf_level : float, default 0.95
        Level of the two-sided confidence limits (old: ``alpha = 1 - conf_level``).

    Returns
    -------
    pandas.DataFrame
        Rows ``ICC(1,1)``, ``ICC(2,1)``, ``ICC(3,1)``; columns ``ICC``, ``F``,
        ``df1``, ``df2``, ``p`` (test of ICC = 0), ``lower``, ``upper`` and
        ``description``. These are psych::ICC's rows ICC1, ICC2, ICC3.

    Notes
    -----
    With ``n`` subjects and ``k`` raters, the two-way ANOVA gives MSB
    (subjects), MSJ (raters), MSE (residual) and the one-way MSW (within
    subjects). Then

    .. math::

        ICC(1,1) = \\frac{MSB - MSW}{MSB + (k-1) MSW}, \\quad
        ICC(2,1) = \\frac{MSB - MSE}{MSB + (k-1) MSE + k (MSJ - MSE)/n}, \\quad
        ICC(3,1) = \\frac{MSB - MSE}{MSB + (k-1) MSE}.

    ICC(2,1) (absolute agreement) penalises a systematic offset between
    raters; ICC(3,1) (consistency) does not. Confidence limits use the F
    distribution; those of ICC(2,1) use Satterthwaite's approximate degrees
    of freedom (McGraw & Wong 1996, table 7), as psych::ICC does.

    References
    ----------
    Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater
    reliability. Psychol Bull 1979;86:420-428.
    McGraw KO, Wong SP. Forming inferences about some intraclass correlation
    coefficients. Psychol Methods 1996;1:30-46.
    Revelle W. psych: ICC(). R package.

    Examples
    --------
    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> round(float(intraclass_correlation(sf).loc["ICC(3,1)", "ICC"]), 2)
    0.71
    """
    Y = np.asarray(ratings, dtype=float)
    if Y.ndim != 2:
        raise ValueError(
            f"intraclass_correlation expects a 2-D table (subjects × raters); got shape {Y.shape}."
        )
    _check_shape(Y.shape[0], Y.shape[1], "intraclass_correlation")
    if not np.isfinite(Y).all():
        raise ValueError(
            "intraclass_correlation: the ratings have missing or infinite values; "
            "drop those subjects first."
        )
    tab = _icc_table(Y[:, :, None], _significance(conf_level, "intraclass_correlation"))
    rows = []
    for kind in ICC_KINDS:
        row = {key: float(val[0]) for key, val in tab[kind].items()}
        row["description"] = _DESCRIPTION[kind]
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index(ICC_KINDS, name="kind"))


def _check_shape(n: int, k: int, caller: str) -> None:
    if k < 2:
        raise ValueError(f"{caller} needs at least 2 raters/segmentations; got {k}.")
    if n < 2:
        raise ValueError(f"{caller} needs at least 2 subjects; got {n}.")


def _stack_readings(readings, caller: str) -> tuple[np.ndarray, list, list, list]:
    """Turn readings into an array (n_cases, n_readers, n_features)."""
    if isinstance(readings, pd.DataFrame):
        raise TypeError(
            f"{caller} expects one DataFrame per reader/segmentation (a list or a dict "
            f"{{reader: DataFrame}}), each indexed by case id with one column per feature; "
            f"got a single DataFrame. For a long table use "
            f"{{r: g.drop(columns='reader').set_index('case') for r, g in df.groupby('reader')}}."
        )
    if isinstance(readings, Mapping):
        names = list(readings.keys())
        tables = list(readings.values())
    elif isinstance(readings, Sequence):
        tables = list(readings)
        names = [f"reader{i + 1}" for i in range(len(tables))]
    else:
        raise TypeError(f"{caller}: readings must be a list or dict of DataFrames; got {type(readings).__name__}.")
    for name, t in zip(names, tables):
        if not isinstance(t, pd.DataFrame):
            raise TypeError(f"{caller}: reading {name!r} is a {type(t).__name__}, not a DataFrame.")
    _check_shape(len(tables[0]) if tables else 0, len(tables), caller)
    ref = tables[0]
    if ref.index.has_duplicates:
        dup = ref.index[ref.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{caller}: reading {names[0]!r} has duplicated case ids {dup}.")
    cases = list(ref.index)
    features = list(ref.columns)
    arrays = []
    for name, t in zip(names, tables):
        missing_cases = ref.index.difference(t.index)
        extra_cases = t.index.difference(ref.index)
        if len(missing_cases) or len(extra_cases):
            raise ValueError(
                f"{caller}: reading {name!r} does not cover the same cases as {names[0]!r}: "
                f"missing {missing_cases[:5].tolist()}, extra {extra_cases[:5].tolist()}. "
                f"Keep only the cases segmented by every reader."
            )
        missing_cols = [c for c in features if c not in t.columns]
        if missing_cols:
            raise ValueError(
                f"{caller}: reading {name!r} lacks feature column(s) {missing_cols[:5]} "
                f"({len(missing_cols)} in all) that {names[0]!r} has."
            )
        sub = t.loc[ref.index, features]
        try:
            arr = sub.to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            bad = [c for c in features if not pd.api.types.is_numeric_dtype(sub[c])]
            raise TypeError(
                f"{caller}: reading {name!r} has non-numeric feature column(s) {bad[:5]}; "
                f"drop identifier/diagnostic columns first."
            ) from exc
        nonfinite = ~np.isfinite(arr)
        if nonfinite.any():
            i, j = np.argwhere(nonfinite)[0]
            raise ValueError(
                f"{caller}: reading {name!r} has {int(nonfinite.sum())} missing/infinite value(s), "
                f"first for case {cases[i]!r}, feature {features[j]!r}. Fix or drop them."
            )
        arrays.append(arr)
    return np.stack(arrays, axis=1), cases, names, features


class FeatureStability:
    """ICCs of every feature between readers, with the stable subset.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per feature; for each kind in ``kinds`` the columns ``<kind>``,
        ``<kind> lower`` and ``<kind> upper`` (confidence limits).
    n_cases, n_readers : int
    readers : list of str
    conf_level : float
        Level of the confidence limits.
    """

    def __init__(self, table: pd.DataFrame, *, n_cases: int, readers: list, conf_level: float):
        self.table = table
        self.n_cases = n_cases
        self.readers = list(readers)
        self.n_readers = len(readers)
        self.conf_level = conf_level

    @property
    def alpha(self) -> float:
        """Deprecated: ``1 - conf_level``."""
        warn_deprecated("FeatureStability.alpha was deprecated", "read conf_level (alpha = 1 - conf_level)")
        return 1 - self.conf_level

    def stable_features(self, threshold: float = 0.75, kind: str = "ICC(3,1)",
                        bound: str = "estimate") -> list[str]:
        """Features whose ICC is at least ``threshold``.

        Parameters
        ----------
        threshold : float, default 0.75
            "Good" reliability in Koo & Li (2016).
        kind : {'ICC(1,1)', 'ICC(2,1)', 'ICC(3,1)'}, default 'ICC(3,1)'
        bound : {'estimate', 'lower'}, default 'estimate'
            'lower' keeps a feature only if the lower confidence limit clears
            the threshold (stricter).
        """
        check_option(kind, ICC_KINDS, name="kind", caller="stable_features")
        check_option(bound, ("estimate", "lower"), name="bound", caller="stable_features")
        if kind not in self.table.columns:
            raise ValueError(f"stable_features: {kind} was not computed; pass kinds including it to feature_icc.")
        col = kind if bound == "estimate" else f"{kind} lower"
        vals = self.table[col]
        return vals.index[(vals >= threshold).to_numpy()].tolist()

    def summary(self, threshold: float = 0.75) -> pd.DataFrame:
        """How many features reach ``threshold`` for each kind (NaN ICC counts as unstable)."""
        rows = []
        for kind in ICC_KINDS:
            if kind not in self.table.columns:
                continue
            v = self.table[kind]
            rows.append({
                "kind": kind,
                "n_features": int(len(v)),
                f"n_icc_ge_{threshold:g}": int((v >= threshold).sum()),
                "median_icc": float(v.median()),
                "n_undefined": int(v.isna().sum()),
            })
        return pd.DataFrame(rows).set_index("kind")

    def __repr__(self) -> str:
        return (f"FeatureStability({self.table.shape[0]} features, {self.n_cases} cases, "
                f"{self.n_readers} readers)")


@renamed_parameter("alpha", "conf_level", convert="one_minus")
def feature_icc(readings, *, kinds: Sequence[str] = ("ICC(2,1)", "ICC(3,1)"),
                conf_level: float = 0.95) -> FeatureStability:
    """ICC of every feature column between repeated segmentations or readers.

    Parameters
    ----------
    readings : list of DataFrame or dict {reader: DataFrame}
        One feature table per reader (or per repeated/perturbed segmentation),
        each indexed by case id with the same feature columns. Rows are
        aligned on the index of the first table; order does not matter.
    kinds : sequence of {'ICC(1,1)', 'ICC(2,1)', 'ICC(3,1)'}
        Which coefficients to report (see :func:`intraclass_correlation`).
    conf_level : float, default 0.95
        Level of the confidence limits (old: ``alpha = 1 - conf_level``).

    Returns
    -------
    FeatureStability
        ``.table`` indexed by feature; ``.stable_features(0.75, "ICC(3,1)")``
        gives the names to keep. A feature constant across all cases and
        readers has an undefined (NaN) ICC and is never "stable".

    References
    ----------
    Shrout & Fleiss (1979); McGraw & Wong (1996); Koo TK, Li MY. A guideline
    of selecting and reporting intraclass correlation coefficients for
    reliability research. J Chiropr Med 2016;15:155-163.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"vol": [1.0, 2.0, 3.0, 4.0], "mean": [5.0, 3.0, 4.0, 1.0]})
    >>> b = pd.DataFrame({"vol": [1.1, 2.1, 2.9, 4.2], "mean": [1.0, 5.0, 2.0, 4.0]})
    >>> feature_icc([a, b]).stable_features(0.75)
    ['vol']
    """
    kinds = list(kinds)
    for kd in kinds:
        check_option(kd, ICC_KINDS, name="kinds", caller="feature_icc")
    Y, cases, names, features = _stack_readings(readings, "feature_icc")
    tab = _icc_table(Y, _significance(conf_level, "feature_icc"))
    cols = {}
    for kd in kinds:
        cols[kd] = tab[kd]["ICC"]
        cols[f"{kd} lower"] = tab[kd]["lower"]
        cols[f"{kd} upper"] = tab[kd]["upper"]
    table = pd.DataFrame(cols, index=pd.Index(features, name="feature"))
    return FeatureStability(table, n_cases=len(cases), readers=names, conf_level=conf_level)


def _significance(conf_level, caller: str) -> float:
    if not 0 < conf_level < 1:
        raise ValueError(
            f"The 'conf_level' parameter of {caller} must be in (0, 1). Got {conf_level!r} instead."
        )
    return 1 - conf_level
