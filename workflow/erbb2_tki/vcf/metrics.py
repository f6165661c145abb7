"""Per-sample VAF, depth and genotype of one ALT, whatever field the caller wrote them in.

Cores receive VCFs from every caller and every year; this is the one place that knows their
FORMAT dialects (AF, AD, Strelka tier counts, VarDict, FreeBayes AO/RO...).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SampleMetrics:
    """What the caller says about one ALT in one sample, in the caller's own fields."""

    genotype: str = ""  # as written: "0/1", "0|1", "./.", "1"; "" when there is no GT
    vaf: float | None = None
    depth: int | None = None
    alt_depth: int | None = None
    phased: bool = False
    phase_set: str | None = None  # PS (or GATK PID); "." = phased GT without PS (one set)
    haplotypes: tuple[int, ...] = ()  # haplotype indices (0-based) that carry this ALT
    vaf_source: str = ""  # e.g. "FORMAT/AF", "AD", "FREQ", "strelka_tier1"
    depth_source: str = ""

    def as_row(self) -> dict[str, Any]:
        return {
            "genotype": self.genotype,
            "vaf": self.vaf,
            "depth": self.depth,
            "alt_depth": self.alt_depth,
            "phased": self.phased,
            "phase_set": self.phase_set,
            "haplotypes": ",".join(map(str, self.haplotypes)),
            "vaf_source": self.vaf_source,
            "depth_source": self.depth_source,
        }


def _number(text: str) -> float | None:
    text = text.strip()
    if text in ("", "."):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _numbers(text: str | None) -> list[float | None] | None:
    if text is None:
        return None
    return [_number(t) for t in text.split(",")]


def _int(value: float | None) -> int | None:
    return None if value is None else round(value)


def _pick_a(values: list[float | None] | None, alt_index: int, n_alt: int) -> float | None:
    """One value of a Number=A field for this ALT (alt_index is 1-based)."""
    if not values:
        return None
    if len(values) == n_alt:
        return values[alt_index - 1]
    return None


def _percent(text: str | None) -> float | None:
    if text is None:
        return None
    text = text.strip()
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1], 100.0
    value = _number(text)
    return None if value is None else value / scale


def _sample_fields(variant: Any, sample_index: int) -> dict[str, str]:
    line = str(variant).rstrip("\r\n").split("\t")
    if len(line) < 10 or sample_index + 9 >= len(line):
        return {}
    keys = line[8].split(":")
    values = line[9 + sample_index].split(":")
    return {k: (values[i] if i < len(values) else ".") for i, k in enumerate(keys)}


def _genotype_phase(
    fields: dict[str, str], alt_index: int
) -> tuple[str, bool, str | None, tuple[int, ...]]:
    gt = fields.get("GT", "")
    # VCF 4.4 may prefix the first allele with its own phase marker.
    gt_body = gt[1:] if gt.startswith(("|", "/")) else gt
    alleles = re.split(r"[/|]", gt_body) if gt_body else []
    called = [a for a in alleles if a not in (".", "")]
    code = str(alt_index)
    if len(alleles) > 1 and "/" not in gt_body and called:
        ps = fields.get("PS", ".")
        phase_set = ps if ps not in ("", ".") else "."
        haps = tuple(i for i, a in enumerate(alleles) if a == code)
        return gt, True, phase_set, haps
    pgt = fields.get("PGT", "")
    pid = fields.get("PID", "")
    if "|" in pgt and pid not in ("", "."):
        pgt_alleles = pgt.split("|")
        haps = tuple(i for i, a in enumerate(pgt_alleles) if a == code)
        return gt, True, pid, haps
    return gt, False, None, ()


