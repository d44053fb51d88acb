"""What the logistic and Cox nomogram models share: design handling, penalty, summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator

from .checks import check_columns, check_dataframe, check_is_fitted, check_training_range
from ._design import Design
from ._summary_table import SummaryTable
from .model_io import ModelFileMixin

__all__ = ["NomogramModelBase", "penalty_matrix"]


def penalty_matrix(design: Design, Xd: np.ndarray, penalty: float) -> np.ndarray | None:
    """rms ``Penalty.matrix`` times a scalar penalty.

    The penalty on a numeric column is its variance (denominator n - 1), so the
    penalty is in standard-deviation units; a categorical block of ``L``
    indicator columns gets ``I_L - 1/(L + 1)``, which penalises differences
    between all ``L + 1`` levels alike (rms ``Penalty.matrix``).
    """
    if not penalty:
        return None
    v = Xd.var(axis=0, ddof=1)
    P = np.diag(v)
    for term, sl in zip(design.terms, design.column_slices().values()):
        if term.kind == "categorical":
            L = sl.stop - sl.start
            P[sl, sl] = np.eye(L) - 1.0 / (L + 1)
    return float(penalty) * P


class NomogramModelBase(ModelFileMixin, BaseEstimator):
    """Common parameters and methods; not for direct use."""

    _intercept = False

    def __init__(self, splines=None, categorical=None, interaction=None, penalty=0.0):
        self.splines = splines
        self.categorical = categorical
        self.interaction = interaction
        self.penalty = penalty

    def _check_outcome_text(self) -> None:
        """``outcome_name`` (and ``time_unit``, Cox) are labels for charts: checked at fit."""
        from .points import _check_outcome_text

        _check_outcome_text(getattr(self, "outcome_name", None), getattr(self, "time_unit", None),
                            type(self).__name__)

    # -- design ------------------------------------------------------------
    def _learn_design(self, X):
        # nomogram.imputation fits every completed dataset with one design (knots, levels, limits)
        template = getattr(self, "_design_template", None)
        if template is not None:
            check_columns(X, template.predictors, caller=f"{type(self).__name__}.fit", what="predictor column(s)")
            return template
        if self.penalty is None or float(self.penalty) < 0:
            raise ValueError(
                f"The 'penalty' parameter of {type(self).__name__} must be a number >= 0. "
                f"Got {self.penalty!r} instead."
            )
        if self.splines is not None and not isinstance(self.splines, dict):
            raise TypeError(
                f"The 'splines' parameter of {type(self).__name__} must be a dict "
                f"{{column: number of knots}}. Got {self.splines!r} instead."
            )
        for name, nk in (self.splines or {}).items():
            if not isinstance(nk, (int, np.integer)) or not 3 <= nk <= 7:
                raise ValueError(
                    f"splines['{name}'] must be an integer number of knots between 3 and 7 "
                    f"(rms rcs); got {nk!r}."
                )
        return Design.from_data(
            X,
            splines=self.splines,
            categorical=self.categorical,
            interaction=self.interaction,
            caller=f"{type(self).__name__}.fit",
        )

    def _set_feature_names(self, design: Design) -> None:
        """scikit-learn's ``feature_names_in_`` / ``n_features_in_``: the predictors, in X's order."""
        self.feature_names_in_ = np.asarray(design.predictors, dtype=object)
        self.n_features_in_ = len(design.predictors)

    def design_matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Design matrix (no intercept column) of ``X`` with the fitted knots and levels.

        ``X`` must hold every column of ``feature_names_in_`` (found by name,
        in any order; other columns are ignored); a missing one is an error
        naming it, and so are infinite values. A numeric value outside the
        training range (rms ``datadist`` limits) gives an
        :class:`~nomogram.exceptions.ExtrapolationWarning` naming the column,
        the values and the rows.
        """
        check_is_fitted(self, "coef_")
        caller = f"{type(self).__name__}.predict"
        check_dataframe(X, caller=caller, allow_missing=True)
        check_columns(X, self.design_.predictors, caller=caller, what="predictor column(s)")
        Xd = self.design_.transform(X, caller=caller)
        check_training_range(X, {t.name: (t.low, t.high) for t in self.design_.terms if t.kind != "categorical"},
                             caller=caller)
        return Xd

    @property
    def _slopes(self) -> np.ndarray:
        c = self.coef_.to_numpy()
        return c[1:] if self._intercept else c

    # -- summary -----------------------------------------------------------
    def _coefficient_table(self, ratio_label: str) -> pd.DataFrame:
        coef = self.coef_
        se = pd.Series(np.sqrt(np.diag(self.cov_.to_numpy())), index=coef.index)
        z = coef / se
        q = stats.norm.ppf(0.975)
        table = pd.DataFrame(
            {
                "coef": coef,
                "se": se,
                "z": z,
                "p": 2 * stats.norm.sf(np.abs(z)),
                "lower 95%": coef - q * se,
                "upper 95%": coef + q * se,
            }
        )
        ratio = np.exp(table[["coef", "lower 95%", "upper 95%"]])
        ratio.columns = [ratio_label, f"{ratio_label} lower 95%", f"{ratio_label} upper 95%"]
        table = table.join(ratio)
        if self._intercept:
            table.loc["Intercept", list(ratio.columns)] = np.nan
        return table

    # -- model file ---------------------------------------------------------
    def to_dict(self) -> dict:
        """The model file's content (see :mod:`nomogram.model_io`); ``to_json`` writes it."""
        from .model_io import _nomogram_model_dict

        return _nomogram_model_dict(self)

    @classmethod
    def _from_model_dict(cls, data: dict, source: str):
        from .model_io import _nomogram_model_from_dict, nomogram_model_version_check

        nomogram_model_version_check(data, source)
        return _nomogram_model_from_dict(data, source, cls.__name__)

    # -- rms verbs (computed in their own modules) -------------------------
    def anova(self, **kwargs):
        """Wald tests per predictor, nonlinearity and interaction; see :func:`nomogram.anova`."""
        from .wald_anova import anova

        return anova(self, **kwargs)

    def effects(self, ranges=None, **kwargs):
        """Inter-quartile-range effects with odds/hazard ratios; see :func:`nomogram.effects`."""
        from .effect_summary import effects

        return effects(self, ranges, **kwargs)

    def partial_effects(self, predictors=None, **kwargs):
        """Partial-effect curves with pointwise CI; see :func:`nomogram.partial_effects`."""
        from .effect_curves import partial_effects

        return partial_effects(self, predictors, **kwargs)

    def summary(self) -> SummaryTable:
        """Coefficient table (estimate, SE, Wald z, p, 95 % CI, OR/HR and CI) and model statistics.

        Returns
        -------
        SummaryTable
            ``.table`` is the coefficient DataFrame, ``.statistics`` a Series of model
            statistics (n, events, LR chi2, d.f., P, R2, C, Dxy, ...); ``as_text``,
            ``as_html`` and ``as_latex`` render both.
        """
        check_is_fitted(self, "coef_")
        label = "OR" if self._intercept else "HR"
        return SummaryTable(
            table=self._coefficient_table(label),
            statistics=self.stats_.copy(),
            title=f"{type(self).__name__}",
        )
