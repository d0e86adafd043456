"""TPSMM (Zhao & Zhang, CVPR 2022): its YAMLs, its released key lists, its boxes on a tiny config, the TPS fit,
the loader's refusals and its sizes (`peers.md` §3). Bit-for-bit parity with the authors' code is checked outside
the repo (it needs their code); these are the contracts that hold without it."""

import pytest
import torch
import yaml

from motrans.analysis.capacity import capacity
from motrans.checkpoints import Checkpoint, check_fits, read_checkpoint, tpsmm
from motrans.config import config_from_data, config_to_dict, load_config, replace
from motrans.errors import CheckpointError, ConfigError
from motrans.models import Motion, avd_transfer, build_model
from motrans.models import tps as tps_fit
from motrans.models.backbones.resnet import ResNet18
from motrans.models.dense_motion_tps import dropout_softmax
from motrans.models.geometry import coordinate_grid

from .checkpoints.test_baselines import fomm_checkpoint
from .conftest import REFERENCE, TINY, check_loads_and_converts, read_key_list

CONFIGS = REFERENCE / "tpsmm_configs"
KEYS = REFERENCE / "keys"
# config -> the key lists of its released checkpoint: ted-384 and mgif-256 have vox-256's names and sizes, mgif
# no bg_predictor (`peers.md` Addenda)
RELEASED = {"vox-256": "vox-256", "taichi-256": "taichi-256", "ted-384": "vox-256", "mgif-256": "vox-256"}
ENTRIES = ("kp_detector", "dense_motion_network", "inpainting_network", "bg_predictor", "avd_network")


def released_checkpoint(name: str, fill=torch.empty) -> dict:
    """An authors'-layout checkpoint with the released names and shapes (as saved after the AVD stage)."""
    out = {}
    for entry in ENTRIES:
        if name == "mgif-256" and entry == "bg_predictor":
            continue
        keys = read_key_list(KEYS / f"tpsmm_{RELEASED[name]}_{entry}.txt")
        out[entry] = {k: torch.tensor(7) if k.endswith("num_batches_tracked") else fill(s) for k, s in keys.items()}
    return {**out, "optimizer_avd": {}, "epoch": 99}


def tiny_config(background: str = "none", avd: bool = False):
    """The tiny test config as a TPSMM: K = 4 transforms (20 points), three generator levels."""
    config = load_config(TINY)
    model = config.model
    model = replace(model, estimator=replace(model.estimator, method="tpsmm"), estimate_jacobian=False,
                    generator=replace(model.generator, num_down_blocks=3),
                    background=replace(model.background, kind=background),
                    avd=replace(model.avd, enabled=avd, id_bottleneck=8, pose_bottleneck=8))
    return replace(config, model=model)


def perturbed(model):
    with torch.no_grad():  # the identity-initialised BG head has zero weights
        for param in model.parameters():
            param.add_(0.02 * torch.randn_like(param))
    return model.eval()


# ---------------------------------------------------------------------------------------------------- configs
@pytest.mark.parametrize("name, side, background, batch, repeats", [
    ("vox-256", 256, "affine", 28, 75), ("taichi-256", 256, "affine", 28, 150), ("mgif-256", 256, "none", 28, 50),
    ("ted-384", 384, "affine", 12, 150),
])
def test_released_configs_load(name, side, background, batch, repeats):
    config = load_config(CONFIGS / f"{name}.yaml")
    model = config.model
    assert model.estimator.method == "tpsmm" and model.num_kp == 10 and not model.estimate_jacobian
    assert model.frame_size == (side, side) and model.background.kind == background
    assert (model.dense_motion.block_expansion, model.dense_motion.max_features, model.dense_motion.num_blocks,
            model.dense_motion.scale, model.dense_motion.kp_variance) == (64, 1024, 5, 0.25, 0.01)
    assert (model.generator.block_expansion, model.generator.max_features, model.generator.num_down_blocks) == \
        (64, 512, 3)
    assert model.avd.enabled and (model.avd.id_bottleneck, model.avd.pose_bottleneck) == (128, 128)
    train = config.train
    assert (train.batch_size, train.repeats, train.epochs, train.milestones) == (batch, repeats, 100, (70, 90))
    assert train.lr_generator == train.lr_estimator == train.lr_background == 2e-4
    assert train.loss.equivariance_value == 10 and train.loss.equivariance_jacobian == 0
    assert config.animate.relative and config.animate.adapt_scale  # the demo's default mode
    assert config.train.avd.lr == 1e-3 and config.train.avd.random_scale == 0.25


