"""The pairs file of `motrans animate --pairs`: a CSV whose header names its columns, one animation job per row.

    source,driving,output,mode,crop
    photos/ann.jpg,clips/talk.mp4,ann-talk.mp4,relative,face
    photos/bob.jpg,clips/talk.mp4,,absolute,

`source` and `driving` are required, relative to the pairs file's folder; `output` is relative to the output
folder (default: SOURCE_DRIVING.mp4); any other column is an option of `motrans animate` by its flag name
(`crop-scale` or `crop_scale`), and an empty cell keeps the command line's value. A mistake in the file itself (a
missing column, an unknown one, two rows writing one output) stops the batch before any work; a bad value in a
row fails that row alone.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields, replace
from pathlib import Path, PurePosixPath

from ..errors import InputError
from .video import AnimateOptions

REQUIRED = ("source", "driving")
NOT_PER_ROW = ("overwrite",)  # the batch owns its output folder and replaces what it recomputes
OPTIONS = {f.name: str(f.type) for f in fields(AnimateOptions) if f.name not in NOT_PER_ROW}
RESERVED = ("report.csv", ".motrans")  # what the batch itself writes in the output folder
TRUE, FALSE, UNSET = ("1", "true", "yes", "on"), ("0", "false", "no", "off"), ("auto", "default", "none")
WORDS = {"bool": "true or false", "int": "a whole number", "float": "a number"}


@dataclass(frozen=True)
class Job:
    """One row: its line in the pairs file, its inputs, its output (inside the output folder) and options; a row
    whose options could not be read carries the reason in `error` and is reported as failed, never run."""

    line: int
    source: str  # as written in the pairs file (the report shows it so)
    driving: str
    output: str  # relative to the output folder
    folder: Path  # the pairs file's folder, which `source` and `driving` are relative to
    options: AnimateOptions
    error: str = ""

    @property
    def source_path(self) -> Path:
        return self.folder / self.source

    @property
    def driving_path(self) -> Path:
        return self.folder / self.driving


def read_pairs(path: str | Path, options: AnimateOptions) -> list[Job]:
    """The jobs of a pairs file, each with `options` changed by its row's option cells."""
    path = Path(path)
    rows, header = _rows(path)
    unknown = [name for name in header if name not in REQUIRED + ("output",) and _option(name) not in OPTIONS]
    if unknown:
        raise InputError(f"{path}: unknown column {unknown[0]!r}: use source, driving, output or an animate option "
                         f"({', '.join(OPTIONS)})")
    jobs = [_job(path, line, row, options) for line, row in rows]
    if not jobs:
        raise InputError(f"{path}: no rows under the header")
    _check_outputs(path, jobs)
    return jobs


def _rows(path: Path) -> tuple[list[tuple[int, dict]], list[str]]:
    """[(line number, {column: cell})] and the header; blank lines are left out."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle, skipinitialspace=True)
            header = [name.strip() for name in reader.fieldnames or []]
            rows = []
            for row in reader:
                cells = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
                if any(cells.values()):
                    rows.append((reader.line_num, cells))
    except FileNotFoundError:
        raise InputError(f"{path}: no such pairs file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: not a readable CSV file ({error})") from None
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InputError(f"{path}: no {missing[0]!r} column; the first line names the columns: source,driving[,output]"
                         "[,option columns]")
    return rows, header


def _option(column: str) -> str:
    return column.replace("-", "_")


def _job(path: Path, line: int, row: dict, options: AnimateOptions) -> Job:
    source, driving = row.get("source", ""), row.get("driving", "")
    output = row.get("output") or _default_output(source, driving)
    job = Job(line, source, driving, output, path.parent, options)
    try:
        if not source or not driving:
            raise InputError(f"the {'source' if not source else 'driving'} cell is empty")
        changes = {_option(k): _value(k, v, OPTIONS[_option(k)]) for k, v in row.items()
                   if v and k not in REQUIRED + ("output",)}
        return replace(job, options=replace(options, **changes))
    except InputError as error:
        return replace(job, error=str(error))


def _default_output(source: str, driving: str) -> str:
    return f"{PurePosixPath(source).stem or 'source'}_{PurePosixPath(driving.rstrip('/')).stem or 'driving'}.mp4"


def _value(column: str, text: str, kind: str):
    """A cell as its option's type: "bool | None" takes true/false (or auto: the default), numbers their kind."""
    lowered = text.lower()
    if "None" in kind and lowered in UNSET:
        return None
    try:
        if "bool" in kind:
            if lowered not in TRUE + FALSE:
                raise ValueError
            return lowered in TRUE
        if "int" in kind:
            return int(text)
        if "float" in kind:
            return float(text)
    except ValueError:
        raise InputError(f"{column} {text!r}: not {WORDS[kind.split(' ')[0]]}") from None
    return text


def _check_outputs(path: Path, jobs: list[Job]) -> None:
    """Every output stays inside the output folder, off the batch's own files, and is written by one row only."""
    seen: dict[str, int] = {}
    for job in jobs:
        parts = PurePosixPath(job.output.replace("\\", "/")).parts
        if not parts or PurePosixPath(job.output).is_absolute() or ".." in parts or parts[0] in RESERVED:
            raise InputError(f"{path}: line {job.line}: output {job.output!r} must be a path inside the output folder "
                             f"(not absolute, no '..', not {' or '.join(RESERVED)})")
        name = "/".join(parts)
        if name in seen:
            raise InputError(f"{path}: lines {seen[name]} and {job.line} both write {name}; give them different "
                             "outputs (an output column)")
        seen[name] = job.line
