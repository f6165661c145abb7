"""The bad-input corpus through the workflow, in one batch: each sample's status and reason.

Also the two rerun faults of issue 15: a VCF replaced by other content with an older mtime
(`cp -p`) re-runs its shard, and a run killed half-way (outputs marked incomplete) re-runs with
a plain `snakemake`, without --rerun-incomplete (profiles/default).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from workflow_helpers import run_snakemake

from erbb2_tki.outputs import tables

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "badinput"))

from corpus import CASES, header, rec, write_case

pytestmark = pytest.mark.workflow

L755S = 39723967


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("badinput")
    lines = ["sample\tvcf\tbuild"]
    for case in CASES:
        vcf = write_case(case, root / "vcfs" / case.name)
        lines.append(f"{case.name}\t{vcf}\t{case.build}")
    # A second copy of the duplicate case, replaced later by older content (cp -p).
    replaced = write_case(next(c for c in CASES if c.name == "duplicate"), root / "vcfs" / "rep")
    lines.append(f"replaced\t{replaced}\t")
    sheet = root / "samples.tsv"
    sheet.write_text("\n".join(lines) + "\n")
    work = root / "run"
    config = {"samples": str(sheet), "shard_size": 4}
    run = run_snakemake(work, config=config)
    return root, work, config, run


def test_every_case_has_its_alleles_or_a_reason(corpus_run) -> None:
    _, work, _, run = corpus_run
    assert run.returncode == 0, run.output[-3000:]
    assert "Traceback" not in run.output
    summary = {r["sample"]: r for r in tables.read_records(work / "results/batch/summary.tsv")}
    for case in CASES:
        row = summary[case.name]
        assert row["status"] == case.status, (case.name, row)
        assert row["n_alleles"] == str(len(case.alleles)), (case.name, row)
        if case.note:
            assert case.note in row["note"], (case.name, row["note"])
        if case.events:
            assert row["structural_events"], (case.name, row)
    # Formula-like text from the VCF is neutralised in every TSV a spreadsheet could open.
    for path in (work / "results").rglob("*.tsv"):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            assert not [c for c in line.split("\t") if c[:1] in ("=", "+", "@")], path


def test_replaced_vcf_with_an_older_mtime_reruns_its_shard(corpus_run) -> None:
    root, work, config, run = corpus_run
    assert run.returncode == 0, run.output[-3000:]
    target = root / "vcfs" / "rep" / "duplicate.vcf"
    older = root / "older.vcf"
    older.write_text(header())  # no ERBB2 record at all
    os.utime(older, (1_000_000, 1_000_000))  # 1970: older than every output
    shutil.copy2(older, target)  # cp -p: content replaced, mtime goes back in time
    again = run_snakemake(work, config=config)
    assert again.returncode == 0, again.output[-3000:]
    summary = {r["sample"]: r for r in tables.read_records(work / "results/batch/summary.tsv")}
    assert summary["replaced"]["n_alleles"] == "0"
    assert summary["duplicate"]["n_alleles"] == "1"


def test_a_killed_run_reruns_without_rerun_incomplete(corpus_run) -> None:
    _, work, config, run = corpus_run
    assert run.returncode == 0, run.output[-3000:]
    # What a SIGKILL mid-job leaves: the job's output marked incomplete in .snakemake.
    output = "results/batch/summary.tsv"
    marker = work / ".snakemake" / "incomplete" / base64.urlsafe_b64encode(output.encode()).decode()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"external_jobid": None}))
    # Without the workflow profile Snakemake stops and asks for --rerun-incomplete ...
    stopped = run_snakemake(work, "--workflow-profile", "none", config=config)
    assert stopped.returncode != 0 and "incomplete" in stopped.output.lower()
    # ... with it (a plain `snakemake`, which finds profiles/default) the job simply re-runs.
    again = run_snakemake(work, config=config)
    assert again.returncode == 0, again.output[-3000:]
    assert not marker.exists()


def test_record_helpers_are_what_the_corpus_uses() -> None:
    assert rec("chr17", L755S).split("\t")[:5] == ["chr17", str(L755S), ".", "T", "C"]
