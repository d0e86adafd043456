"""Epoch-dependent parts of a training recipe that are not learning rates (those are MultiStepLR's)."""

from __future__ import annotations

from ..config import TPSDropoutConfig
from ..errors import ConfigError


def tps_dropout(config: TPSDropoutConfig, epoch: int) -> float | None:
    """TPSMM's dropout probability for `epoch`, or None once it is over (a plain softmax from then on).

    p = min(epoch / ramp_epochs · max_p + start_p, max_p), in the authors' order of operations. A p of 0 still
    means dropout: their masked softmax differs from a plain one by the +1e-6 of its denominator.
    """
    if epoch >= config.until_epoch:
        return None
    return min(epoch / config.ramp_epochs * config.max_p + config.start_p, config.max_p)


def check_tps_dropout(config: TPSDropoutConfig, method: str) -> None:
    """A ConfigError for a schedule that cannot run: on a model without TPS dense motion, or out of range."""
    if config.until_epoch <= 0:
        return
    if method != "tpsmm":
        raise ConfigError(f"train.tps_dropout needs TPSMM's dense motion (model.estimator.method: tpsmm), not {method}")
    if config.ramp_epochs <= 0:
        raise ConfigError(f"train.tps_dropout.ramp_epochs must be positive, got {config.ramp_epochs}")
    for name in ("start_p", "max_p"):
        if not 0 <= getattr(config, name) <= 1:
            raise ConfigError(f"train.tps_dropout.{name} must lie in [0, 1], got {getattr(config, name)}")
