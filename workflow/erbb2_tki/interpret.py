"""Per-sample, per-drug verdicts from every evidence row matched to the sample's alleles.

A tumour board needs one answer per drug with its reason, not a list of rows. The domain rules are
data (annotations/knowledge/verdict_rules.yaml, documented in docs/knowledge-base.md, "Verdicts");
this module applies them in two steps.

1. Per allele and drug. Rows are split by response into the sensitivity side, the resistance side
   (resistant, and reduced_sensitivity: it never reads as support) and neither (unclear). If the
   allele has resistance-side evidence matched on a specific basis (its own allele or codon), its
   class-level sensitivity rows for that drug are set aside (exact allele > codon > class: generic
   "oncogenic mutations respond" evidence does not outweigh evidence about this allele). The best
   row of each side is compared by tumour-type match first (same > pan-cancer/unknown > other:
   evidence in the sample's tumour type outranks evidence from other tumour types), then by level
   (A > B > C > D). Resistance stronger -> resistant; equal -> conflicting; weaker -> sensitive, and
   the reason still names the weaker resistance (never hidden). Only unclear rows -> the rules'
   unclear_only_verdict (conflicting: the sources disagree).
2. Per drug across alleles. Any allele called resistant makes the drug resistant (an acquired
   T798I overrides L869R's sensitivity to neratinib); else any conflicting -> conflicting; else any
   sensitive -> sensitive. Alleles in non-target classes (truncating) are set aside with a note.
   Drugs in the rules' always_report list with no evidence get no_evidence.

A possible ERBB2 amplification (flagged by the caller) is a different biomarker: it is noted on
every verdict, never folded into a mutation verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .model import AlleleName

if TYPE_CHECKING:
    from .knowledge import EvidenceMatch, KnowledgeBase

SENSITIVE = "sensitive"
RESISTANT = "resistant"
CONFLICTING = "conflicting"
NO_EVIDENCE = "no_evidence"
UNCLEAR = "unclear"  # an allele-level call only; never a sample verdict


@dataclass(frozen=True)
class Verdict:
    """One drug's verdict for one sample, with the evidence that decided it."""

    drug: str
    verdict: str
    evidence_level: str = ""
    tumour_type_match: str = ""
    alleles: tuple[str, ...] = ()  # hgvsp_short of the deciding alleles
    citations: str = ""
    reason: str = ""
    drug_kind: str = ""
    evidence_ids: tuple[str, ...] = ()
    match_basis: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_row(self) -> dict[str, str]:
        """The verdict-table columns (the caller adds sample and knowledge-base version)."""
        return {
            "drug": self.drug,
            "verdict": self.verdict,
            "evidence_level": self.evidence_level,
            "tumour_type_match": self.tumour_type_match,
            "alleles": ";".join(self.alleles),
            "citations": self.citations,
            "reason": self.reason,
            "drug_kind": self.drug_kind,
            "evidence_ids": ";".join(self.evidence_ids),
            "match_basis": self.match_basis,
            "notes": " | ".join(self.notes),
        }


@dataclass(frozen=True)
class _Call:
    """One allele's call for one drug."""

    allele: str  # hgvsp_short (or the protein short name when hgvsp_short is empty)
    call: str  # sensitive | resistant | conflicting | unclear
    best: EvidenceMatch  # the deciding row (for conflicting: the best resistance row)
    other: EvidenceMatch | None  # the best row of the other side, if any
    set_aside: int  # class-level sensitivity rows set aside by specific resistance


