#!/usr/bin/env python3
"""Scale benchmark (issue 14 items 2 and 5): 10,000 samples on one machine.

In one invocation:
  dag         `snakemake -n` (parse the Snakefile, load and validate the sheet, build the DAG) on the
              N-sample sheet, interleaved with the same on its first --baseline-n samples (a sheet of
              those rows), --repeats times each, in fresh run folders       target <= 15 s at 10,000
  run         `snakemake --cores 2` end to end on the N samples, once; the per-rule job seconds and
              the peak RSS of every job (snakemake's benchmark files)      target <= 300 MB per job
  loop        the `bcftools view -r` loop over the same N files (bench_batch.py's baseline), once,
              after the run (--no-loop to skip; skipped when bcftools is missing)
Wall and CPU seconds (os.wait4 of the whole process tree) with the load average, and ratios to the
baselines of the same invocation. The batch comes from generate_vcfs.py (`batch -n N --records R`), made
on demand under --data (small WES-like bodies: N full 50,000-record files would need ~4 MB each).

    python benchmarks/bench_scale.py --data /work/bench-scale -n 10000 --records 2000 --repeats 3
    python benchmarks/bench_scale.py -n 200 --records 500 --repeats 1      # smoke run (~2 minutes)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
from bench_batch import (
    ANNOTATIONS,
    MEMORY_TARGET_MB,
    baseline_script,
    ensure_batch,
    environment,
    job_benchmarks,
    jobs_run,
    read_sheet,
    run_with_cpu,
    snakemake_cmd,
    stage_floor,
    truth_found,
)
from benchlib import OUT_DIR

DAG_TARGET_S = 15.0


def subset_sheet(sheet: Path, n: int, out: Path) -> Path:
    """The first n samples of a sheet, with absolute VCF paths (the sheet moves, the files do not)."""
    lines = [line for line in sheet.read_text().splitlines() if line and not line.startswith("#")]
    header = lines[0].split("\t")
    vcf = header.index("vcf")
    rows = []
    for line in lines[1 : n + 1]:
        cells = line.split("\t")
        path = Path(cells[vcf])
        cells[vcf] = str(path if path.is_absolute() else (sheet.parent / path).resolve())
        rows.append("\t".join(cells))
    out.write_text("\n".join([lines[0], *rows]) + "\n")
    return out


def fresh_run_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    shutil.copytree(ANNOTATIONS, path / "annotations")
    return path


def per_rule(jobs: list[dict]) -> list[dict]:
    table: dict[str, list[dict]] = {}
    for job in jobs:
        table.setdefault(job["rule"], []).append(job)
    out = []
    for rule, rows in table.items():
        rss = [j["max_rss_mb"] for j in rows if j["max_rss_mb"] == j["max_rss_mb"]]
        out.append(
            {
                "rule": rule,
                "jobs": len(rows),
                "cpu_s": round(
                    sum(j["cpu_time"] for j in rows if j["cpu_time"] == j["cpu_time"]), 2
                ),
                "wall_s": round(sum(j["s"] for j in rows), 2),
                "median_wall_s": round(statistics.median(j["s"] for j in rows), 2),
                "peak_rss_mb": round(max(rss), 1) if rss else float("nan"),
            }
        )
    order = ["extract_shard", "annotate_shard", "summarize", "report_figures"]
    return sorted(
        out, key=lambda r: (order.index(r["rule"]) if r["rule"] in order else 9, r["rule"])
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--samples", type=int, default=10000)
    parser.add_argument("--records", type=int, default=2000, help="records per generated VCF")
    parser.add_argument(
        "--baseline-n", type=int, default=1000, help="the DAG baseline's sheet size"
    )
    parser.add_argument("--repeats", type=int, default=3, help="DAG builds of each size")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--data", type=Path, default=benchlib.DATA_DIR)
    parser.add_argument(
        "--work", type=Path, default=None, help="run folders (default: DATA/scale_runs)"
    )
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--no-run", action="store_true", help="time the DAG only")
    parser.add_argument("--no-loop", action="store_true", help="skip the bcftools loop")
    parser.add_argument("--keep", action="store_true", help="keep the run folder")
    parser.add_argument("--snakemake-args", default="", help="extra --config items")
    parser.add_argument("--name", default=None, help="result file stem under benchmarks/out/")
    args = parser.parse_args(argv)

    name = args.name or f"scale_{args.samples}"
    info = benchlib.machine()
    folder = ensure_batch(args.samples, args.data, args.seed, records=args.records)
    sheet = folder / "samples.tsv"
    work = args.work or (args.data / "scale_runs")
    work.mkdir(parents=True, exist_ok=True)
    small = subset_sheet(sheet, args.baseline_n, work / f"samples_{args.baseline_n}.tsv")
    env = environment()
    extra = [item for item in args.snakemake_args.split() if item]
    result: dict = {"samples": args.samples, "records": args.records, "baseline_n": args.baseline_n}
    print(f"load average {benchlib.load_average()}", flush=True)

    # 1. DAG build, N against baseline_n, interleaved (one untimed warm-up each: page cache)
    sizes = {"big": (args.samples, sheet), "small": (args.baseline_n, small)}
    dag: dict[str, list[tuple[float, float]]] = {"big": [], "small": []}
    for r in range(-1, args.repeats):
        order = ("big", "small") if r % 2 == 0 else ("small", "big")
        for key in order:
            n, path = sizes[key]
            run_dir = fresh_run_dir(work / f"dag_{key}")
            cmd = [*snakemake_cmd(run_dir, path, args.cores, extra), "-n", "--quiet", "all"]
            t0 = time.perf_counter()
            proc = run_with_cpu(cmd, run_dir, env)
            wall = time.perf_counter() - t0
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr[-3000:])
                return 1
            if r >= 0:
                dag[key].append((wall, proc.cpu_s))
                print(
                    f"  [{r + 1}/{args.repeats}] snakemake -n, {n:6d} samples  {wall:7.2f} s  "
                    f"cpu {proc.cpu_s:6.2f} s  load {benchlib.load_average()}",
                    flush=True,
                )
    med = {
        key: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for key, v in dag.items()
    }
    result["dag"] = {
        "n": args.samples,
        "wall_s": med["big"][0],
        "cpu_s": med["big"][1],
        "baseline_n": args.baseline_n,
        "baseline_wall_s": med["small"][0],
        "baseline_cpu_s": med["small"][1],
        "ratio_wall": med["big"][0] / med["small"][0],
        "ratio_cpu": med["big"][1] / med["small"][1],
        "runs": dag,
    }
    print(
        f"DAG: {args.samples} samples {med['big'][0]:.2f} s wall / {med['big'][1]:.2f} s CPU; "
        f"{args.baseline_n} samples {med['small'][0]:.2f} / {med['small'][1]:.2f} s; ratio "
        f"{result['dag']['ratio_wall']:.2f}x wall, {result['dag']['ratio_cpu']:.2f}x CPU "
        f"({args.samples / args.baseline_n:.0f}x the samples); target <= {DAG_TARGET_S:.0f} s: "
        f"{'met' if med['big'][0] <= DAG_TARGET_S else 'missed'} (wall), "
        f"{'met' if med['big'][1] <= DAG_TARGET_S else 'missed'} (CPU)",
        flush=True,
    )

    # 2. the whole batch, then 3. the bcftools loop over the same files
    if not args.no_run:
        run_dir = fresh_run_dir(work / "run")
        load_before = benchlib.load_average()
        t0 = time.perf_counter()
        proc = run_with_cpu(snakemake_cmd(run_dir, sheet, args.cores, extra), run_dir, env)
        wall = time.perf_counter() - t0
        (run_dir / "snakemake.out").write_text(proc.stdout + proc.stderr)
        jobs = job_benchmarks(run_dir)
        rules = per_rule(jobs)
        found, planted, _missing = truth_found(folder, run_dir)
        peak = max((j["max_rss_mb"] for j in jobs if j["max_rss_mb"] == j["max_rss_mb"]), default=0)
        sizes_mb = {
            p.name: round(p.stat().st_size / 1e6, 1)
            for sub in ("batch", "report")
            for p in sorted((run_dir / "results" / sub).glob("*"))
            if p.is_file()
        }
        result["run"] = {
            "returncode": proc.returncode,
            "wall_s": wall,
            "cpu_s": proc.cpu_s,
            "load_before": load_before,
            "load_after": benchlib.load_average(),
            "jobs": jobs_run(proc.stdout + proc.stderr),
            "rules": rules,
            "peak_job_rss_mb": peak,
            "stage_floor_s": stage_floor(jobs, args.cores),
            "planted_found": [found, planted],
            "output_mb": sizes_mb,
        }
        print(
            f"run: snakemake --cores {args.cores}, {args.samples} samples: rc={proc.returncode} "
            f"{wall:.1f} s wall, {proc.cpu_s:.1f} s CPU (load {load_before} -> "
            f"{result['run']['load_after']}); planted alleles named {found}/{planted}",
            flush=True,
        )
        print(
            f"{'rule':16s} {'jobs':>5s} {'CPU s':>8s} {'wall s':>8s} {'median':>7s} {'peak RSS':>9s}"
        )
        for row in rules:
            print(
                f"{row['rule']:16s} {row['jobs']:5d} {row['cpu_s']:8.1f} {row['wall_s']:8.1f} "
                f"{row['median_wall_s']:7.2f} {row['peak_rss_mb']:7.1f} MB"
            )
        print(
            f"peak job RSS {peak:.1f} MB: target <= {MEMORY_TARGET_MB:.0f} MB "
            f"{'met' if peak <= MEMORY_TARGET_MB else 'missed'}; outputs (MB): {sizes_mb}",
            flush=True,
        )
        if not args.no_loop and shutil.which("bcftools"):
            script = work / "bcftools_loop.sh"
            out_dir = work / "bcftools_out"
            shutil.rmtree(out_dir, ignore_errors=True)
            script.write_text(baseline_script(folder, read_sheet(sheet), out_dir))
            t0 = time.perf_counter()
            loop = run_with_cpu(["bash", str(script)], work, env)
            loop_wall = time.perf_counter() - t0
            shutil.rmtree(out_dir, ignore_errors=True)
            result["loop"] = {"wall_s": loop_wall, "cpu_s": loop.cpu_s, "rc": loop.returncode}
            print(
                f"bcftools loop over the same {args.samples} files: {loop_wall:.1f} s wall, "
                f"{loop.cpu_s:.1f} s CPU (load {benchlib.load_average()}); the run is "
                f"{wall / loop_wall:.2f}x its wall, {proc.cpu_s / loop.cpu_s:.2f}x its CPU",
                flush=True,
            )
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"{name}.json"
    info["load_average_end"] = benchlib.load_average()
    out.write_text(json.dumps({"machine": info, "result": result}, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
