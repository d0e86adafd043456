"""Training pairs and test videos from a dataset folder `root/{train,test}/`, as the authors' `frames_dataset.py`.

A clip in a split folder is any of:
  * a folder of PNG/JPG frames, read in name order (the authors' layout: `<clip>/00000.png …`; FOMM names these
    folders `….mp4`, so a folder is recognised as a folder whatever its name);
  * a video file (.mp4 .gif .mov .avi .webm .mkv), decoded with PyAV;
  * a still image whose width is T × its height, T > 1: T square frames side by side (the MGIF png layout).
Other files and hidden entries are ignored. A list file (the authors' `train_list_*.txt`, one `clip/frame.png`
a line) restricts a training clip to its listed frames; for the test split only its clip names are used and
every frame of those clips is read (../shared/reference/mtia.md §5).

Sampling repeats exactly: sample `index` of epoch `e` draws from `np.random.default_rng([seed, e, index])`, so
it does not depend on the number of DataLoader workers or the order they run in (the authors' workers shared one
numpy stream; mtia.md §5). Call `set_epoch(e)` before each epoch; with `persistent_workers=True` the workers
keep the epoch they were started with.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..config import DataConfig
from ..errors import ConfigError, InputError
from .augment import augment
from .image import FRAME_EXTENSIONS, fit, read_image
from .video import frame_files, probe, read_frames

VIDEO_EXTENSIONS = (".mp4", ".gif", ".mov", ".avi", ".webm", ".mkv")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class VideoEntry:
    """One clip. `kind` is "frames" (a folder; `files` are its frames), "video" or "strip" (frames side by side)."""

    name: str
    path: Path
    kind: str
    count: int
    files: tuple[Path, ...] = ()

    def frames(self) -> Iterator[np.ndarray]:
        """Every frame in order, RGB uint8 (H, W, 3), read one at a time."""
        if self.kind == "frames":
            yield from (read_image(file) for file in self.files)
        elif self.kind == "strip":
            strip = read_image(self.path)
            yield from (_cell(strip, i) for i in range(self.count))
        else:
            yield from read_frames(self.path)

    def read(self, indices: Sequence[int]) -> list[np.ndarray]:
        """The frames at ascending `indices` (repeats allowed); a video is decoded only up to the last one."""
        if self.kind == "frames":
            return [read_image(self.files[i]) for i in indices]
        if self.kind == "strip":
            strip = read_image(self.path)
            return [_cell(strip, i) for i in indices]
        return self._decode(indices)

    def _decode(self, indices: Sequence[int]) -> list[np.ndarray]:
        wanted, last, found, position = set(indices), max(indices), {}, -1
        stream = read_frames(self.path)
        try:
            for position, frame in enumerate(stream):
                if position in wanted:
                    found[position] = frame  # only the wanted frames are kept
                if position == last:
                    break
        finally:
            stream.close()
        if last not in found:
            raise InputError(f"{self.path}: ends after {position + 1} frames, {self.count} were counted (truncated?)")
        return [found[i] for i in indices]


def _cell(strip: np.ndarray, index: int) -> np.ndarray:
    """Frame `index` of a strip of square frames, (H, T·H, 3) -> (H, H, 3)."""
    height = strip.shape[0]
    return np.ascontiguousarray(strip[:, index * height: (index + 1) * height])


# ---------------------------------------------------------------------------------------------------- scanning
def split_folder(root: str | Path, split: str) -> Path:
    """`root/split`, checked: a missing root or split folder is an InputError naming it."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    if not str(root):
        raise InputError("no dataset root given (data.root is empty)")
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: dataset root does not exist")
    folder = root / split
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder (a dataset root holds train/ and test/)")
    return folder


def read_list(path: str | Path, root: str | Path = "") -> dict[str, list[str]]:
    """An authors' list file -> {clip name: [frame file names]}; a relative path is tried from cwd, then `root`."""
    path = Path(path)
    if not path.is_file() and not path.is_absolute() and (Path(root) / path).is_file():
        path = Path(root) / path
    if not path.is_file():
        raise InputError(f"{path}: no such list file")
    clips: dict[str, list[str]] = {}
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if "/" not in line:
            raise InputError(f"{path}:{number}: expected `clip/frame.png`, got {line!r}")
        clip, frame = line.rsplit("/", 1)
        clips.setdefault(clip, []).append(frame)
    if not clips:
        raise InputError(f"{path}: empty list file")
    return clips


