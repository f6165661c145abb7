"""The workflow's jobs run directly (no Snakemake): manifest, extract, annotate, summarize, check."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from erbb2_tki.batch import pipeline, shards
from erbb2_tki.outputs import tables

HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr17,length=83257441>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\n"
)
L755S = "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT:AD:DP\t0/1:60,40:100\n"


@pytest.fixture
def batch(tmp_path: Path) -> dict[str, Path]:
    vcfs = tmp_path / "vcfs"
    vcfs.mkdir()
    (vcfs / "good.vcf").write_text(HEADER + L755S)
    (vcfs / "none.vcf").write_text(HEADER)
    (vcfs / "text.vcf").write_text("not a vcf at all\n")
    sheet = tmp_path / "samples.tsv"
    sheet.write_text(
        "sample\tvcf\ttumor_type\n"
        "GOOD\tvcfs/good.vcf\tBRCA\n"
        "NONE\tvcfs/none.vcf\t\n"
        "TEXT\tvcfs/text.vcf\t\n"
        "GONE\tvcfs/gone.vcf\t\n"
    )
    config = {
        "samples": str(sheet),
        "input_dir": "",
        "build": "",
        "tumour_type": "",
        "shard_size": 50,
        "n_shards": 0,
    }
    manifest = tmp_path / "results" / "batch" / "samples.tsv"
    pipeline.write_manifest(config, str(manifest))
    return {"root": tmp_path, "manifest": manifest, "sheet": sheet, "config": config}


def test_manifest_lists_samples_in_sheet_order_with_shards(batch: dict[str, Path]) -> None:
    frame = tables.read_tsv(batch["manifest"])
    assert list(frame.columns) == pipeline.MANIFEST_COLUMNS
    assert tables.read_records(batch["manifest"]) == frame.to_dict("records")
    assert list(frame["sample"]) == ["GOOD", "NONE", "TEXT", "GONE"]
    assert set(frame["shard"]) == {"0"}  # 4 samples, shard_size 50: one shard
    assert frame.loc[0, "vcf"] == str(batch["root"] / "vcfs" / "good.vcf")
    assert frame.loc[0, "tumor_type"] == "BRCA"
    rows = pipeline.read_manifest(batch["manifest"], shard=0)
    assert [r.sample for r in rows] == ["GOOD", "NONE", "TEXT", "GONE"]
    assert pipeline.read_manifest(batch["manifest"], shard=1) == []


def test_manifest_shards_follow_the_hash(tmp_path: Path) -> None:
    sheet = tmp_path / "s.tsv"
    names = [f"S{i}" for i in range(9)]
    sheet.write_text("sample\tvcf\n" + "".join(f"{n}\t{n}.vcf\n" for n in names))
    config = {"samples": str(sheet), "input_dir": "", "shard_size": 2, "n_shards": 0}
    records = pipeline.manifest_records(config)
    assert [int(r["shard"]) for r in records] == [shards.shard_of(n, 8) for n in names]


def extract(batch: dict[str, Path], on_error: str = "continue"):
    out = batch["root"] / "results" / "extract" / "shard_0"
    rows = pipeline.read_manifest(batch["manifest"], 0)
    return out, pd.DataFrame(pipeline.extract_shard(rows, out, on_error=on_error))


def test_extract_isolates_failures(batch: dict[str, Path]) -> None:
    out, status = extract(batch)
    by_sample = status.set_index("sample")
    assert list(by_sample["status"]) == ["ok", "ok", "failed", "failed"]
    assert by_sample.loc["GOOD", "n_records"] == "1"
    assert by_sample.loc["GOOD", "build"] == "GRCh38"
    assert by_sample.loc["NONE", "n_records"] == "0"
    text_reason = by_sample.loc["TEXT", "reason"]
    assert "sample TEXT" in text_reason and "text.vcf" in text_reason and "Fix:" in text_reason
    gone_reason = by_sample.loc["GONE", "reason"]
    assert "does not exist" in gone_reason
    assert f"{batch['sheet']} line 5" in gone_reason  # the fix names the sheet line
    assert pipeline.extracted_path(out, "GOOD").is_file()
    assert not pipeline.extracted_path(out, "TEXT").exists()
    assert not pipeline.extracted_path(out, "GONE").exists()
    assert tables.read_tsv(out / "status.tsv").equals(status)


def test_extract_stop_fails_at_the_first_bad_sample(batch: dict[str, Path]) -> None:
    with pytest.raises(SystemExit, match=r"on_error: stop.*TEXT"):
        extract(batch, on_error="stop")


def test_shard_rows_come_from_the_config(batch: dict[str, Path]) -> None:
    rows = pipeline.shard_rows(batch["config"], 0)
    assert rows == pipeline.read_manifest(batch["manifest"], 0)
    digest = pipeline.shard_digest(rows, "extract")
    pipeline._check_digest(rows, "extract", digest)
    with pytest.raises(RuntimeError, match="no longer matches"):
        pipeline._check_digest(rows[:-1], "extract", digest)
    # tumour type is not an extraction input, but it is an annotation input
    changed = [type(r)(**{**r.as_dict(), "tumor_type": "LUAD"}) for r in rows]
    assert pipeline.shard_digest(changed, "extract") == digest
    assert pipeline.shard_digest(changed, "annotate") != pipeline.shard_digest(rows, "annotate")


def test_annotate_writes_outputs_and_clears_stale_ones(batch: dict[str, Path]) -> None:
    extract_dir, _ = extract(batch)
    root = batch["root"] / "results"
    annotated, tables_dir = root / "annotated", root / "tables"
    tables_dir.mkdir(parents=True)
    stale = tables_dir / "TEXT.alleles.tsv"  # from an earlier run in which TEXT was fine
    stale.write_text("sample\nTEXT\n")
    killed = tables_dir / ".GOOD.alleles.tsv.x1y2z3.tmp"  # left by a run killed mid-write
    killed.write_text("sample\n")
    killed_view = tables_dir / ".GOOD.kb_view.json.x1y2z3.tmp"  # the re-analysis record's
    killed_view.write_text("{")
    other = tables_dir / ".GOOD.x.alleles.tsv.x1y2z3.tmp"  # another sample's: not ours to remove
    other.write_text("sample\n")
    shard_dir = root / "annotate" / "shard_0"
    status = pd.DataFrame(
        pipeline.annotate_shard(
            pipeline.read_manifest(batch["manifest"], 0),
            str(extract_dir),
            str(shard_dir),
            annotated_dir=str(annotated),
            tables_dir=str(tables_dir),
        )
    )
    by_sample = status.set_index("sample")
    assert list(by_sample["status"]) == ["ok", "ok", "failed", "failed"]
    assert list(by_sample["stage"]) == ["annotate", "annotate", "extract", "extract"]
    assert by_sample.loc["GOOD", "n_alleles"] == "1"
    assert by_sample.loc["NONE", "n_alleles"] == "0"
    assert by_sample.loc["GOOD", "kb_version"]
    for suffix in pipeline.PER_SAMPLE_SUFFIXES.values():
        assert (annotated if "vcf" in suffix else tables_dir).joinpath(f"GOOD{suffix}").is_file()
    assert not stale.exists()
    assert not killed.exists()
    assert not killed_view.exists()
    assert other.exists()
    assert not list(annotated.glob("TEXT*"))
    alleles = tables.read_tsv(shard_dir / "alleles.tsv")
    assert list(alleles["hgvsp_short"]) == ["p.L755S"]
    verdicts = tables.read_tsv(shard_dir / "verdicts.tsv")
    assert set(verdicts["sample"]) == {"GOOD", "NONE"}

    summary = pipeline.summarize(str(batch["manifest"]), [str(shard_dir)], str(root / "batch"))
    assert [r["sample"] for r in summary] == ["GONE", "GOOD", "NONE", "TEXT"]
    assert {r["sample"]: r["alleles"] for r in summary}["GOOD"] == "p.L755S"
    assert tables.read_records(root / "batch" / "summary.tsv") == summary
    for name in ("summary.tsv", "drug_matrix.tsv", "summary.xlsx", "erbb2_tki_mqc.tsv"):
        assert (root / "batch" / name).is_file()

    log = pipeline.JobLog(None)
    check_file = root / "batch" / "check.txt"
    assert pipeline.check(str(root / "batch" / "summary.tsv"), str(check_file), log) == 1
    assert not check_file.exists()
    text = pipeline.failures_text(summary)
    assert text.startswith("2 of 4 samples failed")
    assert "  GONE: " in text and "  TEXT: " in text


def test_summarize_job_writes_manifest_tables_and_report_in_one_process(
    batch: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Rule summarize is one job (issue 14): the manifest, the batch tables and the report's figures
    and page, from one `python -m erbb2_tki.batch.pipeline summarize` call; then check_batch's module
    lists the failed samples and exits 1, the tables kept."""
    extract_dir, _ = extract(batch)
    root = batch["root"] / "job"
    shard_dir = root / "annotate" / "shard_0"
    pipeline.annotate_shard(
        pipeline.read_manifest(batch["manifest"], 0),
        str(extract_dir),
        str(shard_dir),
        annotated_dir=str(root / "annotated"),
        tables_dir=str(root / "tables"),
    )
    manifest = root / "batch" / "samples.tsv"
    log = root / "summarize.log"
    code = pipeline.main(
        [
            "summarize",
            "--config-json",
            json.dumps(batch["config"]),
            "--manifest",
            str(manifest),
            "--out-dir",
            str(root / "batch"),
            "--report-dir",
            str(root / "report"),
            "--setting=tumour_type=BRCA",
            "--log",
            str(log),
            str(shard_dir),
        ]
    )
    assert code == 0, log.read_text()
    assert manifest.read_bytes() == batch["manifest"].read_bytes()
    for name in ("summary.tsv", "drug_matrix.tsv", "verdicts.tsv", "summary.xlsx"):
        assert (root / "batch" / name).is_file()
    for name in ("lollipop.svg", "verdict_heatmap.svg", "verdicts.html"):
        assert (root / "report" / name).is_file()
    assert "tumour_type" in (root / "report" / "verdicts.html").read_text()
    assert "report_html: wrote verdicts" in log.read_text()

    from erbb2_tki.batch import check

    out = root / "batch" / "check.txt"
    check_log = root / "check.log"
    code = check.main(
        [
            "--summary",
            str(root / "batch" / "summary.tsv"),
            "--out",
            str(out),
            "--log",
            str(check_log),
        ]
    )
    assert code == 1
    assert not out.exists()
    assert "2 of 4 samples failed" in capsys.readouterr().err
    assert "  GONE: " in check_log.read_text()
    assert (root / "batch" / "summary.tsv").is_file()


