"""The example batch end to end: `snakemake --report` rendered in headless Chromium shows what a
reader needs (knowledge-base version, samples, the two figures, the verdicts), and `erbb2-tki
diff` between two knowledge-base versions lists exactly the verdicts the edit changed.

The report is a JavaScript app; a reader opens a result by clicking its category, the result and
its view button. The test does the same through the app's own `app.setView` (the call those
clicks make), injected into a copy of report.html, then reads the DOM Chromium built and, for
the verdict page shown in an iframe, renders that page too.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_helpers import EXAMPLE_CONFIG, Run, run_snakemake

from erbb2_tki import cli, knowledge
from erbb2_tki.outputs import plots, reanalysis, vocab

pytestmark = pytest.mark.workflow

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SAMPLES = ["S01", "S02", "S03", "S04", "S05", "S06"]

# Opens one result the way a reader's clicks do (category, result, view button), once the
# report's React app has rendered. The result is named by its file name in the URL fragment.
NAVIGATE = """
<script>
(function open() {
  var want = decodeURIComponent(location.hash.slice(1));
  if (!want) { return; }
  if (typeof app === "undefined" || !app) { setTimeout(open, 50); return; }
  var path = Object.keys(results).find(function (p) { return p.split("/").pop() === want; });
  if (path === undefined) { document.body.setAttribute("data-missing", want); return; }
  var category, subcategory;
  Object.keys(categories).forEach(function (c) {
    Object.keys(categories[c]).forEach(function (s) {
      if (categories[c][s].indexOf(path) >= 0) { category = c; subcategory = s; }
    });
  });
  var mime = results[path].mime_type;
  var content = mime === "text/html" ? "html" : (mime.indexOf("image/") === 0 ? "img" : "text");
  app.setView({navbarMode: "resultinfo", category: category, subcategory: subcategory,
               resultPath: path, content: content, contentPath: results[path].data_uri});
})();
</script>
"""


def _config(sheet: Path) -> dict[str, object]:
    """The configuration of the session's example run (conftest.py)."""
    return {"samples": sheet, **EXAMPLE_CONFIG}


def _snakemake(workdir: Path, *args: str, config: dict[str, object]) -> Run:
    run = run_snakemake(workdir, *args, config=config, timeout=900)
    assert run.returncode == 0, f"snakemake {' '.join(args)} failed:\n{run.stderr[-4000:]}"
    return run


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
        "--virtual-time-budget=5000",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"chromium failed:\n{done.stderr[-3000:]}"
    return done


