"""MultiQC custom content: the batch summary as a MultiQC general-stats style table.

`multiqc results/` picks up results/batch/erbb2_tki_mqc.tsv; its YAML header names each column
and its hover text, and the sample's report page is linked relative to where MultiQC runs.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from . import vocab
from .tables import _cell

if TYPE_CHECKING:
    import pandas as pd


def _yaml_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Column -> (title shown in MultiQC, description shown on hover).
MQC_COLUMNS = {
    "status": ("Status", "ok, or failed (the reason is in results/batch/summary.tsv)"),
    "tumour_type": ("Tumour type", "OncoTree code the verdicts were judged for ('-': not given)"),
    "n_alleles": ("ERBB2 alleles", "ERBB2 alleles called in the tumour sample"),
    "alleles": ("Alleles", "Alleles on NP_004439.2 that decide verdicts (short form)"),
    "oncogenic_alleles": ("Oncogenic", "Alleles the knowledge base calls (likely) oncogenic"),
    "best_tier": (
        "Best tier",
        "Strongest AMP/ASCO/CAP 2017 tier among the verdicts: I (level A/B in this tumour type) "
        "or II (level C/D)",
    ),
    "verdict_sensitive": ("Sensitive", "Drugs with a sensitive verdict"),
    "verdict_reduced_sensitivity": ("Reduced", "Drugs with a reduced-sensitivity verdict"),
    "verdict_resistant": ("Resistant", "Drugs with a resistant verdict"),
    "verdict_conflicting": ("Conflicting", "Drugs whose evidence conflicts"),
    "structural_events": ("Structural", "Possible ERBB2 amplification or structural event"),
    "kb_version": ("KB version", "Knowledge-base version that produced the verdicts"),
    "report": (
        "Report",
        "The sample's own report page (results/reports/SAMPLE.html); the link works from a "
        "MultiQC report written beside results/, as `multiqc results/` does",
    ),
}
# Columns shown only when summary.tsv has them (older tables lack them).
MQC_OPTIONAL = ("verdict_reduced_sensitivity",)
# The report link's href is relative to the MultiQC report, written where `multiqc results/` runs.
MQC_LINK_PREFIX = "results/"


def _as_records(table: pd.DataFrame | Iterable[Mapping[str, object]]) -> list[Mapping[str, object]]:
    if hasattr(table, "to_dict"):
        return table.fillna("").to_dict("records")  # type: ignore[union-attr]
    return list(table)


def multiqc_header(kb_version: str, shown: Iterable[str] | None = None) -> list[str]:
    """The file's YAML header (comment lines) and its column line; `shown`: the summary columns
    to show (MQC_COLUMNS' keys by default)."""
    description = (
        "ERBB2 alleles named on NM_004448.4 / NP_004439.2 and tyrosine kinase inhibitor verdicts "
        f"from the erbb2-tki knowledge base (version {kb_version or 'unknown'})."
    )
    lines = [
        "# id: 'erbb2_tki'",
        "# section_name: 'ERBB2 TKI'",
        f"# description: {_yaml_quote(description)}",
        "# plot_type: 'table'",
        "# pconfig:",
        "#     id: 'erbb2_tki_table'",
        "#     title: 'ERBB2 TKI: alleles and verdicts'",
        "#     namespace: 'ERBB2 TKI'",
        "# headers:",
    ]
    columns = list(MQC_COLUMNS) if shown is None else list(shown)
    for column in columns:
        title, text = MQC_COLUMNS[column]
        lines.append(f"#     {column}:")
        lines.append(f"#         title: {_yaml_quote(title)}")
        lines.append(f"#         description: {_yaml_quote(text)}")
        if column == "n_alleles":
            lines.append("#         format: '{:,.0f}'")
            lines.append("#         min: 0")
    lines.append("\t".join(["Sample", *columns]))
    return lines


def multiqc_line(record: Mapping[str, object], shown: Iterable[str] | None = None) -> str:
    """One sample's line of the table (a summary.tsv record)."""
    columns = ["sample", *(list(MQC_COLUMNS) if shown is None else shown)]
    # Empty cells would make MultiQC drop the column for that sample; '-' reads as "none".
    row = {c: _cell(record.get(c)) or "-" for c in columns}
    if row["n_alleles"] == "-":
        row["n_alleles"] = ""
    # MultiQC shows a table cell's text as HTML: the link, with the sample name escaped.
    sample = _cell(record.get("sample"))
    page = _cell(record.get("report")) or vocab.report_path(sample)
    href = html.escape(MQC_LINK_PREFIX + vocab.href(page))
    row["report"] = f'<a href="{href}">{html.escape(sample)}</a>'
    return "\t".join(_cell(row.get(c), c) for c in columns)


def multiqc_text(summary: pd.DataFrame | Iterable[Mapping[str, str]], kb_version: str) -> str:
    """A MultiQC custom-content table (file name must end in _mqc.tsv) with one row per sample.

    The YAML header (comment lines) gives the section its id, name and column descriptions;
    MultiQC finds the file by its suffix when it scans results/. `summary` is summary.tsv's rows
    (records or a DataFrame).
    """
    records = _as_records(summary)
    shown = [
        column
        for column in MQC_COLUMNS
        if column not in MQC_OPTIONAL or any(column in r for r in records)
    ]
    lines = multiqc_header(kb_version, shown)
    lines += [multiqc_line(record, shown) for record in records]
    return "\n".join(lines) + "\n"
