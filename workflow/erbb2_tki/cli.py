"""Command line: erbb2-tki annotate | kb validate | kb show | kb diff | diff | run.

Each subcommand's arguments and body live with the module that owns the concept; this file
only wires them together and turns InputError into a one-line message and exit status 2.

Start-up cost: only the chosen subcommand's module is imported (`erbb2-tki kb show` never loads
the VCF reader, `erbb2-tki annotate` never loads the knowledge-base tools or Snakemake's
launcher). The other subcommands are listed by name and one-line help (COMMANDS), which is
all the top-level --help and argparse's errors show; tests/unit/test_cold_start.py checks that
this listing is the same as the full parser's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from . import __version__, single_threaded_blas
from .errors import InputError

EXIT_INPUT_ERROR = 2

# subcommand -> (the module whose register() adds it, its one-line help in the listing), in
# the order --help lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "annotate": (
        "erbb2_tki.annotate",
        "name the ERBB2 alleles of one VCF and report their TKI evidence",
    ),
    "kb": ("erbb2_tki.knowledge.kb_cli", "validate, show, diff and hash the knowledge base"),
    "diff": (
        "erbb2_tki.outputs.reanalysis",
        "list the sample x drug verdicts that changed between two results folders",
    ),
    "run": (
        "erbb2_tki.batch.workflow_cli",
        "run the bundled Snakemake workflow on a batch (sample sheet, folder or the example)",
    ),
}


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand argv names (its first positional argument), or None.

    The top-level parser has no option that takes a value (only -h and --version), so the
    first argument not starting with '-' (or the one after '--') is the subcommand.
    """
    after_dashes = False
    for arg in argv:
        if after_dashes or not arg.startswith("-"):
            return arg if arg in COMMANDS else None
        after_dashes = arg == "--"
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command-line parser.

    Without `argv`, every subcommand is complete (its module imported). With `argv`, only the
    subcommand it names is; the others are listed (name and help) without importing their
    modules, which is all parsing `argv` can show of them.
    """
    only = chosen_command(argv) if argv is not None else None
    parser = argparse.ArgumentParser(
        prog="erbb2-tki",
        description="Name somatic ERBB2 alleles on NM_004448.4 and report their TKI evidence.",
    )
    parser.add_argument("--version", action="version", version=f"erbb2-tki {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if argv is None or name == only:
            import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    single_threaded_blas()
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(argv)
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
