"""Tile encoders: a registry of timm models with their configurations and local weights.

:func:`create_encoder` builds a :class:`TileEncoder` from a registered name
(or any timm model name) and a **local** weights file: nomofuse never
downloads. The file's SHA-256 is computed (and checked against ``sha256=``
when given) and stored with every feature file, so features from different
weights are never mixed. A model without weights is refused unless
``random_init=True`` says so explicitly (tests, pipeline dry runs: such
features are meaningless as biomarkers).

Registered encoders (:func:`list_encoders`):

==========================  =====  ======  ====  ==============================================
name                        dim    input   µm/px checkpoint it accepts
==========================  =====  ======  ====  ==============================================
``resnet50_trunc``          1024   224     0.5   CLAM's encoder: an ImageNet ResNet-50 cut after
                                                 ``layer3``, average-pooled (a torchvision or
                                                 timm ``resnet50`` state dict; ``layer4``/``fc``
                                                 are not used)
``uni_vit_large_patch16``   1024   224     0.5   UNI-style ViT-L/16 (``init_values=1e-5``), timm
                                                 layout (UNI's ``pytorch_model.bin``)
``vit_base_patch16``        768    224     0.5   ViT-B/16: timm layout, Hugging Face ViT layout
                                                 (Phikon's ``pytorch_model.bin``), or a timm trunk
                                                 under a prefix (``visual.trunk.`` in CONCH)
==========================  =====  ======  ====  ==============================================

A registered configuration fixes what the encoder expects: ``mean``/``std``
(applied inside :meth:`TileEncoder.forward` on uint8 tiles), ``input_size``
(tiles of another size are resized), ``feature_dim`` and ``mpp`` (the
resolution it was trained at, the default target of the tile grid).
:func:`register_encoder` adds more, e.g. CONCH's trunk at 448 px with CLIP's
mean and std::

    register_encoder(EncoderConfig(
        name="conch_trunk", timm_name="vit_base_patch16_224", feature_dim=768,
        input_size=448, mean=CLIP_MEAN, std=CLIP_STD, timm_kwargs={"img_size": 448}))

(CONCH's 512-d contrastive embedding also needs its attention pooler and
projection, which are not part of the trunk.)

Checkpoint keys are matched after removing a wrapper prefix (``module.``,
``model.``, ``backbone.``, ``visual.trunk.``, ...) and converting the Hugging
Face ViT layout; keys of a classifier head are ignored. Anything else that
does not fit raises :class:`~pathology.exceptions.WeightsError` naming the
missing and unexpected keys (or the mismatched shapes).

References
----------
Lu MY et al. (CLAM). Nat Biomed Eng 2021;5:555-570.
Chen RJ et al. Towards a general-purpose foundation model for computational
pathology (UNI). Nat Med 2024;30:850-862.
Filiot A et al. Scaling self-supervised learning for histopathology with
masked image modeling (Phikon). medRxiv 2023.
Lu MY et al. A visual-language foundation model for computational pathology
(CONCH). Nat Med 2024;30:863-874.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .exceptions import EncoderError, WeightsError

__all__ = ["EncoderConfig", "TileEncoder", "register_encoder", "create_encoder", "encoder_config",
           "list_encoders", "load_checkpoint", "weights_sha256", "IMAGENET_MEAN", "IMAGENET_STD",
           "CLIP_MEAN", "CLIP_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class EncoderConfig:
    """What a tile encoder is and expects.

    Parameters
    ----------
    name : str
        Registry name.
    timm_name : str
        ``timm.create_model`` name of the architecture.
    feature_dim : int
        Length of a tile's feature vector.
    input_size : int, default 224
        Pixels per side the model sees.
    mean, std : tuple of 3 floats
        Per-channel normalisation of RGB in [0, 1].
    mpp : float or None, default 0.5
        Microns per pixel the encoder was trained at (None: unknown).
    timm_kwargs : mapping
        Extra ``timm.create_model`` arguments.
    truncate : {"layer3", None}
        ``"layer3"``: a ResNet cut after its third stage (CLAM's ``resnet50_trunc``).
    key_prefixes : tuple of str
        Wrapper prefixes removed from checkpoint keys when that makes them fit.
    ignore_keys : tuple of str
        Key prefixes of a checkpoint that the encoder does not use (classifier heads).
    description : str
    """

    name: str
    timm_name: str
    feature_dim: int
    input_size: int = 224
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    mpp: float | None = 0.5
    timm_kwargs: Mapping = field(default_factory=dict)
    truncate: str | None = None
    key_prefixes: tuple = ("module.", "model.", "backbone.", "encoder.", "visual.trunk.", "trunk.",
                           "vit.", "teacher.")
    ignore_keys: tuple = ("fc.", "head.", "classifier.", "pooler.", "head_drop.")
    description: str = ""

    def __hash__(self):
        return hash((self.name, self.timm_name, self.feature_dim))


_REGISTRY: dict[str, EncoderConfig] = {}


def register_encoder(config: EncoderConfig, *, overwrite: bool = False) -> EncoderConfig:
    """Add ``config`` to the registry under ``config.name``; returns it.

    Raises ``ValueError`` when the name is taken (pass ``overwrite=True`` to replace it).
    """
    if not isinstance(config, EncoderConfig):
        raise TypeError(f"register_encoder expects an EncoderConfig; got {type(config).__name__}.")
    if config.truncate not in (None, "layer3"):
        raise ValueError(f"The 'truncate' field of EncoderConfig must be one of {{'layer3', None}}. "
                         f"Got {config.truncate!r} instead.")
    if config.name in _REGISTRY and not overwrite:
        raise ValueError(f"An encoder named {config.name!r} is already registered; pick another "
                         "name or pass overwrite=True.")
    _REGISTRY[config.name] = config
    return config


def list_encoders() -> list[str]:
    """Names of the registered encoders (any timm model name is also accepted by create_encoder)."""
    return sorted(_REGISTRY)


register_encoder(EncoderConfig(
    name="resnet50_trunc", timm_name="resnet50", feature_dim=1024, truncate="layer3",
    description="CLAM's ResNet-50 truncated after layer3 (ImageNet weights), 1024-d"))
register_encoder(EncoderConfig(
    name="uni_vit_large_patch16", timm_name="vit_large_patch16_224", feature_dim=1024,
    timm_kwargs={"init_values": 1e-5, "dynamic_img_size": True},
    description="UNI-style ViT-L/16 (timm layout), 1024-d class token"))
register_encoder(EncoderConfig(
    name="vit_base_patch16", timm_name="vit_base_patch16_224", feature_dim=768,
    description="ViT-B/16 (timm, Hugging Face ViT e.g. Phikon, or CONCH-style trunk keys), "
                "768-d class token"))


def encoder_config(name: str) -> EncoderConfig:
    """The configuration of a registered encoder, or one derived from a timm model name.

    A timm name gets the model's own ``pretrained_cfg`` mean, std and input
    size, its ``num_features``, and ``mpp=None`` (unknown: give the tile
    grid's target resolution yourself).
    """
    if name in _REGISTRY:
        return _REGISTRY[name]
    import timm

    if not timm.is_model(name):
        close = sorted(set(list_encoders() + timm.list_models(f"*{name.split('_')[0]}*")))[:8]
        raise EncoderError(
            f"The 'name' parameter of create_encoder must be a registered encoder {list_encoders()} "
            f"or a timm model name. Got {name!r} instead" + (f" (similar: {close})." if close else ".")
        )
    model = _build_timm(name, {}, meta=True)
    cfg = getattr(model, "pretrained_cfg", {}) or {}
    size = cfg.get("input_size", (3, 224, 224))[-1]
    return EncoderConfig(name=name, timm_name=name,
                         feature_dim=int(getattr(model, "head_hidden_size", None) or model.num_features),
                         input_size=int(size), mean=tuple(cfg.get("mean", IMAGENET_MEAN)),
                         std=tuple(cfg.get("std", IMAGENET_STD)), mpp=None,
                         description=f"timm model {name!r}")


def _build_timm(timm_name, kwargs, meta=False):
    import timm
    import torch

    if meta:
        with torch.device("meta"):
            return timm.create_model(timm_name, pretrained=False, num_classes=0, **dict(kwargs))
    return timm.create_model(timm_name, pretrained=False, num_classes=0, **dict(kwargs))


def build_model(config: EncoderConfig, *, meta: bool = False):
    """The bare torch module of ``config`` with random weights (``meta=True``: no memory, for shapes)."""
    import torch

    model = _build_timm(config.timm_name, config.timm_kwargs, meta=meta)
    if config.truncate == "layer3":
        if not hasattr(model, "layer4"):
            raise EncoderError(f"Encoder {config.name!r}: truncate='layer3' needs a ResNet "
                               f"(with layer4); {config.timm_name!r} has none.")
        model.layer4 = torch.nn.Identity()
        model.num_features = int(model.layer3[-1].conv3.out_channels
                                 if hasattr(model.layer3[-1], "conv3") else model.layer3[-1].conv2.out_channels)
    width = int(getattr(model, "head_hidden_size", None) or model.num_features)
    if config.truncate == "layer3":
        width = int(model.num_features)
    if width != int(config.feature_dim):
        raise EncoderError(f"Encoder {config.name!r}: the model gives {width}-d features "
                           f"but the configuration says feature_dim={config.feature_dim}.")
    return model


# ------------------------------------------------------------------ weights
_SHA_MEMO: dict[tuple, str] = {}


def weights_sha256(path) -> str:
    """SHA-256 of a weights file (memoised per process by path, size and modification time)."""
    p = os.path.abspath(path)
    st = os.stat(p)
    key = (p, st.st_size, st.st_mtime_ns)
    if key not in _SHA_MEMO:
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
        _SHA_MEMO[key] = h.hexdigest()
    return _SHA_MEMO[key]


def load_checkpoint(path) -> dict:
    """A state dict (name -> tensor) from a local ``.safetensors``, ``.pt``, ``.pth`` or ``.bin`` file.

    PyTorch files are read with ``torch.load(weights_only=True)`` (no code
    runs); a checkpoint that wraps the state dict under ``state_dict``,
    ``model``, ``teacher`` or ``student`` is unwrapped.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Encoder weights file {str(path)!r} does not exist; give the path of a "
                           "local checkpoint (nomofuse never downloads weights).")
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError as exc:  # pragma: no cover - safetensors ships with timm
            raise WeightsError("Reading .safetensors needs the safetensors package "
                               "(pip install safetensors).") from exc
        return dict(load_file(str(path)))
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle with code, corrupt zip...
        raise WeightsError(f"Encoder weights file {str(path)!r} cannot be read as a tensor-only "
                           f"checkpoint ({type(exc).__name__}: {exc}); save the state dict alone "
                           "(torch.save(model.state_dict(), path)) or as .safetensors.") from exc
    for _ in range(3):
        if isinstance(obj, dict) and not any(isinstance(v, torch.Tensor) for v in obj.values()):
            inner = next((obj[k] for k in ("state_dict", "model", "teacher", "student", "module")
                          if isinstance(obj.get(k), dict)), None)
            if inner is None:
                break
            obj = inner
    if not isinstance(obj, dict):
        raise WeightsError(f"Encoder weights file {str(path)!r} does not hold a state dict "
                           f"(found {type(obj).__name__}).")
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}


