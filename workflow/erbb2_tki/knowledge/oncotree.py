"""Tumour-type context: the whole OncoTree (release 2026_05_21) in annotations/knowledge/oncotree.tsv.

A sample's tumour type is an OncoTree code; an evidence row's tumour type is a code, an OncoTree
main type (e.g. "Breast Cancer") or "pan". Whether a row is "in the sample's tumour type" is a
question about the tree, answered upward as OncoKB does (the sample's code, then its ancestors up
to the tissue, then pan-cancer):

* same_tumour_type: the row's code is the sample's code or one of its ancestors (a LUAD sample and
  NSCLC evidence; an ILC sample and BRCA evidence; a BRCA sample and BREAST evidence), or the row
  names the sample's main type (an IBC or metaplastic breast sample and "Breast Cancer" evidence);
* subtype: the row's code lies below the sample's (a BRCA sample and ILC evidence): shown, never
  counted as the same tumour, since the narrower tumour may behave differently;
* other_tumour_type: anything else, siblings included (an IDC sample and ILC evidence: the source
  notes say lobular and ductal cancers behave differently);
* pan_cancer: the evidence row is tumour-agnostic ("pan");
* unknown: the sample's tumour type is not given.

The root (TISSUE) relates nothing: a code never matches another just because both are tumours.
Codes are case-insensitive on input; a few non-OncoTree spellings (CRC, OV, LIHC, BTC) are accepted
as aliases for samples. An unknown code is an InputError naming the file that lists the known
codes, so a typo never silently turns evidence into other_tumour_type.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

ROOT = "TISSUE"
PAN = "pan"
SAME = "same_tumour_type"
SUBTYPE = "subtype"
OTHER = "other_tumour_type"
PAN_CANCER = "pan_cancer"
UNKNOWN = "unknown"
MATCHES = (SAME, PAN_CANCER, SUBTYPE, OTHER, UNKNOWN)


@dataclass(frozen=True)
class TumourType:
    """One OncoTree node."""

    code: str
    name: str
    main_type: str
    tissue: str
    parent: str  # "" for the root
    aliases: tuple[str, ...] = ()
    line: int = 0  # line in oncotree.tsv, for messages


class OncoTree:
    """The parent-child relations of the OncoTree codes the knowledge base knows."""

    def __init__(self, nodes: dict[str, TumourType], path: str = "oncotree.tsv") -> None:
        self.nodes = nodes
        self.path = path
        self.aliases: dict[str, str] = {}
        # OncoTree MainType name -> the codes of that main type (evidence may name a main type).
        self.main_types: dict[str, tuple[str, ...]] = {}
        for node in nodes.values():
            for alias in node.aliases:
                self.aliases[alias] = node.code
            if node.main_type:
                self.main_types[node.main_type] = (
                    *self.main_types.get(node.main_type, ()),
                    node.code,
                )
        self._lineage: dict[str, tuple[str, ...]] = {}
        for code in nodes:
            self._lineage[code] = self._walk(code)

    def _walk(self, code: str) -> tuple[str, ...]:
        """code, its parent, ... up to (not including) the root; cycles and dangling parents fail."""
        chain: list[str] = []
        current = code
        while current and current != ROOT:
            if current in chain:
                first = self.nodes[code]
                raise InputError(
                    f"the parent chain of {code} loops back to {current}",
                    path=self.path,
                    record=f"line {first.line}",
                    field="parent",
                    fix="give each code its OncoTree parent; the chain must end at TISSUE",
                )
            chain.append(current)
            node = self.nodes.get(current)
            if node is None:
                child = self.nodes[chain[-2]]  # the code itself is always listed
                raise InputError(
                    f"{child.code} names parent {current}, which is not listed",
                    path=self.path,
                    record=f"line {child.line}",
                    field="parent",
                    fix=f"add {current} (with its own parent) to {Path(self.path).name}",
                )
            current = node.parent
        return tuple(chain)

    def __contains__(self, code: str) -> bool:
        return code in self.nodes

    def resolve(self, code: str, *, what: str = "tumour type") -> str:
        """The OncoTree code for `code` (case-insensitive, aliases allowed); InputError if unknown."""
        text = code.strip().upper()
        if text in self.nodes and text != ROOT:
            return text
        if text in self.aliases:
            return self.aliases[text]
        raise InputError(
            f"unknown {what} {code!r}: not an OncoTree code listed in {Path(self.path).name}",
            path=self.path,
            field="tumour_type",
            fix=(
                "use an OncoTree code such as BRCA, ILC, IDC, NSCLC, LUAD, COADREAD, BLCA, CESC, "
                f"or add the code and its parent chain to {self.path}"
            ),
        )

    def is_evidence_type(self, text: str) -> bool:
        """True for what evidence.tsv may name: pan, a code other than the root, or a main type."""
        return text == PAN or (text in self.nodes and text != ROOT) or text in self.main_types

    def lineage(self, code: str) -> tuple[str, ...]:
        """The code and its ancestors, nearest first, without the root."""
        return self._lineage[code]

    def is_within(self, code: str, ancestor: str) -> bool:
        """True when `code` is `ancestor` or lies below it."""
        return ancestor in self._lineage[code]

    def match(self, sample_code: str | None, evidence_code: str) -> str:
        """How an evidence row's tumour type relates to the sample's (see module docstring).

        sample_code must already be resolved (or None); evidence_code is an OncoTree code, an
        OncoTree MainType name (applies to every code of that main type) or "pan".
        """
        if evidence_code == PAN:
            return PAN_CANCER
        if sample_code is None:
            return UNKNOWN
        if evidence_code not in self.nodes:
            return SAME if self.nodes[sample_code].main_type == evidence_code else OTHER
        if self.is_within(sample_code, evidence_code):
            return SAME
        if self.is_within(evidence_code, sample_code):
            return SUBTYPE
        return OTHER

    def describe(self, code: str) -> str:
        """'ILC (Breast Invasive Lobular Carcinoma, under BRCA)' for messages and kb show."""
        if code == PAN:
            return "pan (tumour-agnostic)"
        if code not in self.nodes and code in self.main_types:
            return f"{code} (OncoTree main type, {len(self.main_types[code])} codes)"
        node = self.nodes[code]
        parent = f", under {node.parent}" if node.parent and node.parent != ROOT else ""
        return f"{code} ({node.name}{parent})"


def parse_oncotree_rows(rows: list[tuple[int, dict[str, str]]], path: str) -> OncoTree:
    """Build the tree from validated oncotree.tsv rows (line number, row)."""
    nodes: dict[str, TumourType] = {}
    seen_alias: dict[str, int] = {}
    for line, row in rows:
        code = row["code"]
        if code in nodes:
            raise InputError(
                f"code {code} is listed twice (first on line {nodes[code].line})",
                path=path,
                record=f"line {line}",
                field="code",
                fix="keep one row per OncoTree code",
            )
        aliases = tuple(row["aliases"].split())
        for alias in aliases:
            if alias in seen_alias or alias in nodes:
                raise InputError(
                    f"alias {alias} is already used (line {seen_alias.get(alias, '?')})",
                    path=path,
                    record=f"line {line}",
                    field="aliases",
                    fix="give each alias to one code only, and never alias a real code",
                )
            seen_alias[alias] = line
        if not row["parent"] and code != ROOT:
            raise InputError(
                f"{code} has no parent",
                path=path,
                record=f"line {line}",
                field="parent",
                fix=f"give its OncoTree parent; only {ROOT} has none",
            )
        nodes[code] = TumourType(
            code=code,
            name=row["name"],
            main_type=row["main_type"],
            tissue=row["tissue"],
            parent=row["parent"],
            aliases=aliases,
            line=line,
        )
    if ROOT not in nodes:
        raise InputError(
            f"the root {ROOT} is missing",
            path=path,
            field="code",
            fix=f"add the row {ROOT} (no parent) that every tissue hangs from",
        )
    for alias, line in seen_alias.items():
        if alias in nodes:
            raise InputError(
                f"alias {alias} is also a code",
                path=path,
                record=f"line {line}",
                field="aliases",
                fix="remove the alias",
            )
    return OncoTree(nodes, path)
