"""Streaming video I/O on PyAV (FFmpeg bundled in the wheel): frames are decoded and encoded one at a time, so
memory does not grow with the length of a video. Audio is copied packet by packet where the container takes it
(`audio.py`), re-encoded only where it does not.

Readers yield RGB uint8 frames (H, W, 3), optionally only those between `start` and `end` seconds. Inputs: any
container FFmpeg reads (mp4, mov, avi, webm, mkv, gif), a still image (one frame) or a directory of PNG/JPG frames in
name order. Outputs: `.mp4`, `.mov`, `.mkv` (H.264), `.webm` (VP9, else AV1), `.gif`, or a folder of PNGs; each
carries a tag naming motrans and the method (`tag`), except a GIF, which has no place for one.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import InputError
from ..files import discard_temporary, make_temporary, naming_full_disk, nearest_existing, replace_folder, settle_mode
from .image import FRAME_EXTENSIONS, MAX_PIXELS, read_image

VIDEO_OUTPUTS = (".mp4", ".mov", ".mkv", ".webm", ".gif")
H264_KINDS = ("mp4", "mov", "mkv")
# The first encoder PyAV's bundled FFmpeg has, per output kind (WebM: VP9, else AV1).
ENCODERS = {"mp4": ("libx264",), "mov": ("libx264",), "mkv": ("libx264",), "webm": ("libvpx-vp9", "libsvtav1"),
            "gif": ("gif",)}
FRAMES_MARKER = ".motrans-frames"  # in every frames output: the proof that --overwrite may replace the folder
FRAME_NAME = re.compile(r"\d{6}\.png")


@dataclass
class VideoInfo:
    fps: float
    frames: int | None  # None when the container does not say
    width: int
    height: int
    has_audio: bool
    start: float = 0.0  # seconds into the file where the frames begin (--start)


def _open(path: Path):
    import av

    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: empty file, not a video")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: not a readable video ({_reason(error)})") from None
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: has no video stream")
    return container


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def frame_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in FRAME_EXTENSIONS)
    if not files:
        raise InputError(f"{directory}: no PNG or JPG frames in this directory")
    return files


def probe(path: str | Path, fps: float | None = None) -> VideoInfo:
    """What a reader of `path` will give: fps (a frames directory takes `fps`, default 25), count, size, audio."""
    path = Path(path)
    if path.is_dir():
        files = frame_files(path)
        height, width = read_image(files[0]).shape[:2]
        return VideoInfo(fps or 25.0, len(files), width, height, False)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > MAX_PIXELS:
            raise InputError(f"{path}: frames of {width}x{height} are more than the {MAX_PIXELS // 10**6}-megapixel "
                             "limit")
        frames = 1 if _still(container) else stream.frames or None
        return VideoInfo(float(rate), frames, width, height, bool(container.streams.audio))
    finally:
        container.close()


def _still(container) -> bool:
    """A single picture (PNG, JPEG, WebP, …) that FFmpeg reads as a one-frame video."""
    return container.format.name == "image2" or container.format.name.endswith("_pipe")


def read_frames(path: str | Path, start: float = 0.0, end: float | None = None,
                fps: float = 25.0) -> Iterator[np.ndarray]:
    """Yields RGB uint8 (H, W, 3) frames one at a time, those shown from `start` to before `end` seconds (a frames
    directory at `fps`); a video that yields none is an InputError."""
    path = Path(path)
    if path.is_dir():
        files = frame_files(path)
        first, stop = round(start * fps), None if end is None else round(end * fps)
        yield from (read_image(p) for p in files[first:stop])
        return
    import av

    container = _open(path)
    count = 0
    try:
        for frame in _decoded(container, start, end):
            count += 1
            yield frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as error:
        if count == 0:
            raise InputError(f"{path}: no decodable video frame ({_reason(error)})") from None
        raise InputError(f"{path}: corrupt or truncated after {count} frames ({_reason(error)})") from None
    finally:
        container.close()
    if count == 0:
        span = f" between {start:g} s and {end:g} s" if end is not None else f" after {start:g} s" if start else ""
        raise InputError(f"{path}: no decodable video frame{span}")


def _decoded(container, start: float, end: float | None):
    """The container's video frames shown in [start, end) seconds; a start seeks to the keyframe before it."""
    stream = container.streams.video[0]
    if start > 0 and stream.time_base:
        container.seek(int(start / stream.time_base), stream=stream, backward=True)
    half = 0.5 / float(stream.average_rate or stream.guessed_rate or 25)  # a frame shown at start - ε counts
    for frame in container.decode(stream):
        time = frame.time
        if time is not None and time < start - half:
            continue
        if end is not None and time is not None and time >= end - half:
            break
        yield frame


