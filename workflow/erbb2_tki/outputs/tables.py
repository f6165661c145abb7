"""Batch tables: the summary and the drug matrix, as TSV text (the workbook: xlsx.py; MultiQC: multiqc.py).

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

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

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


# ---------------------------------------------------------------------------------------------
# Writing and reading TSVs


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place.

    A reader (or a re-run after a kill) sees the old file or the new one, never half of one.
    The temporary file is created with mode 0666 minus the umask (not mkstemp's 0600), so the
    result is as readable as any other output of the run.
    """
    from .. import fileio

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
        return _cells_of(self.lines, self.columns)

    def records(self) -> Iterator[dict[str, str]]:
        for cells in self.rows():
            yield dict(zip(self.columns, cells, strict=True))

    def tsv_bytes(self) -> bytes:
        """The table as written by records_tsv_bytes (header line, '\\n' after every line)."""
        return ("\n".join(["\t".join(self.columns), *self.lines]) + "\n").encode("utf-8")

    @property
    def n_rows(self) -> int:
        return len(self.lines)


def _cells_of(lines: Iterable[str], columns: Sequence[str]) -> Iterator[list[str]]:
    """Table.rows for any iterable of lines."""
    width = len(columns)
    marked = untrusted(columns)
    for line in lines:
        cells = line.split("\t") if width else []
        if len(cells) != width:
            cells = (cells + [""] * width)[:width]
        for i in marked:
            if cells[i][:1] == "'":
                cells[i] = restore(cells[i])
        yield cells


class FileTable:
    """A table read from a TSV file each time its rows are asked for (Table's interface for the
    workbook writer): a batch table is streamed from disk, never held in memory.

    `source` is a path, or an open text file (rewound for every pass). n_rows is counted once.
    """

    def __init__(self, source: str | os.PathLike[str] | IO[str]) -> None:
        self.source = source
        with self._open() as handle:
            self.columns = handle.readline().rstrip("\r\n").split("\t")
            self.n_rows = sum(1 for line in handle if line.rstrip("\r\n"))

    @contextmanager
    def _open(self) -> Iterator[IO[str]]:
        if isinstance(self.source, str | os.PathLike):
            with open(self.source, encoding="utf-8", newline="") as handle:
                yield handle
        else:
            self.source.seek(0)
            yield self.source

    def _lines(self) -> Iterator[str]:
        with self._open() as handle:
            handle.readline()
            for line in handle:
                line = line.rstrip("\r\n")
                if line:
                    yield line

    def rows(self) -> Iterator[list[str]]:
        return _cells_of(self._lines(), self.columns)

    def records(self) -> Iterator[dict[str, str]]:
        for cells in self.rows():
            yield dict(zip(self.columns, cells, strict=True))


class TsvWriter:
    """A TSV written line by line to a temporary file beside its target, renamed into place by
    commit() (fileio's atomic rule: a reader sees the old file or the whole new one)."""

    def __init__(
        self, path: str | os.PathLike[str], columns: Sequence[str], *, header: bool = True
    ) -> None:
        from .. import fileio

        self.target = Path(path)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.temp = fileio.temp_name(self.target)
        self.columns = list(columns)
        self.n_rows = 0
        self._handle: IO[str] | None = open(  # noqa: SIM115
            self.temp, "w", encoding="utf-8", newline="\n"
        )
        if header:
            self._handle.write("\t".join(self.columns) + "\n")

    def write(self, line: str) -> None:
        assert self._handle is not None
        self._handle.write(line + "\n")
        self.n_rows += 1

    def write_record(self, record: Mapping[str, object]) -> None:
        self.write("\t".join(_cell(record.get(c), c) for c in self.columns))

    def commit(self) -> Path:
        from .. import fileio

        assert self._handle is not None
        with fileio.writing(self.target):
            self._handle.flush()
            fileio.fsync_file(self._handle.fileno())
            self._handle.close()
            self._handle = None
            os.replace(self.temp, self.target)
        return self.target

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self.temp.unlink(missing_ok=True)


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


class ShardIndex:
    """Where each sample's rows are in a set of shard TSVs, from one pass over each file: a few
    byte spans per sample, so the batch tables are written sample by sample, in sample order,
    without holding them (read_by_sample holds every line).

    Only rows of the `wanted` samples are indexed. `seen(sample, row)` is called with each such
    row as {column: text} (the file's own columns), e.g. to gather the drugs. lines(sample)
    gives the sample's rows as lines in `columns` (read_by_sample's rules: a file with other
    columns has its cells moved, a short row is padded; blank lines skipped; '\r\n' read as
    '\n'), files in the order given.
    """

    _MAX_OPEN = 64

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        columns: Sequence[str],
        wanted: set[str] | frozenset[str],
        seen: Callable[[str, dict[str, str]], None] | None = None,
    ) -> None:
        self.columns = list(columns)
        self.paths = [Path(p) for p in paths]
        self.headers: list[list[str]] = []
        self.spans: dict[str, list[list[int]]] = {}
        self._handles: dict[int, IO[bytes]] = {}
        for k, path in enumerate(self.paths):
            with open(path, "rb") as handle:
                first = handle.readline()
                header = first.decode("utf-8").rstrip("\r\n").split("\t")
                self.headers.append(header)
                index = header.index("sample") if "sample" in header else -1
                offset = len(first)
                for raw in handle:
                    start, offset = offset, offset + len(raw)
                    line = raw.rstrip(b"\r\n")
                    if not line:
                        continue
                    cells = line.split(b"\t")
                    sample = (
                        restore(cells[index].decode("utf-8")) if 0 <= index < len(cells) else ""
                    )
                    if sample not in wanted:
                        continue
                    if seen is not None:
                        text = line.decode("utf-8").split("\t")
                        seen(sample, dict(zip(header, text, strict=False)))
                    spans = self.spans.setdefault(sample, [])
                    if spans and spans[-1][0] == k and spans[-1][2] == start:
                        spans[-1][2] = offset
                    else:
                        spans.append([k, start, offset])

    def _handle(self, k: int) -> IO[bytes]:
        handle = self._handles.get(k)
        if handle is None:
            if len(self._handles) >= self._MAX_OPEN:
                self.close()
            handle = self._handles[k] = open(self.paths[k], "rb")  # noqa: SIM115
        return handle

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles = {}

    def lines(self, sample: str) -> list[str]:
        width = len(self.columns)
        out: list[str] = []
        for k, start, end in self.spans.get(sample, []):
            handle = self._handle(k)
            handle.seek(start)
            header = self.headers[k]
            same = header == self.columns
            where = [] if same else [header.index(c) if c in header else -1 for c in self.columns]
            for line in handle.read(end - start).decode("utf-8").split("\n"):
                if line.endswith("\r"):
                    line = line[:-1]
                if not line:
                    continue
                cells = line.split("\t")
                if same and len(cells) == len(header):
                    out.append(line)
                    continue
                cells += [""] * (len(header) - len(cells))
                if not same:
                    cells = [cells[i] if i >= 0 else "" for i in where]
                out.append("\t".join(cells[:width]))
        return out


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
    from ..knowledge.interpret import _merge_warnings

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


