r"""Deep imaging features: a pretrained-style encoder applied to lesion-centred crops.

2.5D mode (default): ``n_slices`` axial planes centred on the lesion centroid,
``slice_gap_mm`` apart, are resampled to ``input_size`` x ``input_size`` pixels
covering ``crop_mm`` x ``crop_mm``; each plane is fed to a 2-D timm encoder
with its two neighbours (one gap below and above) as the three colour
channels (the usual "2.5D" input), and the ``n_slices`` feature vectors are
averaged:

.. math:: f = \frac{1}{n}\sum_{k=1}^{n} E\big([I_{k-1}, I_k, I_{k+1}]\big)

3D mode: an isotropic cube of ``crop_mm`` (``input_size``\ :sup:`3` voxels)
centred on the lesion goes through a 3-D video ResNet of torchvision
(``r3d_18``, ``mc3_18``, ``r2plus1d_18``) with the grey levels repeated on the
three channels; the pooled vector is the feature.

Weights are read only from a local file (``torch.load(weights_only=True)`` or
safetensors); nothing is downloaded. With ``weights=None`` the encoder is
randomly initialised from ``random_state``: reproducible, useful for tests and
pipelines, meaningless as a biomarker.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from nomogram.checks import renamed_parameter

from .exceptions import EmptyRegionError, ImageReadError, _where

__all__ = ["DeepFeatureExtractor", "VIDEO_ENCODERS"]

VIDEO_ENCODERS = ("r3d_18", "mc3_18", "r2plus1d_18")


def load_state_dict(path, *, case_id=None) -> dict:
    """Read a state dict from a local ``.safetensors`` or PyTorch file (no pickle code execution)."""
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"Encoder weights file does not exist{_where(path, case_id)}; "
                             "give a local .safetensors or .pt/.pth state dict.")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    import torch

    obj = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ImageReadError(f"Encoder weights file does not hold a state dict{_where(path, case_id)}.")
    return obj


class DeepFeatureExtractor:
    """Lesion-centred deep features from a timm (2.5D) or torchvision video (3D) encoder.

    Parameters
    ----------
    encoder : str, default "resnet18"
        2.5D: any timm model name (created with ``timm.create_model(encoder,
        pretrained=False, num_classes=0)``, so the output is the pooled feature).
        3D: one of ``VIDEO_ENCODERS``.
    weights : path-like, optional
        Local state dict (``.safetensors``, or ``.pt``/``.pth`` read with
        ``torch.load(..., weights_only=True)``); loaded with ``strict=True``.
        ``None``: random initialisation from ``random_state``.
    mode : {"2.5d", "3d"}, default "2.5d"
    n_slices : int, default 5
        2.5D: number of axial planes averaged.
    slice_gap_mm : float, optional
        2.5D: distance between planes (and between a plane and its channel
        neighbours); default the image's slice spacing.
    crop_mm : float, default 64.0
        Side of the square (2.5D) or cube (3D) crop, in mm, centred on the lesion centroid.
    input_size : int, optional
        Pixels per side of the crop; default 224 (2.5D) or 64 (3D).
    window : (float, float), optional
        Intensity window (e.g. ``(-1000, 400)`` HU): values are clipped to it
        and scaled to [0, 1]. Default: the 0.5th and 99.5th percentiles of the crop.
    normalize : bool, default True
        2.5D: subtract/divide by the encoder's ``pretrained_cfg`` mean/std after scaling.
    device : str, default "cpu"
    random_state : int, default 0
        Seed of the random initialisation when ``weights`` is None (old name: ``seed``).

    Attributes
    ----------
    model_ : torch.nn.Module
        The encoder in eval mode (built at the first call).
    num_features_ : int
        Length of the feature vector.

    Examples
    --------
    >>> ext = DeepFeatureExtractor("resnet18", weights="resnet18.safetensors")  # doctest: +SKIP
    >>> vec = ext.extract(image, mask)                                          # doctest: +SKIP
    """

    @renamed_parameter("seed", "random_state")
    def __init__(self, encoder: str = "resnet18", weights=None, mode: str = "2.5d",
                 n_slices: int = 5, slice_gap_mm: float | None = None, crop_mm: float = 64.0,
                 input_size: int | None = None, window=None, normalize: bool = True,
                 device: str = "cpu", random_state: int = 0):
        self.encoder = encoder
        self.weights = weights
        self.mode = mode
        self.n_slices = n_slices
        self.slice_gap_mm = slice_gap_mm
        self.crop_mm = crop_mm
        self.input_size = input_size
        self.window = window
        self.normalize = normalize
        self.device = device
        self.random_state = random_state
        if mode not in ("2.5d", "3d"):
            raise ValueError(f"The 'mode' parameter of DeepFeatureExtractor must be one of "
                             f"{{'2.5d', '3d'}}. Got {mode!r} instead.")
        if mode == "3d" and encoder not in VIDEO_ENCODERS:
            raise ValueError(f"The 'encoder' parameter of DeepFeatureExtractor in mode '3d' must be "
                             f"one of {set(VIDEO_ENCODERS)}. Got {encoder!r} instead.")
        if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
            raise ValueError(f"The 'random_state' parameter of DeepFeatureExtractor must be an int "
                             f"(the seed of the random initialisation). Got {random_state!r} instead.")
        if not (isinstance(n_slices, int) and n_slices >= 1):
            raise ValueError(f"The 'n_slices' parameter of DeepFeatureExtractor must be an int >= 1. "
                             f"Got {n_slices!r} instead.")

    # ------------------------------------------------------------------ model
    def _build(self):
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            if self.mode == "3d":
                from torchvision.models import video

                model = getattr(video, self.encoder)(weights=None)
                model.fc = torch.nn.Identity()
                num, mean, std = 512, None, None
            else:
                import timm

                model = timm.create_model(self.encoder, pretrained=False, num_classes=0)
                num = model.num_features
                cfg = getattr(model, "pretrained_cfg", {}) or {}
                mean, std = cfg.get("mean"), cfg.get("std")
        if self.weights is not None:
            sd = load_state_dict(self.weights)
            missing, unexpected = model.load_state_dict(sd, strict=False)
            # a classifier head in the file is fine (num_classes=0 removed it); anything else is not
            unexpected = [k for k in unexpected if not k.split(".")[0] in ("fc", "head", "classifier")]
            if missing or unexpected:
                raise ImageReadError(
                    f"Weights file {os.fspath(self.weights)!r} does not fit encoder {self.encoder!r}: "
                    f"missing keys {missing[:5]}, unexpected keys {unexpected[:5]}."
                )
        model.eval().to(self.device)
        self.model_ = model
        self.num_features_ = int(num)
        self._mean, self._std = mean, std
        return model

    @property
    def model(self):
        return self.model_ if hasattr(self, "model_") else self._build()

    # ------------------------------------------------------------------ sampling
    def crop(self, image: sitk.Image, mask: sitk.Image, label: int = 1, *, case_id=None) -> np.ndarray:
        """Resampled lesion-centred block as a (planes, rows, columns) float32 array.

        2.5D: ``n_slices + 2`` planes ``slice_gap_mm`` apart; 3D: a cube.
        Linear interpolation; outside the image the window minimum (or the image minimum).
        """
        from .geometry import check_image_mask_geometry
        from .io import as_label_image, check_label

        label = check_label(label, case_id=case_id)  # int(1.5) would silently pick label 1
        mask = as_label_image(mask, case_id=case_id)
        check_image_mask_geometry(image, mask, case_id=case_id)
        stats = sitk.LabelShapeStatisticsImageFilter()
        stats.Execute(sitk.Cast(mask == label, sitk.sitkUInt8))
        if 1 not in stats.GetLabels():
            raise EmptyRegionError(f"Label {label} is absent from the mask{_where(None, case_id)}.")
        centre = np.asarray(stats.GetCentroid(1))
        size = self.input_size or (224 if self.mode == "2.5d" else 64)
        px = self.crop_mm / size
        if self.mode == "2.5d":
            gap = float(self.slice_gap_mm or image.GetSpacing()[2])
            shape = (size, size, self.n_slices + 2)
            spacing = (px, px, gap)
        else:
            shape = (size, size, size)
            spacing = (px, px, px)
        direction = np.asarray(image.GetDirection()).reshape(3, 3)
        half = (np.asarray(shape) - 1) / 2.0 * np.asarray(spacing)
        origin = centre - direction @ half
        arr = sitk.GetArrayViewFromImage(image)
        fill = float(self.window[0]) if self.window is not None else float(arr.min())
        out = sitk.Resample(sitk.Cast(image, sitk.sitkFloat32), [int(s) for s in shape],
                            sitk.Transform(), sitk.sitkLinear, tuple(origin), spacing,
                            tuple(direction.ravel()), fill, sitk.sitkFloat32)
        return sitk.GetArrayFromImage(out)

    def _scale(self, block: np.ndarray) -> np.ndarray:
        if self.window is not None:
            lo, hi = float(self.window[0]), float(self.window[1])
        else:
            lo, hi = np.percentile(block, [0.5, 99.5])
        if hi <= lo:
            hi = lo + 1.0
        return (np.clip(block, lo, hi) - lo) / (hi - lo)

    # ------------------------------------------------------------------ features
    def extract(self, image, mask, *, label: int = 1, case_id=None) -> np.ndarray:
        """Feature vector (``num_features_``,) of one lesion; see the module docstring."""
        import torch

        from .io import as_label_image, read_image, read_mask

        if not isinstance(image, sitk.Image):
            image = read_image(image, case_id=case_id)
        mask = read_mask(mask, case_id=case_id) if not isinstance(mask, sitk.Image) \
            else as_label_image(mask, case_id=case_id)
        model = self.model
        block = self._scale(self.crop(image, mask, label, case_id=case_id)).astype(np.float32)
        if self.mode == "2.5d":
            x = np.stack([block[k - 1:k + 2] for k in range(1, self.n_slices + 1)])  # (n, 3, H, W)
            if self.normalize and self._mean is not None and len(self._mean) == 3:
                mean = np.asarray(self._mean, np.float32)[None, :, None, None]
                std = np.asarray(self._std, np.float32)[None, :, None, None]
                x = (x - mean) / std
        else:
            x = np.repeat(block[None, None], 3, axis=1)  # (1, 3, D, H, W)
        with torch.no_grad():
            feats = model(torch.from_numpy(np.ascontiguousarray(x)).to(self.device))
        return feats.float().mean(dim=0).cpu().numpy().astype(np.float64)

    def extract_case(self, case_id, image, mask, *, label: int = 1,
                     prefix: str = "lesion_deep") -> dict[str, float]:
        """``{"<prefix>_<encoder>_<i>": value}`` for one case (columns like ``extract_case``)."""
        vec = self.extract(image, mask, label=label, case_id=case_id)
        return {f"{prefix}_{self.encoder}_{i:04d}": float(v) for i, v in enumerate(vec)}

    def __repr__(self):
        return (f"DeepFeatureExtractor(encoder={self.encoder!r}, weights={self.weights!r}, "
                f"mode={self.mode!r}, n_slices={self.n_slices})")
