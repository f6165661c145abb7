"""Name one VCF allele (or several on one haplotype) on NM_004448.4 / NP_004439.2.

`name_allele(build, chrom, pos, ref, alt)` returns a model.AlleleName: the genomic key
(trimmed, left-aligned VCF-style), the Sequence Ontology consequence, HGVS g./c./p. (3-letter
and short), exon/intron number and protein domain, plus flags. `name_haplotype` names several
edits that sit on one haplotype as one change where they touch the same codon(s).

How a name is made
1. REF is compared with the transcript at every exonic position; any disagreement means the
   wrong build or reference, and nothing is named (flag ref_mismatch).
2. Shared bases are trimmed. The genomic key is left-aligned over the known (exonic)
   sequence; HGVS positions are shifted 3' over it (the 3' rule). An insertion that, once
   shifted, repeats the bases before it is a duplication (c.2313_2324dup, never ins).
3. A change lying wholly in one exon is applied to the mRNA and both mRNAs are translated from
   c.1 through the 3' UTR; protein.describe_protein_change names the difference, so protein
   names made from DNA and from knowledge-base text come from the same code.
4. Consequence terms follow VEP's definitions: splice donor/acceptor = intron bases 1-2,
   splice region = exon bases 1-3 or intron bases 3-8 from an exon-intron boundary,
   upstream/downstream = within 5,000 bp of the transcript ends. Splice-region terms are
   judged over every equivalent placement of an indel (from left-aligned to 3'-shifted), so a
   repeat-ambiguous insertion gets the same consequence however the VCF spells it. In-frame
   changes are classed at the protein level: a pure insertion/duplication is
   inframe_insertion, a pure deletion inframe_deletion, a length-changing delins
   protein_altering_variant, an equal-length multi-residue change missense_variant.

Flags (AlleleName.flags, short snake_case)

| flag                          | meaning                                                                 |
|-------------------------------|-------------------------------------------------------------------------|
| ref_mismatch                  | VCF REF differs from NM_004448.4 at an exonic base: wrong build or reference; nothing named |
| ref_unchecked_intronic        | some REF bases lie in an intron, whose sequence the model lacks; they were not checked |
| ref_unchecked_flanking        | some REF bases lie upstream/downstream of the transcript; not checked  |
| hgvs_shift_limited_by_intron  | the 3' shift for HGVS stopped because the next base is intronic (unknown); the true 3'-most position may lie further |
| key_shift_limited_by_intron   | left-alignment of the genomic key stopped at unknown (intronic) sequence |
| spans_exon_boundary           | the change covers exonic and intronic bases; no protein effect is predicted |
| outside_erbb2                 | more than 5,000 bp from NM_004448.4: consequence and names empty       |
| no_change                     | REF equals ALT                                                          |
| haplotype_not_contiguous      | (name_haplotype) edits are apart on the protein; named as a list [a;b]  |
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from typing import Any

from .model import AlleleName, ProteinChange
from .protein import (
    CODON_TABLE,
    describe_protein_change,
    hgvsp_names,
    make_protein_change,
    translate,
)
from .transcript import FLANK, Transcript, check_build, load_transcript
from .variants import (
    duplicated_span,
    left_align,
    right_shift,
    trim,
    variant_type,
    with_anchor,
)

# Most severe first (Ensembl VEP's ordering of these terms).
SEVERITY = (
    "splice_acceptor_variant",
    "splice_donor_variant",
    "stop_gained",
    "frameshift_variant",
    "stop_lost",
    "start_lost",
    "inframe_insertion",
    "inframe_deletion",
    "missense_variant",
    "protein_altering_variant",
    "splice_region_variant",
    "stop_retained_variant",
    "synonymous_variant",
    "coding_sequence_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "intron_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
)
_RANK = {term: i for i, term in enumerate(SEVERITY)}
_BASES = re.compile(r"^[ACGTN]+$")


def join_terms(terms: set[str] | Sequence[str]) -> str:
    """SO terms, most severe first, joined by '&'."""
    return "&".join(sorted(set(terms), key=_RANK.__getitem__))


def _check_allele(ref: str, alt: str) -> None:
    if not _BASES.match(ref):
        raise ValueError(f"REF {ref!r} is not a run of A/C/G/T/N bases")
    if not _BASES.match(alt):
        raise ValueError(
            f"ALT {alt!r} cannot be named: only sequence alleles (A/C/G/T/N) are; "
            "'.', '*', symbolic (<DEL>) and breakend ALTs are not"
        )


def _translate_to_stop(seq: str) -> str:
    """Translate codon by codon up to and including the first stop (or the end).

    A codon with N is untranslatable (it may even be a stop, so the new stop's position is
    unknown too): ValueError, as `translate` raises for the in-frame path, so the allele is
    flagged not_named instead of named with a made-up residue.
    """
    out = []
    for i in range(0, len(seq) - 2, 3):
        codon = seq[i : i + 3]
        aa = CODON_TABLE.get(codon)
        if aa is None:
            raise ValueError(f"cannot translate codon {codon!r} at base {i + 1}")
        out.append(aa)
        if aa == "*":
            break
    return "".join(out)


@functools.cache
def _ref_readthrough(mrna: str, cds_start: int) -> str:
    return translate(mrna[cds_start - 1 :])


def _position_terms(t: Transcript, build: str, positions: list[int], insertion: bool) -> set[str]:
    """Splice, intron, UTR-free region terms for positions (insertion: its two flanks)."""
    terms: set[str] = set()
    n_exons = t.exon_count
    locs = [t.locate(build, p) for p in positions]
    for loc in locs:
        if loc.region == "upstream" and loc.distance <= FLANK:
            terms.add("upstream_gene_variant")
        elif loc.region == "downstream" and loc.distance <= FLANK:
            terms.add("downstream_gene_variant")
        elif loc.region == "intron":
            d = abs(loc.offset)
            if 3 <= d <= 8:
                terms.add("splice_region_variant")
        elif loc.region == "exon":
            exon = t.exons[loc.exon - 1]
            if (loc.exon > 1 and loc.tx - exon.tx_start < 3) or (
                loc.exon < n_exons and exon.tx_end - loc.tx < 3
            ):
                terms.add("splice_region_variant")
    intronic = [loc for loc in locs if loc.region == "intron"]
    if insertion:
        # An insertion breaks a donor/acceptor dinucleotide only when it lies inside it.
        if len(intronic) == 2:
            offsets = {loc.offset for loc in intronic}
            if offsets == {1, 2}:
                terms.add("splice_donor_variant")
            elif offsets == {-1, -2}:
                terms.add("splice_acceptor_variant")
            else:
                terms.add("intron_variant")
    else:
        core = False
        for loc in intronic:
            if loc.offset in (1, 2):
                terms.add("splice_donor_variant")
                core = True
            elif loc.offset in (-1, -2):
                terms.add("splice_acceptor_variant")
                core = True
        if any(abs(loc.offset) > 2 for loc in intronic) or (intronic and not core):
            terms.add("intron_variant")
    return terms


def _numbering(t: Transcript, build: str, positions: list[int]) -> tuple[str, str]:
    """Exon and intron fields ('20/27', '19/26'; a range '19-20/27' when several)."""
    exons, introns = set(), set()
    for p in positions:
        loc = t.locate(build, p)
        if loc.region == "exon":
            exons.add(loc.exon)
        elif loc.region == "intron":
            introns.add(loc.exon)

    def fmt(numbers: set[int], total: int) -> str:
        if not numbers:
            return ""
        lo, hi = min(numbers), max(numbers)
        return f"{lo}/{total}" if lo == hi else f"{lo}-{hi}/{total}"

    return fmt(exons, t.exon_count), fmt(introns, t.exon_count - 1)


def coding_effect(
    t: Transcript, tx_start: int, tx_end: int, alt: str
) -> tuple[ProteinChange | None, set[str]]:
    """Protein change and SO terms of replacing mRNA[tx_start..tx_end] by alt.

    An insertion is tx_end == tx_start - 1 (inserted between tx_end and tx_start). Returns
    (None, UTR terms) when the change lies outside the CDS.
    """
    cds_start, cds_end = t.cds_start, t.cds_end
    ref_len = tx_end - tx_start + 1
    if ref_len == 0:
        in_cds = cds_start <= tx_end < cds_end
        in_5 = tx_end < cds_start
    else:
        in_cds = tx_start <= cds_end and tx_end >= cds_start
        in_5 = tx_end < cds_start
    if not in_cds:
        return None, {"5_prime_UTR_variant" if in_5 else "3_prime_UTR_variant"}
    terms: set[str] = set()
    if ref_len and tx_start < cds_start:
        # The change reaches from the 5' UTR into the start codon.
        terms |= {"start_lost", "5_prime_UTR_variant"}
        return make_protein_change("start_lost", 1, 1, t.protein[0], ""), terms
    if ref_len and tx_end > cds_end:
        terms.add("3_prime_UTR_variant")
    alt_mrna = t.mrna[: tx_start - 1] + alt + t.mrna[tx_end:]
    ref_rt = _ref_readthrough(t.mrna, cds_start)
    frameshift = (len(alt) - ref_len) % 3 != 0
    # Translate only what can differ: codons before the edit are the reference's; after an
    # in-frame edit the reference frame resumes; after a frameshift read on to the new stop.
    first = (tx_start - cds_start) // 3
    offset = cds_start - 1 + 3 * first
    if frameshift:
        alt_rt = ref_rt[:first] + _translate_to_stop(alt_mrna[offset:])
    else:
        last = (max(tx_end, tx_start) - cds_start) // 3 + 1
        middle = alt_mrna[offset : cds_start - 1 + 3 * last + len(alt) - ref_len]
        alt_rt = ref_rt[:first] + translate(middle) + ref_rt[last:]
    hint = (max(tx_start, cds_start) - cds_start) // 3 + 1
    pc = describe_protein_change(
        ref_rt,
        alt_rt,
        protein_length=len(t.protein),
        frameshift=frameshift,
        residue_hint=min(hint, len(t.protein) + 1),
    )
    kind = pc.kind
    if kind == "synonymous":
        terms.add("stop_retained_variant" if pc.start > len(t.protein) else "synonymous_variant")
    elif kind == "missense":
        terms.add("missense_variant")
    elif kind == "nonsense":
        terms.add("stop_gained")
        if frameshift:
            terms.add("frameshift_variant")
    elif kind == "frameshift":
        terms.add("frameshift_variant")
    elif kind == "stop_lost":
        terms.add("stop_lost")
        if frameshift:
            terms.add("frameshift_variant")
    elif kind == "start_lost":
        terms.add("start_lost")
    elif kind in ("duplication", "inframe_insertion"):
        terms.add("inframe_insertion")
    elif kind == "inframe_deletion":
        terms.add("inframe_deletion")
    elif kind == "delins":
        if "*" in pc.ref:
            terms.add("stop_lost")
        elif pc.alt.endswith("*"):
            terms.add("stop_gained")
            if len(alt) > ref_len:
                terms.add("inframe_insertion")
            elif len(alt) < ref_len:
                terms.add("inframe_deletion")
        elif len(pc.alt) == len(pc.ref):
            terms.add("missense_variant")
        else:
            terms.add("protein_altering_variant")
    else:  # unknown
        terms.add("stop_lost" if "*" in pc.ref else "coding_sequence_variant")
    return pc, terms


def _c(t: Transcript, build: str, pos: int) -> str:
    return t.genomic_to_c(build, pos)


def _describe_dna(
    t: Transcript, build: str, pos: int, ref: str, alt: str, dup: tuple[int, int] | None
) -> tuple[str, str]:
    """HGVS c. and g. descriptions (without accession) of a trimmed, 3'-shifted allele."""

    def rng(a: int, b: int, f: Callable[[int], str]) -> str:
        return f(a) if a == b else f"{f(a)}_{f(b)}"

    cpos = functools.partial(_c, t, build)
    gpos = str
    if dup is not None:
        return rng(dup[0], dup[1], cpos) + "dup", rng(dup[0], dup[1], gpos) + "dup"
    if not ref:
        return (
            f"{cpos(pos - 1)}_{cpos(pos)}ins{alt}",
            f"{pos - 1}_{pos}ins{alt}",
        )
    end = pos + len(ref) - 1
    if not alt:
        return rng(pos, end, cpos) + "del", rng(pos, end, gpos) + "del"
    if len(ref) == 1 and len(alt) == 1:
        return f"{cpos(pos)}{ref}>{alt}", f"{pos}{ref}>{alt}"
    return rng(pos, end, cpos) + f"delins{alt}", rng(pos, end, gpos) + f"delins{alt}"


