"""Helpers for the tests that run Snakemake end to end: a run folder, the CLI, output hashes."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
SNAKEFILE = PROJECT_DIR / "Snakefile"
CONFIGFILE = PROJECT_DIR / "config" / "config.yaml"
EXAMPLE_DIR = PROJECT_DIR / "config" / "example"
EXAMPLE_SHEET = PROJECT_DIR / "config" / "samples.tsv"
# Folders of a run that hold run-specific facts (times, memory) rather than results.
VOLATILE = ("results/logs", "results/benchmarks")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    workdir: Path

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def snakemake_env() -> dict[str, str]:
    """The rules call `python -m erbb2_tki.batch.pipeline`: put this interpreter's folder first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("ERBB2_TKI_ANNOTATIONS", None)
    return env


def snakemake_args(workdir: Path, *args: str, config: dict[str, object] | None = None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "--directory",
        str(workdir),
        "--configfile",
        str(CONFIGFILE),
        "--cores",
        "2",
        *args,
    ]
    if config:
        command += ["--config", *(f"{key}={value}" for key, value in config.items())]
    return command


def run_snakemake(
    workdir: Path,
    *args: str,
    config: dict[str, object] | None = None,
    timeout: float = 240,
) -> Run:
    """Run Snakemake's CLI in `workdir` (created if needed), as a user would."""
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        snakemake_args(workdir, *args, config=config),
        cwd=workdir,
        env=snakemake_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, workdir)


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a (dry) run: rule -> number of jobs."""
    counts: dict[str, int] = {}
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith("job") and "count" in line:
            for row in lines[index + 2 :]:
                parts = row.split()
                if len(parts) != 2 or not parts[1].isdigit():
                    break
                if parts[0] != "total":
                    counts[parts[0]] = int(parts[1])
            break
    return counts


def result_hashes(workdir: Path) -> dict[str, str]:
    """sha256 of every file under results/, except logs, benchmarks and Snakemake's markers."""
    hashes = {}
    for path in sorted((workdir / "results").rglob("*")):
        relative = path.relative_to(workdir).as_posix()
        if not path.is_file() or relative.startswith(VOLATILE):
            continue
        if path.name == ".snakemake_timestamp":
            continue
        hashes[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def copy_example(folder: Path) -> Path:
    """The example sheet and VCFs copied to `folder` (the sheet's relative paths still work)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(EXAMPLE_DIR, folder / "example", ignore=shutil.ignore_patterns("*.py"))
    shutil.copy(EXAMPLE_SHEET, folder / "samples.tsv")
    return folder / "samples.tsv"


# The example batch as the tests run it: shards of about two samples, so several jobs per stage.
EXAMPLE_CONFIG = {"shard_size": 2}
