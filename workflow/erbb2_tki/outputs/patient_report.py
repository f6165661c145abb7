"""One page per patient: a self-contained HTML report of one sample, for the tumour board.

A molecular tumour board reads one patient at a time; the batch tables spread that patient's
answer over four TSVs. This module renders one sample's rows (alleles, verdicts, structural
records and its status) into a single HTML page with everything a reader needs, top to bottom:
who and what was analysed (sample, tumour type, build, VCF and its sha256, pipeline and
knowledge-base versions), a plain-words summary, the alleles with what was set aside and why, a
lollipop of the alleles on the NP_004439.2 domain map, the drugs grouped by tier with their
warnings spelled out and linked citations, and the methods and limitations.

The page is self-contained and safe to open anywhere: no scripts (a Content-Security-Policy
forbids them too), no network, no external files; CSS and the SVG figure are inline, and an A4
print stylesheet lays it out for paper (or headless Chromium's PDF, see `write_pdf`). Every value
that comes from a VCF, a sample sheet or a table is escaped with html.escape; only citation ids
that match a known pattern (PMID, PMC, DOI) become links, built here from their digits. There are
no dates on the page, so a re-run on the same inputs writes the same bytes.

The workflow's annotate job writes `results/reports/{sample}.html` for every sample of its shard
(ok or failed); `erbb2-tki annotate --out-report FILE` writes one; `python -m
erbb2_tki.outputs.patient_report pdf` renders a shard's pages to PDF when the config asks (report_pdf).
No pandas here: this runs on the per-sample path.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import PROTEIN, TRANSCRIPT, __version__
from ..fileio import file_sha256 as file_sha256  # the page prints it; fileio owns it

PROTEIN_LENGTH = 1255  # NP_004439.2

# --- vocabulary: how table codes read in words --------------------------------------------------

VERDICT_WORDS = {
    "sensitive": "sensitive",
    "reduced_sensitivity": "reduced sensitivity",
    "resistant": "resistant",
    "conflicting": "conflicting evidence",
    "no_evidence": "no evidence",
}
CONTEXT_WORDS = {
    "same_tumour_type": "in this tumour type",
    "pan_cancer": "tumour-agnostic (pan-cancer)",
    "subtype": "in a subtype of this tumour type (shown, not counted as the same tumour)",
    "other_tumour_type": "in another tumour type",
    "unknown": "tumour type of the sample unknown",
}
ORIGIN_WORDS = {"somatic": "somatic", "germline": "germline", "unknown": "unknown"}
# Why an allele was set aside (alleles.tsv used_for_verdict "no:<reason>").
SET_ASIDE_WORDS = {
    "germline": "germline (in the matched normal, or a common polymorphism)",
    "filtered": "the variant caller's FILTER is not PASS",
    "not_in_tumour_genotype": "the tumour sample's genotype does not carry it",
    "ref_mismatch": "its REF disagrees with the reference genome at NM_004448.4",
    "not_named": "it could not be named on NM_004448.4",
    "merged_in_cis": "merged with a neighbouring allele in cis (listed as the combined allele)",
}
# Warning codes of verdicts.tsv (`code` or `code:detail`), in words; unknown codes are shown
# as their code with underscores read as spaces, so a new code is never hidden.
WARNING_WORDS = {
    "resistance_allele": (
        "the sample carries {detail}, a known TKI-resistance allele, and this drug has no "
        "evidence specific to it"
    ),
    "other_tumour_resistance": (
        "resistance was reported only in another tumour type ({detail}); shown, not applied to "
        "this sample"
    ),
    "component_resistant": (
        "{detail}, a component of this combination, is resistant for this sample; the "
        "resistance carries over to the combination"
    ),
    "class_outranks_allele": (
        "class-level evidence outranked allele-level evidence for {detail}: see the reason"
    ),
    "non_target_allele": "{detail} is not a drug target; its evidence is set aside",
    "possible_amplification": (
        "the VCF holds a possible ERBB2 amplification record; copy number is not assessed here"
    ),
    "no_tumour_type": (
        "the sample has no tumour type, so no evidence counts as the same tumour type"
    ),
}
VERDICT_CLASS = {
    "sensitive": "v-sens",
    "reduced_sensitivity": "v-reduced",
    "resistant": "v-res",
    "conflicting": "v-conf",
    "no_evidence": "v-none",
}

NOT_ASSESSED = (
    "ERBB2 copy number and amplification (the standard HER2 test is IHC/ISH; a copy-number or "
    "breakend record in the VCF is only listed), gene fusions and rearrangements, "
    "other genes (ERBB3, EGFR, PIK3CA and the rest of the pathway), tumour mutational burden, "
    "and alleles outside NM_004448.4's span plus padding."
)
RESEARCH_USE = (
    "For research use only. This page is generated automatically from a variant call file and a "
    "curated knowledge base; it is not a diagnostic report and does not replace review by a "
    "molecular pathologist or the treating physician."
)

_STYLE = """
:root { --ink: #1a1a1a; --muted: #555; --rule: #c8c8c8; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 13px; color: var(--ink);
  margin: 0 auto; padding: 18px 22px; max-width: 1060px; line-height: 1.35; }
