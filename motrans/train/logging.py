"""Training logs on rank 0: TensorBoard when installed (`pip install motrans[train]`), else JSON lines.

Scalars: every loss term (unweighted and weighted), the total, learning rates, step time. Images: source,
driving, prediction with keypoints drawn, and the occlusion map.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
                    [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212]], dtype=np.uint8)


class TrainLogger:
    def __init__(self, out_dir: Path):
        out_dir.mkdir(parents=True, exist_ok=True)
        self.last_time, self.last_step = time.monotonic(), None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.writer, self.jsonl = SummaryWriter(str(out_dir / "tensorboard")), None
        except ImportError:
            from ..progress import note

            note("tensorboard is not installed; logging to log.jsonl (pip install motrans[train])")
            self.writer, self.jsonl = None, open(out_dir / "log.jsonl", "a")

    def scalars(self, step: int, terms: dict[str, float], lrs: dict[str, float], weights: dict[str, float]) -> None:
        now = time.monotonic()
        values = {f"loss/{k}": v for k, v in terms.items()}
        values.update({f"weighted/{k}": v * weights[k] for k, v in terms.items() if k in weights})
        values.update({f"lr/{k}": v for k, v in lrs.items()})
        if self.last_step is not None and step > self.last_step:
            values["time/step_seconds"] = (now - self.last_time) / (step - self.last_step)
        self.last_time, self.last_step = now, step
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(name, value, step)
        else:
            self.jsonl.write(json.dumps({"step": step, **values}) + "\n")
            self.jsonl.flush()

    def images(self, step: int, batch: dict, out) -> None:
        grid = image_grid(batch["source"], batch["driving"], out)
        if self.writer is not None:
            self.writer.add_image("samples", grid, step, dataformats="HWC")
        else:
            from PIL import Image

            Image.fromarray(grid).save(Path(self.jsonl.name).parent / f"samples_{step:08d}.png")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        elif self.jsonl is not None:
            self.jsonl.close()


def image_grid(source: torch.Tensor, driving: torch.Tensor, out, rows: int = 4) -> np.ndarray:
    """Rows of source+kp | driving+kp | prediction | occlusion, uint8 (H·rows, W·4, 3)."""
    n = min(rows, len(source))
    lines = []
    for i in range(n):
        cells = [draw_keypoints(_image(source[i]), out.source.kp[i]),
                 draw_keypoints(_image(driving[i]), out.driving.kp[i]), _image(out.animation.prediction[i])]
        occlusion = out.animation.flow.occlusion
        if occlusion is not None:
            occ = torch.nn.functional.interpolate(occlusion[i: i + 1].float(), size=source.shape[2:])[0]
            cells.append(_image(occ.expand(3, -1, -1)))
        lines.append(np.concatenate(cells, axis=1))
    return np.concatenate(lines, axis=0)


def _image(tensor: torch.Tensor) -> np.ndarray:
    return (tensor.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)


def draw_keypoints(image: np.ndarray, kp: torch.Tensor, radius: int = 3) -> np.ndarray:
    """Filled discs at (x, y) in [-1, 1], one colour per keypoint."""
    image = image.copy()
    h, w = image.shape[:2]
    ys, xs = np.mgrid[:h, :w]
    for k, (x, y) in enumerate(kp.detach().float().cpu().numpy()):
        cx, cy = (x + 1) / 2 * (w - 1), (y + 1) / 2 * (h - 1)
        image[(xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2] = PALETTE[k % len(PALETTE)]
    return image