def test_unknown_and_unsupported_keys_name_key_and_file(tmp_path):
    data = yaml.safe_load((CONFIGS / "vox-256.yaml").read_text())
    data["model_params"]["dense_motion_params"]["num_block"] = 5
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"typo.yaml: unknown key 'model_params.dense_motion_params.num_block' "
                                          r"in an authors' \(TPSMM\) config"):
        load_config(path)
    data = yaml.safe_load((CONFIGS / "vox-256.yaml").read_text())
    data["model_params"]["common_params"]["multi_mask"] = False
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"typo.yaml: model_params.common_params.multi_mask: False is not supported"):
        load_config(path)


def test_inconsistent_model_is_refused():
    model = tiny_config().model
    with pytest.raises(ConfigError, match="num_down_blocks 2 must be 3 for tpsmm"):
        build_model(replace(model, generator=replace(model.generator, num_down_blocks=2)))
    with pytest.raises(ConfigError, match="scale 0.3 must be 1, 1/2"):
        build_model(replace(model, dense_motion=replace(model.dense_motion, scale=0.3)))


# ---------------------------------------------------------------------------------------------------- key maps
@pytest.mark.parametrize("name", RELEASED)
def test_released_keys_are_mapped_and_load_strictly(name):
    config = load_config(CONFIGS / f"{name}.yaml")
    with torch.device("meta"):
        state = tpsmm.convert(released_checkpoint(name))
        model = build_model(config.model)
    assert set(model.state_dict()) == set(state)
    check_fits(model, Checkpoint(config, state, "tpsmm", REFERENCE))
    model.load_state_dict(state, strict=True, assign=True)
    shapes = config_from_data(tpsmm.config_from(state), "shapes").model
    assert shapes == replace(config.model, frame_size=(256, 256))  # ted-384's size is in no weight


def test_unexpected_keys_and_entries_are_errors():
    checkpoint = released_checkpoint("vox-256", fill=lambda shape: torch.zeros(()))
    checkpoint["dense_motion_network"]["kp_head.weight"] = torch.zeros(1)
    with pytest.raises(CheckpointError, match=r"unexpected key 'dense_motion_network.kp_head.weight': "
                                              r"not a TPSMM checkpoint\?"):
        tpsmm.convert(checkpoint)
    checkpoint = released_checkpoint("vox-256", fill=lambda shape: torch.zeros(()))
    checkpoint["scheduler"] = {}
    with pytest.raises(CheckpointError, match="unexpected top-level entry 'scheduler'"):
        tpsmm.convert(checkpoint)


# ours -> the authors' (entry, prefix): the inverse of the key map, to write tiny authors' files
BACK = [("estimator.encoder.", "kp_detector", "fg_encoder."),
        ("dense_motion.downsample.", "dense_motion_network", "down."),
        ("dense_motion.mask.", "dense_motion_network", "maps."),
        ("dense_motion.up_blocks.", "dense_motion_network", "up."), ("dense_motion.", "dense_motion_network", ""),
        ("generator.res_blocks.", "inpainting_network", "resblock."), ("generator.", "inpainting_network", ""),
        ("background.encoder.", "bg_predictor", "bg_encoder."), ("avd.", "avd_network", "")]


def authors_file(path, model, extra=None):
    out = dict(extra or {"epoch": 3, "optimizer": {}})
    for key, value in model.state_dict().items():
        ours, entry, theirs = next(rule for rule in BACK if key.startswith(rule[0]))
        out.setdefault(entry, {})[theirs + key[len(ours):]] = value
    torch.save(out, path)
    return path


def test_a_tiny_authors_file_loads_from_its_shapes_and_converts(tmp_path):
    config = tiny_config(avd=True)
    model = perturbed(build_model(config.model))
    path = authors_file(tmp_path / "tiny.pth.tar", model)
    loaded = check_loads_and_converts(path, model, tmp_path)  # no YAML: the shapes say all but the frame size
    assert loaded.config.estimator.method == "tpsmm" and loaded.config.num_kp == 4 and loaded.avd is not None


def test_the_loaded_model_has_the_boxes_the_file_holds(tmp_path):
    yaml_path = tmp_path / "tiny-tpsmm.yaml"
    yaml_path.write_text(yaml.safe_dump(config_to_dict(tiny_config("affine", avd=True))))
    # saved before `bg_start` and before the AVD stage: the authors' demo then skips both, and so do we
    path = authors_file(tmp_path / "tiny.pth.tar", build_model(tiny_config().model))
    model = read_checkpoint(path, yaml_path).config.model
    assert model.avd.enabled is False and model.background.kind == "none"


