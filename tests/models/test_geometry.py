import torch

from motrans.models.geometry import background_motion, coordinate_grid, gaussian_heatmaps, part_motions
from motrans.models.motion import Motion


def test_grid_spans_pixel_centres():
    grid = coordinate_grid(3, 5)
    assert grid.shape == (3, 5, 2)
    assert torch.equal(grid[0, :, 0], torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0]))
    assert torch.equal(grid[:, 0, 1], torch.tensor([-1.0, 0.0, 1.0]))


def test_heatmap_peaks_at_the_keypoint():
    kp = torch.tensor([[[0.5, -0.5]]])
    maps = gaussian_heatmaps(kp, 5, 5, 0.01)
    assert maps.shape == (1, 1, 5, 5)
    assert maps[0, 0, 1, 3] == 1.0 and maps[0, 0].argmax() == 1 * 5 + 3


def test_equal_motions_give_identity_part_motions():
    kp, jac = torch.rand(2, 3, 2) * 2 - 1, torch.randn(2, 3, 2, 2) + 2 * torch.eye(2)
    grid = coordinate_grid(8, 8)
    motions = part_motions(grid, Motion(kp, jac), Motion(kp, jac))
    assert torch.allclose(motions, grid.expand(2, 3, 8, 8, 2), atol=1e-5)


def test_eq1_with_a_known_affine():
    """T(z) = t_S + A_S A_Z⁻¹ (z − t_Z): a pure rotation of the source about its keypoint."""
    theta = torch.tensor(0.3)
    rot = torch.tensor([[theta.cos(), -theta.sin()], [theta.sin(), theta.cos()]])
    source = Motion(torch.tensor([[[0.2, 0.1]]]), rot.view(1, 1, 2, 2))
    driving = Motion(torch.tensor([[[-0.1, 0.0]]]), torch.eye(2).view(1, 1, 2, 2))
    grid = coordinate_grid(4, 4)
    got = part_motions(grid, source, driving)[0, 0]
    want = (grid - driving.kp[0, 0]) @ rot.T + source.kp[0, 0]
    assert torch.allclose(got, want, atol=1e-6)


def test_background_identity_and_translation():
    grid = coordinate_grid(4, 4)
    assert torch.equal(background_motion(grid, 2, None)[:, 0], grid.expand(2, 4, 4, 2))
    shift = torch.eye(3).repeat(2, 1, 1)
    shift[:, 0, 2] = 0.25
    moved = background_motion(grid, 2, shift)[:, 0]
    assert torch.allclose(moved[..., 0], grid[..., 0] + 0.25) and torch.allclose(moved[..., 1], grid[..., 1])
