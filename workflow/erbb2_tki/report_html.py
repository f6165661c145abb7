"""The report's figures and verdict page, built from the batch tables.

`snakemake --report` shows TSV files only as downloads, so a reader of the report would not see
a single verdict. This module writes what the report embeds: the two figures (plots.py) and a
self-contained HTML page (no scripts, no external files, inline styles) with the sample x drug
verdict grid and, for every drug with evidence, the verdict, its evidence level, deciding
alleles, reason and citations, under the knowledge-base version and hash that produced them.

Run by the workflow as `python -m erbb2_tki.report_html --batch-dir results/batch
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

from . import PROTEIN, TRANSCRIPT, __version__, plots
from .annotate import VERDICT_COLUMNS

REPORT_FILES = {
    "lollipop": "lollipop.svg",
    "heatmap": "verdict_heatmap.svg",
    "verdicts": "verdicts.html",
}

_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 14px; color: #222; margin: 16px; }
h1 { font-size: 20px; margin: 0 0 4px 0; }
h2 { font-size: 16px; margin: 22px 0 6px 0; }
p.meta { color: #444; margin: 2px 0; }
code { font-size: 13px; }
table { border-collapse: collapse; margin: 4px 0 12px 0; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; position: sticky; top: 0; }
td.v { text-align: center; font-weight: bold; min-width: 2.5em; }
.sensitive { background: #009E73; color: #fff; }
.resistant { background: #D55E00; color: #fff; }
.conflicting { background: #CC79A7; color: #fff; }
.no_evidence { background: #EEEEEE; color: #777; }
.failed { background: #555555; color: #fff; }
#verdict-details td:nth-child(7) { min-width: 22em; }
#verdict-details td:nth-child(8) { min-width: 12em; }
span.key { display: inline-block; padding: 1px 8px; margin-right: 6px; border-radius: 3px; }
"""
_LETTER = {
    "sensitive": "S",
    "reduced_sensitivity": "RS",
    "resistant": "R",
    "conflicting": "C",
    "no_evidence": "-",
}


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


