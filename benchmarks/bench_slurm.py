#!/usr/bin/env python3
"""SLURM: how many cluster jobs a batch becomes, and what the cluster costs against a local run (issue 14, item 5).

Needs a SLURM cluster the current user can submit to (on the test machine: `sudo .ci/slurm/up.sh`, a one-node
cluster on this machine) and snakemake-executor-plugin-slurm (pip install 'erbb2-tki[cluster]').

  example     the bundled example batch (config/samples.tsv, 6 samples) at each --shard-sizes value: local
              (`--profile workflow/profiles/default --cores 2`) and SLURM (`--profile workflow/profiles/slurm`)
              alternately in fresh run folders, wall seconds and the SLURM jobs submitted; target <= 3 SLURM jobs
  plan        a larger sheet (--sheet, e.g. benchmarks/data/batch_1000/samples.tsv) planned with the SLURM profile
              (`snakemake -n`): the SLURM jobs it would submit at each --plan-shard-sizes value (a grouped job
              counts once; rules marked local run on the submit host and are not counted); target: tens of jobs
  --run-sheet also runs that sheet on SLURM at the first --plan-shard-sizes value and times it (long on a
              small cluster)

Prints one table and writes benchmarks/out/<name>.json.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
from benchlib import PROJECT_DIR, PYTHON, Run

SNAKEFILE = PROJECT_DIR / "Snakefile"
CONFIGFILE = PROJECT_DIR / "config" / "config.yaml"
EXAMPLE_SHEET = PROJECT_DIR / "config" / "samples.tsv"
PROFILES = {
    "local": ["--profile", str(PROJECT_DIR / "workflow/profiles/default"), "--cores", "2"],
    "slurm": ["--profile", str(PROJECT_DIR / "workflow/profiles/slurm")],
}
SUBMITTED = "has been submitted with SLURM jobid"
LOCAL_RULES = {"check_batch", "all"}


def snakemake(
    run_dir: Path, sheet: Path, how: str, config: list[str], *extra: str
) -> tuple[float, str, int]:
    run_dir.mkdir(parents=True, exist_ok=True)
    env = benchlib.installed_env()
    env = {k: v for k, v in env.items() if not k.startswith("SLURM_")}
    env["PATH"] = f"{Path(PYTHON).parent}:{env.get('PATH', '')}"
    cmd = [
        PYTHON, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(run_dir),
        "--configfile", str(CONFIGFILE), "--config", f"samples={sheet}", *config, *PROFILES[how], *extra,
    ]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=run_dir, env=env, capture_output=True, text=True, timeout=7200)
    return time.perf_counter() - t0, done.stdout + done.stderr, done.returncode


def planned_cluster_jobs(output: str) -> int:
    """SLURM jobs in a dry run: each group job once, each top-level rule job not marked local."""
    groups = len(re.findall(r"\] Group job ", output))
    singles = [m for m in re.findall(r"^rule (\w+):", output, flags=re.M) if m not in LOCAL_RULES]
    return groups + len(singles)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--shard-sizes", default="250,2", help="example batch shard sizes (default: %(default)s)"
    )
    parser.add_argument(
        "--sheet", type=Path, default=None, help="a larger sample sheet to plan on SLURM"
    )
    parser.add_argument(
        "--plan-shard-sizes", default="250,50,25", help="shard sizes to plan --sheet at"
    )
    parser.add_argument("--run-sheet", action="store_true", help="also run --sheet on SLURM (slow)")
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--name", default="slurm")
    args = parser.parse_args(argv)

    if shutil.which("sbatch") is None:
        sys.exit(
            "sbatch not found: a SLURM cluster is needed (sudo .ci/slurm/up.sh on the test machine)"
        )
    info = benchlib.machine()
    print(f"machine: {info['nproc']} cores; load {info['load_average_start']}")
    work = Path(tempfile.mkdtemp(prefix="erbb2_bench_slurm_", dir=args.work_dir))
    runs: list[Run] = []
    summary: list[dict] = []
    for size in [int(s) for s in args.shard_sizes.split(",") if s]:
        config = [f"shard_size={size}"]
        for r in range(args.repeats):
            for how in ("local", "slurm") if r % 2 == 0 else ("slurm", "local"):
                wall, output, rc = snakemake(
                    work / f"example_{size}_{how}_{r}", EXAMPLE_SHEET, how, config
                )
                jobs = output.count(SUBMITTED)
                runs.append(
                    Run(f"example_shard_size_{size}", how, r, wall, 0.0, rc, {"slurm_jobs": jobs})
                )
                print(f"  example shard_size={size} [{r + 1}/{args.repeats}] {how:5s} {wall:7.1f} s  rc={rc}  SLURM jobs {jobs}", flush=True)  # fmt: skip
        case = f"example_shard_size_{size}"
        local = benchlib.median_of(runs, case, "local")
        slurm = benchlib.median_of(runs, case, "slurm")
        jobs = statistics.median(
            r.extra["slurm_jobs"] for r in runs if r.case == case and r.tool == "slurm"
        )
        summary.append(
            {"case": case, "baseline": "local --cores 2", "baseline_s": local, "erbb2_tki_s": slurm,
             "ratio": slurm / local, "slurm_jobs": jobs, "target": "<= 3 SLURM jobs"}
        )  # fmt: skip
    if args.sheet is not None:
        for size in [int(s) for s in args.plan_shard_sizes.split(",") if s]:
            _, output, rc = snakemake(
                work / f"plan_{size}", args.sheet, "slurm", [f"shard_size={size}"], "-n"
            )
            n = planned_cluster_jobs(output)
            print(f"  {args.sheet} shard_size={size}: {n} SLURM jobs planned (rc={rc})", flush=True)
            summary.append(
                {"case": f"plan_{args.sheet.parent.name}_shard_size_{size}", "slurm_jobs": n}
            )
        if args.run_sheet:
            size = int(args.plan_shard_sizes.split(",")[0])
            wall, output, rc = snakemake(
                work / "sheet_run", args.sheet, "slurm", [f"shard_size={size}"]
            )
            jobs = output.count(SUBMITTED)
            print(
                f"  {args.sheet} shard_size={size} on SLURM: {wall:.1f} s, {jobs} SLURM jobs, rc={rc}",
                flush=True,
            )
            runs.append(
                Run(f"sheet_shard_size_{size}", "slurm", 0, wall, 0.0, rc, {"slurm_jobs": jobs})
            )
            summary.append({"case": f"run_{args.sheet.parent.name}_shard_size_{size}", "erbb2_tki_s": wall,
                            "slurm_jobs": jobs})  # fmt: skip
    print(f"\n{'case':44s} {'local':>8s} {'SLURM':>8s} {'ratio':>7s} {'SLURM jobs':>10s}")
    for row in summary:
        local = f"{row['baseline_s']:.1f}s" if "baseline_s" in row else ""
        slurm = f"{row['erbb2_tki_s']:.1f}s" if "erbb2_tki_s" in row else ""
        ratio = f"{row['ratio']:.2f}x" if "ratio" in row else ""
        print(f"{row['case']:44s} {local:>8s} {slurm:>8s} {ratio:>7s} {row['slurm_jobs']:>10}")
    path = benchlib.write_results(args.name, runs, summary, info)
    print(f"\nraw timings: {path}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