def verdicts(
    alleles: list[tuple[AlleleName, list[EvidenceMatch]]],
    tumour_type: str | None,
    kb: KnowledgeBase,
    amplification: bool = False,
) -> list[Verdict]:
    """One Verdict per drug with matched evidence, then the always-report drugs without any.

    `alleles` are the sample's alleles that may decide verdicts, each with kb.match(allele,
    tumour_type). tumour_type is only used in the reasons (the matches already carry the
    tumour-type match). Order: drugs with evidence in drugs.tsv order, then the remaining
    always-report drugs in the rules' order.
    """
    rules = kb.rules
    notes: list[str] = []
    by_drug: dict[str, dict[str, list[EvidenceMatch]]] = {}
    for allele, matches in alleles:
        label = _label(allele)
        non_target = [c for c in kb.classes_of(allele) if c in rules.non_target_classes]
        if non_target:
            notes.append(
                f"{label} is {non_target[0]}: not a drug target, its evidence is set aside"
            )
            continue
        for m in matches:
            by_drug.setdefault(m.drug, {}).setdefault(label, []).append(m)
    if amplification:
        notes.append(rules.amplification_note)

    order = {name: i for i, name in enumerate(kb.drugs)}
    result: list[Verdict] = []
    for drug in sorted(by_drug, key=lambda d: order.get(d, len(order))):
        calls = [_allele_call(label, rows, kb) for label, rows in by_drug[drug].items()]
        result.append(_combine(drug, calls, kb, tuple(notes)))
    for drug in rules.always_report:
        if drug in by_drug:
            continue
        if alleles:
            reason = (
                f"no evidence for {drug} in knowledge base {kb.version} for this sample's alleles"
            )
        else:
            reason = "no ERBB2 allele in this sample to match"
        result.append(
            Verdict(
                drug=drug,
                verdict=NO_EVIDENCE,
                reason=reason,
                drug_kind=kb.drugs[drug].kind,
                notes=tuple(notes),
            )
        )
    return result


def _label(allele: AlleleName) -> str:
    if allele.hgvsp_short:
        return allele.hgvsp_short
    if allele.protein is not None:
        return f"p.{allele.protein.short}"
    return allele.hgvsc or f"{allele.chrom}:{allele.pos}{allele.ref}>{allele.alt}"


def _side(m: EvidenceMatch, kb: KnowledgeBase) -> str:
    return kb.rules.response_side.get(m.response, "neither")


def _rank(m: EvidenceMatch, kb: KnowledgeBase) -> tuple[int, int]:
    """Tumour-type match first, then level: the comparison the rules are stated in."""
    return (
        kb.rules.tumour_type_match_rank.get(m.tumour_type_match, 0),
        kb.level_rank(m.evidence_level),
    )


def _strength(m: EvidenceMatch, kb: KnowledgeBase) -> tuple[int, int, int, int, str]:
    """_rank, then tie-breaks for choosing which row to show: basis, evidence type, id."""
    from .knowledge import BASIS_ORDER

    basis = -BASIS_ORDER.get(m.basis, 9)
    order = -kb.levels.type_order.get(m.evidence_type, 9)
    # evidence_id last, reversed so that max() picks the lowest id among equals
    return (*_rank(m, kb), basis, order, _invert(m.evidence_id))


def _invert(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text)


def _best(rows: list[EvidenceMatch], kb: KnowledgeBase) -> EvidenceMatch:
    return max(rows, key=lambda m: _strength(m, kb))


def _allele_call(label: str, rows: list[EvidenceMatch], kb: KnowledgeBase) -> _Call:
    specific = kb.rules.specific_match_bases
    resistance = [m for m in rows if _side(m, kb) == "resistance"]
    sensitivity = [m for m in rows if _side(m, kb) == "sensitivity"]
    set_aside = 0
    if any(m.basis in specific for m in resistance):
        kept = [m for m in sensitivity if m.basis in specific]
        set_aside = len(sensitivity) - len(kept)
        sensitivity = kept
    if not resistance and not sensitivity:
        return _Call(label, UNCLEAR, _best(rows, kb), None, set_aside)
    if not resistance:
        return _Call(label, SENSITIVE, _best(sensitivity, kb), None, set_aside)
    best_r = _best(resistance, kb)
    if not sensitivity:
        return _Call(label, RESISTANT, best_r, None, set_aside)
    best_s = _best(sensitivity, kb)
    r, s = _rank(best_r, kb), _rank(best_s, kb)
    if r > s:
        return _Call(label, RESISTANT, best_r, best_s, set_aside)
    if r == s:
        return _Call(label, CONFLICTING, best_r, best_s, set_aside)
    return _Call(label, SENSITIVE, best_s, best_r, set_aside)


