"""Allele kinds (SNV, indel, symbolic, breakend, reference block) and structural events.

A DUP or amplification over ERBB2 is exactly what the report must show, so symbolic ALTs and
breakends are read into StructuralEvent rather than dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .contigs import is_chr17_name
from .metrics import _int, _number, _numbers, _sample_fields


def classify_alt(ref: str, alt: str) -> str:
    """'small' | 'symbolic' | 'breakend' | 'ref_block' | 'star' | 'missing' for one ALT.

    Only 'small' alleles are named on the transcript; the others are recognised so they are
    reported (structural events) or counted (reference blocks, '*' overlaps), never misnamed.
    """
    alt = alt.strip()
    if alt in ("", "."):
        return "missing"
    if alt == "*":
        return "star"
    if alt.upper() in ("<*>", "<NON_REF>", "<X>"):
        return "ref_block"
    if alt.startswith("<") and alt.endswith(">"):
        return "symbolic"
    if "[" in alt or "]" in alt or (len(alt) > 1 and (alt.startswith(".") or alt.endswith("."))):
        return "breakend"
    if "<" in alt:  # e.g. a contig-insertion assembly like C<ctg1>
        return "symbolic"
    return "small"


@dataclass(frozen=True)
class StructuralEvent:
    """A symbolic or breakend allele that touches ERBB2: reported apart from the mutations."""

    chrom: str
    pos: int
    end: int
    ref: str
    alt: str
    svtype: str
    copy_number: float | None
    event: str  # possible_amplification_or_structural_event | possible_structural_event
    description: str

    def as_row(self) -> dict[str, Any]:
        return {
            "chrom": self.chrom,
            "pos": self.pos,
            "end": self.end,
            "ref": self.ref,
            "alt": self.alt,
            "svtype": self.svtype,
            "copy_number": self.copy_number,
            "event": self.event,
        }


def _is_chr17(name: str) -> bool:
    return is_chr17_name(name)  # chr17, 17, Chr17, NC_000017.10/.11, CM000679.1/.2


def _info_text(variant: Any, key: str) -> str | None:
    try:
        value = variant.INFO.get(key)
    except Exception:  # htslib type mismatch on a malformed value
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def structural_event(
    variant: Any,
    alt_index: int,
    region: tuple[int, int],
    sample_index: int | None = None,
) -> StructuralEvent | None:
    """The structural event of one symbolic/breakend ALT (1-based) if it overlaps `region`.

    `region` is (start, end), 1-based inclusive, on chromosome 17 (erbb2_region(build)). A
    <DUP>, <DUP:TANDEM> or a <CNV>/<DEL>/<DUP> with copy number > 2 is a "possible ERBB2
    amplification or structural event"; other SVs touching ERBB2 (deletion, inversion,
    insertion, breakend, copy-number loss) are "possible structural event". Copy number comes
    from INFO CN, else FORMAT CN of `sample_index` (or of the only sample). Small alleles and
    reference blocks are not events.
    """
    alts = list(variant.ALT)
    if not 1 <= alt_index <= len(alts):
        return None
    alt = alts[alt_index - 1]
    kind = classify_alt(variant.REF, alt)
    if kind not in ("symbolic", "breakend"):
        return None
    start, end = region
    chrom = str(variant.CHROM)
    pos = int(variant.POS)
    svtype = (_info_text(variant, "SVTYPE") or "").upper()
    if kind == "symbolic":
        inner = alt.strip("<>").upper()
        svtype = svtype or inner.split(":")[0]
        ev_end = _int(_number(_info_text(variant, "END") or "."))
        if ev_end is None:
            svlen = _numbers(_info_text(variant, "SVLEN"))
            length = svlen[0] if svlen and len(svlen) == 1 else None
            ev_end = pos + abs(int(length)) if length is not None else pos
        touches = _is_chr17(chrom) and pos <= end and ev_end >= start
    else:
        inner = "BND"
        svtype = svtype or "BND"
        ev_end = pos
        mate = re.search(r"[\[\]]([^\[\]:]+):(\d+)[\[\]]", alt)
        here = _is_chr17(chrom) and start <= pos <= end
        there = mate is not None and _is_chr17(mate.group(1)) and start <= int(mate.group(2)) <= end
        touches = here or there
        if mate:
            ev_end = int(mate.group(2)) if _is_chr17(mate.group(1)) else pos
    if not touches:
        return None

    copy_number = _copy_number(variant, sample_index)
    gain_type = inner.startswith("DUP") or svtype.startswith("DUP") or inner.startswith("AMP")
    if copy_number is not None:
        gain = copy_number > 2 and not inner.startswith("DEL")
        if inner.startswith("DUP") and copy_number <= 2:
            gain = False
    else:
        gain = gain_type
    if gain:
        event = "possible_amplification_or_structural_event"
        description = "possible ERBB2 amplification or structural event"
    else:
        event = "possible_structural_event"
        description = f"possible ERBB2 structural event ({svtype or inner})"
    return StructuralEvent(
        chrom=chrom,
        pos=pos,
        end=max(ev_end, pos) if kind == "symbolic" else ev_end,
        ref=str(variant.REF),
        alt=alt,
        svtype=svtype or inner,
        copy_number=copy_number,
        event=event,
        description=description,
    )


def _copy_number(variant: Any, sample_index: int | None) -> float | None:
    value = _number(_info_text(variant, "CN") or ".")
    if value is not None and value >= 0:
        return value
    n_samples = len(variant.gt_types) if hasattr(variant, "gt_types") else 0
    index = sample_index if sample_index is not None else (0 if n_samples == 1 else None)
    if index is None:
        return None
    fields = _sample_fields(variant, index)
    value = _number(fields.get("CN", "."))
    return value if value is not None and value >= 0 else None
