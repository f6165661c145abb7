"""Which records are "in the region": a record's reference span by tabix's rule.

POS..END, where END is INFO END when present, else POS + len(REF) - 1, widened by SVLEN for
symbolic deletions, duplications, inversions and CNVs, as htslib computes it for its indexes, so
that the streaming, bisection and index-query methods of extract.py agree record for record.
"""

from __future__ import annotations

import re

from ..errors import InputError

_END_RE = re.compile(rb"(?:^|;)END=(-?\d+)(?:;|$)")
_SVLEN_RE = re.compile(rb"(?:^|;)SVLEN=([^;]*)(?:;|$)")
# Symbolic ALTs whose SVLEN gives the reference span (htslib's rule, which its indexes use).
_SPAN_TYPES = (b"<DEL", b"<DUP", b"<INV", b"<CNV")


def _record_span(line: bytes, where: str, line_no: int | None) -> tuple[int, int]:
    """(POS, reference end) of one record line, by tabix's rule."""
    fields = line.split(b"\t", 8)
    if len(fields) < 8:
        raise _bad_record(where, line_no, line, "it has fewer than the 8 VCF columns")
    try:
        pos = int(fields[1])
    except ValueError:
        raise _bad_record(where, line_no, line, "its POS is not a whole number") from None
    ref_end = pos + max(len(fields[3]), 1) - 1
    info = fields[7].rstrip(b"\r\n")
    if b"END=" in info:
        match = _END_RE.search(info)
        if match:
            end = int(match.group(1))
            if end >= pos:
                return pos, end
    if b"SVLEN=" in info:
        return pos, max(ref_end, pos + svlen_span(fields[4], info) - 1)
    return pos, ref_end


def svlen_span(alt: bytes, info: bytes) -> int:
    """The reference length SVLEN gives a record without END (VCF 4.4; 0 if none).

    The largest |SVLEN| of its <DEL*>, <DUP*>, <INV*> or <CNV*> ALTs, as htslib computes a
    record's span for its indexes (so every method agrees with an index query); other ALTs
    (<INS>, sequence) take their span from REF.
    """
    match = _SVLEN_RE.search(info)
    if not match:
        return 0
    values = match.group(1).split(b",")
    best = 0
    for i, one in enumerate(alt.split(b",")):
        if not one.upper().startswith(_SPAN_TYPES):
            continue
        text = values[i] if i < len(values) else values[-1]
        try:
            best = max(best, abs(int(text)))
        except ValueError:
            continue
    return best


def _bad_record(where: str, line_no: int | None, line: bytes, why: str) -> InputError:
    shown = line[:80].decode("utf-8", "replace").replace("\t", " ")
    return InputError(
        f"a chromosome-17 record is malformed: {why} ({shown!r})",
        path=where,
        record=f"line {line_no}" if line_no else None,
        fix="repair or re-export the VCF (every record needs tab-separated CHROM, POS, ID, REF, "
        "ALT, QUAL, FILTER, INFO)",
    )
