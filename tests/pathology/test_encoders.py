"""Encoder registry: shapes per configuration, local weights only, explicit random init."""

import numpy as np
import pytest
import torch

from pathology import EncoderError, WeightsError, create_encoder, encoder_config, list_encoders
from pathology.encoders import build_model, hf_vit_to_timm


@pytest.mark.parametrize("name", ["resnet50_trunc", "uni_vit_large_patch16", "vit_base_patch16"])
def test_registered_configs_match_their_models(name):
    cfg = encoder_config(name)
    model = build_model(cfg, meta=True)  # no memory, no weights: shapes only
    out = model(torch.empty(2, 3, cfg.input_size, cfg.input_size, device="meta"))
    assert tuple(out.shape) == (2, cfg.feature_dim)
    assert cfg.mpp == 0.5 and len(cfg.mean) == len(cfg.std) == 3


def test_every_registered_encoder_builds_with_its_dimension(tiny_encoders):
    for name in list_encoders():
        cfg = encoder_config(name)
        model = build_model(cfg, meta=True)
        assert int(model.num_features) == cfg.feature_dim


def test_any_timm_name_is_accepted_with_its_own_config():
    cfg = encoder_config("resnet18")
    assert cfg.feature_dim == 512 and cfg.mpp is None and cfg.input_size == 224
    with pytest.raises(EncoderError, match="registered encoder"):
        encoder_config("no_such_model_xyz")


def test_random_init_is_refused_unless_asked(tiny_encoders):
    with pytest.raises(EncoderError, match="random_init=True"):
        create_encoder("test_resnet18_trunc")
    with pytest.raises(EncoderError, match="not both"):
        create_encoder("test_resnet18_trunc", weights="w.pt", random_init=True)
    enc = create_encoder("test_resnet18_trunc", random_init=True, device="cpu", seed=3)
    assert enc.weights_sha256 == "random-init:3"
    tiles = np.random.default_rng(0).integers(0, 255, (3, 48, 48, 3), dtype=np.uint8)
    a = enc(tiles).numpy()
    b = create_encoder("test_resnet18_trunc", random_init=True, device="cpu", seed=3)(tiles).numpy()
    assert a.shape == (3, 256) and np.array_equal(a, b)


def test_torchvision_checkpoint_loads_into_truncated_resnet(tiny_encoders, tmp_path):
    import torchvision

    tv = torchvision.models.resnet18()
    path = tmp_path / "resnet18_tv.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in tv.state_dict().items()}}, path)
    enc = create_encoder("test_resnet18_trunc", weights=path, device="cpu")
    assert enc.weights_sha256 == __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    # CLAM's definition: layer3 output, average pooled
    x = torch.randint(0, 255, (2, 3, 64, 64), dtype=torch.uint8)
    xn = (x.float() / 255 - torch.tensor(enc.config.mean).view(1, 3, 1, 1)) / torch.tensor(enc.config.std).view(1, 3, 1, 1)
    tv.eval()
    with torch.no_grad():
        h = tv.layer3(tv.layer2(tv.layer1(tv.maxpool(tv.relu(tv.bn1(tv.conv1(xn)))))))
        ref = h.mean(dim=(2, 3))
    assert torch.allclose(enc(x), ref, atol=1e-4)
    with pytest.raises(WeightsError, match="SHA-256"):
        create_encoder("test_resnet18_trunc", weights=path, sha256="0" * 64, device="cpu")


def test_mismatched_checkpoint_names_missing_and_unexpected_keys(tiny_encoders, tmp_path):
    import torchvision

    sd = torchvision.models.resnet18().state_dict()
    sd.pop("layer2.0.conv1.weight")
    sd["adapter.weight"] = torch.zeros(3)
    sd["fc.weight"] = torch.zeros(10, 512)  # a classifier head is fine
    path = tmp_path / "bad.pt"
    torch.save(sd, path)
    with pytest.raises(WeightsError) as err:
        create_encoder("test_resnet18_trunc", weights=path, device="cpu")
    msg = str(err.value)
    assert "missing key(s) ['layer2.0.conv1.weight']" in msg and "unexpected key(s) ['adapter.weight']" in msg
    assert "fc.weight" not in msg


def test_checkpoint_that_needs_pickle_is_refused(tiny_encoders, tmp_path):
    path = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), path)  # a whole module: would run pickle code to load
    with pytest.raises(WeightsError, match="tensor-only"):
        create_encoder("test_resnet18_trunc", weights=path, device="cpu")
    with pytest.raises(WeightsError, match="never downloads"):
        create_encoder("test_resnet18_trunc", weights=tmp_path / "absent.pt", device="cpu")


def _timm_vit_to_hf(sd):
    """Inverse of hf_vit_to_timm: what a Hugging Face ViTModel checkpoint (Phikon) looks like."""
    out = {"embeddings.cls_token": sd["cls_token"], "embeddings.position_embeddings": sd["pos_embed"],
           "embeddings.patch_embeddings.projection.weight": sd["patch_embed.proj.weight"],
           "embeddings.patch_embeddings.projection.bias": sd["patch_embed.proj.bias"],
           "layernorm.weight": sd["norm.weight"], "layernorm.bias": sd["norm.bias"],
           "pooler.dense.weight": torch.zeros(2, 2)}
    names = {"attn.proj": "attention.output.dense", "mlp.fc1": "intermediate.dense",
             "mlp.fc2": "output.dense", "norm1": "layernorm_before", "norm2": "layernorm_after"}
    for k, v in sd.items():
        if not k.startswith("blocks."):
            continue
        _, i, rest = k.split(".", 2)
        if rest.startswith("attn.qkv."):
            kind = rest.rsplit(".", 1)[1]
            for part, chunk in zip(("query", "key", "value"), v.chunk(3)):
                out[f"encoder.layer.{i}.attention.attention.{part}.{kind}"] = chunk
            continue
        for src, dst in names.items():
            if rest.startswith(src + "."):
                out[f"encoder.layer.{i}.{dst}.{rest[len(src) + 1:]}"] = v
    return out


def test_hugging_face_vit_checkpoint_phikon_style_loads(tiny_encoders, tmp_path):
    src = create_encoder("test_vit", random_init=True, device="cpu", seed=7)
    hf = _timm_vit_to_hf(src.model.state_dict())
    assert set(hf_vit_to_timm(hf)) - {"pooler.dense.weight"} == set(src.model.state_dict())
    path = tmp_path / "phikon_like.bin"
    torch.save(hf, path)
    enc = create_encoder("test_vit", weights=path, device="cpu")
    tiles = np.random.default_rng(2).integers(0, 255, (2, 32, 32, 3), dtype=np.uint8)
    assert torch.allclose(enc(tiles), src(tiles), atol=1e-6)
    # a CONCH-style trunk under a prefix
    path2 = tmp_path / "trunk.pt"
    torch.save({f"visual.trunk.{k}": v for k, v in src.model.state_dict().items()}, path2)
    assert torch.allclose(create_encoder("test_vit", weights=path2, device="cpu")(tiles), src(tiles), atol=1e-6)
