"""What the page does, without the page: receive an upload, check it as the CLI does, animate, report.

Every check is the CLI's own function (`read_image`, `probe`, `read_frames`, `animate_video`'s), so a bad file
gets the very words `motrans animate` prints: the message names the file as a person named it, as if the CLI had
been run inside the visitor's job folder. Gradio does not import here, so all of it is tested without a browser.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from ..animate import AnimateOptions, animate_video
from ..errors import describe
from ..data.image import read_image
from ..data.video import probe, read_frames
from ..errors import InputError, MotransError
from ..progress import Progress, note
from ..validate import inside
from .jobs import Jobs
from .models import Models


class Cancelled(MotransError):
    """The visitor pressed Cancel (or left): the job stops and writes nothing."""


@dataclass
class Site:
    """What every handler of one server shares."""

    models: Models
    jobs: Jobs
    upload_roots: list[Path]  # the only places an upload may come from: Gradio's upload folder, the examples
    examples: list[tuple[Path, Path]]
    max_seconds: float


@dataclass(frozen=True)
class Job:
    """One animation as the form describes it; `source` and `driving` are files in the job folder."""

    source: Path
    driving: Path
    model: str
    dtype: str = "float32"
    keypoints: bool = False  # draw the model's keypoints on the result, as `motrans demo --show-keypoints`
    options: AnimateOptions = AnimateOptions()


def error_line(error: BaseException, folder: Path | None = None) -> str:
    """The line the CLI would print, with the job folder left out of paths (as if run inside it)."""
    text = describe(error) if isinstance(error, Exception) else "interrupted"
    if folder is not None:
        text = text.replace(f"{Path(folder).resolve()}{os.sep}", "").replace(f"{folder}{os.sep}", "")
    return f"motrans: error: {text}"


def received(upload, roots: list[Path], folder: Path, avoid: str | None = None) -> Path:
    """Gradio's upload payload (a dict with `path` and `orig_name`, or a path) -> the file, linked into the job
    folder under the name its owner gave it. A path outside `roots` (Gradio's upload folder, the examples) is
    refused: a crafted request cannot make the page read /etc/passwd."""
    path, name = _payload(upload)
    real = Path(path).resolve()
    if not any(real.is_relative_to(Path(root).resolve()) for root in roots) or not real.is_file():
        raise InputError(f"{name}: not a file uploaded to this page; refused")
    name = _plain_name(name)
    if name == avoid:  # source and driving share a name: keep both
        name = f"driving-{name}"
    target = inside(folder, name, "upload")
    target.unlink(missing_ok=True)
    try:
        os.link(real, target)
    except OSError:  # another file system
        shutil.copyfile(real, target)
    return target


def _payload(upload) -> tuple[str, str]:
    if isinstance(upload, dict):
        path = upload.get("path") or ""
        return str(path), str(upload.get("orig_name") or Path(str(path)).name)
    if isinstance(upload, (str, Path)):
        return str(upload), Path(upload).name
    raise InputError("no file: upload one first")


def _plain_name(name: str) -> str:
    """The last part of a browser-given name, without control characters; never empty, never hidden."""
    base = Path(name.replace("\\", "/")).name
    base = "".join(c for c in base if c.isprintable() and c not in "/\\:").strip().lstrip(".")
    return base[:120] or "upload"


def check_source(path: Path) -> None:
    read_image(path)


def check_driving(path: Path, max_seconds: float) -> float:
    """The CLI's checks (probe, one decoded frame), then the page's length limit. Returns the length in seconds."""
    info = probe(path)
    next(iter(read_frames(path)))
    frames = info.frames
    if frames is None:  # the container does not say: count, but never past the limit
        frames = sum(1 for _ in islice(read_frames(path), int(max_seconds * info.fps) + 2))
    seconds = frames / info.fps
    if seconds > max_seconds:
        raise InputError(f"{path}: the video lasts {seconds:.1f} s, more than this page's limit of {max_seconds:g} s "
                         "(motrans web --max-seconds)")
    return seconds


def output_name(job: Job) -> str:
    return f"{job.source.stem}_by_{job.driving.stem}.mp4"


def run_job(job: Job, models: Models, folder: Path, cancel: threading.Event,
            report: Callable[[int, int | None, str], None] | None = None, max_seconds: float = 120.0) -> Path:
    """Animates `job` into an H.264 mp4 in `folder`; `report(done, total, line)` after each frame. Raises
    Cancelled when `cancel` is set; the output then does not exist."""
    check_driving(job.driving, max_seconds)
    animator = models.get(job.model, job.dtype)
    total = probe(job.driving).frames
    progress = Progress(total, enabled=False)

    def on_frame() -> None:
        progress.update()
        if report is not None:
            report(progress.count, total, progress.line())

    watched = Watched(animator, on_frame, cancel, job.keypoints)
    name, start = f"{folder.name[:6]}: {job.source.name} by {job.driving.name}", time.monotonic()
    note(f"job {name}: started")  # the server's log: one job per device at a time
    try:
        output = animate_video(job.source, job.driving, folder / output_name(job), options=job.options,
                               animator=watched, quiet=True)
    finally:
        note(f"job {name}: ended after {time.monotonic() - start:.1f} s")
    return output


class Watched:
    """An Animator whose `animate` reports every frame, stops when `cancel` is set, and can draw keypoints.
    Everything else is the wrapped animator's, so `animate_video` runs exactly as for the CLI."""

    def __init__(self, animator, on_frame: Callable[[], None], cancel: threading.Event, keypoints: bool = False):
        self.animator, self.on_frame, self.cancel, self.keypoints = animator, on_frame, cancel, keypoints

    def __getattr__(self, name: str):
        return getattr(self.animator, name)

    def animate(self, *args, **kwargs):
        from ..train.logging import draw_keypoints

        for frame in self.animator.animate(*args, **kwargs):
            if self.cancel.is_set():
                raise Cancelled("cancelled: nothing was written")
            if self.keypoints:  # measured on the result itself, as `motrans demo --show-keypoints` does
                frame = draw_keypoints(frame, self.animator.estimate([frame]).kp[0])
            self.on_frame()
            yield frame


def explain_picture(models: Models, label: str, image: Path, source: Path | None = None, tokens: str = "",
                    layers: str = "", heads: str = "mean") -> np.ndarray:
    """`motrans explain --image` on the page: the figure of what the model sees, (H, W, 3) uint8, with the same
    selection flags and their words (`--tokens`, `--layers`, `--heads`)."""
    from ..explain.panels import numbers
    from ..explain import Selection, compose, explain, figure

    selection = Selection(tokens=numbers("--tokens", tokens.strip() or None),
                          layers=numbers("--layers", layers.strip() or None), heads=heads,
                          source=source is not None)
    arrays = explain(models.get(label).model, read_image(image), None if source is None else read_image(source))
    return compose(figure(arrays, selection), f"{image.name}: what {label} sees")


def form_options(mode: str = "relative", adapt_scale: str = "auto", find_best_frame: bool = False,
                 fit: str = "crop", crop: str = "auto", crop_scale=None, object=None, driving_crop: str = "",
                 driving_object=None, paste_back: str = "auto", side_by_side: bool = False, smooth=0.0,
                 fps=None, audio: bool = True, max_side=4096, batch_size=4, start=None, end=None) -> AnimateOptions:
    """The form's values (blank or 0 meaning "the default", as the CLI's absent flag) -> AnimateOptions."""
    switch = {"auto": None, "on": True, "off": False}
    for name, value in (("adapt scale", adapt_scale), ("paste back", paste_back)):
        if value not in switch:
            raise InputError(f"{name} {value!r}: use auto, on or off")
    return AnimateOptions(mode=mode, adapt_scale=switch[adapt_scale], find_best_frame=bool(find_best_frame),
                          batch_size=_whole(batch_size) or 4, fit=fit, fps=_number(fps) or None,
                          audio=bool(audio), side_by_side=bool(side_by_side), crop=(crop or "auto").strip(),
                          crop_scale=_number(crop_scale) or None, object=_whole(object) or None,
                          driving_crop=(driving_crop or "").strip() or None,
                          driving_object=_whole(driving_object) or None, paste_back=switch[paste_back],
                          max_side=_whole(max_side) or 4096, smooth=_number(smooth) or 0.0,
                          start=_number(start) or 0.0, end=_number(end))


def _number(value):
    """A form number: None stays None; text is read as a number where it is one (the checks reject the rest)."""
    if isinstance(value, str):
        try:
            return float(value) if value.strip() else None
        except ValueError:
            return value
    return value


def _whole(value):
    """A whole form number as int (3.0 -> 3); anything else unchanged, for `whole()` to reject in the CLI's words."""
    value = _number(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
