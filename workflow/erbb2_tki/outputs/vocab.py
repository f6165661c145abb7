"""The output vocabulary: the per-sample tables' columns, and how verdicts, tiers, tumour-type
contexts and drug kinds are named, lettered and coloured wherever a verdict is shown (heatmap,
verdict page, Excel, MultiQC).

One place, so the figure, the workbook and the pages cannot drift apart. The values themselves
(`verdict`, `amp_tier`, `context`, `drug_kind`) are those of verdicts.tsv (annotate.py writes
them; README.md and config/README.md define them); this module only says how to show them.
Colours are the Okabe-Ito palette (Okabe & Ito 2008, https://jfly.uni-koeln.de/color/), told
apart with the common colour-vision deficiencies; every colour is backed by a letter or a word.
No pandas, no YAML: the module is imported on light paths too.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------
# Verdicts

# verdicts.tsv's `verdict` values, strongest argument first (the order of legends and tallies).
VERDICTS = ("sensitive", "reduced_sensitivity", "resistant", "conflicting", "no_evidence")
# Cell states that are not verdicts: the sample has no ERBB2 allele that decides verdicts (none
# called, or every call set aside: germline, filtered...), or the sample failed.
NO_ALLELE = "no_allele"
FAILED = "failed"
STATES = (*VERDICTS, NO_ALLELE, FAILED)
# Verdicts that rest on evidence (they have a tier and a context).
WITH_EVIDENCE = ("sensitive", "reduced_sensitivity", "resistant", "conflicting")


@dataclass(frozen=True)
class State:
    """How one verdict (or no-allele / failed) is shown."""

    name: str
    letter: str  # in heatmap and grid cells ("" for none)
    label: str  # in legends
    colour: str  # fill at tier I (or the only fill)
    text: str  # letter colour on `colour`


STYLE: dict[str, State] = {
    s.name: s
    for s in (
        State("sensitive", "S", "sensitive", "#009E73", "#FFFFFF"),
        State("reduced_sensitivity", "RS", "reduced sensitivity", "#E69F00", "#000000"),
        State("resistant", "R", "resistant", "#D55E00", "#FFFFFF"),
        State("conflicting", "C", "conflicting", "#CC79A7", "#000000"),
        State("no_evidence", "", "no evidence for the sample's alleles", "#E2E2E2", "#555555"),
        State(
            NO_ALLELE, "", "no ERBB2 allele (none called or all set aside)", "#FFFFFF", "#888888"
        ),
        State(FAILED, "", "sample failed", "#555555", "#FFFFFF"),
    )
}


def state_of(verdict: object) -> str:
    """A verdicts.tsv `verdict` value as a known state; anything else reads as no_evidence."""
    text = str(verdict or "").strip()
    return text if text in STYLE else "no_evidence"


# ---------------------------------------------------------------------------------------------
# AMP/ASCO/CAP 2017 tiers (Li et al. 2017, PMID:27993330): tier I = level A/B evidence in this
# tumour type, tier II = level C/D. Tier I is drawn in the verdict's full colour, tier II in a
# tint of it (the same hue, lighter), so strength reads at a glance even at 500 samples.

TIERS = ("I", "II")
TIER_LABELS = {"I": "tier I (level A/B in this tumour type)", "II": "tier II (level C/D)"}
TIER_II_TINT = 0.55  # share of white mixed into the colour


def _mix(colour: str, white: float) -> str:
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(c + (255 - c) * white) for c in rgb]
    return "#" + "".join(f"{c:02X}" for c in mixed)


def fill(state: str, tier: str = "") -> str:
    """The fill colour of a cell: the state's colour, tinted for a tier II verdict."""
    colour = STYLE[state_of(state) if state not in STYLE else state].colour
    if tier == "II" and state in WITH_EVIDENCE:
        return _mix(colour, TIER_II_TINT)
    return colour


def text_colour(state: str, tier: str = "") -> str:
    """Letter colour with enough contrast on fill(state, tier)."""
    if tier == "II" and state in WITH_EVIDENCE:
        return "#000000"
    return STYLE[state].text if state in STYLE else "#000000"


# ---------------------------------------------------------------------------------------------
# Tumour-type context of the deciding evidence (verdicts.tsv `context`)