def test_check_passes_when_all_ok(tmp_path: Path) -> None:
    summary = tmp_path / "summary.tsv"
    summary.write_text("sample\tstatus\treason\nA\tok\t\n")
    out = tmp_path / "check.txt"
    assert pipeline.check(str(summary), str(out), pipeline.JobLog(None)) == 0
    assert out.read_text() == "all 1 samples ok\n"


def test_cli_reports_failures_on_stderr_and_in_the_log(
    batch: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    log = batch["root"] / "extract.log"
    code = pipeline.main(
        [
            "extract",
            "--config-json",
            json.dumps(batch["config"]),
            "--shard",
            "0",
            "--out-dir",
            str(batch["root"] / "ex"),
            "--log",
            str(log),
            "--on-error",
            "stop",
        ]
    )
    assert code == 1
    assert "TEXT" in capsys.readouterr().err
    assert "on_error: stop" in log.read_text()


def _write_shard(folder: Path, tables_text: dict[str, str]) -> str:
    folder.mkdir(parents=True)
    for name, text in tables_text.items():
        (folder / f"{name}.tsv").write_text(text)
    return str(folder)


def test_summarize_merges_shards_by_sample(batch: dict[str, Path]) -> None:
    root = batch["root"]
    status_header = "\t".join(pipeline.STATUS_COLUMNS) + "\n"

    def status(sample: str, state: str) -> str:
        row = {"sample": sample, "status": state, "kb_version": "1.2.0", "n_alleles": "1"}
        return "\t".join(row.get(c, "") for c in pipeline.STATUS_COLUMNS) + "\n"

    first = _write_shard(
        root / "annotate" / "shard_1",
        {
            "status": status_header + status("TEXT", "failed") + status("NONE", "ok"),
            "alleles": "sample\thgvsp_short\tused_for_verdict\n",
            "evidence": "sample\tdrug\tresponse\tnote\n",
            "verdicts": "sample\tdrug\tverdict\nNONE\tlapatinib\tno_evidence\n",
            "structural": "sample\tevent\n",
        },
    )
    second = _write_shard(
        root / "annotate" / "shard_0",
        {
            # OLD is not in the manifest any more (removed from the sheet): left out everywhere.
            "status": status_header + status("GOOD", "ok") + status("GONE", "failed")
            + status("OLD", "ok"),
            "alleles": "sample\thgvsp_short\tused_for_verdict\tcaller_field\n"
            "OLD\tp.V777L\tyes\tz\nGOOD\tp.L755S\tyes\tq\n",
            "evidence": "sample\tdrug\tresponse\tnote\n"
            'GOOD\tneratinib\tsensitive\t"mild response" & <more>\n',
            "verdicts": "sample\tdrug\tverdict\nGOOD\tneratinib\tsensitive\nOLD\tx\tresistant\n",
            "structural": "sample\tevent\n",
        },
    )  # fmt: skip
    out = root / "batch"
    summary = pipeline.summarize(str(batch["manifest"]), [first, second], str(out))
    assert [(r["sample"], r["status"], r["n_alleles"]) for r in summary] == [
        ("GONE", "failed", ""),
        ("GOOD", "ok", "1"),
        ("NONE", "ok", "0"),
        ("TEXT", "failed", ""),
    ]
    good = summary[1]
    assert (good["alleles"], good["verdict_sensitive"], good["kb_version"]) == (
        "p.L755S",
        "neratinib",
        "1.2.0",
    )
    alleles = tables.read_records(out / "alleles.tsv")
    assert [(r["sample"], r["hgvsp_short"], r["caller_field"]) for r in alleles] == [
        ("GOOD", "p.L755S", "q")
    ]
    assert list(alleles[0])[-1] == "caller_field"  # after annotate's own columns
    evidence = tables.read_records(out / "evidence.tsv")
    assert evidence[0]["note"] == '"mild response" & <more>'  # exactly as the shard has it
    assert (out / "drug_matrix.tsv").read_text().splitlines() == [
        "sample\tlapatinib\tneratinib",
        "GONE\tfailed\tfailed",
        "GOOD\tno_evidence\tsensitive",
        "NONE\tno_evidence\tno_evidence",
        "TEXT\tfailed\tfailed",
    ]
    book = load_workbook(out / "summary.xlsx")
    assert book.sheetnames == ["summary", "alleles", "evidence", "drug matrix", "verdicts", "about"]
    header = [c.value for c in book["evidence"][1]]
    note = book["evidence"].cell(row=2, column=header.index("note") + 1)
    assert note.value == '"mild response" & <more>'
    assert [c.value for c in book["drug matrix"]["A"]] == ["sample", "GONE", "GOOD", "NONE", "TEXT"]
    # NONE has no ERBB2 allele: told apart from no evidence in the workbook's matrix
    assert [c.value for c in book["drug matrix"][4]] == ["NONE", "no_allele", "no_allele"]
    summary_sheet = book["summary"]
    columns = [c.value for c in summary_sheet[1]]
    report = summary_sheet.cell(row=3, column=columns.index("report") + 1)
    assert (report.value, report.hyperlink.target) == ("reports/GOOD.html", "../reports/GOOD.html")

    again = root / "again"
    pipeline.summarize(str(batch["manifest"]), [second, first], str(again))
    for path in out.iterdir():
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name

    (Path(first) / "status.tsv").write_text(status_header + status("TEXT", "failed"))
    with pytest.raises(RuntimeError, match=r"no status record for sample\(s\) NONE"):
        pipeline.summarize(str(batch["manifest"]), [first, second], str(out))