def _combine(drug: str, calls: list[_Call], kb: KnowledgeBase, notes: tuple[str, ...]) -> Verdict:
    rules = kb.rules
    by_call: dict[str, list[_Call]] = {}
    for c in calls:
        by_call.setdefault(c.call, []).append(c)
    if RESISTANT in by_call and (rules.resistance_allele_overrides or len(by_call) == 1):
        verdict, deciding = RESISTANT, by_call[RESISTANT]
    elif RESISTANT in by_call or CONFLICTING in by_call:
        verdict = CONFLICTING
        deciding = by_call.get(CONFLICTING, []) + by_call.get(RESISTANT, [])
        if RESISTANT in by_call:
            deciding += by_call.get(SENSITIVE, [])
    elif SENSITIVE in by_call:
        verdict, deciding = SENSITIVE, by_call[SENSITIVE]
    else:
        verdict, deciding = rules.unclear_only_verdict, by_call[UNCLEAR]
    top = max(deciding, key=lambda c: _strength(c.best, kb))
    rows = [c.best for c in deciding]
    if verdict == CONFLICTING:
        rows += [c.other for c in deciding if c.other is not None]
    reason = _reason(verdict, top, deciding, calls, kb)
    return Verdict(
        drug=drug,
        verdict=verdict,
        evidence_level=top.best.evidence_level,
        tumour_type_match=top.best.tumour_type_match,
        alleles=tuple(dict.fromkeys(c.allele for c in deciding)),
        citations=";".join(
            dict.fromkeys(cit for m in rows for cit in m.citations.split(";") if cit)
        ),
        reason=reason,
        drug_kind=kb.drugs[drug].kind,
        evidence_ids=tuple(dict.fromkeys(m.evidence_id for m in rows)),
        match_basis=top.best.match_basis,
        notes=notes,
    )


def _where(m: EvidenceMatch) -> str:
    """'clinical_trial in BRCA (same_tumour_type, level B, EV0012)'."""
    place = "pan-cancer" if m.tumour_type == "pan" else f"in {m.tumour_type}"
    return (
        f"{m.response} {m.evidence_type} {place} "
        f"({m.tumour_type_match}, level {m.evidence_level}, {m.match_basis}, {m.evidence_id})"
    )


def _reason(
    verdict: str, top: _Call, deciding: list[_Call], calls: list[_Call], kb: KnowledgeBase
) -> str:
    """One line: what decided, and what was weighed against it."""
    head = f"{top.allele}: {_where(top.best)}"
    if verdict == RESISTANT:
        overridden = [c for c in calls if c.call in (SENSITIVE, CONFLICTING) and c not in deciding]
        text = head
        if top.other is not None:
            text += f"; outranks {_where(top.other)}"
        if top.set_aside:
            text += f"; {top.set_aside} class-level sensitivity row(s) set aside (allele-specific resistance)"
        if overridden:
            others = ", ".join(dict.fromkeys(c.allele for c in overridden))
            text += f"; resistance allele overrides sensitivity from {others}"
        return text
    if verdict == CONFLICTING:
        if top.call == UNCLEAR:
            return f"{top.allele}: only unclear evidence ({_where(top.best)}): sources disagree"
        if top.call == CONFLICTING and top.other is not None:
            return f"{head} vs {_where(top.other)}: equal tumour-type match and level"
        alleles = ", ".join(dict.fromkeys(c.allele for c in deciding))
        return f"alleles disagree ({alleles}): {head}"
    if verdict == SENSITIVE:
        text = head
        if top.other is not None:
            text += f"; weaker resistance evidence: {_where(top.other)}"
        return text
    return f"{top.allele}: only unclear evidence ({_where(top.best)}): sources disagree"
