"""The report's figures and verdict page, built from the batch tables.

`snakemake --report` shows TSV files only as downloads, so a reader of the report would not see
a single verdict. This module writes what the report embeds: the two figures (plots.py) and a
self-contained HTML page (no scripts, no external files, inline styles) with the sample x drug
verdict grid and, for every drug with evidence, the verdict, its evidence level, deciding
alleles, reason and citations, under the knowledge-base version and hash that produced them.

Run by the workflow as `python -m erbb2_tki.outputs.report_html --batch-dir results/batch
--out-dir results/report`; deterministic (no dates), written atomically.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .. import PROTEIN, TRANSCRIPT, __version__
from . import plots, vocab
from .vocab import VERDICT_COLUMNS

REPORT_FILES = {
    "lollipop": "lollipop.svg",
    "heatmap": "verdict_heatmap.svg",
    "verdicts": "verdicts.html",
}

_BASE_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 14px; color: #222; margin: 16px; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
h2 { font-size: 16px; margin: 22px 0 6px 0; }
p.meta { color: #444; margin: 2px 0; }
code { font-size: 13px; }
table { border-collapse: collapse; margin: 4px 0 12px 0; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; position: sticky; top: 0; }
th.group { text-align: left; font-size: 12px; position: static; border-bottom: 2px solid #444; }
#verdict-grid thead tr:first-child th { position: static; }
td.v { text-align: center; font-weight: bold; min-width: 2.5em; }
td.no_allele { color: #888; }
#verdict-details td:nth-child(11) { min-width: 16em; }
#verdict-details td:nth-child(12) { min-width: 12em; }
span.key { display: inline-block; padding: 1px 8px; margin: 0 6px 4px 0; border-radius: 3px;
  border: 1px solid #bbb; }
dl.marks dt { display: inline; font-weight: bold; }
dl.marks dd { display: inline; margin: 0 14px 0 4px; }
"""


def _verdict_css() -> str:
    """A class per state and a .t2 tint per verdict, colours from vocab (as in the heatmap)."""
    rules = []
    for state in vocab.STATES:
        rules.append(
            f".{state} {{ background: {vocab.fill(state)}; color: {vocab.text_colour(state)}; }}"
        )
        if state in vocab.WITH_EVIDENCE:
            rules.append(
                f".{state}.t2 {{ background: {vocab.fill(state, 'II')}; "
                f"color: {vocab.text_colour(state, 'II')}; }}"
            )
    return "\n".join(rules) + "\n"


_STYLE = _BASE_STYLE + _verdict_css()


def _e(value: object) -> str:
    text = "" if value is None else str(value)
    return html.escape("" if text == "nan" else text)


