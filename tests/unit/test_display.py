"""Strength shown wherever a verdict appears (issue 11 item 7) and links to each sample's page
(issue 17 item 4): the one output vocabulary, the heatmap's legend and cell encodings (SVG and
PNG), the Excel drug matrix's styles and "about" sheet read back with openpyxl, the MultiQC
table's columns and links, and the verdict page's escaped links.

Verdict rows are synthetic, in the column contract of verdicts.tsv (verdict, amp_tier, context,
drug_kind...), so these tests hold whatever knowledge base produced them.
"""

from __future__ import annotations

import base64
import html
import re
import struct
import zlib
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from erbb2_tki.outputs import multiqc, plots, report_html, tables, vocab, xlsx

HOSTILE = 'x<b>&"#?y z'  # a sample name that HTML, URLs and XML must all survive


def row(sample, drug, verdict, tier="", context="", kind="tki_irreversible", **kw):
    out = {
        "sample": sample,
        "drug": drug,
        "drug_kind": kind,
        "verdict": verdict,
        "level_in_context": {"I": "A", "II": "C"}.get(tier, ""),
        "amp_tier": tier,
        "oncokb_level": {"I": "1", "II": "3B"}.get(tier, ""),
        "context": context,
        "evidence_level": "A" if tier else "",
        "alleles": "p.L755S" if tier else "",
        "warnings": "",
        "reason": "r",
        "citations": "PMID:40293180;DOI:10.1056/NEJMoa2112431;Clin Cancer Res 2022, 28(7):1258",
        "evidence_ids": "",
        "kb_version": "9.9.9",
        "kb_hash": "sha256:feed",
    }
    out.update(kw)
    return out


VERDICTS = pd.DataFrame(
    [
        row("B1", "zongertinib", "sensitive", "II", "other_tumour_type"),
        row("B1", "neratinib", "sensitive", "I", "same_tumour_type"),
        row("B1", "cetuximab", "reduced_sensitivity", "II", "other_tumour_type", "antibody"),
        row("B1", "trastuzumab deruxtecan", "sensitive", "II", "subtype", "adc"),
        row("B2", "zongertinib", "resistant", "I", "same_tumour_type"),
        row("B2", "neratinib", "conflicting", "II", "unknown"),
        row("B2", "cetuximab", "no_evidence", kind="antibody"),
        row(HOSTILE, "neratinib", "no_evidence"),
    ]
)
SUMMARY = pd.DataFrame(
    [
        {"sample": "B1", "status": "ok", "tumour_type": "BRCA", "alleles": "p.L755S"},
        {"sample": "B2", "status": "ok", "tumour_type": "", "alleles": "p.T798I"},
        {"sample": HOSTILE, "status": "ok", "tumour_type": "BRCA", "alleles": ""},
        {"sample": "F1", "status": "failed", "tumour_type": "", "alleles": ""},
    ]
)


# ---------------------------------------------------------------------------------------------
# vocab


def test_every_state_has_a_distinct_colour_and_tier_ii_is_a_lighter_tint() -> None:
    colours = [vocab.fill(s) for s in vocab.STATES]
    tints = [vocab.fill(v, "II") for v in vocab.WITH_EVIDENCE]
    assert len(set(colours + tints)) == len(colours) + len(tints)
    letters = [vocab.STYLE[v].letter for v in vocab.WITH_EVIDENCE]
    assert len(set(letters)) == len(letters) and all(letters)
    for verdict in vocab.WITH_EVIDENCE:
        full = int(vocab.fill(verdict, "I")[1:], 16)
        light = int(vocab.fill(verdict, "II")[1:], 16)
        assert all((light >> s) & 255 >= (full >> s) & 255 for s in (0, 8, 16)), (
            verdict
        )  # every channel towards white


def test_vocab_covers_the_contract_vocabulary() -> None:
    assert set(vocab.VERDICTS) == {
        "sensitive",
        "reduced_sensitivity",
        "resistant",
        "conflicting",
        "no_evidence",
    }
    assert set(vocab.CONTEXTS) == set(vocab.CONTEXT_MARKS) == set(vocab.CONTEXT_LABELS)
    assert vocab.cell_text("sensitive", "other_tumour_type") == "S*"
    assert vocab.cell_text("reduced_sensitivity", "subtype") == "RS\u2020"
    assert vocab.cell_text("resistant", "same_tumour_type") == "R"
    assert vocab.cell_text("no_evidence") == ""
    assert vocab.state_of("something new") == "no_evidence"