h1 { font-size: 20px; margin: 0 0 2px 0; }
h2 { font-size: 16px; margin: 20px 0 6px 0; border-bottom: 2px solid #333; padding-bottom: 2px; }
h3 { font-size: 14px; margin: 14px 0 4px 0; }
p { margin: 4px 0 8px 0; }
.ruo { border: 1px solid #b26b00; background: #fff6e5; padding: 4px 8px; margin: 6px 0 10px 0;
  font-size: 12px; }
.failed-box { border: 2px solid #a40000; background: #fdecea; padding: 8px 10px; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 10px 0; }
th, td { border: 1px solid var(--rule); padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #efefef; font-weight: bold; }
table.facts { width: auto; }
table.facts th { background: none; border: none; padding: 1px 14px 1px 0; white-space: nowrap; }
table.facts td { border: none; padding: 1px 0; }
td.num { text-align: right; white-space: nowrap; }
code, .mono { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12px; }
.hash { word-break: break-all; }
.v { font-weight: bold; white-space: nowrap; padding: 1px 5px; border-radius: 3px; }
.v-sens { background: #009E73; color: #fff; }
.v-reduced { background: #E69F00; color: #000; }
.v-res { background: #D55E00; color: #fff; }
.v-conf { background: #CC79A7; color: #000; }
.v-none { background: #eee; color: #555; }
tr.aside td { color: var(--muted); background: #f7f7f7; }
ul.warn { margin: 0; padding-left: 16px; }
ul.warn li { margin: 0 0 2px 0; }
.muted { color: var(--muted); }
.cites a { margin-right: 6px; white-space: nowrap; }
figure { margin: 4px 0 10px 0; }
figcaption { font-size: 11px; color: var(--muted); }
svg text { font-family: "DejaVu Sans", Arial, sans-serif; }
@page { size: A4; margin: 14mm 12mm 14mm 12mm; }
@media print {
  body { font-size: 9.5pt; padding: 0; max-width: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  tr, figure, .failed-box { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
  .v, th, tr.aside td, .ruo, .failed-box { -webkit-print-color-adjust: exact;
    print-color-adjust: exact; }
}
"""

# Content-Security-Policy: nothing may load or run; only the inline style applies.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _e(value: object) -> str:
    """Escaped text (quotes too, so it is safe inside attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


# --- inputs -------------------------------------------------------------------------------------


@dataclass
class PageInput:
    """What one sample's page is made of: its status row and its tables' rows, all as text.

    `status` is the sample's row of results/annotate/shard_k/status.tsv (sample, status, stage,
    reason, build, tumour_type, vcf, vcf_sha256, kb_version, kb_hash, ...). Missing columns
    read as empty, so pages render from tables of any release.
    """

    status: Mapping[str, str]
    alleles: Sequence[Mapping[str, str]] = ()
    verdicts: Sequence[Mapping[str, str]] = ()
    structural: Sequence[Mapping[str, str]] = ()
    tumour_type_name: str = ""
    domains: Sequence[tuple[str, int, int]] = ()
    kb_version: str = ""
    kb_hash: str = ""
    pipeline_version: str = __version__
    extra: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str:
        return str(self.status.get(key) or "")


def domains_of(transcript: Any) -> list[tuple[str, int, int]]:
    """(name, start, end) of each domain of a loaded transcript (empty when none is loaded)."""
    out = []
    for d in getattr(transcript, "domains", ()) or ():
        out.append((str(d.name), int(d.start), int(d.end)))
    return out


def tumour_type_name(kb: Any, code: str) -> str:
    """The OncoTree name of a code from the knowledge base's tree ('' when unknown)."""
    tree = getattr(kb, "oncotree", None)
    nodes = getattr(tree, "nodes", {}) or {}
    node = nodes.get(code.strip().upper()) if code else None
    return str(getattr(node, "name", "") or "")


# --- small helpers ------------------------------------------------------------------------------


def _used(row: Mapping[str, str]) -> bool:
    return str(row.get("used_for_verdict", "")).strip() == "yes"


def _aside_code(row: Mapping[str, str]) -> str:
    """The short reason ('germline', 'filtered', ...) an allele was set aside."""
    value = str(row.get("used_for_verdict", "")).strip()
    return (value[3:] if value.startswith("no:") else value).replace("_", " ") or "not used"


def _aside_reason(row: Mapping[str, str]) -> str:
    value = str(row.get("used_for_verdict", "")).strip()
    code = value[3:] if value.startswith("no:") else value
    return SET_ASIDE_WORDS.get(code, code.replace("_", " ") or "not used")


def _allele_label(row: Mapping[str, str]) -> str:
    for key in ("hgvsp_short", "hgvsc", "hgvsg"):
        if row.get(key):
            return str(row[key])
    return f"{row.get('chrom', '')}:{row.get('pos', '')} {row.get('ref', '')}>{row.get('alt', '')}"


def _vaf_text(value: str) -> str:
    try:
        return f"{float(value) * 100:.1f}%"
    except (TypeError, ValueError):
        return ""


def _tier(row: Mapping[str, str]) -> str:
    """I or II: amp_tier when the table has it, else from the level (A/B -> I, C/D -> II)."""
    tier = str(row.get("amp_tier", "")).strip()
    if tier:
        return tier
    level = str(row.get("level_in_context") or "").strip()
    if not level:  # tables without level_in_context: A/B count only in this tumour or pan-cancer
        level = str(row.get("evidence_level") or "").strip()
        context = str(row.get("context") or row.get("tumour_type_match") or "")
        if level in ("A", "B") and context not in ("same_tumour_type", "pan_cancer", ""):
            return "II"
    return {"A": "I", "B": "I", "C": "II", "D": "II"}.get(level, "")


def warning_text(code: str) -> str:
    """One warning code (`code` or `code:detail`) in words."""
    name, _, detail = code.partition(":")
    name, detail = name.strip(), ", ".join(d.strip() for d in detail.split(",") if d.strip())
    template = WARNING_WORDS.get(name)
    if template is None:
        words = name.replace("_", " ")
        return f"{words}: {detail}" if detail else words
    return template.format(detail=detail or "see reason").replace(" (see reason)", "")


def _warnings(row: Mapping[str, str]) -> list[str]:
    return [w for w in str(row.get("warnings", "")).split(";") if w.strip()]


_PMID = re.compile(r"^PMID:\s*(\d{1,9})$", re.I)
_PMC = re.compile(r"^(?:PMCID:\s*)?(PMC\d{1,9})$", re.I)
_CIVIC = re.compile(r"^CIViC:\s*EID(\d{1,9})$", re.I)
_DOI = re.compile(r"^(?:DOI:\s*|https?://(?:dx\.)?doi\.org/)(10\.\d{4,9}/\S+)$", re.I)


def citation_link(citation: str) -> str:
    """One citation as HTML: a link for PMID, PMC, DOI and CIViC evidence ids, escaped text for
    anything else (NCCN guidelines, journal references)."""
    text = citation.strip()
    if not text:
        return ""
    if m := _PMID.match(text):
        url = f"https://pubmed.ncbi.nlm.nih.gov/{m.group(1)}/"
    elif m := _PMC.match(text):
        url = f"https://www.ncbi.nlm.nih.gov/pmc/articles/{m.group(1).upper()}/"
    elif m := _CIVIC.match(text):
        url = f"https://civicdb.org/evidence/{m.group(1)}/summary"
    elif m := _DOI.match(text):
        url = "https://doi.org/" + urllib.parse.quote(m.group(1), safe="/:;()._-")
    else:
        return f"<span>{_e(text)}</span>"
    return f'<a href="{_e(url)}">{_e(text)}</a>'


def _citations(value: str) -> str:
    links = [citation_link(c) for c in re.split(r"[;|]", value or "")]
    return " ".join(link for link in links if link)


# --- the lollipop -------------------------------------------------------------------------------

_DOMAIN_FILLS = (
    "#d9e6f2",
    "#c6dbef",
    "#b3cde3",
    "#a6bddb",
    "#9ecae1",
    "#c7e9c0",
    "#fdd0a2",
    "#fcbba1",
)


def lollipop_svg(
    alleles: Sequence[Mapping[str, str]], domains: Sequence[tuple[str, int, int]]
) -> str:
    """Inline SVG: this sample's alleles as stems on the NP_004439.2 domain map.

    Used alleles are filled circles, set-aside alleles hollow grey; labels are staggered over
    up to four heights so neighbours stay readable. Alleles without a protein position (intronic,
    UTR) are left out and named in the caption by the caller.
    """
    width, left, right = 960, 30, 20
    scale = (width - left - right) / PROTEIN_LENGTH

    def x(residue: int) -> float:
        return round(left + (min(max(residue, 1), PROTEIN_LENGTH) - 0.5) * scale, 1)

    # label rows first (the lowest row whose last label ends before this one starts), so the
    # figure is only as tall as its labels need
    stems = []
    last_end = [-1000.0] * 4
    for residue, label, used in _placed_alleles(alleles):
        cx = x(residue)
        half = 3.5 * len(label) + 4
        free = [r for r in range(len(last_end)) if cx - half > last_end[r]]
        # no free row (many alleles close together): the row whose last label ends first
        row = free[0] if free else min(range(len(last_end)), key=last_end.__getitem__)
        last_end[row] = cx + half
        stems.append((cx, label, used, row))
    n_rows = max((row for *_, row in stems), default=0) + 1
    spacing = 34

    def head(row: int) -> int:
        return 28 + spacing * (n_rows - 1 - row)

    track_y, track_h = head(0) + 30, 22
    height = track_y + track_h + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        'role="img" aria-labelledby="lollipop-title">',
        '<title id="lollipop-title">ERBB2 alleles of this sample on NP_004439.2</title>',
        *domain_track_svg(domains, track_y, track_h, left, right, width),
    ]
    for cx, _label, used, row in stems:
        top = head(row)
        colour = "#0072B2" if used else "#999"
        fill = colour if used else "#fff"
        parts.append(
            f'<line x1="{cx}" y1="{top}" x2="{cx}" y2="{track_y}" stroke="{colour}" '
            'stroke-width="1.5"/>'
        )
        parts.append(
            f'<circle cx="{cx}" cy="{top}" r="6" fill="{fill}" stroke="{colour}" stroke-width="2"/>'
        )
    # labels last, with a white halo, so a taller neighbour's stem never hides one
    for cx, label, _, row in stems:
        parts.append(
            f'<text x="{cx}" y="{head(row) - 10}" font-size="11" text-anchor="middle" '
            f'stroke="#fff" stroke-width="3" paint-order="stroke">{_e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def domain_track_svg(
    domains: Sequence[tuple[str, int, int]],
    track_y: float,
    track_h: float,
    left: float,
    right: float,
    width: float,
) -> list[str]:
    """SVG elements of the NP_004439.2 domain map: the chain, a box per domain (its name inside
    when it fits, the full name and span on hover) and residue ticks under it; x runs from
    `left` to `width - right`. Shared by this page's lollipop and the batch lollipop (plots.py)."""
    scale = (width - left - right) / PROTEIN_LENGTH

    def x(residue: int) -> float:
        return round(left + (min(max(residue, 1), PROTEIN_LENGTH) - 0.5) * scale, 1)

    parts = [
        f'<rect x="{left}" y="{track_y + 8}" width="{width - left - right}" height="6" fill="#bbb"/>'
    ]
    for i, (name, start, end) in enumerate(domains):
        x0, x1 = x(start), x(end)
        fill = _DOMAIN_FILLS[i % len(_DOMAIN_FILLS)]
        parts.append(
            f'<rect x="{x0}" y="{track_y}" width="{round(x1 - x0 + scale, 1)}" height="{track_h}" '
            f'fill="{fill}" stroke="#567"><title>{_e(name)} {start}-{end}</title></rect>'
        )
        label = _short_domain(name, (x1 - x0) / 6.2)
        if label:
            parts.append(
                f'<text x="{round((x0 + x1) / 2, 1)}" y="{track_y + 15}" font-size="10" '
                f'text-anchor="middle">{_e(label)}</text>'
            )
    for residue in (1, 250, 500, 750, 1000, PROTEIN_LENGTH):
        parts.append(
            f'<text x="{x(residue)}" y="{track_y + track_h + 14}" font-size="10" '
            f'text-anchor="middle" fill="#555">{residue}</text>'
        )
    return parts


def _placed_alleles(alleles: Sequence[Mapping[str, str]]) -> list[tuple[int, str, bool]]:
    placed = []
    for row in alleles:
        try:
            residue = int(str(row.get("protein_start", "")).strip())
        except ValueError:
            continue
        placed.append((residue, _allele_label(row), _used(row)))
    return sorted(placed)


def _short_domain(name: str, room: float) -> str:
    """The domain's name when it fits its box (room in characters), else a short form, else ''."""
    short = {
        "signal peptide": "SP",
        "transmembrane": "TM",
        "juxtamembrane": "JM",
        "kinase domain": "kinase",
        "C-terminal tail": "C-tail",
    }
    if name.startswith("extracellular domain "):
        candidates = [name, "ECD " + name.rsplit(" ", 1)[-1], name.rsplit(" ", 1)[-1]]
    else:
        candidates = [name, short.get(name, "")]
    for text in candidates:
        if text and len(text) <= room:
            return text
    return ""


# --- sections -----------------------------------------------------------------------------------


def _facts(page: PageInput) -> str:
    code = page.get("tumour_type")
    tumour = f"{code} ({page.tumour_type_name})" if code and page.tumour_type_name else code
    tumour_sample = page.get("tumour_sample")
    normal_sample = page.get("normal_sample")
    rows = [
        ("Sample", f"<strong>{_e(page.get('sample'))}</strong>"),
        ("Tumour type (OncoTree)", _e(tumour) if tumour else "not given"),
        ("Genome build", _e(page.get("build")) or "not determined"),
        ("VCF file", f'<span class="mono">{_e(page.get("vcf"))}</span>'),
        (
            "VCF sha256",
            f'<span class="mono hash">{_e(page.get("vcf_sha256"))}</span>'
            if page.get("vcf_sha256")
            else "not available",
        ),
    ]
    if tumour_sample or normal_sample:
        columns = f"tumour {_e(tumour_sample or 'not chosen')}"
        if normal_sample:
            columns += f", matched normal {_e(normal_sample)}"
        rows.append(("VCF sample columns", columns))
    rows += [
        ("Transcript", f"{TRANSCRIPT} / {PROTEIN}"),
        ("Pipeline", f"erbb2-tki {_e(page.pipeline_version)}"),
        (
            "Knowledge base",
            f"version {_e(page.kb_version or page.get('kb_version'))}, "
            f'<span class="mono hash">{_e(page.kb_hash or page.get("kb_hash"))}</span>',
        ),
        (
            "Status",
            "analysed" if page.get("status") == "ok" else "<strong>failed</strong>",
        ),
    ]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="facts" id="facts">{body}</table>'


def _drug_list(rows: Sequence[Mapping[str, str]]) -> str:
    return ", ".join(_e(r.get("drug", "")) for r in rows)


def summary_text(page: PageInput) -> str:
    """The plain-words paragraph at the top of the page (HTML, values escaped)."""
    sample = _e(page.get("sample"))
    if page.get("status") != "ok":
        stage = page.get("stage") or "analysis"
        return (
            f"Sample {sample} could not be analysed: it failed at the {_e(stage)} step, so no "
            "allele is named and no drug verdict is given. The reason and what to fix are below."
        )
    used = [a for a in page.alleles if _used(a)]
    aside = [a for a in page.alleles if not _used(a)]
    code = page.get("tumour_type")
    where = (
        f" ({_e(page.tumour_type_name or code)}, {_e(code)})"
        if code
        else " (tumour type not given: no evidence can count as the same tumour type)"
    )
    sentences = []
    if used:
        names = "; ".join(
            f"{_e(_allele_label(a))}"
            + (f" in the {_e(a.get('domain'))}" if a.get("domain") else "")
            + (f", VAF {_vaf_text(a.get('vaf', ''))}" if _vaf_text(a.get("vaf", "")) else "")
            for a in used
        )
        n = len(used)
        sentences.append(
            f"Sample {sample}{where} carries {n} ERBB2 allele{'s' if n != 1 else ''} used for "
            f"the drug verdicts: {names}."
        )
    else:
        sentences.append(
            f"Sample {sample}{where} carries no ERBB2 allele that can decide a drug verdict, so "
            "no drug is supported or argued against by its ERBB2 sequence."
        )
    if aside:
        names = "; ".join(f"{_e(_allele_label(a))} ({_e(_aside_code(a))})" for a in aside)
        n = len(aside)
        sentences.append(
            f"{n} further call{'s were' if n != 1 else ' was'} listed but set aside: {names}."
        )
    groups = _therapy_groups(page.verdicts)
    if groups["tier1"]:
        sentences.append(
            f"Tier I evidence (level A/B in this tumour type) supports {_drug_list(groups['tier1'])}."
        )
    if groups["tier2"]:
        sentences.append(
            "Tier II evidence (level C/D: another tumour type, case reports or preclinical data) "
            f"suggests sensitivity to {_drug_list(groups['tier2'])}."
        )
    against = [r for r in groups["against"] if r.get("verdict") != "conflicting"]
    if against:
        listed = ", ".join(
            f"{_e(r.get('drug'))} ({_e(VERDICT_WORDS.get(r.get('verdict', ''), r.get('verdict')))})"
            for r in against
        )
        sentences.append(f"Evidence argues against {listed}.")
    conflicting = [r for r in groups["against"] if r.get("verdict") == "conflicting"]
    if conflicting:
        sentences.append(f"Evidence conflicts for {_drug_list(conflicting)}.")
    if used and not (groups["tier1"] or groups["tier2"] or groups["against"]):
        sentences.append("The knowledge base holds no drug evidence for these alleles.")
    if any("amplification" in str(s.get("event", "")) for s in page.structural):
        sentences.append(
            "The VCF also holds a possible ERBB2 amplification record; copy number is not "
            "assessed here and needs the standard HER2 test."
        )
    return " ".join(sentences)


def _therapy_groups(verdicts: Sequence[Mapping[str, str]]) -> dict[str, list[Mapping[str, str]]]:
    groups: dict[str, list[Mapping[str, str]]] = {
        "tier1": [],
        "tier2": [],
        "against": [],
        "none": [],
    }
    for row in verdicts:
        verdict = str(row.get("verdict", ""))
        if verdict == "sensitive":
            groups["tier1" if _tier(row) == "I" else "tier2"].append(row)
        elif verdict in ("resistant", "reduced_sensitivity", "conflicting"):
            groups["against"].append(row)
        else:
            groups["none"].append(row)
    order = {"resistant": 0, "conflicting": 1, "reduced_sensitivity": 2}
    groups["against"].sort(key=lambda r: order.get(str(r.get("verdict")), 3))
    return groups


def _alleles_section(page: PageInput) -> str:
    if not page.alleles:
        n = page.get("n_records")
        read = f" ({_e(n)} record{'s' if n != '1' else ''} read in the region)" if n else ""
        return f"<p>No ERBB2 allele was found in the VCF's ERBB2 region{read}.</p>"
    head = (
        "<thead><tr><th>Allele</th><th>HGVS c. / p.</th><th>Exon</th><th>Domain</th>"
        "<th>Consequence</th><th>VAF</th><th>Depth (alt/total)</th><th>Origin</th>"
        "<th>FILTER</th><th>Oncogenicity</th><th>Used for verdicts</th></tr></thead>"
    )
    body = []
    for a in page.alleles:
        used = _used(a)
        exon = a.get("exon") or (f"intron {a.get('intron')}" if a.get("intron") else "")
        depth = ""
        if a.get("depth"):
            depth = f"{_e(a.get('alt_depth') or '?')}/{_e(a.get('depth'))}"
        origin = a.get("origin", "")
        hgvs = "<br>".join(
            f'<span class="mono">{_e(a.get(k))}</span>' for k in ("hgvsc", "hgvsp") if a.get(k)
        )
        body.append(
            f'<tr class="{"used" if used else "aside"}">'
            f"<td><strong>{_e(_allele_label(a))}</strong></td><td>{hgvs}</td>"
            f"<td>{_e(exon)}</td><td>{_e(a.get('domain'))}</td>"
            f"<td>{_e(str(a.get('consequence', '')).replace('&', ' & '))}</td>"
            f'<td class="num">{_e(_vaf_text(a.get("vaf", "")))}</td>'
            f'<td class="num">{depth}</td>'
            f"<td>{_e(ORIGIN_WORDS.get(origin, origin) or 'not recorded')}</td>"
            f"<td>{_e(a.get('filter'))}</td><td>{_e(a.get('oncogenicity'))}</td>"
            f"<td>{'used' if used else 'set aside: ' + _e(_aside_reason(a))}</td></tr>"
        )
    table = f'<table id="alleles-table">{head}<tbody>{"".join(body)}</tbody></table>'
    unplaced = [
        _allele_label(a) for a in page.alleles if not str(a.get("protein_start", "")).strip()
    ]
    caption = (
        "ERBB2 alleles of this sample on the NP_004439.2 domain map (residues 1-1255). Filled: "
        "used for the verdicts; hollow grey: set aside."
    )
    if unplaced:
        caption += (
            " Not on the protein (intronic, UTR or unnamed): " + _e(", ".join(unplaced)) + "."
        )
    figure = (
        f'<figure id="lollipop">{lollipop_svg(page.alleles, page.domains)}'
        f"<figcaption>{caption}</figcaption></figure>"
    )
    return table + figure


def _structural_section(page: PageInput) -> str:
    if not page.structural:
        return ""
    rows = "".join(
        f"<tr><td>{_e(s.get('event'))}</td><td>{_e(s.get('svtype'))}</td>"
        f"<td>{_e(s.get('chrom'))}:{_e(s.get('pos'))}-{_e(s.get('end'))}</td>"
        f"<td>{_e(s.get('copy_number'))}</td><td>{_e(s.get('filter'))}</td></tr>"
        for s in page.structural
    )
    return (
        "<h3>Structural and copy-number records (listed, not assessed)</h3>"
        '<table id="structural-table"><thead><tr><th>Event</th><th>Type</th><th>Span</th>'
        f"<th>Copy number</th><th>FILTER</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _therapy_table(rows: Sequence[Mapping[str, str]], table_id: str) -> str:
    head = (
        "<thead><tr><th>Drug</th><th>Verdict</th><th>Level in context (AMP/ASCO/CAP)</th>"
        "<th>OncoKB-style level</th><th>Evidence context</th><th>Alleles</th>"
        "<th>Warnings and reason</th><th>Citations</th></tr></thead>"
    )
    body = []
    for r in rows:
        verdict = str(r.get("verdict", ""))
        level = r.get("level_in_context") or ""
        kb_level = r.get("evidence_level") or ""
        level_text = _e(level or kb_level)
        if level and kb_level and level != kb_level:
            level_text += f' <span class="muted">(knowledge base: {_e(kb_level)})</span>'
        tier = _tier(r)
        if tier:
            level_text += f" &middot; Tier {_e(tier)}"
        context = str(r.get("context") or r.get("tumour_type_match") or "")
        warnings = "".join(f"<li>{_e(warning_text(w))}</li>" for w in _warnings(r))
        reason = f'<li class="muted">{_e(r.get("reason"))}</li>' if r.get("reason") else ""
        kind = str(r.get("drug_kind", "")).replace("_", " ")
        body.append(
            "<tr>"
            f"<td><strong>{_e(r.get('drug'))}</strong>"
            + (f'<br><span class="muted">{_e(kind)}</span>' if kind else "")
            + f'</td><td><span class="v {VERDICT_CLASS.get(verdict, "v-none")}">'
            f"{_e(VERDICT_WORDS.get(verdict, verdict))}</span></td>"
            f"<td>{level_text}</td><td>{_e(r.get('oncokb_level')) or '&ndash;'}</td>"
            f"<td>{_e(CONTEXT_WORDS.get(context, context.replace('_', ' ')))}</td>"
            f"<td>{_e(str(r.get('alleles', '')).replace(';', ', '))}</td>"
            f'<td><ul class="warn">{warnings}{reason}</ul></td>'
            f'<td class="cites">{_citations(str(r.get("citations", "")))}</td></tr>'
        )
    return f'<table id="{table_id}">{head}<tbody>{"".join(body)}</tbody></table>'


def _therapies_section(page: PageInput) -> str:
    groups = _therapy_groups(page.verdicts)
    parts = []
    titles = (
        ("tier1", "Tier I: sensitive, level A/B evidence in this tumour type", "therapy-tier1"),
        ("tier2", "Tier II: sensitive, level C/D evidence", "therapy-tier2"),
        (
            "against",
            "Resistance, reduced sensitivity and conflicting evidence",
            "therapy-against",
        ),
    )
    for key, title, table_id in titles:
        if groups[key]:
            parts.append(f"<h3>{title}</h3>{_therapy_table(groups[key], table_id)}")
    if not any(groups[k] for k in ("tier1", "tier2", "against")):
        parts.append("<p>No drug has knowledge-base evidence for this sample's alleles.</p>")
    if groups["none"]:
        names = ", ".join(_e(r.get("drug")) for r in groups["none"])
        noted = any(_warnings(r) for r in groups["none"])
        parts.append(
            f'<h3>No evidence</h3><p id="therapy-none" class="muted">No knowledge-base evidence '
            f"for this sample's alleles: {names}."
            + (" Notes on some of them are under Conflicts and warnings." if noted else "")
            + "</p>"
        )
    return "".join(parts)


def _warnings_section(page: PageInput) -> str:
    """Every warning of every drug, in words, once per (warning, drugs)."""
    by_warning: dict[str, list[str]] = {}
    for r in page.verdicts:
        for w in _warnings(r):
            by_warning.setdefault(warning_text(w), []).append(str(r.get("drug", "")))
    if not by_warning:
        return "<p>No conflicts or warnings.</p>"
    items = "".join(
        f'<li>{_e(text)} &mdash; <span class="muted">{_e(", ".join(drugs))}</span></li>'
        for text, drugs in by_warning.items()
    )
    return f'<ul id="warnings-list">{items}</ul>'


def _failed_section(page: PageInput) -> str:
    reason = page.get("reason") or "no reason was recorded"
    what, _, fix = reason.partition(" Fix: ")
    stage = page.get("stage") or "the pipeline"
    fix_text = fix or (
        "see the job log under results/logs/ for details; if the reason names an internal error, "
        "report it with the log."
    )
    return (
        '<div class="failed-box" id="failure">'
        f"<p><strong>This sample failed at the {_e(stage)} step.</strong></p>"
        f"<p><strong>Why:</strong> {_e(what)}</p>"
        f"<p><strong>What to fix:</strong> {_e(fix_text)}</p>"
        "<p>Then run the workflow again: only this sample's shard is re-run.</p></div>"
    )


def _methods(page: PageInput) -> str:
    return (
        "<ul>"
        f"<li>Alleles are named on {TRANSCRIPT} (MANE Select) and {PROTEIN} with HGVS "
        "nomenclature; exon and domain from the project's transcript model. Only the VCF's "
        "ERBB2 region (the transcript span plus padding) is read.</li>"
        "<li>An allele decides verdicts when its FILTER is PASS (or missing), its REF agrees "
        "with the reference, the tumour genotype carries it and it is not germline; every other "
        "call is listed and set aside with the reason.</li>"
        "<li>Drug verdicts come from the erbb2-tki knowledge base "
        f"(version {_e(page.kb_version or page.get('kb_version'))}): its evidence rows matched to "
        "the alleles by exact allele, codon or allele class. Levels in context follow AMP/ASCO/CAP "
        "2017 (Li et al., J Mol Diagn 2017, "
        f"{citation_link('PMID:27993330')}): level A/B only for evidence in this tumour type; "
        "OncoKB-style levels (1, 2, 3A, 3B, 4, R1, R2) follow OncoKB's definitions "
        f"({citation_link('PMID:28890946')}).</li>"
        f"<li><strong>Not assessed:</strong> {_e(NOT_ASSESSED)}</li>"
        f'<li class="ruo-li"><strong>{_e(RESEARCH_USE)}</strong></li>'
        "</ul>"
    )


def render_page(page: PageInput) -> str:
    """The sample's page as one HTML document (deterministic: same input, same text)."""
    sample = _e(page.get("sample"))
    ok = page.get("status") == "ok"
    sections = [
        f"<h1>ERBB2 TKI report: {sample}</h1>",
        f'<p class="ruo">{_e(RESEARCH_USE)}</p>',
        _facts(page),
        f'<h2>Summary</h2><p id="summary">{summary_text(page)}</p>',
    ]
    if ok:
        sections += [
            f'<h2>ERBB2 alleles</h2><section id="alleles">{_alleles_section(page)}'
            f"{_structural_section(page)}</section>",
            f'<h2>Therapies</h2><section id="therapies">{_therapies_section(page)}</section>',
            f'<h2>Conflicts and warnings</h2><section id="warnings">{_warnings_section(page)}'
            "</section>",
        ]
    else:
        sections.append(f"<h2>What went wrong</h2>{_failed_section(page)}")
    sections.append(
        f'<h2>Methods and limitations</h2><section id="methods">{_methods(page)}</section>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>ERBB2 TKI report: {sample}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def write_page(page: PageInput, out: str | os.PathLike[str]) -> Path:
    """Render and write the page atomically; returns its path."""
    from .tables import atomic_write_bytes

    atomic_write_bytes(out, render_page(page).encode("utf-8"))
    return Path(out)


def page_from_tables(
    status: Mapping[str, str],
    rows: Mapping[str, Sequence[Mapping[str, str]]],
    kb: Any = None,
    transcript: Any = None,
) -> PageInput:
    """A PageInput from a status row and the sample's table rows (alleles, verdicts, structural)."""
    code = str(status.get("tumour_type") or "")
    if code and kb is not None:
        # the sheet may spell it in lower case or as an alias (CRC); an unknown code fails the
        # sample, and its page shows the code as given
        with contextlib.suppress(Exception):
            code = str(kb.resolve_tumour_type(code) or code)
        status = {**status, "tumour_type": code}
    return PageInput(
        status=status,
        alleles=rows.get("alleles", ()),
        verdicts=rows.get("verdicts", ()),
        structural=rows.get("structural", ()),
        tumour_type_name=tumour_type_name(kb, code) if kb is not None else "",
        domains=domains_of(transcript),
        kb_version=str(getattr(kb, "version", "") or status.get("kb_version") or ""),
        kb_hash=str(getattr(kb, "content_hash", "") or status.get("kb_hash") or ""),
    )


# --- PDF ----------------------------------------------------------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Without the background-networking flags Chromium tries to reach Google's hosts at start-up.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-pdf-header-footer",
)
# Skia writes the print time into the PDF's Info dictionary; a fixed value of the same length
# keeps the byte offsets of the cross-reference table valid and the file byte-identical.
_PDF_DATE = re.compile(rb"/(CreationDate|ModDate) ?\((D:\d{14}[^)]{0,10})\)")
FIXED_PDF_DATE = b"D:20000101000000"


def find_chromium() -> str | None:
    """The Chromium binary: $ERBB2_TKI_CHROMIUM, else the first of CHROMIUM_NAMES on PATH."""
    explicit = os.environ.get("ERBB2_TKI_CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def neutralise_pdf_dates(data: bytes) -> bytes:
    """The PDF with its creation and modification dates set to 2000-01-01 00:00 UTC.

    Each date keeps its length (its time-zone digits become zeros), so the byte offsets in the
    cross-reference table stay valid.
    """

    def fixed(m: re.Match[bytes]) -> bytes:
        date = m.group(2)
        zone = re.sub(rb"\d", b"0", date[len(FIXED_PDF_DATE) :])
        return m.group(0).replace(date, FIXED_PDF_DATE + zone)

    return _PDF_DATE.sub(fixed, data)


def write_pdf(
    html_path: str | os.PathLike[str],
    pdf_path: str | os.PathLike[str],
    *,
    chromium: str | None = None,
    profile: str | os.PathLike[str] | None = None,
    timeout: float = 120,
) -> Path:
    """Print an HTML page to PDF (A4, from its print stylesheet) with headless Chromium.

    The dates Chromium embeds are replaced by a fixed one (neutralise_pdf_dates); the rest of
    the file depends only on the page and the Chromium version (fonts, Skia), so the same page
    printed by the same Chromium gives the same bytes.
    """
    from ..errors import InputError
    from .tables import atomic_write_bytes

    binary = chromium or find_chromium()
    if not binary:
        raise InputError(
            "report_pdf is on but no Chromium was found",
            field="report_pdf",
            fix="install Chromium (Debian: apt-get install chromium) or set ERBB2_TKI_CHROMIUM to "
            "its path, or set report_pdf: false",
        )
    source = Path(html_path).resolve()
    target = Path(pdf_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="erbb2-tki-pdf-") as tmp:
        printed = Path(tmp) / "page.pdf"
        command = [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile or Path(tmp) / 'profile'}",
            f"--print-to-pdf={printed}",
            source.as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0 or not printed.is_file():
            raise RuntimeError(
                f"chromium could not print {source} to PDF (exit {done.returncode}): "
                f"{done.stderr[-1500:]}"
            )
        atomic_write_bytes(target, neutralise_pdf_dates(printed.read_bytes()))
    return target


def pdf_shard(
    shard_dir: str | os.PathLike[str],
    reports_dir: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    chromium: str | None = None,
) -> list[dict[str, str]]:
    """PDFs of every page of one annotate shard (its status.tsv lists the samples); writes `out`,
    a table of sample and PDF path, and returns its rows. One Chromium profile serves the shard."""
    from .tables import atomic_write_bytes, read_records, records_tsv_bytes

    rows = []
    with tempfile.TemporaryDirectory(prefix="erbb2-tki-chromium-") as profile:
        for record in read_records(Path(shard_dir) / "status.tsv"):
            sample = record["sample"]
            page = Path(reports_dir) / f"{sample}.html"
            pdf = page.with_suffix(".pdf")
            write_pdf(page, pdf, chromium=chromium, profile=profile)
            rows.append({"sample": sample, "pdf": str(pdf)})
    atomic_write_bytes(out, records_tsv_bytes(rows, ["sample", "pdf"]))
    return rows


# --- command line -------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m erbb2_tki.outputs.patient_report", description="Per-sample report pages."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pdf", help="print one annotate shard's pages to PDF with headless Chromium")
    p.add_argument("--shard-dir", required=True, help="results/annotate/shard_K")
    p.add_argument("--reports-dir", required=True, help="results/reports")
    p.add_argument("--out", required=True, help="table of the PDFs written")
    p.add_argument("--log")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from ..batch.pipeline import open_log

    with open_log(args.log) as log:
        try:
            rows = pdf_shard(args.shard_dir, args.reports_dir, args.out)
        except Exception as err:
            log.failure(f"erbb2-tki report pdf: error: {err}")
            return 1
        log.info(f"{len(rows)} PDF page(s) written")
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the workflow's rules
    sys.exit(main())
