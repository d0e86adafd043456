"""FOMM's keypoint detector, MRAA's region predictor, flow options and AVD network: contracts on tiny configs.

The generic contracts (shapes, a gradient for every parameter, state-dict round trip) run for every name in
`list_models()` in test_animator.py; these are the baselines' own.
"""

import pytest
import torch

from motrans.config import AVDConfig, replace
from motrans.errors import ConfigError
from motrans.models import AVDNetwork, Motion, avd_transfer, build_model, list_models
from motrans.models.estimators.fomm import expected_position, spatial_softmax
from motrans.models.estimators.mraa import principal_axes
from motrans.models.geometry import coordinate_grid, covariance_heatmaps, gaussian_heatmaps, part_motions

BASELINES = ["fomm", "mraa"]  # the heatmap estimators; TPSMM's own tests are in tests/test_tpsmm.py


def _config(tiny_config, method, **estimator):
    model = tiny_config.model
    section = replace(getattr(model.estimator, method), **estimator)
    return replace(model, estimator=replace(model.estimator, method=method, **{method: section}))


def _perturbed(model):
    with torch.no_grad():  # the identity-initialised heads would make every affine the identity
        for param in model.parameters():
            param.add_(0.05 * torch.randn_like(param))
    return model.eval()


def test_the_baselines_are_registered():
    assert {"fomm", "mraa", "tpsmm"} <= set(list_models())


@pytest.mark.parametrize("method", BASELINES)
def test_estimator_motion(tiny_config, method):
    estimator = _perturbed(build_model(_config(tiny_config, method))).estimator
    motion = estimator(torch.rand(3, 3, 64, 64))
    assert motion.kp.shape == (3, 4, 2) and motion.jacobian.shape == (3, 4, 2, 2)
    assert motion.kp.abs().max() < 1 and torch.isfinite(motion.jacobian).all()
    assert (motion.covariance is not None) == (method == "mraa")


@pytest.mark.parametrize("method, pad, side", [("fomm", 0, 10), ("fomm", 3, 16), ("mraa", 3, 16), ("mraa", 0, 10)])
def test_head_padding_changes_the_heatmap_not_the_keys(tiny_config, method, pad, side):
    model = build_model(_config(tiny_config, method, pad=pad))
    heatmaps = model.estimator.heatmap(model.estimator.hourglass(torch.rand(1, 3, 16, 16)))
    assert heatmaps.shape[2:] == (side, side)
    other = build_model(_config(tiny_config, method, pad=3 - pad))
    other.load_state_dict(model.state_dict(), strict=True)


def test_fomm_jacobian_starts_at_the_identity(tiny_config):
    model = build_model(_config(tiny_config, "fomm"))
    jacobian = model.estimator(torch.rand(2, 3, 64, 64)).jacobian
    assert torch.allclose(jacobian, torch.eye(2).expand(2, 4, 2, 2), atol=1e-5)


def test_fomm_single_jacobian_map(tiny_config):
    model = _perturbed(build_model(_config(tiny_config, "fomm", single_jacobian_map=True)))
    assert model.estimator.jacobian.out_channels == 4
    assert model.estimator(torch.rand(2, 3, 64, 64)).jacobian.shape == (2, 4, 2, 2)


def test_fomm_without_jacobian(tiny_config):
    model = build_model(replace(_config(tiny_config, "fomm"), estimate_jacobian=False))
    assert model.estimator.jacobian is None and model.estimator(torch.rand(1, 3, 64, 64)).jacobian is None


def test_soft_argmax_of_a_peaked_heatmap_is_its_grid_point():
    logits = torch.full((1, 1, 5, 7), -1e4)
    logits[0, 0, 1, 5] = 0.0
    kp = expected_position(spatial_softmax(logits, 0.1))
    assert torch.allclose(kp[0, 0], coordinate_grid(5, 7)[1, 5])


def test_mraa_affine_is_the_covariance_square_root(tiny_config):
    motion = _perturbed(build_model(_config(tiny_config, "mraa"))).estimator(torch.rand(2, 3, 64, 64))
    covariance = motion.covariance
    assert torch.allclose(covariance, covariance.transpose(-1, -2))
    assert (torch.linalg.eigvalsh(covariance) > 0).all()
    rebuilt = torch.matmul(motion.jacobian, motion.jacobian.transpose(-1, -2))
    assert torch.allclose(rebuilt, covariance, atol=1e-6)