def sample_metrics(variant: Any, sample_index: int, alt_index: int) -> SampleMetrics:
    """Genotype, VAF, depth, ALT depth and phase of one sample for one ALT (1-based, as in GT).

    Read from the caller's own fields, first that applies: FORMAT AF (Number=A), VAF
    (DeepVariant/DeepSomatic), FA (MuTect 1), FREQ "48.7%" (VarScan2); else from counts: AD
    (Number=R: ref + each ALT; VarScan2's Number=1 AD with RD), AO/RO (FreeBayes), Strelka's
    tier-1 counts (SNV: {REF,ALT}U; indel: TAR/TIR). Depth is DP, else the sum of the counts.
    Unreadable values count as missing: the record is still named and listed.
    """
    fields = _sample_fields(variant, sample_index)
    alts = list(variant.ALT)
    n_alt = len(alts)
    gt, phased, phase_set, haps = _genotype_phase(fields, alt_index)
    if not fields or not 1 <= alt_index <= max(n_alt, 1):
        return SampleMetrics(genotype=gt, phased=phased, phase_set=phase_set, haplotypes=haps)

    vaf: float | None = None
    vaf_source = ""
    depth: int | None = None
    depth_source = ""
    alt_depth: int | None = None
    count_total: float | None = None
    ad_over_dp = False

    dp = _number(fields["DP"]) if "DP" in fields else None
    if dp is not None:
        depth, depth_source = _int(dp), "DP"

    # Allele counts.
    ad = _numbers(fields.get("AD"))
    if ad is not None:
        if "RD" in fields and len(ad) == n_alt:  # VarScan2: AD = ALT reads, RD = REF reads
            alt_depth = _int(ad[alt_index - 1])
            rd = _number(fields["RD"])
            if alt_depth is not None and rd is not None:
                count_total = rd + sum(v for v in ad if v is not None)
        elif len(ad) == n_alt + 1:
            alt_depth = _int(ad[alt_index])
            if alt_depth is not None and all(v is not None for v in ad):
                count_total = sum(v for v in ad if v is not None)
            elif alt_depth is not None and dp:
                count_total, ad_over_dp = dp, True  # a count is missing: fall back on DP
    if alt_depth is None and "AO" in fields:
        ao = _numbers(fields["AO"])
        picked = _pick_a(ao, alt_index, n_alt)
        if picked is not None:
            alt_depth = _int(picked)
            ro = _number(fields.get("RO", "."))
            if ro is not None and ao is not None and all(v is not None for v in ao):
                count_total = ro + sum(v for v in ao if v is not None)
            elif dp is not None:
                count_total = dp
    strelka = _strelka_counts(fields, variant.REF, alts, alt_index)
    if alt_depth is None and strelka is not None:
        alt_depth, count_total = _int(strelka[0]), strelka[1]
    if depth is None and count_total is not None:
        depth, depth_source = _int(count_total), "allele counts"

    # Allele fraction: the caller's own estimate first.
    for key, label in (("AF", "FORMAT/AF"), ("VAF", "FORMAT/VAF"), ("FA", "FORMAT/FA")):
        if key in fields:
            picked = _pick_a(_numbers(fields[key]), alt_index, n_alt)
            if picked is not None:
                vaf, vaf_source = picked, label
                break
    if vaf is None and "FREQ" in fields and n_alt == 1:
        vaf = _percent(fields["FREQ"])
        vaf_source = "FORMAT/FREQ" if vaf is not None else ""
    if vaf is None and alt_depth is not None and count_total:
        vaf = alt_depth / count_total
        if strelka is not None and ad is None and "AO" not in fields:
            vaf_source = strelka[2]
        elif ad is not None:
            vaf_source = "AD/RD" if "RD" in fields else ("AD/DP" if ad_over_dp else "AD")
        else:
            vaf_source = "AO/RO" if "RO" in fields else "AO/DP"
    return SampleMetrics(
        genotype=gt,
        vaf=vaf,
        depth=depth,
        alt_depth=alt_depth,
        phased=phased,
        phase_set=phase_set,
        haplotypes=haps,
        vaf_source=vaf_source,
        depth_source=depth_source,
    )


def _strelka_counts(
    fields: dict[str, str], ref: str, alts: list[str], alt_index: int
) -> tuple[float, float, str] | None:
    """(ALT reads, REF+ALT reads, source) from Strelka's tier-1 counts, or None."""
    alt = alts[alt_index - 1].upper() if alts else ""
    ref = ref.upper()
    if len(ref) == 1 and len(alt) == 1 and f"{ref}U" in fields and f"{alt}U" in fields:

        def tier1(base: str) -> float | None:
            values = _numbers(fields.get(f"{base}U"))
            return values[0] if values else None

        ref_count = tier1(ref)
        alt_counts = [tier1(a.upper()) for a in alts if len(a) == 1 and a.upper() in "ACGT"]
        this = tier1(alt)
        if ref_count is None or this is None or any(c is None for c in alt_counts):
            return None
        return this, ref_count + sum(c for c in alt_counts if c is not None), "strelka_tier1_SNV"
    if "TIR" in fields and "TAR" in fields and len(alts) == 1:
        tir = _numbers(fields["TIR"])
        tar = _numbers(fields["TAR"])
        if tir and tar and tir[0] is not None and tar[0] is not None:
            return tir[0], tir[0] + tar[0], "strelka_tier1_indel"
    return None