def verdicts_page(
    summary: pd.DataFrame,
    verdicts: pd.DataFrame,
    *,
    config: Mapping[str, object] | None = None,
    title: str = "ERBB2 TKI verdicts",
) -> str:
    """The verdict page as one HTML string (deterministic for the same tables)."""
    summary = _frame(summary, ["sample", "status", "reason", "tumour_type", "alleles"])
    verdicts = _frame(
        verdicts,
        [
            "sample",
            "drug",
            "verdict",
            "evidence_level",
            "context",
            "alleles",
            "citations",
            "reason",
        ],
    )
    samples = sorted((set(summary["sample"]) | set(verdicts["sample"])) - {""})
    drugs = sorted(set(verdicts["drug"]) - {""})
    status = dict(zip(summary["sample"], summary["status"], strict=True))
    failed = [s for s in samples if plots.sample_failed(status.get(s, ""))]
    lookup = {(r.sample, r.drug): r for r in verdicts.itertuples(index=False)}
    by_sample = {r.sample: r for r in summary.itertuples(index=False)}

    versions = kb_versions(verdicts, summary)
    kb_text = (
        "; ".join(f"{_e(v) or '?'} (hash <code>{_e(h) or '?'}</code>)" for v, h in versions)
        or "none (no sample was annotated)"
    )
    counts = {
        verdict: int((verdicts["verdict"] == verdict).sum())
        for verdict in ("sensitive", "resistant", "conflicting")
    }
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">Knowledge base: <b id="kb-version">{kb_text}</b></p>',
        f'<p class="meta">erbb2-tki {_e(__version__)}; alleles named on {TRANSCRIPT} / {PROTEIN}</p>',
        f'<p class="meta">{len(samples)} samples ({len(failed)} failed), {len(drugs)} drugs; '
        f"{counts['sensitive']} sensitive, {counts['resistant']} resistant, "
        f"{counts['conflicting']} conflicting verdicts.</p>",
    ]
    if config:
        settings = ", ".join(
            f"{_e(k)} = <code>{_e(v) if v not in ('', None) else '(default)'}</code>"
            for k, v in config.items()
        )
        out.append(f'<p class="meta">Settings: {settings}</p>')
    out.append(
        "<p>"
        + "".join(
            f'<span class="key {v}">{_e(label)}</span>'
            for v, label in (
                ("sensitive", "S sensitive"),
                ("resistant", "R resistant"),
                ("conflicting", "C conflicting"),
                ("no_evidence", "- no evidence"),
                ("failed", "sample failed"),
            )
        )
        + "</p>"
    )

    out.append('<h2 id="grid">Verdict per sample and drug</h2>')
    if not samples:
        out.append("<p>No samples in this batch.</p>")
    else:
        head = "".join(f"<th>{_e(d)}</th>" for d in drugs)
        out.append(
            f'<table id="verdict-grid"><thead><tr><th>sample</th><th>tumour type</th>'
            f"<th>ERBB2 alleles</th>{head}</tr></thead><tbody>"
        )
        for sample in samples:
            info = by_sample.get(sample)
            tumour = info.tumour_type if info is not None else ""
            alleles = info.alleles if info is not None else ""
            cells = []
            for drug in drugs:
                if sample in failed:
                    cells.append('<td class="v failed">failed</td>')
                    continue
                row = lookup.get((sample, drug))
                verdict = row.verdict if row is not None else "no_evidence"
                verdict = verdict if verdict in _LETTER else "no_evidence"
                tip = f' title="{_e(row.reason)}"' if row is not None and row.reason else ""
                cells.append(f'<td class="v {verdict}"{tip}>{_LETTER[verdict]}</td>')
            out.append(
                f"<tr><td>{_e(sample)}</td><td>{_e(tumour)}</td>"
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
                f"<tr><td>{_e(sample)}</td><td>{_e(info.reason if info is not None else '')}</td></tr>"
            )
        out.append("</tbody></table>")

    out.append('<h2 id="evidence">Verdicts with evidence</h2>')
    shown = verdicts[
        verdicts["verdict"].isin(["sensitive", "resistant", "conflicting"])
        & ~verdicts["sample"].isin(failed)
    ].sort_values(["sample", "drug"], kind="stable")
    if shown.empty:
        out.append("<p>No sample has TKI evidence for its ERBB2 alleles.</p>")
    else:
        out.append(
            '<table id="verdict-details"><thead><tr><th>sample</th><th>drug</th><th>verdict</th>'
            "<th>evidence level</th><th>tumour type</th><th>deciding alleles</th><th>reason</th>"
            "<th>citations</th></tr></thead><tbody>"
        )
        for r in shown.itertuples(index=False):
            out.append(
                f"<tr><td>{_e(r.sample)}</td><td>{_e(r.drug)}</td>"
                f'<td class="{_e(r.verdict)}">{_e(r.verdict)}</td>'
                f"<td>{_e(r.evidence_level)}</td><td>{_e(r.context)}</td>"
                f"<td>{_e(r.alleles.replace(';', '; '))}</td><td>{_e(r.reason)}</td>"
                f"<td>{_e(r.citations.replace(';', '; '))}</td></tr>"
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
VERDICT_COLUMNS_USED = frozenset(VERDICT_COLUMNS)


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
    from . import transcript
    from .paths import annotations_dir

    batch = Path(batch_dir)
    summary = _read(batch / "summary.tsv")
    alleles = _read(batch / "alleles.tsv", ALLELE_COLUMNS_USED)
    verdicts = _read(batch / "verdicts.tsv", VERDICT_COLUMNS_USED)
    model = transcript.load_transcript(annotations_dir(annotations))
    out = Path(out_dir)
    paths = {key: out / name for key, name in REPORT_FILES.items()}
    plots.lollipop(alleles, model, paths["lollipop"], n_samples=len(summary))
    plots.verdict_heatmap(verdicts, paths["heatmap"], summary=summary)
    plots.atomic_write_bytes(
        paths["verdicts"], verdicts_page(summary, verdicts, config=config).encode("utf-8")
    )
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m erbb2_tki.report_html",
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
