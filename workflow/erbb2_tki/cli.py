"""Command line: erbb2-tki annotate | kb validate | kb show | kb diff | diff | run.

Each subcommand's arguments and body live with the module that owns the concept; this file
only wires them together and turns InputError into a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .errors import InputError

EXIT_INPUT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    from . import annotate
    from .batch import workflow_cli
    from .knowledge import kb_cli
    from .outputs import reanalysis

    parser = argparse.ArgumentParser(
        prog="erbb2-tki",
        description="Name somatic ERBB2 alleles on NM_004448.4 and report their TKI evidence.",
    )
    parser.add_argument("--version", action="version", version=f"erbb2-tki {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    annotate.register(sub)
    kb_cli.register(sub)
    reanalysis.register(sub)
    workflow_cli.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        print(f"erbb2-tki {args.command}: error: {err}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except BrokenPipeError:  # e.g. `erbb2-tki kb show L755S | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
