"""Every allele of the knowledge base, written as a VCF record on each build, is named by the HGVS
engine and matched back to its evidence rows: the road a real sample takes, not a shortcut.

The VCF record is derived from the protein change with the transcript model: the codons of
NM_004448.4 are edited (the nearest codon for a missense change; deleted, duplicated or replaced
codons for in-frame changes) and the edit is placed at its genomic position.
"""

from __future__ import annotations

import pytest

from erbb2_tki.knowledge import allele_key, load_knowledge
from erbb2_tki.naming.consequence import name_allele
from erbb2_tki.naming.model import ProteinChange
from erbb2_tki.naming.protein import CODON_TABLE
from erbb2_tki.naming.transcript import BUILDS, load_transcript

T = load_transcript()
KB = load_knowledge()
CDS = T.mrna[T.cds_start - 1 : T.cds_end]
CODONS: dict[str, list[str]] = {}
for _codon, _aa in sorted(CODON_TABLE.items()):
    CODONS.setdefault(_aa, []).append(_codon)


def _genomic(build: str, c: int) -> int:
    return T.c_to_genomic(build, c)


def _contiguous(build: str, first_c: int, last_c: int) -> None:
    assert _genomic(build, last_c) - _genomic(build, first_c) == last_c - first_c, "spans an intron"


def _codons_for(residues: str) -> str:
    return "".join(CODONS[aa][0] for aa in residues)


def vcf_record(build: str, pc: ProteinChange) -> tuple[int, str, str]:
    """(POS, REF, ALT) of a DNA change that makes protein change `pc`."""
    first_c = 3 * (pc.start - 1) + 1  # first base of the first codon
    if pc.kind == "missense":
        ref_codon = CDS[first_c - 1 : first_c + 2]
        new = min(
            CODONS[pc.alt],
            key=lambda cod: (sum(a != b for a, b in zip(cod, ref_codon, strict=True)), cod),
        )
        diff = [i for i in range(3) if new[i] != ref_codon[i]]
        i, j = diff[0], diff[-1]
        _contiguous(build, first_c + i, first_c + j)
        return _genomic(build, first_c + i), ref_codon[i : j + 1], new[i : j + 1]
    last_c = 3 * pc.end
    anchor_c = first_c - 1
    if pc.kind == "inframe_deletion":
        _contiguous(build, anchor_c, last_c)
        ref = CDS[anchor_c - 1 : last_c]
        return _genomic(build, anchor_c), ref, ref[0]
    if pc.kind == "duplication":
        inserted = CDS[first_c - 1 : last_c]
        return _genomic(build, last_c), CDS[last_c - 1], CDS[last_c - 1] + inserted
    if pc.kind == "inframe_insertion":  # between pc.start and pc.end = start + 1
        after_c = 3 * pc.start
        return _genomic(build, after_c), CDS[after_c - 1], CDS[after_c - 1] + _codons_for(pc.alt)
    if pc.kind == "delins":
        _contiguous(build, anchor_c, last_c)
        ref = CDS[anchor_c - 1 : last_c]
        return _genomic(build, anchor_c), ref, ref[0] + _codons_for(pc.alt)
    raise AssertionError(f"no DNA recipe for {pc.kind}")


def _evidence_alleles() -> list[ProteinChange]:
    return KB.alleles


def _class_alleles() -> list[tuple[str, ProteinChange]]:
    return [(cls.name, pc) for cls in KB.classes.values() for pc in cls.alleles]


def test_every_evidence_allele_is_covered():
    # 31 spellings in the source, 30 alleles once V777_G778insGSP = G778_P780dup; 2.0.0 removed
    # T733I's only row (EV0065: Kancha 2011 does not test it), so 29 (the class lists still name T733I)
    assert len(_evidence_alleles()) == 29


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("pc", _evidence_alleles(), ids=lambda pc: pc.short)
def test_evidence_allele_matched_from_a_named_vcf_record(build, pc):
    pos, ref, alt = vcf_record(build, pc)
    named = name_allele(build, "chr17", pos, ref, alt)
    assert named.protein is not None
    assert named.hgvsp_short == f"p.{pc.short}"
    expected = {
        r.evidence_id
        for r in KB.evidence
        if r.alteration_kind == "allele" and allele_key(r.protein) == allele_key(pc)
    }
    matched = {m.evidence_id for m in KB.match(named, None) if m.match_basis == "allele"}
    assert expected and matched == expected


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize(
    ("cls", "pc"), _class_alleles(), ids=lambda x: x if isinstance(x, str) else x.short
)
def test_class_listed_allele_is_a_member_when_named_from_dna(build, cls, pc):
    pos, ref, alt = vcf_record(build, pc)
    named = name_allele(build, "chr17", pos, ref, alt)
    assert named.hgvsp_short == f"p.{pc.short}"
    assert cls in KB.classes_of(named)


@pytest.mark.parametrize("build", BUILDS)
def test_codon_rows_match_named_alleles(build):
    for text, codon_ids in (
        ("S310Y", {"EV0004", "EV0005", "EV0006", "EV0007"}),
        ("L755A", {"EV0017"}),
    ):
        pc = KB.canonical(text)
        named = name_allele(build, "chr17", *vcf_record(build, pc))
        assert {
            m.evidence_id for m in KB.match(named, None) if m.match_basis == "codon"
        } == codon_ids


@pytest.mark.parametrize("build", BUILDS)
def test_exon20_frameshift_from_dna_is_truncating_not_an_insertion(build):
    # c.2339dup (ClinVar) = p.Tyr781IlefsTer93: one base inserted in exon 20
    c = 2339
    pos = _genomic(build, c)
    named = name_allele(build, "chr17", pos, CDS[c - 1], CDS[c - 1] + CDS[c - 1])
    assert named.protein is not None and named.protein.kind == "frameshift"
    assert KB.classes_of(named) == ["truncating"]
    assert KB.oncogenicity(named) == "truncating"
    assert KB.match(named, "BRCA") == []


@pytest.mark.parametrize("build", BUILDS)
def test_synonymous_change_from_dna_is_not_oncogenic(build):
    c = 2265  # third base of codon 755: a Leu codon whose third base can change
    assert CODON_TABLE[CDS[c - 3 : c]] == "L"
    ref = CDS[c - 1]
    alt = next(b for b in "ACGT" if b != ref and CODON_TABLE[CDS[c - 3 : c - 1] + b] == "L")
    named = name_allele(build, "chr17", _genomic(build, c), ref, alt)
    assert named.protein is not None and named.protein.kind == "synonymous"
    assert KB.oncogenicity(named) == "likely_neutral"
    assert "oncogenic" not in KB.classes_of(named)
    assert KB.match(named, None) == []