def drug_matrix_line(
    record: Mapping[str, str], verdicts: Iterable[Mapping[str, str]], drugs: Sequence[str]
) -> str:
    """One sample's line of drug_matrix.tsv (drug_matrix_table) from its summary record and
    its own verdict rows."""
    sample = str(record["sample"])
    if record["status"] == FAILED:
        cells = [FAILED] * len(drugs)
    else:
        lookup = {str(r["drug"]): str(r["verdict"]) for r in verdicts}
        cells = [lookup.get(drug, "no_evidence") for drug in drugs]
    return "\t".join([_cell(sample), *cells])


def drug_matrix_table(
    summary: Iterable[Mapping[str, str]], verdicts: Iterable[Mapping[str, str]]
) -> Table:
    """Samples x drugs: each cell a verdict (no_evidence where the drug had none; failed samples: failed).

    Drugs are the union over the batch, sorted by name, so every batch with the same knowledge
    base and the same verdicts gets the same columns in the same order.
    """
    grouped: dict[str, list[Mapping[str, str]]] = {}
    for r in verdicts:
        grouped.setdefault(str(r["sample"]), []).append(r)
    drugs = sorted({str(r["drug"]) for rows in grouped.values() for r in rows})
    lines = [drug_matrix_line(r, grouped.get(str(r["sample"]), []), drugs) for r in summary]
    return Table(["sample", *drugs], lines)


def _has_no_allele(record: Mapping[str, str]) -> bool:
    """An annotated sample none of whose ERBB2 alleles decides verdicts (none called, or all set
    aside); unknown (False) when the summary has no `alleles` column."""
    return record.get("status") != FAILED and "alleles" in record and not record["alleles"]


def drug_matrix_detail_line(
    record: Mapping[str, str], verdicts: Iterable[Mapping[str, str]], drugs: Sequence[str]
) -> str:
    """One sample's line of the Excel drug matrix (drug_matrix_detail_table) from its summary
    record and its own verdict rows; drugs in the matrix's order."""
    sample = str(record["sample"])
    if record["status"] == FAILED:
        cells = [FAILED] * len(drugs)
    else:
        lookup = {
            str(r["drug"]): vocab.matrix_text(
                vocab.state_of(r.get("verdict")),
                str(r.get("amp_tier", "") or ""),
                str(r.get("context", "") or ""),
            )
            for r in verdicts
        }
        empty = vocab.NO_ALLELE if _has_no_allele(record) else "no_evidence"
        cells = [lookup.get(drug, empty) for drug in drugs]
        cells = [empty if c == "no_evidence" else c for c in cells]
    return "\t".join([_cell(sample, "sample"), *cells])


def matrix_drugs(drugs: Iterable[str], kinds: Mapping[str, str]) -> list[str]:
    """The Excel drug matrix's columns: by group as in the heatmap, by name within a group."""
    return [d for _, members in vocab.order_drugs(drugs, kinds) for d in members]


def drug_matrix_detail_table(
    summary: Iterable[Mapping[str, str]], verdicts: Iterable[Mapping[str, str]]
) -> Table:
    """The drug matrix for people (the Excel sheet): drugs grouped as in the heatmap (TKIs,
    combinations, antibodies and ADCs, other; by name within a group), each cell the verdict
    with its AMP tier and, unless it is the sample's own, the tumour-type context in words
    (vocab.matrix_text: 'sensitive (tier II, other tumour type)'); `no_allele` for a sample
    with no ERBB2 allele that decides verdicts, `failed` for a failed sample."""
    grouped: dict[str, list[Mapping[str, str]]] = {}
    kinds: dict[str, str] = {}
    for r in verdicts:
        grouped.setdefault(str(r["sample"]), []).append(r)
        if r.get("drug_kind"):
            kinds[str(r["drug"])] = str(r["drug_kind"])
    drugs = matrix_drugs({str(r["drug"]) for rows in grouped.values() for r in rows}, kinds)
    lines = [drug_matrix_detail_line(r, grouped.get(str(r["sample"]), []), drugs) for r in summary]
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
