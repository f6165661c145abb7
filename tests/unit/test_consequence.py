"""consequence.py: SO terms, HGVS names, flags and cis haplotypes."""

from __future__ import annotations

import pytest

from erbb2_tki.naming.consequence import SEVERITY, join_terms, name_allele, name_haplotype
from erbb2_tki.naming.transcript import load_transcript

T = load_transcript()


def _at(build: str, c: int) -> tuple[int, str]:
    pos = T.c_to_genomic(build, c)
    return pos, T.base_at(build, pos)


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_named_examples(build: str) -> None:
    pos, base = _at(build, 2264)
    n = name_allele(build, "chr17", pos, base.lower(), "c")
    assert (n.hgvsc, n.hgvsp, n.hgvsp_short) == ("NM_004448.4:c.2264T>C", "p.Leu755Ser", "p.L755S")
    assert (n.exon, n.intron, n.domain, n.consequence) == (
        "19/27",
        "",
        "kinase domain",
        "missense_variant",
    )
    pos, base = _at(build, 2265)
    syn = name_allele(build, "17", pos, base, "A")
    assert (syn.hgvsp, syn.hgvsp_short, syn.consequence) == (
        "p.Leu755=",
        "p.L755=",
        "synonymous_variant",
    )
    pos, base = _at(build, -12)
    utr5 = name_allele(build, "17", pos, base, "T" if base != "T" else "A")
    assert utr5.hgvsc.startswith("NM_004448.4:c.-12") and utr5.consequence == "5_prime_UTR_variant"
    assert utr5.hgvsp == "" and utr5.exon == "1/27"
    donor_pos = T.exons[18].end(build) + 5
    intronic = name_allele(build, "17", donor_pos, "G", "A")
    assert intronic.hgvsc == "NM_004448.4:c.2307+5G>A"
    assert intronic.consequence == "splice_region_variant&intron_variant"
    assert intronic.intron == "19/26" and intronic.hgvsp == ""
    assert intronic.flags == ("ref_unchecked_intronic",)
    assert (
        name_allele(build, "17", T.exons[18].end(build) + 1, "G", "A").consequence
        == "splice_donor_variant"
    )
    assert (
        name_allele(build, "17", T.exons[19].start(build) - 2, "A", "G").consequence
        == "splice_acceptor_variant"
    )
    assert (
        name_allele(build, "17", T.exons[18].end(build) + 20, "A", "G").consequence
        == "intron_variant"
    )


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_stop_start_and_flanks(build: str) -> None:
    pos, base = _at(build, 1)
    start = name_allele(build, "17", pos, base, "G")
    assert (start.hgvsp, start.hgvsp_short, start.consequence) == ("p.Met1?", "p.M1?", "start_lost")
    pos, base = _at(build, 3767)  # TGA -> TTA: the stop becomes Leu and reads into the 3' UTR
    ext = name_allele(build, "17", pos, base, "T")
    assert ext.consequence == "stop_lost"
    assert ext.hgvsp.startswith("p.Ter1256LeuextTer") and ext.hgvsp_short.startswith("p.*1256Lext*")
    pos, base = _at(build, 2263)  # TTG (Leu) -> TAG: stop gained
    stop = name_allele(build, "17", pos + 1, "T", "A")
    assert (stop.hgvsp, stop.hgvsp_short, stop.consequence) == (
        "p.Leu755Ter",
        "p.L755*",
        "stop_gained",
    )
    lo, hi = T.span(build)
    assert name_allele(build, "17", lo - 100, "A", "G").consequence == "upstream_gene_variant"
    assert name_allele(build, "17", hi + 100, "A", "G").consequence == "downstream_gene_variant"
    far = name_allele(build, "17", hi + 6000, "A", "G")
    assert far.consequence == "" and "outside_erbb2" in far.flags and far.hgvsc == ""


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_ref_mismatch_names_nothing(build: str) -> None:
    pos, base = _at(build, 2264)
    wrong = "A" if base != "A" else "C"
    n = name_allele(build, "17", pos, wrong, "G")
    assert n.flags == ("ref_mismatch",)
    assert (n.hgvsc, n.hgvsp, n.hgvsp_short, n.consequence) == ("", "", "", "")


def test_wrong_build_shows_as_mismatch() -> None:
    pos, base = _at("GRCh38", 2264)
    # The GRCh38 position read as GRCh37 lies outside ERBB2.
    assert "outside_erbb2" in name_allele("GRCh37", "17", pos, base, "C").flags


