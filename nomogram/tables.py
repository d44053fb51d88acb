"""The tables papers print: Table 1 by group, and univariable/multivariable OR or HR tables.

:func:`table_one` describes a cohort by group and picks each test by a stated
rule; :func:`regression_table` fits univariable models, screens the variables
and fits the multivariable model with those that pass. Both return results
objects whose ``summary()`` is a DataFrame and which render to text, HTML and
LaTeX.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from .checks import (check_binary_y, check_dataframe, check_option, check_predictor_types, check_random_state,
                     check_survival_y)
from ._cph_fit import fit_cox
from ._lrm_fit import fit_logistic

__all__ = [
    "table_one",
    "TableOne",
    "regression_table",
    "RegressionTable",
    "fisher_exact_rxc",
]


# --------------------------------------------------------------------------- Fisher r x c
class _TooManyTables(Exception):
    pass


def fisher_exact_rxc(table, *, max_nodes: int = 500_000) -> float:
    """Two-sided Fisher exact p-value for an r x c table, by exhaustive enumeration.

    The p-value is the total hypergeometric probability (margins fixed) of all
    tables no more probable than the observed one, with R's relative tolerance
    :math:`10^{-7}` (``fisher.test``):

    .. math::

        P(T) = \\frac{\\prod_i r_i! \\prod_j c_j!}{N! \\prod_{ij} t_{ij}!}, \\qquad
        p = \\sum_{T: P(T) \\le P(T_{obs})(1 + 10^{-7})} P(T).

    Tables are built column by column, as paths through a network whose nodes
    are the row sums still to be filled (Mehta & Patel 1983). Rows are
    exchangeable, so a node is keyed by its *sorted* remaining row sums, and
    each node stores the distinct values of :math:`-\\sum \\log t_{ij}!` over its
    completions with their multiplicities; the observed-table threshold is
    applied once at the root. This is exact (no sampling).

    Parameters
    ----------
    table : array-like of int, shape (r, c)
    max_nodes : int
        Raise ``RuntimeError`` when the stored completion values exceed this
        count (then use a Monte Carlo p-value; :func:`table_one` does so).

    Returns
    -------
    float

    References
    ----------
    Mehta CR, Patel NR (1983) JASA 78:427-434. R ``stats::fisher.test``.
    """
    T = np.asarray(table, dtype=np.int64)
    if T.ndim != 2 or (T < 0).any():
        raise ValueError(f"fisher_exact_rxc: need a 2-D table of non-negative counts; got {T!r}.")
    T = T[T.sum(axis=1) > 0][:, T.sum(axis=0) > 0]
    if min(T.shape) < 2:
        return 1.0
    if T.shape[0] > T.shape[1]:
        T = T.T  # compositions over the shorter side
    r = T.sum(axis=1)
    c = np.sort(T.sum(axis=0))[::-1]  # column order does not change the set of tables
    N = int(r.sum())
    lf = special.gammaln(np.arange(N + 2) + 1.0)
    const = float(lf[r].sum() + lf[c].sum() - lf[N])
    obs = -float(lf[T].sum())
    thresh = obs + math.log1p(1e-7)
    ncol = len(c)
    memo: dict = {}
    stored = [0]

    def compositions(total, caps, i=0):
        if i == len(caps) - 1:
            if total <= caps[i]:
                yield (total,)
            return
        rest_cap = sum(caps[i + 1 :])
        for v in range(max(0, total - rest_cap), min(caps[i], total) + 1):
            for tail in compositions(total - v, caps, i + 1):
                yield (v, *tail)

    def completions(j, rr):
        key = (j, rr)
        if key in memo:
            return memo[key]
        if j == ncol - 1:
            out = (np.array([-float(lf[list(rr)].sum())]), np.array([1.0]))
        else:
            ws, cs = [], []
            for x in compositions(int(c[j]), rr):
                child = tuple(sorted(a - b for a, b in zip(rr, x)))
                cw, cc = completions(j + 1, child)
                ws.append(cw - float(lf[list(x)].sum()))
                cs.append(cc)
            w = np.concatenate(ws)
            cnt = np.concatenate(cs)
            # merge values equal up to float noise, keeping an unrounded representative
            _, first, inv = np.unique(np.round(w, 9), return_index=True, return_inverse=True)
            out = (w[first], np.bincount(inv, weights=cnt))
        stored[0] += len(out[0])
        if stored[0] > max_nodes:
            raise _TooManyTables
        memo[key] = out
        return out

    try:
        w, cnt = completions(0, tuple(sorted(int(v) for v in r)))
    except _TooManyTables:
        raise RuntimeError(
            f"fisher_exact_rxc: more than {max_nodes} stored partial results for a {T.shape} "
            f"table with n={N}; use a Monte Carlo p-value."
        ) from None
    keep = w <= thresh
    return min(1.0, float(np.sum(cnt[keep] * np.exp(w[keep] + const))))


# --------------------------------------------------------------------------- results table
class _Rendered:
    """as_text / as_html / as_latex shared by the two results classes."""

    title = ""

    def summary(self) -> pd.DataFrame:  # pragma: no cover - overridden
        raise NotImplementedError

    def _formatted(self) -> pd.DataFrame:
        return self.summary()

    def as_text(self) -> str:
        """Plain-text table (for a console or a text report)."""
        body = self._formatted().to_string(index=False)
        return f"{self.title}\n{body}" if self.title else body

    def as_html(self) -> str:
        """HTML table (for a notebook or a web report)."""
        html = self._formatted().to_html(index=False, na_rep="", escape=True)
        return (f"<h4>{self.title}</h4>\n" if self.title else "") + html

    def as_latex(self) -> str:
        """LaTeX tabular (for a manuscript)."""
        return self._formatted().to_latex(index=False, na_rep="", escape=True)

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return self.as_html()


def _fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


# --------------------------------------------------------------------------- Table 1
class TableOne(_Rendered):
    """Result of :func:`table_one`.

    Attributes
    ----------
    table : pandas.DataFrame
        Formatted cells: ``variable, level, <one column per group>, Overall,
        statistic, p, test`` (``p`` and ``statistic`` numeric).
    groups : list
    normality : pandas.DataFrame
        Shapiro–Wilk p-value per continuous variable and group.
    """

    def __init__(self, table, groups, normality, title, settings, tests=None):
        self.table = table
        self.groups = groups
        self.normality = normality
        self.title = title
        self.settings = settings
        self.tests = tests if tests is not None else pd.DataFrame(columns=["variable", "test", "reason"])

    def summary(self, with_reasons: bool = False) -> pd.DataFrame:
        """The table (a copy); ``with_reasons=True`` adds a ``reason`` column (why that test ran)."""
        out = self.table.copy()
        if with_reasons:
            why = dict(zip(self.tests["variable"], self.tests["reason"]))
            out["reason"] = [why.get(v, "") if t else "" for v, t in zip(out["variable"], out["test"])]
        return out

    def _formatted(self) -> pd.DataFrame:
        out = self.table.copy()
        out["statistic"] = [("" if not np.isfinite(v) else f"{v:.3g}") for v in out["statistic"]]
        out["p"] = [_fmt_p(v) for v in out["p"]]
        return out

    def _notes(self) -> list[str]:
        return [f"{v}: {t} ({r})" for v, t, r in zip(self.tests["variable"], self.tests["test"], self.tests["reason"])]

    def as_text(self) -> str:
        """Plain-text table followed by one line per variable: the test and why it was chosen."""
        notes = self._notes()
        return super().as_text() + ("\n\nTests:\n" + "\n".join(notes) if notes else "")

    def as_html(self) -> str:
        """HTML table followed by the tests and why they were chosen."""
        import html

        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self._notes())
        return super().as_html() + (f"\n<p>Tests:</p><ul>{notes}</ul>" if notes else "")

    def as_latex(self) -> str:
        """LaTeX tabular followed by the tests and why they were chosen (one line each)."""
        notes = self._notes()
        if not notes:
            return super().as_latex()
        esc = str.maketrans({c: "\\" + c for c in "&%$#_{}"})
        lines = " \\\\\n".join(n.translate(esc) for n in notes)
        return super().as_latex() + "\n\\par\\noindent Tests: \\\\\n" + lines + "\n"


def _expected_counts(tab: np.ndarray) -> np.ndarray:
    return np.outer(tab.sum(axis=1), tab.sum(axis=0)) / tab.sum()


def _categorical_test(tab: np.ndarray, *, yates, max_nodes, n_monte_carlo, rng):
    """Choose and run chi-square or Fisher; returns (statistic, p, test name, reason)."""
    tab = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
    if min(tab.shape) < 2:
        return np.nan, np.nan, "not tested (one level)", "only one level or one group has values"
    e = _expected_counts(tab)
    n = tab.sum()
    small = float(np.mean(e < 5))
    use_fisher = (small > 0.2) or (e < 1).any() or n < 40
    if not use_fisher:
        correction = yates and tab.shape == (2, 2)
        chi2, p, _, _ = stats.chi2_contingency(tab, correction=correction)
        name = "Chi-square" + (" (Yates)" if correction else "")
        why = f"Cochran's rule met: n = {n} >= 40, no expected count < 1, {100 * small:.0f}% of expected counts < 5"
        return float(chi2), float(p), name, why
    why = "; ".join(w for w in (
        f"n = {n} < 40" if n < 40 else "",
        f"{100 * small:.0f}% of expected counts < 5" if small > 0.2 else "",
        f"an expected count is {e.min():.2g} < 1" if (e < 1).any() else "") if w) + " (Cochran's rule)"
    if tab.shape == (2, 2):
        res = stats.fisher_exact(tab)
        return np.nan, float(res.pvalue), "Fisher's exact", why
    try:
        return np.nan, fisher_exact_rxc(tab, max_nodes=max_nodes), "Fisher's exact", why
    except RuntimeError:
        res = stats.fisher_exact(tab, method=stats.MonteCarloMethod(n_resamples=n_monte_carlo, rng=rng))
        return (np.nan, float(res.pvalue), f"Fisher's exact (Monte Carlo, {n_monte_carlo} tables)",
                why + f"; the {tab.shape[0]} x {tab.shape[1]} table is too large to enumerate")


def _mann_whitney(a, b):
    """wilcox.test defaults: exact if both n < 50 and no ties, else normal with continuity."""
    exact = len(a) < 50 and len(b) < 50 and len(np.unique(np.r_[a, b])) == len(a) + len(b)
    res = stats.mannwhitneyu(a, b, use_continuity=True, method="exact" if exact else "asymptotic")
    return float(res.statistic), float(res.pvalue), "Mann-Whitney U" + (" (exact)" if exact else "")


def table_one(
    df: pd.DataFrame,
    group: str,
    categorical: Sequence[str] | None = None,
    continuous: Sequence[str] | None = None,
    *,
    normality_alpha: float = 0.05,
    equal_var: bool = False,
    spearman: bool = False,
    yates: bool = True,
    nonnormal: Sequence[str] | bool | None = None,
    parametric: Sequence[str] | bool | None = None,
    overall: bool = True,
    digits: int = 1,
    fisher_max_nodes: int = 500_000,
    n_monte_carlo: int = 10_000,
    random_state=0,
    title: str = "Table 1",
) -> TableOne:
    """Baseline characteristics by group with the test chosen for each variable.

    **Continuous variables.** Shapiro–Wilk is run in every group
    (``normality_alpha``, default 0.05). If no group rejects normality (and each
    has 3 to 5000 values), the variable is shown as mean ± SD and tested with
    Welch's t-test (two groups; Student's with ``equal_var=True``) or one-way
    ANOVA (more groups; Welch's ANOVA unless ``equal_var=True``); otherwise as
    median [Q1, Q3] (type-7 quantiles, R's default) with Mann–Whitney U (two
    groups; exact when both groups have < 50 values and there are no ties,
    otherwise normal approximation with continuity correction, as
    ``wilcox.test``) or Kruskal–Wallis. With ``spearman=True`` the test is
    instead Spearman's correlation between the variable and the group coded
    1, 2, ... in group order (for an ordinal group; t approximation, as
    ``cor.test(method="spearman", exact=FALSE)``).

    **Categorical variables.** n (%) per level (percent of the group's
    non-missing values).

    Missing values are left out of each variable's summary and test; when
    any variable has some, a ``missing`` column gives their number. Fisher's exact test is used when more than 20 % of the
    expected counts are below 5, any expected count is below 1, or n < 40
    (Cochran's rule); otherwise Pearson's chi-square (with Yates' continuity
    correction for 2 x 2 tables when ``yates=True``, as ``chisq.test``). Fisher
    for tables larger than 2 x 2 is exact by enumeration
    (:func:`fisher_exact_rxc`); a table too large for it (more than
    ``fisher_max_nodes`` partial tables) gets a Monte Carlo p-value from
    ``n_monte_carlo`` random tables (``scipy.stats.fisher_exact`` with
    ``MonteCarloMethod``), and the test column says so.

    **Which test and why.** :attr:`TableOne.tests` gives, per variable, the
    test that ran and the reason (e.g. "Shapiro–Wilk p < 0.05 in group 'yes'",
    "parametric requested; normality not checkable: group 'b' has 2 values",
    "n = 35 < 40 (Cochran's rule)"); ``summary(with_reasons=True)`` adds it as a
    column and the text, HTML and LaTeX renderings list it under the table.

    Parameters
    ----------
    df : pandas.DataFrame
    group : str
        Column defining the groups (2 or more levels; categorical order kept).
    categorical, continuous : sequence of str, optional
        Variables of each kind. Default: non-numeric columns (and numeric
        columns with at most 5 distinct values) are categorical, the rest continuous.
    normality_alpha : float, default 0.05
    equal_var : bool, default False
    spearman : bool, default False
    yates : bool, default True
    nonnormal : sequence of str or True, optional
        Continuous variables always summarized and tested non-parametrically
        (``True``: all of them).
    parametric : sequence of str or True, optional
        Continuous variables always summarized as mean ± SD and tested with the
        t-test or ANOVA (``True``: all of them), whatever Shapiro–Wilk says —
        also when a group has fewer than 3 values, where normality cannot be
        checked and the automatic choice is non-parametric. Welch's t (and
        Welch's ANOVA) need at least 2 values per group; with a group of 1 the
        p-value is NaN and the reason says to use ``equal_var=True``.
    overall : bool, default True
        Add an Overall column.
    digits : int, default 1
    fisher_max_nodes, n_monte_carlo : int
    random_state : int, default 0
        Seed of the Monte Carlo fallback (reproducible tables).
    title : str

    Returns
    -------
    TableOne

    References
    ----------
    Cochran WG (1954) Biometrics 10:417-451. Shapiro SS, Wilk MB (1965) Biometrika
    52:591-611. Mehta CR, Patel NR (1983) JASA 78:427-434.
    """
    caller = "table_one"
    check_dataframe(df, columns=[group], caller=caller, allow_missing=True)
    if df[group].isna().any():
        rows = df.index[df[group].isna()][:5].tolist()
        raise ValueError(f"{caller}: group column '{group}' has missing values (rows {rows}); drop them first.")
    if isinstance(df[group].dtype, pd.CategoricalDtype):
        levels = [lv for lv in df[group].cat.categories if (df[group] == lv).any()]
    else:
        levels = sorted(df[group].unique().tolist(), key=lambda v: (str(type(v)), v))
    if len(levels) < 2:
        raise ValueError(f"{caller}: group column '{group}' has {len(levels)} level(s); need at least 2.")
    others = [c for c in df.columns if c != group]
    if categorical is None and continuous is None:
        categorical = [c for c in others if not pd.api.types.is_numeric_dtype(df[c]) or df[c].nunique() <= 5]
        continuous = [c for c in others if c not in categorical]
    categorical = list(categorical or [])
    continuous = list(continuous or [])
    check_dataframe(df, columns=categorical + continuous, caller=caller, allow_missing=True)
    both = set(categorical) & set(continuous)
    if both:
        raise ValueError(f"{caller}: variable(s) {sorted(both)} listed as both categorical and continuous.")
    empty = [c for c in categorical + continuous if df[c].notna().sum() == 0]
    if empty:
        raise ValueError(f"{caller}: variable(s) {empty} have no observed value (every row is missing); "
                         "drop them from the table.")
    bad = [c for c in continuous if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise ValueError(f"{caller}: continuous variable(s) {bad} are not numeric; list them as categorical.")
    nonnormal = _variable_set(nonnormal, continuous, "nonnormal", caller)
    parametric = _variable_set(parametric, continuous, "parametric", caller)
    both = nonnormal & parametric
    if both:
        raise ValueError(f"{caller}: variable(s) {sorted(both)} are in both 'nonnormal' and 'parametric'; "
                         "choose one test for each.")
    rng = check_random_state(random_state)
    tests = []
    gcol = df[group]
    colnames = [str(lv) for lv in levels]
    rows = []
    norm_rows = []

    head = {"variable": "n", "level": ""}
    for lv, name in zip(levels, colnames):
        head[name] = str(int((gcol == lv).sum()))
    if overall:
        head["Overall"] = str(len(df))
    head.update({"statistic": np.nan, "p": np.nan, "test": ""})
    rows.append(head)

    f = f"{{:.{digits}f}}"
    for var in continuous:
        samples = [df.loc[gcol == lv, var].dropna().to_numpy(float) for lv in levels]
        allv = df[var].dropna().to_numpy(float)
        sw = {}
        for lv, s in zip(colnames, samples):
            sw[lv] = float(stats.shapiro(s).pvalue) if 3 <= len(s) <= 5000 and np.ptp(s) > 0 else np.nan
        norm_rows.append({"variable": var, **sw})
        auto_normal = all(np.isfinite(v) and v >= normality_alpha for v in sw.values())
        why_auto = _normality_reason(sw, samples, colnames, normality_alpha)
        if var in parametric:
            normal, why = True, "parametric requested" + ("" if auto_normal else f"; {why_auto}")
        elif var in nonnormal:
            normal, why = False, "non-parametric requested"
        else:
            normal, why = auto_normal, why_auto
        if normal:
            cell = lambda s: ("" if not len(s) else f"{f.format(s[0])} (n = 1)" if len(s) == 1
                              else f"{f.format(np.mean(s))} ± {f.format(np.std(s, ddof=1))}")
        else:
            cell = lambda s: (f"{f.format(np.median(s))} [{f.format(np.quantile(s, 0.25))}, "
                              f"{f.format(np.quantile(s, 0.75))}]") if len(s) else ""
        row = {"variable": var, "level": "mean ± SD" if normal else "median [IQR]"}
        for name, s in zip(colnames, samples):
            row[name] = cell(s)
        if overall:
            row["Overall"] = cell(allv)
        nonempty = [s for s in samples if len(s)]
        lonely = [name for name, s in zip(colnames, samples) if len(s) == 1]
        if len(nonempty) < 2:
            stat, p, test = np.nan, np.nan, "not tested (one group)"
            why = "fewer than two groups have values"
        elif spearman:
            codes = np.concatenate([np.full(len(s), k + 1.0) for k, s in enumerate(samples)])
            res = stats.spearmanr(np.concatenate(samples), codes)
            stat, p, test = float(res.statistic), float(res.pvalue), "Spearman"
            why = "spearman=True (ordered groups)"
        elif normal and not equal_var and lonely:
            stat, p = np.nan, np.nan
            test = "Welch's t" if len(nonempty) == 2 else "Welch's ANOVA"
            why += (f"; {test} is undefined: group {lonely[0]!r} has 1 value (no variance); "
                    "use equal_var=True for the pooled-variance test")
        elif normal and len(nonempty) == 2:
            res = stats.ttest_ind(*nonempty, equal_var=equal_var)
            stat, p = float(res.statistic), float(res.pvalue)
            test = "Student's t" if equal_var else "Welch's t"
        elif normal:
            res = stats.f_oneway(*nonempty, equal_var=equal_var)
            stat, p = float(res.statistic), float(res.pvalue)
            test = "ANOVA" if equal_var else "Welch's ANOVA"
        elif len(nonempty) == 2:
            stat, p, test = _mann_whitney(*nonempty)
        else:
            res = stats.kruskal(*nonempty)
            stat, p, test = float(res.statistic), float(res.pvalue), "Kruskal-Wallis"
        row.update({"statistic": stat, "p": p, "test": test})
        rows.append(row)
        tests.append({"variable": var, "test": test, "reason": why})

    for var in categorical:
        col = df[var]
        if isinstance(col.dtype, pd.CategoricalDtype):
            vlevels = [lv for lv in col.cat.categories if (col == lv).any()]
        else:
            vlevels = sorted(col.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
        tab = np.array([[int(((col == v) & (gcol == g)).sum()) for g in levels] for v in vlevels])
        stat, p, test, why = _categorical_test(tab, yates=yates, max_nodes=fisher_max_nodes,
                                               n_monte_carlo=n_monte_carlo, rng=rng)
        tests.append({"variable": var, "test": test, "reason": why})
        rows.append({"variable": var, "level": "n (%)", **{n: "" for n in colnames},
                     **({"Overall": ""} if overall else {}), "statistic": stat, "p": p, "test": test})
        col_tot = tab.sum(axis=0)
        for i, v in enumerate(vlevels):
            row = {"variable": "", "level": str(v)}
            for j, name in enumerate(colnames):
                pct = 100 * tab[i, j] / col_tot[j] if col_tot[j] else np.nan
                row[name] = f"{tab[i, j]} ({pct:.{digits}f})"
            if overall:
                row["Overall"] = f"{tab[i].sum()} ({100 * tab[i].sum() / tab.sum():.{digits}f})"
            row.update({"statistic": np.nan, "p": np.nan, "test": ""})
            rows.append(row)

    table = pd.DataFrame(rows)
    n_missing = {v: int(df[v].isna().sum()) for v in continuous + categorical}
    if any(n_missing.values()):
        # a column only when something is missing; counts on each variable's first row
        miss = [str(n_missing[v]) if v in n_missing else "" for v in table["variable"]]
        table.insert(table.columns.get_loc("statistic"), "missing", miss)
    normality = pd.DataFrame(norm_rows).set_index("variable") if norm_rows else pd.DataFrame()
    settings = {"normality_alpha": normality_alpha, "equal_var": equal_var, "spearman": spearman,
                "yates": yates, "n_monte_carlo": n_monte_carlo, "nonnormal": sorted(nonnormal),
                "parametric": sorted(parametric)}
    tests = pd.DataFrame(tests, columns=["variable", "test", "reason"])
    return TableOne(table, levels, normality, title, settings, tests)


def _variable_set(value, continuous, name, caller) -> set:
    """``nonnormal=`` / ``parametric=``: None, True (all continuous variables) or a list of them."""
    if value is None or value is False:
        return set()
    if value is True:
        return set(continuous)
    if isinstance(value, str):
        value = [value]
    unknown = [v for v in value if v not in continuous]
    if unknown:
        raise ValueError(f"The '{name}' parameter of {caller} names {unknown}, which are not continuous "
                         f"variables of this table; continuous variables are {list(continuous)}.")
    return set(value)


def _normality_reason(sw: dict, samples, colnames, alpha) -> str:
    """Why the automatic rule chose mean ± SD or median [IQR] for one variable."""
    few = [f"group {name!r} has {len(s)} value{'s' if len(s) != 1 else ''}"
           for name, s in zip(colnames, samples) if not 3 <= len(s) <= 5000]
    if few:
        return "normality not checkable: " + ", ".join(few) + " (Shapiro-Wilk needs 3 to 5000)"
    flat = [name for name, s in zip(colnames, samples) if np.ptp(s) == 0]
    if flat:
        return f"normality not checkable: all values equal in group {flat[0]!r}"
    rejected = [name for name, v in sw.items() if v < alpha]
    if rejected:
        return f"Shapiro-Wilk p < {alpha:g} in group " + ", ".join(repr(r) for r in rejected)
    return f"Shapiro-Wilk p >= {alpha:g} in every group"


# --------------------------------------------------------------------------- OR / HR tables
def _design(df: pd.DataFrame, var: str, kinds: dict) -> tuple[np.ndarray, list[str]]:
    """Numeric column as is; categorical as treatment dummies (reference = first level).

    ``kinds`` is :func:`nomogram.checks.check_predictor_types` of the variables.
    """
    col = df[var]
    if kinds[var] == "categorical":
        if isinstance(col.dtype, pd.CategoricalDtype):
            levels = [lv for lv in col.cat.categories if (col == lv).any()]
        else:
            levels = sorted(col.unique().tolist(), key=lambda v: (str(type(v)), v))
        if len(levels) < 2:
            raise ValueError(f"regression_table: '{var}' has a single level ({levels}); drop it.")
        X = np.column_stack([(col == lv).to_numpy(float) for lv in levels[1:]])
        return X, [f"{var}={lv}" for lv in levels[1:]]
    return col.to_numpy(float)[:, None], [var]


class RegressionTable(_Rendered):
    """Result of :func:`regression_table`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model term: ``variable, term`` then for ``uni`` and ``multi``:
        ``<OR|HR>, lower, upper, p`` and ``variable_p`` (joint Wald p of the
        variable's terms, used for screening).
    selected : list of str
        Variables carried into the multivariable model.
    measure : str
        ``"OR"`` or ``"HR"``.
    multivariable_fit : LogisticFit or CoxFit or None
    """

    def __init__(self, table, selected, measure, fit, title):
        self.table = table
        self.selected = selected
        self.measure = measure
        self.multivariable_fit = fit
        self.title = title

    def summary(self) -> pd.DataFrame:
        """The numeric table (a copy)."""
        return self.table.copy()

    def _formatted(self) -> pd.DataFrame:
        t = self.table
        m = self.measure
        out = pd.DataFrame({"variable": t["variable"], "term": t["term"]})
        for part, name in (("uni", "Univariable"), ("multi", "Multivariable")):
            est = t[f"{part}_{m}"]
            out[f"{name} {m} (95% CI)"] = [
                "" if not np.isfinite(e) else f"{e:.2f} ({lo:.2f}-{hi:.2f})"
                for e, lo, hi in zip(est, t[f"{part}_lower"], t[f"{part}_upper"])
            ]
            out[f"{name} p"] = [_fmt_p(v) for v in t[f"{part}_p"]]
        return out


def _wald_rows(coef, cov, names, var_of, z):
    se = np.sqrt(np.diag(cov))
    out = {}
    for j, term in enumerate(names):
        b = coef[j]
        out[term] = {
            "est": math.exp(b), "lower": math.exp(b - z * se[j]), "upper": math.exp(b + z * se[j]),
            "p": float(2 * stats.norm.sf(abs(b / se[j]))), "coef": b, "se": se[j],
        }
    var_p = {}
    for var in dict.fromkeys(var_of.values()):
        idx = [j for j, term in enumerate(names) if var_of[term] == var]
        b = coef[idx]
        V = cov[np.ix_(idx, idx)]
        chi2 = float(b @ np.linalg.solve(V, b))
        var_p[var] = float(stats.chi2.sf(chi2, len(idx)))
    return out, var_p


def regression_table(
    df: pd.DataFrame,
    outcome,
    variables: Sequence[str],
    *,
    model: str = "logistic",
    categorical: Sequence[str] | None = None,
    screen_p: float = 0.05,
    multivariable: Sequence[str] | None = None,
    conf_level: float = 0.95,
    title: str | None = None,
    event_level=None,
) -> RegressionTable:
    """Univariable and multivariable odds ratios (logistic) or hazard ratios (Cox).

    Each variable is fitted alone; those whose univariable p-value is below
    ``screen_p`` enter the multivariable model (or give ``multivariable``
    explicitly). Estimates are :math:`e^{\\hat\\beta}` with Wald intervals
    :math:`e^{\\hat\\beta \\pm z\\,se}` and Wald p-values, as
    ``exp(cbind(coef(fit), confint.default(fit)))`` and ``summary(fit)`` in R
    (``glm(family = binomial)``; ``coxph`` with Efron ties). A categorical
    variable is coded with treatment dummies against its first level (R's
    factor default), and its screening p-value is the joint Wald test of its
    dummies (:math:`\\hat\\beta^\\top V^{-1} \\hat\\beta \\sim \\chi^2_{k-1}`).

    Screening on univariable p-values is common in clinical papers but has
    known problems (it ignores confounding and inflates optimism); report it
    as such and validate the final model.

    Parameters
    ----------
    df : pandas.DataFrame
    outcome : str or (str, str)
        Binary outcome column (logistic) or ``(time, event)`` columns (Cox).
    variables : sequence of str
    model : {"logistic", "cox"}, default "logistic"
    categorical : sequence of str, optional
        Numeric columns to treat as categorical (text, bool and pandas
        Categorical columns always are). Text that is mostly numbers, text with
        more than 20 levels and dates are refused unless listed here
        (:func:`nomogram.checks.check_predictor_types`).
    screen_p : float, default 0.05
    multivariable : sequence of str, optional
        Variables of the multivariable model; overrides the screen.
    conf_level : float, default 0.95
    title : str, optional
    event_level : scalar, optional
        The value of a text outcome (or event) column that means the event;
        text other than ``'0'/'1'``, ``'False'/'True'`` is refused without it.

    Returns
    -------
    RegressionTable

    References
    ----------
    Fitters: :func:`nomogram._lrm_fit.fit_logistic` (``glm``/``lrm``) and
    :func:`nomogram._cph_fit.fit_cox` (``coxph``, Efron).
    """
    caller = "regression_table"
    check_option(model, {"logistic", "cox"}, name="model", caller=caller)
    variables = list(variables)
    if not variables:
        raise ValueError(f"{caller}: give at least one variable.")
    if model == "cox":
        if isinstance(outcome, str) or len(outcome) != 2:
            raise ValueError(f"{caller}: model='cox' needs outcome=(time_column, event_column); got {outcome!r}.")
        ycols = list(outcome)
    else:
        if not isinstance(outcome, str):
            raise ValueError(f"{caller}: model='logistic' needs outcome=<binary column name>; got {outcome!r}.")
        ycols = [outcome]
    overlap = [v for v in variables if v in ycols]
    if overlap or len(set(variables)) != len(variables):
        twice = overlap or sorted({v for v in variables if variables.count(v) > 1})
        raise ValueError(f"{caller}: variables lists {twice} {'which is the outcome' if overlap else 'twice'}; "
                         "give each predictor once and leave the outcome column(s) out of variables.")
    check_dataframe(df, columns=ycols + variables, caller=caller)
    if model == "cox":
        time, event = check_survival_y((df[ycols[0]].to_numpy(), df[ycols[1]].to_numpy()), caller=caller,
                                       event_level=event_level)
    else:
        y = check_binary_y(df[outcome].to_numpy(), caller=caller, event_level=event_level)
    categorical = set(categorical or [])
    kinds = check_predictor_types(df[variables], categorical=categorical, caller=caller)
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    measure = "OR" if model == "logistic" else "HR"

    designs = {v: _design(df, v, kinds) for v in variables}

    def fit(vars_):
        X = np.column_stack([designs[v][0] for v in vars_])
        names = [n for v in vars_ for n in designs[v][1]]
        var_of = {n: v for v in vars_ for n in designs[v][1]}
        if model == "logistic":
            f = fit_logistic(X, y, names=names)
            coef, cov = f.coef[1:], f.cov[1:, 1:]
        else:
            f = fit_cox(X, time, event, ties="efron")
            coef, cov = f.coef, f.cov
        rows, var_p = _wald_rows(coef, cov, names, var_of, z)
        return f, rows, var_p

    uni_rows, uni_var_p = {}, {}
    for v in variables:
        _, rows, var_p = fit([v])
        uni_rows.update(rows)
        uni_var_p.update(var_p)
    if multivariable is None:
        selected = [v for v in variables if uni_var_p[v] < screen_p]
    else:
        selected = list(multivariable)
        unknown = [v for v in selected if v not in variables]
        if unknown:
            raise ValueError(f"{caller}: multivariable variable(s) {unknown} are not in variables {variables}.")
    multi_fit, multi_rows, multi_var_p = (None, {}, {})
    if selected:
        multi_fit, multi_rows, multi_var_p = fit(selected)

    records = []
    for v in variables:
        for term in designs[v][1]:
            u = uni_rows[term]
            m = multi_rows.get(term)
            records.append({
                "variable": v, "term": term,
                f"uni_{measure}": u["est"], "uni_lower": u["lower"], "uni_upper": u["upper"],
                "uni_p": u["p"], "uni_variable_p": uni_var_p[v],
                f"multi_{measure}": m["est"] if m else np.nan,
                "multi_lower": m["lower"] if m else np.nan,
                "multi_upper": m["upper"] if m else np.nan,
                "multi_p": m["p"] if m else np.nan,
                "multi_variable_p": multi_var_p.get(v, np.nan),
            })
    table = pd.DataFrame(records)
    if title is None:
        title = ("Logistic regression: odds ratios" if model == "logistic" else "Cox regression: hazard ratios")
    return RegressionTable(table, selected, measure, multi_fit, title)
