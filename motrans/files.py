"""Atomic outputs: written under a temporary name beside the target, renamed into place only when complete.

A kill, an error or a full disk at any moment leaves either the old output or the new one, never a torn one, and
never a temporary (every path here removes its own in a `finally`; SIGTERM unwinds like Ctrl-C, see cli.py; a
signal that lands between a temporary's creation and that `finally` is covered by `remove_temporaries`).
A new output gets the modes the user's umask gives ordinary files and folders (a temporary file is created 0600
and a temporary folder 0700, and a rename would keep that); a replaced output keeps its own mode.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
from pathlib import Path
from typing import Callable


def current_umask() -> int:
    """The process umask (read from /proc where possible: setting it to read it is not thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def settle_mode(temporary: str | Path, target: str | Path) -> None:
    """Gives `temporary` the mode `target` has, or the umask's default for a new file or folder."""
    folder = os.path.isdir(temporary)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = (0o777 if folder else 0o666) & ~current_umask()
    os.chmod(temporary, mode)


# The temporaries this process made and has not settled (renamed into place or removed). A signal can land
# between a temporary's creation and the `try` or `with` that would remove it; since a name is registered before
# its file or folder exists, `remove_temporaries` (called where the command line catches the signal) leaves none.
_TEMPORARIES: set[Path] = set()


def make_temporary(directory: str | Path, prefix: str, suffix: str = "", folder: bool = True) -> Path:
    """A new empty folder (0700) or file (0600) named prefix + 8 random characters + suffix in `directory`, as
    tempfile.mkdtemp and mkstemp make them, registered for `remove_temporaries` until `settled`."""
    for _ in range(100):
        path = Path(os.path.abspath(directory)) / f"{prefix}{secrets.token_hex(4)}{suffix}"
        _TEMPORARIES.add(path)
        try:
            if folder:
                os.mkdir(path, 0o700)
            else:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return path
        except FileExistsError:  # someone else's: not ours to remove (any other failure keeps the name registered,
            _TEMPORARIES.discard(path)  # since a signal may land after the folder or file was made)
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(directory))


def settled(path: str | Path) -> None:
    """`path` was renamed into place or removed: no longer a temporary of ours."""
    _TEMPORARIES.discard(Path(path))


def discard_temporary(path: str | Path) -> None:
    """Removes a temporary folder (or file) of ours if it is still there, and forgets it."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    settled(path)


def remove_temporaries() -> None:
    """Removes every temporary not settled yet: after a signal stopped the command line."""
    for path in list(_TEMPORARIES):
        discard_temporary(path)


def atomic_write(path: str | Path, write: Callable[[str], None]) -> None:
    """Calls `write(tmp)` on a temporary file beside `path`, fsyncs it, then renames it into place."""
    path = Path(path)
    tmp = str(make_temporary(path.parent, f".{path.name}.", ".tmp", folder=False))
    try:
        with naming_full_disk(path):
            write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        settle_mode(tmp, path)
        os.replace(tmp, path)
    finally:
        discard_temporary(tmp)


def replace_folder(new: Path, target: Path) -> None:
    """Renames folder `new` to `target`; an existing `target` (already checked to be replaceable) is moved aside
    first and removed after, so a failure before the swap leaves the old folder as it was."""
    settle_mode(new, target)
    if not target.exists():
        os.rename(new, target)
        settled(new)
        return
    aside = make_temporary(target.parent, f".{target.name}.old-")
    os.rename(target, aside / target.name)
    try:
        os.rename(new, target)
        settled(new)
    except BaseException:
        os.rename(aside / target.name, target)
        raise
    finally:
        discard_temporary(aside)


@contextlib.contextmanager
def naming_full_disk(target: str | Path):
    """A full disk while writing `target` is reported with `target`'s name (not a temporary's, or none, as PIL
    and FFmpeg give); the free space is measured when the message is printed, after the temporaries are gone."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - re-raised unless it is a full disk
        # Rust writers (safetensors) report it as text: "I/O error: No space left on device (os error 28)"
        full = isinstance(error, OSError) and error.errno == errno.ENOSPC
        if not (full or f"(os error {errno.ENOSPC})" in str(error)):
            raise
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target)) from None


def no_space_message(error: OSError) -> str:
    where = nearest_existing(Path(error.filename or ".").parent)
    free = shutil.disk_usage(where).free
    amount = f"{free / 2**20:.1f} MB" if free >= 2**20 else f"{free // 1024} KB"
    return f"{error.filename or where}: no space left on the device ({amount} free in {where}); nothing was written"


def nearest_existing(path: Path) -> Path:
    """`path` or its closest ancestor that exists (where a temporary for a not-yet-created folder can live)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
