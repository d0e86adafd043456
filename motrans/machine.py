"""What machine a figure was measured on: CPU model, the instruction sets that pick its kernels, and the
settings that override them. Speed ratios and round-off differ between CPUs (AVX2 vs AVX-512, native bfloat16,
VNNI, AMX; MKL and oneDNN choose kernels per CPU), so every benchmark prints this beside its figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# The flags that change which kernels MKL, oneDNN and ATen run.
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")
# Environment variables that make a CPU imitate another's kernels (README, "Tests on any CPU").
KERNEL_SETTINGS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR",
                   "OMP_NUM_THREADS")


def cpu_info(cpuinfo: str | None = None) -> tuple[str, list[str]]:
    """(model name, the FLAGS this CPU has), from /proc/cpuinfo where there is one. The family and model
    numbers follow the name: a virtual machine may name an AMD Zen 3 and a Zen 4 alike ("AMD EPYC")."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text(errors="replace") if path.is_file() else ""
    fields = dict(line.split(":", 1) for line in cpuinfo.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    model = fields.get("model name") or platform.processor() or platform.machine() or "unknown CPU"
    if "cpu family" in fields and "model" in fields:
        model += f" (family {fields['cpu family']} model {fields['model']})"
    present = set(fields.get("flags", "").split())
    return model, [flag for flag in FLAGS if flag in present]


def describe() -> dict:
    """The machine as a JSON-ready dict: CPU, flags, core count, torch and the kernel level it chose."""
    import torch

    model, flags = cpu_info()
    return {"cpu": model, "flags": flags, "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "aten_capability": torch.backends.cpu.get_cpu_capability(),
            "settings": {k: os.environ[k] for k in KERNEL_SETTINGS if k in os.environ},
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}


def summary(machine: dict | None = None) -> str:
    """One line for a benchmark's header, e.g. 'AMD EPYC, 2 cores (avx2); torch 2.13.0 AVX2, 2 threads'."""
    m = machine or describe()
    settings = " ".join(f"{k}={v}" for k, v in m["settings"].items())
    line = (f"{m['cpu']}, {m['cores']} cores ({' '.join(m['flags']) or 'no AVX2'}); torch {m['torch']} "
            f"{m['aten_capability']}, {m['torch_threads']} threads")
    return line + (f"; {settings}" if settings else "") + (f"; GPU {m['gpu']}" if m["gpu"] else "")