_HF_BLOCK = re.compile(r"^encoder\.layer\.(\d+)\.(.+)$")


def hf_vit_to_timm(sd: dict) -> dict:
    """Convert a Hugging Face ``ViTModel`` state dict (e.g. Phikon) to timm's ViT layout.

    Query, key and value projections are concatenated into timm's ``qkv``.
    """
    import torch

    sd = {(k[4:] if k.startswith("vit.") else k): v for k, v in sd.items()}
    out, qkv = {}, {}
    simple = {"embeddings.cls_token": "cls_token", "embeddings.position_embeddings": "pos_embed",
              "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
              "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
              "layernorm.weight": "norm.weight", "layernorm.bias": "norm.bias"}
    inner = {"attention.output.dense": "attn.proj", "intermediate.dense": "mlp.fc1",
             "output.dense": "mlp.fc2", "layernorm_before": "norm1", "layernorm_after": "norm2"}
    for k, v in sd.items():
        if k in simple:
            out[simple[k]] = v
            continue
        m = _HF_BLOCK.match(k)
        if not m:
            out[k] = v  # left for the missing/unexpected report
            continue
        i, rest = m.group(1), m.group(2)
        a = re.match(r"attention\.attention\.(query|key|value)\.(weight|bias)$", rest)
        if a:
            qkv.setdefault((i, a.group(2)), {})[a.group(1)] = v
            continue
        for src, dst in inner.items():
            if rest.startswith(src + "."):
                out[f"blocks.{i}.{dst}.{rest[len(src) + 1:]}"] = v
                break
        else:
            out[k] = v
    for (i, kind), parts in qkv.items():
        if set(parts) == {"query", "key", "value"}:
            out[f"blocks.{i}.attn.qkv.{kind}"] = torch.cat([parts["query"], parts["key"], parts["value"]])
        else:
            for name, v in parts.items():
                out[f"encoder.layer.{i}.attention.attention.{name}.{kind}"] = v
    return out


