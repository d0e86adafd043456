"""Which engine runs an animation: torch, or onnxruntime on the exported graphs (`motrans.export`).

    animator = load_animator("vox.safetensors", backend="auto")   # says what it chose, and why

"auto" measures instead of guessing: on a CPU it times both engines on a batch of synthetic frames at the model's
size, once per (CPU model, checkpoint, dtype, batch size), and remembers the answer in the user's cache folder
beside the exported graphs (keyed by the checkpoint's SHA-256 and the motrans version, written atomically, so two
processes may export at once). On a GPU it is torch. Under torchrun every rank takes rank 0's choice.
`--dtype int8` is onnxruntime's (static QDQ quantisation); bfloat16 is torch's, and only on CPUs with native bf16.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..data.image import fit
from ..errors import InputError
from ..files import atomic_write
from ..machine import cpu_info
from ..models import Motion
from ..models.estimators.mraa import principal_axes
from .pipeline import Animator, Source, cpu_has_native_bfloat16, resolve_device
from .reframe import model_domain

BACKENDS = ("auto", "torch", "onnxruntime")
DTYPES = ("float32", "bfloat16", "float16", "int8")
CHOICES = "backends.json"
REPEATS = 3  # timed batches per engine, interleaved, after one warm-up each
MEASURE_FROM = 100  # driving frames: below this, "auto" does not export and measure (torch, or the remembered)


def cache_root() -> Path:
    """$MOTRANS_CACHE, else $XDG_CACHE_HOME/motrans, else ~/.cache/motrans."""
    if os.environ.get("MOTRANS_CACHE"):
        return Path(os.environ["MOTRANS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "motrans"


class OnnxRuntimeAnimator(Animator):
    """An Animator whose estimator, source encoder and renderer are onnxruntime sessions on exported graphs.

    The motion transfer, smoothing, best-frame search and AVD stay in torch (K·6 numbers a frame), so the
    streaming loop of `Animator.animate` is the same. MRAA's affines are recomputed from the exported covariance
    with the torch path's SVD, so that their signs are LAPACK's, as the released weights expect.
    """

    def __init__(self, model, directory: Path, int8: bool = False, domain: str | None = None):
        from ..export import read_manifest
        from ..export.onnx_graphs import session

        super().__init__(model, "cpu", "float32", domain)
        self.manifest = read_manifest(directory)
        graphs = self.manifest.graphs  # int8: the quantised graph where the export has one (not the encoder)
        files = {g: graphs.get(f"{g}.int8", graphs[g]).file if int8 else graphs[g].file
                 for g in ("estimator", "encoder", "renderer")}
        self.files = files
        self.sessions = {graph: session(directory / file) for graph, file in files.items()}
        self.label = f"onnxruntime {'int8' if int8 else 'float32'}"

    def _run(self, graph: str, inputs) -> list[torch.Tensor]:
        sess = self.sessions[graph]
        feed = {i.name: t.contiguous().numpy() for i, t in zip(sess.get_inputs(), inputs)}
        return [torch.from_numpy(out) for out in sess.run(None, feed)]

    def _motion(self, images: torch.Tensor) -> Motion:
        motion = Motion(**dict(zip(self.manifest.motion_fields, self._run("estimator", (images,)))))
        if motion.covariance is not None:
            motion.jacobian = principal_axes(motion.covariance)
        return motion

    @torch.inference_mode()
    def encode_source(self, image: np.ndarray, fit_mode: str = "crop") -> Source:
        tensor = self.to_tensor([fit(image, self.frame_size, fit_mode)])
        small, *features = self._run("encoder", (tensor,))
        return Source(tensor, self._motion(tensor), small, features)

    @torch.inference_mode()
    def estimate(self, frames: list[np.ndarray]) -> Motion:
        return self._motion(self.to_tensor(frames))

    @torch.inference_mode()
    def generate(self, source: Source, motion: Motion, background: torch.Tensor | None = None) -> list[np.ndarray]:
        if background is not None:  # reconstruction's background motion: the renderer graph has none
            return super().generate(source, motion, background)
        fields = self.manifest.motion_fields
        inputs = (source.image, source.small, *source.features, *(getattr(source.motion, f) for f in fields),
                  *(getattr(motion, f) for f in fields))
        return self.to_frames(self._run("renderer", inputs)[0])


def check_dtype(device: torch.device, dtype: str, backend: str) -> None:
    """One line instead of a slow or impossible run."""
    if dtype not in DTYPES:
        raise InputError(f"unknown dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if dtype == "int8" and (backend == "torch" or device.type != "cpu"):
        raise InputError("--dtype int8 runs on onnxruntime on the CPU: use --backend auto or onnxruntime "
                         "with --device cpu")
    if dtype in ("bfloat16", "float16") and backend == "onnxruntime":
        raise InputError(f"--dtype {dtype} is torch's: use --backend torch or auto")
    if device.type == "cpu" and dtype == "bfloat16" and not cpu_has_native_bfloat16():
        raise InputError("--dtype bfloat16: this CPU has no native bfloat16 (AVX512-BF16 or AMX), where it runs "
                         "several times slower than float32; use float32, or int8")
    if backend == "onnxruntime" and device.type != "cpu":
        raise InputError(f"--backend onnxruntime runs on the CPU, not {device.type}: use --device cpu")


def load_animator(checkpoint: str | Path, config=None, device: str = "auto", dtype: str = "float32",
                  backend: str = "auto", batch_size: int = 4, say=lambda message: None,
                  frames: int | None = None) -> Animator:
    """The Animator for `backend` ("auto" chooses, see the module docstring), loaded from `checkpoint`.

    `frames`, the driving video's length where known: "auto" does not export and measure for fewer than
    MEASURE_FROM frames, or an unknown count (the one-time cost would not pay off); it then takes a remembered
    choice, or torch. In Python, frames=MEASURE_FROM asks for the measurement.
    """
    from ..checkpoints import load_model_and_config

    resolved = resolve_device(device)
    check_dtype(resolved, dtype, backend)
    installed = importlib.util.find_spec("onnxruntime") is not None
    if backend != "auto" or dtype == "int8":
        if backend != "torch" and not installed:
            raise InputError("--backend onnxruntime and --dtype int8 need onnxruntime: pip install onnxruntime onnx")
    if backend == "torch" or resolved.type != "cpu" or dtype in ("bfloat16", "float16") or not installed:
        if backend == "auto":
            say(f"backend auto: torch ({resolved.type}, {dtype}{'' if installed else ', onnxruntime not installed'})")
        return Animator.from_checkpoint(checkpoint, config, device, dtype)
    model, full = load_model_and_config(checkpoint, config)
    key, domain = model_key(checkpoint, config), model_domain(full)
    if backend == "auto" and dtype == "float32":
        built: dict[str, Animator] = {}  # what rank 0 measured with, kept rather than loaded again
        choice = from_rank_zero(lambda: auto_choice(model, key, domain, batch_size, frames, say, built))
        if choice in built:
            return built[choice]
        if choice == "torch":
            return Animator(model, "cpu", "float32", domain)
    directory = exported(model, key, "int8" if dtype == "int8" else "float32", say)
    return OnnxRuntimeAnimator(model, directory, dtype == "int8", domain)


def auto_choice(model, key: str, domain: str | None, batch_size: int, frames: int | None, say,
                built: dict[str, Animator]) -> str:
    """"torch" or "onnxruntime" for float32 on this CPU: remembered, else measured now (and remembered; the
    animators measured go into `built`), or torch without measuring where the video is too short to pay for the
    export."""
    choice_key = f"{cpu_info()[0]}|{key}|float32|batch {batch_size}"
    entry = remembered().get(choice_key)
    how = "remembered"
    if entry is None:
        if frames is None or frames < MEASURE_FROM:
            count = "a video of unknown length is" if frames is None else f"{frames} frames are"
            say(f"backend auto: torch ({count} too few to pay for the one-time ONNX export and measurement, "
                f"made from {MEASURE_FROM} frames on; --backend onnxruntime forces it)")
            return "torch"
        onnx = OnnxRuntimeAnimator(model, exported(model, key, "float32", say), False, domain)
        built.update(torch=Animator(model, "cpu", "float32", domain), onnxruntime=onnx)
        entry = {name: round(seconds, 4) for name, seconds in measure(built, batch_size).items()}
        entry["choice"] = min(built, key=lambda name: entry[name])
        how = "measured now"
        remember(choice_key, entry)
    say(f"backend auto: {entry['choice']} (onnxruntime {entry['torch'] / entry['onnxruntime']:.2f}x torch's speed "
        f"on this CPU, {how}; --backend torch or onnxruntime to override)")
    return entry["choice"]


def model_key(checkpoint: str | Path, config) -> str:
    """The checkpoint's SHA-256 (with the --config it was read with, if any), in short."""
    from ..export import sha256

    digest = sha256(checkpoint)
    if config is not None:
        digest = sha256_text(digest + str(config))
    return digest[:20]


