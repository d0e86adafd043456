"""The Motion Transformer's attention weights (Fig. 3) and its heatmap readout's maps, recorded on the side.

A forward pre-hook on every `Attention` module sees the layer's normalised input and mask and recomputes
softmax(Q·Kᵀ·scale + mask) from them with the module's own weights and the same operations as its `forward`, so
the recorded weights are the ones the model used. `forward` itself is untouched: without a recorder nothing runs,
and with one the model's outputs are the same bits (the hook returns nothing, so the layer's input is unchanged).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.estimators.motrans import Attention, HeatmapHead


def attention_weights(attention: Attention, x: Tensor, mask: Tensor | None = None) -> Tensor:
    """x (B, L, D), mask (L, L) or None -> (B, heads, L, L): each query's softmax over all L keys (Eqs. 3-4)."""
    b, length, dim = x.shape
    q, k, _ = attention.qkv(x).view(b, length, 3, attention.heads, dim // attention.heads).permute(2, 0, 3, 1, 4)
    logits = torch.matmul(q, k.transpose(-1, -2)) * attention.scale  # as in Attention.forward, op for op
    if mask is not None:
        logits = logits + mask
    return logits.softmax(dim=-1)


@contextlib.contextmanager
def recording_attention(estimator: nn.Module) -> Iterator[list[Tensor]]:
    """Within the block, every forward pass of `estimator` appends one (B, heads, L, L) tensor per transformer layer,
    in layer order, to the yielded list. The hooks are removed on leaving, whatever happens."""
    recorded: list[Tensor] = []

    def record(module: Attention, args: tuple) -> None:
        x, mask = args[0], args[1] if len(args) > 1 else None
        recorded.append(attention_weights(module, x, mask).float())

    handles = [m.register_forward_pre_hook(record) for m in estimator.modules() if isinstance(m, Attention)]
    try:
        yield recorded
    finally:
        for handle in handles:
            handle.remove()


def readout_maps(head: HeatmapHead, tokens: Tensor, features: Tensor, image_tokens: Tensor) -> Tensor:
    """The spatial softmax each keypoint token computes in `keypoint_readout: heatmap`, from the head's inputs
    (tokens (B, K, D), features (B, C, h, w), image tokens (B, N, D)), op for op as HeatmapHead.forward: (B, K, h, w).
    Its expectation over the pixel grid is the keypoint."""
    b, _, h, w = features.shape
    p = head.patch_size
    context = head.token_norm(image_tokens).transpose(1, 2).reshape(b, -1, h // p, w // p)
    keys = head.key(features) + F.interpolate(context, size=(h, w), mode="nearest")
    query = head.query(head.norm(tokens))
    scores = torch.einsum("bkd,bdp->bkp", query.float(), keys.flatten(2).float()) * query.shape[-1] ** -0.5
    return scores.softmax(dim=-1).view(b, -1, h, w)


@contextlib.contextmanager
def recording_readout(estimator: nn.Module) -> Iterator[list[Tensor]]:
    """Like `recording_attention`, for the heatmap readout: one (B, K, h, w) map per estimator pass."""
    recorded: list[Tensor] = []
    head = getattr(estimator, "keypoint_head", None)
    if not isinstance(head, HeatmapHead):
        yield recorded
        return
    handle = head.register_forward_pre_hook(lambda module, args: recorded.append(readout_maps(module, *args)))
    try:
        yield recorded
    finally:
        handle.remove()
