#!/usr/bin/env python3
"""Extraction benchmark: erbb2-tki's extract_sample vs bcftools on the same file, in the same invocation.

Cases (files from generate_vcfs.py under benchmarks/data/single/):
  wgs38_bgz_stream    5M-record bgzipped WGS, no index, not declared sorted: erbb2-tki streams the whole file
                      (the default since issue 15) vs `bcftools view -t` on the same file            target <= 0.25x
  wgs38_bgz_noindex   the same file declared sorted (assume_sorted): BGZF bisection vs `bcftools view -t`  target <= 0.05x
  wgs37_bgz_noindex   the same on GRCh37 ("17" names), declared sorted                                   target <= 0.05x
  wgs38_gz_stream     plain gzip: erbb2-tki (streaming) vs `bcftools view -t` on the same file            target <= 0.25x
  wgs38_vcf_stream    plain text: erbb2-tki (streaming) vs `bcftools view -t` on the same file            target <= 0.25x
  wgs38_indexed       .tbi beside it: erbb2-tki (index) vs `bcftools view -r`                              (reported)
  wes38_indexed, wes38_bgz_stream, wes38_bgz_noindex, wes38_gz_stream, wes38_vcf_stream, wes37_indexed   (reported)
Peak memory (max RSS) of every erbb2-tki run is recorded; the target is <= 300 MB for WES and WGS alike.

Every run is a fresh process (`python bench_extract.py child ...` for erbb2-tki), so both sides pay start-up;
the child also reports the time inside extract_sample, shown as a second ratio. CPU seconds (user + system, from
os.wait4) of both sides are printed beside the wall seconds: on a loaded machine the CPU ratio says what the wall
ratio cannot. Before timing, each case's erbb2-tki record count is checked against bcftools on the same region (a
fast wrong answer is no answer). The targets are issue 14 item 4's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
from benchlib import GENE_REGION, PYTHON, Run

# case -> (file name under data/single, build, baseline mode -t|-r, target ratio or None, assume_sorted)
CASES: dict[str, tuple[str, str, str, float | None, bool]] = {
    "wgs38_bgz_stream": ("wgs_GRCh38.noindex.vcf.gz", "GRCh38", "-t", 0.25, False),
    "wgs38_bgz_noindex": ("wgs_GRCh38.noindex.vcf.gz", "GRCh38", "-t", 0.05, True),
    "wgs37_bgz_noindex": ("wgs_GRCh37.noindex.vcf.gz", "GRCh37", "-t", 0.05, True),
    "wgs38_gz_stream": ("wgs_GRCh38.plain.vcf.gz", "GRCh38", "-t", 0.25, False),
    "wgs38_vcf_stream": ("wgs_GRCh38.vcf", "GRCh38", "-t", 0.25, False),
    "wgs38_indexed": ("wgs_GRCh38.vcf.gz", "GRCh38", "-r", None, False),
    "wes38_indexed": ("wes_GRCh38.vcf.gz", "GRCh38", "-r", None, False),
    "wes37_indexed": ("wes_GRCh37.vcf.gz", "GRCh37", "-r", None, False),
    "wes38_bgz_stream": ("wes_GRCh38.noindex.vcf.gz", "GRCh38", "-t", None, False),
    "wes38_bgz_noindex": ("wes_GRCh38.noindex.vcf.gz", "GRCh38", "-t", None, True),
    "wes38_gz_stream": ("wes_GRCh38.plain.vcf.gz", "GRCh38", "-t", None, False),
    "wes38_vcf_stream": ("wes_GRCh38.vcf", "GRCh38", "-t", None, False),
}
MEMORY_TARGET_MB = 300.0


def child(vcf: str, out: str, build: str, assume_sorted: str = "unsorted") -> int:
    """Run inside the timed subprocess: import, extract, report timings and the result as JSON."""
    t0 = time.perf_counter()
    from erbb2_tki.vcf.extract import extract_sample

    t1 = time.perf_counter()
    # The generated files are sorted; the bisection cases declare it, as a user would.
    result = extract_sample(vcf, out, build=build, assume_sorted=assume_sorted == "sorted")
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": t1 - t0,
                "extract_s": t2 - t1,
                "method": result.method,
                "n_records": result.n_records,
                "build": result.build,
                "note": result.note,
            }
        )
    )
    return 0


def expected_count(data: Path, build: str, kind: str, padding: int = 5000) -> int:
    """Records bcftools finds in extract's own region (transcript span + padding), via the indexed twin."""
    from erbb2_tki.vcf.extract import erbb2_region

    start, end = erbb2_region(build, padding)
    chrom = GENE_REGION[build].split(":")[0]
    twin = data / f"{kind}_{build}.vcf.gz"
    out = subprocess.run(
        ["bcftools", "view", "-H", "-r", f"{chrom}:{start}-{end}", str(twin)],
        capture_output=True,
        check=True,
    )
    return out.stdout.count(b"\n")


