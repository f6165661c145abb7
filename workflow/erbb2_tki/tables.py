"""Batch tables: the summary, the drug matrix, the Excel workbook and the MultiQC section.

Every cell is the exact text the per-sample tables hold: numbers are never re-formatted between
the per-sample tables and the batch tables, text is never quoted or escaped (a TSV cell cannot
hold a tab or a line break, so none is needed), and two runs on the same input give
byte-identical files (no timestamps: the workbook's zip dates and document properties are fixed).

The summarize job handles every row of a 1,000-sample batch (tens of thousands of evidence rows),
so the batch path works on text lines grouped by sample (`read_by_sample`, `Table`) and writes the
workbook as streamed SpreadsheetML: no pandas, no per-cell objects, memory about the size of the
tables on disk. The DataFrame functions (build_summary, drug_matrix, write_tsv, read_tsv) are the
same rules for callers that already hold DataFrames.
"""

from __future__ import annotations

import html
import io
import itertools
import os
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import vocab
from .cells import UNTRUSTED_COLUMNS, neutralise, restore, untrusted

if TYPE_CHECKING:  # pandas is imported where used: the light jobs (manifest, check) skip it
    import pandas as pd


SUMMARY_COLUMNS = [
    "sample",
    "status",
    "reason",
    "build",
    "build_source",
    "tumour_type",
    "tumour_sample",
    "n_alleles",
    "alleles",
    "oncogenic_alleles",
    "drugs_sensitive_evidence",
    "drugs_resistant_evidence",
    "verdict_sensitive",
    "verdict_resistant",
    "verdict_conflicting",
    "verdict_reduced_sensitivity",
    "best_tier",
    "warnings",
    "structural_events",
    "alleles_not_used",
    "note",
    "kb_version",
    "vcf",
    "vcf_sha256",
    "report",
]

VERDICTS = vocab.VERDICTS
ONCOGENIC = ("oncogenic", "likely_oncogenic")
FAILED = "failed"
LIST_SEPARATOR = ";"
# Fixed stamp for the workbook (zip entries and document properties): outputs carry no run time.
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_DOC_TIME = "1980-01-01T00:00:00Z"
MAX_COLUMN_WIDTH = 60


