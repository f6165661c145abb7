"""Rules that hold for every input (hypothesis), on both builds.

* every single-base substitution at every CDS position gives the amino-acid change the codon
  table implies from the transcript sequence;
* inserting a copy of the k bases just before a position is named a duplication;
* the same indel written left-aligned, right-shifted or anywhere in between gets one HGVS name
  and one genomic key.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from erbb2_tki.naming.consequence import name_allele
from erbb2_tki.naming.protein import AA3, CODON_TABLE
from erbb2_tki.naming.transcript import BUILDS, load_transcript
from erbb2_tki.naming.variants import left_align, right_shift

T = load_transcript()
SETTINGS = settings(max_examples=200, deadline=None)
builds = st.sampled_from(BUILDS)


def _exonic_interior(build: str, pos: int) -> bool:
    """pos and its neighbours lie in one exon (so every shift stays inside known sequence)."""
    locs = [T.locate(build, p) for p in (pos - 1, pos, pos + 1)]
    return all(loc.region == "exon" for loc in locs) and len({loc.exon for loc in locs}) == 1


@SETTINGS
@given(build=builds, c=st.integers(1, 3768), alt=st.sampled_from("ACGT"))
def test_every_cds_substitution_follows_the_codon_table(build: str, c: int, alt: str) -> None:
    pos = T.c_to_genomic(build, c)
    ref = T.base_at(build, pos)
    if alt == ref:
        return
    codon_no = (c - 1) // 3 + 1
    first = T.c_to_tx(3 * (codon_no - 1) + 1)
    codon = T.mrna[first - 1 : first + 2]
    phase = (c - 1) % 3
    new_codon = codon[:phase] + alt + codon[phase + 1 :]
    before, after = CODON_TABLE[codon], CODON_TABLE[new_codon]
    named = name_allele(build, "chr17", pos, ref, alt)
    assert named.hgvsc == f"NM_004448.4:c.{c}{ref}>{alt}"
    residue = f"{AA3[before]}{codon_no}"
    if codon_no == 1 and after != "M":
        assert named.hgvsp == "p.Met1?" and "start_lost" in named.consequence
    elif before == after:
        assert named.hgvsp == f"p.{residue}="
    elif before == "*":
        assert named.hgvsp.startswith(f"p.Ter{codon_no}{AA3[after]}extTer")
        assert "stop_lost" in named.consequence
    elif after == "*":
        assert named.hgvsp == f"p.{residue}Ter" and named.hgvsp_short == f"p.{before}{codon_no}*"
        assert "stop_gained" in named.consequence
    else:
        assert named.hgvsp == f"p.{residue}{AA3[after]}"
        assert named.hgvsp_short == f"p.{before}{codon_no}{after}"
        assert "missense_variant" in named.consequence


@SETTINGS
@given(build=builds, tx=st.integers(2, 4556), k=st.integers(1, 15))
def test_copy_of_preceding_bases_is_a_dup(build: str, tx: int, k: int) -> None:
    exon = T.exon_of_tx(tx)
    if tx - k < exon.tx_start + 1 or tx + 1 > exon.tx_end:
        return  # keep the copied bases, the anchor and the next base inside one exon
    pos = T.tx_to_genomic(build, tx)  # insert the k bases ending at pos, right after pos
    copied = T.mrna[tx - k : tx]
    ref = T.base_at(build, pos)
    named = name_allele(build, "17", pos, ref, ref + copied)
    # It is a dup; after the 3' rule it may sit further right (flagged if an exon edge stopped it).
    assert named.variant_type == "duplication", named
    assert named.hgvsc.endswith("dup")
    assert "ins" not in named.hgvsc


@SETTINGS
@given(
    build=builds,
    tx=st.integers(2, 4556),
    seq=st.text(alphabet="ACGT", min_size=1, max_size=6),
    deletion=st.booleans(),
    data=st.data(),
)
def test_equivalent_spellings_get_one_name(build, tx, seq, deletion, data) -> None:
    exon = T.exon_of_tx(tx)
    pos = T.tx_to_genomic(build, tx)
    base_at = lambda p: T.base_at(build, p)  # noqa: E731
    if deletion:
        n = len(seq)
        if tx + n > exon.tx_end or tx - 1 < exon.tx_start:
            return
        ref_seq = T.mrna[tx - 1 : tx - 1 + n]
        event = (pos, ref_seq, "")
    else:
        if tx - 1 < exon.tx_start:
            return
        event = (pos, "", seq)
    left = left_align(*event, base_at)
    right = right_shift(*event, base_at)
    if left.limited or right.limited:
        return  # the repeat meets unknown intronic sequence: covered by flag tests
    # Pick any placement between the two ends.
    shift = data.draw(st.integers(0, right.pos - left.pos))
    placement = left
    for _ in range(shift):
        placement = right_shift(placement.pos, placement.ref, placement.alt, lambda p: None)
        break
    p = left.pos + shift
    s = left.ref or left.alt
    s = s[shift % len(s) :] + s[: shift % len(s)]
    names = []
    for q, r, a in ((left.pos, left.ref, left.alt), (p, s, "") if deletion else (p, "", s)):
        anchor = base_at(q - 1)
        names.append(name_allele(build, "17", q - 1, anchor + r, anchor + a))
    assert names[0].hgvsc == names[1].hgvsc
    assert names[0].hgvsp == names[1].hgvsp
    assert names[0].consequence == names[1].consequence
    assert (names[0].key_pos, names[0].key_ref, names[0].key_alt) == (
        names[1].key_pos,
        names[1].key_ref,
        names[1].key_alt,
    )
