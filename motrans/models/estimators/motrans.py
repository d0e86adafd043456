"""The Motion Transformer (Sec. 3.2, Fig. 1 right): motion tokens and image tokens through one transformer.

image (B, 3, H, W) → HRNet stages 1-3 (B, 32, H/4, W/4) → 4×4 patches (B, N, 512) → linear (B, N, D)
[2K motion tokens ; N image tokens + sine position] → depth × pre-norm layers → keypoint and affine heads.

Follows the authors' code (`mtia.md` §2) where it differs from the paper's text: 2K motion tokens (K for keypoints,
K for affines, each with its own LN+Linear head), keypoints decoded as 2·sigmoid − 1, the sine position re-added to
the image tokens before every layer ("sine-full"), one joint softmax over all tokens.

`keypoint_readout: heatmap` (ours, not in any released checkpoint) reads each keypoint as a spatial softmax that
its motion token computes over the 1/4-resolution features instead (`HeatmapHead`); the affines are unchanged.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ...config import BackboneConfig, EstimatorConfig
from ...errors import ConfigError
from ..backbones.hrnet import HRNet, Stem
from ..backbones.mobilenet import MobileNetBackbone
from ..geometry import coordinate_grid, full_precision
from ..motion import Motion

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Attention(nn.Module):
    """Multi-head self attention, Eqs. (3)-(4), over all N + 2K tokens at once (Eq. 7)."""

    def __init__(self, dim: int, heads: int, scale_with_head: bool):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5 if scale_with_head else dim**-0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """x (B, L, D); mask (L, L) added to the logits or None -> (B, L, D)."""
        b, length, dim = x.shape
        q, k, v = self.qkv(x).view(b, length, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        logits = torch.matmul(q, k.transpose(-1, -2)) * self.scale  # (B, heads, L, L); 0.35 GMACs in all at 256²
        if mask is not None:
            logits = logits + mask
        out = torch.matmul(logits.softmax(dim=-1), v)  # (B, heads, L, d)
        return self.out(out.transpose(1, 2).reshape(b, length, dim))


class Layer(nn.Module):
    """Pre-norm transformer layer, Eqs. (7)-(8): x + MSA(LN(x)), then x + FFN(LN(x)); FFN = Linear-GELU-Linear."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int, scale_with_head: bool):
        super().__init__()
        self.attention_norm = nn.LayerNorm(dim)
        self.attention = Attention(dim, heads, scale_with_head)
        self.mlp_norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * mlp_ratio), nn.GELU(), nn.Linear(dim * mlp_ratio, dim))

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        x = self.attention(self.attention_norm(x), mask) + x
        return self.mlp(self.mlp_norm(x)) + x