def _kb_versions(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    pairs = set(pairs)
    # a version seen with its hash makes the hash-less sighting redundant
    with_hash = {version for version, digest in pairs if digest}
    return sorted(
        (version, digest)
        for version, digest in pairs
        if (version or digest) and (digest or version not in with_hash)
    )


def kb_versions(verdicts: Any, summary: Any = None) -> list[tuple[str, str]]:
    """Distinct (kb_version, kb_hash) pairs behind the batch (normally exactly one); the tables
    as rows (mappings) or DataFrames."""
    pairs = {
        (str(r.get("kb_version", "") or ""), str(r.get("kb_hash", "") or ""))
        for table in (verdicts, summary)
        for r in plots.records(table)
    }
    return _kb_versions(pairs)


PAGE_VERDICT_COLUMNS = [
    "sample",
    "drug",
    "drug_kind",
    "verdict",
    "level_in_context",
    "amp_tier",
    "oncokb_level",
    "context",
    "evidence_level",
    "tumour_type_match",
    "alleles",
    "warnings",
    "citations",
    "reason",
]
# Where a sample's page is, seen from this page (results/report/verdicts.html).
PAGE_LINK_PREFIX = "../"


def _tier_class(row: Mapping[str, str]) -> str:
    return " t2" if row.get("amp_tier", "") == "II" else ""


def _sample_link(sample: str, page: str = "") -> str:
    target = PAGE_LINK_PREFIX + vocab.href(page or vocab.report_path(sample))
    return f'<a class="sample-page" href="{_e(target)}">{_e(sample)}</a>'


def _legend() -> str:
    keys = []
    for verdict in vocab.WITH_EVIDENCE:
        style = vocab.STYLE[verdict]
        for tier in vocab.TIERS:
            t2 = " t2" if tier == "II" else ""
            keys.append(
                f'<span class="key {verdict}{t2}">{_e(style.letter)} {_e(style.label)}, '
                f"tier {tier}</span>"
            )
    for state, letter in (("no_evidence", "-"), (vocab.NO_ALLELE, "\u2013"), (vocab.FAILED, "")):
        keys.append(
            f'<span class="key {state}">{_e(letter)} {_e(vocab.STYLE[state].label)}</span>'.replace(
                "> ", ">"
            )
        )
    marks = "".join(
        f"<dt>{_e(mark)}</dt><dd>{_e(vocab.CONTEXT_LABELS[context])}</dd>"
        for context, mark in vocab.CONTEXT_MARKS.items()
        if mark
    )
    return (
        f'<div id="legend"><p>{"".join(keys)}</p>'
        f"<p>Colour: the verdict. Full colour: {_e(vocab.TIER_LABELS['I'])}; lighter: "
        f"{_e(vocab.TIER_LABELS['II'])} (AMP/ASCO/CAP 2017). A mark after the letter says where "
        f'the deciding evidence comes from:</p><dl class="marks">{marks}'
        "<dt>no mark</dt><dd>this tumour type or pan-cancer</dd></dl></div>"
    )


class VerdictPage:
    """The verdict page from one pass over the summary rows, then one over the verdict rows.

    The grid's cells are kept as VerdictGrid's small numbers; the details table's rows (verdicts
    with evidence) are rendered as they are read and spooled to a temporary file, so the page's
    memory stays a few bytes per sample and drug. The batch tables come sorted by sample; rows
    in another order are sorted before they are written.
    """

    def __init__(self) -> None:
        self.grid = plots.VerdictGrid()
        self._spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._held: list[tuple[str, str]] = []  # (drug, row html) of the current sample
        self._sample: str | None = None
        self._done: set[str] = set()
        self._in_order = True
        self.n_details = 0

    def close(self) -> None:
        self._spool.close()

    def add_summary(self, row: Mapping[str, str]) -> None:
        self.grid.add_summary(row)

    def add_verdict(self, row: Mapping[str, str]) -> None:
        self.grid.add_verdict(row)
        sample = str(row.get("sample", "") or "")
        verdict = str(row.get("verdict", "") or "")
        if verdict not in vocab.WITH_EVIDENCE or self.grid.failed(sample):
            return
        if sample != self._sample:
            self._flush()
            if sample in self._done or (self._sample is not None and sample < self._sample):
                self._in_order = False
            self._sample = sample
        self._held.append((str(row.get("drug", "") or ""), self._detail_row(row)))

    def _flush(self) -> None:
        if self._sample is None:
            return
        self._done.add(self._sample)
        for drug, line in sorted(self._held, key=lambda item: item[0]):  # stable: by drug
            self._spool.write(f"{self._sample}\t{drug}\t{line}\n")
            self.n_details += 1
        self._held = []

    def _details(self) -> Iterator[str]:
        self._flush()
        self._sample = None
        self._spool.seek(0)
        lines: Iterable[str] = self._spool
        if not self._in_order:
            keyed = [line.split("\t", 2) for line in self._spool]
            keyed.sort(key=lambda cells: (cells[0], cells[1]))
            lines = ["\t".join(cells) for cells in keyed]
        for line in lines:
            yield line.split("\t", 2)[2].rstrip("\n")

    def _link(self, sample: str) -> str:
        info = self.grid.info.get(sample)
        return _sample_link(sample, info.report if info is not None else "")

    def _detail_row(self, r: Mapping[str, str]) -> str:
        def get(column: str) -> str:
            return str(r.get(column, "") or "")

        context = get("context") or get("tumour_type_match")
        return (
            f"<tr><td>{self._link(get('sample'))}</td>"
            f"<td>{_e(get('drug'))}</td>"
            f'<td class="{_e(get("verdict"))}{_tier_class(r)}">{_e(get("verdict"))}</td>'
            f"<td>{_e(get('amp_tier'))}</td><td>{_e(get('level_in_context'))}</td>"
            f"<td>{_e(get('oncokb_level'))}</td>"
            f"<td>{_e(vocab.CONTEXT_SHORT.get(context, context))}</td>"
            f"<td>{_e(get('evidence_level'))}</td>"
            f"<td>{_e(get('alleles').replace(';', '; '))}</td>"
            f"<td>{_e(get('warnings').replace(';', '; '))}</td><td>{_e(get('reason'))}</td>"
            f'<td class="citations">{vocab.citations_html(get("citations"))}</td></tr>'
        )

    def _cell_html(self, key: tuple[str, str, str, str] | None) -> str:
        verdict, tier, context, reason = key or ("no_evidence", "", "", "")
        if verdict == "no_evidence":
            tip = f' title="{_e(reason)}"' if reason else ""
            return f'<td class="v no_evidence"{tip}>-</td>'
        tip = "; ".join(
            part
            for part in (
                verdict,
                f"tier {tier}" if tier else "",
                vocab.CONTEXT_SHORT.get(context, context),
                reason,
            )
            if part
        )
        t2 = " t2" if tier == "II" else ""
        return (
            f'<td class="v {verdict}{t2}" title="{_e(tip)}">'
            f"{_e(vocab.cell_text(verdict, context))}</td>"
        )

    def write(
        self,
        out: IO[str],
        *,
        config: Mapping[str, object] | None = None,
        title: str = "ERBB2 TKI verdicts",
        drug_kinds: Mapping[str, str] | None = None,
    ) -> None:
        """Write the page (deterministic for the same rows)."""
        grid = self.grid
        samples = grid.samples
        groups = grid.groups(drug_kinds)
        drugs = [d for _, members in groups for d in members]
        failed = [s for s in samples if grid.failed(s)]
        versions = _kb_versions(grid.kb_pairs)
        kb_text = (
            "; ".join(f"{_e(v) or '?'} (hash <code>{_e(h) or '?'}</code>)" for v, h in versions)
            or "none (no sample was annotated)"
        )
        counts = {verdict: grid.counts.get(verdict, 0) for verdict in vocab.VERDICTS}
        head: list[str] = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{_e(title)}</title>",
            f"<style>{_STYLE}</style></head><body>",
            f"<h1>{_e(title)}</h1>",
            f'<p class="meta">Knowledge base: <b id="kb-version">{kb_text}</b></p>',
            f'<p class="meta">erbb2-tki {_e(__version__)}; alleles named on {TRANSCRIPT} / '
            f"{PROTEIN}</p>",
            f'<p class="meta">{len(samples)} samples ({len(failed)} failed), {len(drugs)} drugs; '
            f"{counts['sensitive']} sensitive, {counts['reduced_sensitivity']} reduced "
            f"sensitivity, {counts['resistant']} resistant, {counts['conflicting']} conflicting "
            "verdicts.</p>",
        ]
        if config:
            settings = ", ".join(
                f"{_e(k)} = <code>{_e(v) if v not in ('', None) else '(default)'}</code>"
                for k, v in config.items()
            )
            head.append(f'<p class="meta">Settings: {settings}</p>')
        head.append(_legend())
        head.append('<h2 id="grid">Verdict per sample and drug</h2>')
        out.write("\n".join(head) + "\n")

        if not samples:
            out.write("<p>No samples in this batch.</p>\n")
        else:
            group_row = "".join(
                f'<th class="group" colspan="{len(members)}">{_e(name)}</th>'
                for name, members in groups
            )
            drug_head = "".join(f"<th>{_e(d)}</th>" for d in drugs)
            out.write(
                "<p>Each sample name opens its own report page "
                "(<code>results/reports/SAMPLE.html</code>). Hover over a cell for its tier, "
                "context and reason.</p>\n"
                '<table id="verdict-grid"><thead>'
                f'<tr><th colspan="3"></th>{group_row}</tr>'
                "<tr><th>sample</th><th>tumour type</th>"
                f"<th>ERBB2 alleles</th>{drug_head}</tr></thead><tbody>\n"
            )
            cell_html: dict[tuple[str, str, str, str] | None, str] = {}
            no_allele = f'<td class="v {vocab.NO_ALLELE}" title="no ERBB2 allele">\u2013</td>'
            failed_cells = '<td class="v failed">failed</td>' * len(drugs)
            for sample in samples:
                info = grid.info.get(sample) or plots.SampleInfo()
                if info.failed:
                    cells = failed_cells
                else:
                    parts = []
                    for drug in drugs:
                        key = grid.row_key(sample, drug)
                        if info.no_allele and (key is None or key[0] == "no_evidence"):
                            parts.append(no_allele)
                            continue
                        text = cell_html.get(key)
                        if text is None:
                            text = cell_html[key] = self._cell_html(key)
                        parts.append(text)
                    cells = "".join(parts)
                out.write(
                    f"<tr><td>{self._link(sample)}</td><td>{_e(info.tumour_type)}</td>"
                    f"<td>{_e(info.alleles.replace(';', '; '))}</td>{cells}</tr>\n"
                )
            out.write("</tbody></table>\n")

        if failed:
            out.write(
                '<h2 id="failed">Failed samples</h2>\n'
                '<table id="failed-samples"><thead><tr><th>sample</th><th>reason</th></tr>\n'
                "</thead><tbody>\n"
            )
            for sample in failed:
                out.write(
                    f"<tr><td>{self._link(sample)}</td>"
                    f"<td>{_e(grid.info[sample].reason)}</td></tr>\n"
                )
            out.write("</tbody></table>\n")

        out.write('<h2 id="evidence">Verdicts with evidence</h2>\n')
        details = self._details()
        first = next(details, None)
        if first is None:
            out.write("<p>No sample has TKI evidence for its ERBB2 alleles.</p>\n")
        else:
            out.write(
                '<table id="verdict-details"><thead><tr><th>sample</th><th>drug</th>'
                "<th>verdict</th><th>tier</th><th>level in context</th>"
                "<th>OncoKB-style level</th><th>evidence from</th><th>KB evidence level</th>"
                "<th>deciding alleles</th><th>warnings</th><th>reason</th><th>citations</th>"
                "</tr></thead><tbody>\n"
            )
            out.write(first + "\n")
            for line in details:
                out.write(line + "\n")
            out.write("</tbody></table>\n")
        out.write("</body></html>\n")


