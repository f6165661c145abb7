"""Snakemake end to end: the example batch's known answers, shards, failures, determinism, kills.

Every test drives the real CLI in a temporary run folder (`snakemake -s Snakefile --directory
RUN`), as a core would run a deployed copy.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from workflow_helpers import (
    EXAMPLE_CONFIG,
    EXAMPLE_DIR,
    PROJECT_DIR,
    Run,
    copy_example,
    job_counts,
    result_hashes,
    run_snakemake,
    snakemake_args,
    snakemake_env,
)

from erbb2_tki import knowledge
from erbb2_tki.batch import shards
from erbb2_tki.outputs import tables, vocab

pytestmark = pytest.mark.workflow

EXAMPLE_SAMPLES = ["S01", "S02", "S03", "S04", "S05", "S06"]


def summary_of(workdir: Path) -> pd.DataFrame:
    return tables.read_tsv(workdir / "results" / "batch" / "summary.tsv").set_index("sample")


# ---------------------------------------------------------------------------------------------
# Static checks


def test_lint_and_snakefmt_are_clean(example_sheet: Path, tmp_path: Path) -> None:
    run = run_snakemake(tmp_path, "--lint", config={"samples": example_sheet})
    assert run.returncode == 0, run.output
    assert "Congratulations, your workflow is in a good condition!" in run.output
    files = [PROJECT_DIR / "Snakefile", *sorted((PROJECT_DIR / "workflow" / "rules").glob("*.smk"))]
    fmt = subprocess.run(
        [shutil.which("snakefmt") or "snakefmt", "--check", *map(str, files)],
        capture_output=True,
        text=True,
        env=snakemake_env(),
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_dry_run_plans_one_job_per_shard(example_sheet: Path, tmp_path: Path) -> None:
    run = run_snakemake(tmp_path, "--dry-run", config={"samples": example_sheet, "shard_size": 2})
    assert run.returncode == 0, run.output
    n_shards = len(shards.assign(EXAMPLE_SAMPLES, shard_size=2))
    assert job_counts(run.output) == {
        "all": 1,
        "extract_shard": n_shards,
        "annotate_shard": n_shards,
        "summarize": 1,
        "check_batch": 1,
    }
    assert not (tmp_path / "results").exists()  # a dry run writes nothing


# ---------------------------------------------------------------------------------------------
# The example batch: known answers


def test_example_summary_known_answers(example_run: Run) -> None:
    summary = summary_of(example_run.workdir)
    assert list(summary.index) == EXAMPLE_SAMPLES
    assert set(summary["status"]) == {"ok"}
    expected = {
        "S01": ("GRCh37", "BRCA", "S01", "1", "p.L755S"),
        "S02": ("GRCh38", "BRCA", "S02", "1", "p.L755S"),
        "S03": ("GRCh38", "BRCA", "TUMOR", "2", "p.T798I;p.L869R"),
        "S04": ("GRCh38", "NSCLC", "S04", "1", "p.Y772_A775dup"),
        "S05": ("GRCh38", "LUAD", "S05", "1", "p.Y772_A775dup"),
        "S06": ("GRCh38", "COADREAD", "S06", "0", ""),
    }
    for sample, values in expected.items():
        row = summary.loc[sample]
        assert (
            row["build"],
            row["tumour_type"],
            row["tumour_sample"],
            row["n_alleles"],
            row["alleles"],
        ) == values, sample
    # L755S: lapatinib fails, neratinib works (Bose 2013; SUMMIT).
    for sample in ("S01", "S02"):
        assert "lapatinib" in summary.loc[sample, "verdict_resistant"].split(";")
        assert "neratinib" in summary.loc[sample, "drugs_sensitive_evidence"].split(";")
    # L869R with the acquired gatekeeper T798I: neratinib resistant, never hidden.
    assert "neratinib" in summary.loc["S03", "verdict_resistant"].split(";")
    assert "neratinib" not in summary.loc["S03", "verdict_sensitive"].split(";")
    # The two spellings of the YVMA duplication get the same answers.
    columns = ["alleles", "oncogenic_alleles", "verdict_sensitive", "verdict_resistant"]
    assert list(summary.loc["S04", columns]) == list(summary.loc["S05", columns])
    assert summary.loc["S04", "oncogenic_alleles"] == "p.Y772_A775dup"
    # No ERBB2 call: ok, with no verdict at all.
    assert summary.loc["S06", ["verdict_sensitive", "verdict_resistant"]].tolist() == ["", ""]
    assert (example_run.workdir / "results/batch/check.txt").read_text() == "all 6 samples ok\n"
    for figure in ("lollipop.svg", "verdict_heatmap.svg", "verdicts.html"):
        assert (example_run.workdir / "results/report" / figure).stat().st_size > 0


def test_example_per_sample_outputs(example_run: Run) -> None:
    results = example_run.workdir / "results"
    for sample in EXAMPLE_SAMPLES:
        for name in (
            f"annotated/{sample}.erbb2.annotated.vcf.gz",
            f"annotated/{sample}.erbb2.annotated.vcf.gz.tbi",
            f"tables/{sample}.alleles.tsv",
            f"tables/{sample}.tki.tsv",
            f"tables/{sample}.verdicts.tsv",
        ):
            assert (results / name).is_file(), name
    for sample in ("S04", "S05"):
        alleles = tables.read_tsv(results / f"tables/{sample}.alleles.tsv")
        assert list(alleles["hgvsc"]) == ["NM_004448.4:c.2313_2324dup"]
        assert list(alleles["hgvsp"]) == ["p.Tyr772_Ala775dup"]
    s03 = tables.read_tsv(results / "tables/S03.alleles.tsv").set_index("hgvsp_short")
    assert s03.loc["p.T798I", "hgvsc"] == "NM_004448.4:c.2393C>T"
    assert s03.loc["p.L869R", "hgvsc"] == "NM_004448.4:c.2606T>G"
    # VAF and depth come from the TUMOR column (the second one), not from NORMAL.
    assert float(s03.loc["p.T798I", "vaf"]) == pytest.approx(0.12)
    assert int(float(s03.loc["p.T798I", "depth"])) == 100
    assert set(s03["tumour_sample"]) == {"TUMOR"}
    with gzip.open(results / "annotated/S01.erbb2.annotated.vcf.gz", "rt") as handle:
        text = handle.read()
    assert "##erbb2_tki_kb_version=" in text
    record = next(line for line in text.splitlines() if line.startswith("17\t37880220"))
    assert "ERBB2_HGVSC=NM_004448.4:c.2264T>C" in record
    assert "ERBB2_HGVSP_SHORT=p.L755S" in record
    assert tables.read_tsv(results / "tables/S06.alleles.tsv").empty


# The example batch's verdicts in context (issue 11), with why:
# (sample, drug): (verdict, level_in_context, amp_tier, oncokb_level, context, warning that must be there)
EXAMPLE_VERDICTS = {
    # BRCA L755S: the approvals are in NSCLC: level C, tier II, OncoKB 3B, not "A"
    ("S01", "zongertinib"): ("sensitive", "C", "II", "3B", "other_tumour_type", ""),
    ("S02", "trastuzumab deruxtecan"): ("sensitive", "C", "II", "3B", "other_tumour_type", ""),
    # colorectal rows alone never make a breast sample resistant: cetuximab's colorectal resistance is a
    # note and a warning; so is trastuzumab's colorectal case report of no benefit (KB 2.0.0):
    # evidence against a drug seen only in another tumour type is set aside
    ("S01", "cetuximab"): (
        "no_evidence",
        "",
        "",
        "",
        "",
        "other_tumour_resistance:Colorectal Cancer",
    ),
    ("S02", "trastuzumab"): (
        "no_evidence",
        "",
        "",
        "",
        "",
        "other_tumour_resistance:Colorectal Cancer",
    ),
    # MutHER: lower benefit of neratinib + fulvestrant for L755S is reduced sensitivity, not resistance
    ("S01", "neratinib + fulvestrant"): (
        "reduced_sensitivity",
        "B",
        "I",
        "",
        "same_tumour_type",
        "",
    ),
    # neratinib in breast: SUMMIT (B, same tumour type) in context
    ("S01", "neratinib"): ("sensitive", "B", "I", "3A", "same_tumour_type", ""),
    # S03 T798I: the acquired resistance (breast case report) makes neratinib resistant, R2; the triple
    # combination containing neratinib cannot stay sensitive on class-level evidence
    ("S03", "neratinib"): ("resistant", "C", "II", "R2", "same_tumour_type", ""),
    ("S03", "neratinib + fulvestrant + trastuzumab"): (
        "conflicting",
        "A",
        "I",
        "2",
        "same_tumour_type",
        "component_resistant:neratinib",
    ),
    # the gatekeeper is flagged on TKI/ADC verdicts that have no evidence about it
    ("S03", "zongertinib"): (
        "sensitive",
        "C",
        "II",
        "3B",
        "other_tumour_type",
        "resistance_allele:p.T798I",
    ),
    # LUAD exon 20 insertion: afatinib's class-level limited benefit is reduced sensitivity, and it
    # says that it outranked the allele-level case report
    ("S05", "afatinib"): (
        "reduced_sensitivity",
        "B",
        "I",
        "",
        "same_tumour_type",
        "class_outranks_allele:p.Y772_A775dup",
    ),
    ("S05", "zongertinib"): ("sensitive", "A", "I", "1", "same_tumour_type", ""),
}


def test_example_verdicts_in_context(example_run: Run) -> None:
    batch = example_run.workdir / "results" / "batch"
    verdicts = tables.read_tsv(batch / "verdicts.tsv").set_index(["sample", "drug"])
    for key, (verdict, level, tier, oncokb, context, warning) in EXAMPLE_VERDICTS.items():
        row = verdicts.loc[key]
        got = (row["verdict"], row["level_in_context"], row["amp_tier"], row["oncokb_level"])
        assert (*got, row["context"]) == (verdict, level, tier, oncokb, context), key
        if warning:
            assert warning in row["warnings"].split(";"), key
    # reduced sensitivity is never rendered as resistant
    summary = tables.read_tsv(batch / "summary.tsv").set_index("sample")
    assert "afatinib" not in summary.loc["S05", "verdict_resistant"].split(";")
    # afatinib (class-level limited benefit) and dacomitinib (a trial without benefit, no_benefit in 2.0.0)
    assert summary.loc["S05", "verdict_reduced_sensitivity"] == "afatinib;dacomitinib"
    assert summary.loc["S01", "best_tier"] == "I" and summary.loc["S06", "best_tier"] == ""
    assert "component_resistant:neratinib" in summary.loc["S03", "warnings"].split(";")
    s03 = tables.read_tsv(batch / "alleles.tsv").set_index(["sample", "hgvsp_short"])
    assert s03.loc[("S03", "p.T798I"), "origin"] == "somatic"  # NORMAL column 0/0


def test_example_batch_tables_and_excel(example_run: Run) -> None:
    batch = example_run.workdir / "results" / "batch"
    matrix = tables.read_tsv(batch / "drug_matrix.tsv").set_index("sample")
    assert list(matrix.index) == EXAMPLE_SAMPLES
    assert matrix.loc["S03", "neratinib"] == "resistant"
    assert matrix.loc["S01", "lapatinib"] == "resistant"
    assert set(matrix.loc["S06"]) == {"no_evidence"}
    assert set(matrix.values.ravel()) <= set(tables.VERDICTS)
    book = load_workbook(batch / "summary.xlsx")
    sheets = ["summary", "alleles", "evidence", "drug matrix", "verdicts", "about"]
    assert book.sheetnames == sheets
    # the workbook's drug matrix tells S06 (no ERBB2 call) apart from no evidence, coloured
    drug_matrix = book["drug matrix"]
    s06 = next(row for row in drug_matrix.iter_rows(2) if row[0].value == "S06")
    assert {c.value for c in s06[1:]} == {vocab.NO_ALLELE}
    assert {c.fill.fgColor.rgb for c in s06[1:]} == {"FF" + vocab.fill(vocab.NO_ALLELE)[1:]}
    # each sample's page, linked from the summary sheet (relative to results/batch/)
    header = [c.value for c in book["summary"][1]]
    links = [row[header.index("report")] for row in book["summary"].iter_rows(2)]
    assert [c.hyperlink.target for c in links] == [f"../reports/{s}.html" for s in EXAMPLE_SAMPLES]
    about = {row[0].value: row[1].value for row in book["about"].iter_rows(2)}
    assert (
        about["knowledge base version"]
        == knowledge.load_knowledge(PROJECT_DIR / "annotations").version
    )
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
    summary_sheet = book["summary"]
    assert [c.value for c in summary_sheet["A"]][1:] == EXAMPLE_SAMPLES
    assert book["alleles"].max_row == 1 + 6  # header + six alleles over the batch


def test_multiqc_shows_the_section(example_run: Run, tmp_path: Path) -> None:
    multiqc = shutil.which("multiqc", path=snakemake_env()["PATH"])
    if multiqc is None:
        pytest.skip("multiqc is not installed (pip install multiqc)")
    out = tmp_path / "multiqc"
    proc = subprocess.run(
        [multiqc, str(example_run.workdir / "results"), "-o", str(out), "--no-ansi", "-f"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "erbb2_tki: Found 6 samples" in proc.stdout + proc.stderr
    table = pd.read_csv(out / "multiqc_data" / "multiqc_erbb2_tki_table.txt", sep="\t", dtype=str)
    assert sorted(table["Sample"]) == EXAMPLE_SAMPLES
    assert table.set_index("Sample").loc["S02", "alleles"] == "p.L755S"
    assert table.set_index("Sample").loc["S02", "tumour_type"] == "BRCA"
    report = (out / "multiqc_report.html").read_text()
    assert "ERBB2 TKI" in report
    assert "Best tier" in report and "KB version" in report
    # each sample's page is a link in the table (relative to where `multiqc results/` runs)
    assert '<a href="results/reports/S02.html">S02</a>' in report


# ---------------------------------------------------------------------------------------------
# Determinism and re-runs


def test_two_runs_give_byte_identical_outputs(
    example_run: Run, example_sheet: Path, tmp_path: Path
) -> None:
    second = run_snakemake(tmp_path, config={"samples": example_sheet, **EXAMPLE_CONFIG})
    assert second.returncode == 0, second.output[-3000:]
    first_hashes = result_hashes(example_run.workdir)
    assert len(first_hashes) > 50
    assert result_hashes(tmp_path) == first_hashes


def test_nothing_to_do_after_a_complete_run(example_run: Run, example_sheet: Path) -> None:
    again = run_snakemake(
        example_run.workdir, "--dry-run", config={"samples": example_sheet, **EXAMPLE_CONFIG}
    )
    assert again.returncode == 0, again.output
    assert "Nothing to be done" in again.output


def test_adding_a_sample_reruns_one_shard(
    example_run: Run, example_sheet: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / "run"
    shutil.copytree(example_run.workdir, workdir, symlinks=True)
    bigger = example_sheet.with_name("samples_plus_one.tsv")
    bigger.write_text(
        example_sheet.read_text() + "S07\texample/S02_L755S_GRCh38.vcf.gz\t\t\tBRCA\t\n"
    )
    run = run_snakemake(workdir, "--dry-run", config={"samples": bigger, **EXAMPLE_CONFIG})
    assert run.returncode == 0, run.output
    assert job_counts(run.output) == {
        "all": 1,
        "extract_shard": 1,
        "annotate_shard": 1,
        "summarize": 1,
        "check_batch": 1,
    }
    n_shards = shards.shard_count(7, EXAMPLE_CONFIG["shard_size"])
    assert n_shards == shards.shard_count(6, EXAMPLE_CONFIG["shard_size"])
    assert f"results/extract/shard_{shards.shard_of('S07', n_shards)}" in run.output


def test_knowledge_base_change_reannotates_without_extracting(
    example_sheet: Path, tmp_path: Path
) -> None:
    kb_copy = tmp_path / "annotations"
    shutil.copytree(PROJECT_DIR / "annotations", kb_copy)
    workdir = tmp_path / "run"
    config = {"samples": example_sheet, "annotations": kb_copy, "n_shards": 2}
    first = run_snakemake(workdir, config=config)
    assert first.returncode == 0, first.output[-3000:]
    before = tables.read_tsv(workdir / "results/batch/drug_matrix.tsv").set_index("sample")
    extracted = {p: p.stat().st_mtime_ns for p in (workdir / "results/extract").rglob("*.gz")}
    assert extracted

    # Cut a new knowledge-base version without the L755S x lapatinib resistance rows (KB 2.0.0: EV0013,
    # Bose 2013 in breast models, and EV0082, Kancha 2011 in Ba/F3).
    evidence = kb_copy / "knowledge" / "evidence.tsv"
    lines = evidence.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("EV0013\t", "EV0082\t"))]
    assert len(kept) == len(lines) - 2
    evidence.write_text("".join(kept))
    hashed = subprocess.run(
        [
            shutil.which("erbb2-tki", path=snakemake_env()["PATH"]) or "erbb2-tki",
            "kb",
            "hash",
            "--write",
            str(kb_copy / "knowledge"),
        ],
        capture_output=True,
        text=True,
    )
    assert hashed.returncode == 0, hashed.stdout + hashed.stderr

    plan = run_snakemake(workdir, "--dry-run", config=config)
    assert job_counts(plan.output) == {
        "all": 1,
        "annotate_shard": 2,
        "summarize": 1,
        "check_batch": 1,
    }
    second = run_snakemake(workdir, config=config)
    assert second.returncode == 0, second.output[-3000:]
    after = tables.read_tsv(workdir / "results/batch/drug_matrix.tsv").set_index("sample")
    assert {p: p.stat().st_mtime_ns for p in extracted} == extracted  # not re-extracted
    assert before.loc["S02", "lapatinib"] == "resistant"
    assert after.loc["S02", "lapatinib"] != "resistant"
    unchanged = [s for s in EXAMPLE_SAMPLES if s not in ("S01", "S02")]
    assert after.loc[unchanged, "neratinib"].tolist() == before.loc[unchanged, "neratinib"].tolist()

    # The CIViC cross-check tables are not read by annotation: editing a curator decision re-runs nothing.
    decisions = kb_copy / "concordance" / "civic_decisions.tsv"
    decisions.write_text(decisions.read_text() + "# reviewed again\n")
    plan = run_snakemake(workdir, "--dry-run", config=config)
    assert plan.returncode == 0 and job_counts(plan.output) == {}, plan.output[-2000:]


# ---------------------------------------------------------------------------------------------
# Bad input: each kind fails its own sample (or, for sheet errors, the run before it starts)


def make_corpus(folder: Path) -> Path:
    """Good samples next to every kind of bad input; returns the sheet."""
    sheet = copy_example(folder)
    example = folder / "example"
    good = (example / "S05_YVMA_right_shifted.vcf").read_text()
    head = [line for line in good.splitlines() if line.startswith("#")]
    bad = folder / "bad"
    bad.mkdir()
    data = (example / "S02_L755S_GRCh38.vcf.gz").read_bytes()
    (bad / "truncated.vcf.gz").write_bytes(data[: len(data) // 2])
    (bad / "not_a_vcf.vcf").write_text("Sample report\nthis is a spreadsheet export\n")
    (bad / "unsorted.vcf").write_text(
        "\n".join(
            [
                *head,
                "chr17\t39725161\t.\tT\tG\t60\tPASS\tDP=100\tGT:AD:AF:DP\t0/1:65,35:0.350:100",
                "chr17\t39723967\t.\tT\tC\t60\tPASS\tDP=100\tGT:AD:AF:DP\t0/1:70,30:0.300:100",
            ]
        )
        + "\n"
    )
    (bad / "empty.vcf").write_text("")
    (bad / "header_only.vcf").write_text("\n".join(head) + "\n")
    (bad / "with space").mkdir()
    shutil.copy(example / "S05_YVMA_right_shifted.vcf", bad / "with space" / "sample one.vcf")
    rows = [
        ("TRUNC", "bad/truncated.vcf.gz", ""),
        ("NOTVCF", "bad/not_a_vcf.vcf", ""),
        ("BUILD", "example/S02_L755S_GRCh38.vcf.gz", "GRCh37"),
        ("UNSORTED", "bad/unsorted.vcf", ""),
        ("EMPTY", "bad/empty.vcf", ""),
        ("HEADER", "bad/header_only.vcf", ""),
        ("SPACE", "bad/with space/sample one.vcf", ""),
        ("MISSING", "bad/missing.vcf", ""),
    ]
    with sheet.open("a") as handle:
        for name, vcf, build in rows:
            handle.write(f"{name}\t{vcf}\t\t\tBRCA\t{build}\n")
    return sheet


def test_bad_input_corpus_fails_each_sample_alone(tmp_path: Path) -> None:
    sheet = make_corpus(tmp_path / "inputs")
    run = run_snakemake(tmp_path / "run", "--keep-going", config={"samples": sheet})
    assert run.returncode != 0
    summary = summary_of(tmp_path / "run")
    expected_failed = {
        "TRUNC": ("truncated.vcf.gz", "truncated"),
        "NOTVCF": ("not_a_vcf.vcf", "not a VCF"),
        "BUILD": ("S02_L755S_GRCh38.vcf.gz", "GRCh37 was declared"),
        "EMPTY": ("empty.vcf", "empty"),
        "MISSING": ("missing.vcf", "does not exist"),
    }
    for sample, (file_name, words) in expected_failed.items():
        row = summary.loc[sample]
        assert row["status"] == "failed", sample
        assert f"sample {sample}" in row["reason"]
        assert file_name in row["reason"]
        assert words in row["reason"]
        assert "Fix:" in row["reason"]
        assert f"  {sample}: " in run.stderr  # listed at the end of the run
        assert not (tmp_path / f"run/results/annotated/{sample}.erbb2.annotated.vcf.gz").exists()
        assert not (tmp_path / f"run/results/tables/{sample}.alleles.tsv").exists()
    assert f"{sheet} line 17" in summary.loc["MISSING", "reason"]
    # Inputs that are odd but valid give answers.
    assert summary.loc["UNSORTED", "status"] == "ok"
    assert summary.loc["UNSORTED", "alleles"] == "p.L755S;p.L869R"
    assert "sorted" in summary.loc["UNSORTED", "note"]
    assert (summary.loc["HEADER", "status"], summary.loc["HEADER", "n_alleles"]) == ("ok", "0")
    assert summary.loc["SPACE", "alleles"] == "p.Y772_A775dup"
    for sample in EXAMPLE_SAMPLES:
        assert summary.loc[sample, "status"] == "ok"
    assert "5 of 14 samples failed" in run.stderr
    assert not (tmp_path / "run/results/batch/check.txt").exists()
    assert (tmp_path / "run/results/batch/summary.xlsx").is_file()


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("S01\texample/S06_no_ERBB2_call.vcf\n", "sample 'S01' appears twice (first on line 4)"),
        ("../x\texample/S06_no_ERBB2_call.vcf\n", "sample name '../x' is not allowed"),
    ],
    ids=["duplicate_name", "path_in_name"],
)
def test_sheet_errors_stop_before_any_job(tmp_path: Path, line: str, words: str) -> None:
    sheet = copy_example(tmp_path / "inputs")
    with sheet.open("a") as handle:
        handle.write(line)
    run = run_snakemake(tmp_path / "run", "--dry-run", config={"samples": sheet})
    assert run.returncode != 0
    assert words in run.output
    assert f"{sheet}, record line 10" in run.output
    assert "Fix:" in run.output
    assert not (tmp_path / "run" / "results").exists()


def test_on_error_stop_fails_at_the_bad_sample(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(EXAMPLE_DIR / "S05_YVMA_right_shifted.vcf", inputs / "good.vcf")
    (inputs / "broken.vcf").write_text("not a vcf\n")
    sheet = inputs / "samples.tsv"
    sheet.write_text("sample\tvcf\nGOOD\tgood.vcf\nBROKEN\tbroken.vcf\n")
    run = run_snakemake(tmp_path / "run", config={"samples": sheet, "on_error": "stop"})
    assert run.returncode != 0
    assert "stopping at the first failed sample (on_error: stop)" in run.output
    assert "sample BROKEN" in run.output
    assert not (tmp_path / "run/results/batch/summary.tsv").exists()
    assert not (tmp_path / "run/results/extract").exists() or not any(
        (tmp_path / "run/results/extract").iterdir()
    )


# ---------------------------------------------------------------------------------------------
# A run killed half-way leaves nothing a re-run would trust


def make_generated_batch(folder: Path, n_samples: int) -> Path:
    """n_samples copies of the example VCFs, as a folder for `input_dir`."""
    folder.mkdir(parents=True)
    sources = sorted(p for p in EXAMPLE_DIR.iterdir() if p.name.endswith((".vcf", ".vcf.gz")))
    sources = [p for p in sources if "S03" not in p.name]  # single-sample files only
    for index in range(n_samples):
        source = sources[index % len(sources)]
        suffix = ".vcf.gz" if source.name.endswith(".gz") else ".vcf"
        shutil.copy(source, folder / f"G{index:03d}{suffix}")
    return folder


def assert_complete(path: Path) -> None:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            handle.read()
    elif path.suffix == ".tsv":
        text = path.read_text()
        assert text.endswith("\n"), path


def test_killed_run_leaves_no_partial_output(tmp_path: Path) -> None:
    batch = make_generated_batch(tmp_path / "vcfs", 16)
    workdir = tmp_path / "run"
    workdir.mkdir()
    config = {"input_dir": batch, "shard_size": 4}
    proc = subprocess.Popen(
        snakemake_args(workdir, *[], config=config),
        cwd=workdir,
        env=snakemake_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    annotated = workdir / "results" / "annotated"
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if annotated.is_dir() and any(annotated.glob("*.vcf.gz")):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and every job: like a node going down
    finally:
        proc.wait(timeout=30)

    for path in (workdir / "results").rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            assert_complete(path)
    assert not (workdir / "results/batch/summary.tsv").exists()
    # A killed Snakemake leaves its lock; the user removes it as Snakemake's message says.
    unlock = run_snakemake(workdir, "--unlock", config=config)
    assert unlock.returncode == 0, unlock.output
    # Snakemake does not trust the killed jobs' outputs: it asks for them to be re-run...
    plan = run_snakemake(workdir, "--dry-run", config=config)
    assert plan.returncode != 0 or job_counts(plan.output).get("annotate_shard", 0) > 0
    if plan.returncode != 0:
        assert "incomplete" in plan.output.lower()
    # ...and a plain re-run (no --rerun-incomplete: profiles/default sets it) finishes the batch
    # with every sample answered.
    rerun = run_snakemake(workdir, config=config)
    assert rerun.returncode == 0, rerun.output[-3000:]
    summary = summary_of(workdir)
    assert len(summary) == 16
    assert set(summary["status"]) == {"ok"}
    assert not [p for p in (workdir / "results").rglob("*.tmp")]
    for sample in summary.index:
        assert (annotated / f"{sample}.erbb2.annotated.vcf.gz").is_file()
