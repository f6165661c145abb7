"""Per-sample, per-drug verdicts from every evidence row matched to the sample's alleles.

A tumour board needs one answer per drug with its reason and its strength in this patient's
context, not a list of rows. The domain rules are data (annotations/knowledge/verdict_rules.yaml
and levels.yaml, documented in docs/knowledge-base.md, "Verdicts" and "Levels in context"); this
module applies them.

1. Per allele and drug. Rows are split by response into the sensitivity side (sensitive), the
   limited side (reduced_sensitivity, no_benefit), the resistance side (resistant) and neither
   (unclear). Rows against the drug (resistance or limited side) whose context is not one of the
   rules' resistance_contexts (another tumour type, a narrower subtype) are set aside: they never
   make the drug resistant or reduced_sensitivity, only add a note and the warning
   other_tumour_resistance. If the allele has limited- or resistance-side
   evidence matched on a specific basis (its own allele or codon), its class-level sensitivity
   rows for the drug are set aside (exact allele > codon > class). The best "for" row and the best
   "against" row (limited or resistance) are compared by context first (same > pan-cancer/unknown
   > subtype/other), then by level (A > B > C > D). Against stronger -> resistant when that row is
   resistant, else reduced_sensitivity; equal -> conflicting; weaker -> sensitive, the reason still
   naming the weaker evidence. A class-level row that beats allele-level evidence of the other side
   says so (warning class_outranks_allele). Set-aside other-tumour resistance at least as strong as
   the winning sensitivity makes the call conflicting; alone it leaves the drug no_evidence.
2. Per drug across alleles. Any allele called resistant makes the drug resistant (an acquired
   T798I overrides L869R's sensitivity to neratinib); else any conflicting, or alleles that
   disagree, -> conflicting; else reduced_sensitivity; else sensitive. Alleles in non-target
   classes (truncating) are set aside with a note. Drugs in always_report without evidence get
   no_evidence.
3. Across drugs. A combination containing a drug the sample is resistant to on allele- or
   codon-level evidence (T798I -> neratinib) is at best the rules' component_resistance_cap (warning component_resistant). Every verdict for a drug of the rules'
   resistance_allele_warning_kinds (TKIs, ADCs, combinations containing one) gets resistance_allele:p.X for each known TKI-resistance allele of the sample
   (tki_resistance_alleles) the verdict has no allele- or codon-level evidence about.

Each verdict carries its level in the sample's context (level_in_context, amp_tier,
oncokb_level: levels.yaml "in_context") and the deciding row's context and own level.
A possible ERBB2 amplification (flagged by the caller) is a different biomarker: it is noted on
every verdict, never folded into a mutation verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..naming.model import AlleleName

if TYPE_CHECKING:
    from . import EvidenceMatch, KnowledgeBase

SENSITIVE = "sensitive"
REDUCED = "reduced_sensitivity"
RESISTANT = "resistant"
CONFLICTING = "conflicting"
NO_EVIDENCE = "no_evidence"
VERDICTS = (SENSITIVE, REDUCED, RESISTANT, CONFLICTING, NO_EVIDENCE)
UNCLEAR = "unclear"  # an allele-level call only; never a sample verdict
ASIDE = "set_aside"  # an allele-level call only: nothing but other-tumour resistance
CONTEXTS = ("same_tumour_type", "pan_cancer", "subtype", "other_tumour_type", "unknown")

# Warning codes (documented in README.md, "Warnings").
W_OTHER_TUMOUR_RESISTANCE = "other_tumour_resistance"
W_CLASS_OUTRANKS_ALLELE = "class_outranks_allele"
W_COMPONENT_RESISTANT = "component_resistant"
W_RESISTANCE_ALLELE = "resistance_allele"
W_NON_TARGET = "non_target_allele"
W_AMPLIFICATION = "possible_amplification"
W_NO_TUMOUR_TYPE = "no_tumour_type"
WARNING_CODES = (
    W_OTHER_TUMOUR_RESISTANCE,
    W_CLASS_OUTRANKS_ALLELE,
    W_COMPONENT_RESISTANT,
    W_RESISTANCE_ALLELE,
    W_NON_TARGET,
    W_AMPLIFICATION,
    W_NO_TUMOUR_TYPE,
)


@dataclass(frozen=True)
class Verdict:
    """One drug's verdict for one sample, with the evidence that decided it."""

    drug: str
    verdict: str
    evidence_level: str = ""
    tumour_type_match: str = ""  # the deciding row's context
    alleles: tuple[str, ...] = ()  # hgvsp_short of the deciding alleles
    citations: str = ""
    reason: str = ""
    drug_kind: str = ""
    evidence_ids: tuple[str, ...] = ()
    match_basis: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    level_in_context: str = ""
    amp_tier: str = ""
    oncokb_level: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def context(self) -> str:
        return self.tumour_type_match

    def as_row(self) -> dict[str, str]:
        """The verdicts.tsv columns in the contract's order (the caller adds sample, kb_version
        and kb_hash), then match_basis and notes."""
        return {
            "drug": self.drug,
            "drug_kind": self.drug_kind,
            "verdict": self.verdict,
            "level_in_context": self.level_in_context,
            "amp_tier": self.amp_tier,
            "oncokb_level": self.oncokb_level,
            "context": self.tumour_type_match,
            "evidence_level": self.evidence_level,
            "alleles": ";".join(self.alleles),
            "warnings": ";".join(self.warnings),
            "reason": self.reason,
            "citations": self.citations,
            "evidence_ids": ";".join(self.evidence_ids),
            "match_basis": self.match_basis,
            "notes": " | ".join(self.notes),
        }


