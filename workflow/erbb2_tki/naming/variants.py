"""Allele normalization: split multi-allelic records, trim, left-align (keys), shift 3' (HGVS).

Coordinates are 1-based genomic positions on the + strand (ERBB2 is on + on both builds, so
"3'" is "to the right"). A trimmed allele has no shared leading or trailing bases; a pure
insertion then has ref == "" and pos is the base AFTER the insertion point (the insertion lies
between pos - 1 and pos), a pure deletion has alt == "" and pos is the first deleted base.

Shifting needs the reference sequence around the event, and the project only knows exonic
sequence (transcript.Transcript.base_at gives None elsewhere). Every shift therefore stops at
the first unknown base and reports that it was limited: the caller flags it, because the true
left-aligned or 3'-most position might lie further on in the intron.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

# Returns the reference base at a genomic position, or None where the sequence is not known.
BaseLookup = Callable[[int], "str | None"]


class Shifted(NamedTuple):
    """A trimmed allele after shifting; limited is True when an unknown base stopped the shift."""

    pos: int
    ref: str
    alt: str
    limited: bool


def split_alleles(ref: str, alts: str | Iterable[str]) -> list[tuple[int, str, str]]:
    """One (alt_index, REF, ALT) per ALT of a VCF record; alt_index is 1-based as in GT.

    Accepts the ALT column as text ("A,T") or as a list. Everything is upper-cased; '.', '*'
    and symbolic ALTs are kept (with their index) so the caller decides how to report them.
    """
    if isinstance(alts, str):
        alts = [] if alts in ("", ".") else alts.split(",")
    ref = ref.upper()
    return [
        (i, ref, alt.upper() if not alt.startswith("<") else alt) for i, alt in enumerate(alts, 1)
    ]


def trim(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Remove shared trailing then leading bases (bcftools norm order); pos follows the REF start."""
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def _indel_seq(ref: str, alt: str) -> str:
    if ref and alt:
        raise ValueError("only a pure insertion or deletion (after trimming) can be shifted")
    return ref or alt


def left_align(pos: int, ref: str, alt: str, base_at: BaseLookup) -> Shifted:
    """Shift a trimmed insertion or deletion as far left as the known sequence allows.

    VCF convention for the genomic key. The shift also requires the base that would become the
    VCF anchor (just before the event) to be known, so the key can always be written VCF-style.
    Substitutions and delins are returned unchanged (limited False).
    """
    if ref and alt:
        return Shifted(pos, ref, alt, False)
    seq = _indel_seq(ref, alt)
    if not seq:
        return Shifted(pos, ref, alt, False)
    deletion = bool(ref)
    while True:
        before = base_at(pos - 1)
        if before is None:
            return _out(pos, seq, deletion, True)
        if before != seq[-1]:
            return _out(pos, seq, deletion, False)
        if base_at(pos - 2) is None:
            return _out(pos, seq, deletion, True)
        seq = seq[-1] + seq[:-1]
        pos -= 1


def right_shift(pos: int, ref: str, alt: str, base_at: BaseLookup) -> Shifted:
    """Shift a trimmed insertion or deletion as far 3' (right) as the known sequence allows (HGVS)."""
    if ref and alt:
        return Shifted(pos, ref, alt, False)
    seq = _indel_seq(ref, alt)
    if not seq:
        return Shifted(pos, ref, alt, False)
    deletion = bool(ref)
    while True:
        # The base just after the event: after the deleted stretch, or at pos for an insertion.
        after = base_at(pos + len(seq)) if deletion else base_at(pos)
        if after is None:
            return _out(pos, seq, deletion, True)
        if after != seq[0]:
            return _out(pos, seq, deletion, False)
        seq = seq[1:] + seq[0]
        pos += 1


def _out(pos: int, seq: str, deletion: bool, limited: bool) -> Shifted:
    return Shifted(pos, seq, "", limited) if deletion else Shifted(pos, "", seq, limited)


def duplicated_span(pos: int, inserted: str, base_at: BaseLookup) -> tuple[int, int] | None:
    """If an insertion before pos repeats the bases just before it, their span (HGVS dup).

    Call it on the 3'-shifted insertion. None when it is not a duplication or the preceding
    bases are not known.
    """
    k = len(inserted)
    before = [base_at(p) for p in range(pos - k, pos)]
    if any(b is None for b in before):
        return None
    return (pos - k, pos - 1) if "".join(before) == inserted else None  # type: ignore[arg-type]


def with_anchor(pos: int, ref: str, alt: str, base_at: BaseLookup) -> tuple[int, str, str] | None:
    """VCF spelling of a trimmed allele: indels get the base before them as anchor.

    None when that base is not known. Substitutions are returned unchanged.
    """
    if ref and alt:
        return pos, ref, alt
    anchor = base_at(pos - 1)
    if anchor is None:
        return None
    return pos - 1, anchor + ref, anchor + alt


def variant_type(ref: str, alt: str) -> str:
    """snv | mnv | insertion | deletion | delins | none, for a trimmed allele."""
    if not ref and not alt:
        return "none"
    if not ref:
        return "insertion"
    if not alt:
        return "deletion"
    if len(ref) == len(alt):
        return "snv" if len(ref) == 1 else "mnv"
    return "delins"
