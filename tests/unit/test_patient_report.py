"""The per-sample report page (patient_report): content and order, tiers, warnings in words,
links, failed samples, tables without the newer columns, escaping of hostile input, and the
`erbb2-tki annotate --out-report` and annotate-shard paths that write it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erbb2_tki.cli import main
from erbb2_tki.knowledge import load_knowledge
from erbb2_tki.outputs import patient_report as pr

KB_HASH = "sha256:" + "ab" * 32

STATUS = {
    "sample": "P01",
    "status": "ok",
    "stage": "annotate",
    "reason": "",
    "build": "GRCh38",
    "tumour_type": "BRCA",
    "tumour_sample": "TUMOR",
    "normal_sample": "NORMAL",
    "vcf": "vcfs/P01.vcf.gz",
    "vcf_sha256": "0f" * 32,
    "kb_version": "2.0.0",
    "kb_hash": KB_HASH,
}


def _allele(hgvsp: str, start: int, used: str = "yes", origin: str = "somatic", **extra):
    return {
        "sample": "P01",
        "hgvsp_short": hgvsp,
        "hgvsc": f"NM_004448.4:c.{start * 3}A>G",
        "hgvsp": hgvsp,
        "exon": "20/27",
        "domain": "kinase domain",
        "consequence": "missense_variant",
        "vaf": "0.25",
        "depth": "120",
        "alt_depth": "30",
        "filter": "PASS",
        "oncogenicity": "oncogenic",
        "used_for_verdict": used,
        "origin": origin,
        "protein_start": str(start),
        "protein_end": str(start),
        **extra,
    }


def _verdict(drug: str, verdict: str, level: str, tier: str, **extra):
    return {
        "sample": "P01",
        "drug": drug,
        "drug_kind": "tki_irreversible",
        "verdict": verdict,
        "level_in_context": level,
        "amp_tier": tier,
        "oncokb_level": extra.pop("oncokb_level", ""),
        "context": extra.pop("context", "same_tumour_type"),
        "evidence_level": extra.pop("evidence_level", level),
        "alleles": extra.pop("alleles", "p.L755S"),
        "warnings": extra.pop("warnings", ""),
        "reason": extra.pop("reason", ""),
        "citations": extra.pop("citations", "PMID:29420467"),
        "evidence_ids": "EV0001",
        "kb_version": "2.0.0",
        "kb_hash": KB_HASH,
        **extra,
    }


ALLELES = [
    _allele("p.I655V", 655, used="no:germline", origin="germline"),
    _allele("p.L755S", 755),
    _allele("p.T798I", 798),
]
VERDICTS = [
    _verdict("neratinib", "sensitive", "B", "I", oncokb_level="2", citations="PMID:29420467"),
    _verdict(
        "zongertinib",
        "sensitive",
        "C",
        "II",
        oncokb_level="3B",
        context="other_tumour_type",
        evidence_level="A",
        citations="DOI:10.1056/NEJMoa2503456;PMC9454740",
        warnings="resistance_allele:p.T798I",
    ),
    _verdict(
        "trastuzumab",
        "reduced_sensitivity",
        "D",
        "II",
        warnings="other_tumour_resistance:COADREAD;brand_new_code:xyz",
    ),
    _verdict("lapatinib", "resistant", "D", "II", oncokb_level="R2"),
    _verdict("tucatinib", "conflicting", "C", "II", warnings="component_resistant:lapatinib"),
    _verdict("dacomitinib", "no_evidence", "", "", citations="", alleles="", context=""),
    _verdict(
        "cetuximab",
        "no_evidence",
        "",
        "",
        citations="",
        context="",
        warnings="other_tumour_resistance:COADREAD",
    ),
]
DOMAINS = [("extracellular domain I", 23, 217), ("kinase domain", 720, 987)]


def _page(**overrides) -> pr.PageInput:
    values = {
        "status": STATUS,
        "alleles": ALLELES,
        "verdicts": VERDICTS,
        "tumour_type_name": "Invasive Breast Carcinoma",
        "domains": DOMAINS,
        "kb_version": "2.0.0",
        "kb_hash": KB_HASH,
    }
    values.update(overrides)
    return pr.PageInput(**values)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the visible text (outside style and title)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def _visible(page: str) -> str:
    return re.sub(r"\s+", " ", " ".join(_parse(page).text))


SAFE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "table", "thead",
    "tbody", "tr", "th", "td", "span", "strong", "br", "ul", "li", "a", "section", "figure",
    "figcaption", "div", "svg", "rect", "line", "circle", "text",
}  # fmt: skip


def _assert_inert(page: str) -> None:
    """No script, no event handler, no link but https, nothing loaded from elsewhere."""
    for tag, attrs in _parse(page).tags:
        assert tag in SAFE_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in ("src", "srcdoc", "formaction", "action"), (tag, name)
            if name == "href":
                assert value and value.startswith("https://"), value


def test_page_lists_facts_then_summary_alleles_therapies_methods_in_order():
    page = pr.render_page(_page())
    text = _visible(page)
    order = ["Sample P01", "Summary", "ERBB2 alleles", "Therapies", "Conflicts and warnings"]
    order += ["Methods and limitations"]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)
    for fact in (
        "BRCA (Invasive Breast Carcinoma)",
        "GRCh38",
        "vcfs/P01.vcf.gz",
        "0f" * 32,
        "erbb2-tki " + pr.__version__,
        "version 2.0.0",
        KB_HASH,
        "tumour TUMOR, matched normal NORMAL",
        "NM_004448.4",
    ):
        assert fact in text, fact
    assert "amplification" in text and "fusions" in text and "ERBB3" in text
    assert "For research use only" in text
    _assert_inert(page)


def test_page_has_no_date_and_is_the_same_every_time():
    first = pr.render_page(_page())
    assert first == pr.render_page(_page())
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", first)


def test_page_is_self_contained_with_a_print_stylesheet_and_no_scripts():
    page = pr.render_page(_page())
    assert "<script" not in page.lower()
    assert "@page { size: A4" in page and "@media print" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r'(src|href)="(?!https://)', page)
    assert "<svg" in page  # the lollipop is inline


def test_therapies_are_grouped_tier_i_then_tier_ii_then_against_then_no_evidence():
    page = pr.render_page(_page())
    text = _visible(page)
    headings = ["Tier I:", "Tier II:", "Resistance, reduced sensitivity", "No evidence"]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    tier1 = page[page.index('id="therapy-tier1"') : page.index('id="therapy-tier2"')]
    assert "neratinib" in tier1 and "zongertinib" not in tier1
    tier2 = page[page.index('id="therapy-tier2"') : page.index('id="therapy-against"')]
    assert "zongertinib" in tier2 and "3B" in tier2
    assert "(knowledge base: A)" in tier2  # the KB's own level beside the level in context
    against = page[page.index('id="therapy-against"') : page.index('id="therapy-none"')]
    # resistant first, then conflicting, then reduced sensitivity; each in words
    assert against.index("lapatinib") < against.index("tucatinib") < against.index("trastuzumab")
    assert "reduced sensitivity" in against and "R2" in against
    none = _visible(page[page.index('id="therapy-none"') :].split("</p>")[0])
    assert "dacomitinib, cetuximab. Notes on some of them are under Conflicts" in none
    warnings = _visible(page[page.index('id="warnings-list"') :].split("</ul>")[0])
    assert "shown, not applied to this sample — trastuzumab, cetuximab" in warnings


def test_warnings_are_spelled_out_in_words_and_unknown_codes_stay_visible():
    text = _visible(pr.render_page(_page()))
    assert "the sample carries p.T798I, a known TKI-resistance allele" in text
    assert "resistance was reported only in another tumour type (COADREAD)" in text
    assert "lapatinib, a component of this combination, is resistant" in text
    assert "brand new code: xyz" in text
    assert "resistance_allele" not in text


def test_citations_link_to_pubmed_pmc_and_doi_and_nothing_else():
    page = pr.render_page(_page())
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/29420467/"' in page
    assert 'href="https://doi.org/10.1056/NEJMoa2503456"' in page
    assert 'href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9454740/"' in page
    assert pr.citation_link("CIViC:EID1240") == (
        '<a href="https://civicdb.org/evidence/1240/summary">CIViC:EID1240</a>'
    )
    assert pr.citation_link("javascript:alert(1)") == "<span>javascript:alert(1)</span>"
    assert pr.citation_link('DOI:10.1000/x"onmouseover=alert(1)').count('"') == 2
    assert pr.citation_link("Clin Cancer Res 2017, 23(17)") == (
        "<span>Clin Cancer Res 2017, 23(17)</span>"
    )


def test_alleles_show_origin_and_why_a_germline_call_was_set_aside():
    page = pr.render_page(_page())
    table = page[page.index('id="alleles-table"') : page.index("</table>", page.index("alleles"))]
    text = _visible(table)
    assert "p.I655V" in text and "germline" in text
    assert "set aside: germline (in the matched normal, or a common polymorphism)" in text
    assert "12.0%" not in text and "25.0%" in text and "30/120" in text
    assert '<tr class="aside">' in table
    summary = _visible(page[page.index('id="summary"') :].split("</p>")[0])
    assert "2 ERBB2 alleles used" in summary and "p.I655V (germline)" in summary
    # the lollipop draws all three, the set-aside one hollow
    figure = page[page.index("<svg") : page.index("</svg>")]
    assert figure.count("<circle") == 3 and 'fill="#fff"' in figure


def test_summary_names_tiers_and_drugs_argued_against():
    summary = pr.summary_text(_page())
    assert "Tier I evidence" in summary and "neratinib" in summary
    assert "Tier II evidence" in summary and "zongertinib" in summary
    assert "Evidence argues against lapatinib (resistant), trastuzumab (reduced sensitivity)" in (
        summary
    )
    assert "Evidence conflicts for tucatinib" in summary


def test_a_sample_without_alleles_says_so():
    page = pr.render_page(
        _page(alleles=[], verdicts=[VERDICTS[-1]], status={**STATUS, "n_records": "3"})
    )
    text = _visible(page)
    assert "carries no ERBB2 allele that can decide a drug verdict" in text
    assert "No ERBB2 allele was found in the VCF's ERBB2 region (3 records read" in text
    assert "<svg" not in page


def test_failed_sample_page_says_why_and_what_to_fix():
    status = {
        **STATUS,
        "status": "failed",
        "stage": "extract",
        "reason": "sample P01, file x.vcf: the VCF file does not exist. Fix: correct the vcf path",
    }
    page = pr.render_page(_page(status=status, alleles=[], verdicts=[]))
    text = _visible(page)
    assert "could not be analysed: it failed at the extract step" in text
    assert "Why: sample P01, file x.vcf: the VCF file does not exist." in text
    assert "What to fix: correct the vcf path" in text
    assert "Therapies" not in text and "Methods and limitations" in text
    _assert_inert(page)


def test_tables_without_the_newer_columns_still_render():
    """Verdict rows from before levels in context (evidence_level + tumour_type_match only)."""
    old = [
        {
            "sample": "P01",
            "drug": "zongertinib",
            "verdict": "sensitive",
            "evidence_level": "A",
            "tumour_type_match": "other_tumour_type",
            "alleles": "p.L755S",
            "citations": "PMID:1",
            "reason": "x",
        },
        {
            "sample": "P01",
            "drug": "neratinib",
            "verdict": "sensitive",
            "evidence_level": "B",
            "tumour_type_match": "same_tumour_type",
        },
    ]
    alleles = [{k: v for k, v in a.items() if k != "origin"} for a in ALLELES[1:]]
    page = pr.render_page(_page(verdicts=old, alleles=alleles))
    tier1 = page[page.index('id="therapy-tier1"') : page.index('id="therapy-tier2"')]
    assert "neratinib" in tier1
    assert "zongertinib" in page[page.index('id="therapy-tier2"') :]
    assert "not recorded" in _visible(page)  # origin column absent


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "' onmouseover='alert(1)",
    "</style><script>x</script>",
    "<svg onload=alert(1)>",
    "&lt;script&gt;",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_values_in_every_field_are_escaped(hostile):
    status = {key: hostile for key in STATUS} | {"status": "ok"}
    alleles = [{key: hostile for key in ALLELES[0]} | {"protein_start": "700"}]
    verdicts = [
        {key: hostile for key in VERDICTS[0]} | {"verdict": "sensitive", "warnings": hostile}
    ]
    structural = [{"event": hostile, "svtype": hostile, "chrom": hostile, "filter": hostile}]
    page = pr.render_page(
        _page(
            status=status,
            alleles=alleles,
            verdicts=verdicts,
            structural=structural,
            tumour_type_name=hostile,
            domains=[(hostile, 1, 100)],
        )
    )
    _assert_inert(page)
    assert "<script" not in page.lower()
    assert hostile in _visible(page)  # shown as text, not dropped
    failed = pr.render_page(_page(status=status | {"status": "failed"}))
    _assert_inert(failed)
    assert hostile in _visible(failed)


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_text_in_any_field_stays_text(value):
    status = {key: value for key in STATUS} | {"status": "ok"}
    page = pr.render_page(
        _page(
            status=status,
            alleles=[{key: value for key in ALLELES[1]}],
            verdicts=[{key: value for key in VERDICTS[0]} | {"verdict": "resistant"}],
        )
    )
    _assert_inert(page)


def test_lollipop_places_alleles_on_the_protein_and_skips_those_without_a_position():
    svg = pr.lollipop_svg(
        [_allele("p.L755S", 755), {"hgvsc": "NM_004448.4:c.-5A>G", "used_for_verdict": "yes"}],
        DOMAINS,
    )
    assert svg.count("<circle") == 1 and "p.L755S" in svg and "kinase" in svg


def test_pdf_dates_are_neutralised_keeping_the_length():
    data = (
        b"%PDF-1.4\n<</Producer (Skia/PDF m150)\n/CreationDate (D:20261129192301+00'00')\n"
        b"/ModDate (D:20261129192302+01'00')>>"
    )
    fixed = pr.neutralise_pdf_dates(data)
    assert len(fixed) == len(data)
    assert b"/CreationDate (D:20000101000000+00'00')" in fixed
    assert b"/ModDate (D:20000101000000+00'00')" in fixed


def test_missing_chromium_is_an_input_error_naming_the_config_key(tmp_path, monkeypatch):
    from erbb2_tki.errors import InputError

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("ERBB2_TKI_CHROMIUM", raising=False)
    page = tmp_path / "p.html"
    page.write_text("<html></html>")
    with pytest.raises(InputError, match="report_pdf"):
        pr.write_pdf(page, tmp_path / "p.pdf")


def test_file_sha256_reads_the_bytes(tmp_path):
    path = tmp_path / "x.vcf"
    path.write_bytes(b"abc")
    assert pr.file_sha256(path) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert pr.file_sha256(tmp_path / "missing.vcf") == ""


# --- written by the CLI and the annotate shard job ---------------------------------------------

HEADER_TN = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr17,length=83257441>
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=weak_evidence,Description="<script>alert('filter')</script>">
##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">
##INFO=<ID=NOTE,Number=1,Type=String,Description="javascript:alert(1)">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
#CHROM	POS	ID	REF	ALT	QUAL	FILTER	INFO	FORMAT	{tumour}	NORMAL
"""
# A FILTER value the header does not declare (htslib reads it, with a warning).
HOSTILE_FILTER = "<img_src=x_onerror=alert(1)>;javascript:alert(1)"
# L755S (somatic, tumour only) and T798I (FILTER weak_evidence: set aside); hostile INFO text.
BODY_TN = (
    "chr17\t39723967\t.\tT\tC\t50\tPASS\tDP=100;NOTE=<script>alert(1)</script>\t"
    "GT:AD:AF:DP\t0/1:60,40:0.4:100\t0/0:50,0:0:50\n"
    "chr17\t39724811\t.\tC\tT\t50\t{filter}\tDP=100;NOTE=javascript:alert(1)\t"
    "GT:AD:AF:DP\t0/1:88,12:0.12:100\t0/0:50,0:0:50\n"
)
TUMOUR_NAME = "T<script>alert(1)</script>"


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