@dataclass(frozen=True)
class _Call:
    """One allele's call for one drug."""

    allele: str  # hgvsp_short (or the protein short name when hgvsp_short is empty)
    call: str  # sensitive | reduced_sensitivity | resistant | conflicting | unclear | set_aside
    best: EvidenceMatch | None  # the deciding row (for conflicting: the best against row)
    other: EvidenceMatch | None  # the best row of the other side, if any
    set_aside: int  # class-level sensitivity rows set aside by specific evidence against
    aside: tuple[EvidenceMatch, ...] = ()  # against-the-drug rows outside resistance_contexts
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def verdicts(
    alleles: list[tuple[AlleleName, list[EvidenceMatch]]],
    tumour_type: str | None,
    kb: KnowledgeBase,
    amplification: bool = False,
) -> list[Verdict]:
    """One Verdict per drug with matched evidence, then the always-report drugs without any.

    `alleles` are the sample's alleles that may decide verdicts, each with kb.match(allele,
    tumour_type). tumour_type is only used in the reasons (the matches already carry the
    context). Order: drugs with evidence in drugs.tsv order, then the remaining always-report
    drugs in the rules' order.
    """
    rules = kb.rules
    notes: list[str] = []
    warnings: list[str] = []
    by_drug: dict[str, dict[str, list[EvidenceMatch]]] = {}
    labels: list[tuple[str, AlleleName]] = []
    for allele, matches in alleles:
        label = _label(allele)
        non_target = [c for c in kb.classes_of(allele) if c in rules.non_target_classes]
        if non_target:
            notes.append(
                f"{label} is {non_target[0]}: not a drug target, its evidence is set aside"
            )
            warnings.append(f"{W_NON_TARGET}:{label}")
            continue
        labels.append((label, allele))
        for m in matches:
            by_drug.setdefault(m.drug, {}).setdefault(label, []).append(m)
    if amplification:
        notes.append(rules.amplification_note)
        warnings.append(W_AMPLIFICATION)
    if alleles and not tumour_type:
        warnings.append(W_NO_TUMOUR_TYPE)

    order = {name: i for i, name in enumerate(kb.drugs)}
    result: list[Verdict] = []
    for drug in sorted(by_drug, key=lambda d: order.get(d, len(order))):
        calls = [_allele_call(label, rows, kb) for label, rows in by_drug[drug].items()]
        result.append(_combine(drug, calls, kb, tuple(notes), tuple(warnings)))
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
                warnings=tuple(warnings),
            )
        )
    result = _carry_component_resistance(result, kb)
    return _flag_resistance_alleles(result, labels, by_drug, kb)


def _label(allele: AlleleName) -> str:
    if allele.hgvsp_short:
        return allele.hgvsp_short
    if allele.protein is not None:
        return f"p.{allele.protein.short}"
    return allele.hgvsc or f"{allele.chrom}:{allele.pos}{allele.ref}>{allele.alt}"


def _side(m: EvidenceMatch, kb: KnowledgeBase) -> str:
    return kb.rules.response_side.get(m.response, "neither")


def _rank(m: EvidenceMatch, kb: KnowledgeBase) -> tuple[int, int]:
    """Context first, then level: the comparison the rules are stated in."""
    return (
        kb.rules.tumour_type_match_rank.get(m.tumour_type_match, 0),
        kb.level_rank(m.evidence_level),
    )


