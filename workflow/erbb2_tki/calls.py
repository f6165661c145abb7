"""The calls of one VCF on their way through naming: one record per ALT, read, named and flagged.

The read loop keeps the ERBB2 region's records (the same span rule as extraction), classifies each
ALT (small, symbolic, breakend, reference block, '*'), names the small ones with the HGVS engine
and reads the caller's VAF and depth for the tumour and the normal column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .naming.model import AlleleName
from .verdict_use import UNKNOWN_ORIGIN


@dataclass
class _Allele:
    """One ALT of one record on its way through naming and matching."""

    record_index: int
    alt_index: int  # 1-based ALT index in the record
    chrom: str
    pos: int
    ref: str
    alt: str
    filter: str
    name: AlleleName | None
    metrics: Any
    flags: list[str] = field(default_factory=list)
    matches: list[Any] = field(default_factory=list)
    oncogenicity: str = ""
    merged_into: _Allele | None = None
    components: list[_Allele] = field(default_factory=list)
    normal_metrics: Any = None
    origin: str = UNKNOWN_ORIGIN
    use: str = ""  # used_for_verdict (verdict_use._verdict_use), set by annotate_sample

    @property
    def carried(self) -> bool:
        """False only when the tumour genotype is known and does not contain this ALT."""
        m = self.metrics
        if m is None or not m.genotype or set(m.genotype) <= set("./|"):
            return True
        return bool(m.haplotypes) or str(self.alt_index) in m.genotype.replace("|", "/").split("/")


def _filter_text(variant: Any) -> str:
    return "PASS" if variant.FILTER is None else str(variant.FILTER)


def _read_alleles(
    vcf: Any,
    build: str,
    tumour_index: int | None,
    skipped: Counter[str],
    structural: list[dict[str, Any]],
    sample: str,
    region: tuple[int, int] | None = None,
    normal_index: int | None = None,
    records: Iterable[Any] | None = None,
) -> list[_Allele]:
    """Every ALT of every record in the ERBB2 region, named; non-small ALTs are counted or kept as events.

    `region` is the one extraction read (its status records it); None: the default padding.
    Chromosome 17 is any of its spellings (contigs.chr17_names). The same ALT at the same
    site in two records is one allele, listed once with the flag `duplicate_record`.
    `records`: the reader's records when already read (else the reader is iterated).
    """
    from .naming import consequence
    from .vcf import contigs, extract
    from .vcf import events as vcf_events
    from .vcf import metrics as vcf_metrics

    alleles: list[_Allele] = []
    span = region or extract.erbb2_region(build)
    chr17, _ = contigs.chr17_names(str(vcf.raw_header).encode("utf-8", "replace"), build)
    first_of: dict[tuple[str, int, str, str], _Allele | None] = {}
    first_record: dict[tuple[str, int, str, str], int] = {}
    for record_index, variant in enumerate(vcf if records is None else records):
        chrom = variant.CHROM
        if chrom.encode("utf-8", "replace") not in chr17:
            continue
        start, end = span
        var_end = _record_end(variant)
        if var_end < start or variant.POS > end:
            continue
        filt = _filter_text(variant)
        if not variant.ALT:  # ALT '.': a reference call, no allele to name
            skipped["missing"] += 1
        for alt_index, alt in enumerate(variant.ALT, start=1):
            # The same ALT at the same site in an earlier record (not a repeat within a record,
            # which the record's own ALT indices keep apart).
            key = (chrom, int(variant.POS), str(variant.REF).upper(), alt.upper())
            if key in first_of and first_record[key] != record_index:
                first = first_of[key]
                if first is not None and "duplicate_record" not in first.flags:
                    first.flags.append("duplicate_record")
                skipped["duplicate_record"] += 1
                continue
            first_of[key] = None
            first_record[key] = record_index
            kind = vcf_events.classify_alt(variant.REF, alt)
            if kind != "small":
                event = None
                if kind in ("symbolic", "breakend"):
                    event = vcf_events.structural_event(variant, alt_index, span, tumour_index)
                if event is not None:
                    structural.append({"sample": sample, "filter": filt, **event.as_row()})
                skipped[kind] += 1
                continue
            metrics = (
                vcf_metrics.sample_metrics(variant, tumour_index, alt_index)
                if tumour_index is not None
                else None
            )
            normal_metrics = (
                vcf_metrics.sample_metrics(variant, normal_index, alt_index)
                if normal_index is not None
                else None
            )
            ref = variant.REF.upper()
            try:
                name = consequence.name_allele(build, chrom, variant.POS, ref, alt.upper())
                flags: list[str] = []
            except ValueError as err:
                name = None
                flags = [f"not_named:{_flag_text(str(err))}"]
            alleles.append(
                _Allele(
                    record_index,
                    alt_index,
                    chrom,
                    variant.POS,
                    ref,
                    alt.upper(),
                    filt,
                    name,
                    metrics,
                    flags,
                    normal_metrics=normal_metrics,
                )
            )
            first_of[key] = alleles[-1]
    return alleles


def _record_end(variant: Any) -> int:
    """The record's reference end by the rule extraction uses: END, else SVLEN of a <DEL>,
    <DUP>, <INV> or <CNV> ALT, else REF (extract.svlen_span)."""
    from .vcf import extract

    end = int(variant.end)
    try:
        has_end = variant.INFO.get("END") is not None
        svlen = None if has_end else variant.INFO.get("SVLEN")
    except Exception:  # htslib type mismatch on a malformed value
        svlen = None
    if svlen is not None:
        text = ",".join(map(str, svlen)) if isinstance(svlen, tuple) else str(svlen)
        alts = ",".join(variant.ALT).encode()
        span = extract.svlen_span(alts, b"SVLEN=" + text.encode())
        end = max(end, int(variant.POS) + span - 1)
    return end


def _flag_text(text: str) -> str:
    """Flags are '|'-joined tokens inside a VCF INFO value: keep them free of separators."""
    return "".join(c if c.isalnum() or c in "._-:" else "_" for c in text)[:80]
