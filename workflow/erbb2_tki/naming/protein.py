"""Protein-level HGVS: amino-acid tables, translation, parsing and naming of changes on NP_004439.2.

Two roads lead to a protein change name, and they share one naming function so that they can
never disagree:

* from DNA: consequence.py translates the reference and the edited transcript and calls
  `describe_protein_change(ref, alt, ...)`;
* from text: the knowledge base writes "A775_G776insYVMA" or "p.(Leu755Ser)";
  `canonical_protein_change(text, protein)` checks every stated reference residue against
  NP_004439.2, applies the change to the protein and names the result with the same
  `describe_protein_change`, so "A775_G776insYVMA" comes back as "Y772_A775dup".

HGVS rules applied (https://hgvs-nomenclature.org, protein section): the 3' rule (a change in a
repeat is placed at its most C-terminal position), an insertion equal to the residues just
before it is a duplication, a deletion together with an insertion is "delins", a frameshift is
named at the first changed residue with the length of the new frame counted from that residue
(the residue itself is 1, the stop is counted), a changed stop codon is an extension
("*1256Qext*?" when no new stop follows in the known sequence), a change of Met1 is "M1?",
and a stop created at the first changed residue is a nonsense change whatever the DNA event.

The short form uses one-letter codes and "*" for a stop ("Y781Ifs*93"); the 3-letter form uses
"Ter" ("Tyr781IlefsTer93"). Short names carry no "p." prefix (model.ProteinChange.short).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from .model import ProteinChange

# One-letter <-> three-letter codes. U (selenocysteine) is accepted for completeness; "*" is the
# translation stop, written "Ter" in the 3-letter form.
AA3 = {
    "A": "Ala",
    "R": "Arg",
    "N": "Asn",
    "D": "Asp",
    "C": "Cys",
    "Q": "Gln",
    "E": "Glu",
    "G": "Gly",
    "H": "His",
    "I": "Ile",
    "L": "Leu",
    "K": "Lys",
    "M": "Met",
    "F": "Phe",
    "P": "Pro",
    "S": "Ser",
    "T": "Thr",
    "W": "Trp",
    "Y": "Tyr",
    "V": "Val",
    "U": "Sec",
    "*": "Ter",
}
AA1 = {three: one for one, three in AA3.items()}

_BASES = "TCAG"
# The standard genetic code (NCBI translation table 1), codons in TCAG order.
_CODE = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE: dict[str, str] = {
    a + b + c: _CODE[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}
STOP = "*"


def translate(seq: str) -> str:
    """Translate a DNA/mRNA sequence codon by codon from its first base ("*" for stops).

    Translation does not stop at a stop codon (callers need the read-through to find where a
    frameshift or a lost stop ends); a trailing partial codon is ignored. Raises ValueError on
    a codon with a base other than A/C/G/T (U is read as T).
    """
    seq = seq.upper().replace("U", "T")
    out = []
    for i in range(0, len(seq) - len(seq) % 3, 3):
        codon = seq[i : i + 3]
        try:
            out.append(CODON_TABLE[codon])
        except KeyError:
            raise ValueError(f"cannot translate codon {codon!r} at base {i + 1}") from None
    return "".join(out)


def three_letter(residues: str) -> str:
    """'YVMA' -> 'TyrValMetAla'; '*' -> 'Ter'."""
    return "".join(AA3[r] for r in residues)


# --------------------------------------------------------------------------------------------
# Parsing


@dataclass(frozen=True)
class ParsedProteinChange:
    """A protein change as written, before any check against the protein sequence.

    kind: missense | synonymous | nonsense | codon | start_lost | deletion | insertion |
    duplication | delins | frameshift | extension.
    start/end: 1-based residues (end == start for a single residue; the two flanking residues
    for an insertion). start_ref/end_ref: the reference residues as stated (one-letter, "*" for
    a stop). alt: the new residue(s) (one-letter; "" for deletion, duplication, codon,
    start_lost and for a frameshift written without its first new residue).
    new_stop: for frameshift/extension, the stated position of the new stop in the new frame
    (None when written "?" or left out). predicted: the change was written in parentheses.
    """

    text: str
    kind: str
    start: int
    end: int
    start_ref: str
    end_ref: str
    alt: str = ""
    new_stop: int | None = None
    predicted: bool = False


_AA3_ALT = "|".join(sorted(AA1, key=len, reverse=True))
_ONE = "ACDEFGHIKLMNPQRSTVWYU*"
_RES = rf"(?:{_AA3_ALT}|[{re.escape(_ONE)}])"
_RES_POS = rf"({_RES})(\d+)"
_SEQ = rf"((?:{_AA3_ALT})+|[{re.escape(_ONE)}]+)"
_STOP_TOKEN = r"(?:Ter|\*)"

# The forms parse_protein_change accepts, tried in this order: (kind, pattern, ignore case).
_FORMS: list[tuple[str, str, bool]] = [
    ("frameshift", rf"^{_RES_POS}({_RES})?fs(?:{_STOP_TOKEN}(\d+|\?))?$", False),
    ("extension", rf"^{_STOP_TOKEN}(\d+)({_RES})ext(?:{_STOP_TOKEN}(\d+|\?))?$", False),
    ("delins", rf"^{_RES_POS}(?:_{_RES_POS})?delins{_SEQ}$", False),
    ("deletion", rf"^{_RES_POS}(?:_{_RES_POS})?del$", False),
    ("duplication", rf"^{_RES_POS}(?:_{_RES_POS})?dup$", False),
    ("insertion", rf"^{_RES_POS}(?:_{_RES_POS})?ins{_SEQ}$", False),
    ("synonymous", rf"^{_RES_POS}=$", False),
    ("start_lost", rf"^{_RES_POS}\?$", False),
    ("substitution", rf"^{_RES_POS}({_RES})$", False),
    ("codon", rf"^{_RES_POS}$", False),
]


@functools.cache
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """_FORMS compiled, on first use: about 10 ms that annotating a VCF does not need (it
    describes the changes it finds; only reading the knowledge base or a query parses one)."""
    return [
        (kind, re.compile(pattern, re.IGNORECASE if ignore_case else 0))
        for kind, pattern, ignore_case in _FORMS
    ]


def _one(token: str) -> str:
    """One residue token (one- or three-letter) to its one-letter code."""
    return token if len(token) == 1 else AA1[token]


def _seq_one(token: str) -> str:
    """A residue run, all one-letter or all three-letter, to one-letter codes."""
    if token and token[0] in _ONE and (len(token) == 1 or not token[1].islower()):
        return token
    return "".join(AA1[token[i : i + 3]] for i in range(0, len(token), 3))


def parse_protein_change(text: str) -> ParsedProteinChange:
    """Parse a protein change in short or 3-letter HGVS form, with or without "p." / "( )".

    Accepts e.g. L755S, p.Leu755Ser, p.(Leu755Ser), Y772_A775dup, A775_G776insYVMA,
    G776delinsVC, L755_T759del, Y781Ifs*93, p.Tyr781IlefsTer93, L755=, S310 (a codon only),
    M1?, *1256Qext*?. An optional "NP_004439.2:" prefix is accepted. Residue codes are
    case-sensitive (one-letter upper case, three-letter title case); the keywords
    (del, ins, dup, delins, fs, ext) must be lower case. Raises ValueError saying what is wrong.
    """
    if not isinstance(text, str):
        raise ValueError(f"protein change must be text, got {type(text).__name__}")
    body = text.strip()
    if ":" in body:
        body = body.split(":", 1)[1]
    if body.startswith("p."):
        body = body[2:]
    predicted = False
    if body.startswith("(") and body.endswith(")"):
        body, predicted = body[1:-1], True
    if not body:
        raise ValueError(f"empty protein change in {text!r}")
    if body in ("?", "=", "0", "0?"):
        raise ValueError(
            f"{text!r} names no residue (p.?, p.=, p.0): it cannot be matched to a codon"
        )
    for kind, pattern in _patterns():
        m = pattern.match(body)
        if m:
            return _build(text, kind, m.groups(), predicted)
    raise ValueError(_explain(text, body))


def _explain(text: str, body: str) -> str:
    """A reason for a protein change that matched no pattern."""
    low = body.lower()
    if re.match(r"^[A-Za-z*]+\d+ins", body):
        return (
            f"cannot parse protein change {text!r}: an insertion must name both flanking "
            "residues, e.g. A775_G776insYVMA"
        )
    if re.search(r"\d(DEL|INS|DUP|FS)", body):
        return (
            f"cannot parse protein change {text!r}: write the keywords in lower case "
            "(del, ins, dup, delins, fs)"
        )
    if re.search(r"(?<![A-Za-z])X|X$", body) or "Xaa" in body:
        return f"cannot parse protein change {text!r}: write a stop as * or Ter, not X"
    if any(w in low for w in ("ins", "del", "dup", "fs", "ext")):
        return (
            f"cannot parse protein change {text!r}: expected forms like L755_T759del, "
            "Y772_A775dup, A775_G776insYVMA, G776delinsVC, Y781Ifs*93"
        )
    return (
        f"cannot parse protein change {text!r}: expected a residue and position such as "
        "L755S, p.Leu755Ser, L755= or S310, with one-letter (upper case) or three-letter "
        "(title case) amino-acid codes"
    )


def _build(text: str, kind: str, g: tuple[Any, ...], predicted: bool) -> ParsedProteinChange:
    def span(i: int) -> tuple[int, int, str, str]:
        start_ref, start = _one(g[i]), int(g[i + 1])
        if g[i + 2] is None:
            return start, start, start_ref, start_ref
        end_ref, end = _one(g[i + 2]), int(g[i + 3])
        if end <= start:
            raise ValueError(
                f"{text!r}: the range {start_ref}{start}_{end_ref}{end} must run "
                "from a lower to a higher position"
            )
        return start, end, start_ref, end_ref

    def check_pos(pos: int) -> None:
        if pos < 1:
            raise ValueError(f"{text!r}: residue positions start at 1")

    if kind == "frameshift":
        ref, pos = _one(g[0]), int(g[1])
        check_pos(pos)
        alt = _one(g[2]) if g[2] else ""
        new_stop = int(g[3]) if g[3] not in (None, "?") else None
        if new_stop is not None and new_stop < 1:
            raise ValueError(f"{text!r}: the new stop position must be at least 1")
        return ParsedProteinChange(text, "frameshift", pos, pos, ref, ref, alt, new_stop, predicted)
    if kind == "extension":
        pos, alt = int(g[0]), _one(g[1])
        check_pos(pos)
        new_stop = int(g[2]) if g[2] not in (None, "?") else None
        return ParsedProteinChange(
            text, "extension", pos, pos, STOP, STOP, alt, new_stop, predicted
        )
    if kind in ("synonymous", "start_lost", "codon"):
        ref, pos = _one(g[0]), int(g[1])
        check_pos(pos)
        return ParsedProteinChange(text, kind, pos, pos, ref, ref, "", None, predicted)
    if kind == "substitution":
        ref, pos, alt = _one(g[0]), int(g[1]), _one(g[2])
        check_pos(pos)
        if ref == alt:
            kind = "synonymous"
            alt = ""
        elif alt == STOP:
            kind = "nonsense"
        elif ref == STOP:
            raise ValueError(
                f"{text!r}: a changed stop codon is an extension, e.g. *{pos}{alt}ext*?"
            )
        else:
            kind = "missense"
        return ParsedProteinChange(text, kind, pos, pos, ref, ref, alt, None, predicted)
    start, end, start_ref, end_ref = span(0)
    check_pos(start)
    alt = _seq_one(g[4]) if kind in ("delins", "insertion") else ""
    if kind == "insertion" and end != start + 1:
        raise ValueError(
            f"{text!r}: an insertion lies between two adjacent residues, e.g. A775_G776insYVMA"
        )
    return ParsedProteinChange(text, kind, start, end, start_ref, end_ref, alt, None, predicted)


# --------------------------------------------------------------------------------------------
# Naming


def _fmt_stop(n: int | None) -> str:
    return "?" if n is None else str(n)


def format_short(pc: ProteinChange, new_stop: int | None = None) -> str:
    """The short (one-letter) name of a change; see module docstring. new_stop for fs/ext."""
    return _format(pc.kind, pc.start, pc.end, pc.ref, pc.alt, new_stop, three=False)


def _format(
    kind: str, start: int, end: int, ref: str, alt: str, new_stop: int | None, *, three: bool
) -> str:
    res = (lambda r: AA3[r]) if three else (lambda r: r)
    seq = three_letter if three else (lambda s: s)
    stop = "Ter" if three else "*"
    first = f"{res(ref[0])}{start}"
    rng = first if end == start else f"{first}_{res(ref[-1])}{end}"
    if kind == "unknown":
        return "?"
    if kind == "synonymous":
        return f"{first}="
    if kind == "codon":
        return first
    if kind in ("missense", "nonsense"):
        return f"{first}{res(alt)}"
    if kind == "start_lost":
        return f"{first}?"
    if kind == "inframe_deletion":
        return f"{rng}del"
    if kind == "duplication":
        return f"{rng}dup"
    if kind == "inframe_insertion":
        return f"{first}_{res(ref[-1])}{end}ins{seq(alt)}"
    if kind == "delins":
        return f"{rng}delins{seq(alt)}"
    if kind == "frameshift":
        return f"{first}{res(alt) if alt else ''}fs{stop}{_fmt_stop(new_stop)}"
    if kind == "stop_lost":
        return f"{first}{res(alt)}ext{stop}{_fmt_stop(new_stop)}"
    raise ValueError(f"no HGVS form for protein change kind {kind!r}")


def three_letter_name(pc: ProteinChange) -> str:
    """'Y781Ifs*93' -> 'Tyr781IlefsTer93' (from the short name, which carries the fs length)."""
    new_stop = None
    if pc.kind in ("frameshift", "stop_lost"):
        m = re.search(r"\*(\d+|\?)$", pc.short)
        new_stop = int(m.group(1)) if m and m.group(1) != "?" else None
    return _format(pc.kind, pc.start, pc.end, pc.ref, pc.alt, new_stop, three=True)


def hgvsp_names(pc: ProteinChange | None, predicted: bool = False) -> tuple[str, str]:
    """('p.Leu755Ser', 'p.L755S') for a change; ('', '') for None.

    predicted=True wraps both in parentheses, as HGVS asks for a change inferred from DNA;
    the project writes them without (the convention of VEP's HGVSp and of most knowledge bases).
    """
    if pc is None:
        return "", ""
    three, short = three_letter_name(pc), pc.short
    if predicted:
        return f"p.({three})", f"p.({short})"
    return f"p.{three}", f"p.{short}"


def make_protein_change(
    kind: str, start: int, end: int, ref: str, alt: str, new_stop: int | None = None
) -> ProteinChange:
    """A ProteinChange with its short name formatted (new_stop: fs/ext length, None = '?')."""
    short = _format(kind, start, end, ref, alt, new_stop, three=False)
    return ProteinChange(kind=kind, start=start, end=end, ref=ref, alt=alt, short=short)


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    n = min(len(a), len(b), limit)
    i = 0
    while i < n and a[-1 - i] == b[-1 - i]:
        i += 1
    return i


def describe_protein_change(
    ref_protein: str,
    alt_protein: str,
    *,
    protein_length: int | None = None,
    frameshift: bool = False,
    residue_hint: int | None = None,
) -> ProteinChange:
    """Name the difference between a reference and an altered protein by HGVS rules.

    ref_protein and alt_protein are translations from the start codon that do NOT stop at the
    first stop codon: the reference's normal stop sits at index protein_length (default: the
    first "*" of ref_protein) and anything after it is read-through into the 3' UTR. For an
    in-frame change both strings should extend over the same downstream sequence (so that
    the shared tail is trimmed); for a frameshift the alt string runs to the end of the
    transcript, which is how the new stop (or its absence: "fs*?") is found.

    residue_hint is the codon the DNA change touches, used to place a synonymous change
    ("L755="); without it a synonymous result is an error, because the name needs a residue.
    Prefix-first trimming places a change in a repeat at its most C-terminal position (the 3'
    rule); an insertion equal to the residues before it becomes a duplication.
    """
    if protein_length is None:
        protein_length = ref_protein.find(STOP)
        if protein_length < 0:
            raise ValueError("the reference protein has no stop: pass protein_length")
    length = protein_length
    ref, alt = ref_protein, alt_protein
    p = _common_prefix(ref, alt)

    def synonymous() -> ProteinChange:
        if residue_hint is None:
            raise ValueError("a synonymous change needs residue_hint to be named")
        return make_protein_change(
            "synonymous", residue_hint, residue_hint, ref[residue_hint - 1], ""
        )

    if p > length or (p == len(ref) == len(alt)):
        # Nothing changes up to and including the stop.
        return synonymous()
    if p == 0:
        return make_protein_change("start_lost", 1, 1, ref[0], "")
    if p == length:
        # The stop itself changes: an extension to the next stop in the read-through.
        new_aa = alt[p] if p < len(alt) else ""
        if not new_aa:
            return make_protein_change("unknown", p + 1, p + 1, STOP, "")
        nxt = alt.find(STOP, p)
        return make_protein_change(
            "stop_lost", p + 1, p + 1, STOP, new_aa, nxt - p + 1 if nxt >= 0 else None
        )
    if p < len(alt) and alt[p] == STOP:
        return make_protein_change("nonsense", p + 1, p + 1, ref[p], STOP)
    if frameshift:
        nxt = alt.find(STOP, p)
        new_aa = alt[p] if p < len(alt) else ""
        return make_protein_change(
            "frameshift", p + 1, p + 1, ref[p], new_aa, nxt - p + 1 if nxt >= 0 else None
        )

    s = _common_suffix(ref, alt, min(len(ref), len(alt)) - p)
    ref_seg = ref[p : len(ref) - s]
    alt_seg = alt[p : len(alt) - s]
    alt_stop = alt_seg.find(STOP)
    if alt_stop >= 0:
        # A new stop inside the changed stretch ends the protein there.
        alt_seg = alt_seg[: alt_stop + 1]
        if not ref_seg:
            ref_seg = ref[p]  # insertion ending in a stop: name the residue it replaces
        return make_protein_change("delins", p + 1, p + len(ref_seg), ref_seg, alt_seg)
    if p + len(ref_seg) > length:
        # The normal stop is deleted or replaced with no stop in the changed stretch: the
        # protein runs on into the read-through, up to the next stop if there is one.
        nxt = alt.find(STOP, p)
        if nxt < 0:
            return make_protein_change("unknown", p + 1, length + 1, ref[p : length + 1], "")
        return make_protein_change(
            "delins", p + 1, length + 1, ref[p : length + 1], alt[p : nxt + 1]
        )
    if not ref_seg:
        k = len(alt_seg)
        if p >= k and ref[p - k : p] == alt_seg:
            return make_protein_change("duplication", p - k + 1, p, alt_seg, alt_seg)
        return make_protein_change("inframe_insertion", p, p + 1, ref[p - 1] + ref[p], alt_seg)
    if not alt_seg:
        end = p + len(ref_seg)
        return make_protein_change("inframe_deletion", p + 1, end, ref_seg, "")
    if len(ref_seg) == 1 and len(alt_seg) == 1:
        return make_protein_change("missense", p + 1, p + 1, ref_seg, alt_seg)
    return make_protein_change("delins", p + 1, p + len(ref_seg), ref_seg, alt_seg)


def canonical_protein_change(text: str, protein: str) -> ProteinChange:
    """Parse, check against the protein and name a change the way the DNA road would.

    protein is NP_004439.2 without its stop (Transcript.protein). Every reference residue the
    text states must agree with the protein (ValueError otherwise, naming both). In-frame
    changes are applied to the protein and re-described, so a change written at a 5' position
    or as an insertion of a repeated stretch comes back 3'-shifted and as a duplication.
    Frameshifts and extensions cannot be re-derived without the DNA; they are checked and
    re-spelled only. A codon-only text ("S310") gives kind "codon".
    """
    parsed = parse_protein_change(text)
    full = protein + STOP
    length = len(protein)

    def check(pos: int, stated: str) -> None:
        if pos > length + 1:
            raise ValueError(
                f"{text!r}: position {pos} lies beyond the end of NP_004439.2 ({length} residues)"
            )
        actual = full[pos - 1]
        if actual != stated:
            raise ValueError(
                f"{text!r}: reference residue {stated} at {pos} disagrees with NP_004439.2 "
                f"({actual})"
            )

    check(parsed.start, parsed.start_ref)
    check(parsed.end, parsed.end_ref)
    kind, start, end = parsed.kind, parsed.start, parsed.end
    if kind == "codon":
        return make_protein_change("codon", start, start, parsed.start_ref, "")
    if kind == "start_lost":
        if start != 1:
            raise ValueError(f"{text!r}: '?' after a residue is only used for Met1 (M1?)")
        return make_protein_change("start_lost", 1, 1, full[0], "")
    if kind == "synonymous":
        return make_protein_change("synonymous", start, start, full[start - 1], "")
    if kind == "frameshift":
        if start > length:
            raise ValueError(f"{text!r}: a frameshift at the stop codon is an extension")
        return make_protein_change(
            "frameshift", start, start, full[start - 1], parsed.alt, parsed.new_stop
        )
    if kind == "extension":
        if start != length + 1:
            raise ValueError(f"{text!r}: the stop of NP_004439.2 is at {length + 1}")
        return make_protein_change("stop_lost", start, start, STOP, parsed.alt, parsed.new_stop)
    if STOP in parsed.alt[:-1]:
        raise ValueError(f"{text!r}: a stop can only be the last inserted residue")
    if kind in ("missense", "nonsense"):
        alt = full[: start - 1] + parsed.alt + full[start:]
    elif kind == "deletion":
        alt = full[: start - 1] + full[end:]
    elif kind == "duplication":
        alt = full[:end] + full[start - 1 : end] + full[end:]
    elif kind == "insertion":
        alt = full[:start] + parsed.alt + full[start:]
    elif kind == "delins":
        alt = full[: start - 1] + parsed.alt + full[end:]
    else:  # pragma: no cover - every parsed kind is handled above
        raise ValueError(f"{text!r}: unhandled kind {kind}")
    if end > length and kind != "insertion":
        raise ValueError(
            f"{text!r}: a change of the stop codon is written as an extension (*1256Qext*?)"
        )
    if alt == full:
        raise ValueError(f"{text!r} leaves NP_004439.2 unchanged")
    return describe_protein_change(full, alt, protein_length=length, residue_hint=start)
