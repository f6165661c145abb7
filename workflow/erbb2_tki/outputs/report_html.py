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
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

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


def _frame(frame: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame:
    """The frame with at least `columns` (missing ones empty), every value a string."""
    if frame is None:
        frame = pd.DataFrame()
    out = frame.copy()
    for column in columns:
        if column not in out.columns:
            out[column] = ""
    return out.astype(str).replace("nan", "")


def kb_versions(
    verdicts: pd.DataFrame, summary: pd.DataFrame | None = None
) -> list[tuple[str, str]]:
    """Distinct (kb_version, kb_hash) pairs behind the batch (normally exactly one)."""
    pairs: set[tuple[str, str]] = set()
    v = _frame(verdicts, ["kb_version", "kb_hash"])
    pairs |= set(zip(v["kb_version"], v["kb_hash"], strict=True))
    if summary is not None:
        s = _frame(summary, ["kb_version", "kb_hash"])
        pairs |= set(zip(s["kb_version"], s["kb_hash"], strict=True))
    # a version seen with its hash makes the hash-less sighting redundant
    with_hash = {version for version, digest in pairs if digest}
    return sorted(
        (version, digest)
        for version, digest in pairs
        if (version or digest) and (digest or version not in with_hash)
    )


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


def _tier_class(row: object) -> str:
    return " t2" if getattr(row, "amp_tier", "") == "II" else ""


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


def verdicts_page(
    summary: pd.DataFrame,
    verdicts: pd.DataFrame,
    *,
    config: Mapping[str, object] | None = None,
    title: str = "ERBB2 TKI verdicts",
    drug_kinds: Mapping[str, str] | None = None,
) -> str:
    """The verdict page as one HTML string (deterministic for the same tables).

    The grid's cells show the verdict, its tier and context as the heatmap does (vocab); sample
    names link to each sample's page (results/reports/{sample}.html); citations link to PubMed,
    PMC or doi.org."""
    summary = _frame(summary, ["sample", "status", "reason", "tumour_type", "alleles"])
    verdicts = _frame(verdicts, PAGE_VERDICT_COLUMNS)
    has_alleles_column = "alleles" in summary.columns
    samples = sorted((set(summary["sample"]) | set(verdicts["sample"])) - {""})
    kinds = dict(drug_kinds or {})
    kinds.update({d: k for d, k in zip(verdicts["drug"], verdicts["drug_kind"], strict=True) if k})
    groups = vocab.order_drugs(set(verdicts["drug"]) - {""}, kinds)
    drugs = [d for _, members in groups for d in members]
    status = dict(zip(summary["sample"], summary["status"], strict=True))
    failed = [s for s in samples if plots.sample_failed(status.get(s, ""))]
    lookup = {(r.sample, r.drug): r for r in verdicts.itertuples(index=False)}
    by_sample = {r.sample: r for r in summary.itertuples(index=False)}
    pages = (
        dict(zip(summary["sample"], summary["report"], strict=True))
        if ("report" in summary.columns)
        else {}
    )

    versions = kb_versions(verdicts, summary)
    kb_text = (
        "; ".join(f"{_e(v) or '?'} (hash <code>{_e(h) or '?'}</code>)" for v, h in versions)
        or "none (no sample was annotated)"
    )
    counts = {verdict: int((verdicts["verdict"] == verdict).sum()) for verdict in vocab.VERDICTS}
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Knowledge base: <b id="kb-version">{kb_text}</b></p>',
        f'<p class="meta">erbb2-tki {_e(__version__)}; alleles named on {TRANSCRIPT} / {PROTEIN}</p>',
        f'<p class="meta">{len(samples)} samples ({len(failed)} failed), {len(drugs)} drugs; '
        f"{counts['sensitive']} sensitive, {counts['reduced_sensitivity']} reduced sensitivity, "
        f"{counts['resistant']} resistant, {counts['conflicting']} conflicting verdicts.</p>",
    ]
    if config:
        settings = ", ".join(
            f"{_e(k)} = <code>{_e(v) if v not in ('', None) else '(default)'}</code>"
            for k, v in config.items()
        )
        out.append(f'<p class="meta">Settings: {settings}</p>')
    out.append(_legend())

    out.append('<h2 id="grid">Verdict per sample and drug</h2>')
    if not samples:
        out.append("<p>No samples in this batch.</p>")
    else:
        out.append(
            "<p>Each sample name opens its own report page "
            "(<code>results/reports/SAMPLE.html</code>). Hover over a cell for its tier, "
            "context and reason.</p>"
        )
        group_row = "".join(
            f'<th class="group" colspan="{len(members)}">{_e(name)}</th>'
            for name, members in groups
        )
        head = "".join(f"<th>{_e(d)}</th>" for d in drugs)
        out.append(
            '<table id="verdict-grid"><thead>'
            f'<tr><th colspan="3"></th>{group_row}</tr>'
            "<tr><th>sample</th><th>tumour type</th>"
            f"<th>ERBB2 alleles</th>{head}</tr></thead><tbody>"
        )
        for sample in samples:
            info = by_sample.get(sample)
            tumour = info.tumour_type if info is not None else ""
            alleles = info.alleles if info is not None else ""
            no_allele = info is not None and has_alleles_column and not alleles.strip()
            cells = []
            for drug in drugs:
                if sample in failed:
                    cells.append('<td class="v failed">failed</td>')
                    continue
                row = lookup.get((sample, drug))
                verdict = vocab.state_of(row.verdict if row is not None else "")
                if verdict == "no_evidence" and no_allele:
                    cells.append(
                        f'<td class="v {vocab.NO_ALLELE}" title="no ERBB2 allele">\u2013</td>'
                    )
                    continue
                if verdict == "no_evidence":
                    tip = f' title="{_e(row.reason)}"' if row is not None and row.reason else ""
                    cells.append(f'<td class="v no_evidence"{tip}>-</td>')
                    continue
                assert row is not None  # no row reads as no_evidence, handled above
                tip = "; ".join(
                    part
                    for part in (
                        verdict,
                        f"tier {row.amp_tier}" if row.amp_tier else "",
                        vocab.CONTEXT_SHORT.get(row.context, row.context),
                        row.reason,
                    )
                    if part
                )
                cells.append(
                    f'<td class="v {verdict}{_tier_class(row)}" title="{_e(tip)}">'
                    f"{_e(vocab.cell_text(verdict, row.context))}</td>"
                )
            out.append(
                f"<tr><td>{_sample_link(sample, pages.get(sample, ''))}</td><td>{_e(tumour)}</td>"
                f"<td>{_e(alleles.replace(';', '; '))}</td>{''.join(cells)}</tr>"
            )
        out.append("</tbody></table>")

    if failed:
        out.append('<h2 id="failed">Failed samples</h2>')
        out.append('<table id="failed-samples"><thead><tr><th>sample</th><th>reason</th></tr>')
        out.append("</thead><tbody>")
        for sample in failed:
            info = by_sample.get(sample)
            out.append(
                f"<tr><td>{_sample_link(sample, pages.get(sample, ''))}</td>"
                f"<td>{_e(info.reason if info is not None else '')}</td></tr>"
            )
        out.append("</tbody></table>")

    out.append('<h2 id="evidence">Verdicts with evidence</h2>')
    shown = verdicts[
        verdicts["verdict"].isin(vocab.WITH_EVIDENCE) & ~verdicts["sample"].isin(failed)
    ].sort_values(["sample", "drug"], kind="stable")
    if shown.empty:
        out.append("<p>No sample has TKI evidence for its ERBB2 alleles.</p>")
    else:
        out.append(
            '<table id="verdict-details"><thead><tr><th>sample</th><th>drug</th><th>verdict</th>'
            "<th>tier</th><th>level in context</th><th>OncoKB-style level</th>"
            "<th>evidence from</th><th>KB evidence level</th><th>deciding alleles</th>"
            "<th>warnings</th><th>reason</th><th>citations</th></tr></thead><tbody>"
        )
        for r in shown.itertuples(index=False):
            context = r.context or r.tumour_type_match
            out.append(
                f"<tr><td>{_sample_link(r.sample, pages.get(r.sample, ''))}</td>"
                f"<td>{_e(r.drug)}</td>"
                f'<td class="{_e(r.verdict)}{_tier_class(r)}">{_e(r.verdict)}</td>'
                f"<td>{_e(r.amp_tier)}</td><td>{_e(r.level_in_context)}</td>"
                f"<td>{_e(r.oncokb_level)}</td>"
                f"<td>{_e(vocab.CONTEXT_SHORT.get(context, context))}</td>"
                f"<td>{_e(r.evidence_level)}</td>"
                f"<td>{_e(r.alleles.replace(';', '; '))}</td>"
                f"<td>{_e(r.warnings.replace(';', '; '))}</td><td>{_e(r.reason)}</td>"
                f'<td class="citations">{vocab.citations_html(r.citations)}</td></tr>'
            )
        out.append("</tbody></table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


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


def _read(path: Path, columns: frozenset[str] | None = None) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    from .cells import restore_frame

    try:
        return restore_frame(
            pd.read_csv(
                path,
                sep="\t",
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                usecols=None if columns is None else lambda c: c in columns,
            )
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


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
    from ..naming import transcript
    from ..paths import annotations_dir

    batch = Path(batch_dir)
    summary = _read(batch / "summary.tsv")
    alleles = _read(batch / "alleles.tsv", ALLELE_COLUMNS_USED)
    verdicts = _read(batch / "verdicts.tsv", VERDICT_COLUMNS_USED)
    model = transcript.load_transcript(annotations_dir(annotations))
    out = Path(out_dir)
    paths = {key: out / name for key, name in REPORT_FILES.items()}
    plots.lollipop(alleles, model, paths["lollipop"], n_samples=len(summary))
    kinds = vocab.read_drug_kinds(str(annotations_dir(annotations) / "knowledge" / "drugs.tsv"))
    plots.verdict_heatmap(verdicts, paths["heatmap"], summary=summary, drug_kinds=kinds)
    page = verdicts_page(summary, verdicts, config=config, drug_kinds=kinds)
    plots.atomic_write_bytes(paths["verdicts"], page.encode("utf-8"))
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