def _strength(m: EvidenceMatch, kb: KnowledgeBase) -> tuple[int, int, int, int, str]:
    """_rank, then tie-breaks for choosing which row to show: basis, evidence type, id."""
    from . import BASIS_ORDER

    basis = -BASIS_ORDER.get(m.basis, 9)
    order = -kb.levels.type_order.get(m.evidence_type, 9)
    # evidence_id last, reversed so that max() picks the lowest id among equals
    return (*_rank(m, kb), basis, order, _invert(m.evidence_id))


def _invert(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text)


def _best(rows: list[EvidenceMatch], kb: KnowledgeBase) -> EvidenceMatch:
    return max(rows, key=lambda m: _strength(m, kb))


def _allele_call(label: str, rows: list[EvidenceMatch], kb: KnowledgeBase) -> _Call:
    rules = kb.rules
    specific = rules.specific_match_bases
    aside = [
        m
        for m in rows
        if _side(m, kb) in ("limited", "resistance")
        and m.tumour_type_match not in rules.resistance_contexts
    ]
    against = [m for m in rows if _side(m, kb) in ("limited", "resistance") and m not in aside]
    sensitivity = [m for m in rows if _side(m, kb) == "sensitivity"]
    warnings: list[str] = []
    notes: list[str] = []
    if aside:
        places = ",".join(dict.fromkeys(m.tumour_type for m in aside))
        warnings.append(f"{W_OTHER_TUMOUR_RESISTANCE}:{places}")
        why = (
            "the sample's tumour type is not given"
            if all(m.tumour_type_match == "unknown" for m in aside)
            else "another tumour type"
        )
        notes.append(
            f"{label}: evidence against the drug (resistance or limited benefit) reported only in "
            f"{places} ({why}), not applied to this "
            f"sample: " + "; ".join(_where(m) for m in aside)
        )
    set_aside = 0
    removed: list[EvidenceMatch] = []
    if any(m.basis in specific for m in (*against, *aside)):
        kept = [m for m in sensitivity if m.basis in specific]
        removed = [m for m in sensitivity if m.basis not in specific]
        set_aside = len(removed)
        sensitivity = kept
    extra: dict[str, Any] = {
        "aside": tuple(aside),
        "warnings": tuple(warnings),
        "notes": tuple(notes),
    }
    if not against and not sensitivity:
        if removed and aside:
            # allele-specific resistance seen in another tumour type vs class-level sensitivity
            # here: neither may decide alone
            return _Call(label, CONFLICTING, _best(aside, kb), _best(removed, kb), 0, **extra)
        unclear = [m for m in rows if _side(m, kb) == "neither"]
        if unclear:
            return _Call(label, UNCLEAR, _best(unclear, kb), None, set_aside, **extra)
        return _Call(label, ASIDE, None, None, set_aside, **extra)
    if not against:
        best_s = _best(sensitivity, kb)
        if aside and _rank(_best(aside, kb), kb) >= _rank(best_s, kb):
            # other-tumour resistance as strong as the (equally remote) sensitivity evidence
            return _Call(label, CONFLICTING, _best(aside, kb), best_s, set_aside, **extra)
        return _Call(label, SENSITIVE, best_s, None, set_aside, **extra)
    best_a = _best(against, kb)
    against_call = RESISTANT if _side(best_a, kb) == "resistance" else REDUCED
    if not sensitivity:
        return _Call(label, against_call, best_a, None, set_aside, **extra)
    best_s = _best(sensitivity, kb)
    r, s = _rank(best_a, kb), _rank(best_s, kb)
    if r == s:
        return _Call(label, CONFLICTING, best_a, best_s, set_aside, **extra)
    winner, losers = (best_a, sensitivity) if r > s else (best_s, against)
    call = against_call if r > s else SENSITIVE
    loser_best = best_s if r > s else best_a
    if winner.basis == "class":
        beaten = [m for m in losers if m.basis in specific]
        if beaten:
            warnings.append(f"{W_CLASS_OUTRANKS_ALLELE}:{label}")
            b = _best(beaten, kb)
            notes.append(
                f"{label}: class-level {winner.response} evidence ({_where(winner)}) outranks "
                f"{b.basis}-level {b.response} evidence ({_where(b)}): its tumour-type context "
                "or level is stronger"
            )
            extra["warnings"] = tuple(warnings)
            extra["notes"] = tuple(notes)
    return _Call(label, call, winner, loser_best, set_aside, **extra)


