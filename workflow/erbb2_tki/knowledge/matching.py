"""The knowledge base in memory: its records, and matching alleles to evidence.

Matching (exact allele > codon > class): every evidence row that applies to an allele is returned,
with match_basis saying why ("allele", "codon" or "class:<name>"), ordered by that precedence and
then by evidence level. Allele rows match on the HGVS-normalised protein change, so
A775_G776insYVMA, E770_A771insAYVM and Y772_A775dup are one entry. A codon row (e.g. "S310")
matches a missense change of that residue, or an in-frame deletion/delins that covers it; it never
matches a synonymous, truncating or insertion allele. Class membership is computed from the
protein change (classes.tsv). The interpretation of matches into verdicts lives in interpret.py.

oncogenicity(allele) is one of: "oncogenic" (member of the class oncogenic), "truncating"
(nonsense or frameshift: loss of function, not a TKI target), "likely_neutral" (synonymous), or
"unknown" (anything else, including alleles outside the protein: they are not assessed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..naming.model import AlleleName, ProteinChange
from .files import (
    DATA_FILES,
    DRUGS_FILE,
    EVIDENCE_FILE,
    METADATA_FILE,
)
from .hashes import file_sha256
from .oncotree import OncoTree

TKI_KINDS = ("tki_reversible", "tki_irreversible")
BASIS_ORDER = {"allele": 0, "codon": 1, "class": 2}
# Protein change kinds a codon row matches (see module docstring).
CODON_KINDS = ("missense", "inframe_deletion", "delins")
# Secondary citations (a curated database's record of a primary source): CIViC:EIDn.
SECONDARY_CITATION_PREFIX = "CIViC:"
ALL_CONTEXTS = ("same_tumour_type", "pan_cancer", "subtype", "other_tumour_type", "unknown")
ONCOGENIC_CLASS = "oncogenic"
TRUNCATING_CLASS = "truncating"
REQUIRED_CLASSES = (ONCOGENIC_CLASS, TRUNCATING_CLASS)


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Drug:
    """One row of drugs.tsv."""

    name: str
    kind: str
    components: tuple[str, ...]
    synonyms: tuple[str, ...]
    brand_names: tuple[str, ...]
    regulatory_status: str
    regulatory_note: str
    source: str
    contains_tki: bool
    line: int = 0


@dataclass(frozen=True)
class AlleleClass:
    """One row of classes.tsv."""

    name: str
    rule: str
    residue_start: int | None
    residue_end: int | None
    kinds: tuple[str, ...]
    alleles: tuple[ProteinChange, ...]
    includes: tuple[str, ...]
    from_evidence: tuple[str, ...]
    exclude_kinds: tuple[str, ...]
    definition: str
    source: str
    within: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class EvidenceRow:
    """One row of evidence.tsv, with its level and (for allele/codon rows) its protein change."""

    evidence_id: str
    alteration: str
    alteration_kind: str
    drug: str
    response: str
    evidence_type: str
    evidence_level: str
    tumour_type: str
    citations: str
    note: str
    protein: ProteinChange | None = None  # allele and codon rows
    line: int = 0

    def fields(self) -> dict[str, str]:
        """The curated fields, as in the table (for kb diff)."""
        return {
            "alteration": self.alteration,
            "alteration_kind": self.alteration_kind,
            "drug": self.drug,
            "response": self.response,
            "evidence_type": self.evidence_type,
            "tumour_type": self.tumour_type,
            "citations": self.citations,
            "note": self.note,
        }


@dataclass(frozen=True)
class EvidenceMatch:
    """One evidence row as it applies to one allele in one sample's tumour-type context."""

    evidence_id: str
    alteration: str
    alteration_kind: str
    drug: str
    drug_kind: str
    response: str
    evidence_level: str
    evidence_type: str
    tumour_type: str
    tumour_type_match: str
    match_basis: str
    citations: str
    note: str

    @property
    def basis(self) -> str:
        """allele | codon | class (match_basis without the class name)."""
        return self.match_basis.split(":", 1)[0]

    def as_row(self) -> dict[str, str]:
        """The tki.tsv columns (the caller adds sample and hgvsp_short in front)."""
        return {
            "drug": self.drug,
            "response": self.response,
            "evidence_level": self.evidence_level,
            "evidence_type": self.evidence_type,
            "tumour_type": self.tumour_type,
            "tumour_type_match": self.tumour_type_match,
            "match_basis": self.match_basis,
            "citations": self.citations,
            "note": self.note,
            "evidence_id": self.evidence_id,
            "alteration": self.alteration,
            "drug_kind": self.drug_kind,
            "alteration_kind": self.alteration_kind,
        }