def test_principal_axes_of_an_axis_aligned_covariance():
    covariance = torch.diag(torch.tensor([0.04, 0.01])).view(1, 1, 2, 2)
    affine = principal_axes(covariance)
    assert torch.allclose(affine.abs(), torch.diag(torch.tensor([0.2, 0.1])).view(1, 1, 2, 2), atol=1e-7)


def test_isotropic_covariance_heatmaps_equal_the_fixed_variance_ones():
    kp = torch.rand(2, 3, 2) * 2 - 1
    covariance = 0.01 * torch.eye(2).expand(2, 3, 2, 2)
    assert torch.allclose(covariance_heatmaps(kp, covariance, 8, 8), gaussian_heatmaps(kp, 8, 8, 0.01), atol=1e-6)


def test_revert_axis_swap_undoes_a_flipped_principal_axis():
    grid = coordinate_grid(6, 6)
    kp = torch.rand(1, 2, 2) - 0.5
    source = Motion(kp, torch.tensor([[[0.3, 0.1], [0.05, 0.2]]]).expand(1, 2, 2, 2))
    driving = Motion(kp.flip(-1), torch.tensor([[[0.25, -0.1], [0.1, 0.2]]]).expand(1, 2, 2, 2))
    flipped = Motion(driving.kp, -driving.jacobian)  # the same ellipse, both axes of the SVD pointing back
    fixed = part_motions(grid, source, driving, revert_axis_swap=True)
    assert torch.allclose(part_motions(grid, source, flipped, revert_axis_swap=True), fixed, atol=1e-6)
    assert not torch.allclose(part_motions(grid, source, flipped), part_motions(grid, source, driving), atol=1e-3)


def test_mraa_flow_uses_the_carried_covariance(tiny_config):
    config = replace(_config(tiny_config, "mraa"),
                     dense_motion=replace(tiny_config.model.dense_motion, covariance_heatmaps=True))
    model = _perturbed(build_model(config))
    source, driving = model.estimator(torch.rand(1, 3, 64, 64)), model.estimator(torch.rand(1, 3, 64, 64))
    small = model.dense_motion.shrink(torch.rand(1, 3, 64, 64))
    carried = model.dense_motion(small, source, driving).deformation
    implied = model.dense_motion(small, Motion(source.kp, source.jacobian), Motion(driving.kp, driving.jacobian))
    assert torch.allclose(carried, implied.deformation, atol=1e-5)  # A·Aᵀ is the covariance, up to round-off
    wider = Motion(driving.kp, driving.jacobian, driving.covariance * 4)
    assert not torch.allclose(model.dense_motion(small, source, wider).deformation, carried)


def test_avd_network(tiny_config):
    avd = AVDNetwork(AVDConfig(enabled=True, id_bottleneck=8, pose_bottleneck=16), num_kp=4)
    assert [k for k in avd.state_dict() if k.startswith("id_encoder.") and k.endswith(".weight")] == \
        [f"id_encoder.{i}.weight" for i in (0, 1, 3, 4, 6, 7, 9)]
    source = Motion(torch.rand(3, 4, 2), torch.rand(3, 4, 2, 2) + torch.eye(2))
    driving = Motion(torch.rand(3, 4, 2), torch.rand(3, 4, 2, 2) + torch.eye(2))
    out = avd(source, driving)
    out.kp.sum().backward()
    assert all(p.grad is not None for p in avd.pose_encoder.parameters())
    single = avd_transfer(avd.eval(), source[:1], driving[:1])  # batch 1 needs eval(): BatchNorm1d
    assert single.kp.shape == (1, 4, 2) and single.jacobian.shape == (1, 4, 2, 2)
    assert torch.allclose(single.covariance, single.jacobian @ single.jacobian.transpose(-1, -2))


def test_avd_is_part_of_the_model_when_enabled(tiny_config):
    config = replace(_config(tiny_config, "mraa"), avd=AVDConfig(enabled=True, id_bottleneck=8, pose_bottleneck=8))
    a, b = build_model(config).eval(), build_model(config).eval()
    assert any(k.startswith("avd.") for k in a.state_dict())
    b.load_state_dict(a.state_dict(), strict=True)
    motion = a.estimator(torch.rand(1, 3, 64, 64))
    with torch.no_grad():
        assert torch.equal(avd_transfer(a.avd, motion, motion).kp, avd_transfer(b.avd, motion, motion).kp)
    assert build_model(_config(tiny_config, "mraa")).avd is None


@pytest.mark.parametrize("method", BASELINES)
def test_frame_size_must_suit_the_estimator_hourglass(tiny_config, method):
    with pytest.raises(ConfigError, match="divisible by 128"):
        build_model(_config(tiny_config, method, num_blocks=5))