# ---------------------------------------------------------------------------------------------
# Writing and reading TSVs


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place.

    A reader (or a re-run after a kill) sees the old file or the new one, never half of one.
    The temporary file is created with mode 0666 minus the umask (not mkstemp's 0600), so the
    result is as readable as any other output of the run.
    """
    from . import fileio

    fileio.atomic_write_bytes(path, data)


def records_tsv_bytes(records: Iterable[Mapping[str, object]], columns: Sequence[str]) -> bytes:
    """Rows of plain values as tab-separated text with a header line (no pandas needed)."""
    lines = ["\t".join(columns)]
    lines += ["\t".join(_cell(r.get(c), c) for c in columns) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _cell(value: object, column: str = "") -> str:
    """A value as TSV text: '' for None/NaN (0 stays 0); tabs and line breaks cannot be stored.

    Text from the user's files that would start a spreadsheet formula gets a leading "'"
    (cells.neutralise; only in cells.UNTRUSTED_COLUMNS).
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = value if isinstance(value, str) else str(value)
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    if column in UNTRUSTED_COLUMNS:
        return neutralise(text)
    return text


def read_records(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """A TSV written by this module as a list of dicts (no pandas needed), cells restored."""
    with open(path, encoding="utf-8", newline="") as handle:
        header, *rows = [line.rstrip("\n").split("\t") for line in handle if line.strip("\n")]
    return [
        {k: restore(v) if k in UNTRUSTED_COLUMNS else v for k, v in zip(header, row, strict=False)}
        for row in rows
    ]


def tsv_bytes(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> bytes:
    """A DataFrame as tab-separated text with a header line, '\\n' line ends, '' for missing.

    Cells are written as their text, unquoted (like records_tsv_bytes): read_tsv reads without
    quoting, so a quoted cell would come back with its quotes doubled on every round trip.
    """
    if columns is not None:
        frame = frame.reindex(columns=list(columns))
    return Table.from_frame(frame).tsv_bytes()


def write_tsv(
    frame: pd.DataFrame, path: str | os.PathLike[str], columns: Sequence[str] | None = None
) -> None:
    """Write a table atomically (see atomic_write_bytes)."""
    atomic_write_bytes(path, tsv_bytes(frame, columns))


def read_tsv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by write_tsv, every cell as the exact text written ('' for empty)."""
    import pandas as pd

    frame = pd.read_csv(
        path, sep="\t", dtype=str, keep_default_na=False, na_values=[], quoting=3
    ).fillna("")
    for column in frame.columns:
        if column in UNTRUSTED_COLUMNS:
            frame[column] = frame[column].map(restore)
    return frame


def concat(frames: Iterable[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """Stack tables that share columns; an empty input gives an empty table with those columns."""
    import pandas as pd

    kept = [f.reindex(columns=list(columns)) for f in frames if len(f)]
    if not kept:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    return pd.concat(kept, ignore_index=True).fillna("").astype(str)


# ---------------------------------------------------------------------------------------------
# Tables as text lines (the batch path: no pandas, memory about the size of the files)


@dataclass(frozen=True)
class Table:
    """A table as text: its columns and its rows, each row its cells joined by tabs.

    Holding a row as one string (not a dict or a list of cells) keeps a 50,000-row table at
    about its size on disk; rows are split into cells only where they are used.
    """

    columns: list[str]
    lines: list[str] = field(default_factory=list)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, object]], columns: Sequence[str]) -> Table:
        columns = list(columns)
        return cls(columns, ["\t".join(_cell(r.get(c), c) for c in columns) for r in records])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Table:
        columns = [str(c) for c in frame.columns]
        rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
        return cls(
            columns,
            ["\t".join(_cell(v, c) for v, c in zip(row, columns, strict=True)) for row in rows],
        )

    def rows(self) -> Iterator[list[str]]:
        """Each row as its list of cells (exactly len(columns) of them), as the original text
        (cells.restore: the lines hold the TSV form)."""
        width = len(self.columns)
        marked = untrusted(self.columns)
        for line in self.lines:
            cells = line.split("\t") if width else []
            if len(cells) != width:
                cells = (cells + [""] * width)[:width]
            for i in marked:
                if cells[i][:1] == "'":
                    cells[i] = restore(cells[i])
            yield cells

    def records(self) -> Iterator[dict[str, str]]:
        for cells in self.rows():
            yield dict(zip(self.columns, cells, strict=True))

    def tsv_bytes(self) -> bytes:
        """The table as written by records_tsv_bytes (header line, '\\n' after every line)."""
        return ("\n".join(["\t".join(self.columns), *self.lines]) + "\n").encode("utf-8")


def read_header(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a TSV (its first line)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.readline().rstrip("\r\n").split("\t")


def read_by_sample(
    paths: Iterable[str | os.PathLike[str]], columns: Sequence[str]
) -> dict[str, list[str]]:
    """The rows of several TSVs with a `sample` column, as lines in `columns` order, by sample.

    Samples keep the order they are first seen in and each sample's rows their order in the
    files (files in the order given). A file with other columns has its cells moved to
    `columns` ('' where it lacks one; columns not in `columns` are dropped); a row with too few
    cells is padded. Blank lines are skipped; '\r\n' line ends are read like '\n'.
    """
    columns = list(columns)
    width = len(columns)
    found: dict[str, list[str]] = {}
    for path in paths:
        with open(path, encoding="utf-8", newline="") as handle:
            header = handle.readline().rstrip("\r\n").split("\t")
            body = handle.read().split("\n")
        index = header.index("sample") if "sample" in header else -1
        same = header == columns
        if not same:
            where = [header.index(c) if c in header else -1 for c in columns]
        for line in body:
            if line.endswith("\r"):  # a table saved with Windows line ends
                line = line[:-1]
            if not line:
                continue
            cells = line.split("\t")
            complete = len(cells) == len(header)
            cells += [""] * (len(header) - len(cells))
            sample = restore(cells[index]) if index >= 0 else ""
            if same and complete:
                row = line
            else:
                if not same:
                    cells = [cells[i] if i >= 0 else "" for i in where]
                row = "\t".join(cells[:width])
            found.setdefault(sample, []).append(row)
    return found


class SampleRecords(Mapping[str, list[dict[str, str]]]):
    """Rows grouped by sample (from read_by_sample) seen as records, split only when asked for."""

    def __init__(self, columns: Sequence[str], by_sample: Mapping[str, list[str]]) -> None:
        self.columns = list(columns)
        self.by_sample = by_sample

    def __getitem__(self, sample: str) -> list[dict[str, str]]:
        return list(Table(self.columns, self.by_sample[sample]).records())

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_sample)

    def __len__(self) -> int:
        return len(self.by_sample)


# ---------------------------------------------------------------------------------------------
# The batch summary


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


def _join(values: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(_unique(values))


def allele_label(row: Mapping[str, str]) -> str:
    """How an allele is named in the summary: hgvsp_short, else HGVS c., else chrom:pos:ref>alt."""
    for key in ("hgvsp_short", "hgvsc"):
        value = str(row.get(key, "") or "")
        if value:
            return value
    return f"{row.get('chrom', '')}:{row.get('pos', '')}:{row.get('ref', '')}>{row.get('alt', '')}"


def _used(row: Mapping[str, str]) -> bool:
    # Tables without the column (older or hand-made) count every allele as used.
    return str(row.get("used_for_verdict", "yes") or "yes") == "yes"


TIERED_VERDICTS = ("sensitive", "reduced_sensitivity", "resistant")


def merge_warnings(warnings: tuple[str, ...]) -> tuple[str, ...]:
    """Distinct warning codes, other_tumour_resistance details of several drugs merged into one."""
    from .interpret import _merge_warnings

    return _merge_warnings(warnings)


def best_tier(verdicts: Sequence[Mapping[str, str]]) -> str:
    """The strongest AMP/ASCO/CAP tier (I before II) among a sample's sensitive,
    reduced_sensitivity and resistant verdicts; "" when none has a tier."""
    tiers = {
        str(r.get("amp_tier", "") or "")
        for r in verdicts
        if str(r.get("verdict", "")) in TIERED_VERDICTS
    }
    for tier in ("I", "II"):
        if tier in tiers:
            return tier
    return ""


def summary_row(
    sample: str,
    status: Mapping[str, str],
    alleles: Sequence[Mapping[str, str]],
    evidence: Sequence[Mapping[str, str]],
    verdicts: Sequence[Mapping[str, str]],
    structural: Sequence[Mapping[str, str]],
) -> dict[str, str]:
    """One line of summary.tsv for one sample, from its status record and its own table rows."""
    used = [r for r in alleles if _used(r)]
    not_used = [
        f"{allele_label(r)} ({str(r.get('used_for_verdict', '')).removeprefix('no:')})"
        for r in alleles
        if not _used(r)
    ]
    oncogenic = [
        allele_label(r) for r in used if str(r.get("oncogenicity", "")).lower() in ONCOGENIC
    ]

    def drugs_with(prefix: str) -> str:
        return _join(
            sorted(
                {
                    str(r.get("drug", ""))
                    for r in evidence
                    if str(r.get("response", "")).lower().startswith(prefix)
                }
            )
        )

    def verdict(kind: str) -> str:
        return _join(sorted(str(r.get("drug", "")) for r in verdicts if r.get("verdict") == kind))

    events = [str(r.get("event", "") or r.get("svtype", "")) for r in structural]
    return {
        "sample": sample,
        "status": str(status.get("status", "")),
        "reason": str(status.get("reason", "")),
        "build": str(status.get("build", "")),
        "build_source": str(status.get("build_source", "")),
        "tumour_type": str(status.get("tumour_type", "")),
        "tumour_sample": str(status.get("tumour_sample", "")),
        "n_alleles": str(len(alleles)) if status.get("status") == "ok" else "",
        "alleles": _join(allele_label(r) for r in used),
        "oncogenic_alleles": _join(oncogenic),
        "drugs_sensitive_evidence": drugs_with("sensitiv"),
        "drugs_resistant_evidence": drugs_with("resist"),
        "verdict_sensitive": verdict("sensitive"),
        "verdict_resistant": verdict("resistant"),
        "verdict_conflicting": verdict("conflicting"),
        "verdict_reduced_sensitivity": verdict("reduced_sensitivity"),
        "best_tier": best_tier(verdicts),
        "warnings": _join(
            [
                *(f"germline:{allele_label(r)}" for r in alleles if r.get("origin") == "germline"),
                *merge_warnings(
                    tuple(
                        w
                        for r in verdicts
                        for w in str(r.get("warnings", "") or "").split(LIST_SEPARATOR)
                        if w
                    )
                ),
            ]
        ),
        "structural_events": _join(events),
        "alleles_not_used": _join(not_used),
        "note": str(status.get("note", "")),
        "kb_version": str(status.get("kb_version", "")),
        "vcf": str(status.get("vcf", "")),
        "vcf_sha256": str(status.get("vcf_sha256", "")),
        "report": str(status.get("report") or vocab.report_path(sample)),
    }


def summary_records(
    status: Iterable[Mapping[str, str]],
    alleles: Mapping[str, Sequence[Mapping[str, str]]],
    evidence: Mapping[str, Sequence[Mapping[str, str]]],
    verdicts: Mapping[str, Sequence[Mapping[str, str]]],
    structural: Mapping[str, Sequence[Mapping[str, str]]],
) -> list[dict[str, str]]:
    """summary.tsv's rows: one per status record (failed samples too), sorted by sample.

    The tables come grouped by sample (sample -> its rows), so each sample costs a dict lookup,
    not a pass over the batch.
    """
    rows = []
    for record in sorted(status, key=lambda r: str(r.get("sample", ""))):
        sample = str(record.get("sample", ""))
        rows.append(
            summary_row(
                sample,
                record,
                alleles.get(sample, []),
                evidence.get(sample, []),
                verdicts.get(sample, []),
                structural.get(sample, []),
            )
        )
    return rows


def _records_by_sample(frame: pd.DataFrame) -> dict[str, list[dict[str, str]]]:
    """One pass over a table: sample -> its rows as records."""
    grouped: dict[str, list[dict[str, str]]] = {}
    if frame.empty or "sample" not in frame.columns:
        return grouped
    for record in frame.fillna("").to_dict("records"):
        grouped.setdefault(str(record["sample"]), []).append(record)
    return grouped


def build_summary(
    status: pd.DataFrame,
    alleles: pd.DataFrame,
    evidence: pd.DataFrame,
    verdicts: pd.DataFrame,
    structural: pd.DataFrame,
) -> pd.DataFrame:
    """summary.tsv as a DataFrame: one row per sample of `status` (failed ones included), sorted."""
    import pandas as pd

    rows = summary_records(
        status.to_dict("records"),
        _records_by_sample(alleles),
        _records_by_sample(evidence),
        _records_by_sample(verdicts),
        _records_by_sample(structural),
    )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).fillna("")


def drug_matrix_table(
    summary: Iterable[Mapping[str, str]], verdicts: Iterable[Mapping[str, str]]
) -> Table:
    """Samples x drugs: each cell a verdict (no_evidence where the drug had none; failed samples: failed).

    Drugs are the union over the batch, sorted by name, so every batch with the same knowledge
    base and the same verdicts gets the same columns in the same order.
    """
    lookup = {(str(r["sample"]), str(r["drug"])): str(r["verdict"]) for r in verdicts}
    drugs = sorted({drug for _, drug in lookup})
    lines = []
    for record in summary:
        sample = str(record["sample"])
        if record["status"] == FAILED:
            cells = [FAILED] * len(drugs)
        else:
            cells = [lookup.get((sample, drug), "no_evidence") for drug in drugs]
        lines.append("\t".join([_cell(sample), *cells]))
    return Table(["sample", *drugs], lines)


def _has_no_allele(record: Mapping[str, str]) -> bool:
    """An annotated sample none of whose ERBB2 alleles decides verdicts (none called, or all set
    aside); unknown (False) when the summary has no `alleles` column."""
    return record.get("status") != FAILED and "alleles" in record and not record["alleles"]


def drug_matrix_detail_table(
    summary: Iterable[Mapping[str, str]], verdicts: Iterable[Mapping[str, str]]
) -> Table:
    """The drug matrix for people (the Excel sheet): drugs grouped as in the heatmap (TKIs,
    combinations, antibodies and ADCs, other; by name within a group), each cell the verdict
    with its AMP tier and, unless it is the sample's own, the tumour-type context in words
    (vocab.matrix_text: 'sensitive (tier II, other tumour type)'); `no_allele` for a sample
    with no ERBB2 allele that decides verdicts, `failed` for a failed sample."""
    lookup: dict[tuple[str, str], str] = {}
    kinds: dict[str, str] = {}
    for r in verdicts:
        drug = str(r["drug"])
        lookup[(str(r["sample"]), drug)] = vocab.matrix_text(
            vocab.state_of(r.get("verdict")),
            str(r.get("amp_tier", "") or ""),
            str(r.get("context", "") or ""),
        )
        if r.get("drug_kind"):
            kinds[drug] = str(r["drug_kind"])
    drugs = [d for _, members in vocab.order_drugs({d for _, d in lookup}, kinds) for d in members]
    lines = []
    for record in summary:
        sample = str(record["sample"])
        if record["status"] == FAILED:
            cells = [FAILED] * len(drugs)
        else:
            empty = vocab.NO_ALLELE if _has_no_allele(record) else "no_evidence"
            cells = [lookup.get((sample, drug), empty) for drug in drugs]
            cells = [empty if c == "no_evidence" else c for c in cells]
        lines.append("\t".join([_cell(sample, "sample"), *cells]))
    return Table(["sample", *drugs], lines)


def matrix_style(text: str) -> str | None:
    """The Excel fill (a key of excel_fills()) of a drug-matrix cell, from its text."""
    verdict, tier, _ = vocab.parse_matrix_text(text)
    if verdict not in vocab.STYLE:
        return None
    if verdict in vocab.WITH_EVIDENCE:
        return f"{verdict}:{'II' if tier == 'II' else 'I'}"
    return f"{verdict}:"


def with_report_column(table: Table) -> Table:
    """The summary with a `report` column (each sample's page, relative to results/) when it
    has none yet."""
    if "report" in table.columns or "sample" not in table.columns:
        return table
    index = table.columns.index("sample")
    lines = [
        f"{line}\t{_cell(vocab.report_path(cells[index]))}"
        for line, cells in zip(table.lines, table.rows(), strict=True)
    ]
    return Table([*table.columns, "report"], lines)


ABOUT_COLUMNS = ["item", "meaning"]


def about_table(kb_versions: Sequence[tuple[str, str]], pipeline_version: str = "") -> Table:
    """The workbook's "about" sheet: knowledge-base version and hash, the colour legend of the
    drug matrix (each legend cell styled as the matrix cells are), and what the columns mean."""
    rows: list[tuple[str, str]] = []
    for version, digest in kb_versions or [("", "")]:
        rows.append(("knowledge base version", version or "(not recorded)"))
        rows.append(("knowledge base content hash", digest or "(not recorded)"))
    if pipeline_version:
        rows.append(("erbb2-tki version", pipeline_version))
    rows.append(("", ""))
    rows.append(("drug matrix legend", "each cell: verdict (AMP/ASCO/CAP 2017 tier, context)"))
    for verdict in vocab.WITH_EVIDENCE:
        for tier in vocab.TIERS:
            rows.append(
                (
                    vocab.matrix_text(verdict, tier),
                    f"{vocab.STYLE[verdict].label}; {vocab.TIER_LABELS[tier]}",
                )
            )
    for state in ("no_evidence", vocab.NO_ALLELE, FAILED):
        rows.append((state, vocab.STYLE[state].label))
    for context in ("pan_cancer", "subtype", "other_tumour_type", "unknown"):
        rows.append((f"({vocab.CONTEXT_SHORT[context]}) in a cell", vocab.CONTEXT_LABELS[context]))
    rows.append(("", ""))
    for sheet, columns in ABOUT_SHEETS.items():
        for column, meaning in columns.items():
            rows.append((f"{sheet}: {column}", meaning))
    return Table.from_records(
        [dict(zip(ABOUT_COLUMNS, r, strict=True)) for r in rows], ABOUT_COLUMNS
    )


ABOUT_SHEETS: dict[str, dict[str, str]] = {
    "summary": {
        "status": "ok, or failed (reason: why, and what to fix)",
        "tumour_type": "OncoTree code of the sample (sample sheet, else config tumour_type)",
        "alleles": "ERBB2 alleles that decide verdicts (NP_004439.2 short form)",
        "alleles_not_used": "alleles listed but set aside, with why (germline, filtered, ...)",
        "best_tier": "strongest AMP/ASCO/CAP tier among the sample's verdicts (I, II or empty)",
        "verdict_sensitive": "drugs with a sensitive verdict (likewise _reduced_sensitivity, _resistant, "
        "_conflicting)",
        "warnings": "';'-joined warning codes (README: verdict warnings)",
        "kb_version": "knowledge-base version that produced the verdicts",
        "report": "the sample's own report page, relative to results/ (click to open)",
    },
    "drug matrix": {
        "sample": "one row per sample; one column per drug, TKIs first, then combinations, "
        "antibodies and ADCs, other drugs",
        "(drug)": "the verdict with its tier and, when not the sample's tumour type, where the "
        "deciding evidence comes from (legend above)",
    },
    "verdicts": {
        "verdict": "sensitive, reduced_sensitivity, resistant, conflicting or no_evidence",
        "level_in_context": "AMP/ASCO/CAP 2017 level for this sample's tumour type (A-D)",
        "amp_tier": "I (levels A/B) or II (C/D)",
        "oncokb_level": "OncoKB-style level (1, 2, 3A, 3B, 4, R1, R2)",
        "context": "tumour-type context of the deciding evidence (same_tumour_type, "
        "pan_cancer, subtype, other_tumour_type, unknown)",
        "evidence_level": "the knowledge base's own level of the deciding evidence",
        "warnings": "';'-joined codes, each code or code:detail (e.g. resistance_allele:p.T798I)",
        "citations": "PMID:n (PubMed), PMCn (PubMed Central), DOI:... (doi.org) or a reference",
    },
}


def excel_fills() -> dict[str, tuple[str, str]]:
    """Style key -> (fill colour, font colour) for the drug matrix: one per verdict x tier, and
    no evidence, no ERBB2 allele and failed (vocab.STYLE's colours, as in the heatmap)."""
    fills = {}
    for verdict in vocab.WITH_EVIDENCE:
        for tier in vocab.TIERS:
            fills[f"{verdict}:{tier}"] = (
                vocab.fill(verdict, tier),
                vocab.text_colour(verdict, tier),
            )
    for state in ("no_evidence", vocab.NO_ALLELE, FAILED):
        fills[f"{state}:"] = (vocab.fill(state), vocab.text_colour(state))
    return fills


def drug_matrix(summary: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """drug_matrix_table for DataFrames."""
    import pandas as pd

    table = drug_matrix_table(
        summary.to_dict("records"), verdicts.to_dict("records") if len(verdicts) else []
    )
    return pd.DataFrame(list(table.rows()), columns=table.columns).fillna("")


# ---------------------------------------------------------------------------------------------
# MultiQC custom content


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
    return list(table)  # type: ignore[arg-type]


def multiqc_text(summary: pd.DataFrame | Iterable[Mapping[str, str]], kb_version: str) -> str:
    """A MultiQC custom-content table (file name must end in _mqc.tsv) with one row per sample.

    The YAML header (comment lines) gives the section its id, name and column descriptions;
    MultiQC finds the file by its suffix when it scans results/. `summary` is summary.tsv's rows
    (records or a DataFrame).
    """
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
    records = _as_records(summary)
    shown = {
        column: value
        for column, value in MQC_COLUMNS.items()
        if column not in MQC_OPTIONAL or any(column in r for r in records)
    }
    for column, (title, text) in shown.items():
        lines.append(f"#     {column}:")
        lines.append(f"#         title: {_yaml_quote(title)}")
        lines.append(f"#         description: {_yaml_quote(text)}")
        if column == "n_alleles":
            lines.append("#         format: '{:,.0f}'")
            lines.append("#         min: 0")
    columns = ["sample", *shown]
    body = []
    for record in records:
        # Empty cells would make MultiQC drop the column for that sample; '-' reads as "none".
        row = {c: _cell(record.get(c)) or "-" for c in columns}
        if row["n_alleles"] == "-":
            row["n_alleles"] = ""
        # MultiQC shows a table cell's text as HTML: the link, with the sample name escaped.
        sample = _cell(record.get("sample"))
        page = _cell(record.get("report")) or vocab.report_path(sample)
        href = html.escape(MQC_LINK_PREFIX + vocab.href(page))
        row["report"] = f'<a href="{href}">{html.escape(sample)}</a>'
        body.append(row)
    table = Table.from_records(body, columns)
    header = "\t".join(["Sample", *shown])
    return "\n".join([*lines, header, *table.lines]) + "\n"


# ---------------------------------------------------------------------------------------------
# Excel (SpreadsheetML written directly: openpyxl builds an object per cell, which at ~1 million
# cells took 30 s and 300 MB; even its write-only mode takes ~20 µs a cell)

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# Characters XML 1.0 cannot hold; Excel's own escape for them is _xHHHH_.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_")
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _excel_value(value: object) -> object:
    """Numbers stored as text in the TSVs become numbers in Excel (so filters sort them)."""
    text = "" if value is None else str(value)
    if _NUMBER.match(text) and len(text) < 16:
        return float(text) if "." in text else int(text)
    return text


def _xml_text(text: str) -> str:
    """Text as XML character data, with Excel's _xHHHH_ escapes for what XML cannot hold."""
    if _EXCEL_ESCAPE.search(text):  # a literal "_x0041_" must not be read as an escape
        text = _EXCEL_ESCAPE.sub(lambda m: "_x005F" + m.group(0), text)
    if _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell_xml(text: str) -> str:
    """A cell's XML after its reference (the part that depends only on its text).

    Numbers as <v> (as Python writes the number openpyxl would store), text as an inline string
    (the form openpyxl writes, so the workbook reads back the same), empty cells are omitted.
    """
    value = _excel_value(text)
    if not isinstance(value, str):
        return f'"><v>{value!r}</v></c>'
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f'" t="inlineStr"><is><t{space}>{_xml_text(value)}</t></is></c>'


def _column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_widths(table: Table) -> list[int]:
    """Each column as wide as its longest text (header included) + 2, between 8 and 60."""
    longest = [len(c) for c in table.columns]
    rows = table.rows()
    while block := list(itertools.islice(rows, 5000)):  # columns of 5,000 rows at a time
        for i, cells in enumerate(zip(*block, strict=True)):
            longest[i] = max(longest[i], *map(len, cells))
    return [max(min(n + 2, MAX_COLUMN_WIDTH), 8) for n in longest]


class _Fragments(dict[str, str]):
    """text -> its cell XML (_cell_xml), made once per distinct text: batch tables repeat most.

    With `style_of` (text -> style id or None), a cell whose text has a style carries it."""

    def __init__(self, style_of: Callable[[str], int | None] | None = None) -> None:
        super().__init__()
        self.style_of = style_of

    def __missing__(self, text: str) -> str:
        fragment = _cell_xml(text)
        style = self.style_of(text) if self.style_of is not None else None
        if style is not None:
            fragment = f'" s="{style}' + fragment
        self[text] = fragment
        return fragment


def _sheet_chunks(
    table: Table,
    selected: bool,
    style_of: Callable[[str], int | None] | None = None,
    link: tuple[str, str] | None = None,
    links: list[tuple[str, str]] | None = None,
) -> Iterator[str]:
    """One worksheet's XML, in pieces: frozen header row, widths, cells, autofilter.

    style_of: text -> cell style id (or None). link: (column, prefix): each non-empty cell of
    that column becomes a hyperlink to prefix + the cell's text (a relative path, URL-encoded);
    its (cell reference, target) pairs are appended to `links` and the sheet's <hyperlinks>
    refers to them as relationships rId1, rId2... (write_excel writes the sheet's rels part)."""
    n_columns = max(len(table.columns), 1)
    last = f"{_column_letter(n_columns)}{len(table.lines) + 1}"
    letters = [_column_letter(i) for i in range(1, len(table.columns) + 1)]
    tab = ' tabSelected="1"' if selected else ""
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(_column_widths(table), start=1)
    )
    yield (
        f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        f'<dimension ref="A1:{last}"/>'
        f'<sheetViews><sheetView{tab} workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
    )
    header = "".join(
        f'<c r="{letter}1" s="1" t="inlineStr"><is><t>{_xml_text(name)}</t></is></c>'
        for letter, name in zip(letters, table.columns, strict=True)
    )
    yield f'<row r="1">{header}</row>'
    fragments = _Fragments(style_of)
    link_index = table.columns.index(link[0]) if link and link[0] in table.columns else -1
    chunk: list[str] = []
    for number, cells in enumerate(table.rows(), start=2):
        parts = [
            f'<c r="{letter}{number}{fragments[text]}' if text else ""
            for letter, text in zip(letters, cells, strict=True)
        ]
        if link_index >= 0 and cells[link_index] and links is not None and link is not None:
            ref = f"{letters[link_index]}{number}"
            links.append((ref, link[1] + vocab.href(cells[link_index])))
            parts[link_index] = f'<c r="{ref}" s="{LINK_STYLE}{_cell_xml(cells[link_index])}'
        row = "".join(parts)
        chunk.append(f'<row r="{number}">{row}</row>')
        if len(chunk) >= 2000:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)
    hyperlinks = ""
    if links:
        hyperlinks = (
            "<hyperlinks>"
            + "".join(
                f'<hyperlink ref="{ref}" r:id="rId{i}"/>'
                for i, (ref, _) in enumerate(links, start=1)
            )
            + "</hyperlinks>"
        )
    yield (
        f'</sheetData><autoFilter ref="A1:{last}"/>{hyperlinks}'
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
        "</worksheet>"
    )


def _xml_attribute(text: str) -> str:
    return _xml_text(text).replace('"', "&quot;")


def _package_parts(names: Sequence[str], tables: Sequence[Table]) -> dict[str, str]:
    """Every part of the workbook but the worksheets."""
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
        for i in range(1, len(names) + 1)
    )
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    sheets = "".join(
        f'<sheet name="{_xml_attribute(name)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"'{_xml_text(name.replace(chr(39), chr(39) * 2))}'!$A$1:"
        f"${_column_letter(max(len(t.columns), 1))}${len(t.lines) + 1}</definedName>"
        for i, (name, t) in enumerate(zip(names, tables, strict=True))
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{office}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    )
    n = len(names)
    return {
        "[Content_Types].xml": (
            f"{XML_DECLARATION}"
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}"
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/'
            'vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{office}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{office}/extended-properties" '
            'Target="docProps/app.xml"/></Relationships>'
        ),
        "docProps/app.xml": (
            f"{XML_DECLARATION}<Properties xmlns="
            '"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>erbb2-tki</Application></Properties>"
        ),
        "docProps/core.xml": (
            f"{XML_DECLARATION}<cp:coreProperties "
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:creator>erbb2-tki</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{FIXED_DOC_TIME}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_DOC_TIME}</dcterms:modified>'
            "</cp:coreProperties>"
        ),
        "xl/workbook.xml": (
            f'{XML_DECLARATION}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{filters}</definedNames>" if filters else "")
            + "</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}">{sheet_rels}'
            f'<Relationship Id="rId{n + 1}" Type="{office}/styles" Target="styles.xml"/>'
            "</Relationships>"
        ),
        "xl/styles.xml": _styles_xml(),
    }


# Cell styles: 0 Calibri 11; 1 the same in bold (header cells); 2 a hyperlink (blue,
# underlined); then one per excel_fills() key, in its order (solid fill, font colour for contrast).
LINK_STYLE = 2
FIRST_FILL_STYLE = 3


def style_ids() -> dict[str, int]:
    """excel_fills() key -> cell style id."""
    return {key: FIRST_FILL_STYLE + i for i, key in enumerate(excel_fills())}


def _argb(colour: str) -> str:
    return "FF" + colour.lstrip("#").upper()


def _styles_xml() -> str:
    fills = excel_fills()
    font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
    fonts = [
        f"<font>{font}</font>",
        f"<font><b/>{font}</font>",
        '<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/>'
        '<family val="2"/></font>',
    ]
    fill_xml = [
        '<fill><patternFill patternType="none"/></fill>',
        '<fill><patternFill patternType="gray125"/></fill>',
    ]
    xfs = [
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
        '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
    ]
    for background, text in fills.values():
        fonts.append(
            f'<font><sz val="11"/><color rgb="{_argb(text)}"/><name val="Calibri"/>'
            '<family val="2"/></font>'
        )
        fill_xml.append(
            f'<fill><patternFill patternType="solid"><fgColor rgb="{_argb(background)}"/>'
            '<bgColor indexed="64"/></patternFill></fill>'
        )
        xfs.append(
            f'<xf numFmtId="0" fontId="{len(fonts) - 1}" fillId="{len(fill_xml) - 1}" '
            'borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
        )
    return (
        f'{XML_DECLARATION}<styleSheet xmlns="{MAIN_NS}">'
        f'<fonts count="{len(fonts)}">{"".join(fonts)}</fonts>'
        f'<fills count="{len(fill_xml)}">{"".join(fill_xml)}</fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        "</borders>"
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
        "</cellStyles></styleSheet>"
    )


def _style_id_func(
    func: Callable[[str], str | None], ids: Mapping[str, int]
) -> Callable[[str], int | None]:
    def style_id(text: str) -> int | None:
        key = func(text)
        return ids.get(key) if key else None

    return style_id


def _zip_entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date and mode (outputs carry no run time), deflated at level 1."""
    entry = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry._compresslevel = 1  # type: ignore[attr-defined]  # (public as compress_level in 3.13)
    entry.external_attr = 0o644 << 16
    return entry


def write_excel(
    sheets: Mapping[str, pd.DataFrame | Table],
    path: str | os.PathLike[str],
    *,
    styles: Mapping[str, Callable[[str], str | None]] | None = None,
    links: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """One sheet per table: header row bold and frozen, autofilter on, columns as wide as their text.

    Cells that look like numbers are stored as numbers. styles: sheet name -> a function giving
    a cell's fill (a key of excel_fills(), or None) from its text. links: sheet name ->
    (column, prefix): that column's cells link to prefix + their text (e.g. the summary's
    `report` column to "../" + reports/S01.html, relative to the workbook in results/batch/).
    Streamed: each worksheet's XML goes into the zip in pieces. Deterministic (fixed zip dates
    and document times) and atomic.
    """
    names = [name[:31] for name in sheets]
    tables = [t if isinstance(t, Table) else Table.from_frame(t) for t in sheets.values()]
    ids = style_ids()
    style_funcs: list[Callable[[str], int | None] | None] = []
    for name in sheets:
        func = (styles or {}).get(name)
        style_funcs.append(None if func is None else _style_id_func(func, ids))
    sheet_links = [(links or {}).get(name) for name in sheets]
    buffer = io.BytesIO()
    # Level 1: a third of level 6's time on ~50 MB of XML, for a file ~1.3x the size.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        parts = _package_parts(names, tables)
        for name, text in parts.items():
            book.writestr(_zip_entry(name), text)
        for i, table in enumerate(tables, start=1):
            found: list[tuple[str, str]] = []
            with book.open(_zip_entry(f"xl/worksheets/sheet{i}.xml"), "w") as sheet:
                chunks = _sheet_chunks(table, i == 1, style_funcs[i - 1], sheet_links[i - 1], found)
                for chunk in chunks:
                    sheet.write(chunk.encode("utf-8"))
            if found:
                office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
                rels = "".join(
                    f'<Relationship Id="rId{k}" Type="{office}/hyperlink" '
                    f'Target="{_xml_attribute(target)}" TargetMode="External"/>'
                    for k, (_, target) in enumerate(found, start=1)
                )
                book.writestr(
                    _zip_entry(f"xl/worksheets/_rels/sheet{i}.xml.rels"),
                    f'{XML_DECLARATION}<Relationships xmlns="{PKG_REL_NS}">{rels}</Relationships>',
                )
    atomic_write_bytes(path, buffer.getvalue())