def test_wrong_method_checkpoints_are_refused_both_ways(tmp_path):
    path = tmp_path / "vox.pth.tar"
    torch.save(released_checkpoint("vox-256", fill=lambda shape: torch.zeros(())), path)
    with pytest.raises(CheckpointError, match=r"looks like a TPSMM checkpoint \(estimator 'tpsmm'\).*method is 'fomm'"):
        read_checkpoint(path, REFERENCE / "fomm_configs" / "vox-256.yaml")
    fomm_path = tmp_path / "vox-cpk.pth.tar"
    torch.save(fomm_checkpoint("vox-256", fill=lambda shape: torch.zeros(())), fomm_path)
    with pytest.raises(CheckpointError, match=r"looks like a FOMM checkpoint.*method is 'tpsmm'"):
        read_checkpoint(fomm_path, CONFIGS / "vox-256.yaml")


# ---------------------------------------------------------------------------------------------------- boxes
def test_forward_shapes_and_ranges():
    model = perturbed(build_model(tiny_config("affine", avd=True).model))
    source, driving = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        motion = model.estimator(source)
        out = model(source, driving)
        transform = model.background(source, driving)
        animated = avd_transfer(model.avd, motion, model.estimator(driving))
    assert motion.kp.shape == (2, 20, 2) and motion.jacobian is None and motion.kp.abs().max() < 1
    flow = out.flow
    assert [tuple(o.shape) for o in flow.occlusions] == [(2, 1, 8, 8), (2, 1, 16, 16), (2, 1, 32, 32), (2, 1, 64, 64)]
    assert flow.occlusion is flow.occlusions[-1] and flow.sparse_deformed.shape == (2, 5, 3, 16, 16)
    assert torch.allclose(flow.mask.sum(1), torch.ones(2, 16, 16), atol=1e-5)
    assert 0 <= out.prediction.min() and out.prediction.max() <= 1 and out.prediction.shape == (2, 3, 64, 64)
    assert transform.shape == (2, 3, 3) and torch.equal(transform[:, 2], torch.tensor([[0.0, 0, 1]] * 2))
    assert animated.kp.shape == (2, 20, 2) and animated.jacobian is None


def test_background_predictor_starts_at_the_identity():
    model = build_model(tiny_config("affine").model)
    transform = model.background(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64))
    assert torch.equal(transform, torch.eye(3).expand(2, 3, 3))
    assert model.background.encoder.conv1.weight.shape == (64, 6, 7, 7)


def test_gradients_reach_every_parameter_and_warp_loss_trains_only_the_flow():
    model = build_model(tiny_config("affine", avd=True).model).train()
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.01 * torch.randn_like(param))
    model.dense_motion.dropout = 0.2
    source, driving = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    out = model(source, driving)
    avd = model.avd(model.estimator(source), model.estimator(driving)).kp.sum()
    (out.prediction.mean() + avd).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all() and param.grad.abs().sum() > 0, name
    model.zero_grad()
    with torch.no_grad():
        motion_source, motion_driving = model.estimator(source), model.estimator(driving)
    flow = model.dense_motion(model.dense_motion.shrink(source), motion_source, motion_driving)
    features = model.generator.encode(source)
    predicted = model.generator.warped_features(features, flow)
    targets = model.generator.masked_features(driving, flow)
    assert [p.shape for p in predicted] == [t.shape for t in targets] == [f.shape for f in features]
    sum((p - t).abs().mean() for p, t in zip(predicted, targets)).backward()
    assert all(p.grad is None for p in model.generator.parameters())  # encoder detached
    assert any(p.grad is not None for p in model.dense_motion.mask.parameters())  # the deformation learns


def test_identical_keypoints_still_warp_a_little():
    """The authors' ridge covers the affine block too: equal point sets do not give the identity (Addenda)."""
    model = build_model(tiny_config().model).eval()
    motion = Motion(torch.rand(1, 20, 2) * 1.6 - 0.8)
    grid = coordinate_grid(16, 16)
    warps = model.dense_motion.tps_motions(grid, motion, motion)  # (1, K, 16, 16, 2)
    assert (warps - grid).abs().max() > 1e-3


