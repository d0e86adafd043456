"""`motrans <command>`: thin subcommands that parse, build a config and call one library function.

Every `MotransError` (and a Ctrl-C) ends as one line `motrans: error: …` on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import MotransError


def cmd_info(args: argparse.Namespace) -> int:
    from .analysis.capacity import as_json, capacity, format_table
    from .config import load_config

    config = load_config(args.config).model
    rows = capacity(config)
    print(json.dumps(as_json(rows, config.frame_size), indent=2) if args.json else format_table(rows, config.frame_size))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .checkpoints import convert_checkpoint

    target = Path(args.output)
    if target.suffix != ".safetensors":
        raise MotransError(f"{target}: the output must end in .safetensors")
    checkpoint = convert_checkpoint(args.input, target, args.config)
    print(f"wrote {target} ({len(checkpoint.state)} tensors from the {checkpoint.layout} layout)", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motrans", description="Unsupervised image animation (MoTrans).")
    parser.add_argument("--version", action="version", version=f"motrans {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="parameters and MACs per component, as the paper counts them")
    info.add_argument("--config", required=True, help="a preset name or a YAML file (ours or the authors')")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(run=cmd_info)

    convert = commands.add_parser("convert", help="a checkpoint (e.g. the authors' .pth.tar) to our safetensors")
    convert.add_argument("input", help="checkpoint to read")
    convert.add_argument("output", help="OUT.safetensors (written atomically)")
    convert.add_argument("--config", help="YAML or preset; required for the authors' checkpoints")
    convert.set_defaults(run=cmd_convert)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except MotransError as error:
        print(f"motrans: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `motrans info | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("motrans: error: interrupted", file=sys.stderr)
        return 130
