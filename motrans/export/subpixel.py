"""The generator's full-resolution tail at half resolution, for the exported renderer: equal within round-off.

The last up block (nearest ×2 → conv3×3 → BatchNorm → ReLU), the blend with the warped first encoder feature and
the final 7×7 convolution to 3 channels are computed on "phases": a (B, C, 2h, 2w) map is held as (B, 4·C, h, w),
channel p·C + c holding pixels (2i + a, 2j + b) of channel c for phase p = 2a + b. Then
- nearest ×2 then a 3×3 conv is one 3×3 conv on the h×w input with 4× the outputs (each phase's taps summed), so
  the 2h×2w upsampled map is never made;
- the warp samples each phase's pixels directly (one grid_sample per phase on the phase's sampling points);
- the final conv, which has 3 outputs (CPU kernels pad outputs to 8 or 16 channels, so it ran at a fifth of the
  machine's rate), becomes a 5×5 conv with 12 outputs on 4·64 inputs: a quarter of the positions, every output used.
Measured on motrans-vox256 with onnxruntime (see `benchmarks/animate.py`); the torch path never runs this.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.generator import Generator, blend, resize_deformation, resize_like
from ..models.layers import UpBlock
from ..models.motion import Flow

PHASES = ((0, 0), (0, 1), (1, 0), (1, 1))  # (row, column) parity of phase p = 2a + b


def applies(generator: nn.Module, frame_size: tuple[int, int]) -> bool:
    """True for the FOMM-family generator whose last up block and final conv have the shapes worked out here, at a
    frame size its levels halve exactly."""
    if type(generator) is not Generator or not generator.up_blocks:
        return False
    if any(side % 2 ** len(generator.up_blocks) for side in frame_size):
        return False
    last, final = generator.up_blocks[-1], generator.final
    return (type(last) is UpBlock and isinstance(last.norm, nn.BatchNorm2d) and last.conv.kernel_size == (3, 3)
            and last.conv.padding == (1, 1) and final.kernel_size[0] == final.kernel_size[1]
            and final.kernel_size[0] % 2 == 1 and final.padding[0] == final.kernel_size[0] // 2
            and final.stride == (1, 1) and final.dilation == (1, 1) and final.groups == 1)


def to_phases(x: Tensor) -> Tensor:
    """(B, C, 2h, 2w) -> (B, 4·C, h, w), phase-major."""
    return torch.cat([x[:, :, a::2, b::2] for a, b in PHASES], dim=1)


def from_phases(x: Tensor, channels: int) -> Tensor:
    """(B, 4·C, h, w), phase-major -> (B, C, 2h, 2w)."""
    b, _, h, w = x.shape
    return x.reshape(b, 2, 2, channels, h, w).permute(0, 3, 4, 1, 5, 2).reshape(b, channels, 2 * h, 2 * w)


def upsampling_conv(block: UpBlock) -> nn.Conv2d:
    """nearest ×2 → conv3×3 → BatchNorm (eval) as one 3×3 conv on the low-resolution input, phase-major outputs."""
    conv, norm = block.conv, block.norm
    weight = conv.weight.detach()
    out, cin = weight.shape[:2]
    scale = norm.weight.detach() / torch.sqrt(norm.running_var + norm.eps)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros(out)
    merged = torch.zeros(4, out, cin, 3, 3)
    for p, (a, b) in enumerate(PHASES):
        for u in range(3):
            for v in range(3):  # tap (u−1, v−1) of the upsampled map reads input offset ⌊(a+u−1)/2⌋, ⌊(b+v−1)/2⌋
                merged[p, :, :, (a + u - 1) // 2 + 1, (b + v - 1) // 2 + 1] += weight[:, :, u, v]
    fused = nn.Conv2d(cin, 4 * out, 3, padding=1)
    fused.weight.data = (merged * scale[None, :, None, None, None]).reshape(4 * out, cin, 3, 3)
    fused.bias.data = ((bias - norm.running_mean) * scale + norm.bias.detach()).repeat(4)
    return fused


def phase_conv(conv: nn.Conv2d) -> nn.Conv2d:
    """A same-size k×k conv (k odd) as a conv from phase-major inputs to phase-major outputs."""
    weight = conv.weight.detach()
    out, cin, k, _ = weight.shape
    r = k // 2
    half = (r + 1) // 2  # a tap of reach r spans at most this many phase pixels either way
    size = 2 * half + 1
    merged = torch.zeros(4, out, 4, cin, size, size)
    for p, (a, b) in enumerate(PHASES):
        for q, (s, t) in enumerate(PHASES):
            for dm in range(-half, half + 1):
                for dn in range(-half, half + 1):
                    u, v = 2 * dm - a + s, 2 * dn - b + t  # the tap that reads input phase q at this offset
                    if -r <= u <= r and -r <= v <= r:
                        merged[p, :, q, :, dm + half, dn + half] = weight[:, :, u + r, v + r]
    fused = nn.Conv2d(4 * cin, 4 * out, size, padding=half)
    fused.weight.data = merged.reshape(4 * out, 4 * cin, size, size)
    fused.bias.data = (conv.bias.detach() if conv.bias is not None else torch.zeros(out)).repeat(4)
    return fused


def phase_blend(skip: Tensor, flow: Flow, previous: Tensor) -> Tensor:
    """`generator.blend` of a full-resolution skip (B, C, 2h, 2w) with `previous` in phases (B, 4·C, h, w)."""
    b, c, height, width = skip.shape
    deformation = resize_deformation(flow.deformation, (height, width), flow.align_corners)
    warped = torch.cat([F.grid_sample(skip, deformation[:, a::2, b_::2], align_corners=flow.align_corners)
                        for a, b_ in PHASES], dim=1)
    if flow.occlusion is None:
        return warped
    occlusion = to_phases(resize_like(flow.occlusion, skip)).unsqueeze(2)  # (B, 4, 1, h, w)
    shape = (b, 4, c, height // 2, width // 2)
    mixed = warped.reshape(shape) * occlusion + previous.reshape(shape) * (1 - occlusion)
    return mixed.reshape(b, 4 * c, height // 2, width // 2)


class PhaseGenerator(nn.Module):
    """`Generator.forward` with its tail on phases; holds the generator's own modules, and the two fused convs."""

    def __init__(self, generator: Generator):
        super().__init__()
        self.config = generator.config
        self.bottleneck, self.up_blocks = generator.bottleneck, generator.up_blocks[:-1]
        self.up_phases = upsampling_conv(generator.up_blocks[-1])
        self.final_phases = phase_conv(generator.final)
        self.outputs = generator.final.out_channels

    def forward(self, source: Tensor, features: list[Tensor], flow: Flow) -> Tensor:
        skips = self.config.skips
        out = self.bottleneck(blend(features[-1], flow))
        for i, block in enumerate(self.up_blocks):
            if skips:
                out = blend(features[-(i + 1)], flow, out)
            out = block(out)
        if skips:
            out = blend(features[-len(self.up_blocks) - 1], flow, out)
        out = F.relu(self.up_phases(out))
        if skips:
            out = phase_blend(features[0], flow, out)
        out = from_phases(torch.sigmoid(self.final_phases(out)), self.outputs)
        if skips:
            out = blend(source, flow, out)
        return out
