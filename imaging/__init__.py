"""CT/MR/PET volumes and masks to regions, radiomics and an imaging signature.

Per case: :func:`read_image` / :func:`read_mask` (NIfTI, NRRD, MHA, DICOM
series, DICOM SEG, RTSTRUCT), :func:`check_image_mask_geometry`, regions
(:func:`lesion_region`, :func:`peritumoral_ring`, :func:`organ_soil`),
radiomics (:class:`RadiomicsExtractor`, :func:`extract_case`), PET
quantification (:mod:`imaging.pet`), RECIST 1.1 (:mod:`imaging.recist`),
segmentation agreement (:mod:`imaging.agreement`) and deep features
(:class:`DeepFeatureExtractor`, imported lazily because it needs torch).
"""

from .exceptions import (
    DicomTagError,
    EmptyRegionError,
    GeometryMismatchError,
    ImageReadError,
    ImagingError,
    MissingOptionalDependencyError,
)
from .geometry import check_image_mask_geometry, resample_image, resample_mask_to_image
from .io import list_dicom_series, read_dicom_seg, read_image, read_mask, read_rtstruct
from .radiomics import PRESETS, RadiomicsExtractor, extract_case, preset_path
from .regions import lesion_region, organ_soil, peritumoral_ring, region_name
from .pet import metabolic_volume, pet_metrics, suv_factor, suv_factor_from_dicom, suv_peak, to_suv
from .recist import (
    AxialDiameters,
    axial_diameters,
    longest_axial_diameter,
    response_category,
    short_axis,
    sum_of_diameters,
)
from .agreement import (
    dice,
    hausdorff95,
    jaccard,
    segmentation_agreement,
    surface_distances,
    volume_difference,
)


def __getattr__(name):
    # DeepFeatureExtractor needs torch: import it only when asked for.
    if name == "DeepFeatureExtractor":
        from .deep_features import DeepFeatureExtractor

        return DeepFeatureExtractor
    raise AttributeError(f"module 'imaging' has no attribute {name!r}")


__all__: list[str] = [
    # exceptions
    "ImagingError",
    "ImageReadError",
    "GeometryMismatchError",
    "EmptyRegionError",
    "DicomTagError",
    "MissingOptionalDependencyError",
    # io
    "read_image",
    "read_mask",
    "list_dicom_series",
    "read_dicom_seg",
    "read_rtstruct",
    # geometry
    "check_image_mask_geometry",
    "resample_mask_to_image",
    "resample_image",
    # regions
    "lesion_region",
    "peritumoral_ring",
    "organ_soil",
    "region_name",
    # radiomics
    "RadiomicsExtractor",
    "extract_case",
    "PRESETS",
    "preset_path",
    # PET
    "suv_factor",
    "suv_factor_from_dicom",
    "to_suv",
    "pet_metrics",
    "suv_peak",
    "metabolic_volume",
    # RECIST 1.1
    "AxialDiameters",
    "axial_diameters",
    "longest_axial_diameter",
    "short_axis",
    "sum_of_diameters",
    "response_category",
    # segmentation agreement
    "dice",
    "jaccard",
    "hausdorff95",
    "surface_distances",
    "volume_difference",
    "segmentation_agreement",
    # deep features (lazy: needs torch)
    "DeepFeatureExtractor",
]

# Habitats, feature stability (ICC), ComBat harmonisation and the imaging signature.
from .habitats import HABITAT_FEATURES, HabitatModel  # noqa: E402
from nomogram.features import ComBat  # noqa: E402
from .signature import ImagingSignature, lasso_cox_path, lasso_logistic_path  # noqa: E402
from nomogram.features import ICC_KINDS, FeatureStability, feature_icc, intraclass_correlation  # noqa: E402

__all__ += [
    "HabitatModel",
    "HABITAT_FEATURES",
    "ComBat",
    "ImagingSignature",
    "lasso_logistic_path",
    "lasso_cox_path",
    "feature_icc",
    "intraclass_correlation",
    "FeatureStability",
    "ICC_KINDS",
]
