"""CT/MR/PET volumes and masks to regions, radiomics and an imaging signature.

Per case: :func:`read_image` / :func:`read_mask` (NIfTI, NRRD, MHA, DICOM
series, DICOM SEG, RTSTRUCT), :func:`check_image_mask_geometry`, regions
(:func:`lesion_region`, :func:`peritumoral_ring`, :func:`organ_soil`),
radiomics (:class:`RadiomicsExtractor`, :func:`extract_case`; presets in
:mod:`imaging.presets`), PET quantification (:mod:`imaging.pet`), RECIST 1.1
(:mod:`imaging.recist`), segmentation agreement (:mod:`imaging.agreement`),
habitats (:class:`HabitatModel`) and deep features (:class:`DeepFeatureExtractor`).

Every name is imported on first use (``imaging.read_image`` loads
:mod:`imaging.io` and SimpleITK then; ``imaging.HabitatModel`` loads
scikit-learn then), so ``import imaging`` and the parts of nomofuse that need
only a few of its names (the presets, the exceptions) stay light.
"""

from .exceptions import (
    DicomTagError,
    EmptyRegionError,
    GeometryMismatchError,
    ImageReadError,
    ImagingError,
    LabelError,
    MissingOptionalDependencyError,
    RadiomicsParamsError,
)

# public name -> module that defines it (relative to this package, or absolute)
_LAZY = {
    # io
    "read_image": ".io", "read_mask": ".io", "list_dicom_series": ".io",
    "read_dicom_seg": ".io", "read_rtstruct": ".io", "as_label_image": ".io",
    "check_label": ".io",
    # geometry
    "check_image_mask_geometry": ".geometry", "resample_mask_to_image": ".geometry",
    "resample_image": ".geometry",
    # regions
    "lesion_region": ".regions", "peritumoral_ring": ".regions", "organ_soil": ".regions",
    "region_name": ".regions",
    # radiomics
    "RadiomicsExtractor": ".radiomics", "extract_case": ".radiomics",
    "limit_itk_threads": ".radiomics",
    "PRESETS": ".presets", "preset_path": ".presets", "read_params": ".presets",
    "check_settings": ".radiomics",
    # PET
    "suv_factor": ".pet", "suv_factor_from_dicom": ".pet", "to_suv": ".pet",
    "pet_metrics": ".pet", "suv_peak": ".pet", "metabolic_volume": ".pet",
    # RECIST 1.1
    "AxialDiameters": ".recist", "axial_diameters": ".recist",
    "longest_axial_diameter": ".recist", "short_axis": ".recist",
    "sum_of_diameters": ".recist", "response_category": ".recist",
    # segmentation agreement
    "dice": ".agreement", "jaccard": ".agreement", "hausdorff95": ".agreement",
    "surface_distances": ".agreement", "volume_difference": ".agreement",
    "segmentation_agreement": ".agreement",
    # deep features (needs torch)
    "DeepFeatureExtractor": ".deep_features",
    # habitats (needs scikit-learn)
    "HabitatModel": ".habitats", "HABITAT_FEATURES": ".habitats",
    # modality-free feature engineering, kept here under their former names
    "ComBat": "nomogram.features",
    "ImagingSignature": ".signature",
    "lasso_logistic_path": ".signature",
    "lasso_cox_path": ".signature",
    "feature_icc": "nomogram.features",
    "intraclass_correlation": "nomogram.features",
    "FeatureStability": "nomogram.features",
    "ICC_KINDS": "nomogram.features",
}

__all__: list[str] = [
    # exceptions
    "ImagingError",
    "ImageReadError",
    "GeometryMismatchError",
    "EmptyRegionError",
    "LabelError",
    "DicomTagError",
    "RadiomicsParamsError",
    "MissingOptionalDependencyError",
    *_LAZY,
]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'imaging' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
