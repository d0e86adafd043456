"""`explain_files()`: `motrans explain` from files to a folder of figures (PNG per frame, an mp4, npz arrays).

Everything is written in a temporary folder beside the output and moved in only when every frame is done: an
error or an interrupt leaves the output folder as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.image import read_image
from ..data.video import VideoWriter, probe, read_frames
from ..errors import InputError
from ..files import discard_temporary, make_temporary, naming_full_disk, nearest_existing, settle_mode
from ..progress import Progress, note
from ..validate import output_apart_from_inputs
from .panels import Selection, compose, figure
from .probe import explain

SPARSE_FPS = 2.0  # the mp4 of a few chosen frames (--indices) shows each for half a second


@dataclass(frozen=True)
class ExplainOptions:
    selection: Selection = Selection()
    indices: tuple[int, ...] | None = None  # driving frames to explain (None: every frame)
    arrays: bool = False  # also DIR/frame_NNNNNN.npz with explain()'s arrays
    fit: str = "crop"


def explain_files(out: str | Path, *, image: str | Path | None = None, driving: str | Path | None = None,
                  source: str | Path | None = None, checkpoint: str | Path | None = None, config=None,
                  device: str = "auto", options: ExplainOptions = ExplainOptions(), quiet: bool = False) -> list[Path]:
    """Explains an image (or chosen frames of a driving video) into `out`; returns the files written."""
    out = Path(out)
    _check_inputs(out, image, driving, source, checkpoint, options)
    say = (lambda message: None) if quiet else note
    source_image = None if source is None else read_image(source)
    frames, total = _frames(image, driving, options.indices)
    model = _load(checkpoint, config, device, say)
    home = nearest_existing(out.parent)
    tmp = make_temporary(home, f".{out.name}.motrans-")
    progress = Progress(total, enabled=not quiet and total != 1)
    try:
        with naming_full_disk(out):
            names = _write_all(tmp, model, frames, source_image, options, _fps(driving, options), progress.update)
        written = _move_in(tmp, out, names)
    finally:
        progress.close()
        discard_temporary(tmp)
    say(f"wrote {len(written)} file{'s' * (len(written) != 1)} to {out}: " + ", ".join(p.name for p in written[:4])
        + (", …" if len(written) > 4 else ""))
    return written


def _check_inputs(out: Path, image, driving, source, checkpoint, options: ExplainOptions) -> None:
    if (image is None) == (driving is None):
        raise InputError("give exactly one of --image and --driving")
    if options.indices is not None and driving is None:
        raise InputError("--indices picks frames of a --driving video; with --image there is one frame")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder; --out names a folder for the figures")
    output_apart_from_inputs(out, {"--image": image, "--driving": driving, "--source": source,
                                   "--checkpoint": checkpoint})


def _frames(image, driving, indices: tuple[int, ...] | None) -> tuple[Iterator[tuple[int, np.ndarray]], int | None]:
    """(index, RGB frame) pairs: the image as frame 0, or the chosen frames of the video in order; and how many
    there will be (None: not known before the video is read)."""
    if image is not None:
        return iter([(0, read_image(image))]), 1
    count = probe(driving).frames
    if indices and count and max(indices) >= count:  # known up front for frame folders and most videos
        raise InputError(f"{driving}: --indices {max(indices)} is past the last frame (the video has {count})")
    next(iter(read_frames(driving)))  # a file that probes but decodes nothing fails here, before the model loads
    return _chosen(driving, indices), len(set(indices)) if indices else count


def _chosen(driving, indices: tuple[int, ...] | None) -> Iterator[tuple[int, np.ndarray]]:
    wanted = None if indices is None else set(indices)
    count = 0
    for count, frame in enumerate(read_frames(driving), start=1):
        if wanted is None or count - 1 in wanted:
            yield count - 1, frame
    missing = sorted(i for i in wanted or () if i >= count)
    if missing:
        raise InputError(f"{driving}: --indices {missing[0]} is past the last frame (the video has {count})")


def _fps(driving, options: ExplainOptions) -> float | None:
    if driving is None:
        return None
    return probe(driving).fps if options.indices is None else SPARSE_FPS


def _load(checkpoint, config, device: str, say):
    from ..animate import Animator

    if checkpoint is None:
        from ..packaged import packaged_checkpoint

        checkpoint = packaged_checkpoint(say)
    return Animator.from_checkpoint(checkpoint, config, device).model


def _write_all(tmp: Path, model, frames, source_image, options: ExplainOptions, fps: float | None,
               done: Callable[[], None]) -> list[str]:
    """Every frame's PNG (and npz) into tmp, and with a video explain.mp4; returns the file names."""
    from PIL import Image

    names: list[str] = []
    writer = None if fps is None else VideoWriter(tmp / "explain.mp4", fps)
    try:
        for index, frame in frames:
            arrays = explain(model, frame, source_image, options.fit)
            picture = compose(figure(arrays, options.selection), _header(arrays, index if fps else None))
            names.append(f"frame_{index:06d}.png")
            Image.fromarray(picture).save(tmp / names[-1])
            if options.arrays:
                names.append(f"frame_{index:06d}.npz")
                np.savez_compressed(tmp / names[-1], **arrays)
            if writer is not None:
                writer.write(picture)
            done()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
        names.append("explain.mp4")
    return names


def _header(arrays: dict[str, np.ndarray], index: int | None) -> str:
    text = f"{arrays['method']}, " + ("the image" if index is None else f"frame {index}")
    if "attention" in arrays:
        text += ": attention to image tokens renormalised over them (one softmax runs over all tokens)"
    return text


def _move_in(tmp: Path, out: Path, names: list[str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        settle_mode(tmp / name, out / name)
        os.replace(tmp / name, out / name)
        written.append(out / name)
    return written
