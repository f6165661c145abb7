"""Shared pieces of the benchmark scripts: timed subprocesses with their peak memory, interleaved repeats,
medians and ratios, machine facts and result files.

Why a subprocess for everything (the baseline and erbb2-tki alike): both then pay process start-up, both are
measured by the same clock, and os.wait4 gives each run's own peak RSS (ru_maxrss of that child and its
descendants that were waited for), which is the "peak memory of a job" the targets speak of.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
OUT_DIR = BENCH_DIR / "out"
PYTHON = sys.executable

# The ERBB2 gene span, the region the issue names for the bcftools baselines (1-based, inclusive).
GENE_REGION = {"GRCh38": "chr17:39687914-39730426", "GRCh37": "17:37844167-37886679"}


@dataclasses.dataclass
class Run:
    """One timed run of one command."""

    case: str
    tool: str  # baseline | erbb2-tki
    repeat: int
    wall_s: float
    max_rss_mb: float
    returncode: int
    extra: dict = dataclasses.field(default_factory=dict)


def run_timed(
    cmd: Sequence[str] | str,
    *,
    cwd: Path | None = None,
    env: dict | None = None,
    shell: bool = False,
    stdout=subprocess.DEVNULL,
) -> tuple[float, float, int, bytes]:
    """Run a command; return (wall seconds, peak RSS in MB of the process tree waited for, exit code, stdout).

    Peak RSS is the maximum over the child and the descendants it waited for (Linux getrusage semantics),
    not a sum: it is the biggest single process, which is what a cluster job's memory limit meets.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        shell=shell,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
    )
    out = b""
    if stdout is None:
        out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(
            f"command failed ({proc.returncode}): {cmd}\n{err.decode(errors='replace')[-3000:]}\n"
        )
    return wall, usage.ru_maxrss / 1024.0, proc.returncode, out


def interleave(
    cases: Sequence[str],
    repeats: int,
    measure: Callable[[str, str, int], Run],
    *,
    warmup: bool = True,
) -> list[Run]:
    """Run every case's baseline and erbb2-tki `repeats` times, alternating which goes first, so slow drifts in
    machine load (other jobs on a shared 2-core host) hit both sides alike. One untimed warm-up each (page cache)."""
    runs: list[Run] = []
    if warmup:
        for case in cases:
            for tool in ("baseline", "erbb2-tki"):
                measure(case, tool, -1)
    for r in range(repeats):
        for case in cases:
            order = ("baseline", "erbb2-tki") if r % 2 == 0 else ("erbb2-tki", "baseline")
            for tool in order:
                run = measure(case, tool, r)
                runs.append(run)
                print(
                    f"  [{r + 1}/{repeats}] {case:32s} {tool:10s} {run.wall_s:8.3f} s  {run.max_rss_mb:7.1f} MB",
                    flush=True,
                )
    return runs


def median_of(runs: Sequence[Run], case: str, tool: str, key: str = "wall_s") -> float:
    values = [
        getattr(r, key) if hasattr(r, key) else r.extra[key]
        for r in runs
        if r.case == case and r.tool == tool and r.repeat >= 0
    ]
    return statistics.median(values) if values else float("nan")


def installed_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a timed erbb2-tki process, as after `pip install`: bytecode cached.

    pip compiles every module to .pyc when it installs a wheel, so a user's command never compiles
    source. An editable checkout only gets .pyc files when Python may write them; with
    PYTHONDONTWRITEBYTECODE set (as on the machines these figures come from) every process would
    compile the whole package again (~0.15 s per process, measured 2026-11-29), which measures the
    sandbox, not the tool. So the variable is dropped and the package is compiled once here.
    """
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(
        [PYTHON, "-m", "compileall", "-q", str(PROJECT_DIR / "workflow" / "erbb2_tki")],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    return env


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def machine() -> dict:
    """The facts the README must state: cores, memory, CPU model, tool versions, load when measured."""
    cpu = "unknown"
    try:
        for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=True
        ).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
                break
    except (OSError, subprocess.CalledProcessError):
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    versions = {}
    for tool, args in (("bcftools", ["--version"]), ("snakemake", ["--version"])):
        exe = shutil.which(tool) or (
            str(Path(PYTHON).parent / tool) if (Path(PYTHON).parent / tool).exists() else None
        )
        if exe:
            out = subprocess.run([exe, *args], capture_output=True, text=True).stdout.splitlines()
            versions[tool] = out[0] if out else "?"
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "load_average_start": load_average(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def write_results(name: str, runs: Sequence[Run], summary: list[dict], info: dict) -> Path:
    """Raw timings (TSV) and everything (JSON) under benchmarks/out/."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tsv = OUT_DIR / f"{name}_runs.tsv"
    lines = ["case\ttool\trepeat\twall_s\tmax_rss_mb\treturncode\textra"]
    lines += [
        f"{r.case}\t{r.tool}\t{r.repeat}\t{r.wall_s:.4f}\t{r.max_rss_mb:.1f}\t{r.returncode}\t{json.dumps(r.extra, sort_keys=True)}"
        for r in runs
    ]
    tmp = tsv.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, tsv)
    js = OUT_DIR / f"{name}.json"
    tmp = js.with_suffix(".tmp")
    info = {**info, "load_average_end": load_average()}
    tmp.write_text(
        json.dumps(
            {"machine": info, "summary": summary, "runs": [dataclasses.asdict(r) for r in runs]},
            indent=1,
        )
        + "\n"
    )
    os.replace(tmp, js)
    return js


def print_table(summary: Sequence[dict]) -> None:
    """case | baseline median | erbb2-tki median | ratio | target | met?"""
    head = f"{'case':34s} {'baseline':>10s} {'erbb2-tki':>10s} {'ratio':>7s} {'target':>8s}  met"
    print(head)
    print("-" * len(head))
    for row in summary:
        target = row.get("target")
        met = "" if target is None else ("yes" if row["ratio"] <= target else "NO")
        tstr = "" if target is None else f"<={target:g}x"
        print(
            f"{row['case']:34s} {row['baseline_s']:9.3f}s {row['erbb2_tki_s']:9.3f}s {row['ratio']:6.3f}x {tstr:>8s}  {met}"
        )
