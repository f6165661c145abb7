#!/usr/bin/env python3
"""Cold-start benchmark: the command line and a warm knowledge-base load, against baselines in the same run.

Per repeat (the sides alternate which goes first, so the load from other work hits both):
  help            `erbb2-tki --help` (a fresh interpreter)                       target <= 0.15 s
  annotate6       `erbb2-tki annotate` on a 6-record VCF, knowledge base cached    target <= 0.3 s
  annotate6_cold  the same with the on-disk cache off (ERBB2_TKI_CACHE_DIR=off)   (no target)
  kb_show         `erbb2-tki kb show L755S`                                       (no target)
  kb_load         load_knowledge() inside a process, warm cache (milliseconds)     target <= 20 ms
  job_extract1    a workflow extract job (`python -m erbb2_tki.batch.pipeline extract`) on a
                  one-sample shard (the 6-record VCF): a shard job's start-up + one sample  (no target)
  job_annotate1   the annotate job on that shard (--no-reuse, knowledge base cached)       (no target)
Baselines, both timed in the same invocation:
  python          `python -c pass`: the interpreter's own start-up, the floor of any Python command line
  before          the same command from `git archive REV` of an earlier commit (--before REV), e.g. the
                  commit before the cold-start work, so the ratio is the speed-up measured under the same load
Wall seconds and CPU seconds (user + system of the child, from os.wait4) are both recorded: on a loaded
machine the CPU seconds are what the command would take alone. The test suite never asserts speed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib
from benchlib import PROJECT_DIR, PYTHON, Run

TARGETS = {"help": 0.15, "annotate6": 0.3, "kb_load": 0.020}

VCF = (
    "##fileformat=VCFv4.2\n"
    '##FILTER=<ID=PASS,Description="All filters passed">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    "##contig=<ID=chr7,length=159345973>\n"
    "##contig=<ID=chr17,length=83257441>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
    "chr7\t55191822\t.\tT\tG\t60\tPASS\t.\tGT:AD\t0/1:70,30\n"
    "chr17\t39723966\t.\tT\tC\t60\tPASS\t.\tGT:AD\t0/1:70,30\n"
    "chr17\t39723967\t.\tT\tC\t60\tPASS\t.\tGT:AD\t0/1:62,38\n"
    "chr17\t39724730\t.\tC\tCATACGTGATGGC\t60\tPASS\t.\tGT:AD\t0/1:60,20\n"
    "chr17\t39724811\t.\tC\tT\t60\tPASS\t.\tGT:AD\t0/1:80,20\n"
    "chr17\t39725161\t.\tT\tG\t60\tPASS\t.\tGT:AD\t0/1:65,35\n"
)

KB_LOAD = (
    "import time; from erbb2_tki import knowledge; "
    "t1, c1 = time.perf_counter(), time.process_time(); knowledge.load_knowledge(); "
    "t2, c2 = time.perf_counter(), time.process_time(); print(f'{t2 - t1:.6f} {c2 - c1:.6f}')"
)


# Where annotate6's CPU goes, inside one process (after side only): numpy, cyvcf2 (the VCF reader,
# compiled against numpy), the package and the standard library it needs, then main() itself.
# The interpreter's own start and exit is the process's CPU (os.wait4) minus these.
SPLIT = (
    "import time, sys, erbb2_tki; erbb2_tki.single_threaded_blas(); "  # as cli.main does first
    "T = time.process_time; c0 = T(); import numpy; c1 = T(); import cyvcf2; "
    "c2 = T(); from erbb2_tki import cli, annotate, knowledge; "
    "import erbb2_tki.knowledge.interpret, erbb2_tki.naming.consequence, erbb2_tki.outputs.tables; "
    "import erbb2_tki.vcf.extract, erbb2_tki.vcf.events, erbb2_tki.vcf.samples; c3 = T(); "
    "code = cli.main(sys.argv[1:]); c4 = T(); "
    "print(f'{c1 - c0:.6f} {c2 - c1:.6f} {c3 - c2:.6f} {c4 - c3:.6f}', file=sys.stderr)"
)
SPLIT_PARTS = ("numpy", "cyvcf2", "package", "work")


def job_call(args: list[str]) -> list[str]:
    """A fresh interpreter running one workflow job, as the Snakemake rules do."""
    return [PYTHON, "-m", "erbb2_tki.batch.pipeline", *args]


def main_call(args: list[str]) -> list[str]:
    """A fresh interpreter running erbb2-tki's main() (what the console script does)."""
    code = f"import sys; from erbb2_tki.cli import main; sys.exit(main({args!r}))"
    return [PYTHON, "-c", code]


