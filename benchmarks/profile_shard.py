#!/usr/bin/env python3
"""Where a shard job's time goes: per-sample CPU of extraction and annotation, then cProfile.

Why: bench_batch.py measures the whole workflow; when a target is missed the owners need to know which
functions cost what per sample. This runs the same library calls a shard job makes
(erbb2_tki.batch.pipeline.extract_shard / annotate_shard, with the report pages, as the annotate_shard
rule runs it) in one process on the first N samples of a generated batch:

1. once without the profiler: the CPU seconds (time.process_time) each sample took, from one job-log
   line to the next (so everything the job does per sample counts: hashing the input, the index check,
   writing every output), printed as the median, mean and 90th percentile per sample;
2. once under cProfile (unless --no-profile): the top functions by cumulative and own time.

  python benchmarks/profile_shard.py --samples 250 [--sheet benchmarks/data/batch_1000/samples.tsv]

Time it with bytecode cached (as after `pip install`): `env -u PYTHONDONTWRITEBYTECODE` after one
`python -m compileall -q workflow/erbb2_tki`; the script warns when the variable is set.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib


class _StampLog:
    """A JobLog that records the CPU clock at each per-sample "ok <stage>" line."""

    def __init__(self, stage: str) -> None:
        self.prefix = f"ok {stage} "
        self.stamps: list[float] = []

    def info(self, text: str) -> None:
        if text.startswith(self.prefix):
            self.stamps.append(time.process_time())

    def failure(self, text: str) -> None:
        print(text, file=sys.stderr)


def _run(pipeline: Any, stage: str, rows: Any, work: Path, log: Any) -> None:
    if stage == "extract":
        pipeline.extract_shard(rows, work / "extract", log=log)
    else:
        pipeline.annotate_shard(
            rows,
            work / "extract",
            work / "annotate",
            annotated_dir=str(work / "annotated"),
            tables_dir=str(work / "tables"),
            reports_dir=str(work / "reports"),
            reuse=True,
            log=log,
        )


def _fresh_outputs(work: Path) -> None:
    """Remove the annotate outputs so the next pass annotates every sample again."""
    for name in ("annotate", "annotated", "tables", "reports"):
        shutil.rmtree(work / name, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sheet", type=Path, default=benchlib.DATA_DIR / "batch_1000" / "samples.tsv"
    )
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="only the per-sample figures")
    parser.add_argument(
        "--out", type=Path, default=benchlib.OUT_DIR, help="where the .prof and .json files go"
    )
    parser.add_argument("--name", default="profile_shard", help="result file name (no suffix)")
    parser.add_argument("--keep", type=Path, help="keep the outputs in this folder")
    args = parser.parse_args(argv)
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note: PYTHONDONTWRITEBYTECODE is set (imports compile from source)", file=sys.stderr)

    t0 = time.perf_counter()
    c0 = time.process_time()
    from erbb2_tki.batch import pipeline
    from erbb2_tki.batch import samples as sample_sheet

    print(
        f"import erbb2_tki.batch.pipeline: {time.perf_counter() - t0:.2f} s wall, "
        f"{time.process_time() - c0:.2f} s CPU"
    )

    rows = sample_sheet.load_samples({"samples": str(args.sheet)})[: args.samples]
    work = args.keep or Path(tempfile.mkdtemp(prefix="erbb2_profile_"))
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {
        "samples": len(rows),
        "sheet": str(args.sheet),
        "load_before": os.getloadavg(),
    }
    for stage in ("extract", "annotate"):
        _fresh_outputs(work) if stage == "annotate" else None
        log = _StampLog(stage)
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        _run(pipeline, stage, rows, work, log)
        wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
        per = [b - a for a, b in zip([start_cpu, *log.stamps], log.stamps, strict=False)]
        # The first sample also pays the job's one-time work (knowledge-base load): left out.
        per_sample = per[1:] or per
        figures = {
            "wall_s": wall,
            "cpu_s": cpu,
            "ok_samples": len(log.stamps),
            "median_ms": 1000 * statistics.median(per_sample) if per_sample else None,
            "mean_ms": 1000 * statistics.fmean(per_sample) if per_sample else None,
            "p90_ms": 1000 * sorted(per_sample)[int(0.9 * (len(per_sample) - 1))]
            if per_sample
            else None,
            "first_ms": 1000 * per[0] if per else None,
        }
        result[stage] = figures
        print(
            f"\n=== {stage}: {len(rows)} samples ({len(log.stamps)} ok) in {wall:.2f} s wall, "
            f"{cpu:.2f} s CPU; per sample (CPU, the first left out): median "
            f"{figures['median_ms']:.1f} ms, mean {figures['mean_ms']:.1f} ms, "
            f"90th percentile {figures['p90_ms']:.1f} ms; first sample {figures['first_ms']:.1f} ms"
        )
    result["load_after"] = os.getloadavg()
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=1) + "\n")
    if args.no_profile:
        return 0
    for stage in ("extract", "annotate"):
        _fresh_outputs(work) if stage == "annotate" else None
        prof = cProfile.Profile()
        start = time.perf_counter()
        prof.enable()
        _run(pipeline, stage, rows, work, _StampLog(stage))
        prof.disable()
        wall = time.perf_counter() - start
        print(
            f"\n=== {stage} under cProfile: {len(rows)} samples in {wall:.2f} s = "
            f"{1000 * wall / len(rows):.1f} ms/sample"
        )
        prof.dump_stats(args.out / f"{args.name}_{stage}.prof")
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(args.top)
            text = buf.getvalue()
            print(f"--- by {key} ---")
            print(text[text.find("ncalls") :])
    return 0


if __name__ == "__main__":
    sys.exit(main())
