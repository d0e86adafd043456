"""The hostile-input contract, checked the same way for every case of the corpus (issue: hardening).

A case builds its files in a folder, runs one motrans command, and must end with: the expected exit status,
exactly one stderr line `motrans: error: …` containing the expected words (no traceback), and the folder exactly
as it was before, byte for byte and mode for mode (no output, no temporary left behind, no input modified).
"""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from motrans.cli import main


@dataclass
class Case:
    """`build(folder) -> argv` writes the case's inputs into `folder` and returns the command's arguments."""

    name: str
    build: Callable[[Path], list[str]]
    expect: str  # words the error line must contain (e.g. the file or value named)
    status: int = 1
    subprocess: bool = False  # run `python -m motrans` in a child (signals, memory limits, data-loader workers)
    memory_mb: int = 0  # with subprocess: the child's address-space limit (hostile configs must stay under it)
    env: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every file, folder and link below `folder`: (kind, mode, content hash)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root, name)
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else ""
            out[str(path.relative_to(folder))] = (info.st_mode, digest)
    return out


def run(case: Case, argv: list[str], folder: Path, capsys=None) -> tuple[int, str]:
    if not case.subprocess:
        status = main(argv)
        return status, capsys.readouterr().err
    return run_child(argv, folder, case.memory_mb, case.env)


def run_child(argv: list[str], folder: Path, memory_mb: int = 0, env: dict | None = None,
              timeout: float = 300) -> tuple[int, str]:
    def limit():
        if memory_mb:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))

    child_env = {**os.environ, **(env or {})}
    child_env.pop("MOTRANS_DEBUG", None)
    result = subprocess.run([sys.executable, "-m", "motrans", *argv], cwd=folder, capture_output=True, text=True,
                            preexec_fn=limit, env=child_env, timeout=timeout)
    return result.returncode, result.stderr


def check(case: Case, folder: Path, capsys=None) -> None:
    """Runs `case` in `folder` and asserts the whole contract."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = case.build(folder)
    before = snapshot(folder)
    status, err = run(case, argv, folder, capsys)
    assert_one_line(err, case.expect)
    assert status == case.status, (status, err)
    assert snapshot(folder) == before, "the command left, removed or changed files: " + err


def assert_one_line(err: str, expect: str) -> None:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("motrans: error: "), err
    assert expect in lines[0], (expect, err)
