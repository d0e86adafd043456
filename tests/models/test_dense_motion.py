import torch

from motrans.models import build_model
from motrans.models.geometry import coordinate_grid
from motrans.models.motion import Motion


def test_identity_motion_gives_identity_deformation(tiny_config):
    """Source motion = driving motion: every part motion is the identity, so any mask blend is too."""
    model = build_model(tiny_config.model).eval()
    source = torch.rand(2, 3, 64, 64)
    motion = Motion(torch.rand(2, 4, 2) * 2 - 1, torch.randn(2, 4, 2, 2) + 2 * torch.eye(2))
    with torch.no_grad():
        flow = model.dense_motion(model.dense_motion.shrink(source), motion, motion)
    assert torch.allclose(flow.deformation, coordinate_grid(16, 16).expand(2, 16, 16, 2), atol=1e-5)


def test_part_warps_follow_their_keypoints(tiny_config):
    """A part whose keypoint moves right by Δ samples the source Δ to the left of each driving pixel."""
    model = build_model(tiny_config.model).eval()
    source = torch.rand(1, 3, 64, 64)
    kp = torch.zeros(1, 4, 2)
    moved = kp.clone()
    moved[0, 1, 0] = 0.5
    with torch.no_grad():
        small = model.dense_motion.shrink(source)
        flow = model.dense_motion(small, Motion(kp, None), Motion(moved, None))
    warped = flow.sparse_deformed  # (1, K+1, 3, 16, 16); index 0 is the background
    for unmoved in (1, 3, 4):
        assert torch.equal(warped[:, unmoved], warped[:, 0])
    shifted = coordinate_grid(16, 16) - torch.tensor([0.5, 0.0])
    expected = torch.nn.functional.grid_sample(small, shifted[None], align_corners=False)
    assert torch.allclose(warped[:, 2], expected, atol=1e-6)


def test_align_corners_makes_the_identity_flow_an_exact_copy(tiny_config):
    """The grids are pixel-centre aligned: sampled with align_corners=True the identity flow (resized from the motion
    grid to the frame) copies the source; with the authors' False it shifts and blurs it by up to half a pixel."""
    from dataclasses import replace

    source = torch.rand(1, 3, 64, 64)
    motion = Motion(torch.rand(1, 4, 2) * 2 - 1, torch.randn(1, 4, 2, 2) + 2 * torch.eye(2))
    errors = {}
    for exact in (False, True):
        config = replace(tiny_config.model, dense_motion=replace(tiny_config.model.dense_motion, align_corners=exact))
        model = build_model(config).eval()
        with torch.no_grad():
            animation = model.animate(source, motion, motion)
        assert animation.flow.align_corners is exact
        errors[exact] = (animation.deformed - source).abs().max().item()
    assert errors[True] < 1e-5 and errors[False] > 0.1
