"""annotate_sample and `erbb2-tki annotate`: naming, matching, phasing, outputs, on inline VCFs.

Positions are known answers on NM_004448.4 (GRCh38 = GRCh37 + 1,843,747):
L755 codon c.2263-2265 (TTG) = chr17:39723966-39723968; T798 c.2393C = 39724811;
L869 c.2606T = 39725161; the YVMA duplication c.2313_2324dup = 39724730 C>CATACGTGATGGC (left-aligned) or
39724742 C>CATACGTGATGGC (right-shifted).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cyvcf2 import VCF

from erbb2_tki.annotate import annotate_sample
from erbb2_tki.cli import main
from erbb2_tki.errors import InputError
from erbb2_tki.knowledge import load_knowledge
from erbb2_tki.outputs.vocab import ALLELE_COLUMNS

HEADER_38 = """##fileformat=VCFv4.2
##reference=file:///refs/GRCh38/Homo_sapiens_assembly38.fasta
##contig=<ID=chr17,length=83257441>
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=weak_evidence,Description="weak">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##INFO=<ID=SVTYPE,Number=1,Type=String,Description="SV type">
##INFO=<ID=END,Number=1,Type=Integer,Description="End">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	TUMOR
"""


def _write_vcf(path: Path, body: str, header: str = HEADER_38) -> Path:
    path.write_text(header + body)
    return path


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _annotate(tmp_path: Path, body: str, kb, **kwargs):
    vcf = _write_vcf(tmp_path / "in.vcf", body)
    return annotate_sample("S1", vcf, build=None, kb=kb, **kwargs)


def test_l755s_is_named_matched_and_gets_vaf(tmp_path, kb):
    result = _annotate(
        tmp_path,
        "chr17\t39723967\t.\tT\tC\t50\tPASS\tDP=100\tGT:AD:AF:DP\t0/1:60,40:0.4:100\n",
        kb,
        tumour_type="BRCA",
    )
    row = result.alleles.iloc[0]
    assert row["hgvsc"] == "NM_004448.4:c.2264T>C"
    assert row["hgvsp"] == "p.Leu755Ser"
    assert row["hgvsp_short"] == "p.L755S"
    assert row["exon"] == "19/27"
    assert row["domain"] == "kinase domain"
    assert row["vaf"] == "0.4"
    assert row["depth"] == "100"
    assert row["alt_depth"] == "40"
    assert row["used_for_verdict"] == "yes"
    assert "lapatinib:resistant" in row["kb_drugs"].split(";")
    assert result.build == "GRCh38"
    tki = result.tki
    lapatinib = tki[(tki.drug == "lapatinib") & (tki.response == "resistant")]
    assert not lapatinib.empty
    assert set(lapatinib.match_basis) == {"allele"}
    verdicts = result.verdicts.set_index("drug")
    assert verdicts.loc["lapatinib", "verdict"] == "resistant"
    assert verdicts.loc["lapatinib", "kb_version"] == kb.version


def test_alleles_table_starts_with_the_issue_columns(tmp_path, kb):
    result = _annotate(tmp_path, "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n", kb)
    assert list(result.alleles.columns[:13]) == [
        "sample",
        "chrom",
        "pos",
        "ref",
        "alt",
        "consequence",
        "hgvsc",
        "hgvsp",
        "hgvsp_short",
        "exon",
        "intron",
        "domain",
        "flags",
    ]
    assert list(result.alleles.columns) == ALLELE_COLUMNS


def test_multiallelic_record_names_each_alt_with_its_own_vaf(tmp_path, kb):
    # c.2264T>C (L755S) and c.2264T>G (L755W) in one record.
    result = _annotate(
        tmp_path,
        "chr17\t39723967\t.\tT\tC,G\t50\tPASS\t.\tGT:AD:AF:DP\t1/2:10,30,60:0.3,0.6:100\n",
        kb,
    )
    rows = result.alleles.set_index("alt_index")
    assert rows.loc["1", "hgvsp_short"] == "p.L755S"
    assert rows.loc["2", "hgvsp_short"] == "p.L755W"
    assert rows.loc["1", "vaf"] == "0.3"
    assert rows.loc["2", "vaf"] == "0.6"
    assert rows.loc["2", "alt_depth"] == "60"


def test_phased_snvs_in_one_codon_are_one_change(tmp_path, kb):
    body = (
        "chr17\t39723966\t.\tT\tC\t50\tPASS\t.\tGT:PS\t0|1:39723966\n"
        "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT:PS\t0|1:39723966\n"
    )
    result = _annotate(tmp_path, body, kb)
    used = result.alleles[result.alleles.used_for_verdict == "yes"]
    assert list(used.hgvsp_short) == ["p.L755P"]
    assert list(used.hgvsc) == ["NM_004448.4:c.2263_2264delinsCC"]
    components = result.alleles[result.alleles.used_for_verdict == "no:merged_in_cis"]
    assert sorted(components.hgvsp_short) == ["p.L755=", "p.L755S"]


def test_snvs_in_trans_are_not_merged(tmp_path, kb):
    body = (
        "chr17\t39723966\t.\tT\tC\t50\tPASS\t.\tGT:PS\t1|0:39723966\n"
        "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT:PS\t0|1:39723966\n"
    )
    result = _annotate(tmp_path, body, kb)
    assert sorted(result.alleles.hgvsp_short) == ["p.L755=", "p.L755S"]
    assert not result.alleles["flags"].str.contains("in_cis").any()


def test_unphased_snvs_in_one_codon_keep_names_and_say_possible_in_cis(tmp_path, kb):
    body = (
        "chr17\t39723966\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n"
        "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n"
    )
    result = _annotate(tmp_path, body, kb)
    assert sorted(result.alleles.hgvsp_short) == ["p.L755=", "p.L755S"]
    assert result.alleles["flags"].str.contains("possible_in_cis:p.L755P").all()


def test_yvma_duplication_spellings_get_one_name(tmp_path, kb):
    body = (
        "chr17\t39724730\t.\tC\tCATACGTGATGGC\t50\tPASS\t.\tGT\t0/1\n"
        "chr17\t39724742\t.\tC\tCATACGTGATGGC\t50\tPASS\t.\tGT\t0/1\n"
    )
    result = _annotate(tmp_path, body, kb)
    assert set(result.alleles.hgvsc) == {"NM_004448.4:c.2313_2324dup"}
    assert set(result.alleles.hgvsp_short) == {"p.Y772_A775dup"}
    assert set(result.alleles.genomic_key) == {
        "chr17:39724728:A:AGCATACGTGATG"
    }  # fully left-aligned


def test_acquired_t798i_makes_neratinib_resistant_next_to_l869r(tmp_path, kb):
    body = (
        "chr17\t39724811\t.\tC\tT\t50\tPASS\t.\tGT:AF\t0/1:0.1\n"
        "chr17\t39725161\t.\tT\tG\t50\tPASS\t.\tGT:AF\t0/1:0.4\n"
    )
    result = _annotate(tmp_path, body, kb, tumour_type="BRCA")
    assert sorted(result.alleles.hgvsp_short) == ["p.L869R", "p.T798I"]
    verdicts = result.verdicts.set_index("drug")
    assert verdicts.loc["neratinib", "verdict"] == "resistant"
    assert "T798I" in verdicts.loc["neratinib", "alleles"]


def test_filtered_and_ref_mismatch_alleles_are_listed_but_do_not_decide(tmp_path, kb):
    body = (
        "chr17\t39723967\t.\tT\tC\t50\tweak_evidence\t.\tGT\t0/1\n"
        "chr17\t39724811\t.\tG\tT\t50\tPASS\t.\tGT\t0/1\n"
    )
    result = _annotate(tmp_path, body, kb)
    rows = result.alleles.set_index("pos")
    assert rows.loc["39723967", "used_for_verdict"] == "no:filtered"
    assert rows.loc["39724811", "used_for_verdict"] == "no:ref_mismatch"
    assert rows.loc["39724811", "hgvsc"] == ""
    assert "ref_mismatch" in rows.loc["39724811", "flags"]
    assert result.tki.empty


def test_tumour_genotype_without_the_alt_does_not_decide(tmp_path, kb):
    result = _annotate(tmp_path, "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/0\n", kb)
    assert result.alleles.iloc[0]["used_for_verdict"] == "no:not_in_tumour_genotype"


def test_duplication_over_erbb2_is_a_structural_event_not_a_mutation(tmp_path, kb):
    body = "chr17\t39690000\tdup1\tN\t<DUP>\t50\tPASS\tSVTYPE=DUP;END=39740000\tGT\t0/1\n"
    result = _annotate(tmp_path, body, kb)
    assert result.alleles.empty
    assert len(result.structural) == 1
    assert result.skipped == {"symbolic": 1}


def test_annotated_vcf_keeps_records_and_adds_number_a_info(tmp_path, kb):
    body = (
        "chr17\t39723967\trs1\tT\tC,G\t50\tPASS\tDP=100\tGT:AD:AF:DP\t1/2:10,30,60:0.3,0.6:100\n"
        "chr17\t39724730\t.\tC\tCATACGTGATGGC\t50\tPASS\tDP=80\tGT:AD:AF:DP\t0/1:60,20:0.25:80\n"
    )
    out = tmp_path / "out.vcf.gz"
    _annotate(tmp_path, body, kb, out_vcf=out)
    assert (tmp_path / "out.vcf.gz.tbi").exists()
    with gzip.open(out, "rt") as fh:
        text = fh.read()
    assert "##erbb2_tki_version=" in text
    assert f"##erbb2_tki_kb_version={kb.version}" in text
    assert "##INFO=<ID=ERBB2_HGVSP_SHORT,Number=A,Type=String" in text
    reader = VCF(str(out))
    records = list(reader)
    assert [r.ID for r in records] == ["rs1", None]
    # cyvcf2 returns a Number=A String as the comma-joined text
    assert records[0].INFO["ERBB2_HGVSP_SHORT"].split(",") == ["p.L755S", "p.L755W"]
    assert records[0].format("AF").tolist()[0][:2] == pytest.approx([0.3, 0.6])
    assert records[1].INFO["ERBB2_HGVSC"] == "NM_004448.4:c.2313_2324dup"
    assert leftovers(tmp_path) == []


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".tmp")


def test_outputs_are_deterministic(tmp_path, kb):
    body = "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT:AF\t0/1:0.4\n"
    hashes = []
    for run in ("a", "b"):
        folder = tmp_path / run
        folder.mkdir()
        vcf = _write_vcf(folder / "in.vcf", body)
        annotate_sample(
            "S1",
            vcf,
            build=None,
            kb=kb,
            out_vcf=folder / "o.vcf.gz",
            out_alleles=folder / "o.alleles.tsv",
            out_tki=folder / "o.tki.tsv",
            out_verdicts=folder / "o.verdicts.tsv",
        )
        hashes.append([(folder / n).read_bytes() for n in sorted(p.name for p in folder.iterdir())])
    assert hashes[0] == hashes[1]


def test_cli_annotate_writes_tables(tmp_path):
    vcf = _write_vcf(tmp_path / "in.vcf", "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT:AF\t0/1:0.4\n")
    out = tmp_path / "alleles.tsv"
    tki = tmp_path / "tki.tsv"
    status = main(
        [
            "annotate",
            str(vcf),
            "--build",
            "GRCh38",
            "--tumor-type",
            "LUAD",
            "--out-tsv",
            str(out),
            "--out-tki",
            str(tki),
        ]
    )
    assert status == 0
    alleles = pd.read_csv(out, sep="\t", dtype=str)
    assert alleles.loc[0, "hgvsp_short"] == "p.L755S"
    assert alleles.loc[0, "sample"] == "in"  # the file name when --sample is not given
    evidence = pd.read_csv(tki, sep="\t", dtype=str)
    assert {
        "sample",
        "hgvsp_short",
        "drug",
        "response",
        "evidence_level",
        "tumour_type_match",
        "match_basis",
    } <= set(evidence.columns)


def test_cli_reports_a_build_conflict_as_an_input_error(tmp_path):
    vcf = _write_vcf(tmp_path / "in.vcf", "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "erbb2_tki.cli",
            "annotate",
            str(vcf),
            "--build",
            "GRCh37",
            "--out-tsv",
            str(tmp_path / "o.tsv"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert str(vcf) in proc.stderr
    assert "GRCh37" in proc.stderr and "GRCh38" in proc.stderr
    assert not (tmp_path / "o.tsv").exists()


def test_unknown_tumour_type_is_an_input_error_naming_the_users_file(tmp_path, kb):
    vcf = _write_vcf(tmp_path / "in.vcf", "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n")
    with pytest.raises(InputError) as err:
        annotate_sample(
            "S1",
            vcf,
            build=None,
            kb=kb,
            tumour_type="BRAC",
            source="/data/batch7/S1.vcf.gz",
            out_alleles=tmp_path / "o.tsv",
        )
    text = str(err.value)
    assert "sample S1" in text
    assert "/data/batch7/S1.vcf.gz" in text
    assert "'BRAC'" in text and "Fix:" in text and "tumor_type" in text
    assert not (tmp_path / "o.tsv").exists()