def verdicts_page(
    summary: Any,
    verdicts: Any,
    *,
    config: Mapping[str, object] | None = None,
    title: str = "ERBB2 TKI verdicts",
    drug_kinds: Mapping[str, str] | None = None,
) -> str:
    """The verdict page as one HTML string (deterministic for the same tables; rows as
    mappings or DataFrames). write_report_files streams the same page to its file.

    The grid's cells show the verdict, its tier and context as the heatmap does (vocab); sample
    names link to each sample's page (results/reports/{sample}.html); citations link to PubMed,
    PMC or doi.org."""
    import io

    page = VerdictPage()
    try:
        for row in plots.records(summary):
            page.add_summary(row)
        for row in plots.records(verdicts):
            page.add_verdict(row)
        out = io.StringIO()
        page.write(out, config=config, title=title, drug_kinds=drug_kinds)
    finally:
        page.close()
    return out.getvalue()


# The columns the figures and the page read: the batch tables of a 1,000-sample run hold ~30,000
# rows of ~30 columns, and reading only these keeps the job's memory off the batch size.
ALLELE_COLUMNS_USED = frozenset(
    {
        "sample",
        "protein_start",
        "hgvsp_short",
        "hgvsp",
        "hgvsc",
        "consequence",
        "oncogenicity",
        "used_for_verdict",
        "filter",
    }
)
VERDICT_COLUMNS_USED = frozenset(VERDICT_COLUMNS) | frozenset(PAGE_VERDICT_COLUMNS)