def test_every_verdict_and_drug_kind_of_the_knowledge_base_has_a_display() -> None:
    """The vocabulary cannot fall behind the knowledge base: each verdict its rules can give has
    a letter and colour, each drug of drugs.tsv a group (TKIs apart from antibodies and ADCs)."""
    knowledge = Path(__file__).resolve().parents[2] / "annotations" / "knowledge"
    rules = yaml.safe_load((knowledge / "verdict_rules.yaml").read_text(encoding="utf-8"))
    assert set(rules["verdicts"]) <= set(vocab.VERDICTS)
    kinds = vocab.read_drug_kinds(str(knowledge / "drugs.tsv"))
    assert kinds["neratinib"] == "tki_irreversible" and kinds["trastuzumab"] == "antibody"
    for drug, kind in kinds.items():
        group = vocab.drug_group(kind)
        assert (group == "TKIs") == kind.startswith("tki_"), drug
        assert (group == "antibodies and ADCs") == (kind in ("antibody", "adc")), drug


@pytest.mark.parametrize(
    ("citation", "url"),
    [
        ("PMID:40293180", "https://pubmed.ncbi.nlm.nih.gov/40293180/"),
        ("PMID: 123", "https://pubmed.ncbi.nlm.nih.gov/123/"),
        ("PMC8887939", "https://pmc.ncbi.nlm.nih.gov/articles/PMC8887939/"),
        ("PMCID: pmc123", "https://pmc.ncbi.nlm.nih.gov/articles/PMC123/"),
        ("DOI:10.1056/NEJMoa2112431", "https://doi.org/10.1056/NEJMoa2112431"),
        ("doi:10.1158/2159-8290.CD-24-0306", "https://doi.org/10.1158/2159-8290.CD-24-0306"),
        ("https://doi.org/10.1/x", "https://doi.org/10.1/x"),
        ("Clin Cancer Res 2022, 28(7):1258", None),
        ("FDA label", None),
        ("PMID:12x", None),
    ],
)
def test_citation_links(citation: str, url: str | None) -> None:
    assert vocab.citation_url(citation) == url


def test_citations_html_links_and_escapes() -> None:
    out = vocab.citations_html('PMID:1;<script>alert(1)</script>;DOI:10.1000/a"b')
    assert out.startswith('<a href="https://pubmed.ncbi.nlm.nih.gov/1/">PMID:1</a>; ')
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "<script>" not in out
    assert 'href="https://doi.org/10.1000/a%22b"' in out  # a quote cannot end the attribute


@given(st.text(min_size=1, max_size=30).filter(lambda t: "/" not in t))
def test_report_href_is_one_encoded_path_segment(sample: str) -> None:
    href = vocab.href(vocab.report_path(sample))
    assert href.startswith("reports/") and href.count("/") == 1
    assert not set(href) & set(" #?\"'<>&")


@given(
    st.sampled_from(vocab.STATES),
    st.sampled_from(["", *vocab.TIERS]),
    st.sampled_from(["", *vocab.CONTEXTS]),
)
def test_matrix_words_read_back_and_pick_the_heatmap_colour(
    verdict: str, tier: str, context: str
) -> None:
    text = vocab.matrix_text(verdict, tier, context)
    back = vocab.parse_matrix_text(text)
    assert back[0] == verdict
    if verdict in vocab.WITH_EVIDENCE:
        assert back[1] == tier
        assert back[2] == ("" if context == "same_tumour_type" else context)
        key = f"{verdict}:{'II' if tier == 'II' else 'I'}"
    else:
        assert back[1:] == ("", "")
        key = f"{verdict}:"
    assert tables.matrix_style(text) == key
    assert tables.excel_fills()[key][0] == vocab.fill(verdict, "II" if tier == "II" else "I")


def test_drugs_grouped_tkis_first() -> None:
    kinds = {"cetuximab": "antibody", "t-dxd": "adc", "neratinib": "tki_irreversible"}
    groups = vocab.order_drugs(["t-dxd", "fulvestrant", "neratinib", "cetuximab", "a + b"], kinds)
    assert groups == [
        ("TKIs", ["neratinib"]),
        ("antibodies and ADCs", ["cetuximab", "t-dxd"]),
        ("other", ["a + b", "fulvestrant"]),
    ]


