"""The report's verdict page: what it shows, escaping, failed samples, and determinism."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from erbb2_tki.outputs import report_html, vocab

SUMMARY = pd.DataFrame(
    [
        {"sample": "P1", "status": "ok", "reason": "", "tumour_type": "BRCA", "alleles": "p.L755S"},
        {
            "sample": "P2",
            "status": "ok",
            "reason": "",
            "tumour_type": "BRCA",
            "alleles": "p.T798I;p.L869R",
        },
        {"sample": "P3", "status": "ok", "reason": "", "tumour_type": "COADREAD", "alleles": ""},
        {
            "sample": "P4",
            "status": "failed",
            "reason": "VCF has no #CHROM line",
            "tumour_type": "",
            "alleles": "",
        },
    ]
)


def verdict(sample, drug, verdict, level="", alleles="", reason="", cites=""):
    return {
        "sample": sample,
        "drug": drug,
        "verdict": verdict,
        "evidence_level": level,
        "tumour_type_match": "same_tumour_type" if level else "",
        "alleles": alleles,
        "citations": cites,
        "reason": reason,
        "kb_version": "1.0.0",
        "kb_hash": "sha256:abc",
    }


VERDICTS = pd.DataFrame(
    [
        verdict("P1", "lapatinib", "resistant", "D", "p.L755S", "L755S <resistant> & co", "PMID:1"),
        verdict("P1", "neratinib", "sensitive", "B", "p.L755S", "trial", "PMID:2;PMID:3"),
        verdict("P2", "neratinib", "resistant", "C", "p.T798I", "acquired T798I", "PMID:4"),
        verdict("P2", "lapatinib", "no_evidence", reason="no evidence"),
    ]
)


def cells(page: str, table_id: str) -> list[list[tuple[str, str]]]:
    """(class, text) of every cell, row by row, of one table."""
    body = page.split(f'<table id="{table_id}">', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        found = re.findall(r'<t[dh](?: class="([^"]*)")?[^>]*>(.*?)</t[dh]>', row, flags=re.S)
        rows.append([(cls, re.sub(r"<[^>]+>", "", text)) for cls, text in found])
    return rows


def test_grid_has_every_sample_and_drug_with_the_verdicts() -> None:
    page = report_html.verdicts_page(SUMMARY, VERDICTS)
    grid = cells(page, "verdict-grid")[1:]  # (the first row names the drug groups)
    assert [text for _, text in grid[0]] == [
        "sample",
        "tumour type",
        "ERBB2 alleles",
        "lapatinib",
        "neratinib",
    ]
    by_sample = {row[0][1]: row for row in grid[1:]}
    assert sorted(by_sample) == ["P1", "P2", "P3", "P4"]
    assert [c for c, _ in by_sample["P1"][3:]] == ["v resistant", "v sensitive"]
    assert [c for c, _ in by_sample["P2"][3:]] == ["v no_evidence", "v resistant"]
    # P3 has no ERBB2 allele that decides verdicts: not the same as no evidence
    assert [c for c, _ in by_sample["P3"][3:]] == ["v no_allele", "v no_allele"]
    assert [c for c, _ in by_sample["P4"][3:]] == ["v failed", "v failed"]
    assert by_sample["P2"][2][1] == "p.T798I; p.L869R"


def test_details_list_only_verdicts_with_evidence_and_escape_text() -> None:
    page = report_html.verdicts_page(SUMMARY, VERDICTS)
    details = cells(page, "verdict-details")[1:]
    assert [(row[0][1], row[1][1], row[2][1]) for row in details] == [
        ("P1", "lapatinib", "resistant"),
        ("P1", "neratinib", "sensitive"),
        ("P2", "neratinib", "resistant"),
    ]
    assert "L755S &lt;resistant&gt; &amp; co" in page
    assert "<resistant>" not in page
    assert (
        '<a href="https://pubmed.ncbi.nlm.nih.gov/2/">PMID:2</a>; '
        '<a href="https://pubmed.ncbi.nlm.nih.gov/3/">PMID:3</a>'
    ) in page


def test_header_quotes_kb_version_counts_and_settings() -> None:
    page = report_html.verdicts_page(
        SUMMARY, VERDICTS, config={"tumour_type": "", "samples": "config/samples.tsv"}
    )
    assert "1.0.0 (hash <code>sha256:abc</code>)" in page
    assert (
        "4 samples (1 failed), 2 drugs; 1 sensitive, 0 reduced sensitivity, 2 resistant, "
        "0 conflicting verdicts"
    ) in page
    assert "tumour_type = <code>(default)</code>" in page
    assert "samples = <code>config/samples.tsv</code>" in page
    failed = cells(page, "failed-samples")
    assert failed[1] == [("", "P4"), ("", "VCF has no #CHROM line")]
    assert '<a class="sample-page" href="../reports/P4.html">P4</a>' in page


def test_kb_versions_prefer_the_sighting_with_a_hash() -> None:
    assert report_html.kb_versions(VERDICTS, pd.DataFrame([{"kb_version": "1.0.0"}])) == [
        ("1.0.0", "sha256:abc")
    ]
    assert report_html.kb_versions(pd.DataFrame(), pd.DataFrame()) == []


def test_empty_batch_page_says_so() -> None:
    page = report_html.verdicts_page(pd.DataFrame(), pd.DataFrame())
    assert "No samples in this batch." in page
    assert "none (no sample was annotated)" in page


def test_write_report_files_is_deterministic(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    SUMMARY.to_csv(batch / "summary.tsv", sep="\t", index=False)
    VERDICTS.to_csv(batch / "verdicts.tsv", sep="\t", index=False)
    pd.DataFrame(
        [
            {
                "sample": "P1",
                "hgvsp_short": "p.L755S",
                "consequence": "missense_variant",
                "used_for_verdict": "yes",
            }
        ]
    ).to_csv(batch / "alleles.tsv", sep="\t", index=False)
    first = report_html.write_report_files(batch, tmp_path / "a")
    second = report_html.write_report_files(batch, tmp_path / "b")
    assert sorted(first) == ["heatmap", "lollipop", "verdicts"]
    for key in first:
        assert first[key].read_bytes() == second[key].read_bytes(), key
    assert "L755S" in first["lollipop"].read_text()
    assert "kinase domain" in first["lollipop"].read_text()  # the project's transcript model


def test_page_does_not_depend_on_the_order_of_the_rows() -> None:
    """The page is streamed from the tables (sorted by sample, as summarize writes them); rows
    in another order give the same page."""
    page = report_html.verdicts_page(SUMMARY, VERDICTS)
    shuffled = report_html.verdicts_page(
        SUMMARY.iloc[::-1].to_dict("records"), VERDICTS.iloc[[2, 0, 3, 1]].to_dict("records")
    )
    assert shuffled == page


def test_write_report_files_streams_the_tables(tmp_path: Path) -> None:
    """What write_report_files writes from the files equals what the page and figures make of
    the same rows in memory (read_rows restores neutralised cells as the tables' readers do)."""
    batch = tmp_path / "batch"
    batch.mkdir()
    summary = SUMMARY.assign(sample=SUMMARY["sample"].replace({"P4": "=P4"}))
    summary.assign(sample=summary["sample"].replace({"=P4": "'=P4"})).to_csv(
        batch / "summary.tsv", sep="\t", index=False
    )
    VERDICTS.to_csv(batch / "verdicts.tsv", sep="\t", index=False)
    (batch / "alleles.tsv").write_text("")  # an empty table reads as no rows
    paths = report_html.write_report_files(batch, tmp_path / "out")
    assert list(report_html.read_rows(batch / "summary.tsv"))[3]["sample"] == "=P4"
    drugs = Path(__file__).resolve().parents[2] / "annotations" / "knowledge" / "drugs.tsv"
    kinds = vocab.read_drug_kinds(str(drugs))
    expected = report_html.verdicts_page(summary, VERDICTS, drug_kinds=kinds)
    assert paths["verdicts"].read_text() == expected
    assert "No ERBB2 calls in this batch" in paths["lollipop"].read_text()


def test_report_and_summary_jobs_import_no_pandas_numpy_or_matplotlib() -> None:
    """report_figures and summarize stream text: their modules stay off the heavy libraries
    (pandas alone was ~160 MB and ~1.8 s of every report_figures job)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import erbb2_tki.outputs.report_html, erbb2_tki.outputs.plots, erbb2_tki.batch.pipeline\n"
        "print(' '.join(m for m in ('pandas', 'numpy', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