CONTEXTS = ("same_tumour_type", "pan_cancer", "subtype", "other_tumour_type", "unknown")
# A mark after the verdict letter: none when the evidence is about this tumour type (or every
# tumour type); else a symbol that the legend explains.
CONTEXT_MARKS = {
    "same_tumour_type": "",
    "pan_cancer": "",
    "subtype": "\u2020",  # dagger
    "other_tumour_type": "*",
    "unknown": "?",
}
CONTEXT_LABELS = {
    "same_tumour_type": "evidence in the sample's tumour type (or an ancestor)",
    "pan_cancer": "pan-cancer evidence",
    "subtype": "evidence only in a subtype of the sample's tumour type (shown, not counted as it)",
    "other_tumour_type": "evidence only in another tumour type",
    "unknown": "sample's tumour type not given",
}
# Short words for tables (the Excel drug matrix, the verdict page)
CONTEXT_SHORT = {
    "same_tumour_type": "this tumour type",
    "pan_cancer": "pan-cancer",
    "subtype": "subtype only",
    "other_tumour_type": "other tumour type",
    "unknown": "tumour type unknown",
}


def cell_text(verdict: str, context: str = "") -> str:
    """The letters in a heatmap or grid cell: verdict letter and context mark (e.g. 'S*')."""
    state = verdict if verdict in STYLE else state_of(verdict)
    letter = STYLE[state].letter
    return letter + CONTEXT_MARKS.get(context, "") if letter else ""


def matrix_text(verdict: str, tier: str = "", context: str = "") -> str:
    """A drug-matrix cell in words: 'sensitive (tier II, other tumour type)'."""
    state = verdict if verdict in STYLE else state_of(verdict)
    detail = [f"tier {tier}"] if tier in TIERS and state in WITH_EVIDENCE else []
    if context and context not in ("same_tumour_type",) and state in WITH_EVIDENCE:
        detail.append(CONTEXT_SHORT.get(context, context))
    return state + (f" ({', '.join(detail)})" if detail else "")


def parse_matrix_text(text: str) -> tuple[str, str, str]:
    """(verdict, tier, context) back from matrix_text's words."""
    head, _, rest = text.partition(" (")
    tier = context = ""
    for part in rest.rstrip(")").split(", ") if rest else []:
        if part.startswith("tier "):
            tier = part.removeprefix("tier ")
        else:
            context = next((k for k, v in CONTEXT_SHORT.items() if v == part), part)
    return head, tier, context


# ---------------------------------------------------------------------------------------------
# Drug kinds (drugs.tsv `kind`; verdicts.tsv `drug_kind`), grouped so TKIs read apart from
# antibodies and antibody-drug conjugates.

DRUG_GROUPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("TKIs", frozenset({"tki_reversible", "tki_irreversible"})),
    ("combinations", frozenset({"combination"})),
    ("antibodies and ADCs", frozenset({"antibody", "adc"})),
    ("other", frozenset()),  # endocrine, unspecified, unknown
)


def drug_group(kind: object) -> str:
    text = str(kind or "").strip()
    for name, kinds in DRUG_GROUPS:
        if text in kinds:
            return name
    return DRUG_GROUPS[-1][0]


def order_drugs(drugs: Iterable[str], kinds: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """Drugs by group (TKIs, combinations, antibodies and ADCs, other), each group sorted by name;
    empty groups left out."""
    groups: dict[str, list[str]] = {name: [] for name, _ in DRUG_GROUPS}
    for drug in sorted(set(drugs)):
        groups[drug_group(kinds.get(drug, ""))].append(drug)
    return [(name, members) for name, members in groups.items() if members]


def read_drug_kinds(path: str) -> dict[str, str]:
    """drug -> kind from the knowledge base's drugs.tsv ('#' comment lines first)."""
    kinds: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            lines = [line.rstrip("\r\n") for line in handle if not line.startswith("#")]
    except OSError:
        return kinds
    if not lines:
        return kinds
    header = lines[0].split("\t")
    if "drug" not in header or "kind" not in header:
        return kinds
    d, k = header.index("drug"), header.index("kind")
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) > max(d, k):
            kinds[cells[d]] = cells[k]
    return kinds