def trimmed(info: VideoInfo, start: float, end: float | None) -> VideoInfo:
    """What `read_frames(…, start, end)` gives of a video probed as `info`: the frame count, where known."""
    if not start and end is None:
        return info
    frames = info.frames
    if frames is not None:
        last = frames if end is None else min(frames, round(end * info.fps))
        frames = max(0, last - round(start * info.fps))
    return VideoInfo(info.fps, frames, info.width, info.height, info.has_audio, start)


def output_kind(path: str | Path) -> str:
    """"mp4", "mov", "mkv", "webm", "gif" or "frames" (a folder: one that exists, a path ending in a separator,
    or a name with no extension)."""
    text = str(path)
    if text.endswith(("/", os.sep)) or Path(text).is_dir():
        return "frames"
    suffix = Path(text).suffix.lower()
    if not suffix:
        return "frames"
    if suffix in VIDEO_OUTPUTS:
        return suffix[1:]
    raise InputError(f"{path}: unknown output type {suffix!r}: use {', '.join(VIDEO_OUTPUTS)} or a folder")


def check_output(path: str | Path, overwrite: bool = False) -> str:
    """Fails early on an output that could not or must not be written: unknown type, missing or read-only
    directory, a frames folder that is not ours to replace. Returns the kind."""
    kind = output_kind(path)
    path = Path(path)
    if kind == "frames":
        check_frames_target(path, overwrite)
        parent = nearest_existing(path.parent)  # a new frames folder's missing parents are made at the end
    else:
        parent = path.parent
        if not parent.is_dir():
            raise InputError(f"{path}: its directory {parent} does not exist")
    try:  # root passes os.access everywhere: only a real attempt tells
        tempfile.TemporaryFile(dir=parent).close()
    except OSError:
        raise InputError(f"{path}: directory {parent} is not writable") from None
    return kind