# ---------------------------------------------------------------------------------------------
# heatmap


def _svg_texts(path: Path) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text())


def test_heatmap_cells_encode_verdict_tier_and_context(tmp_path: Path) -> None:
    out = plots.verdict_heatmap(VERDICTS, tmp_path / "h.svg", summary=SUMMARY)
    svg = out.read_text()
    texts = _svg_texts(out)
    # cell letters: verdict letter + context mark
    assert {"S*", "S", "RS*", "S\u2020", "R", "C?"} <= set(texts)
    # fills: tier I in full colour, tier II in the tint; no allele and failed have their own
    fills = set(re.findall(r'<rect [^>]*height="18" fill="(#[0-9A-F]{6})"', svg))  # the cells
    assert fills == {
        vocab.fill("sensitive", "I"),
        vocab.fill("sensitive", "II"),
        vocab.fill("reduced_sensitivity", "II"),
        vocab.fill("resistant", "I"),
        vocab.fill("conflicting", "II"),
        vocab.fill("no_evidence"),
        vocab.fill(vocab.NO_ALLELE),
        vocab.fill(vocab.FAILED),
    }
    assert "\u2013" in texts  # the sample without an ERBB2 allele
    # legend: each verdict with tier I and tier II, the no-verdict states, marks and tallies
    joined = " ".join(texts)
    for needed in (
        "S  sensitive",
        "RS  reduced sensitivity",
        "tier I",
        "tier II",
        vocab.STYLE["no_evidence"].label,
        vocab.STYLE[vocab.NO_ALLELE].label,
        "sample failed",
        "evidence only in another tumour type",
        "Right of each row: samples with each verdict",
        plots.TALLY_HEADER,
    ):
        assert needed in joined, needed
    # groups: TKIs above antibodies and ADCs
    assert texts.index("TKIs") < texts.index("antibodies and ADCs")
    assert texts.index("zongertinib") < texts.index("cetuximab")
    # tallies: neratinib has S 1 at tier I and C 1 at tier II
    assert "S 1 (1 I)  C 1 (0 I)" in texts


def test_heatmap_tally_counts() -> None:
    cells = [
        plots.Cell("sensitive", "I"),
        plots.Cell("sensitive", "II"),
        plots.Cell("resistant", "II"),
        plots.Cell("no_evidence"),
        plots.Cell(vocab.NO_ALLELE),
        plots.Cell(vocab.FAILED),
    ]
    assert plots.tally_text(cells) == "S 2 (1 I)  R 1 (0 I)"
    assert plots.tally_text([plots.Cell("no_evidence")]) == "-"


def test_no_allele_needs_the_summary_to_say_so() -> None:
    _, _, cells = plots.verdict_cells(VERDICTS, SUMMARY)
    assert cells[(HOSTILE, "neratinib")].state == vocab.NO_ALLELE
    assert cells[("B2", "cetuximab")].state == "no_evidence"  # has an allele, no evidence
    assert cells[("F1", "neratinib")].state == vocab.FAILED
    _, _, without = plots.verdict_cells(VERDICTS, SUMMARY.drop(columns=["alleles"]))
    assert without[(HOSTILE, "neratinib")].state == "no_evidence"