def name_allele(
    build: str,
    chrom: str,
    pos: int,
    ref: str,
    alt: str,
    transcript: Transcript | None = None,
) -> AlleleName:
    """Name one (already split) ALT allele of a VCF record on NM_004448.4 / NP_004439.2.

    Names for the default transcript are cached (the same hotspot recurs across a batch).
    """
    if transcript is None:
        return _name_default(build, chrom, pos, ref, alt)
    return _name_allele(build, chrom, pos, ref, alt, transcript)


@functools.lru_cache(maxsize=65536)
def _name_default(build: str, chrom: str, pos: int, ref: str, alt: str) -> AlleleName:
    return _name_allele(build, chrom, pos, ref, alt, load_transcript())


def _name_allele(
    build: str, chrom: str, pos: int, ref: str, alt: str, transcript: Transcript
) -> AlleleName:
    t = transcript
    check_build(build)
    ref, alt = ref.upper(), alt.upper()
    _check_allele(ref, alt)
    flags: list[str] = []

    def base_at(p: int) -> str | None:
        return t.base_at(build, p)

    # The record's own REF supplies VCF anchor bases where the model has no sequence.
    record = {pos + i: b for i, b in enumerate(ref)}

    def anchor_at(p: int) -> str | None:
        b = base_at(p)
        return b if b is not None else record.get(p)

    # 1. REF check.
    mismatch = False
    for i, b in enumerate(ref):
        loc = t.locate(build, pos + i)
        if loc.region == "exon":
            if t.mrna[loc.tx - 1] != b:
                mismatch = True
        elif loc.region == "intron":
            flags.append("ref_unchecked_intronic")
        else:
            flags.append("ref_unchecked_flanking")

    tpos, tref, talt = trim(pos, ref, alt)
    vtype = variant_type(tref, talt)
    base: dict[str, Any] = dict(build=build, chrom=chrom, pos=pos, ref=ref, alt=alt)

    if vtype == "none":
        return AlleleName(
            **base, key_pos=pos, key_ref=ref, key_alt=alt, variant_type="none",
            consequence="", hgvsg="", hgvsc="", hgvsp="", hgvsp_short="",
            flags=_flags([*flags, "no_change"]),
        )  # fmt: skip

    if mismatch:
        mismatch_key = with_anchor(tpos, tref, talt, anchor_at) or (pos, ref, alt)
        return AlleleName(
            **base, key_pos=mismatch_key[0], key_ref=mismatch_key[1], key_alt=mismatch_key[2],
            variant_type=vtype, consequence="", hgvsg="", hgvsc="", hgvsp="", hgvsp_short="",
            flags=_flags([*flags, "ref_mismatch"]),
        )  # fmt: skip

    # 2. Genomic key (left-aligned) and HGVS placement (3'-shifted).
    left = left_align(tpos, tref, talt, base_at)
    if left.limited:
        flags.append("key_shift_limited_by_intron")
    key = with_anchor(left.pos, left.ref, left.alt, anchor_at)
    if key is None:  # anchor unknown: keep the record's own anchored spelling
        key = with_anchor(tpos, tref, talt, anchor_at) or (pos, ref, alt)
    right = right_shift(tpos, tref, talt, base_at)
    if right.limited and vtype in ("insertion", "deletion"):
        flags.append("hgvs_shift_limited_by_intron")
    hpos, href, halt = right.pos, right.ref, right.alt
    insertion = not href
    dup = duplicated_span(hpos, halt, base_at) if insertion else None
    if dup is not None:
        vtype = "duplication"

    # Positions the change touches (HGVS placement) and over all equivalent placements.
    if insertion:
        core = [hpos - 1, hpos]
        every = list(range(left.pos - 1, hpos + 1))
    else:
        core = list(range(hpos, hpos + len(href)))
        every = list(range(left.pos, hpos + len(href)))

    span_lo, span_hi = t.span(build)
    if all(p < span_lo - FLANK or p > span_hi + FLANK for p in core):
        return AlleleName(
            **base, key_pos=key[0], key_ref=key[1], key_alt=key[2], variant_type=vtype,
            consequence="", hgvsg="", hgvsc="", hgvsp="", hgvsp_short="",
            flags=_flags([*flags, "outside_erbb2"]),
        )  # fmt: skip

    cdesc, gdesc = _describe_dna(t, build, hpos, href, halt, dup)
    hgvsc = f"{t.accession}:c.{cdesc}"
    hgvsg = f"{t.chrom_accession(build)}:g.{gdesc}"

    terms = _position_terms(t, build, every, insertion) | _position_terms(t, build, core, insertion)
    # The protein effect needs a placement wholly inside one exon: the HGVS one, else the
    # left-aligned one (an indel at an exon edge can often be placed on either side of it).
    placements = [(core, halt)]
    if vtype in ("insertion", "duplication", "deletion"):
        left_core = (
            [left.pos - 1, left.pos]
            if insertion
            else list(range(left.pos, left.pos + len(left.ref)))
        )
        placements.append((left_core, left.alt))
    pc: ProteinChange | None = None
    for positions, inserted in placements:
        locs = [t.locate(build, p) for p in positions]
        if all(loc.region == "exon" for loc in locs) and len({loc.exon for loc in locs}) == 1:
            if insertion:
                if locs[1].tx != locs[0].tx + 1:
                    continue
                tx_start, tx_end = locs[1].tx, locs[0].tx
            else:
                tx_start, tx_end = locs[0].tx, locs[-1].tx
            pc, coding_terms = coding_effect(t, tx_start, tx_end, inserted)
            terms |= coding_terms
            break
    else:
        exonic = [loc for loc in (t.locate(build, p) for p in core) if loc.region == "exon"]
        if exonic:
            flags.append("spans_exon_boundary")
        for loc in exonic:
            if t.cds_start <= loc.tx <= t.cds_end:
                terms.add("coding_sequence_variant")
            else:
                terms.add("5_prime_UTR_variant" if loc.tx < t.cds_start else "3_prime_UTR_variant")

    hgvsp, hgvsp_short = hgvsp_names(pc)
    numbered = list(range(dup[0], dup[1] + 1)) if dup else core
    if pc is not None and insertion and not dup:
        numbered = [p for p in core if t.locate(build, p).region == "exon"] or core
    exon, intron = _numbering(t, build, numbered)
    domain = ""
    if pc is not None and pc.kind != "unknown":
        domain = t.domain_at(pc.start)
    return AlleleName(
        **base,
        key_pos=key[0],
        key_ref=key[1],
        key_alt=key[2],
        variant_type=vtype,
        consequence=join_terms(terms),
        hgvsg=hgvsg,
        hgvsc=hgvsc,
        hgvsp=hgvsp,
        hgvsp_short=hgvsp_short,
        exon=exon,
        intron=intron,
        domain=domain,
        protein=pc,
        flags=_flags(flags),
    )