# ---------------------------------------------------------------------------------------------
# Per-sample report pages (issue 17) and citations


def report_path(sample: str) -> str:
    """A sample's report page relative to results/ (summary.tsv's `report` column)."""
    return f"reports/{sample}.html"


def href(path: str) -> str:
    """A relative path as a URL (each segment percent-encoded: '#', '?', ' ' stay file names)."""
    return "/".join(urllib.parse.quote(part, safe="") for part in path.split("/"))


_PMID = re.compile(r"^PMID:\s*(\d+)$", re.I)
_PMC = re.compile(r"^(?:PMCID:\s*)?(PMC\d+)$", re.I)
_DOI = re.compile(r"^(?:DOI:\s*|https?://(?:dx\.)?doi\.org/)(10\.\d{4,9}/\S+)$", re.I)
_URL = re.compile(r"^https?://\S+$")


def citation_url(citation: str) -> str | None:
    """Where a citation can be read: PubMed for PMID:n, PMC for PMCn, doi.org for DOI:...,
    the address itself for a URL; None for a journal reference or a label ('FDA label')."""
    text = citation.strip()
    if m := _PMID.match(text):
        return f"https://pubmed.ncbi.nlm.nih.gov/{m.group(1)}/"
    if m := _PMC.match(text):
        return f"https://pmc.ncbi.nlm.nih.gov/articles/{m.group(1).upper()}/"
    if m := _DOI.match(text):
        return "https://doi.org/" + urllib.parse.quote(m.group(1), safe="/:;()._-")
    if _URL.match(text):
        return text
    return None


def citations_html(citations: str) -> str:
    """A `;`-joined (or `|`-joined) citations cell as HTML: each linkable citation an <a>, the
    rest escaped text, joined by '; '."""
    import html  # here only: the command line's annotate writes no HTML (html.entities is large)

    parts = []
    for citation in (c.strip() for c in re.split(r"[;|]", str(citations or ""))):
        if not citation:
            continue
        url = citation_url(citation)
        text = html.escape(citation)
        parts.append(f'<a href="{html.escape(url)}">{text}</a>' if url else text)
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# The per-sample tables' columns (README.md, "Outputs"), read by every writer and reader of them

ALLELE_COLUMNS = [
    "sample",
    "chrom",
    "pos",
    "ref",
    "alt",
    "consequence",
    "hgvsc",
    "hgvsp",
    "hgvsp_short",
    "exon",
    "intron",
    "domain",
    "flags",
    "oncogenicity",
    "kb_drugs",
    "genotype",
    "vaf",
    "depth",
    "alt_depth",
    "filter",
    "used_for_verdict",
    "origin",
    "alt_index",
    "variant_type",
    "hgvsg",
    "genomic_key",
    "protein_start",
    "protein_end",
    "tumour_sample",
    "build",
    "normal_sample",
    "normal_genotype",
    "normal_vaf",
    "normal_depth",
]


TKI_COLUMNS = [
    "sample",
    "hgvsp_short",
    "drug",
    "response",
    "evidence_level",
    "evidence_type",
    "tumour_type",
    "tumour_type_match",
    "match_basis",
    "citations",
    "note",
    "evidence_id",
    "alteration",
    "drug_kind",
    "alteration_kind",
    "level_in_context",
    "amp_tier",
    "oncokb_level",
]


# The column contract of verdicts.tsv (README.md, "Outputs"); match_basis and notes follow.
VERDICT_COLUMNS = [
    "sample",
    "drug",
    "drug_kind",
    "verdict",
    "level_in_context",
    "amp_tier",
    "oncokb_level",
    "context",
    "evidence_level",
    "alleles",
    "warnings",
    "reason",
    "citations",
    "evidence_ids",
    "kb_version",
    "kb_hash",
]


STRUCTURAL_COLUMNS = [
    "sample",
    "chrom",
    "pos",
    "end",
    "ref",
    "alt",
    "svtype",
    "copy_number",
    "event",
    "filter",
]


TABLE_COLUMNS = {
    "alleles": ALLELE_COLUMNS,
    "tki": TKI_COLUMNS,
    "verdicts": VERDICT_COLUMNS,
    "structural": STRUCTURAL_COLUMNS,
}