def _tn_vcf(tmp_path: Path, filter: str = "weak_evidence") -> Path:
    path = tmp_path / "tn.vcf"
    path.write_text(HEADER_TN.format(tumour=TUMOUR_NAME) + BODY_TN.format(filter=filter))
    return path


def test_cli_out_report_writes_the_page_with_hostile_names_escaped(tmp_path, capsys):
    vcf = _tn_vcf(tmp_path, filter=HOSTILE_FILTER)
    out = tmp_path / "report.html"
    code = main(
        [
            "annotate",
            str(vcf),
            "--sample",
            TUMOUR_NAME,
            "--normal-sample",
            "NORMAL",
            "--label",
            "..x-1_a.b",
            "--tumor-type",
            "brca",
            "--out-tsv",
            str(tmp_path / "a.tsv"),
            "--out-report",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    page = out.read_text()
    _assert_inert(page)
    assert "<script" not in page.lower()
    text = _visible(page)
    assert "ERBB2 TKI report: ..x-1_a.b" in text
    assert f"tumour {TUMOUR_NAME}, matched normal NORMAL" in text
    assert "BRCA (Invasive Breast Carcinoma)" in text
    assert pr.file_sha256(vcf) in text
    assert "p.L755S" in text
    assert "set aside: the variant caller's FILTER is not PASS" in text  # T798I
    assert HOSTILE_FILTER in text  # shown as text


def test_cli_out_report_for_a_failed_input_says_why(tmp_path):
    vcf = tmp_path / "bad.vcf"
    vcf.write_text("this is not a VCF\n")
    out = tmp_path / "report.html"
    code = main(
        ["annotate", str(vcf), "--out-tsv", str(tmp_path / "a.tsv"), "--out-report", str(out)]
    )
    assert code == 2
    text = _visible(out.read_text())
    assert "could not be analysed" in text and "Why:" in text


def test_annotate_shard_writes_a_page_for_every_sample_ok_or_failed(tmp_path):
    from erbb2_tki.batch import pipeline
    from erbb2_tki.batch.samples import SampleRow

    vcf = _tn_vcf(tmp_path)
    rows = [
        SampleRow(
            sample=name,
            vcf=str(path),
            vcf_as_given=str(path),
            tumor_sample=TUMOUR_NAME,
            normal_sample="NORMAL",
            tumor_type="BRCA",
            build="GRCh38",
            source="sheet.tsv",
        )
        for name, path in (("S-1", vcf), ("S.2", tmp_path / "missing.vcf"))
    ]
    extract_dir = tmp_path / "extract"
    pipeline.extract_shard(rows, extract_dir)
    status = pipeline.annotate_shard(
        rows,
        extract_dir,
        tmp_path / "annotate",
        annotated_dir=str(tmp_path / "annotated"),
        tables_dir=str(tmp_path / "tables"),
        reports_dir=str(tmp_path / "reports"),
    )
    assert [s["status"] for s in status] == ["ok", "failed"]
    assert [s["report"] for s in status] == ["reports/S-1.html", "reports/S.2.html"]
    assert status[0]["vcf_sha256"] == pr.file_sha256(vcf)
    ok = (tmp_path / "reports" / "S-1.html").read_text()
    failed = (tmp_path / "reports" / "S.2.html").read_text()
    assert "p.L755S" in _visible(ok) and "Tier" in _visible(ok)
    assert "the VCF file does not exist" in _visible(failed)
    assert "What to fix: correct the vcf path" in _visible(failed)
    for page in (ok, failed):
        _assert_inert(page)


def test_a_page_that_cannot_be_rendered_costs_the_sample_nothing_but_its_link(
    tmp_path, monkeypatch
):
    from erbb2_tki.batch import pipeline
    from erbb2_tki.batch.samples import SampleRow

    def broken(page):
        raise ValueError("boom")

    monkeypatch.setattr(pr, "render_page", broken)
    vcf = _tn_vcf(tmp_path)
    rows = [SampleRow(sample="S1", vcf=str(vcf), tumor_sample=TUMOUR_NAME, build="GRCh38")]
    pipeline.extract_shard(rows, tmp_path / "extract")
    status = pipeline.annotate_shard(
        rows,
        tmp_path / "extract",
        tmp_path / "annotate",
        annotated_dir=str(tmp_path / "annotated"),
        tables_dir=str(tmp_path / "tables"),
        reports_dir=str(tmp_path / "reports"),
    )
    assert status[0]["status"] == "ok" and status[0]["report"] == ""
    assert (tmp_path / "tables" / "S1.alleles.tsv").is_file()
    assert not (tmp_path / "reports" / "S1.html").exists()


def test_every_warning_code_the_verdicts_write_has_words_on_the_page():
    from erbb2_tki.knowledge.interpret import WARNING_CODES

    assert set(WARNING_CODES) <= set(pr.WARNING_WORDS)