@dataclass(frozen=True)
class GermlinePolymorphism:
    """One row of germline.tsv: a common constitutional ERBB2 polymorphism."""

    alteration: str
    rsid: str
    citations: str
    note: str
    protein: ProteinChange
    line: int = 0


@dataclass(frozen=True)
class Levels:
    """levels.yaml: the A-D scale and the level of each evidence type."""

    rank: dict[str, int]
    meaning: dict[str, str]
    type_level: dict[str, str]
    type_order: dict[str, int]
    # evidence_type -> {"amp"|"oncokb_sensitive"|"oncokb_resistant": {context: level}}
    context_levels: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def in_context(self, evidence_type: str, context: str, response: str) -> tuple[str, str, str]:
        """(AMP/ASCO/CAP level, AMP tier, OncoKB level) of a row for this sample (levels.yaml,
        "in_context"). OncoKB has no level for reduced_sensitivity, no_benefit or unclear rows."""
        cells = self.context_levels.get(evidence_type)
        if cells is None:  # a version without levels in context (before 1.1.0)
            return "", "", ""
        amp = cells["amp"][context]
        if response == "sensitive":
            oncokb = cells["oncokb_sensitive"][context]
        elif response == "resistant":
            oncokb = cells["oncokb_resistant"][context]
        else:
            oncokb = ""
        return amp, amp_tier(amp), oncokb


def amp_tier(level: str) -> str:
    """AMP/ASCO/CAP 2017 tier of a level: I for A/B, II for C/D, "" for none."""
    return {"A": "I", "B": "I", "C": "II", "D": "II"}.get(level, "")


@dataclass(frozen=True)
class VerdictRules:
    """verdict_rules.yaml, as read (see docs/knowledge-base.md, "Verdicts")."""

    verdicts: tuple[str, ...]
    response_side: dict[str, str]
    unclear_only_verdict: str
    tumour_type_match_rank: dict[str, int]
    specific_match_bases: tuple[str, ...]
    resistance_allele_overrides: bool
    non_target_classes: tuple[str, ...]
    always_report: tuple[str, ...]
    amplification_note: str
    resistance_contexts: tuple[str, ...] = ()
    component_resistance_cap: str = ""  # "": no carry-over (versions before 1.1.0)
    # (protein change, citations, note) of the known TKI-resistance alleles
    tki_resistance_alleles: tuple[tuple[ProteinChange, str, str], ...] = ()
    resistance_allele_warning_kinds: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------
# The knowledge base


def allele_key(pc: ProteinChange) -> tuple[Any, ...]:
    """What makes two protein changes the same allele (a frameshift by its first residue only,
    because sources often leave out the length of the new frame)."""
    if pc.kind == "frameshift":
        return ("frameshift", pc.start)
    return (pc.kind, pc.start, pc.end, pc.alt)