def _flags(flags: list[str]) -> tuple[str, ...]:
    """Unique, in first-seen order."""
    return tuple(dict.fromkeys(flags))


def _codons(t: Transcript, tx_lo: int, tx_hi: int) -> set[int]:
    lo, hi = max(tx_lo, t.cds_start), min(tx_hi, t.cds_end)
    if lo > hi:
        return set()
    return set(range((lo - t.cds_start) // 3 + 1, (hi - t.cds_start) // 3 + 2))


def name_haplotype(
    build: str,
    chrom: str,
    edits: Sequence[tuple[int, str, str]],
    transcript: Transcript | None = None,
) -> AlleleName:
    """Name several edits on one haplotype together (cis), e.g. two SNVs in one codon.

    The edits (VCF pos, REF, ALT; already split) are applied to the mRNA together and the
    combined change is named: c.2263T>C + c.2264T>C in cis is c.2263_2264delinsCC, p.L755P.
    Edits that touch the same or neighbouring codons (or lie at most one base apart) form one
    change; edits further apart are named as an HGVS list (c.[a;b], p.[A;B]) with the flag
    haplotype_not_contiguous. An edit with a REF mismatch makes the whole haplotype unnamed
    (ref_mismatch). Overlapping edits are an error (ValueError).
    """
    t = transcript or load_transcript()
    if not edits:
        raise ValueError("name_haplotype needs at least one edit")
    if len(edits) == 1:
        return name_allele(build, chrom, *edits[0], transcript=t)
    singles = [name_allele(build, chrom, p, r, a, transcript=t) for p, r, a in sorted(edits)]
    flags = [f for s in singles for f in s.flags]
    first = min(edits, key=lambda e: e[0])
    trimmed = sorted(trim(p, r.upper(), a.upper()) for p, r, a in edits)
    for (p1, r1, _), (p2, _, _) in itertools.pairwise(trimmed):
        if p2 < p1 + len(r1):
            raise ValueError(f"edits at {p1} and {p2} overlap: they cannot be on one haplotype")
    base: dict[str, Any] = dict(
        build=build, chrom=chrom, pos=first[0], ref=first[1].upper(), alt=first[2].upper()
    )

    def listed(extra: list[str]) -> AlleleName:
        cs = [s.hgvsc.split(":c.", 1)[1] for s in singles if s.hgvsc]
        ps = [s.hgvsp[2:] for s in singles if s.hgvsp]
        pss = [s.hgvsp_short[2:] for s in singles if s.hgvsp_short]
        terms = {term for s in singles for term in s.consequence.split("&") if term}
        ok = "ref_mismatch" not in flags
        return AlleleName(
            **base, key_pos=singles[0].key_pos, key_ref=singles[0].key_ref,
            key_alt=singles[0].key_alt, variant_type="haplotype",
            consequence=join_terms(terms) if ok else "",
            hgvsg="",
            hgvsc=f"{t.accession}:c.[{';'.join(cs)}]" if ok and cs else "",
            hgvsp=f"p.[{';'.join(ps)}]" if ok and ps else "",
            hgvsp_short=f"p.[{';'.join(pss)}]" if ok and pss else "",
            exon=singles[0].exon, intron=singles[0].intron, domain=singles[0].domain,
            protein=next((s.protein for s in singles if s.protein), None) if ok else None,
            flags=_flags(flags + extra),
        )  # fmt: skip

    if "ref_mismatch" in flags:
        return listed([])
    # Map each trimmed edit to the mRNA; every edit must be exonic for a combined name.
    tx_edits = []
    for p, r, a in trimmed:
        positions = [p - 1, p] if not r else list(range(p, p + len(r)))
        locs = [t.locate(build, q) for q in positions]
        if any(loc.region != "exon" for loc in locs):
            return listed(["haplotype_not_contiguous"])
        if not r:
            if locs[1].tx != locs[0].tx + 1:
                return listed(["haplotype_not_contiguous"])
            tx_edits.append((locs[1].tx, locs[0].tx, a))
        else:
            tx_edits.append((locs[0].tx, locs[-1].tx, a))
    # One change when consecutive edits share or neighbour a codon, or are <= 1 base apart.
    for (s1, e1, _), (s2, e2, _) in itertools.pairwise(tx_edits):
        c1, c2 = _codons(t, s1, max(e1, s1)), _codons(t, s2, max(e2, s2))
        near = s2 - max(e1, s1 - 1) <= 2
        if not near and not (c1 and c2 and min(c2) - max(c1) <= 1):
            return listed(["haplotype_not_contiguous"])
    lo = min(s for s, _, _ in tx_edits)
    hi = max(max(e, s - 1) for s, e, _ in tx_edits)
    alt_seq = t.mrna[lo - 1 : hi]
    for s, e, a in sorted(tx_edits, reverse=True):
        alt_seq = alt_seq[: s - lo] + a + alt_seq[e - lo + 1 :]
    g_lo, g_hi = t.tx_to_genomic(build, lo), t.tx_to_genomic(build, hi)
    if g_hi - g_lo == hi - lo:
        # One exon: name the combined stretch as one allele.
        combined = name_allele(build, chrom, g_lo, t.mrna[lo - 1 : hi], alt_seq, transcript=t)
        return AlleleName(
            **{**combined.__dict__, **base, "flags": _flags(flags + list(combined.flags))}
        )
    # The edits straddle an intron (a codon split across exons): protein from the mRNA.
    pc, terms = coding_effect(t, lo, hi, alt_seq)
    named = listed([])
    hgvsp, hgvsp_short = hgvsp_names(pc)
    return AlleleName(
        **{
            **named.__dict__,
            "consequence": join_terms(terms | set(named.consequence.split("&")) - {""}),
            "hgvsp": hgvsp,
            "hgvsp_short": hgvsp_short,
            "protein": pc,
            "domain": t.domain_at(pc.start) if pc and pc.kind != "unknown" else "",
        }
    )