def run_child(
    cmd: list[str], env: dict[str, str], cwd: Path
) -> tuple[float, float, float, int, str]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    cpu = usage.ru_utime + usage.ru_stime
    if code not in (0, 3):
        sys.stderr.write(f"command failed ({code}): {cmd}\n{err[-2000:]}\n")
    return wall, cpu, usage.ru_maxrss / 1024.0, code, out


def export_revision(rev: str, dest: Path) -> Path:
    """`git archive REV` unpacked into dest (read-only use of the repository)."""
    data = subprocess.run(
        ["git", "-C", str(PROJECT_DIR), "archive", "--format=tar", rev],
        check=True,
        capture_output=True,
    ).stdout
    dest.mkdir(parents=True, exist_ok=True)
    tar = dest / "rev.tar"
    tar.write_bytes(data)
    with tarfile.open(tar) as handle:
        handle.extractall(dest, filter="data")
    tar.unlink()
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument(
        "--before",
        default="",
        help="git revision to compare with (its code exported with git archive); "
        "default: only the `python -c pass` baseline",
    )
    parser.add_argument("--name", default="cli", help="result file stem under benchmarks/out/")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="erbb2_bench_cli_"))
    base_env = benchlib.installed_env()
    base_env.pop("PYTHONPATH", None)
    sides = {
        "after": {**base_env, "ERBB2_TKI_CACHE_DIR": str(work / "cache")},
    }
    if args.before:
        code = export_revision(args.before, work / "before")
        sides["before"] = {
            **base_env,
            "PYTHONPATH": str(code / "workflow"),
            "ERBB2_TKI_CACHE_DIR": str(work / "cache_before"),
        }
    for side, env in sides.items():
        where = subprocess.run(
            [PYTHON, "-c", "import erbb2_tki; print(erbb2_tki.__file__)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"{side}: erbb2_tki from {where}")

    annotate = ["annotate", "six.vcf", "--out-tsv", "a.tsv", "--out-verdicts", "v.tsv"]
    (work / "six.vcf").write_text(VCF)
    (work / "samples.tsv").write_text(f"sample\tvcf\nsix\t{work / 'six.vcf'}\n")
    config = json.dumps({"samples": str(work / "samples.tsv"), "shard_size": 250})
    shard = ["--config-json", config, "--shard", "0"]
    extract_job = ["extract", *shard, "--out-dir", "job/extract"]
    annotate_job = [
        *("annotate", *shard, "--out-dir", "job/annotate", "--extract-dir", "job/extract"),
        *("--annotated-dir", "job/annotated", "--tables-dir", "job/tables", "--no-reuse"),
    ]
    cases = {
        "help": main_call(["--help"]),
        "annotate6": main_call(annotate),
        "annotate6_cold": main_call(annotate),
        "kb_show": main_call(["kb", "show", "L755S"]),
        "kb_load": [PYTHON, "-c", KB_LOAD],
        "job_extract1": job_call(extract_job),
        "job_annotate1": job_call(annotate_job),
    }
    info = benchlib.machine()
    print(f"machine: {info['nproc']} cores, {info['cpu']}; load {info['load_average_start']}")

    def env_for(case: str, side: str) -> dict[str, str]:
        env = dict(sides[side])
        if case == "annotate6_cold":
            env["ERBB2_TKI_CACHE_DIR"] = "off"
        return env

    cwd = {side: work / f"run_{side}" for side in sides}  # each side writes its own outputs
    for folder in cwd.values():
        folder.mkdir()
        (folder / "six.vcf").write_text(VCF)
    runs: list[Run] = []
    # untimed warm-up: page cache, bytecode, and the knowledge-base cache entry
    for side in sides:
        for case, cmd in cases.items():
            run_child(cmd, env_for(case, side), cwd[side])
    run_child([PYTHON, "-c", "pass"], base_env, work)
    for r in range(args.repeats):
        order = [*sides, "python"]
        if r % 2:
            order.reverse()
        for case, cmd in cases.items():
            for side in order:
                if side == "python":
                    if case != "help":
                        continue
                    wall, cpu, rss, code, _ = run_child([PYTHON, "-c", "pass"], base_env, work)
                    runs.append(Run("python_pass", "baseline", r, wall, rss, code, {"cpu_s": cpu}))
                    continue
                wall, cpu, rss, code, out = run_child(cmd, env_for(case, side), cwd[side])
                extra = {"cpu_s": cpu}
                if case == "kb_load" and code == 0:
                    load_s, load_cpu_s = map(float, out.split())
                    extra |= {"load_s": load_s, "load_cpu_s": load_cpu_s}
                tool = "erbb2-tki" if side == "after" else "before"
                runs.append(Run(case, tool, r, wall, rss, code, extra))
        print(f"  repeat {r + 1}/{args.repeats} done, load {benchlib.load_average()}", flush=True)

    def med(case: str, tool: str, key: str) -> float:
        values = [
            (getattr(x, key) if key in ("wall_s", "max_rss_mb") else x.extra.get(key))
            for x in runs
            if x.case == case and x.tool == tool
        ]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else float("nan")

    summary = []
    floor_wall, floor_cpu = (
        med("python_pass", "baseline", "wall_s"),
        med("python_pass", "baseline", "cpu_s"),
    )
    print()
    print(
        f"{'case':16s} {'wall':>8s} {'cpu':>8s} {'RSS MB':>7s} | {'python -c pass':>15s} "
        f"{'x floor':>8s} | {'before wall':>11s} {'before cpu':>10s} {'ratio':>7s} | target"
    )
    for case in cases:
        key_wall = "load_s" if case == "kb_load" else "wall_s"
        wall = med(case, "erbb2-tki", key_wall)
        cpu = med(case, "erbb2-tki", "load_cpu_s" if case == "kb_load" else "cpu_s")
        rss = med(case, "erbb2-tki", "max_rss_mb")
        row = {"case": case, "wall_s": wall, "cpu_s": cpu, "max_rss_mb": rss}
        if case != "kb_load":
            row |= {
                "floor_wall_s": floor_wall,
                "floor_cpu_s": floor_cpu,
                "x_floor": wall / floor_wall,
            }
        if "before" in sides:
            bwall = med(case, "before", key_wall)
            row |= {
                "before_wall_s": bwall,
                "before_cpu_s": med(case, "before", "load_cpu_s" if case == "kb_load" else "cpu_s"),
                "ratio_to_before": wall / bwall,
            }
        target = TARGETS.get(case)
        if target is not None:
            row["target_s"] = target
            row["met_wall"] = wall <= target
            row["met_cpu"] = cpu <= target
        summary.append(row)
        print(
            f"{case:16s} {wall:8.3f} {cpu:8.3f} {rss:7.1f} | "
            + (
                f"{floor_wall:15.3f} {wall / floor_wall:7.2f}x | "
                if case != "kb_load"
                else f"{'':15s} {'':8s} | "
            )
            + (
                f"{row['before_wall_s']:11.3f} {row['before_cpu_s']:10.3f} {row['ratio_to_before']:6.3f}x | "
                if "before" in sides
                else f"{'':11s} {'':10s} {'':7s} | "
            )
            + (
                f"<= {target:g} s: wall {'met' if row['met_wall'] else 'MISSED'}, "
                f"cpu {'met' if row['met_cpu'] else 'MISSED'}"
                if target
                else ""
            )
        )
    split = annotate_split(args.repeats, sides["after"], cwd["after"], annotate)
    path = benchlib.write_results(
        args.name,
        runs,
        summary,
        {**info, "before": args.before, "repeats": args.repeats, "annotate6_split": split},
    )
    print(f"\nraw timings: {path}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


def annotate_split(repeats: int, env: dict[str, str], cwd: Path, args: list[str]) -> dict:
    """Medians of annotate6's CPU seconds by part (SPLIT), printed and returned."""
    parts: dict[str, list[float]] = {name: [] for name in ("interpreter", *SPLIT_PARTS, "total")}
    for _ in range(repeats):
        proc = subprocess.Popen(
            [PYTHON, "-c", SPLIT, *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.stderr.write(f"split run failed:\n{err[-2000:]}\n")
            continue
        values = [float(v) for v in err.strip().splitlines()[-1].split()]
        total = usage.ru_utime + usage.ru_stime
        for name, value in zip(SPLIT_PARTS, values, strict=True):
            parts[name].append(value)
        parts["interpreter"].append(total - sum(values))
        parts["total"].append(total)
    medians = {name: statistics.median(v) for name, v in parts.items() if v}
    print(
        "\nannotate6, CPU seconds by part (medians of "
        f"{len(parts['total'])}; interpreter = start + exit): "
        + ", ".join(f"{name} {value:.3f}" for name, value in medians.items())
    )
    return medians


if __name__ == "__main__":
    sys.exit(main())