@dataclass
class KnowledgeBase:
    """A loaded, validated knowledge base. Build it with load_knowledge()."""

    directory: Path
    version: str
    release_date: str
    content_hash: str
    metadata: dict[str, Any]
    drugs: dict[str, Drug]
    evidence: tuple[EvidenceRow, ...]
    classes: dict[str, AlleleClass]
    oncotree: OncoTree
    levels: Levels
    rules: VerdictRules
    protein: str
    file_hashes: dict[str, str] = field(default_factory=dict)
    germline: tuple[GermlinePolymorphism, ...] = ()
    _by_allele: dict[tuple[Any, ...], list[EvidenceRow]] = field(default_factory=dict, repr=False)
    _by_codon: dict[int, list[EvidenceRow]] = field(default_factory=dict, repr=False)
    _by_class: dict[str, list[EvidenceRow]] = field(default_factory=dict, repr=False)
    _class_keys: dict[str, set[tuple[Any, ...]]] = field(default_factory=dict, repr=False)
    _synonyms: dict[str, str] = field(default_factory=dict, repr=False)
    _view_base: str | None = field(default=None, repr=False, compare=False)
    _view_memo: dict[tuple[Any, ...], bytes] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for row in self.evidence:
            if row.alteration_kind == "allele" and row.protein is not None:
                self._by_allele.setdefault(allele_key(row.protein), []).append(row)
            elif row.alteration_kind == "codon" and row.protein is not None:
                self._by_codon.setdefault(row.protein.start, []).append(row)
            else:
                self._by_class.setdefault(row.alteration, []).append(row)
        for cls in self.classes.values():
            keys = {allele_key(pc) for pc in cls.alleles}
            if cls.from_evidence:
                for row in self.evidence:
                    if (
                        row.alteration_kind == "allele"
                        and row.protein is not None
                        and row.response in cls.from_evidence
                        and self.drugs[row.drug].contains_tki
                    ):
                        keys.add(allele_key(row.protein))
            self._class_keys[cls.name] = keys
        for drug in self.drugs.values():
            for name in (drug.name, *drug.synonyms, *drug.brand_names):
                self._synonyms[name.lower()] = drug.name

    # -- summaries ---------------------------------------------------------------------------
    @property
    def alleles(self) -> list[ProteinChange]:
        """The distinct alleles named by allele-level evidence rows (equivalent spellings once)."""
        seen: dict[tuple[Any, ...], ProteinChange] = {}
        for row in self.evidence:
            if row.alteration_kind == "allele" and row.protein is not None:
                seen.setdefault(allele_key(row.protein), row.protein)
        return sorted(seen.values(), key=lambda pc: (pc.start, pc.end, pc.short))

    @property
    def codons(self) -> list[int]:
        return sorted(self._by_codon)

    def drug(self, name: str) -> Drug:
        """A drug by generic name, synonym or brand name (case-insensitive); InputError if unknown."""
        generic = self._synonyms.get(name.strip().lower())
        if generic is None:
            raise InputError(
                f"unknown drug {name!r}",
                path=str(self.directory / DRUGS_FILE),
                field="drug",
                fix="use a generic name, synonym or brand name listed in drugs.tsv",
            )
        return self.drugs[generic]

    def germline_polymorphism(self, pc: ProteinChange | None) -> GermlinePolymorphism | None:
        """The germline.tsv row for this protein change (any HGVS spelling), or None."""
        if pc is None:
            return None
        key = allele_key(pc)
        for row in self.germline:
            if allele_key(row.protein) == key:
                return row
        return None

    def level_rank(self, level: str) -> int:
        return self.levels.rank.get(level, 0)

    def resolve_tumour_type(self, tumour_type: str | None) -> str | None:
        """The OncoTree code for a sample's tumour type (None or "" stays None)."""
        if tumour_type is None or not str(tumour_type).strip():
            return None
        return self.oncotree.resolve(str(tumour_type))

    def canonical(self, text: str) -> ProteinChange:
        """A protein change written any HGVS way, normalised on NP_004439.2 (ValueError if wrong)."""
        from ..naming.protein import canonical_protein_change

        return canonical_protein_change(text, self.protein)

    # -- classes -----------------------------------------------------------------------------
    def classes_of(self, allele: AlleleName) -> list[str]:
        """The classes an allele belongs to, in classes.tsv order."""
        return self.classes_of_protein(allele.protein)

    def classes_of_protein(self, pc: ProteinChange | None) -> list[str]:
        if pc is None:
            return []
        memo: dict[str, bool] = {}
        return [name for name in self.classes if self._member(name, pc, memo)]

    def _member(self, name: str, pc: ProteinChange, memo: dict[str, bool]) -> bool:
        if name in memo:
            return memo[name]
        memo[name] = False  # includes form no cycle (checked on load); this guards anyway
        cls = self.classes[name]
        if pc.kind in cls.exclude_kinds:
            return False
        result = allele_key(pc) in self._class_keys[name]
        if not result and cls.rule == "adds_residues":
            result = (
                pc.adds_residues()
                and cls.residue_start is not None
                and cls.residue_end is not None
                and cls.residue_start <= pc.start <= cls.residue_end
            )
        if not result and cls.rule == "protein_kinds":
            result = pc.kind in cls.kinds
        if not result and cls.rule == "in_range":
            result = (
                pc.kind in cls.kinds
                and cls.residue_start is not None
                and cls.residue_end is not None
                and cls.residue_start <= pc.start <= cls.residue_end
            )
        if not result:
            result = any(self._member(inc, pc, memo) for inc in cls.includes)
        if result and cls.within:
            result = all(self._member(other, pc, memo) for other in cls.within)
        memo[name] = result
        return result

    def oncogenicity(self, allele: AlleleName) -> str:
        """oncogenic | truncating | likely_neutral | unknown (see module docstring)."""
        return self.oncogenicity_of_protein(allele.protein)

    def oncogenicity_of_protein(self, pc: ProteinChange | None) -> str:
        if pc is None:
            return "unknown"
        classes = self.classes_of_protein(pc)
        if TRUNCATING_CLASS in classes:
            return "truncating"
        if ONCOGENIC_CLASS in classes:
            return "oncogenic"
        if pc.kind == "synonymous":
            return "likely_neutral"
        return "unknown"

    # -- what a sample's answer depends on (re-analysis) --------------------------------------
    def view_digest(self, alleles: Sequence[AlleleName], tumour_type: str | None) -> str:
        """A digest of everything in this knowledge base that one sample's annotation reads.

        Two knowledge-base versions give the same digest for a sample's named alleles and tumour
        type only if annotating it under either gives the same tables (the version stamp aside),
        so a re-run after a knowledge-base update may keep that sample's outputs (pipeline.py).
        What a sample reads: for each allele, every evidence row that matches it (allele, codon
        and class rows, with the tumour-type match and the basis), its classes and its
        oncogenicity, asked through the same methods annotate and interpret use; and, whole,
        every knowledge-base file other than evidence.tsv and metadata.yaml (drugs, classes,
        levels, verdict rules, OncoTree and any file added later: a change to one of them
        touches every sample), plus the evidence rows no allele/codon/class match can reach
        (their use is not per allele, so a change to one touches every sample too).
        """
        digest = hashlib.sha256(self._view_base_digest().encode())
        digest.update(f"\ntumour_type\t{tumour_type or ''}\n".encode())
        for name in alleles:
            key = (name, tumour_type)
            text = self._view_memo.get(key)
            if text is None:  # a batch's samples share most alleles: ask once per job
                seen = (
                    name,
                    self.classes_of(name),
                    self.oncogenicity(name),
                    self.match(name, tumour_type),
                )
                text = self._view_memo[key] = repr(seen).encode() + b"\n"
            digest.update(text)
        return digest.hexdigest()

    def _view_base_digest(self) -> str:
        if self._view_base is None:
            digest = hashlib.sha256(b"erbb2-tki kb view 1\n")
            names = {p.name for p in self.directory.iterdir() if p.is_file()} | set(DATA_FILES)
            for name in sorted(names - {EVIDENCE_FILE, METADATA_FILE}):
                path = self.directory / name
                sha = self.file_hashes.get(name) or (file_sha256(path) if path.is_file() else "-")
                digest.update(f"{name}\t{sha}\n".encode())
            for row in self.evidence:
                if row.alteration_kind in ("allele", "codon") and row.protein is not None:
                    continue
                if row.alteration_kind == "class" and row.alteration in self.classes:
                    continue
                digest.update(repr(replace(row, line=0)).encode() + b"\n")
            self._view_base = digest.hexdigest()
        return self._view_base

    # -- matching ----------------------------------------------------------------------------
    def match(self, allele: AlleleName, tumour_type: str | None) -> list[EvidenceMatch]:
        """Every evidence row that applies to the allele, exact allele > codon > class."""
        return self.match_protein(allele.protein, tumour_type)

    def match_protein(
        self, pc: ProteinChange | None, tumour_type: str | None
    ) -> list[EvidenceMatch]:
        sample_code = self.resolve_tumour_type(tumour_type)
        if pc is None:
            return []
        found: list[tuple[EvidenceRow, str]] = []
        for row in self._by_allele.get(allele_key(pc), []):
            found.append((row, "allele"))
        if pc.kind in CODON_KINDS:
            for codon in range(pc.start, pc.end + 1):
                for row in self._by_codon.get(codon, []):
                    found.append((row, "codon"))
        for name in self.classes_of_protein(pc):
            for row in self._by_class.get(name, []):
                found.append((row, f"class:{name}"))
        found.sort(
            key=lambda item: (
                BASIS_ORDER[item[1].split(":", 1)[0]],
                -self.level_rank(item[0].evidence_level),
                item[0].evidence_id,
            )
        )
        return [self.evidence_match(row, sample_code, basis) for row, basis in found]

    def evidence_match(
        self, row: EvidenceRow, sample_code: str | None, basis: str | None = None
    ) -> EvidenceMatch:
        """One evidence row as seen from a sample: its tumour-type match and the basis of the match
        (by default the row's own kind: allele, codon or class:NAME)."""
        if basis is None:
            basis = row.alteration_kind
            if basis == "class":
                basis = f"class:{row.alteration}"
        return EvidenceMatch(
            evidence_id=row.evidence_id,
            alteration=row.alteration,
            alteration_kind=row.alteration_kind,
            drug=row.drug,
            drug_kind=self.drugs[row.drug].kind,
            response=row.response,
            evidence_level=row.evidence_level,
            evidence_type=row.evidence_type,
            tumour_type=row.tumour_type,
            tumour_type_match=self.oncotree.match(sample_code, row.tumour_type),
            match_basis=basis,
            citations=row.citations,
            note=row.note,
        )