def scan(folder: Path, listed: dict[str, list[str]] | None = None, restrict: bool = False):
    """The clips of a split folder -> (entries, skipped [(name, reason)]); `restrict` keeps only listed frames."""
    if listed is not None:
        names = sorted(listed)
    else:
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and _is_clip(p))
    if not names:
        raise InputError(f"{folder}: empty: no frame folders, videos or image strips")
    entries, skipped = [], []
    for name in names:
        try:
            entries.append(_entry(folder / name, listed[name] if restrict else None))
        except InputError as error:
            skipped.append((name, str(error)))
    return entries, skipped


def _is_clip(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in VIDEO_EXTENSIONS + FRAME_EXTENSIONS


def _entry(path: Path, frames: list[str] | None) -> VideoEntry:
    if path.is_dir():
        return _folder_entry(path, frames)
    if not path.is_file():
        raise InputError(f"{path}: no such clip")
    if frames is not None:
        raise InputError(f"{path}: a list file names frames of a folder, but this clip is a file")
    if path.suffix.lower() in FRAME_EXTENSIONS:
        return _strip_entry(path)
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return _video_entry(path)
    raise InputError(f"{path}: not a frame folder, video or image strip")


def _folder_entry(path: Path, frames: list[str] | None) -> VideoEntry:
    files = frame_files(path)
    if frames is not None:
        present = {file.name for file in files}
        missing = [frame for frame in frames if frame not in present]
        if missing:
            raise InputError(f"{path}: {len(missing)} listed frames are missing (first: {missing[0]})")
        files = [path / frame for frame in sorted(set(frames))]
    return VideoEntry(path.name, path, "frames", len(files), tuple(files))


def _strip_entry(path: Path) -> VideoEntry:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"{path}: not a readable image ({reason})") from None
    return VideoEntry(path.name, path, "strip", _strip_count(width, height))


def _strip_count(width: int, height: int) -> int:
    return width // height if width % height == 0 and width > height else 1


def _video_entry(path: Path) -> VideoEntry:
    """Probes the container once; one that does not report its length is decoded once to count."""
    info = probe(path)
    count = info.frames or sum(1 for _ in read_frames(path))
    if count == 1 and path.suffix.lower() == ".gif" and _strip_count(info.width, info.height) > 1:
        return _strip_entry(path)  # a still GIF holding a strip
    return VideoEntry(path.name, path, "video", count)


def _usable(entries: list[VideoEntry], skipped: list, minimum: int) -> list[VideoEntry]:
    kept = []
    for entry in entries:
        if entry.count >= minimum:
            kept.append(entry)
        else:
            skipped.append((entry.name, f"{entry.path}: {entry.count} frame(s), need {minimum}"))
    return kept


def _warn_skipped(folder: Path, skipped: list, total: int) -> None:
    if skipped:
        warnings.warn(f"{folder}: skipped {len(skipped)} of {total} clips (first: {skipped[0][1]})", stacklevel=3)


def test_videos(root: str | Path, split: str = "test", list_file: str | Path = "") -> list[VideoEntry]:
    """The clips of a split for reconstruction, each read whole and in order; a list file picks the clips."""
    folder = split_folder(root, split)
    listed = read_list(list_file, root) if str(list_file) else None
    entries, skipped = scan(folder, listed)
    total = len(entries) + len(skipped)
    kept = _usable(entries, skipped, 1)
    _warn_skipped(folder, skipped, total)
    if not kept:
        raise InputError(f"{folder}: no readable clip ({skipped[0][1]})")
    return kept


