"""Alleles on one haplotype that touch one codon are one amino-acid change (the in-cis merge).

Beside the naming engine (consequence.name_haplotype names the combined change): phased calls on
the same haplotype are named together and the combined allele replaces its components; unphased
calls sharing a codon keep their own names and gain a possible_in_cis flag.
"""

from __future__ import annotations

from collections import defaultdict

from ..calls import _Allele, _flag_text


def _codons(allele: _Allele) -> set[int]:
    name = allele.name
    p = name.protein if name else None
    if name is None or p is None or name.variant_type not in ("snv", "mnv"):
        return set()
    return set(range(p.start, p.end + 1))


def _codon_groups(alleles: list[_Allele]) -> list[list[_Allele]]:
    """Groups of two or more SNV/MNV alleles linked by sharing a codon."""
    candidates = sorted(
        (a for a in alleles if _codons(a)), key=lambda a: (min(_codons(a)), a.pos, a.alt)
    )
    groups: list[tuple[set[int], list[_Allele]]] = []
    for allele in candidates:
        codons = _codons(allele)
        if groups and groups[-1][0] & codons:
            groups[-1][0].update(codons)
            groups[-1][1].append(allele)
        else:
            groups.append((set(codons), [allele]))
    return [members for _, members in groups if len(members) >= 2]


def _merge_in_cis(alleles: list[_Allele], build: str) -> list[_Allele]:
    """Alleles on one haplotype that touch one codon are one amino-acid change.

    Phased calls (GT with PS, or GATK PGT/PID) on the same haplotype are named together and the
    combined allele replaces its components for matching and verdicts; unphased calls sharing a
    codon keep their own names and gain a possible_in_cis flag with the combined name.
    """
    from . import consequence

    merged: list[_Allele] = []
    for group in _codon_groups(alleles):
        haplotypes: dict[tuple[str, int], list[_Allele]] = defaultdict(list)
        unphased: list[_Allele] = []
        for allele in group:
            m = allele.metrics
            if m is not None and m.phased and m.phase_set is not None and m.haplotypes:
                for hap in m.haplotypes:
                    haplotypes[(str(m.phase_set), hap)].append(allele)
            else:
                unphased.append(allele)
        for members in (haplotypes[key] for key in sorted(haplotypes)):
            if len(members) < 2 or len({a.pos for a in members}) < len(members):
                continue
            name = consequence.name_haplotype(
                build, members[0].chrom, [(a.pos, a.ref, a.alt) for a in members]
            )
            combined = _Allele(
                record_index=members[0].record_index,
                alt_index=members[0].alt_index,
                chrom=members[0].chrom,
                pos=name.key_pos,
                ref=name.key_ref,
                alt=name.key_alt,
                filter=_combined_filter(members),
                name=name,
                metrics=members[0].metrics,
                flags=["merged_in_cis:" + "+".join(_short_key(a) for a in members)],
                components=list(members),
            )
            for a in members:
                a.merged_into = combined
                a.flags.append(f"in_cis_merged_as:{_flag_text(name.hgvsp_short)}")
            merged.append(combined)
        # Two ALTs at one position cannot both be on one haplotype: no combined name then.
        if unphased and len({a.pos for a in group}) == len(group):
            name = consequence.name_haplotype(
                build, group[0].chrom, [(a.pos, a.ref, a.alt) for a in group]
            )
            for a in unphased:
                a.flags.append(f"possible_in_cis:{_flag_text(name.hgvsp_short)}")
    return merged


def _combined_filter(members: list[_Allele]) -> str:
    filters = sorted({a.filter for a in members})
    return (
        filters[0] if len(filters) == 1 else ";".join(f for f in filters if f != "PASS") or "PASS"
    )


def _short_key(allele: _Allele) -> str:
    return f"{allele.pos}{allele.ref}>{allele.alt}"
