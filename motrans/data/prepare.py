"""A folder of one's own videos -> a training dataset in the authors' layout, `out/{train,test}/<clip>/00000.png …`.

Only the top level of the input folder is read (no recursion, so an output or backup folder inside it is never
taken as input); files whose extension is not a video's are ignored and listed. Each clip folder is named after
its video file, extension included, like the authors' `….mp4` folders. For `id_sampling` name the videos
`<identity>#<clip>.mp4`: the part before the first '#' groups clips of one person.

Frames are centre-cropped to a square and resized to size × size (`fit(..., "crop")`). The train/test split is
a seeded permutation of the sorted names of the videos that were read, so it repeats. The dataset is written to
a temporary sibling folder and renamed into place at the end: an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import shutil
from itertools import islice
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError
from ..files import make_temporary, settle_mode
from ..validate import finite, whole
from .frames import VIDEO_EXTENSIONS
from .image import fit
from .video import read_frames

MAX_SIZE = 4096  # frames of a dataset for a model of at most this size
CROPS = ("none", "face", "body")

Progress = Callable[[int, int, str], None]  # (videos done, videos in all, file name)


def prepare(in_dir: str | Path, out_root: str | Path, size: int = 256, split: float = 0.9, seed: int = 0,
            progress: Progress | None = None, crop: str = "none") -> dict:
    """Extracts every video of `in_dir` into `out_root`; unreadable or too short videos are skipped.

    `crop` "face" (or "body"): each video is cut into shots, one steady box around the object per shot, as
    `motrans animate --crop` frames its driving video; each shot is its own clip `VIDEO#NNN` (one identity per
    video, for id_sampling), and a video's shots all go to the same split. "none": the centre of every frame.
    Returns {"root", "train": [clip names], "test": [clip names], "frames": count written,
    "skipped": [(file, reason)], "ignored": [non-video file names]}; the caller reports the skipped files.
    """
    in_dir, out_root = Path(in_dir), Path(out_root)
    _check_arguments(size, split, seed)
    if crop not in CROPS:
        raise InputError(f"--crop {crop!r}: use one of {', '.join(CROPS)}")
    videos, ignored = _inputs(in_dir)
    _check_output(out_root)
    out_root.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temporary(out_root.parent, f".{out_root.name}.tmp-")
    try:
        clips, frames, skipped = _extract_all(videos, tmp / "all", size, progress, crop)
        if not clips:
            raise InputError(f"{in_dir}: no readable video (first: {skipped[0][1]})")
        train, test = _split_folders(tmp, clips, split, seed)
        _move_into_place(tmp, out_root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"root": str(out_root), "train": train, "test": test, "frames": frames, "skipped": skipped,
            "ignored": ignored}


def _check_arguments(size: int, split: float, seed: int) -> None:
    whole("--size", size, 8, MAX_SIZE)
    if not finite("--split", split, 0, 1) > 0:
        raise InputError(f"--split (the training fraction) must be in (0, 1], got {split!r}")
    whole("--seed", seed, 0)


def _inputs(in_dir: Path) -> tuple[list[Path], list[str]]:
    """The video files at the top of `in_dir` in name order, and the names of the other files."""
    if not in_dir.is_dir():
        raise InputError(f"{in_dir}: no such folder")
    files = sorted(p for p in in_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    videos = [p for p in files if p.suffix.lower() in VIDEO_EXTENSIONS]
    if not videos:
        raise InputError(f"{in_dir}: no video files ({', '.join(VIDEO_EXTENSIONS)}) at its top level")
    return videos, [p.name for p in files if p not in videos]


def _check_output(out_root: Path) -> None:
    if out_root.exists() and not out_root.is_dir():
        raise InputError(f"{out_root}: exists and is not a folder")
    if out_root.is_dir() and any(out_root.iterdir()):
        raise InputError(f"{out_root}: already exists and is not empty; choose a new output folder")


def split_names(names: list[str], split: float, seed: int) -> tuple[list[str], list[str]]:
    """(train, test): a seeded permutation of the sorted names, its first round(split · n) for training.

    Only the videos that were read are split, so a skipped file leaves the fractions as asked.

    With two or more videos and split < 1, each side gets at least one.
    """
    names = sorted(names)
    count = round(split * len(names))
    if split < 1 and len(names) >= 2:
        count = min(max(count, 1), len(names) - 1)
    order = np.random.default_rng(seed).permutation(len(names))
    return sorted(names[i] for i in order[:count]), sorted(names[i] for i in order[count:])


def _extract_all(videos: list[Path], out: Path, size: int, progress: Progress | None, crop: str = "none"):
    """Every video into `out/<file name>/` (or `out/<file name>#NNN/` per shot) -> (clip names, frames written,
    skipped [(file, reason)])."""
    clips, frames, skipped = [], 0, []
    for done, video in enumerate(videos, 1):
        try:
            if crop == "none":
                frames += extract(video, out / video.name, size)
                clips.append(video.name)
            else:
                written = extract_shots(video, out, size, crop)
                frames += sum(written.values())
                clips += list(written)
        except InputError as error:
            skipped.append((str(video), str(error)))
        if progress is not None:
            progress(done, len(videos), video.name)
    return clips, frames, skipped


def _split_folders(tmp: Path, clips: list[str], split: float, seed: int) -> tuple[list[str], list[str]]:
    """Moves `tmp/all/<clip>` to `tmp/train/` or `tmp/test/`; the shots of one video (`VIDEO#NNN`) stay together."""
    videos = sorted({_video(clip) for clip in clips})
    train_videos, _ = split_names(videos, split, seed)
    train = [clip for clip in clips if _video(clip) in train_videos]
    test = [clip for clip in clips if clip not in train]
    for name, names in (("train", train), ("test", test)):
        (tmp / name).mkdir()
        for clip in names:
            os.replace(tmp / "all" / clip, tmp / name / clip)
    (tmp / "all").rmdir()
    return train, test


def _video(clip: str) -> str:
    """The video a clip came from: a shot `VIDEO#NNN` (a video file's name always has an extension) or itself."""
    return re.sub(r"#\d{3}$", "", clip)


def extract_shots(video: Path, out: Path, size: int, kind: str) -> dict[str, int]:
    """Pass 1 plans one box per shot (animate's driving crop); pass 2 writes each shot of 2+ frames in which the
    object was found as `out/VIDEO#NNN/`. Returns {clip name: frames}; a video without the object anywhere is an
    InputError."""
    from PIL import Image

    from ..animate.crop import crop
    from ..animate.reframe import plan_stretches

    stretches = plan_stretches(read_frames(video), kind, str(video))
    written, frames = {}, read_frames(video)
    for number, stretch in enumerate(stretches):
        if not stretch.detected:  # a shot without the object would teach the model someone else's box
            frames = islice(frames, stretch.end - stretch.start, None)
            continue
        folder, count = out / f"{video.name}#{number:03d}", 0
        folder.mkdir(parents=True)
        for count, frame in enumerate(islice(frames, stretch.end - stretch.start), 1):
            Image.fromarray(crop(frame, stretch.box, size)).save(folder / f"{count - 1:05d}.png")
        if count < 2:  # a one-frame shot is no training pair
            shutil.rmtree(folder)
        else:
            written[folder.name] = count
    if not written:
        raise InputError(f"{video}: no shot of 2 frames or more")
    return written


def extract(video: Path, folder: Path, size: int) -> int:
    """Writes `video`'s frames as `folder/00000.png …` at size × size; a failure removes the folder."""
    from PIL import Image

    folder.mkdir(parents=True)
    count = 0  # written so far
    try:
        for count, frame in enumerate(read_frames(video), 1):
            Image.fromarray(fit(frame, (size, size), "crop")).save(folder / f"{count - 1:05d}.png")
        if count < 2:
            raise InputError(f"{video}: {count} frame(s), a training clip needs 2")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return count


def _move_into_place(tmp: Path, out_root: Path) -> None:
    settle_mode(tmp, out_root)  # mkdtemp's 0700 would follow the rename
    if out_root.is_dir():
        out_root.rmdir()  # checked empty before we started
    os.replace(tmp, out_root)
