"""The authors' codebases, one module each: how to recognise its YAML and its checkpoints, the YAML translation, the
exhaustive checkpoint key map, what it released, and the quirks we keep.

Every module offers the same names: `LAYOUT`, `REPOSITORY`, `METHOD` (our `model.estimator.method`), `ARTICLED`
and `LOOKS_LIKE` (for messages), `YAML_NEEDED` (why a checkpoint needs its YAML; "" when its shapes say all),
`RELEASES`; for YAML files `matches_yaml(data)` and `translate(data, source)`; for checkpoints `matches(checkpoint)`,
`convert(checkpoint)`, `config_from(state)`, `shape_config(state)` and `follow_state(config, state)`. Adding a
codebase is one module and one line in `CODEBASES` (see docs/architecture.md).

`motrans.config` cannot import this package (it imports `config`), so `load_config` reads the authors' files through
the reader registered below, when `motrans` is imported.
"""

from __future__ import annotations

from types import ModuleType

from .. import config
from . import fomm, mraa, mtia, tpsmm

# In the order a YAML file is recognised: MTIA last, whose test (the authors' top-level keys) the others pass too.
CODEBASES: tuple[ModuleType, ...] = (fomm, mraa, tpsmm, mtia)


def yaml_codebase(data: object) -> ModuleType | None:
    """The codebase whose YAML layout `data` (a parsed file) has, or None (ours, or none known)."""
    return next((c for c in CODEBASES if isinstance(data, dict) and c.matches_yaml(data)), None)


def checkpoint_codebase(checkpoint: dict) -> ModuleType | None:
    """The codebase whose checkpoint layout `checkpoint` (an unpickled dict) has, or None."""
    return next((c for c in CODEBASES if c.matches(checkpoint)), None)


def translate(data: object, source: str) -> object:
    """An authors' YAML dict in our layout; anything else unchanged."""
    codebase = yaml_codebase(data)
    return data if codebase is None else codebase.translate(data, source)


def whose_file(name: str) -> str:
    """For a YAML file name that is not here: whose file it is and the preset that is that file, or ""."""
    owners = sorted(((c, r) for c in CODEBASES for r in c.RELEASES if r.yaml == name), key=lambda o: not o[1].preset)
    if not owners:
        return ""
    codebase, release = owners[0]
    if release.preset:
        also = [f"{c.LAYOUT}'s" for c, _ in owners[1:]]
        return (f"it is the authors' {codebase.LAYOUT} file ({codebase.REPOSITORY}, config/{name}); our preset "
                f"{release.preset} is that file but for its data paths: use --config {release.preset}"
                + (f"; {' and '.join(also)} {name} is another file (README: Weights)" if also else ""))
    where = " or ".join(f"{c.REPOSITORY}'s config/{name}" for c, _ in owners)
    return f"it is an authors' file: {where} (README: Weights)"


config.read_authors_layouts(translate, whose_file)
