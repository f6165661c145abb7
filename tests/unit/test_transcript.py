"""transcript.py and annotations/transcripts/NM_004448.4.yaml against ../shared/reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from erbb2_tki.naming.protein import translate
from erbb2_tki.naming.transcript import BUILDS, load_transcript, parse_transcript

T = load_transcript()


def _fasta(path: Path) -> str:
    return "".join(x.strip() for x in path.read_text().splitlines() if not x.startswith((";", ">")))


def test_basic_facts() -> None:
    assert (T.accession, T.protein_accession, T.gene) == ("NM_004448.4", "NP_004439.2", "ERBB2")
    assert len(T.mrna) == 4557 and len(T.protein) == 1255
    assert (T.cds_start, T.cds_end) == (176, 3943)
    assert T.exon_count == 27
    assert T.span("GRCh38") == (39700064, 39728658)
    assert T.chrom_accession("GRCh37") == "NC_000017.10"
    assert T.chrom_accession("GRCh38") == "NC_000017.11"
    assert translate(T.mrna[T.cds_start - 1 : T.cds_end]) == T.protein + "*"
    assert load_transcript() is T  # cached


def test_unknown_build() -> None:
    with pytest.raises(ValueError, match="unknown genome build"):
        T.span("hg19")


def test_model_matches_reference_files(reference_dir: Path) -> None:
    raw = reference_dir / "raw"
    assert T.mrna == _fasta(raw / "biocommons_hgvs_cache_NM_004448.4_mRNA.fa")
    assert T.protein == _fasta(raw / "biocommons_hgvs_cache_NP_004439.2_protein.fa")
    assert T.protein == _fasta(raw / "chambm_customProDB_NP_004439.2_protein.fa")
    for name in ("hg19", "hg38"):
        cds = _fasta(raw / f"chambm_customProDB_{name}_refGene_NM_004448_CDS.fa")
        assert T.mrna[T.cds_start - 1 : T.cds_end] == cds
    rows = [
        x.split("\t")
        for x in (reference_dir / "derived_NM_004448.4_exons_GRCh37_GRCh38.tsv")
        .read_text()
        .splitlines()
        if not x.startswith("#")
    ]
    header, rows = rows[0], rows[1:]
    assert len(rows) == 27
    for row in rows:
        d = dict(zip(header, row, strict=True))
        exon = T.exons[int(d["exon"]) - 1]
        assert (exon.tx_start, exon.tx_end) == (int(d["tx_start"]), int(d["tx_end"]))
        for build in BUILDS:
            assert exon.genomic[build] == (int(d[f"{build}_start"]), int(d[f"{build}_end"]))
        for key in ("c_start", "c_end"):
            tx = exon.tx_start if key == "c_start" else exon.tx_end
            assert "c." + T.tx_to_c(tx) == d[key]
    # UTA rows (0-based interbase) on GRCh37
    uta = [
        x.split("\t")
        for x in (raw / "biocommons_hgvs_cache_NM_004448.4_UTA_records.tsv")
        .read_text()
        .splitlines()
        if re.match(r"\d+\t", x)
    ]
    for row in uta:
        exon = T.exons[int(row[0])]
        assert (exon.tx_start - 1, exon.tx_end) == (int(row[1]), int(row[2]))
        assert (exon.start("GRCh37") - 1, exon.end("GRCh37")) == (int(row[5]), int(row[6]))
    # genomic sequence cached there, where exonic, equals the model's
    text = (raw / "biocommons_hgvs_cache_NM_004448.4_UTA_records.tsv").read_text()
    for start, _end, seq in re.findall(
        r"get_seq\('NC_000017\.10', (\d+), (\d+)\) -> ([ACGT]+)", text
    ):
        for i, base in enumerate(seq):
            known = T.base_at("GRCh37", int(start) + 1 + i)
            assert known in (None, base)
    # exons 2-26 read directly on hg19/hg38 refGene and Ensembl
    for line in (raw / "chambm_customProDB_txdb_ERBB2_exons.tsv").read_text().splitlines():
        parts = line.split("\t")
        if len(parts) < 11 or not parts[6].isdigit():
            continue
        rank = int(parts[6])
        build = "GRCh37" if parts[0] in ("hg19", "refseq") else "GRCh38"
        if 2 <= rank <= 26:
            assert T.exons[rank - 1].genomic[build] == (int(parts[7]), int(parts[8]))
        assert T.cds_span(build) == (
            int(parts[9]) if rank == 1 else T.cds_span(build)[0],
            int(parts[10]) if rank == 27 else T.cds_span(build)[1],
        )


def test_locate_and_c_positions() -> None:
    g = T.c_to_genomic("GRCh37", 2264)
    assert g == 37880220 and T.c_to_genomic("GRCh38", 2264) == 39723967
    assert T.genomic_to_c("GRCh37", 37880263 + 5) == "2307+5"
    assert T.genomic_to_c("GRCh37", 37880979 - 2) == "2308-2"
    assert T.genomic_to_c("GRCh37", T.cds_span("GRCh37")[0] - 12) == "-12"
    assert T.genomic_to_c("GRCh37", T.cds_span("GRCh37")[1] + 20) == "*20"
    assert T.genomic_to_c("GRCh37", T.span("GRCh37")[0] - 1) == "-176"
    assert T.locate("GRCh37", T.span("GRCh37")[1] + 3).region == "downstream"
    with pytest.raises(ValueError):
        T.c_to_tx(0)


def test_domains_tile_the_protein_with_sources() -> None:
    ends = 0
    for domain in T.domains:
        assert domain.start == ends + 1 and domain.source
        ends = domain.end
    assert ends == len(T.protein)
    names = {d.name for d in T.domains}
    for wanted in (
        "extracellular domain I", "extracellular domain II", "extracellular domain III",
        "extracellular domain IV", "transmembrane", "juxtamembrane", "kinase domain",
        "C-terminal tail",
    ):  # fmt: skip
        assert wanted in names
    assert T.domain_at(755) == "kinase domain"
    assert T.domain_at(310) == "extracellular domain II"
    assert T.domain_at(660) == "transmembrane"
    assert T.domain_at(0) == ""
    assert any("convention" in d.source for d in T.domains)


def test_inconsistent_model_is_rejected(tmp_path: Path) -> None:
    src = Path(T.source_path).read_text()
    broken = src.replace("  - [2, 249, 400,", "  - [2, 250, 400,")
    path = tmp_path / "NM_004448.4.yaml"
    path.write_text(broken)
    with pytest.raises(ValueError, match="not contiguous"):
        parse_transcript(path)
