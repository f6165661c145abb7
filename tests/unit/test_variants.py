"""variants.py: splitting, trimming, left-align and 3' shift over partly known sequence."""

from __future__ import annotations

from erbb2_tki.naming.variants import (
    duplicated_span,
    left_align,
    right_shift,
    split_alleles,
    trim,
    variant_type,
    with_anchor,
)

# Known sequence at positions 100..111; None elsewhere (like an intron).
SEQ = {100 + i: b for i, b in enumerate("GCACACACTTGA")}


def base_at(p: int) -> str | None:
    return SEQ.get(p)


def test_split_keeps_alt_index() -> None:
    assert split_alleles("a", "C,T") == [(1, "A", "C"), (2, "A", "T")]
    assert split_alleles("A", ["G", "*", "<DEL>"]) == [
        (1, "A", "G"),
        (2, "A", "*"),
        (3, "A", "<DEL>"),
    ]
    assert split_alleles("A", ".") == []


def test_trim_suffix_then_prefix() -> None:
    assert trim(100, "CAC", "C") == (100, "CA", "")
    assert trim(100, "C", "CAC") == (100, "", "CA")
    assert trim(100, "CC", "AT") == (100, "CC", "AT")
    assert trim(100, "GCA", "GTA") == (101, "C", "T")
    assert variant_type(*trim(100, "CC", "AT")[1:]) == "mnv"


def test_shifts_in_a_repeat() -> None:
    # Deleting one "CA" of G[CACACAC]TTGA: positions 101..107 hold CACACAC.
    left = left_align(103, "CA", "", base_at)
    right = right_shift(103, "CA", "", base_at)
    assert (left.pos, left.ref, left.limited) == (101, "CA", False)
    assert (right.pos, right.ref, right.limited) == (106, "AC", False)
    assert with_anchor(left.pos, left.ref, left.alt, base_at) == (100, "GCA", "G")


def test_shift_stops_at_unknown_sequence_with_flag() -> None:
    # An insertion of "G" before 100: the base before (99) is unknown.
    assert left_align(100, "", "G", base_at).limited
    # Deleting the last known base "A" at 111: the next base is unknown.
    assert right_shift(111, "A", "", base_at).limited
    # Left alignment also needs the future anchor to be known.
    assert left_align(101, "C", "", lambda p: {100: "C", 101: "C"}.get(p)).limited


def test_duplicated_span() -> None:
    right = right_shift(101, "", "CA", base_at)
    assert (right.pos, right.alt) == (108, "AC")
    assert duplicated_span(right.pos, right.alt, base_at) == (106, 107)
    assert duplicated_span(109, "GG", base_at) is None
    assert duplicated_span(100, "GG", base_at) is None  # unknown bases before