def test_tps_fit_maps_driving_points_to_source_points():
    driving = torch.tensor([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [0.0, 0.1]]).view(1, 1, 5, 2)
    source = driving + 0.1 * torch.randn(1, 1, 5, 2)
    affine, weights = tps_fit.fit(driving, source)
    mapped = tps_fit.transform(driving.view(5, 2), driving, affine, weights)
    assert (mapped - source).abs().max() < 0.01  # close, not exact: the ridge
    exact = tps_fit.transform(driving.view(5, 2), driving, *tps_fit.fit(driving, source, ridge=0.0))
    assert torch.allclose(exact, source, atol=1e-4)
    grid = coordinate_grid(64, 64).view(-1, 2)
    same = tps_fit.transform(grid, driving, *tps_fit.fit(driving, driving))
    assert (same[0, 0] - grid).abs().max() > 0.01  # the ridge quirk: ≈0.7 px at 64², not the identity
    identity = tps_fit.transform(grid, driving, *tps_fit.fit(driving, driving, ridge=0.0))
    assert torch.allclose(identity[0, 0], grid, atol=1e-5)  # the textbook fit is


def test_tps_inverse_agrees_with_solve():
    driving, source = torch.rand(2, 3, 5, 2) * 2 - 1, torch.rand(2, 3, 5, 2) * 2 - 1
    affine, weights = tps_fit.fit(driving, source)
    b, k, n, _ = driving.shape
    squared = ((driving.unsqueeze(3) - driving.unsqueeze(2)) ** 2).sum(-1)
    p = torch.cat([driving, torch.ones(b, k, n, 1)], 3)
    system = torch.cat([torch.cat([tps_fit.radial_basis(squared), p], 3),
                        torch.cat([p.transpose(2, 3), torch.zeros(b, k, 3, 3)], 3)], 2) + 0.01 * torch.eye(n + 3)
    solution = torch.linalg.solve(system, torch.cat([source, torch.zeros(b, k, 3, 2)], 2))
    assert torch.allclose(weights, solution[:, :, :n], atol=1e-3, rtol=1e-4)
    assert torch.allclose(affine, solution[:, :, n:].transpose(2, 3), atol=1e-4)


def test_tps_dropout():
    logits = torch.randn(3, 5, 4, 4)
    assert torch.allclose(dropout_softmax(logits, 0.0), torch.softmax(logits, 1), atol=1e-5)
    only_background = dropout_softmax(logits, 1.0)  # its weight is e/(e + 1e-6), e its exp: below 1, as theirs
    assert only_background[:, 1:].sum() == 0 and (only_background[:, 0] > 0.5).all()
    model = build_model(tiny_config().model)
    model.dense_motion.dropout = 1.0
    source, motion = torch.rand(1, 3, 64, 64), Motion(torch.rand(1, 20, 2) - 0.5)
    small = model.dense_motion.shrink(source)
    with torch.no_grad():
        dropped = model.dense_motion.train()(small, motion, motion).mask
        kept = model.dense_motion.eval()(small, motion, motion).mask  # eval never drops
    assert dropped[:, 1:].sum() == 0 and kept[:, 1:].sum() > 0


def test_resnet18_has_torchvisions_names_size_and_init():
    resnet = ResNet18()
    assert sum(p.numel() for p in resnet.parameters()) == 11_689_512  # torchvision's resnet18
    names = {k.split(".", 1)[1] for k in read_key_list(KEYS / "tpsmm_vox-256_kp_detector.txt")}
    assert set(ResNet18(3, 100).state_dict()) == names
    conv = resnet.layer3[0].conv1.weight
    assert abs(conv.std().item() - (2 / (conv.shape[0] * 9)) ** 0.5) < 0.003  # He normal, fan out
    assert torch.equal(resnet.layer2[1].bn2.weight, torch.ones(128))


def test_capacity_matches_the_authors_modules():
    """`peers.md` §3.5, measured on the authors' modules: parameters, and conv-only GMACs at 256²."""
    rows = {r.component: r for r in capacity(load_config(CONFIGS / "vox-256.yaml").model)}
    expected = {"MotionEstimator": (11_227_812, 2.37), "DenseMotion": (37_941_397, 7.80),
                "Generator": (24_737_283, 126.86), "BackgroundPredictor": (11_188_998, 2.52),
                "AVDNetwork": (2_583_652, 0.0)}
    assert {name: (rows[name].trainable, round(rows[name].macs / 1e9, 2)) for name in expected} == expected
    assert rows["ImageGenerator"].trainable == 37_941_397 + 24_737_283
