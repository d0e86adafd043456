"""LSGAN and feature matching on the multi-scale discriminator (FOMM's). Off in the paper's setting."""

from __future__ import annotations

import torch
from torch import Tensor


def generator_gan(maps_generated: dict) -> Tensor:
    """Σ_scales mean (1 − D(G))²."""
    return sum(((1 - scores) ** 2).mean() for _, scores in maps_generated.values())


def feature_matching(maps_real: dict, maps_generated: dict, weights: tuple[float, ...]) -> Tensor:
    """Σ_scales Σ_i w_i · mean|D_i(real) − D_i(generated)| (already weighted per layer)."""
    total = torch.zeros(())
    for scale in maps_real:
        for w, a, b in zip(weights, maps_real[scale][0], maps_generated[scale][0]):
            if w:
                total = total + w * torch.abs(a - b).mean()
    return total


def discriminator_gan(maps_real: dict, maps_generated: dict) -> Tensor:
    """Σ_scales mean (1 − D(real))² + D(generated)²."""
    return sum(((1 - maps_real[s][1]) ** 2 + maps_generated[s][1] ** 2).mean() for s in maps_real)