def _adapt_keys(sd: dict, model_keys: set, config: EncoderConfig) -> dict:
    """Strip wrapper prefixes and convert layouts so the checkpoint's keys meet the model's."""
    if any(".attention.attention.query." in k for k in sd):
        sd = hf_vit_to_timm(sd)
    best, best_overlap = sd, len(model_keys & set(sd))
    for _ in range(3):  # prefixes may nest: module.model.visual.trunk.
        improved = False
        for prefix in config.key_prefixes:
            cand = {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in best.items()}
            overlap = len(model_keys & set(cand))
            if overlap > best_overlap:
                best, best_overlap, improved = cand, overlap, True
        if not improved:
            break
    ignore = tuple(config.ignore_keys) + (("layer4.",) if config.truncate == "layer3" else ())
    return {k: v for k, v in best.items() if k in model_keys or not k.startswith(ignore)}


def _load_weights(model, path, config: EncoderConfig) -> None:
    sd = load_checkpoint(path)
    own = model.state_dict()
    sd = _adapt_keys(sd, set(own), config)
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    shapes = [f"{k}: file {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s) {missing[:8]}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s) {unexpected[:8]}")
        if shapes:
            parts.append(f"{len(shapes)} shape mismatch(es) {shapes[:4]}")
        raise WeightsError(
            f"Weights file {str(path)!r} does not fit encoder {config.name!r} "
            f"({config.timm_name}): " + "; ".join(parts) + ". Check that the file is the "
            f"checkpoint of this architecture (list_encoders() shows what each name accepts), "
            "or register an EncoderConfig that matches it."
        )
    model.load_state_dict(sd, strict=True)