def read_rows(path: Path, columns: frozenset[str] | None = None) -> Iterator[dict[str, str]]:
    """The rows of a batch TSV one at a time, as {column: text} for `columns` (all when None),
    untrusted cells restored (cells.restore); nothing when the file is missing or empty."""
    from .cells import UNTRUSTED_COLUMNS, restore

    if not path.is_file():
        return
    with open(path, encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\r\n").split("\t")
        if header == [""]:
            return
        wanted = [
            (i, name, name in UNTRUSTED_COLUMNS)
            for i, name in enumerate(header)
            if columns is None or name in columns
        ]
        width = len(header)
        for line in handle:
            line = line.rstrip("\r\n")
            if not line:
                continue
            cells = line.split("\t")
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            yield {
                name: restore(cells[i]) if untrusted else cells[i] for i, name, untrusted in wanted
            }


def write_report_files(
    batch_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    annotations: str | os.PathLike[str] | None = None,
    config: Mapping[str, object] | None = None,
) -> dict[str, Path]:
    """Write the lollipop, the heatmap and the verdict page from results/batch's tables.

    batch_dir holds summary.tsv, alleles.tsv and verdicts.tsv (as pipeline.summarize writes
    them). Returns the written paths by key (see REPORT_FILES).
    """
    from .. import fileio
    from ..naming import transcript
    from ..paths import annotations_dir

    batch = Path(batch_dir)
    page = VerdictPage()
    try:
        n_summary = 0
        for row in read_rows(batch / "summary.tsv"):
            page.add_summary(row)
            n_summary += 1
        tally = plots.AlleleTally()
        for row in read_rows(batch / "alleles.tsv", ALLELE_COLUMNS_USED):
            tally.add(row)
        for row in read_rows(batch / "verdicts.tsv", VERDICT_COLUMNS_USED):
            page.add_verdict(row)
        model = transcript.load_transcript(annotations_dir(annotations))
        out = Path(out_dir)
        paths = {key: out / name for key, name in REPORT_FILES.items()}
        plots.lollipop(tally, model, paths["lollipop"], n_samples=n_summary)
        kinds = vocab.read_drug_kinds(str(annotations_dir(annotations) / "knowledge" / "drugs.tsv"))
        plots.verdict_heatmap(page.grid, paths["heatmap"], drug_kinds=kinds)

        def write(temp: Path) -> None:
            with open(temp, "w", encoding="utf-8", newline="\n") as handle:
                page.write(handle, config=config, drug_kinds=kinds)

        fileio.atomic_write_with(paths["verdicts"], write)
    finally:
        page.close()
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m erbb2_tki.outputs.report_html",
        description="Write the report's figures and verdict page from results/batch.",
    )
    parser.add_argument(
        "--batch-dir", required=True, help="folder with summary/alleles/verdicts.tsv"
    )
    parser.add_argument("--out-dir", required=True, help="where to write the figures and page")
    parser.add_argument(
        "--annotations", default="", help="annotations/ folder (default: project's)"
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config value to print on the verdict page (repeatable)",
    )
    parser.add_argument("--log", help="append a line per written file here")
    args = parser.parse_args(argv)
    config = dict(item.split("=", 1) if "=" in item else (item, "") for item in args.setting)
    paths = write_report_files(
        args.batch_dir, args.out_dir, annotations=args.annotations or None, config=config
    )
    if args.log:
        with open(args.log, "a", encoding="utf-8") as log:
            for key, path in paths.items():
                log.write(f"report_html: wrote {key} {path}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