# ---------------------------------------------------------------------------------------------------- datasets
class FramesDataset(Dataset):
    """(source, driving) pairs from the clips of one split.

    Train split: `id_sampling` makes one item per identity (the clip name before the first '#') and picks one of
    its clips at random; augmentations follow `config.augment`. The test split has one item per clip, without
    augmentation, as in the authors' code. Frames are brought to `frame_size` (H, W) by centre crop.
    """

    def __init__(self, config: DataConfig, frame_size: tuple[int, int], split: str = "train", seed: int = 0):
        if seed < 0:
            raise ConfigError(f"seed must be >= 0, got {seed}")
        self.config, self.frame_size, self.split, self.seed = config, tuple(frame_size), split, seed
        self.train, self.epoch = split == "train", 0
        _check_augment(config, self.frame_size)
        self.folder = split_folder(config.root, split)
        self.entries, self.skipped = self._load()
        self.groups = self._group() if self.train and config.id_sampling else [[i] for i in range(len(self.entries))]

    def _load(self) -> tuple[list[VideoEntry], list]:
        list_file = self.config.train_list if self.train else self.config.test_list
        listed = read_list(list_file, self.config.root) if list_file else None
        entries, skipped = scan(self.folder, listed, restrict=self.train and listed is not None)
        total = len(entries) + len(skipped)
        entries = _usable(entries, skipped, 2)
        _warn_skipped(self.folder, skipped, total)
        if not entries:
            raise InputError(f"{self.folder}: no usable clip, all {total} skipped (first: {skipped[0][1]})")
        return entries, skipped

    def _group(self) -> list[list[int]]:
        """Clip indices per identity, identities in name order."""
        groups: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            groups.setdefault(identity(entry.name), []).append(i)
        return [groups[name] for name in sorted(groups)]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, index: int) -> dict:
        return self.sample(index, index)

    def sample(self, index: int, key: int) -> dict:
        """Item `index` with randomness from `key` (`Repeated` passes the unwrapped index, so repeats differ).

        Returns source and driving (3, H, W) float32 in [0, 1] and the clip name.
        """
        rng = np.random.default_rng([self.seed, self.epoch, key])
        group = self.groups[index]
        entry = self.entries[group[rng.integers(len(group))]]  # a random clip of the identity
        pair = np.sort(rng.choice(entry.count, size=2, replace=True))  # source index <= driving index
        frames = [fit(frame, self.frame_size, "crop").astype(np.float32) / 255 for frame in entry.read(pair)]
        if self.train:
            frames = augment(frames, self.config.augment, rng)
        source, driving = (torch.from_numpy(np.ascontiguousarray(f.transpose(2, 0, 1))) for f in frames)
        return {"source": source, "driving": driving, "name": entry.name}


def identity(name: str) -> str:
    """VoxCeleb-style identity: the clip name before the first '#' (`id10001#abc#001.mp4` -> `id10001`)."""
    return name.split("#", 1)[0]


def _check_augment(config: DataConfig, frame_size: tuple[int, int]) -> None:
    """Augmented frames must come back at the model's size, or batches could not be stacked."""
    crop = config.augment.crop
    if crop and tuple(crop) != frame_size:
        raise ConfigError(f"data.augment.crop {list(crop)} must equal model.frame_size {list(frame_size)}")
    if config.augment.resize_ratio and not crop:
        raise ConfigError("data.augment.resize_ratio needs data.augment.crop to bring frames back to size")
    if config.augment.resize_ratio and len(config.augment.resize_ratio) != 2:
        raise ConfigError(f"data.augment.resize_ratio must be (low, high), got {list(config.augment.resize_ratio)}")


class Repeated(Dataset):
    """`num_repeats` passes over a dataset as one epoch, like the authors' DatasetRepeater."""

    def __init__(self, dataset: Dataset, num_repeats: int):
        if num_repeats < 1:
            raise ConfigError(f"num_repeats must be >= 1, got {num_repeats}")
        self.dataset, self.num_repeats = dataset, num_repeats

    def __len__(self) -> int:
        return len(self.dataset) * self.num_repeats

    def __getitem__(self, index: int):
        inner = index % len(self.dataset)
        sample = getattr(self.dataset, "sample", None)
        return sample(inner, index) if sample else self.dataset[inner]

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