def _combine(
    drug: str,
    calls: list[_Call],
    kb: KnowledgeBase,
    notes: tuple[str, ...],
    warnings: tuple[str, ...],
) -> Verdict:
    rules = kb.rules
    by_call: dict[str, list[_Call]] = {}
    for c in calls:
        by_call.setdefault(c.call, []).append(c)
    all_warnings = _merge_warnings((*warnings, *(w for c in calls for w in c.warnings)))
    all_notes = tuple(dict.fromkeys((*(n for c in calls for n in c.notes), *notes)))
    kind = kb.drugs[drug].kind
    if set(by_call) == {ASIDE}:
        aside = [m for c in calls for m in c.aside]
        return Verdict(
            drug=drug,
            verdict=NO_EVIDENCE,
            reason=(
                "only evidence against the drug (resistance or limited benefit) from other "
                "tumour types (or, without a tumour type, from tumour types the sample is not "
                "known to have), not applied to this sample: "
                + "; ".join(f"{c.allele}: " + ", ".join(_where(m) for m in c.aside) for c in calls)
            ),
            drug_kind=kind,
            alleles=tuple(dict.fromkeys(c.allele for c in calls)),
            citations=_citations(aside),
            evidence_ids=tuple(dict.fromkeys(m.evidence_id for m in aside)),
            notes=all_notes,
            warnings=all_warnings,
        )
    if RESISTANT in by_call and (rules.resistance_allele_overrides or len(by_call) == 1):
        verdict, deciding = RESISTANT, by_call[RESISTANT]
    elif (
        RESISTANT in by_call
        or CONFLICTING in by_call
        or (SENSITIVE in by_call and REDUCED in by_call)
    ):
        verdict = CONFLICTING
        deciding = by_call.get(CONFLICTING, []) + by_call.get(RESISTANT, [])
        deciding += by_call.get(REDUCED, []) + by_call.get(SENSITIVE, [])
    elif REDUCED in by_call:
        verdict, deciding = REDUCED, by_call[REDUCED]
    elif SENSITIVE in by_call:
        verdict, deciding = SENSITIVE, by_call[SENSITIVE]
    else:
        verdict, deciding = rules.unclear_only_verdict, by_call[UNCLEAR]
    top = max(deciding, key=lambda c: _strength(c.best, kb))  # type: ignore[arg-type]
    assert top.best is not None
    rows = [c.best for c in deciding if c.best is not None]
    if verdict == CONFLICTING:
        rows += [c.other for c in deciding if c.other is not None]
    reason = _reason(verdict, top, deciding, calls, kb)
    level, tier, oncokb = kb.levels.in_context(
        top.best.evidence_type, top.best.tumour_type_match, top.best.response
    )
    return Verdict(
        drug=drug,
        verdict=verdict,
        evidence_level=top.best.evidence_level,
        tumour_type_match=top.best.tumour_type_match,
        alleles=tuple(dict.fromkeys(c.allele for c in deciding)),
        citations=_citations(rows),
        reason=reason,
        drug_kind=kind,
        evidence_ids=tuple(dict.fromkeys(m.evidence_id for m in rows)),
        match_basis=top.best.match_basis,
        notes=all_notes,
        level_in_context=level,
        amp_tier=tier,
        oncokb_level=oncokb,
        warnings=all_warnings,
    )


def _merge_warnings(warnings: tuple[str, ...]) -> tuple[str, ...]:
    """Distinct warnings; other_tumour_resistance details of several alleles become one warning."""
    merged: dict[str, None] = {}
    places: dict[str, None] = {}
    for w in warnings:
        code, _, detail = w.partition(":")
        if code == W_OTHER_TUMOUR_RESISTANCE:
            if not places:
                merged[W_OTHER_TUMOUR_RESISTANCE] = None  # keeps its first position
            places.update(dict.fromkeys(detail.split(",")))
        else:
            merged[w] = None
    return tuple(
        f"{W_OTHER_TUMOUR_RESISTANCE}:{','.join(places)}" if w == W_OTHER_TUMOUR_RESISTANCE else w
        for w in merged
    )


def _citations(rows: list[EvidenceMatch]) -> str:
    return ";".join(dict.fromkeys(cit for m in rows for cit in m.citations.split(";") if cit))


