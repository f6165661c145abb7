"""Plain data shared between the modules: a named allele and its protein change.

consequence.py and protein.py fill these in; knowledge/, interpret.py, annotate.py, concordance.py
and kb_cli.py read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProteinChange:
    """One change on NP_004439.2, already 3'-shifted and named by HGVS rules.

    kind is one of: missense, synonymous, nonsense, stop_lost, start_lost, frameshift,
    inframe_deletion, inframe_insertion, duplication, delins, unknown (p.?), and codon (a
    residue with no stated change, as knowledge-base rows such as "S310" write it).
    start/end are 1-based residues of NP_004439.2 (end == start for a single residue;
    for an insertion, the two flanking residues). ref is the reference residues start..end
    (one-letter); alt is what replaces them (one-letter; '' for a deletion; the inserted
    residues for an insertion or duplication; '*' for a stop).
    """

    kind: str
    start: int
    end: int
    ref: str
    alt: str
    short: str  # e.g. "L755S", "Y772_A775dup", "G776delinsVC", "Y781Ifs*93", "L755=" (no "p.")

    def adds_residues(self) -> bool:
        """True for in-frame changes that make the protein longer (ins, dup, lengthening delins)."""
        if self.kind in ("inframe_insertion", "duplication"):
            return True
        if self.kind == "delins":
            return len(self.alt) > (self.end - self.start + 1)
        return False


@dataclass(frozen=True)
class AlleleName:
    """Everything the HGVS engine says about one ALT allele of one VCF record."""

    build: str  # GRCh37 | GRCh38
    chrom: str  # as spelled in the VCF (chr17 or 17)
    pos: int  # VCF POS of the (split) allele, as given
    ref: str  # VCF REF, upper-cased
    alt: str  # this ALT, upper-cased
    # Genomic key: trimmed and left-aligned as far as the known sequence allows, VCF-style
    # (indels keep one anchor base before the event). Same event, same key.
    key_pos: int
    key_ref: str
    key_alt: str
    variant_type: str  # snv | mnv | insertion | deletion | delins | duplication | none
    consequence: str  # Sequence Ontology terms, most severe first, joined by "&"
    hgvsg: str  # e.g. "NC_000017.11:g.39723967T>C" ("" when not nameable)
    hgvsc: str  # e.g. "NM_004448.4:c.2264T>C" ("" when not nameable)
    hgvsp: str  # e.g. "p.Leu755Ser" ("" when the allele does not touch the protein)
    hgvsp_short: str  # e.g. "p.L755S"
    exon: str = ""  # "20/27"
    intron: str = ""  # "19/26"
    domain: str = ""  # e.g. "kinase domain"
    protein: ProteinChange | None = None
    flags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def codon(self) -> int | None:
        """First residue touched, for codon-level knowledge matching."""
        return self.protein.start if self.protein else None