def _visible_text(dom: str) -> str:
    """The text a reader sees: the DOM without scripts, styles, tags and the embedded data."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    body = re.sub(r"</?(b|code|em|i|span|strong|tt)\b[^>]*>", "", body)  # inline: no gap
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", body)


def _shown_image(dom: str, filename: str) -> str:
    """The SVG document of the figure on screen (the report's own logo is an image too)."""
    images = re.findall(r'<img[^>]+src="(data:image/svg\+xml[^"]+)"', dom)
    shown = [src for src in images if f"filename={filename};" in src]
    assert len(shown) == 1, f"{filename} is not on screen"
    return _data_uri(shown[0].replace("&amp;", "&"))


def _data_uri(value: str) -> str:
    """The document inside a data: URI (base64 or percent-encoded)."""
    header, _, payload = value.partition(",")
    if header.endswith(";base64"):
        return base64.b64decode(payload).decode("utf-8")
    return urllib.parse.unquote(payload)


class _Tables(HTMLParser):
    """Rows of every <table id=...> as lists of cell texts, and each cell's class attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._cls = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell, self._cls = [], a.get("class") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            text = re.sub(r"\s+", " ", "".join(self._cell)).strip()
            self.tables[self._table][-1].append((text, self._cls))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def example_run(example_run: Run) -> Path:
    """The session's run of the bundled example (conftest.py); these tests only read its results."""
    return example_run.workdir


@pytest.fixture(scope="module")
def kb() -> knowledge.KnowledgeBase:
    return knowledge.load_knowledge(PROJECT / "annotations")


@pytest.fixture(scope="module")
def report_views(
    example_run: Path, example_sheet: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The DOM Chromium built for the report's landing page and for each result opened."""
    if CHROMIUM is None:
        pytest.skip(
            "chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it): "
            "the report cannot be rendered"
        )
    for figure in ("lollipop.svg", "verdict_heatmap.svg", "verdicts.html"):
        assert (example_run / "results" / "report" / figure).is_file(), (
            f"results/report/{figure} was not produced: the workflow's rule summarize must write "
            "it (outputs/report_html.write_report_files) and mark it with report()"
        )
    _snakemake(example_run, "--report", "report.html", config=_config(example_sheet))
    report = example_run / "report.html"
    html = report.read_text(encoding="utf-8")
    view = example_run / "report_view.html"
    at = html.rfind("</body>")
    view.write_text(html[:at] + NAVIGATE + html[at:], encoding="utf-8")
    profile = tmp_path_factory.mktemp("chromium-profile")
    shots = Path(os.environ.get("ERBB2_TKI_SCREENSHOTS", str(example_run / "screenshots")))
    shots.mkdir(parents=True, exist_ok=True)
    doms = {}
    for name in ("", "lollipop.svg", "verdict_heatmap.svg", "verdicts.html"):
        url = view.as_uri() + (f"#{name}" if name else "")
        shot = shots / f"report_{(name or 'landing').replace('.', '_')}.png"
        doms[name or "landing"] = _chromium(
            profile, f"--screenshot={shot}", "--dump-dom", url
        ).stdout
        assert shot.stat().st_size > 10_000, f"{shot} is (nearly) empty"
    return doms


def test_report_landing_page_names_the_workflow_and_settings(
    report_views: dict[str, str], example_sheet: Path
) -> None:
    text = _visible_text(report_views["landing"])
    assert "erbb2-tki: ERBB2 alleles and their TKI evidence" in text
    assert "NM_004448.4 / NP_004439.2" in text
    assert f"sample sheet {example_sheet}" in text
    for category in ("1. Batch overview", "2. Verdicts", "3. Tables"):
        assert category in text


def test_report_lollipop_shows_the_batch_alleles(
    report_views: dict[str, str], kb: knowledge.KnowledgeBase, example_sheet: Path
) -> None:
    dom = report_views["lollipop.svg"]
    assert 'data-missing="' not in dom
    text = _visible_text(dom)
    assert f"Knowledge base: version {kb.version}, content hash {kb.content_hash}" in text
    assert f"sample sheet {example_sheet}" in text
    svg = _shown_image(dom, "lollipop.svg")
    labels = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    # S01/S02: L755S on both builds; S04/S05: the YVMA duplication written two ways is one
    # allele; S03: L869R + T798I; S06 has no ERBB2 call
    assert "L755S" in labels and "Y772_A775dup" in labels
    assert "T798I" in labels and "L869R" in labels
    assert "6 samples, 5 with at least one allele drawn" in labels


def test_report_heatmap_shows_every_sample(report_views: dict[str, str]) -> None:
    dom = report_views["verdict_heatmap.svg"]
    text = _visible_text(dom)
    assert "Verdict and its strength for every sample" in text
    # the caption says what the colours, shades, marks and numbers mean
    for words in (
        "Shade: the tier",
        "tier I",
        "tier II",
        "Numbers at the right",
        "no ERBB2 allele",
    ):
        assert words in text, words
    svg = _shown_image(dom, "verdict_heatmap.svg")
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert all(sample in labels for sample in SAMPLES)
    assert "neratinib" in labels and "lapatinib" in labels
    # drugs grouped, TKIs above antibodies and ADCs
    assert labels.index("TKIs") < labels.index("antibodies and ADCs")
    assert labels.index("lapatinib") < labels.index("antibodies and ADCs")
    # the legend: each verdict at tier I and tier II, the no-verdict states, the marks, the tallies
    joined = " ".join(labels)
    for words in (
        "S  sensitive",
        "R  resistant",
        "tier I",
        "tier II",
        "no evidence for the sample's alleles",
        "no ERBB2 allele",
        vocab.CONTEXT_LABELS["other_tumour_type"],
        "Right of each row: samples with each verdict",
        plots.TALLY_HEADER,
    ):
        assert words in joined, words
    # S06 has no ERBB2 call: its column is "no ERBB2 allele" (a dash), not "no evidence"
    assert "\u2013" in labels


def test_report_verdict_page_shows_the_verdicts(
    report_views: dict[str, str],
    kb: knowledge.KnowledgeBase,
    example_run: Path,
    tmp_path: Path,
) -> None:
    dom = report_views["verdicts.html"]
    frames = re.findall(r'<iframe[^>]+src="(data:text/html[^"]+)"', dom)
    assert len(frames) == 1, "the verdict page is not on screen"
    assert f"version {kb.version}" in _visible_text(dom)
    # the caption links each sample's own page, relative to report.html in the project folder
    for sample in SAMPLES:
        assert f'href="results/reports/{sample}.html"' in dom, sample
    page = tmp_path / "verdict_page.html"
    page.write_text(_data_uri(frames[0].replace("&amp;", "&")), encoding="utf-8")
    rendered = _chromium(tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
    text = _visible_text(rendered)
    assert f"Knowledge base: {kb.version} (hash {kb.content_hash})" in text

    parser = _Tables()
    parser.feed(rendered)
    grid = parser.tables["verdict-grid"]
    assert [cell for cell, _ in grid[0]][1] == "TKIs"  # drug groups over the drug columns
    header = [cell for cell, _ in grid[1]]
    rows = {row[0][0]: row for row in grid[2:]}
    assert sorted(rows) == SAMPLES

    def cell(sample: str, drug: str) -> tuple[str, str]:
        return rows[sample][header.index(drug)]

    def verdict(sample: str, drug: str) -> str:
        (state,) = set(cell(sample, drug)[1].split()) & set(vocab.STATES)
        return state

    # known answers from the knowledge base's sources (shared/knowledge/README.md):
    # lapatinib fails against L755S; T798I, acquired next to L869R, makes neratinib resistant;
    # the same YVMA duplication written two ways gets the same answers; no ERBB2 call, no evidence
    assert verdict("S01", "lapatinib") == verdict("S02", "lapatinib") == "resistant"
    assert verdict("S03", "neratinib") == "resistant"
    assert [verdict("S04", d) for d in header[3:]] == [verdict("S05", d) for d in header[3:]]
    # S06 has no ERBB2 call: "no ERBB2 allele", told apart from "no evidence"
    assert {verdict("S06", d) for d in header[3:]} == {vocab.NO_ALLELE}
    # the page agrees with the batch table it was built from: verdict (colour), tier (tint) and
    # context (the mark after the letter)
    table = pd.read_csv(
        example_run / "results" / "batch" / "verdicts.tsv", sep="\t", dtype=str, na_filter=False
    )
    for r in table.to_dict("records"):
        shown = verdict(r["sample"], r["drug"])
        assert shown == r["verdict"] or (shown, r["verdict"]) == (vocab.NO_ALLELE, "no_evidence")
        letters, classes = cell(r["sample"], r["drug"])
        assert ("t2" in classes.split()) == (r.get("amp_tier") == "II"), r
        if r["verdict"] in vocab.WITH_EVIDENCE:
            assert letters == vocab.cell_text(r["verdict"], r.get("context", "")), r
    details = parser.tables["verdict-details"]
    details_header = [c for c, _ in details[0]]
    alleles_at = details_header.index("deciding alleles")
    assert any(
        row[0][0] == "S03" and row[1][0] == "neratinib" and "T798I" in row[alleles_at][0]
        for row in details
    )
    for words in ("tier", "level in context", "OncoKB-style level", "evidence from", "warnings"):
        assert words in details_header, words
    # the legend in words, sample names linking their own pages, citations linking PubMed/doi.org
    assert "sensitive, tier I" in text and "sensitive, tier II" in text
    for sample in SAMPLES:
        assert f'<a class="sample-page" href="../reports/{sample}.html">{sample}</a>' in rendered
    assert re.search(r'<a href="https://pubmed\.ncbi\.nlm\.nih\.gov/\d+/">PMID:\d+</a>', rendered)
    assert re.search(r'<a href="https://doi\.org/10\.[^"]+">DOI:10\.', rendered)


def _cut_new_version(annotations: Path) -> str:
    """Edit the L755S x lapatinib rows (resistant -> sensitive) and cut a new version
    as docs/knowledge-base.md ("Cutting a version") says: bump the version (PATCH: a correction),
    set release_date, add an entry at the top of changes, `erbb2-tki kb hash --write`."""
    folder = annotations / "knowledge"
    evidence = folder / "evidence.tsv"
    lines = evidence.read_text(encoding="utf-8").split("\n")
    header = next(line for line in lines if line and not line.startswith("#")).split("\t")
    col = {name: i for i, name in enumerate(header)}
    hits = [
        i
        for i, line in enumerate(lines)
        if line
        and not line.startswith("#")
        and line.split("\t")[col["alteration"]] == "L755S"
        and line.split("\t")[col["drug"]] == "lapatinib"
    ]
    # KB 2.0.0 has two: Bose 2013 in breast models (EV0013) and Kancha 2011 in Ba/F3 (EV0082)
    assert len(hits) == 2, "the knowledge base no longer has the two L755S x lapatinib rows"
    for hit in hits:
        fields = lines[hit].split("\t")
        assert fields[col["response"]] == "resistant"
        fields[col["response"]] = "sensitive"
        lines[hit] = "\t".join(fields)
    evidence.write_text("\n".join(lines), encoding="utf-8")

    metadata = folder / "metadata.yaml"
    text = metadata.read_text(encoding="utf-8")
    old = str(yaml.safe_load(text.split(knowledge.HASH_MARKER)[0])["version"])
    major, minor, patch = (int(x) for x in old.split("."))
    new = f"{major}.{minor}.{patch + 1}"
    text = re.sub(r"(?m)^version: .*$", f"version: {new}", text, count=1)
    text = re.sub(r"(?m)^release_date: .*$", 'release_date: "2026-12-01"', text, count=1)
    text = text.replace(
        "changes:\n",
        f'changes:\n  - version: {new}\n    date: "2026-12-01"\n'
        "    summary: L755S x lapatinib now reads sensitive (test edit)\n",
        1,
    )
    metadata.write_text(text, encoding="utf-8")
    assert cli.main(["kb", "hash", "--write", str(folder)]) == 0
    return new


def test_diff_between_two_kb_versions_lists_exactly_the_changed_verdicts(
    example_run: Path,
    example_sheet: Path,
    kb: knowledge.KnowledgeBase,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old_results = example_run / "results"
    assert cli.main(["diff", "--quiet", str(old_results), str(old_results)]) == 0

    edited = tmp_path / "annotations"
    shutil.copytree(PROJECT / "annotations", edited)
    new_version = _cut_new_version(edited)
    assert knowledge.load_knowledge(edited).version == new_version

    work = tmp_path / "rerun"
    _snakemake(work, config={**_config(example_sheet), "annotations": edited})

    out = tmp_path / "diff.tsv"
    capsys.readouterr()
    status = cli.main(["diff", str(old_results), str(work / "results"), "--tsv", str(out)])
    assert status == reanalysis.EXIT_CHANGED
    diff = pd.read_csv(out, sep="\t", dtype=str, na_filter=False)
    # S01 (L755S, GRCh37) and S02 (L755S, GRCh38) are the samples whose lapatinib answer rests
    # on that row; every other answer of the batch is unchanged
    got = {
        (r.sample, r.drug, r.change, r.fields, r.old_verdict, r.new_verdict)
        for r in diff.itertuples()
    }
    # the verdict changes, and with it the OncoKB-style level (preclinical resistance has none,
    # preclinical sensitivity is 4); the AMP level and tier stay D / II
    assert got == {
        ("S01", "lapatinib", "changed", "verdict,oncokb_level", "resistant", "sensitive"),
        ("S02", "lapatinib", "changed", "verdict,oncokb_level", "resistant", "sensitive"),
    }
    assert set(diff["old_kb_version"]) == {kb.version}
    assert set(diff["new_kb_version"]) == {new_version}
    assert set(diff["old_kb_hash"]) == {kb.content_hash}
    assert set(diff["new_kb_hash"]) == {knowledge.load_knowledge(edited).content_hash}
    text = capsys.readouterr().out
    assert "2 verdict(s) changed in 2 sample(s)" in text
    assert re.search(
        r"lapatinib: resistant \[D, tier II \(KB D\); p\.L755S\] -> "
        r"sensitive \[D, tier II, OncoKB 4 \(KB D\); p\.L755S\]",
        text,
    )
