"""Issue 16: "the config key `padding` changes nothing".

`pipeline.extract_shard` did not pass `padding` to `extract.extract_sample`, and annotation
re-filtered the records with `extract.erbb2_region(build)` at its default 5,000, so a changed
padding re-ran extraction and changed no output. Now the region is decided once, in
extraction, recorded in the extract's status (`region`) and header, and passed explicitly to
annotation, which keeps exactly the records in it.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from erbb2_tki.batch import pipeline
from erbb2_tki.batch.samples import SampleRow
from erbb2_tki.outputs import tables
from erbb2_tki.vcf.extract import erbb2_region

SPAN_START, SPAN_END = erbb2_region("GRCh38", padding=0)  # 39,700,064-39,728,658 (NM_004448.4)
HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr17,length=83257441>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\n"
)
# 12 kb upstream of the transcript: outside the default 5,000 padding, inside 20,000.
FAR = f"chr17\t{SPAN_START - 12000}\tfar\tA\tG\t50\tPASS\t.\tGT\t0/1\n"
# L755S, inside the transcript: kept at any padding.
L755S = "chr17\t39723967\tl755s\tT\tC\t50\tPASS\t.\tGT\t0/1\n"


@pytest.mark.parametrize(
    ("padding", "kept"),
    [(0, ["39723967"]), (5000, ["39723967"]), (20000, [str(SPAN_START - 12000), "39723967"])],
)
def test_padding_decides_the_records_extracted_and_annotated(tmp_path: Path, padding, kept):
    vcf = tmp_path / "s.vcf"
    vcf.write_text(HEADER + FAR + L755S)
    rows = [SampleRow(sample="S1", vcf=str(vcf), build="GRCh38")]
    extract_dir = tmp_path / "extract"
    status = pipeline.extract_shard(rows, extract_dir, padding=padding)
    start, end = SPAN_START - padding, SPAN_END + padding
    assert status[0]["status"] == "ok"
    assert status[0]["region"] == f"{start}-{end}"  # recorded in the extract's status
    with gzip.open(extract_dir / "S1.erbb2.vcf.gz", "rt") as handle:
        text = handle.read()
    assert f"Region=chr17:{start}-{end}" in text
    assert [line.split("\t")[1] for line in text.splitlines() if line.startswith("chr17")] == kept

    out = pipeline.annotate_shard(
        rows,
        extract_dir,
        tmp_path / "annotate",
        annotated_dir=str(tmp_path / "annotated"),
        tables_dir=str(tmp_path / "tables"),
    )
    assert out[0]["status"] == "ok"
    alleles = tables.read_records(tmp_path / "tables" / "S1.alleles.tsv")
    assert [row["pos"] for row in alleles] == kept  # annotation keeps the same region
