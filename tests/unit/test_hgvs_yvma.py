"""Every VCF spelling of the ERBB2 exon-20 YVMA duplication names c.2313_2324dup / p.Tyr772_Ala775dup.

The 12 bases ATACGTGATGGC (c.2313_2324) are duplicated. Callers place the insertion anywhere
along the repeat (VCF left-aligns it to c.2310; VEP and others place it elsewhere), and some write
it as REF/ALT with extra context bases on either side. All must give one name on both builds.
"""

from __future__ import annotations

import pytest

from erbb2_tki.naming.consequence import name_allele
from erbb2_tki.naming.transcript import BUILDS, load_transcript

T = load_transcript()
DUP_START, DUP_END = T.c_to_tx(2313), T.c_to_tx(2324)
UNIT = T.mrna[DUP_START - 1 : DUP_END]


def _spellings() -> list[tuple[int, int, int]]:
    """(insertion point after mRNA position a, bases of left context, of right context)."""
    out = []
    # The insertion of a rotation of UNIT after position a is the same event for every a from
    # the left-aligned c.2310 to the 3'-most c.2324.
    for after in range(T.c_to_tx(2310), DUP_END + 1):
        for left_ctx, right_ctx in ((0, 0), (1, 0), (0, 2), (3, 4)):
            # VCF REF is genomic: its context must stay inside exon 20 (starts at c.2308).
            if after - left_ctx >= T.c_to_tx(2308):
                out.append((after, left_ctx, right_ctx))
    return out


def _alt_mrna() -> str:
    return T.mrna[:DUP_END] + UNIT + T.mrna[DUP_END:]


def test_unit_is_the_expected_repeat() -> None:
    assert UNIT == "ATACGTGATGGC"


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("spelling", _spellings(), ids=lambda s: f"after{s[0]}-ctx{s[1]}.{s[2]}")
def test_yvma_every_spelling(build: str, spelling: tuple[int, int, int]) -> None:
    after, left_ctx, right_ctx = spelling
    # The inserted sequence at this point is the 12 bases of the alt mRNA that follow it.
    alt_mrna = _alt_mrna()
    inserted = alt_mrna[after : after + 12]
    assert T.mrna[:after] + inserted + T.mrna[after:] == alt_mrna
    first = after - left_ctx  # VCF REF starts at the anchor base (mRNA position `after`)
    ref = T.mrna[first - 1 : after + right_ctx]
    alt = T.mrna[first - 1 : after] + inserted + T.mrna[after : after + right_ctx]
    pos = T.tx_to_genomic(build, first)
    named = name_allele(build, "chr17", pos, ref, alt)
    assert named.hgvsc == "NM_004448.4:c.2313_2324dup"
    assert named.hgvsp == "p.Tyr772_Ala775dup"
    assert named.hgvsp_short == "p.Y772_A775dup"
    assert named.consequence == "inframe_insertion&splice_region_variant"
    assert named.exon == "20/27"
    assert named.domain == "kinase domain"
    assert named.variant_type == "duplication"
    # One genomic key: left-aligned after c.2310, VCF-anchored.
    assert named.key_pos == T.c_to_genomic(build, 2310)
    assert named.key_ref == "A" and named.key_alt == "A" + "GCATACGTGATG"
    assert named.flags == ()


@pytest.mark.parametrize("build", BUILDS)
def test_yvma_as_protein_level_insertion_text(build: str) -> None:
    from erbb2_tki.naming.protein import canonical_protein_change

    for text in ("A775_G776insYVMA", "p.Ala771_Tyr772insTyrValMetAla", "Y772_A775dup"):
        assert canonical_protein_change(text, T.protein).short == "Y772_A775dup"
