"""Issue 15's input classes checked at unit level: contig aliases, input_dir, reruns by content,
YAML syntax errors, spreadsheet formula neutralisation and the index trust checks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pysam
import pytest
from hypothesis import given
from hypothesis import strategies as st

from erbb2_tki import knowledge
from erbb2_tki.batch import pipeline, samples
from erbb2_tki.batch.samples import SampleRow
from erbb2_tki.errors import InputError
from erbb2_tki.outputs import cells, tables
from erbb2_tki.vcf import contigs, index_trust
from erbb2_tki.yamlio import load_yaml_file

# --- contig aliases ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["chr17", "17", "Chr17", "CHR17", "NC_000017.10", "NC_000017.11", "CM000679.1", "CM000679.2"],
)
def test_every_spelling_of_chromosome_17(name: str) -> None:
    assert contigs.is_chr17_name(name)
    assert contigs.primary_name(name) == "17"


def test_accession_of_the_other_build_is_an_error() -> None:
    with pytest.raises(InputError, match="chromosome 17 of GRCh37"):
        contigs.check_build("NC_000017.10", "GRCh38")
    contigs.check_build("NC_000017.11", "GRCh38")


def test_unknown_contig_with_chr17_length_is_read_and_noted() -> None:
    header = b"##contig=<ID=hs17,length=83257441>\n##contig=<ID=chr2,length=242193529>\n"
    names, note = contigs.chr17_names(header, "GRCh38")
    assert b"hs17" in names and b"chr2" not in names
    assert "hs17" in note and "length" in note


# --- input_dir --------------------------------------------------------------------------------


def test_input_dir_suffixes_any_case_and_skipped_entries_listed(tmp_path: Path) -> None:
    for name in ("A.VCF", "B.Vcf.Gz", "C.bcf", "notes.txt", ".hidden.vcf", "C.bcf.csi"):
        (tmp_path / name).write_text("x")
    (tmp_path / "folder.vcf").mkdir()
    os.mkfifo(tmp_path / "pipe.vcf")
    skipped: list[tuple[str, str]] = []
    rows = samples.scan_input_dir(tmp_path, skipped=skipped)
    assert [r.sample for r in rows] == ["A", "B", "C"]
    why = dict(skipped)
    assert set(why) == {"notes.txt", ".hidden.vcf", "folder.vcf", "pipe.vcf"}
    assert "regular file" in why["pipe.vcf"]
    lines = samples.skipped_inputs({"input_dir": str(tmp_path)})
    assert "pipe.vcf: not a regular file (FIFO, socket, device or broken link)" in lines


# --- reruns follow content --------------------------------------------------------------------


def test_replaced_vcf_with_older_mtime_changes_the_extract_digest(tmp_path: Path) -> None:
    vcf = tmp_path / "s.vcf"
    vcf.write_text("one\n")
    rows = [SampleRow(sample="S", vcf=str(vcf))]
    before = pipeline.shard_digest(rows, "extract")
    assert pipeline.shard_digest(rows, "extract") == before  # stable while nothing changes
    older = tmp_path / "older.vcf"
    older.write_text("two\n")  # same size
    os.utime(older, (1, 1))
    shutil.copy2(older, vcf)  # cp -p: mtime goes back in time
    assert pipeline.shard_digest(rows, "extract") != before
    annotate_before = pipeline.shard_digest(rows, "annotate")
    assert pipeline.shard_digest(rows, "annotate") == annotate_before


# --- knowledge base and transcript YAML -------------------------------------------------------


def test_yaml_syntax_error_is_one_line_with_file_line_and_fix(tmp_path: Path) -> None:
    bad = tmp_path / "metadata.yaml"
    bad.write_text("version: 1.0\nrelease_date: [2026\nnotes: x\n")
    with pytest.raises(InputError) as caught:
        load_yaml_file(bad)
    text = str(caught.value)
    assert "\n" not in text
    assert str(bad) in text and "line " in text and "Fix:" in text


def test_broken_metadata_yaml_in_the_knowledge_base_is_an_input_error(tmp_path: Path) -> None:
    from erbb2_tki.paths import annotations_dir

    kb = tmp_path / "knowledge"
    shutil.copytree(annotations_dir() / "knowledge", kb)
    (kb / "metadata.yaml").write_text("version: '1.0\nrelease_date: x\n")
    with pytest.raises(InputError) as caught:
        knowledge.load_knowledge(kb)
    assert "metadata.yaml" in str(caught.value) and "line" in str(caught.value)


# --- spreadsheet formulas ---------------------------------------------------------------------


@given(st.text())
def test_neutralise_round_trips_and_never_starts_a_formula(text: str) -> None:
    safe = cells.neutralise(text)
    assert not safe.startswith(cells.TRIGGERS)
    assert cells.restore(safe) == text


def test_only_untrusted_text_columns_are_neutralised(tmp_path: Path) -> None:
    row = {
        "sample": "-S1",
        "filter": "=1+1",
        "hgvsc": "c.-5A>G",
        "copy_number": "-1",
        "vaf": "-0.5",
    }
    text = tables.records_tsv_bytes([row], list(row)).decode()
    assert text.splitlines()[1].split("\t") == ["'-S1", "'=1+1", "c.-5A>G", "-1", "-0.5"]
    path = tmp_path / "t.tsv"
    path.write_text(text)
    assert tables.read_records(path) == [row]
    table = tables.Table.from_records([row], list(row))
    assert next(table.records()) == row  # the xlsx gets the original text
    assert tables.read_by_sample([path], list(row)) == {"-S1": [text.splitlines()[1]]}


# --- index trust ------------------------------------------------------------------------------

HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr2,length=242193529>\n"
    "##contig=<ID=chr17,length=83257441>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
)


def _vcf(path: Path, positions: list[tuple[str, int]]) -> Path:
    path.with_suffix("").write_text(
        HEADER + "".join(f"{c}\t{p}\t.\tA\tG\t1\tPASS\t.\n" for c, p in positions)
    )
    pysam.tabix_compress(str(path.with_suffix("")), str(path), force=True)
    return path


def test_index_trust_accepts_its_own_index_and_rejects_others(tmp_path: Path) -> None:
    own = _vcf(
        tmp_path / "a.vcf.gz", [("chr2", i * 100) for i in range(1, 400)] + [("chr17", 39723967)]
    )
    pysam.tabix_index(str(own), preset="vcf", force=True)
    chr17 = {b"chr17"}
    assert index_trust.check(own, Path(f"{own}.tbi"), False, HEADER.encode(), chr17) is None
    other = _vcf(tmp_path / "b.vcf.gz", [("chr2", 5)] + [("chr17", i * 1000) for i in range(1, 50)])
    pysam.tabix_index(str(other), preset="vcf", force=True)
    assert index_trust.check(own, Path(f"{other}.tbi"), False, HEADER.encode(), chr17)
    (tmp_path / "junk.tbi").write_bytes(b"TBI\x01garbage")
    assert "not a readable" in index_trust.check(own, tmp_path / "junk.tbi", False, b"", chr17)


def test_a_good_csi_of_a_text_vcf_is_trusted_and_used(tmp_path: Path) -> None:
    from erbb2_tki.vcf.extract import extract_sample

    vcf = _vcf(
        tmp_path / "c.vcf.gz", [("chr2", i * 100) for i in range(1, 300)] + [("chr17", 39723967)]
    )
    pysam.tabix_index(str(vcf), preset="vcf", force=True, csi=True)
    assert index_trust.check(vcf, Path(f"{vcf}.csi"), False, HEADER.encode(), {b"chr17"}) is None
    result = extract_sample(vcf, tmp_path / "out.vcf.gz", build="GRCh38")
    assert (result.method, result.n_records, result.note) == ("index", 1, "")


def test_records_appended_after_indexing_make_the_index_untrusted(tmp_path: Path) -> None:
    from erbb2_tki.vcf.extract import extract_sample

    positions = [("chr2", i * 100) for i in range(1, 300)] + [("chr17", 39000000)]
    vcf = _vcf(tmp_path / "d.vcf.gz", positions)
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    # One more record appended as a BGZF block (what `cat more.vcf.gz >> file` does), and the
    # index touched afterwards: not older by mtime.
    from erbb2_tki.vcf.bgzf import BGZF_EOF, _bgzf_blocks

    data = vcf.read_bytes()[: -len(BGZF_EOF)]
    extra = _bgzf_blocks(b"chr17\t39723967\t.\tA\tG\t1\tPASS\t.\n", 6)
    vcf.write_bytes(data + extra + BGZF_EOF)
    os.utime(f"{vcf}.tbi", None)
    result = extract_sample(vcf, tmp_path / "out.vcf.gz", build="GRCh38")
    assert (result.method, result.n_records) == ("stream", 1)
    assert "ignored" in result.note and "after the last" in result.note