# ------------------------------------------------------------------ the module
class TileEncoder:
    """A tile encoder ready to use: uint8 RGB tiles in, float32 features out.

    Built by :func:`create_encoder`; wraps the timm model, normalises with
    the configuration's mean and std and resizes to its input size on the
    model's device.

    Attributes
    ----------
    config : EncoderConfig
    model : torch.nn.Module
    weights : str or None
        Path of the weights file (None for a random initialisation).
    weights_sha256 : str
        SHA-256 of the weights file, or ``"random-init:<seed>"``.
    device : torch.device
    """

    def __init__(self, model, config: EncoderConfig, weights, sha256: str, device):
        import torch

        self.config = config
        self.model = model
        self.weights = None if weights is None else str(weights)
        self.weights_sha256 = sha256
        self.device = torch.device(device)
        self._mean = torch.tensor(config.mean, dtype=torch.float32, device=self.device).view(1, 3, 1, 1) * 255
        self._std = torch.tensor(config.std, dtype=torch.float32, device=self.device).view(1, 3, 1, 1) * 255

    @property
    def feature_dim(self) -> int:
        return int(self.config.feature_dim)

    @property
    def name(self) -> str:
        return self.config.name

    def __call__(self, tiles):
        return self.forward(tiles)

    def forward(self, tiles, *, autocast: bool | None = None):
        """Features of a batch of tiles.

        Parameters
        ----------
        tiles : torch.Tensor (n, 3, h, w) uint8, or (n, h, w, 3) numpy uint8
            RGB tiles; moved to the encoder's device.
        autocast : bool, optional
            bfloat16 autocast; default on CUDA only.

        Returns
        -------
        torch.Tensor (n, feature_dim) float32, on the encoder's device.
        """
        import numpy as np
        import torch
        import torch.nn.functional as F

        if isinstance(tiles, np.ndarray):
            if tiles.ndim != 4 or tiles.shape[-1] != 3:
                raise EncoderError(f"TileEncoder expects (n, h, w, 3) uint8 tiles; got shape {tiles.shape}.")
            tiles = torch.from_numpy(np.ascontiguousarray(tiles)).permute(0, 3, 1, 2)
        cuda = self.device.type == "cuda"
        x = tiles.to(self.device, non_blocking=True).float()
        x = (x - self._mean) / self._std
        size = self.config.input_size
        if x.shape[-1] != size or x.shape[-2] != size:
            x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        if cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        use_autocast = cuda if autocast is None else autocast
        with torch.inference_mode():
            if use_autocast:
                with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16):
                    out = self.model(x)
            else:
                out = self.model(x)
        return out.float()

    def __repr__(self):
        return (f"TileEncoder({self.config.name!r}, dim={self.feature_dim}, weights={self.weights!r}, "
                f"device={str(self.device)!r})")


