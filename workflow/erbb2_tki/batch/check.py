"""The end-of-run check: exit non-zero listing the failed samples, after every table is written.

Run by the workflow's last job (rule check_batch) as `python -m erbb2_tki.batch.check`. It is a
job of its own because Snakemake deletes the outputs of a job that fails: the batch tables and
the report must come from a job that succeeds, and only this one fails. Kept apart from
pipeline.py so that the job imports little more than the table reader (about 0.05 s instead of
the 0.2 s pipeline.py's imports cost).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

FAILED = "failed"


class Log(Protocol):
    def info(self, text: str) -> None: ...

    def failure(self, text: str) -> None: ...


def failures_text(summary: Sequence[dict[str, str]]) -> str:
    """The end-of-run list of failed samples ('' when none failed)."""
    failed = [r for r in summary if r.get("status") == FAILED]
    if not failed:
        return ""
    lines = [f"{len(failed)} of {len(summary)} samples failed (see results/batch/summary.tsv):"]
    lines += [f"  {r['sample']}: {r.get('reason', '')}" for r in failed]
    return "\n".join(lines)


def check(summary_path: str, out: str, log: Log) -> int:
    """Exit status 0 and write `out` when every sample is ok; else 1, listing the failures."""
    from ..outputs import tables

    summary = tables.read_records(summary_path)
    text = failures_text(summary)
    if text:
        log.failure(text)
        return 1
    message = f"all {len(summary)} samples ok\n"
    log.info(message)
    tables.atomic_write_bytes(out, message.encode("utf-8"))
    return 0


class _FileLog:
    def __init__(self, path: str | None) -> None:
        self.path = path
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text("", encoding="utf-8")

    def info(self, text: str) -> None:
        if self.path:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(text.rstrip("\n") + "\n")

    def failure(self, text: str) -> None:
        self.info(text)
        print(text, file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m erbb2_tki.batch.check",
        description="Exit non-zero listing the failed samples of results/batch/summary.tsv.",
    )
    parser.add_argument("--summary", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--log")
    args = parser.parse_args(argv)
    return check(args.summary, args.out, _FileLog(args.log))


if __name__ == "__main__":  # pragma: no cover - run by the workflow's rule check_batch
    sys.exit(main())