def check_frames_target(path: Path, overwrite: bool) -> None:
    """A frames output goes to a new or empty folder; with `overwrite`, also to one that holds an earlier motrans
    frames output and nothing else, so that `--output ~/Videos --overwrite` can never empty a person's folder."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{path}: exists and is not a folder; a frames output is a folder")
    if not path.is_dir() or not any(path.iterdir()):
        return
    foreign = [p.name for p in sorted(path.iterdir()) if not _ours(p)]
    if foreign or not (path / FRAMES_MARKER).is_file():
        example = f" (e.g. {foreign[0]!r})" if foreign else f" (no {FRAMES_MARKER} marker)"
        raise InputError(f"{path}: the folder holds files motrans did not write{example}; choose a new or empty "
                         "folder (--overwrite replaces only an earlier motrans frames output)")
    if not overwrite:
        raise InputError(f"{path}: holds an earlier frames output; give --overwrite to replace it")


def _ours(entry: Path) -> bool:
    return entry.name == FRAMES_MARKER or (entry.is_file() and FRAME_NAME.fullmatch(entry.name) is not None)


class VideoWriter:
    """Writes frames to a temporary file or folder beside the target and renames it into place on `close()`.

    `abort()` (or leaving a `with` block by an exception) removes everything written: no partial output. A frames
    folder is swapped in whole, marked as ours (FRAMES_MARKER). Into a video container, the audio of `audio_from`
    from `audio_start` seconds on is copied, cut to the video's length (a GIF has none). `tag` is written in the
    container's comment (a PNG's Software text): the provenance of a generated video; by default DEFAULT_TAG.
    """

    def __init__(self, path: str | Path, fps: float, audio_from: str | Path | None = None, overwrite: bool = False,
                 *, audio_start: float = 0.0, tag: str | None = None, say=None):
        self.path, self.fps, self.overwrite = Path(path), fps, overwrite
        self.kind = check_output(path, overwrite)
        self.audio_from = Path(audio_from) if audio_from else None
        self.tag = default_tag() if tag is None else tag
        self.audio_start, self.say = audio_start, say or (lambda message: None)
        home = nearest_existing(self.path.parent)
        self.tmp = make_temporary(home, f".{self.path.name}.motrans-")
        self.count = 0
        self._container = self._stream = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def write(self, frame: np.ndarray) -> None:
        """One RGB uint8 (H, W, 3) frame."""
        with naming_full_disk(self.path):
            if self.kind == "frames":
                self._save_png(frame)
            else:
                self._encode(frame)
        self.count += 1

    def _save_png(self, frame: np.ndarray) -> None:
        from PIL import Image
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        if self.tag:
            info.add_text("Software", self.tag)
        Image.fromarray(frame).save(self.tmp / f"{self.count:06d}.png", pnginfo=info)

    def _encode(self, frame: np.ndarray) -> None:
        import av

        if self._container is None:
            self._container = av.open(str(self.tmp / f"out.{self.kind}"), mode="w")
            if self.tag:
                self._container.metadata["comment"] = self.tag
            self._stream = self._add_video_stream(frame.shape[1], frame.shape[0])
        picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
        for packet in self._stream.encode(picture):
            self._container.mux(packet)

    def _add_video_stream(self, width: int, height: int):
        rate = Fraction(self.fps).limit_denominator(1001)
        codec = video_encoder(self.kind)
        stream = self._container.add_stream(codec, rate=rate)
        if self.kind == "gif":
            stream.pix_fmt = "rgb8"
        else:
            stream.pix_fmt = "yuv420p"
            stream.options = _encoder_options(codec, width * height)
            width, height = width - width % 2, height - height % 2  # yuv420p needs even sizes
        stream.width, stream.height = width, height
        return stream

    def close(self) -> None:
        try:
            if self.count == 0:
                raise InputError(f"{self.path}: no frame to write")
            with naming_full_disk(self.path):
                self._finish()
        except BaseException:
            self.abort()
            raise
        discard_temporary(self.tmp)

    def _finish(self) -> None:
        if self.kind == "frames":
            (self.tmp / FRAMES_MARKER).write_text(f"motrans frames output: {self.count} frames\n")
            check_frames_target(self.path, self.overwrite)  # again: the folder may have changed meanwhile
            self.path.parent.mkdir(parents=True, exist_ok=True)
            replace_folder(self.tmp, self.path)
            return
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
        video = self.tmp / f"out.{self.kind}"
        if self.audio_from is not None:
            video = self._with_audio(video)
        settle_mode(video, self.path)
        os.replace(video, self.path)

    def _with_audio(self, video: Path) -> Path:
        from .audio import add_audio, has_audio

        if not has_audio(self.audio_from):
            return video
        if self.kind == "gif":
            self.say(f"{self.path.name}: a GIF holds no sound; the driving video's audio is left out")
            return video
        return add_audio(video, self.audio_from, self.audio_start, self.count / self.fps, self.tag)

    def abort(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - already failing; the temporary files go regardless
                pass
        discard_temporary(self.tmp)


def default_tag(method: str = "") -> str:
    """`generated by motrans 0.1.0 (image animation[, method M])`: what every output says it is."""
    from .. import __version__

    return f"generated by motrans {__version__} (image animation{f', method {method}' if method else ''})"


def video_encoder(kind: str) -> str:
    """The encoder for an output kind: the first of ENCODERS[kind] that the bundled FFmpeg has."""
    import av

    for name in ENCODERS[kind]:
        try:
            av.codec.Codec(name, "w")
            return name
        except (av.error.FFmpegError, ValueError):  # not built into this FFmpeg
            continue
    raise InputError(f".{kind}: this PyAV's FFmpeg has no {' or '.join(ENCODERS[kind])} encoder; use .mp4")


def _encoder_options(codec: str, pixels: int) -> dict[str, str]:
    """Constant quality, visually lossless for this kind of footage: x264 at crf 18; VP9 at crf 31 (its scale is
    wider: about the same look), row-threaded at a speed setting that keeps encoding cheaper than animating."""
    if codec == "libx264":
        return {"crf": "18", "preset": "medium", **_large_frame_options(pixels)}
    if codec == "libvpx-vp9":
        return {"crf": "31", "b": "0", "deadline": "good", "cpu-used": "4", "row-mt": "1"}
    return {"crf": "35", "preset": "8"}  # SVT-AV1


def _large_frame_options(pixels: int) -> dict[str, str]:
    """x264 keeps about (lookahead + threads) frames in flight: 40 + 1.5·cores at the medium preset, which is 2 GB
    for a 4096×2730 paste-back. Above 2 megapixels it looks 10 frames ahead with at most 4 threads, so memory stays
    near the source's size, and uses the veryfast preset (same crf), so that writing a full-resolution paste-back
    does not cost more than animating it; small frames, every result so far, are encoded as before."""
    return {"rc-lookahead": "10", "threads": "4", "preset": "veryfast"} if pixels > 2_000_000 else {}
