"""A fixed, in-memory dataset and a tiny training config, shared by the training tests and the DDP script."""

from __future__ import annotations

import torch

from motrans.config import load_config
from motrans.train.loop import with_overrides

from ..conftest import TINY


class ShiftedPairs(torch.utils.data.Dataset):
    """Smooth random images; the driving frame is the source shifted by a few pixels (a learnable motion)."""

    def __init__(self, count: int = 8, size: int = 64, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        low = torch.rand(count, 3, 8, 8, generator=g)
        self.frames = torch.nn.functional.interpolate(low, size=size, mode="bicubic").clamp(0, 1)
        self.shifts = torch.randint(-4, 5, (count, 2), generator=g)

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> dict:
        dy, dx = self.shifts[i].tolist()
        return {"source": self.frames[i], "driving": torch.roll(self.frames[i], (dy, dx), dims=(1, 2)), "name": str(i)}


def tiny_train_config(perceptual_file: str, **overrides: str):
    base = {"train.batch_size": "4", "train.perceptual_backbone": "mobilenetv2",
            "train.perceptual_weights": perceptual_file, "train.checkpoint_every": "1000", "train.repeats": "1",
            "train.epochs": "1000", "train.scales": "[1, 0.5]"}
    return with_overrides(load_config(TINY), {**base, **overrides})


def random_mobilenet(path) -> str:
    from motrans.losses.perceptual import MobileNetV2Features

    torch.manual_seed(1234)
    torch.save(MobileNetV2Features().state_dict(), path)
    return str(path)
