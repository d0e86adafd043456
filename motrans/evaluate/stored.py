"""Stored per-video results of `motrans evaluate`, keyed by content so that a rerun never reuses another model's
figures.

A result is reused only when everything that decides it is unchanged: the checkpoint file's bytes, the config
file's bytes (or the preset's name), the effective model config, the protocol and the video's own bytes. Names
(a method's, a file's) decide nothing: a new checkpoint under an old file name is evaluated again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from ..config import config_to_dict

# Bump when the figures' arithmetic changes (a metric, the protocol): every stored result is then recomputed.
FORMAT = 1
CHUNK = 1 << 20  # hashing reads 1 MiB at a time, so a checkpoint or a video of any size costs little memory
REASONS = {"format": "made by another motrans version", "checkpoint": "made with another checkpoint file",
           "config": "made with another config file", "model": "made with another model config",
           "protocol": "made with another protocol (split, kind or metrics)", "video": "whose video has changed"}


def file_sha256(path: str | Path, digest=None) -> str:
    """SHA-256 of a file's bytes, read in chunks (fed into `digest` when given)."""
    digest = digest or hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def video_sha256(video) -> str:
    """A clip's content: a video or strip file's bytes; a frames folder's ordered file names and their bytes."""
    if video.kind != "frames":
        return file_sha256(video.path)
    digest = hashlib.sha256()
    for file in video.files:
        # The name and size go in before the bytes, so that moving bytes from one frame to the next changes the hash.
        digest.update(f"{file.name}\0{file.stat().st_size}\0".encode())
        file_sha256(file, digest)
    return digest.hexdigest()


def method_key(checkpoint: str | Path, config: str | Path | None, model_config, protocol: dict) -> dict:
    """What decides a method's figures, except the video: file hashes, the model config's hash, the protocol."""
    model = json.dumps(config_to_dict(model_config), sort_keys=True)
    return {"format": FORMAT, "checkpoint": file_sha256(checkpoint), "config": _config_id(config),
            "model": hashlib.sha256(model.encode()).hexdigest(), "protocol": protocol}


def _config_id(config: str | Path | None) -> str | None:
    """A config file's hash; a preset is named (its content is in the model config's hash)."""
    if config is None:
        return None
    return file_sha256(config) if Path(config).is_file() else f"preset:{config}"


def load(path: Path, key: dict) -> tuple[dict | None, str]:
    """(the stored row, "") when `path` holds a result for `key`; else (None, why it is recomputed, "" if absent)."""
    if not path.is_file():
        return None, ""
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, "corrupt or truncated"
    if not isinstance(record, dict) or not isinstance(record.get("row"), dict):
        return None, "corrupt or truncated"
    stored = record.get("key")
    if not isinstance(stored, dict):
        return None, "stored without a content key"
    changed = next((field for field in REASONS if stored.get(field) != key[field]), None)
    return (record["row"], "") if changed is None else (None, REASONS[changed])


def record(row: dict, key: dict) -> str:
    return json.dumps({"row": row, "key": key})


def note(method: str, found: list[tuple[dict | None, str]]) -> str | None:
    """One line for a method's stored results that are recomputed, or None when all are reused or absent.
    `found` holds what `load` returned for each video."""
    counts = Counter(why for _, why in found if why)
    if not counts:
        return None
    total = sum(1 for row, why in found if row is not None or why)
    parts = ", ".join(f"{count} {reason}" for reason, count in counts.most_common())
    return f"motrans: note: {method}: recomputing {sum(counts.values())} of {total} stored results ({parts})"
