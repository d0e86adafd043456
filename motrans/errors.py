"""One family of errors. The CLI prints `motrans: error: <message>` and exits non-zero."""


class MotransError(Exception):
    """Base class: every error motrans raises on purpose."""


class InputError(MotransError):
    """A user's file or argument is missing, unreadable or malformed."""


class ConfigError(MotransError):
    """A config file or field is unknown, ill-typed or inconsistent."""


class CheckpointError(MotransError):
    """A checkpoint is unreadable, unsafe, or does not fit its config."""
