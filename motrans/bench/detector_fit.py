"""Training the bench's joint detector once per benchmark, on the training puppets, and caching it."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from ..files import atomic_write
from ..progress import Progress
from .detector import FOUND_QUANTILE, JointDetector, detect, detector_loss
from .puppets import Puppets, Video
from .regression import pixel_error

FILE = "detector.pt"
VERSION = 1  # of the detector's architecture and training: a cache of another version is trained again


def _batch(videos: tuple[Video, ...], rng: np.random.Generator, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`count` random training frames (B, 3, S, S) and their true joints (B, J, 2)."""
    from PIL import Image

    frames, joints = [], []
    for index in rng.integers(len(videos), size=count):
        video = videos[index]
        t = int(rng.integers(video.frames))
        frames.append(np.asarray(Image.open(video.folder / f"{t:05d}.png").convert("RGB")))
        joints.append(video.joints()[t])
    images = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255
    return images, torch.from_numpy(np.stack(joints)).float()


def train_detector(puppets: Puppets, steps: int, seed: int, batch_size: int = 8) -> JointDetector:
    """Adam at 1e-3, tenfold lower for the last quarter; random frames drawn from a seeded stream."""
    torch.manual_seed(seed)
    detector, rng = JointDetector(), np.random.default_rng([seed, 27])
    optimizer = torch.optim.Adam(detector.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [max(1, 3 * steps // 4)], 0.1)
    size = puppets.train[0].size
    progress = Progress(steps, "detector steps")
    detector.train()
    for _ in range(steps):
        images, joints = _batch(puppets.train, rng, batch_size)
        loss = detector_loss(detector(images), joints, size)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        progress.update()
    progress.close()
    return detector.eval()


def calibrate(detector: JointDetector, puppets: Puppets) -> dict:
    """The detector's error on real held-out frames and its 'found' threshold there."""
    frames = [f for video in puppets.test for f in video.read()]
    joints = np.concatenate([video.joints() for video in puppets.test])
    found = detect(detector, frames)
    size = puppets.test[0].size
    return {"held_out_error_px": pixel_error(found.joints.numpy(), joints, size),
            "threshold": float(torch.quantile(found.confidence.flatten(), FOUND_QUANTILE))}


def detector_settings(steps: int, seed: int, size: int) -> dict:
    """What a cached detector's meta must repeat to be reused."""
    return {"steps": steps, "seed": seed, "size": size, "version": VERSION}


def cached_detector(out: Path, puppets: Puppets, steps: int, seed: int) -> tuple[JointDetector, dict]:
    """out/detector.pt when it was trained with these settings; else trained now and written there."""
    path, wanted = out / FILE, detector_settings(steps, seed, puppets.train[0].size)
    if path.is_file():
        state = torch.load(path, weights_only=True)
        if {key: state["meta"].get(key) for key in wanted} == wanted:
            detector = JointDetector()
            detector.load_state_dict(state["weights"])
            return detector.eval(), state["meta"]
    print(f"motrans: training the joint detector ({steps} steps)", file=sys.stderr)
    detector = train_detector(puppets, steps, seed)
    meta = {**wanted, **calibrate(detector, puppets)}
    state = {"weights": detector.state_dict(), "meta": meta}
    atomic_write(path, lambda tmp: torch.save(state, tmp))
    print(f"motrans: joint detector: {meta['held_out_error_px']:.2f} px on held-out real frames", file=sys.stderr)
    return detector, meta