def _png_pixels(data: bytes) -> list[list[str]]:
    """The rows of pixel colours of an 8-bit palette PNG without filters (as plots writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        (size,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + size]
        assert struct.unpack(">I", data[at + 8 + size : at + 12 + size])[0] == zlib.crc32(
            kind + body
        )
        chunks[kind] = chunks.get(kind, b"") + body
        at += 12 + size
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 3)
    palette = [
        "#" + chunks[b"PLTE"][i : i + 3].hex().upper() for i in range(0, len(chunks[b"PLTE"]), 3)
    ]
    raw = zlib.decompress(chunks[b"IDAT"])
    rows = [raw[r * (width + 1) : (r + 1) * (width + 1)] for r in range(height)]
    assert all(row[0] == 0 for row in rows)  # filter type none
    return [[palette[i] for i in row[1:]] for row in rows]


def _embedded_pngs(svg: str) -> list[list[list[str]]]:
    return [
        _png_pixels(base64.b64decode(data))
        for data in re.findall(r'href="data:image/png;base64,([^"]+)"', svg)
    ]


def test_heatmap_of_500_samples_keeps_tier_and_no_allele_apart(tmp_path: Path) -> None:
    rows, summary = [], []
    for i in range(500):
        sample = f"S{i:03d}"
        has = i % 4 != 0
        summary.append({"sample": sample, "status": "ok", "alleles": "p.L755S" if has else ""})
        for j, drug in enumerate(["neratinib", "zongertinib", "trastuzumab"]):
            verdict = vocab.WITH_EVIDENCE[(i + j) % 4] if has and (i + j) % 5 else "no_evidence"
            tier = "I" if (i // 3) % 2 else "II"
            kind = "antibody" if drug == "trastuzumab" else "tki_irreversible"
            tier = tier if verdict != "no_evidence" else ""
            rows.append(row(sample, drug, verdict, tier, kind=kind))
    svg = plots.verdict_heatmap(rows, tmp_path / "h500.svg", summary=summary)
    # the cells are one palette PNG per drug group (TKIs, antibodies), a pixel per sample
    images = _embedded_pngs(svg.read_text())
    assert [len(image) for image in images] == [2, 1]
    assert all(len(row) == 500 for image in images for row in image)
    colours = {colour for image in images for row in image for colour in row}
    for verdict in vocab.WITH_EVIDENCE:
        for tier in vocab.TIERS:
            assert vocab.fill(verdict, tier) in colours, (verdict, tier)
    assert vocab.fill("no_evidence") in colours and vocab.fill(vocab.NO_ALLELE) in colours
    # each drug's pixels are its samples' verdicts: counted per colour, as the tallies count
    _, _, cells = plots.verdict_cells(rows, summary)
    tkis = ["neratinib", "zongertinib"]
    for drug, pixels in zip([*tkis, "trastuzumab"], [*images[0], *images[1]], strict=True):
        expected = sorted(vocab.fill(*plots._key(cells[(s, drug)])) for s in {k[0] for k in cells})
        assert sorted(pixels) == expected, drug
    # columns sorted by verdict pattern: the same pattern in one run of pixels
    columns = list(zip(*images[0], *images[1], strict=True))
    assert len(set(columns)) == sum(
        1 for k in range(len(columns)) if k == 0 or columns[k] != columns[k - 1]
    )
    assert svg.stat().st_size < 20_000


# ---------------------------------------------------------------------------------------------
# Excel


def _records(frame: pd.DataFrame) -> list[dict[str, str]]:
    return frame.fillna("").astype(str).to_dict("records")


def test_excel_drug_matrix_is_coloured_and_about_sheet_explains(tmp_path: Path) -> None:
    summary = _records(SUMMARY)
    matrix = tables.drug_matrix_detail_table(summary, _records(VERDICTS))
    assert matrix.columns == [
        "sample",
        "neratinib",
        "zongertinib",
        "cetuximab",
        "trastuzumab deruxtecan",
    ]  # TKIs, then antibodies and ADCs
    path = tmp_path / "summary.xlsx"
    xlsx.write_excel(
        {
            "summary": tables.with_report_column(tables.Table.from_records(summary, list(SUMMARY))),
            "drug matrix": matrix,
            "about": tables.about_table([("9.9.9", "sha256:feed")], "0.0.0"),
        },
        path,
        styles={"drug matrix": tables.matrix_style, "about": tables.matrix_style},
        links={"summary": ("report", "../")},
    )
    book = load_workbook(path)
    sheet = book["drug matrix"]
    values = {
        (r[0].value, sheet.cell(1, c.column).value): c for r in sheet.iter_rows(2) for c in r[1:]
    }
    zong = values[("B1", "zongertinib")]
    assert zong.value == "sensitive (tier II, other tumour type)"
    assert zong.fill.fgColor.rgb == "FF" + vocab.fill("sensitive", "II")[1:]
    assert values[("B1", "neratinib")].value == "sensitive (tier I)"
    assert values[("B1", "neratinib")].fill.fgColor.rgb == "FF" + vocab.fill("sensitive")[1:]
    assert values[("B2", "neratinib")].value == "conflicting (tier II, tumour type unknown)"
    assert values[("B2", "cetuximab")].value == "no_evidence"
    assert values[(HOSTILE, "neratinib")].value == vocab.NO_ALLELE
    assert values[(HOSTILE, "neratinib")].fill.fgColor.rgb == "FF" + vocab.fill(vocab.NO_ALLELE)[1:]
    assert values[("F1", "neratinib")].fill.fgColor.rgb == "FF" + vocab.fill(vocab.FAILED)[1:]
    assert values[("B1", "trastuzumab deruxtecan")].value == "sensitive (tier II, subtype only)"

    about = {r[0].value: r for r in book["about"].iter_rows(2) if r[0].value}
    assert about["knowledge base version"][1].value == "9.9.9"
    assert about["knowledge base content hash"][1].value == "sha256:feed"
    legend = about["resistant (tier II)"][0]
    assert legend.fill.fgColor.rgb == "FF" + vocab.fill("resistant", "II")[1:]
    assert "verdicts: amp_tier" in about and "summary: report" in about

    summary_sheet = book["summary"]
    header = [c.value for c in summary_sheet[1]]
    link = summary_sheet.cell(4, header.index("report") + 1)  # HOSTILE's row
    assert link.value == f"reports/{HOSTILE}.html"
    assert link.hyperlink.target == "../reports/" + vocab.href(f"{HOSTILE}.html")


# ---------------------------------------------------------------------------------------------
# MultiQC


def test_multiqc_has_tumour_type_tier_kb_version_and_page_links() -> None:
    summary = [
        {**r, "best_tier": t, "kb_version": "9.9.9"}
        for r, t in zip(_records(SUMMARY), ["II", "I", "", ""], strict=True)
    ]
    text = multiqc.multiqc_text(summary, "9.9.9")
    header = yaml.safe_load(
        "\n".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    )
    for column in ("tumour_type", "best_tier", "kb_version", "report"):
        assert column in header["headers"], column
    lines = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    body = pd.DataFrame(lines[1:], columns=lines[0])
    rows = body.set_index("Sample")
    assert rows.loc["B1", "tumour_type"] == "BRCA" and rows.loc["B1", "best_tier"] == "II"
    assert rows.loc["B2", "best_tier"] == "I" and rows.loc["B1", "kb_version"] == "9.9.9"
    assert rows.loc["B1", "report"] == '<a href="results/reports/B1.html">B1</a>'
    hostile = body.loc[body["Sample"] == HOSTILE, "report"].item()
    assert hostile == (
        '<a href="results/reports/' + vocab.href(f"{HOSTILE}.html") + '">'
        "x&lt;b&gt;&amp;&quot;#?y z</a>"
    )


# ---------------------------------------------------------------------------------------------
# verdict page


def test_verdict_page_shows_tier_context_groups_and_escaped_links() -> None:
    page = report_html.verdicts_page(SUMMARY, VERDICTS)
    # tier II cells carry the tint class, context marks follow the letter
    assert (
        '<td class="v sensitive t2" title="sensitive; tier II; other tumour type; r">S*</td>'
        in page
    )
    assert '<td class="v sensitive" title="sensitive; tier I; this tumour type; r">S</td>' in page
    assert "sensitive.t2 { background: " + vocab.fill("sensitive", "II") in page
    # groups over the drug columns, TKIs first
    assert page.index('colspan="2">TKIs<') < page.index(">antibodies and ADCs<")
    # each sample links to its own page, its name escaped in text and in the URL
    assert '<a class="sample-page" href="../reports/B1.html">B1</a>' in page
    assert (
        f'href="../reports/{vocab.href(HOSTILE + ".html")}">x&lt;b&gt;&amp;&quot;#?y z</a>' in page
    )
    assert HOSTILE not in page
    # citations: PubMed and doi.org links, a journal reference stays text
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/40293180/">PMID:40293180</a>' in page
    assert '<a href="https://doi.org/10.1056/NEJMoa2112431">DOI:10.1056/NEJMoa2112431</a>' in page
    assert "; Clin Cancer Res 2022, 28(7):1258</td>" in page
    # legend: tiers and marks in words
    assert "reduced sensitivity, tier II" in page
    assert html.escape(vocab.CONTEXT_LABELS["subtype"]) in page