def touched(old: KnowledgeBase, new: KnowledgeBase) -> dict[str, list[str]]:
    """What a new knowledge-base version can change, for `kb diff` and re-analysis.

    Returns {"every_sample": [reasons], "alleles": [...], "codons": [...], "classes": [...]}:
    the alleles, codons and classes named by evidence rows added, removed or changed (both the
    old and the new side of a changed row), and the classes whose members changed. A changed file
    other than evidence.tsv (drugs, classes, levels, verdict rules, OncoTree, any later file) or an
    evidence row that is not an allele, codon or class row touches every sample. A sample none of
    whose alleles is one of these alleles, at one of these codons or in one of these classes reads
    the same from both versions (KnowledgeBase.view_digest, which re-analysis uses, is exact).
    """
    every: list[str] = []
    names = set(old.file_hashes) | set(new.file_hashes)
    for name in sorted(names - {EVIDENCE_FILE, METADATA_FILE}):
        if old.file_hashes.get(name) != new.file_hashes.get(name):
            every.append(f"{name} changed")
    before = {row.evidence_id: row for row in old.evidence}
    after = {row.evidence_id: row for row in new.evidence}
    alleles: set[str] = set()
    codons: set[str] = set()
    classes: set[str] = set()
    for eid in sorted(set(before) | set(after)):
        old_row, new_row = before.get(eid), after.get(eid)
        pair = (old_row, new_row)
        if (
            old_row is not None
            and new_row is not None
            and replace(old_row, line=0) == replace(new_row, line=0)
        ):
            continue  # the same row, perhaps on another line
        for row in pair:
            if row is None:
                continue
            if row.alteration_kind == "allele" and row.protein is not None:
                alleles.add(row.protein.short)
            elif row.alteration_kind == "codon" and row.protein is not None:
                codons.add(row.alteration)
            elif row.alteration_kind == "class":
                classes.add(row.alteration)
            else:
                every.append(f"evidence row {eid} ({row.alteration_kind} {row.alteration})")
    for name in sorted(set(old._class_keys) | set(new._class_keys)):
        if old._class_keys.get(name) != new._class_keys.get(name):
            classes.add(name)
    return {
        "every_sample": every,
        "alleles": sorted(alleles),
        "codons": sorted(codons, key=lambda c: (int("".join(filter(str.isdigit, c)) or 0), c)),
        "classes": sorted(classes),
    }
