"""protein.py: tables, translation, parsing and HGVS protein naming on NP_004439.2."""

from __future__ import annotations

import pytest

from erbb2_tki.naming.protein import (
    AA1,
    AA3,
    CODON_TABLE,
    canonical_protein_change,
    describe_protein_change,
    hgvsp_names,
    parse_protein_change,
    translate,
)
from erbb2_tki.naming.transcript import load_transcript

PROTEIN = load_transcript().protein


def test_tables() -> None:
    assert len(CODON_TABLE) == 64
    assert [c for c, aa in CODON_TABLE.items() if aa == "*"] == ["TAA", "TAG", "TGA"]
    assert CODON_TABLE["ATG"] == "M" and CODON_TABLE["TGG"] == "W"
    assert AA1[AA3["L"]] == "L" and AA3["*"] == "Ter"


def test_translate_reads_through_stops_and_ignores_partial_codon() -> None:
    assert translate("ATGTAAGGGC") == "M*G"
    with pytest.raises(ValueError, match="cannot translate"):
        translate("ATGNNN")


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "alt"),
    [
        ("L755S", "missense", 755, 755, "S"),
        ("p.Leu755Ser", "missense", 755, 755, "S"),
        ("p.(Leu755Ser)", "missense", 755, 755, "S"),
        ("NP_004439.2:p.(Leu755Ser)", "missense", 755, 755, "S"),
        ("Y772_A775dup", "duplication", 772, 775, ""),
        ("A775_G776insYVMA", "insertion", 775, 776, "YVMA"),
        ("G776delinsVC", "delins", 776, 776, "VC"),
        ("p.Gly776delinsValCys", "delins", 776, 776, "VC"),
        ("L755_T759del", "deletion", 755, 759, ""),
        ("L755_E757delinsS", "delins", 755, 757, "S"),
        ("Y781Ifs*93", "frameshift", 781, 781, "I"),
        ("p.Tyr781IlefsTer93", "frameshift", 781, 781, "I"),
        ("L755=", "synonymous", 755, 755, ""),
        ("S310", "codon", 310, 310, ""),
        ("V777_G778insGSP", "insertion", 777, 778, "GSP"),
        ("M774delinsWLV", "delins", 774, 774, "WLV"),
        ("M1?", "start_lost", 1, 1, ""),
        ("*1256Qext*?", "extension", 1256, 1256, "Q"),
        ("L755*", "nonsense", 755, 755, "*"),
        ("Leu755Ter", "nonsense", 755, 755, "*"),
    ],
)
def test_parse_forms(text, kind, start, end, alt) -> None:
    parsed = parse_protein_change(text)
    assert (parsed.kind, parsed.start, parsed.end, parsed.alt) == (kind, start, end, alt)


def test_parse_records_fs_length_and_prediction() -> None:
    assert parse_protein_change("Y781Ifs*93").new_stop == 93
    assert parse_protein_change("Y781Ifs*?").new_stop is None
    assert parse_protein_change("p.(L755S)").predicted


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("p.?", "names no residue"),
        ("M774INSAYVM", "lower case"),
        ("A775insYVMA", "adjacent residues"),
        ("L755X", "not X"),
        ("L755_L755del", "lower to a higher"),
        ("foo", "cannot parse"),
        ("L0S", "start at 1"),
        ("*1256Q", "extension"),
    ],
)
def test_parse_rejects_with_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_protein_change(text)


@pytest.mark.parametrize(
    ("text", "short", "three"),
    [
        ("L755S", "L755S", "Leu755Ser"),
        ("A775_G776insYVMA", "Y772_A775dup", "Tyr772_Ala775dup"),
        ("A771_Y772insYVMA", "Y772_A775dup", "Tyr772_Ala775dup"),
        ("P780_Y781insGSP", "G778_P780dup", "Gly778_Pro780dup"),
        ("V777_G778insGSP", "G778_P780dup", "Gly778_Pro780dup"),
        ("G776_V777insL", "G776_V777insL", "Gly776_Val777insLeu"),
        ("G776delinsVC", "G776delinsVC", "Gly776delinsValCys"),
        ("L755_T759del", "L755_T759del", "Leu755_Thr759del"),
        ("Y781Ifs*93", "Y781Ifs*93", "Tyr781IlefsTer93"),
        ("L755=", "L755=", "Leu755="),
        ("L755*", "L755*", "Leu755Ter"),
        ("M1?", "M1?", "Met1?"),
        ("*1256Qext*?", "*1256Qext*?", "Ter1256GlnextTer?"),
        ("S310", "S310", "Ser310"),
    ],
)
def test_canonical(text: str, short: str, three: str) -> None:
    pc = canonical_protein_change(text, PROTEIN)
    assert pc.short == short
    assert hgvsp_names(pc) == (f"p.{three}", f"p.{short}")


def test_canonical_shifts_deletion_in_repeat_three_prime() -> None:
    # NP_004439.2 ...G776 V777 G778 S779 P780...: find a residue repeat and delete its first copy.
    for i in range(1, len(PROTEIN) - 1):
        if PROTEIN[i] == PROTEIN[i + 1]:
            aa = PROTEIN[i]
            pc = canonical_protein_change(f"{aa}{i + 1}del", PROTEIN)
            assert pc.short == f"{aa}{i + 2}del"
            return
    pytest.fail("no repeated residue in NP_004439.2")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("L756S", "reference residue L at 756 disagrees with NP_004439.2 (R)"),
        ("Y772_A776dup", "reference residue A at 776 disagrees with NP_004439.2 (G)"),
        ("L2000S", "beyond the end"),
        ("E2?", "only used for Met1"),
    ],
)
def test_canonical_checks_reference(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        canonical_protein_change(text, PROTEIN)


def test_describe_same_code_as_text_road() -> None:
    ref = PROTEIN + "*"
    alt = ref[:775] + "YVMA" + ref[775:]
    assert describe_protein_change(ref, alt).short == "Y772_A775dup"
    with pytest.raises(ValueError, match="residue_hint"):
        describe_protein_change(ref, ref)
    assert describe_protein_change(ref, ref, residue_hint=755).short == "L755="
    fs = describe_protein_change(ref, ref[:780] + "IAB*", frameshift=True)
    assert fs.short == "Y781Ifs*4"
    assert describe_protein_change(ref, ref[:780] + "IAB", frameshift=True).short == "Y781Ifs*?"
