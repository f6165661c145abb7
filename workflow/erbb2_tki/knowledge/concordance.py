"""`erbb2-tki kb concordance CIVIC_EVIDENCE_TSV`: cross-check the knowledge base against CIViC.

Why: CIViC is an independent, openly licensed (CC0) curation of the same literature. Reading every
CIViC predictive ERBB2 item against the knowledge base finds what the knowledge base lacks and where
the two read a paper differently. Nothing is merged: each difference is a curator's decision,
recorded with its reason in annotations/concordance/civic_decisions.tsv (keyed by CIViC evidence id
and status); the CI test fails on a difference nobody has decided about.

One row per CIViC item with evidence_type Predictive whose molecular profile names ERBB2:

* out_of_scope: the item is about something the knowledge base does not model by design: an ERBB2
  copy-number or expression biomarker (amplification, overexpression, serum levels), a molecular
  profile that combines ERBB2 with another gene, a fusion, a sequential regimen, an adverse
  response, or a therapy with no drug in drugs.tsv (chemotherapy-only, PI3K/mTOR inhibitors...);
  civic_profiles.tsv says which profiles are out of scope and why.
* agree: a knowledge-base row about the same alteration and drug cites the same primary source (the
  item's PMID, or the item itself as CIViC:EIDn), and its response, tumour type and level are
  compatible with CIViC's (civic_mapping.yaml: direction x significance -> accepted responses,
  CIViC level -> accepted levels; tumour types compatible when one covers the other in OncoTree).
* disagree: a same-source row exists but the response, tumour type or level differs.
* not_in_kb: no row for this alteration and drug cites the item's source (rows from other sources
  are listed in kb_rows).

Alterations come from the profile name (`ERBB2 L755S`, `ERBB2 Y772_A775DUP`, any HGVS spelling
normalised on NP_004439.2), or from civic_profiles.tsv for category and odd names (`ERBB2 Mutation`
-> class oncogenic; `ERBB2 P780INS` -> G778_P780dup). Diseases map to OncoTree through
civic_doid_oncotree.tsv (by DOID, or by name where CIViC gives no DOID).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .. import paths
from ..errors import InputError
from ..naming.model import ProteinChange
from ..yamlio import load_yaml

CONCORDANCE_SUBDIR = "concordance"
DOID_FILE = "civic_doid_oncotree.tsv"
PROFILES_FILE = "civic_profiles.tsv"
DECISIONS_FILE = "civic_decisions.tsv"
MAPPING_FILE = "civic_mapping.yaml"
STATUSES = ("agree", "disagree", "not_in_kb", "out_of_scope")
NEEDS_DECISION = ("disagree", "not_in_kb")
OUTPUT_COLUMNS = (
    "evidence_id",
    "status",
    "kb_rows",
    "reason",
    "curator_reason",
    "molecular_profile",
    "therapies",
    "disease",
    "oncotree",
    "civic_response",
    "civic_level",
    "citation",
)
CIVIC_COLUMNS = (
    "molecular_profile",
    "disease",
    "doid",
    "therapies",
    "therapy_interaction_type",
    "evidence_type",
    "evidence_direction",
    "evidence_level",
    "significance",
    "citation_id",
    "source_type",
    "evidence_id",
)
GENE = "ERBB2"
PAN = "pan"
_CIVIC_CITATION = re.compile(r"^CIViC:EID([0-9]+)$")


# --------------------------------------------------------------------------------------------
# Curated tables (annotations/concordance)


@dataclass(frozen=True)
class ProfileRule:
    """One row of civic_profiles.tsv."""

    molecular_profile: str
    scope: str  # in | out
    alteration: str
    alteration_kind: str
    note: str


@dataclass(frozen=True)
class Decision:
    """One recorded curator decision (civic_decisions.tsv)."""

    evidence_id: str
    status: str
    reason: str


@dataclass
class Tables:
    """The concordance tables: disease, profile and response/level mappings and decisions."""

    doid: dict[str, str]
    disease_names: dict[str, str]
    profiles: dict[str, ProfileRule]
    decisions: dict[tuple[str, str], Decision]
    responses: dict[tuple[str, str], tuple[str, ...]]
    levels: dict[str, tuple[str, ...]]
    out_of_scope_significance: tuple[str, ...]
    out_of_scope_interactions: tuple[str, ...]
    directory: Path


def concordance_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    return Path(directory) if directory else paths.annotations_dir() / CONCORDANCE_SUBDIR


def _read_table(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise InputError("file not found", path=str(path), fix="restore it from the repository")
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = [c.strip() for c in raw.split("\t")]
        if header is None:
            header = cells
            missing = [c for c in columns if c not in header]
            if missing:
                raise InputError(
                    f"header lacks column(s) {', '.join(missing)}",
                    path=str(path),
                    record=f"line {number}",
                    fix=f"use the columns {', '.join(columns)}, tab-separated",
                )
            continue
        if len(cells) != len(header):
            raise InputError(
                f"{len(cells)} fields, the header has {len(header)}",
                path=str(path),
                record=f"line {number}",
                fix="separate the columns with exactly one tab each",
            )
        rows.append((number, dict(zip(header, cells, strict=True))))
    return rows


def load_tables(directory: str | os.PathLike[str] | None = None) -> Tables:
    """Read and check annotations/concordance (InputError naming file and line on a problem)."""
    base = concordance_dir(directory)
    doid: dict[str, str] = {}
    names: dict[str, str] = {}
    for line, row in _read_table(base / DOID_FILE, ("doid", "civic_disease", "oncotree")):
        if not row["oncotree"]:
            raise InputError(
                "oncotree is empty",
                path=str(base / DOID_FILE),
                record=f"line {line}",
                field="oncotree",
                fix="give an OncoTree code, an OncoTree MainType name, or pan",
            )
        if row["doid"]:
            doid[row["doid"]] = row["oncotree"]
        names[row["civic_disease"].lower()] = row["oncotree"]
    profiles: dict[str, ProfileRule] = {}
    for line, row in _read_table(
        base / PROFILES_FILE,
        ("molecular_profile", "scope", "alteration", "alteration_kind", "note"),
    ):
        if row["scope"] not in ("in", "out"):
            raise InputError(
                f"scope {row['scope']!r} is not in or out",
                path=str(base / PROFILES_FILE),
                record=f"line {line}",
                field="scope",
            )
        if row["scope"] == "out" and not row["note"]:
            raise InputError(
                "an out-of-scope profile needs a note saying why",
                path=str(base / PROFILES_FILE),
                record=f"line {line}",
                field="note",
            )
        if row["scope"] == "in" and row["alteration_kind"] not in ("allele", "codon", "class"):
            raise InputError(
                f"alteration_kind {row['alteration_kind']!r} is not allele, codon or class",
                path=str(base / PROFILES_FILE),
                record=f"line {line}",
                field="alteration_kind",
            )
        profiles[row["molecular_profile"].upper()] = ProfileRule(
            molecular_profile=row["molecular_profile"],
            scope=row["scope"],
            alteration=row["alteration"],
            alteration_kind=row["alteration_kind"],
            note=row["note"],
        )
    decisions: dict[tuple[str, str], Decision] = {}
    for line, row in _read_table(base / DECISIONS_FILE, ("evidence_id", "status", "reason")):
        if row["status"] not in NEEDS_DECISION:
            raise InputError(
                f"status {row['status']!r}: decisions are recorded for disagree or not_in_kb",
                path=str(base / DECISIONS_FILE),
                record=f"line {line}",
                field="status",
            )
        if not row["reason"]:
            raise InputError(
                "reason is empty",
                path=str(base / DECISIONS_FILE),
                record=f"line {line}",
                field="reason",
                fix="say why the knowledge base differs from CIViC here",
            )
        key = (row["evidence_id"].removeprefix("EID"), row["status"])
        if key in decisions:
            raise InputError(
                f"EID {key[0]} ({key[1]}) is recorded twice",
                path=str(base / DECISIONS_FILE),
                record=f"line {line}",
                field="evidence_id",
            )
        decisions[key] = Decision(key[0], key[1], row["reason"])
    mapping_path = base / MAPPING_FILE
    doc = load_yaml(mapping_path.read_text(encoding="utf-8")) if mapping_path.is_file() else None
    if not isinstance(doc, dict) or "responses" not in doc or "levels" not in doc:
        raise InputError(
            "expected a mapping with responses and levels",
            path=str(mapping_path),
            fix="restore civic_mapping.yaml from the repository",
        )
    responses = {
        (str(item["direction"]), str(item["significance"])): tuple(item["responses"])
        for item in doc["responses"]
    }
    levels = {str(k): tuple(v) for k, v in doc["levels"].items()}
    return Tables(
        doid=doid,
        disease_names=names,
        profiles=profiles,
        decisions=decisions,
        responses=responses,
        levels=levels,
        out_of_scope_significance=tuple(doc.get("out_of_scope_significance") or ()),
        out_of_scope_interactions=tuple(doc.get("out_of_scope_interactions") or ()),
        directory=base,
    )


# --------------------------------------------------------------------------------------------
# Reading CIViC


def read_civic(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """Rows of a CIViC ClinicalEvidenceSummaries TSV (the nightly export's columns)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("CIViC evidence file not found", path=str(p))
    with p.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in CIVIC_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(
                f"not a CIViC ClinicalEvidenceSummaries file: no column(s) {', '.join(missing)}",
                path=str(p),
                record="line 1",
                fix="give the ClinicalEvidenceSummaries TSV of a CIViC nightly export",
            )
        return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def is_erbb2_predictive(row: dict[str, str]) -> bool:
    tokens = re.split(r"[^A-Za-z0-9]+", row.get("molecular_profile", ""))
    return row.get("evidence_type") == "Predictive" and GENE in (t.upper() for t in tokens)


def _variant_text(profile: str) -> str:
    """'ERBB2 Y772_A775DUP' -> 'Y772_A775dup' (CIViC upper-cases the HGVS keywords)."""
    text = profile.strip()
    if text.upper().startswith(GENE + " "):
        text = text[len(GENE) + 1 :].strip()
    return re.sub(
        r"(DELINS|DUP|DEL|INS|FS)", lambda m: m.group(1).lower(), text, flags=re.IGNORECASE
    )


# --------------------------------------------------------------------------------------------
# The comparison


@dataclass
class Result:
    """One output row."""

    evidence_id: str
    status: str
    kb_rows: list[str] = field(default_factory=list)
    reason: str = ""
    curator_reason: str = ""
    civic: dict[str, str] = field(default_factory=dict)
    oncotree: str = ""

    def as_row(self) -> dict[str, str]:
        c = self.civic
        return {
            "evidence_id": self.evidence_id,
            "status": self.status,
            "kb_rows": ";".join(self.kb_rows),
            "reason": self.reason,
            "curator_reason": self.curator_reason,
            "molecular_profile": c.get("molecular_profile", ""),
            "therapies": " ".join(
                x for x in (c.get("therapies", ""), c.get("therapy_interaction_type", "")) if x
            ),
            "disease": f"{c.get('disease', '')} (DOID:{c.get('doid', '')})"
            if c.get("doid")
            else c.get("disease", ""),
            "oncotree": self.oncotree,
            "civic_response": f"{c.get('evidence_direction', '')} {c.get('significance', '')}",
            "civic_level": c.get("evidence_level", ""),
            "citation": _civic_source(c),
        }


def _civic_source(row: dict[str, str]) -> str:
    cid = row.get("citation_id", "")
    if not cid:
        return ""
    source = row.get("source_type", "").lower()
    if source == "pubmed":
        return f"PMID:{cid}"
    return f"{row.get('source_type', '')}:{cid}"


def tumour_codes(kb: Any, label: str) -> frozenset[str] | None:
    """The OncoTree codes a tumour label covers (a code and its descendants, or every code of a
    MainType); None for pan or a label the tree does not know."""
    tree = kb.oncotree
    if label == PAN:
        return None
    if label in tree.nodes:
        return frozenset(c for c in tree.nodes if tree.is_within(c, label))
    by_main = frozenset(c for c, node in tree.nodes.items() if node.main_type == label)
    return by_main or None


def tumours_compatible(kb: Any, civic_label: str, kb_label: str) -> bool:
    """Same label, both pan, or one covers the other / they overlap in OncoTree."""
    if civic_label == kb_label:
        return True
    if PAN in (civic_label, kb_label):
        return False
    a, b = tumour_codes(kb, civic_label), tumour_codes(kb, kb_label)
    return bool(a and b and a & b)


@dataclass(frozen=True)
class Target:
    """What a CIViC item is about, in knowledge-base terms."""

    kind: str  # allele | codon | class
    alteration: str
    protein: ProteinChange | None


def _target(kb: Any, tables: Tables, profile: str) -> tuple[Target | None, str]:
    """(target, "") for an in-scope profile; (None, reason) for out of scope or unparseable."""
    rule = tables.profiles.get(profile.upper())
    if rule is not None and rule.scope == "out":
        return None, f"out_of_scope: {rule.note}"
    if rule is not None:
        if rule.alteration_kind == "class":
            if rule.alteration not in kb.classes:
                return None, f"unmapped: class {rule.alteration} is not in this knowledge base"
            return Target("class", rule.alteration, None), ""
        try:
            pc = kb.canonical(rule.alteration)
        except ValueError as err:
            return None, f"unmapped: {PROFILES_FILE} gives {rule.alteration!r} ({err})"
        return Target(rule.alteration_kind, pc.short, pc), ""
    if re.search(r"\b(AND|OR|NOT)\b", profile):
        return None, "out_of_scope: the molecular profile combines ERBB2 with other variants"
    text = _variant_text(profile)
    if "::" in text or "FUSION" in text.upper():
        return None, "out_of_scope: fusions are not modelled (mutations only)"
    try:
        pc = kb.canonical(text)
    except ValueError as err:
        return (
            None,
            f"unmapped: {profile!r} is not a protein change ({err}); add it to {PROFILES_FILE}",
        )
    kind = "codon" if pc.kind == "codon" else "allele"
    return Target(kind, pc.short, pc), ""


def _drugs(kb: Any, tables: Tables, row: dict[str, str]) -> tuple[list[str], list[str], str]:
    """(KB drug names to compare, therapies not in the KB, out-of-scope reason or "")."""
    therapies = [t.strip() for t in row.get("therapies", "").split(",") if t.strip()]
    interaction = row.get("therapy_interaction_type", "")
    if interaction in tables.out_of_scope_interactions:
        return [], therapies, f"out_of_scope: {interaction.lower()} regimens are not modelled"
    known: list[str] = []
    unknown: list[str] = []
    for therapy in therapies:
        try:
            known.append(kb.drug(therapy).name)
        except InputError:
            unknown.append(therapy)
    if interaction == "Combination" and len(therapies) > 1:
        if unknown:
            return [], unknown, f"out_of_scope: {', '.join(unknown)} not in drugs.tsv"
        wanted = frozenset(known)
        for drug in kb.drugs.values():
            if drug.components and frozenset(drug.components) == wanted:
                return [drug.name], [], ""
        return [" + ".join(sorted(wanted))], [], ""  # a combination the KB does not list
    if not known:
        return [], unknown, f"out_of_scope: {', '.join(unknown) or 'no therapy'} not in drugs.tsv"
    return known, unknown, ""


def _row_applies(kb: Any, target: Target, row: Any) -> bool:
    """Whether a KB evidence row is about the item's alteration."""
    if target.kind == "class":
        return bool(row.alteration_kind == "class" and row.alteration == target.alteration)
    pc = target.protein
    assert pc is not None
    if target.kind == "codon":
        return row.protein is not None and row.protein.start == pc.start
    from . import CODON_KINDS, allele_key

    if row.alteration_kind == "allele":
        return row.protein is not None and allele_key(row.protein) == allele_key(pc)
    if row.alteration_kind == "codon":
        return (
            row.protein is not None
            and pc.kind in CODON_KINDS
            and pc.start <= row.protein.start <= pc.end
        )
    return row.alteration in kb.classes_of_protein(pc)


def _cites(row: Any, source: str, eid: str) -> bool:
    citations = row.citations.split(";")
    return (bool(source) and source in citations) or f"CIViC:EID{eid}" in citations


def _compare_one(
    kb: Any,
    tables: Tables,
    civic: dict[str, str],
    target: Target,
    drug: str,
    tumour: str | None,
) -> tuple[str, list[str], str]:
    """(status, kb row ids, reason) for one drug of one item."""
    eid = civic["evidence_id"]
    source = _civic_source(civic)
    accepted = tables.responses.get((civic["evidence_direction"], civic["significance"]), ())
    levels = tables.levels.get(civic["evidence_level"], ())
    if drug not in kb.drugs:
        # a combination the KB does not list: show the rows about part of it (e.g. a doublet)
        wanted = set(drug.split(" + "))
        parts = [
            r.evidence_id
            for r in kb.evidence
            if len(kb.drugs[r.drug].components) > 1
            and set(kb.drugs[r.drug].components) < wanted
            and _row_applies(kb, target, r)
        ]
        extra = f"; rows for part of it: {', '.join(parts)}" if parts else ""
        return "not_in_kb", parts, f"{drug}: combination not in drugs.tsv{extra}"
    about = [r for r in kb.evidence if r.drug == drug and _row_applies(kb, target, r)]
    same_source = [r for r in about if _cites(r, source, eid)]
    if not same_source and target.kind == "class":
        # a category item (e.g. "Kinase Domain Mutation") the KB records allele by allele
        same_source = [r for r in kb.evidence if r.drug == drug and _cites(r, source, eid)]
    if not same_source:
        others = [r.evidence_id for r in about]
        extra = f"; rows from other sources: {', '.join(others)}" if others else ""
        return "not_in_kb", others, f"{drug}: no row cites {source or 'this item'}{extra}"
    best: tuple[int, Any, list[str]] | None = None
    for r in same_source:
        problems = []
        if r.response not in accepted:
            problems.append(f"response {r.response} (CIViC accepts {'/'.join(accepted) or '-'})")
        if tumour is None:
            problems.append(f"disease {civic['disease']!r} has no OncoTree mapping")
        elif not tumours_compatible(kb, tumour, r.tumour_type):
            problems.append(f"tumour type {r.tumour_type} (CIViC {tumour})")
        if r.evidence_level not in levels:
            problems.append(f"level {r.evidence_level} (CIViC {civic['evidence_level']})")
        if best is None or len(problems) < best[0]:
            best = (len(problems), r, problems)
    assert best is not None
    ids = [r.evidence_id for r in same_source]
    if best[0] == 0:
        return "agree", ids, f"{drug}: {best[1].evidence_id} agrees"
    return "disagree", ids, f"{drug}: {best[1].evidence_id} " + "; ".join(best[2])


def compare_item(kb: Any, tables: Tables, civic: dict[str, str]) -> Result:
    """The concordance row for one CIViC predictive ERBB2 item."""
    eid = civic["evidence_id"]
    result = Result(evidence_id=eid, status="out_of_scope", civic=civic)
    tumour = tables.doid.get(civic.get("doid", "")) if civic.get("doid") else None
    if tumour is None:
        tumour = tables.disease_names.get(civic.get("disease", "").lower())
    result.oncotree = tumour or ""
    key = (civic["evidence_direction"], civic["significance"])
    if civic["significance"] in tables.out_of_scope_significance or key not in tables.responses:
        result.reason = f"out_of_scope: significance {civic['significance']!r} is not modelled"
        return result
    target, why = _target(kb, tables, civic["molecular_profile"])
    if target is None:
        if why.startswith("out_of_scope: "):
            result.reason = why
            return result
        result.status, result.reason = "not_in_kb", why
        return _with_decision(tables, result)
    drugs, unknown, why = _drugs(kb, tables, civic)
    if why:
        result.reason = why
        return result
    parts = [_compare_one(kb, tables, civic, target, d, tumour) for d in drugs]
    statuses = [p[0] for p in parts]
    for status in ("disagree", "not_in_kb", "agree"):
        if status in statuses:
            result.status = status
            break
    result.kb_rows = sorted({i for p in parts for i in p[1]})
    result.reason = "; ".join(p[2] for p in parts)
    if unknown:
        result.reason += f"; not compared (not in drugs.tsv): {', '.join(unknown)}"
    return _with_decision(tables, result)


def _with_decision(tables: Tables, result: Result) -> Result:
    decision = tables.decisions.get((result.evidence_id, result.status))
    if decision is not None:
        result.curator_reason = decision.reason
    return result


def concordance(kb: Any, tables: Tables, civic_rows: Iterable[dict[str, str]]) -> list[Result]:
    """One Result per CIViC predictive ERBB2 item, in the export's order."""
    return [compare_item(kb, tables, row) for row in civic_rows if is_erbb2_predictive(row)]


def counts(results: list[Result]) -> dict[str, int]:
    return {s: sum(1 for r in results if r.status == s) for s in STATUSES}


def undecided(results: list[Result]) -> list[Result]:
    """disagree / not_in_kb rows with no recorded curator reason."""
    return [r for r in results if r.status in NEEDS_DECISION and not r.curator_reason]


def dangling_civic_citations(
    kb: Any, civic_rows: Iterable[dict[str, str]]
) -> list[tuple[str, str]]:
    """(evidence id, CIViC:EIDn) for KB rows citing a CIViC item the export does not have."""
    known = {row.get("evidence_id", "") for row in civic_rows}
    found: list[tuple[str, str]] = []
    for row in kb.evidence:
        for cite in row.citations.split(";"):
            match = _CIVIC_CITATION.match(cite)
            if match and match.group(1) not in known:
                found.append((row.evidence_id, cite))
    return found


def stale_decisions(tables: Tables, results: list[Result]) -> list[Decision]:
    """Recorded decisions that match no current disagree/not_in_kb row (fixed since, or wrong id)."""
    current = {(r.evidence_id, r.status) for r in results}
    return [d for k, d in sorted(tables.decisions.items()) if k not in current]


# --------------------------------------------------------------------------------------------
# Command line


def register(sub: Any) -> None:
    """Add `kb concordance` to the kb subcommands."""
    p = sub.add_parser(
        "concordance",
        help="cross-check the knowledge base against a CIViC evidence export",
        description=(
            "One row per CIViC predictive ERBB2 item: agree, disagree, not_in_kb or out_of_scope "
            "(docs/knowledge-base.md, 'Concordance with CIViC'). Nothing is merged."
        ),
    )
    p.add_argument(
        "civic", metavar="CIVIC_EVIDENCE_TSV", help="CIViC ClinicalEvidenceSummaries TSV"
    )
    p.add_argument("--out", help="write the rows as TSV")
    p.add_argument("--dir", dest="directory", help="knowledge-base folder (default: the project's)")
    p.add_argument(
        "--tables",
        help="folder with the concordance tables (default: annotations/concordance)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a disagree or not_in_kb item has no recorded curator reason",
    )
    p.set_defaults(func=cmd_concordance)


def cmd_concordance(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from .. import knowledge

    out = out or sys.stdout
    kb = knowledge.load_knowledge(args.directory)
    tables = load_tables(args.tables)
    civic_rows = read_civic(args.civic)
    results = concordance(kb, tables, civic_rows)
    n = counts(results)
    open_items = undecided(results)
    print(
        f"knowledge base {kb.version} ({kb.content_hash[:19]}...) vs {Path(args.civic).name}: "
        f"{len(results)} CIViC predictive ERBB2 items",
        file=out,
    )
    recorded = {s: sum(1 for r in results if r.status == s and r.curator_reason) for s in STATUSES}
    print(
        f"agree {n['agree']}, disagree {n['disagree']} ({recorded['disagree']} with a recorded "
        f"reason), not_in_kb {n['not_in_kb']} ({recorded['not_in_kb']} with a recorded reason), "
        f"out_of_scope {n['out_of_scope']}",
        file=out,
    )
    for r in open_items:
        print(f"  undecided  EID{r.evidence_id}  {r.status}: {r.reason}", file=out)
    for d in stale_decisions(tables, results):
        print(
            f"  stale decision  EID{d.evidence_id} ({d.status}): the item is no longer {d.status}",
            file=out,
        )
    for eid, cite in dangling_civic_citations(kb, civic_rows):
        print(f"  {eid} cites {cite}, which this export does not have", file=out)
    if args.out:
        write_tsv(Path(args.out), results)
    return 1 if args.strict and open_items else 0


def write_tsv(path: Path, results: list[Result]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(
                handle, fieldnames=OUTPUT_COLUMNS, delimiter="\t", lineterminator="\n"
            )
            writer.writeheader()
            for r in results:
                writer.writerow(r.as_row())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