def sha256_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def exported(model, key: str, dtype: str, say) -> Path:
    """The cached export of this checkpoint for this motrans version, made now if it is not there yet."""
    from ..export import export_model, read_manifest

    directory = cache_root() / "onnx" / f"{key}-{__version__}-{dtype}"
    if (directory / "manifest.json").is_file():
        read_manifest(directory)
        return directory
    say(f"exporting the model to ONNX ({dtype}) once, into {directory}")
    directory.parent.mkdir(parents=True, exist_ok=True)
    export_model(model, directory, dtype=dtype, checkpoint_sha256=None)
    return directory


def measure(animators: dict[str, Animator], batch_size: int) -> dict[str, float]:
    """Median seconds per batch of `batch_size` synthetic frames (estimate + render), interleaved runs."""
    steps, _ = batch_steps(animators, batch_size)
    return {name: statistics.median(seconds) for name, seconds in timed_rounds(steps, REPEATS).items()}


def batch_steps(animators: dict[str, Animator], batch_size: int) -> tuple[dict[str, Callable[[], object]], list]:
    """For each animator, one batch of `batch_size` synthetic puppet frames estimated and rendered from a source
    encoded once; and the frames (the source first)."""
    from ..export.quantize import puppet_frames

    frames = puppet_frames(next(iter(animators.values())).frame_size, batch_size + 1, seed=1)
    sources = {name: a.encode_source(frames[0]) for name, a in animators.items()}
    steps = {name: (lambda a=a, name=name: a.generate(sources[name], a.estimate(frames[1:])))
             for name, a in animators.items()}
    return steps, frames


def timed_rounds(steps: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Seconds of every step in each of `repeats` interleaved rounds (a shared machine's load then weighs on all
    alike), after one warm-up round: onnxruntime's and oneDNN's first calls plan their kernels."""
    for step in steps.values():
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return times


def remembered() -> dict:
    try:
        return json.loads((cache_root() / CHOICES).read_text())
    except (OSError, ValueError):
        return {}


def remember(key: str, entry: dict) -> None:
    path = cache_root() / CHOICES
    path.parent.mkdir(parents=True, exist_ok=True)
    choices = {**remembered(), key: entry}
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(choices, indent=2) + "\n"))


def from_rank_zero(decide: Callable[[], str]) -> str:
    """Under torchrun only rank 0 decides (exporting and measuring if need be) and every rank takes its answer, so
    that all outputs come from one engine and the ranks make the same collective calls."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        box = [decide() if torch.distributed.get_rank() == 0 else None]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]
    return decide()
