#!/usr/bin/env python3
"""Where a shard job's time goes: import cost, then extraction and annotation of N samples under cProfile.

Why: bench_batch.py measures the whole workflow; when a target is missed the owners need to know which
functions cost what per sample. This runs the same library calls a shard job makes
(erbb2_tki.batch.pipeline.extract_shard / annotate_shard) in one process on the first N samples of a generated
batch and prints the per-sample cost and the top functions by cumulative and own time.

  python benchmarks/profile_shard.py --samples 50 [--sheet benchmarks/data/batch_1000/samples.tsv]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sheet", type=Path, default=benchlib.DATA_DIR / "batch_1000" / "samples.tsv"
    )
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--out", type=Path, default=benchlib.OUT_DIR, help="where the .prof files go"
    )
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    from erbb2_tki.batch import pipeline
    from erbb2_tki.batch import samples as sample_sheet

    t1 = time.perf_counter()

    t2 = time.perf_counter()
    print(
        f"import erbb2_tki.batch.pipeline: {t1 - t0:.2f} s; + extract/annotate/knowledge: {t2 - t1:.2f} s"
    )

    rows = sample_sheet.load_samples({"samples": str(args.sheet)})[: args.samples]
    work = Path(tempfile.mkdtemp(prefix="erbb2_profile_"))
    args.out.mkdir(parents=True, exist_ok=True)
    for stage in ("extract", "annotate"):
        prof = cProfile.Profile()
        start = time.perf_counter()
        prof.enable()
        if stage == "extract":
            pipeline.extract_shard(rows, work / "extract")
        else:
            pipeline.annotate_shard(
                rows,
                work / "extract",
                work / "annotate",
                annotated_dir=str(work / "annotated"),
                tables_dir=str(work / "tables"),
            )
        prof.disable()
        wall = time.perf_counter() - start
        print(
            f"\n=== {stage}: {len(rows)} samples in {wall:.2f} s = {1000 * wall / len(rows):.1f} ms/sample"
        )
        prof.dump_stats(args.out / f"profile_{stage}.prof")
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(args.top)
            text = buf.getvalue()
            print(f"--- by {key} ---")
            print(text[text.find("ncalls") :])
    return 0


if __name__ == "__main__":
    sys.exit(main())