class Head(nn.Module):
    """LayerNorm + Linear on motion tokens: (B, K, D) -> (B, K, out)."""

    def __init__(self, dim: int, out: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.linear = nn.Linear(dim, out)

    def forward(self, tokens: Tensor) -> Tensor:
        return self.linear(self.norm(tokens))


class HeatmapHead(nn.Module):
    """Keypoints by spatial softmax: motion tokens (B, K, D) query a map of keys (B, D, h, w) built from the
    1/4-resolution CNN features (B, C, h, w) and the transformer's image tokens (B, N, D) upsampled to h×w;
    keypoint k = Σ_p softmax_p(q_k·key_p / √D) · p, p the (x, y) pixel-centre grid in [-1, 1]. -> (B, K, 2)."""

    def __init__(self, dim: int, feature_channels: int, patch_size: int):
        super().__init__()
        self.patch_size = patch_size
        self.norm = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, dim)
        self.token_norm = nn.LayerNorm(dim)
        self.key = nn.Conv2d(feature_channels, dim, 1)

    def reset_parameters(self) -> None:
        # Queries at std 1/√D rather than the transformer's 0.02: with 0.02 every logit is ~0 and the K keypoints
        # all start at the centre of the image, the collapse that std-1 motion tokens are there to avoid.
        _init_transformer(self.norm)
        _init_transformer(self.token_norm)
        nn.init.trunc_normal_(self.query.weight, std=self.query.in_features ** -0.5)
        nn.init.zeros_(self.query.bias)
        self.key.reset_parameters()

    def forward(self, tokens: Tensor, features: Tensor, image_tokens: Tensor) -> Tensor:
        b, _, h, w = features.shape
        p = self.patch_size
        context = self.token_norm(image_tokens).transpose(1, 2).reshape(b, -1, h // p, w // p)
        keys = self.key(features) + nn.functional.interpolate(context, size=(h, w), mode="nearest")
        query = self.query(self.norm(tokens))  # (B, K, D)
        logits = torch.einsum("bkd,bdp->bkp", query.float(), keys.flatten(2).float()) * query.shape[-1] ** -0.5
        grid = coordinate_grid(h, w, device=logits.device).view(1, 1, h * w, 2)
        return (logits.softmax(dim=-1).unsqueeze(-1) * grid).sum(dim=2)


class MotionTransformer(nn.Module):
    """image (B, 3, H, W) in [0, 1] -> Motion(kp (B, K, 2), jacobian (B, K, 2, 2))."""

    def __init__(self, config: EstimatorConfig, num_kp: int, frame_size: tuple[int, int], estimate_jacobian: bool):
        super().__init__()
        self.config, self.num_kp = config, num_kp
        b = config.backbone
        self.backbone = build_backbone(b)
        p = config.patch_size
        grid_h, grid_w = frame_size[0] // (4 * p), frame_size[1] // (4 * p)
        self.num_tokens = num_kp * (2 if estimate_jacobian else 1)  # 2K: K keypoint tokens, then K affine tokens
        self.patch_embedding = nn.Linear(self.backbone.out_channels * p * p, config.dim)
        self.motion_tokens = nn.Parameter(torch.zeros(1, self.num_tokens, config.dim))
        # A frozen Parameter, as in the authors' code: it is in their state dict and in `parameters()`.
        sine = None if config.position == "none" else sine_position(grid_h, grid_w, config.dim)
        self.position = None if sine is None else nn.Parameter(sine, requires_grad=False)
        self.layers = nn.ModuleList(Layer(config.dim, config.heads, config.mlp_ratio, config.scale_with_head)
                                    for _ in range(config.depth))
        if config.keypoint_readout == "heatmap":
            self.keypoint_head = HeatmapHead(config.dim, self.backbone.out_channels, p)
        elif config.keypoint_readout == "regress":
            self.keypoint_head = Head(config.dim, 2)
        else:
            raise ConfigError(f"model.estimator.keypoint_readout: unknown {config.keypoint_readout!r} "
                              "(regress or heatmap)")
        self.affine_head = Head(config.dim, 4) if estimate_jacobian else None
        self.register_buffer("mask", self._attention_mask(grid_h * grid_w), persistent=False)
        self.reset_parameters()

    def _attention_mask(self, num_image_tokens: int) -> Tensor | None:
        if not self.config.mask_image_to_motion:
            return None
        length = self.num_tokens + num_image_tokens
        mask = torch.zeros(length, length)
        mask[self.num_tokens:, : self.num_tokens] = -1000.0  # image tokens do not attend to motion tokens
        return mask

    def reset_parameters(self) -> None:
        """The authors' init: trunc-normal(0.02) tokens and Linears, LN 1/0, an identity affine head; the CNN keeps
        PyTorch's default init (ImageNet weights are loaded separately, see `load_imagenet_hrnet`)."""
        nn.init.trunc_normal_(self.motion_tokens, std=self.config.motion_token_std)  # cut at ±2 (absolute), as theirs
        for module in [*self.layers.modules(), self.patch_embedding, *self.keypoint_head.modules()]:
            _init_transformer(module)
        if isinstance(self.keypoint_head, HeatmapHead):
            self.keypoint_head.reset_parameters()
        if self.affine_head is not None:
            _init_transformer(self.affine_head.norm)
            nn.init.zeros_(self.affine_head.linear.weight)
            with torch.no_grad():
                self.affine_head.linear.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 1.0]))

    def forward(self, image: Tensor) -> Motion:
        features = self.features(image)  # (B, C, H/4, W/4)
        tokens = self.embed(features)  # (B, N, D)
        x = torch.cat([self.motion_tokens.expand(len(tokens), -1, -1), tokens], dim=1)  # (B, 2K+N, D)
        for i, layer in enumerate(self.layers):
            if i > 0 and self.position is not None and self.config.position == "sine-full":
                x = torch.cat([x[:, : self.num_tokens], x[:, self.num_tokens:] + self.position], dim=1)
            x = layer(x, self.mask)
        return self.decode(x[:, : self.num_tokens], features, x[:, self.num_tokens:])

    def image_tokens(self, image: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, N, D): the transformer's input image tokens."""
        return self.embed(self.features(image))

    def features(self, image: Tensor) -> Tensor:
        """(B, 3, H, W) in [0, 1] -> the backbone's (B, C, H/4, W/4)."""
        if self.config.normalize_input:
            mean = image.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
            std = image.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
            image = (image - mean) / std
        return self.backbone(image)

    def embed(self, features: Tensor) -> Tensor:
        """(B, C, H/4, W/4) -> (B, N, D): 4×4 patches flattened as (p1 p2 c), linear, + position."""
        b, c, h, w = features.shape
        p = self.config.patch_size
        patches = features.view(b, c, h // p, p, w // p, p).permute(0, 2, 4, 3, 5, 1).reshape(b, -1, p * p * c)
        tokens = self.patch_embedding(patches)
        return tokens if self.position is None else tokens + self.position

    def decode(self, motion_tokens: Tensor, features: Tensor, image_tokens: Tensor) -> Motion:
        """(B, 2K, D) -> Motion: t = 2·sigmoid(head(token_k)) − 1, or the heatmap head's on the features
        (B, C, h, w) and the final image tokens (B, N, D); A = head(token_{K+k}) as a row-major 2×2."""
        k = self.num_kp
        with full_precision(motion_tokens):
            motion_tokens = motion_tokens.float()
            if isinstance(self.keypoint_head, HeatmapHead):
                kp = self.keypoint_head(motion_tokens[:, :k], features.float(), image_tokens.float())
            else:
                kp = 2 * torch.sigmoid(self.keypoint_head(motion_tokens[:, :k])) - 1
            if self.affine_head is None:
                return Motion(kp)
            jacobian = self.affine_head(motion_tokens[:, k:]).view(len(kp), k, 2, 2)
        return Motion(kp, jacobian)


def build_backbone(config: BackboneConfig) -> nn.Module:
    """(B, 3, H, W) -> (B, C, H/4, W/4) with `.out_channels` = C."""
    if config.kind == "hrnet":
        return HRNet(config.width, config.stem_width)
    if config.kind == "mobilenetv2":
        return MobileNetBackbone()
    if config.kind == "stem":
        return Stem(config.stem_width)
    raise ConfigError(f"model.estimator.backbone.kind: unknown {config.kind!r} (hrnet, stem or mobilenetv2)")


def _init_transformer(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def sine_position(height: int, width: int, dim: int, temperature: float = 10000.0) -> Tensor:
    """DETR's normalised 2-D sine embedding, (1, h·w, dim): y features then x, sin/cos interleaved per pair."""
    ones = torch.ones(1, height, width)
    y = ones.cumsum(1, dtype=torch.float32)
    x = ones.cumsum(2, dtype=torch.float32)
    eps, scale = 1e-6, 2 * math.pi
    y = y / (y[:, -1:, :] + eps) * scale
    x = x / (x[:, :, -1:] + eps) * scale
    half = dim // 2
    steps = torch.arange(half, dtype=torch.float32)
    steps = temperature ** (2 * (steps // 2) / half)
    pos_x, pos_y = x[..., None] / steps, y[..., None] / steps
    pos_x = torch.stack((pos_x[..., 0::2].sin(), pos_x[..., 1::2].cos()), dim=4).flatten(3)
    pos_y = torch.stack((pos_y[..., 0::2].sin(), pos_y[..., 1::2].cos()), dim=4).flatten(3)
    return torch.cat((pos_y, pos_x), dim=3).flatten(1, 2)  # (1, h·w, dim), row-major tokens