def run_cpu(cmd: list[str], env: dict | None = None) -> tuple[float, float, float, int, bytes]:
    """(wall s, CPU s = user + system, peak RSS MB, exit code, stdout) of one command (os.wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.stderr.write(
            f"command failed ({proc.returncode}): {cmd}\n{err.decode(errors='replace')[-3000:]}\n"
        )
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024.0, proc.returncode, out


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "child":
        return child(*argv[1:5])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=benchlib.DATA_DIR / "single",
        help="generated files (default: %(default)s)",
    )
    parser.add_argument(
        "--cases", default="all", help=f"comma list of {', '.join(CASES)} (default: all present)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-warmup", action="store_true")
    parser.add_argument("--name", default="extract", help="result file stem under benchmarks/out/")
    args = parser.parse_args(argv)

    wanted = list(CASES) if args.cases == "all" else args.cases.split(",")
    cases = []
    for case in wanted:
        if case not in CASES:
            parser.error(f"unknown case {case}")
        if (args.data / CASES[case][0]).exists():
            cases.append(case)
        else:
            print(f"skip {case}: {args.data / CASES[case][0]} missing (run generate_vcfs.py all)")
    if not cases:
        return 1
    info = benchlib.machine()
    print(
        f"machine: {info['nproc']} cores, {info['memory_gb']} GB, {info['cpu']}; load {info['load_average_start']}"
    )

    work = Path(tempfile.mkdtemp(prefix="erbb2_bench_extract_"))

    env = benchlib.installed_env()  # bytecode cached, as after `pip install`

    # Correctness first: erbb2-tki's count must equal bcftools' on the same region.
    checks = {}
    for case in cases:
        name, build, _, _, assume_sorted = CASES[case]
        kind = name.split("_")[0]
        _, _, rc, out = benchlib.run_timed(
            [
                PYTHON,
                __file__,
                "child",
                str(args.data / name),
                str(work / "check.vcf.gz"),
                build,
                "sorted" if assume_sorted else "unsorted",
            ],
            env=env,
            stdout=None,
        )
        got = json.loads(out) if rc == 0 else {}
        want = expected_count(args.data, build, kind)
        checks[case] = {
            "method": got.get("method"),
            "n_records": got.get("n_records"),
            "bcftools_n_records": want,
        }
        flag = "ok" if got.get("n_records") == want else "MISMATCH"
        print(
            f"check {case:20s} method={got.get('method')} records={got.get('n_records')} bcftools={want} {flag}"
        )

    def measure(case: str, tool: str, repeat: int) -> Run:
        name, build, mode, _, assume_sorted = CASES[case]
        path = str(args.data / name)
        if tool == "baseline":
            cmd = [
                "bcftools",
                "view",
                mode,
                GENE_REGION[build],
                "-Oz",
                "-o",
                str(work / "bcftools.vcf.gz"),
                path,
            ]
            wall, cpu, rss, rc, _ = run_cpu(cmd)
            return Run(case, tool, repeat, wall, rss, rc, {"cpu_s": cpu})
        cmd = [
            PYTHON,
            __file__,
            "child",
            path,
            str(work / "erbb2.vcf.gz"),
            build,
            "sorted" if assume_sorted else "unsorted",
        ]
        wall, cpu, rss, rc, out = run_cpu(cmd, env=env)
        extra = json.loads(out) if rc == 0 else {}
        return Run(case, tool, repeat, wall, rss, rc, {**extra, "cpu_s": cpu})

    runs = benchlib.interleave(cases, args.repeats, measure, warmup=not args.no_warmup)

    summary = []
    for case in cases:
        _, _, mode, target, _ = CASES[case]
        base = benchlib.median_of(runs, case, "baseline")
        cand = benchlib.median_of(runs, case, "erbb2-tki")
        base_cpu = benchlib.median_of(runs, case, "baseline", "cpu_s")
        cand_cpu = benchlib.median_of(runs, case, "erbb2-tki", "cpu_s")
        inner = [
            r.extra.get("extract_s", float("nan"))
            for r in runs
            if r.case == case and r.tool == "erbb2-tki" and r.repeat >= 0
        ]
        inner_med = sorted(inner)[len(inner) // 2] if inner else float("nan")
        rss = [
            r.max_rss_mb for r in runs if r.case == case and r.tool == "erbb2-tki" and r.repeat >= 0
        ]
        summary.append(
            {
                "case": case,
                "baseline": f"bcftools view {mode}",
                "baseline_s": base,
                "erbb2_tki_s": cand,
                "ratio": cand / base,
                "target": target,
                "met": None if target is None else cand / base <= target,
                "baseline_cpu_s": base_cpu,
                "erbb2_tki_cpu_s": cand_cpu,
                "ratio_cpu": cand_cpu / base_cpu,
                "erbb2_tki_extract_only_s": inner_med,
                "ratio_extract_only": inner_med / base,
                "erbb2_tki_max_rss_mb": max(rss) if rss else float("nan"),
                "baseline_max_rss_mb": max(
                    (r.max_rss_mb for r in runs if r.case == case and r.tool == "baseline"),
                    default=float("nan"),
                ),
                **checks[case],
            }
        )
    print()
    benchlib.print_table(summary)
    print()
    print(
        f"{'case':34s} {'method':10s} {'extract-only':>12s} {'ratio':>7s} {'peak RSS':>9s}  <=300MB"
    )
    for row in summary:
        ok = "yes" if row["erbb2_tki_max_rss_mb"] <= MEMORY_TARGET_MB else "NO"
        print(
            f"{row['case']:34s} {row['method']!s:10s} {row['erbb2_tki_extract_only_s']:11.3f}s {row['ratio_extract_only']:6.3f}x {row['erbb2_tki_max_rss_mb']:7.1f}MB  {ok}"
        )
    print()
    print(
        f"{'case':20s} {'bcftools cpu':>12s} {'erbb2 cpu':>10s} {'cpu ratio':>9s}  target: wall ratio"
    )
    for row in summary:
        verdict = ""
        if row["target"] is not None:
            miss = row["ratio"] / row["target"]
            verdict = f"<={row['target']:g}x: {row['ratio']:.3f}x " + (
                "met" if row["met"] else f"MISSED by {miss:.2f}x"
            )
        print(
            f"{row['case']:20s} {row['baseline_cpu_s']:11.2f}s {row['erbb2_tki_cpu_s']:9.2f}s "
            f"{row['ratio_cpu']:8.3f}x  {verdict}"
        )
    print(f"load average: start {info['load_average_start']}, end {benchlib.load_average()}")
    path = benchlib.write_results(args.name, runs, summary, info)
    print(f"\nraw timings: {path} and {path.with_name(args.name + '_runs.tsv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
