"""erbb2-tki run: the bundled Snakemake workflow on a batch, from any install, in any folder.

What `nextflow run` or `snakemake --workflow-profile` users expect: the workflow that came with the
package (erbb2_tki.paths finds it in the wheel or the checkout), the default profile's settings in
effect (keep-going, rerun-incomplete, ...), the outputs under DIR/results. It only builds the
Snakemake command line and runs it with this interpreter, so Snakemake's own output, exit status
and options (after `--`) are what the user sees. Light on import: the CLI starts fast.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError


def register(subparsers: Any) -> None:
    """Add `run` to the top-level parser."""
    p = subparsers.add_parser(
        "run",
        help="run the bundled Snakemake workflow on a batch (sample sheet, folder or the example)",
        description=(
            "Run the workflow installed with erbb2-tki on a batch, with the default profile's "
            "settings (keep-going, rerun-incomplete). Outputs go under DIR/results. Arguments "
            "after `--` go to Snakemake as they are (e.g. -- --dry-run, -- --report report.html)."
        ),
        epilog="examples: erbb2-tki run --example --directory demo; "
        "erbb2-tki run --samples batch.tsv --directory runs/b1 --cores 8 -- --dry-run",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--samples", metavar="SHEET", help="the sample sheet (a relative path: to this folder)"
    )
    source.add_argument(
        "--input-dir", metavar="DIR", help="a folder whose every VCF is a sample (config input_dir)"
    )
    source.add_argument(
        "--example",
        action="store_true",
        help="the example batch shipped with the package (six samples)",
    )
    p.add_argument(
        "--directory",
        "-d",
        default=".",
        metavar="DIR",
        help="run folder: results/ and Snakemake's .snakemake/ go here (created; default: here)",
    )
    p.add_argument(
        "--cores", "-c", metavar="N", help="cores to use (default: the profile's, all of them)"
    )
    p.add_argument(
        "--config",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="other config keys (config/README.md), e.g. --config tumour_type=BRCA shard_size=50",
    )
    p.add_argument(
        "--profile",
        default="default",
        metavar="NAME|DIR",
        help="workflow profile: a bundled one (default, slurm) or a folder (default: default)",
    )
    p.add_argument(
        "snakemake_args",
        nargs=argparse.REMAINDER,
        metavar="-- SNAKEMAKE_ARGS",
        help="passed to Snakemake unchanged",
    )
    p.set_defaults(func=run_cli)


def run_cli(args: argparse.Namespace) -> int:
    command = snakemake_command(args)
    print("erbb2-tki run: " + shlex.join(command), file=sys.stderr, flush=True)
    return subprocess.run(command, env=workflow_env(), check=False).returncode


def snakemake_command(args: argparse.Namespace) -> list[str]:
    """The Snakemake command line `erbb2-tki run` stands for (raises InputError on bad input)."""
    from .. import paths

    extra = list(args.snakemake_args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    if any(arg in ("--config", "-C") or arg.startswith("--config=") for arg in extra):
        raise InputError(
            "--config after `--` would replace the sample sheet erbb2-tki run passes to Snakemake.",
            fix="give config keys to erbb2-tki run itself, before `--`: --config KEY=VALUE ...",
        )
    config = [_config_item(item) for item in args.config]
    if args.example:
        config.insert(0, f"samples={paths.example_sheet()}")
    elif args.samples:
        config.insert(0, f"samples={_existing(Path(args.samples), 'sample sheet', file=True)}")
    else:
        config.insert(0, f"input_dir={_existing(Path(args.input_dir), 'input folder', file=False)}")
    directory = Path(args.directory).absolute()
    directory.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(paths.snakefile()),
        "--directory",
        str(directory),
        "--workflow-profile",
        str(_profile(args.profile)),
    ]
    if args.cores:
        command += ["--cores", str(args.cores)]
    return [*command, *extra, "--config", *config]


def _config_item(item: str) -> str:
    key, sep, _ = item.partition("=")
    if not sep or not key:
        raise InputError(
            f"--config {item!r} is not KEY=VALUE.", fix="write e.g. --config tumour_type=BRCA"
        )
    if key in ("samples", "input_dir"):
        raise InputError(
            f"--config {key}=... is set by --samples, --input-dir or --example.",
            fix=f"use erbb2-tki run --{key.replace('_', '-')} instead.",
        )
    return item


def _existing(path: Path, what: str, *, file: bool) -> Path:
    """The absolute path (so that it does not depend on --directory), which must exist."""
    absolute = path.absolute()
    if absolute.is_file() if file else absolute.is_dir():
        return absolute
    where = f"looked for {absolute}" + ("" if path.is_absolute() else f", relative to {Path.cwd()}")
    raise InputError(f"the {what} {str(path)!r} does not exist ({where}).")


def _profile(name: str) -> Path:
    from .. import paths

    bundled = paths.profile_dir(name)
    if "/" not in name and bundled.is_dir():
        return bundled
    folder = Path(name)
    if folder.is_dir():
        return folder.absolute()
    known = sorted(p.name for p in bundled.parent.iterdir() if p.is_dir())
    raise InputError(
        f"no workflow profile {name!r}: neither a bundled profile ({', '.join(known)}) nor a folder."
    )


def workflow_env() -> dict[str, str]:
    """The environment for Snakemake: this interpreter's folder first on PATH.

    The rules call `python -m erbb2_tki.batch.pipeline`; with erbb2-tki run from a virtual environment
    that is not activated, `python` would otherwise be some other interpreter without the package.
    """
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env
