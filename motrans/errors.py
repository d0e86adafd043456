"""One family of errors. The CLI prints `motrans: error: <message>` and exits non-zero."""

import errno

from .files import no_space_message


class MotransError(Exception):
    """Base class: every error motrans raises on purpose."""


class InputError(MotransError):
    """A user's file or argument is missing, unreadable or malformed."""


class ConfigError(MotransError):
    """A config file or field is unknown, ill-typed or inconsistent."""


class CheckpointError(MotransError):
    """A checkpoint is unreadable, unsafe, or does not fit its config."""


def describe(error: Exception) -> str:
    """One line for any failure: ours say what they mean; the rest name their kind (`--debug` shows where)."""
    if isinstance(error, MotransError):
        return str(error)
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return no_space_message(error)
    if isinstance(error, MemoryError):
        return "out of memory (" + (str(error) or "the input or model is too large for this machine") + ")"
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    text = " ".join(str(error).split()) or "no details"
    return f"{type(error).__name__}: {text[:300]} (run with --debug for the traceback)"