def create_encoder(name: str, weights=None, *, random_init: bool = False, sha256: str | None = None,
                   device=None, seed: int = 0) -> TileEncoder:
    """Build a tile encoder from the registry (or a timm name) with local weights.

    Parameters
    ----------
    name : str
        A registered encoder (:func:`list_encoders`) or any timm model name.
    weights : path, optional
        Local checkpoint (``.safetensors``, ``.pt``, ``.pth``, ``.bin``).
        Required unless ``random_init=True``.
    random_init : bool, default False
        Build with random weights (seeded by ``seed``). Only for tests and
        dry runs: the features carry no pathology.
    sha256 : str, optional
        Expected SHA-256 of the weights file (e.g. from the model card); a
        mismatch raises :class:`WeightsError`.
    device : str or torch.device, optional
        Default ``"cuda"`` when available, else ``"cpu"``.
    seed : int, default 0

    Returns
    -------
    TileEncoder

    Raises
    ------
    EncoderError
        Unknown name; no weights and no ``random_init``; both given.
    WeightsError
        Missing or unreadable file, wrong checksum, keys or shapes that do not fit.

    Examples
    --------
    >>> enc = create_encoder("resnet50_trunc", weights="resnet50_tv_in1k.pth")  # doctest: +SKIP
    >>> enc(tiles).shape                                                       # doctest: +SKIP
    torch.Size([64, 1024])
    """
    import torch

    config = encoder_config(name)
    if weights is None and not random_init:
        raise EncoderError(
            f"create_encoder({name!r}) needs weights: pass weights=PATH of a local checkpoint "
            "(nomofuse never downloads). For tests or a dry run only, pass random_init=True "
            "(--random-init): random features carry no pathology."
        )
    if weights is not None and random_init:
        raise EncoderError(f"create_encoder({name!r}): give weights or random_init=True, not both.")
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if weights is not None:
        digest = weights_sha256(weights) if Path(weights).is_file() else None
        if digest is None:
            load_checkpoint(weights)  # raises the missing-file error
        if sha256 is not None and digest != str(sha256).lower():
            raise WeightsError(f"Weights file {str(weights)!r} has SHA-256 {digest} but {sha256} was "
                               "expected; the file is corrupt or another version: download it again.")
        model = build_model(config)
        _load_weights(model, weights, config)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            model = build_model(config)
        digest = f"random-init:{int(seed)}"
    model.eval().to(device)
    if torch.device(device).type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    return TileEncoder(model, config, weights, digest, device)


def config_with(config: EncoderConfig, **changes) -> EncoderConfig:
    """A copy of ``config`` with fields changed (for :func:`register_encoder`)."""
    return replace(config, **changes)
