"""The exported graphs' closed forms equal torch.linalg within round-off, including MRAA's fragile cases."""

import math

import pytest
import torch

from motrans.export.closed_form import inverse_2x2, solve_by_elimination, symmetric_svd_2x2
from motrans.export.tracing import closed_forms
from motrans.models import tps
from motrans.models.estimators.mraa import principal_axes
from motrans.models.geometry import relative_affine


def _covariances(n: int, gap: float, dtype=torch.float64) -> torch.Tensor:
    """R·diag(λ(1 + gap), λ)·Rᵀ with random rotations and scales: (n, 2, 2)."""
    angle = torch.rand(n, dtype=dtype) * 2 * math.pi
    c, s = torch.cos(angle), torch.sin(angle)
    rotation = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)
    scale = torch.rand(n, dtype=dtype) * 0.1 + 0.01
    values = torch.stack([scale * (1 + gap), scale], -1)
    return rotation @ torch.diag_embed(values) @ rotation.transpose(-1, -2)


def test_inverse_2x2_equals_torch():
    matrix = torch.randn(1000, 2, 2) + 2 * torch.eye(2)
    expected = torch.inverse(matrix)
    scale = expected.abs().amax((-1, -2), keepdim=True)
    assert ((inverse_2x2(matrix) - expected).abs() / scale).max() < 1e-5


@pytest.mark.parametrize("gap", [1.0, 0.1])
def test_svd_equals_lapack_up_to_one_sign_per_matrix(gap):
    covariance = _covariances(2000, gap, torch.float32)
    u, s, _ = symmetric_svd_2x2(covariance)
    lapack_u, lapack_s, _ = torch.linalg.svd(covariance)
    assert torch.allclose(s, lapack_s, rtol=1e-5, atol=1e-8)
    assert torch.allclose(u @ torch.diag_embed(s) @ u.transpose(-1, -2), covariance, rtol=1e-4, atol=1e-7)
    sign = torch.sign((u * lapack_u).sum((-1, -2)))[:, None, None]  # +1 or −1: the whole U, never one column
    assert (u * sign - lapack_u).abs().max() < 1e-4 / gap
    assert (torch.det(u) < 0).all()  # a reflection, like LAPACK's


@pytest.mark.parametrize("gap", [1e-3, 1e-6, 1e-9])
def test_svd_near_isotropic_follows_the_same_axes(gap):
    """Near Σ = λI the axes are ill-defined in float32; in float64 both follow the off-isotropic part."""
    covariance = _covariances(500, gap)
    u, s, _ = symmetric_svd_2x2(covariance)
    lapack_u, lapack_s, _ = torch.linalg.svd(covariance)
    assert torch.allclose(u @ torch.diag_embed(s) @ u.transpose(-1, -2), covariance, rtol=1e-10, atol=1e-14)
    sign = torch.sign((u * lapack_u).sum((-1, -2)))[:, None, None]
    assert (u * sign - lapack_u).abs().max() < 1e-14 / gap


def test_mraa_relative_affines_equal_lapack_with_revert_axis_swap():
    """What the renderer uses: A_S·A_Z⁻¹ times the sign of its (0, 0) entry, with either SVD."""
    source, driving = _covariances(1000, 0.5, torch.float32), _covariances(1000, 0.5, torch.float32)
    expected = relative_affine(principal_axes(source), principal_axes(driving), revert_axis_swap=True)
    with closed_forms():
        got = relative_affine(principal_axes(source), principal_axes(driving), revert_axis_swap=True)
    assert (got - expected).abs().max() < 1e-3 * expected.abs().max()


def test_diagonal_and_isotropic_covariances_take_lapacks_axes():
    covariance = torch.tensor([[[0.3, 0.0], [0.0, 0.3]], [[0.5, 0.0], [0.0, 0.3]], [[0.3, 0.0], [0.0, 0.5]]])
    u, s, _ = symmetric_svd_2x2(covariance)
    lapack_u, lapack_s, _ = torch.linalg.svd(covariance)
    assert torch.equal(u, lapack_u) and torch.allclose(s, lapack_s)


def test_tps_fit_by_elimination_equals_the_inverse():
    driving = torch.rand(8, 10, tps.POINTS, 2) * 2 - 1
    source = driving + 0.1 * torch.randn_like(driving)
    affine, weights = tps.fit(driving, source)
    with closed_forms():
        closed_affine, closed_weights = tps.fit(driving, source)
    assert (closed_affine - affine).abs().max() < 1e-4
    assert (closed_weights - weights).abs().max() < 1e-4


def test_elimination_pivots():
    """A zero on the diagonal needs a row swap; without pivoting this is a division by zero."""
    system = torch.tensor([[0.0, 2.0, 1.0], [1.0, 0.0, 3.0], [4.0, 1.0, 0.0]], dtype=torch.float64)
    rhs = torch.tensor([[1.0, 0.0], [2.0, 1.0], [3.0, -1.0]], dtype=torch.float64)
    assert torch.allclose(solve_by_elimination(system, rhs), torch.linalg.solve(system, rhs), atol=1e-12)