def test_multi_base_substitution_is_one_change() -> None:
    pos, _ = _at("GRCh37", 2263)
    n = name_allele("GRCh37", "17", pos, "TT", "CC")
    assert n.hgvsc == "NM_004448.4:c.2263_2264delinsCC"
    assert n.hgvsp == "p.Leu755Pro" and n.variant_type == "mnv"


def test_frameshift_and_shift_limited_flag() -> None:
    pos, base = _at("GRCh37", 2339)
    fs = name_allele("GRCh37", "17", pos, base, base + base)
    assert (fs.hgvsc, fs.hgvsp, fs.hgvsp_short) == (
        "NM_004448.4:c.2339dup", "p.Tyr781IlefsTer93", "p.Y781Ifs*93",
    )  # fmt: skip
    pos, base = _at("GRCh37", 2306)  # delete c.2307 (last base of exon 19)
    n = name_allele("GRCh37", "17", pos, base + T.base_at("GRCh37", pos + 1), base)
    assert n.hgvsc == "NM_004448.4:c.2307del"
    assert "hgvs_shift_limited_by_intron" in n.flags
    assert "splice_region_variant" in n.consequence and "frameshift_variant" in n.consequence


def test_dup_at_exon_edge_keeps_protein() -> None:
    pos, base = _at("GRCh37", 2307)
    n = name_allele("GRCh37", "17", pos, base, base + base)
    assert n.hgvsc == "NM_004448.4:c.2307dup" and n.variant_type == "duplication"
    assert n.hgvsp.startswith("p.") and "fs" in n.hgvsp


def test_rejects_non_sequence_alleles() -> None:
    for alt in (".", "*", "<DEL>", "A[17:1[", ""):
        with pytest.raises(ValueError, match="ALT"):
            name_allele("GRCh37", "17", 37880220, "T", alt)
    with pytest.raises(ValueError, match="build"):
        name_allele("hg19", "17", 37880220, "T", "C")


def test_severity_order() -> None:
    assert (
        join_terms({"splice_region_variant", "inframe_insertion"})
        == "inframe_insertion&splice_region_variant"
    )
    assert SEVERITY.index("stop_gained") < SEVERITY.index("missense_variant")


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_haplotype_same_codon_is_one_change(build: str) -> None:
    p1, _ = _at(build, 2263)
    n = name_haplotype(build, "chr17", [(p1, "T", "C"), (p1 + 1, "T", "C")])
    assert n.hgvsp == "p.Leu755Pro" and n.hgvsp_short == "p.L755P"
    assert n.hgvsc == "NM_004448.4:c.2263_2264delinsCC"
    # each alone: p.L755= and p.L755S
    assert name_allele(build, "chr17", p1, "T", "C").hgvsp_short == "p.L755="
    assert name_allele(build, "chr17", p1 + 1, "T", "C").hgvsp_short == "p.L755S"


def test_haplotype_far_apart_is_a_list() -> None:
    p1, _ = _at("GRCh37", 2264)
    p2, b2 = _at("GRCh37", 929)
    n = name_haplotype("GRCh37", "17", [(p1, "T", "C"), (p2, b2, "T")])
    assert n.hgvsc == "NM_004448.4:c.[929C>T;2264T>C]"
    assert n.hgvsp_short == "p.[S310F;L755S]"
    assert "haplotype_not_contiguous" in n.flags


def test_haplotype_codon_split_by_intron() -> None:
    # c.73 ends exon 1 inside codon 25 (c.73-75): c.73 is its first base, c.74-75 open exon 2.
    p1, b1 = _at("GRCh37", 73)
    p2, b2 = _at("GRCh37", 74)
    alt1 = "A" if b1 != "A" else "C"
    alt2 = "A" if b2 != "A" else "C"
    n = name_haplotype("GRCh37", "17", [(p1, b1, alt1), (p2, b2, alt2)])
    codon = alt1 + alt2 + T.mrna[T.c_to_tx(75) - 1]
    from erbb2_tki.naming.protein import AA3, CODON_TABLE

    new = CODON_TABLE[codon]
    expected = f"p.{AA3[T.protein[24]]}25" + ("=" if new == T.protein[24] else AA3[new])
    assert n.hgvsp == expected


def test_haplotype_ref_mismatch_and_overlap() -> None:
    p1, _ = _at("GRCh37", 2264)
    n = name_haplotype("GRCh37", "17", [(p1, "G", "C"), (p1 + 1, "G", "A")])
    assert "ref_mismatch" in n.flags and n.hgvsp == ""
    with pytest.raises(ValueError, match="overlap"):
        name_haplotype("GRCh37", "17", [(p1, "TG", "CA"), (p1 + 1, "G", "A")])
