"""Errors and warnings raised by :mod:`nomogram`.

Every other package of nomofuse raises these (or subclasses of them) so that a
user catches one family of exceptions, as lifelines does with
``lifelines.exceptions``.
"""

from sklearn.exceptions import NotFittedError as _SkNotFittedError

__all__ = [
    "NotFittedError",
    "ConvergenceError",
    "SeparationError",
    "ModelFileError",
    "StatisticalWarning",
    "SeparationWarning",
    "ExtrapolationWarning",
    "MissingDependencyError",
]


class NotFittedError(_SkNotFittedError):
    """A model or transformer was used before ``fit``.

    Subclasses scikit-learn's ``NotFittedError`` so ``sklearn.utils.validation``
    helpers and ``except NotFittedError`` in user code both work.
    """


class ConvergenceError(ValueError):
    """Newton–Raphson (or another iterative fit) did not converge."""


class SeparationError(ConvergenceError):
    """Complete or quasi-complete separation: the likelihood has no finite maximum."""


class ModelFileError(ValueError):
    """A model JSON file is malformed, of an unknown version, or inconsistent."""


class StatisticalWarning(RuntimeWarning):
    """A result is computed but should be read with care (small n, few events...)."""


class SeparationWarning(StatisticalWarning, UserWarning):
    """A coefficient diverges (separation, or Cox monotone likelihood): its estimate and SE are meaningless.

    Raised after a fit that stopped on rms's rule while a coefficient was still
    growing: a factor level whose patients are all events or all non-events
    (logistic), a level without events (Cox), or a coefficient far larger than
    its data support. The message names the variable and level and the
    remedies (``penalty=``, merging levels).
    """


class ExtrapolationWarning(StatisticalWarning, UserWarning):
    """A prediction is asked outside the training data (a value beyond the range the model saw)."""


class MissingDependencyError(ImportError):
    """An optional package is not installed; the message names the ``pip install`` that adds it.

    ``extra`` is the nomofuse extra that provides the package (``"imaging"``,
    ``"pathology"``, ...), ``module`` the module that could not be imported.
    """

    def __init__(self, message: str, *, module: str | None = None, extra: str | None = None):
        super().__init__(message, name=module)
        self.module = module
        self.extra = extra
