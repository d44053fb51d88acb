"""The imaging signature ("rad-score"): :class:`nomogram.features.Signature` under its imaging name.

The builder is modality-free and lives in :mod:`nomogram.features.signature`;
:class:`ImagingSignature` is that estimator with the rad-score's names: its
:meth:`~nomogram.features.Signature.transform` column is ``rad_score``, its
formula reads ``Rad-score = ...`` and its model files are
``nomofuse.imaging.ImagingSignature`` (version-1 files, written before
checksums, still load).
"""

from nomogram.features.signature import Signature, lasso_cox_path, lasso_logistic_path

__all__ = ["ImagingSignature", "lasso_logistic_path", "lasso_cox_path"]


class ImagingSignature(Signature):
    """Rad-score: :class:`nomogram.features.Signature` with the imaging defaults.

    Same parameters and attributes as :class:`~nomogram.features.Signature`;
    the score column is ``rad_score`` unless ``name=`` says otherwise.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> d = load_breast_cancer(as_frame=True)
    >>> sig = ImagingSignature(n_mrmr=10, cv=5).fit(d.data, 1 - d.target)
    >>> sig.transform(d.data.iloc[:2]).columns.tolist()
    ['rad_score']
    """

    _model_format = "nomofuse.imaging.ImagingSignature"
    _model_version = 2
    _model_unsigned_versions = (1,)
    _default_name = "rad_score"