def _carry_component_resistance(result: list[Verdict], kb: KnowledgeBase) -> list[Verdict]:
    """A combination containing a drug the sample is resistant to is at best the rules' cap."""
    cap = kb.rules.component_resistance_cap
    if not cap:
        return result
    specific = kb.rules.specific_match_bases
    resistant = {
        v.drug: v
        for v in result
        if v.verdict == RESISTANT and v.match_basis.split(":", 1)[0] in specific
    }
    if not resistant:
        return result
    out: list[Verdict] = []
    for v in result:
        components = [c for c in kb.drugs[v.drug].components if c in resistant]
        if not components:
            out.append(v)
            continue
        why = "; ".join(
            f"{c} is resistant for this sample ({resistant[c].reason})" for c in components
        )
        warnings = (*v.warnings, *(f"{W_COMPONENT_RESISTANT}:{c}" for c in components))
        if v.verdict in (SENSITIVE, NO_EVIDENCE) or (cap == RESISTANT and v.verdict != cap):
            new = cap if v.verdict != NO_EVIDENCE else v.verdict
            reason = (
                f"{new}: a component is resistant, so the combination's own evidence cannot stand "
                f"alone; {why}; the combination's evidence: {v.reason}"
                if new != v.verdict
                else f"{v.reason}; {why}"
            )
            out.append(replace(v, verdict=new, reason=reason, warnings=warnings))
        else:
            out.append(replace(v, reason=f"{v.reason}; {why}", warnings=warnings))
    return out


def _flag_resistance_alleles(
    result: list[Verdict],
    labels: list[tuple[str, AlleleName]],
    by_drug: dict[str, dict[str, list[EvidenceMatch]]],
    kb: KnowledgeBase,
) -> list[Verdict]:
    """resistance_allele:p.X on every TKI verdict without evidence about that allele or codon."""
    from . import allele_key

    keys = {allele_key(pc) for pc, _, _ in kb.rules.tki_resistance_alleles}
    present = [
        label
        for label, allele in labels
        if allele.protein is not None and allele_key(allele.protein) in keys
    ]
    if not present:
        return result
    specific = kb.rules.specific_match_bases
    kinds = set(kb.rules.resistance_allele_warning_kinds)
    out: list[Verdict] = []
    for v in result:
        drug = kb.drugs[v.drug]
        if drug.kind not in kinds and not any(
            kb.drugs[c].kind in kinds for c in drug.components if c in kb.drugs
        ):
            out.append(v)
            continue
        rows = by_drug.get(v.drug, {})
        missing = [
            label for label in present if not any(m.basis in specific for m in rows.get(label, []))
        ]
        if not missing:
            out.append(v)
            continue
        added = tuple(f"{W_RESISTANCE_ALLELE}:{label}" for label in missing)
        note = (
            f"{', '.join(missing)}: a known TKI-resistance allele, not assessed for {v.drug} (no "
            "evidence about it): this verdict does not account for it"
        )
        out.append(replace(v, warnings=(*v.warnings, *added), notes=(*v.notes, note)))
    return out


def _where(m: EvidenceMatch) -> str:
    """'sensitive clinical_trial in BRCA (same_tumour_type, level B, allele, EV0012)'."""
    place = "pan-cancer" if m.tumour_type == "pan" else f"in {m.tumour_type}"
    return (
        f"{m.response} {m.evidence_type} {place} "
        f"({m.tumour_type_match}, level {m.evidence_level}, {m.match_basis}, {m.evidence_id})"
    )


def _reason(
    verdict: str, top: _Call, deciding: list[_Call], calls: list[_Call], kb: KnowledgeBase
) -> str:
    """One line: what decided, and what was weighed against it."""
    assert top.best is not None
    head = f"{top.allele}: {_where(top.best)}"
    if verdict in (RESISTANT, REDUCED):
        overridden = [
            c for c in calls if c.call in (SENSITIVE, CONFLICTING, REDUCED) and c not in deciding
        ]
        text = head
        if top.other is not None:
            text += f"; outranks {_where(top.other)}"
        if top.set_aside:
            text += (
                f"; {top.set_aside} class-level sensitivity row(s) set aside "
                "(allele-specific evidence against)"
            )
        if overridden:
            others = ", ".join(dict.fromkeys(c.allele for c in overridden))
            text += f"; resistance allele overrides sensitivity from {others}"
        return text
    if verdict == CONFLICTING:
        if top.call == UNCLEAR:
            return f"{top.allele}: only unclear evidence ({_where(top.best)}): sources disagree"
        if top.call == CONFLICTING and top.other is not None:
            if top.best in top.aside:
                return (
                    f"{head} (another tumour type: never resistant here) vs {_where(top.other)}: "
                    "the sensitivity evidence is no stronger, or is class-level evidence that "
                    "allele-specific resistance sets aside"
                )
            return f"{head} vs {_where(top.other)}: equal tumour-type context and level"
        alleles = ", ".join(dict.fromkeys(c.allele for c in deciding))
        return f"alleles disagree ({alleles}): {head}"
    if verdict == SENSITIVE:
        text = head
        if top.other is not None:
            text += f"; weaker evidence against: {_where(top.other)}"
        return text
    return f"{top.allele}: only unclear evidence ({_where(top.best)}): sources disagree"
