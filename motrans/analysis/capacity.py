"""Model capacity as Table 1 counts it (`mtia.md` §8): parameters and multiply-accumulates (MACs).

The paper's "FLOPs" are MACs of `nn.Conv2d` and `nn.Linear` modules (out elements × in-channels/groups × k²;
bias, BN, grid_sample and the functional anti-alias blur not counted); its "Params" are trainable parameters.
We also report the attention matmuls (QKᵀ and AV), which the paper leaves out. Counting hooks the real modules
during a forward pass on the `meta` device: shapes only, no arithmetic, no memory for activations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..config import ModelConfig
from ..models import build_discriminator, build_model
from ..models.estimators.motrans import Attention


@dataclass
class Capacity:
    component: str
    trainable: int
    total: int
    macs: int  # Conv2d + Linear, the paper's count
    macs_with_attention: int


class MacCounter:
    """Forward hooks that add up Conv2d/Linear MACs and attention matmuls per top-level component."""

    def __init__(self):
        self.macs = 0
        self.attention = 0
        self.handles = []

    def attach(self, module: nn.Module) -> "MacCounter":
        for sub in module.modules():
            if isinstance(sub, (nn.Conv2d, nn.Linear, Attention)):
                self.handles.append(sub.register_forward_hook(self._hook))
        return self

    def _hook(self, module: nn.Module, inputs, output) -> None:
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            self.macs += output.numel() * module.in_channels // module.groups * kh * kw
        elif isinstance(module, nn.Linear):
            self.macs += output.numel() * module.in_features
        else:
            b, length, dim = inputs[0].shape
            self.attention += 2 * b * length * length * dim  # QKᵀ and AV over all heads

    def detach(self) -> None:
        for handle in self.handles:
            handle.remove()


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """(trainable, total); the frozen sine position embedding counts only in the total."""
    params = list(module.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


NO_DISCRIMINATOR = ("mraa", "tpsmm")


def capacity(config: ModelConfig) -> list[Capacity]:
    """Per component at the config's frame size and batch 1: MotionEstimator, ImageGenerator (generator + dense
    motion, as in Table 1) and its two parts DenseMotion and Generator (TPSMM's sizes are given per part),
    BackgroundPredictor and AVDNetwork when configured, and the Discriminator of the methods that have one (MRAA
    and TPSMM train without)."""
    with torch.device("meta"):
        model = build_model(config)
        discriminator = build_discriminator(config)
        frame = torch.empty(1, config.num_channels, *config.frame_size)
        rows = [_measure("MotionEstimator", model.estimator, lambda: model.estimator(frame))]
        motion = model.estimator(frame)
        generator = nn.ModuleList([model.dense_motion, model.generator])
        rows.append(_measure("ImageGenerator", generator, lambda: model.animate(frame, motion, motion)))
        for name, part in (("DenseMotion", model.dense_motion), ("Generator", model.generator)):
            rows.append(_measure(name, part, lambda: model.animate(frame, motion, motion)))
        if model.background is not None:
            rows.append(_measure("BackgroundPredictor", model.background, lambda: model.background(frame, frame)))
        if model.avd is not None:  # MRAA, TPSMM; eval(): its BatchNorm1d refuses a training batch of one
            rows.append(_measure("AVDNetwork", model.avd.eval(), lambda: model.avd(motion, motion)))
        if config.estimator.method not in NO_DISCRIMINATOR:
            scales = {s: frame for s in config.discriminator.scales}
            rows.append(_measure("Discriminator", discriminator, lambda: discriminator(scales)))
    return rows


def _measure(name: str, module: nn.Module, run) -> Capacity:
    counter = MacCounter().attach(module)
    try:
        run()
    finally:
        counter.detach()
    trainable, total = count_parameters(module)
    return Capacity(name, trainable, total, counter.macs, counter.macs + counter.attention)


def format_table(rows: list[Capacity], frame_size: tuple[int, int]) -> str:
    """A fixed-width table; MACs in G (10⁹), like the paper."""
    header = f"{'component':<20} {'trainable':>12} {'total':>12} {'GMACs':>8} {'GMACs+attn':>11}"
    lines = [f"capacity at {frame_size[0]}x{frame_size[1]}, batch 1 (MACs as the paper counts them: Conv2d + Linear)",
             header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r.component:<20} {r.trainable:>12,} {r.total:>12,} {r.macs / 1e9:>8.2f} "
                     f"{r.macs_with_attention / 1e9:>11.2f}")
    return "\n".join(lines)


def as_json(rows: list[Capacity], frame_size: tuple[int, int]) -> dict:
    return {"frame_size": list(frame_size), "components": [asdict(r) for r in rows]}
