"""What makes the models traceable into ONNX without touching them: a context in which the torch path's `linalg`
calls are the closed forms of `closed_form`, and `len(tensor)` is a traced batch size.

The torch path itself never runs inside it, so it keeps its exact arithmetic.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib

import torch
from torch import Tensor

from .closed_form import inverse_2x2, solve_by_elimination, symmetric_svd_2x2

# The modules on the estimator and renderer paths that size a batch with len(): under the tracer a Python int
# would freeze the batch, `tensor.shape[0]` stays a traced value.
BATCH_LEN_MODULES = ("motrans.models.estimators.motrans", "motrans.models.estimators.tpsmm",
                     "motrans.models.dense_motion_tps")


def traced_len(value) -> int:
    return value.shape[0] if isinstance(value, Tensor) else builtins.len(value)


def closed_inverse(matrix: Tensor) -> Tensor:
    """torch.inverse for the 2×2 affines and covariances, and TPSMM's (N+3)×(N+3) systems."""
    if matrix.shape[-2:] == (2, 2):
        return inverse_2x2(matrix)
    eye = torch.eye(matrix.shape[-1], dtype=matrix.dtype, device=matrix.device)
    return solve_by_elimination(matrix, eye.expand(matrix.shape))


def closed_svd(matrix: Tensor, full_matrices: bool = True, **kwargs):
    """torch.linalg.svd for MRAA's symmetric 2×2 covariances (the only SVD on the animation path)."""
    if matrix.shape[-2:] != (2, 2):
        raise NotImplementedError(f"no closed-form SVD for {tuple(matrix.shape)}")
    return symmetric_svd_2x2(matrix)


def closed_diag_embed(values: Tensor) -> Tensor:
    """torch.diag_embed (no ONNX op) as values times the identity: (..., n) -> (..., n, n)."""
    n = values.shape[-1]
    return values.unsqueeze(-1) * torch.eye(n, dtype=values.dtype, device=values.device)


@contextlib.contextmanager
def closed_forms():
    """Within: torch.inverse, torch.linalg.svd, torch.diag_embed and the models' len() as above.

    Not thread-safe: export only, never while the torch path runs in another thread.
    """
    saved = (torch.inverse, torch.linalg.svd, torch.diag_embed)
    modules = [importlib.import_module(name) for name in BATCH_LEN_MODULES]
    torch.inverse, torch.linalg.svd, torch.diag_embed = closed_inverse, closed_svd, closed_diag_embed
    for module in modules:
        module.len = traced_len
    try:
        yield
    finally:
        torch.inverse, torch.linalg.svd, torch.diag_embed = saved
        for module in modules:
            del module.len
