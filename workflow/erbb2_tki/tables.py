"""Batch tables: the summary, the drug matrix, the Excel workbook and the MultiQC section.

Everything here works on plain pandas DataFrames of strings, read back from the per-shard TSVs
exactly as written, so that numbers are never re-formatted between the per-sample tables and the
batch tables, and two runs on the same input give byte-identical files (no timestamps: the
workbook's zip dates and document properties are fixed).
"""

from __future__ import annotations

import io
import os
import re
import secrets
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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
    "structural_events",
    "alleles_not_used",
    "note",
    "kb_version",
    "vcf",
]

VERDICTS = ("sensitive", "resistant", "conflicting", "no_evidence")
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
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def records_tsv_bytes(records: Iterable[Mapping[str, object]], columns: Sequence[str]) -> bytes:
    """Rows of plain values as tab-separated text with a header line (no pandas needed)."""
    lines = ["\t".join(columns)]
    lines += ["\t".join(_cell(r.get(c)) for c in columns) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _cell(value: object) -> str:
    """A value as TSV text: '' for None/NaN (0 stays 0); tabs and line breaks cannot be stored."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = value if isinstance(value, str) else str(value)
    if "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return text


def read_records(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """A TSV written by this module as a list of dicts (no pandas needed)."""
    with open(path, encoding="utf-8", newline="") as handle:
        header, *rows = [line.rstrip("\n").split("\t") for line in handle if line.strip("\n")]
    return [dict(zip(header, row, strict=False)) for row in rows]


def tsv_bytes(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> bytes:
    """A DataFrame as tab-separated text with a header line, '\\n' line ends, '' for missing."""
    if columns is not None:
        frame = frame.reindex(columns=list(columns))
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", index=False, lineterminator="\n", na_rep="")
    return buffer.getvalue().encode("utf-8")


def write_tsv(
    frame: pd.DataFrame, path: str | os.PathLike[str], columns: Sequence[str] | None = None
) -> None:
    """Write a table atomically (see atomic_write_bytes)."""
    atomic_write_bytes(path, tsv_bytes(frame, columns))


def read_tsv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by write_tsv, every cell as the exact text written ('' for empty)."""
    import pandas as pd

    return pd.read_csv(
        path, sep="\t", dtype=str, keep_default_na=False, na_values=[], quoting=3
    ).fillna("")


def concat(frames: Iterable[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """Stack tables that share columns; an empty input gives an empty table with those columns."""
    import pandas as pd

    kept = [f.reindex(columns=list(columns)) for f in frames if len(f)]
    if not kept:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    return pd.concat(kept, ignore_index=True).fillna("").astype(str)


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


def summary_row(
    sample: str,
    status: Mapping[str, str],
    alleles: pd.DataFrame,
    evidence: pd.DataFrame,
    verdicts: pd.DataFrame,
    structural: pd.DataFrame,
) -> dict[str, str]:
    """One line of summary.tsv for one sample, from its status record and its tables."""
    allele_rows = alleles.to_dict("records")
    used = [r for r in allele_rows if _used(r)]
    not_used = [
        f"{allele_label(r)} ({str(r.get('used_for_verdict', '')).removeprefix('no:')})"
        for r in allele_rows
        if not _used(r)
    ]
    oncogenic = [
        allele_label(r) for r in used if str(r.get("oncogenicity", "")).lower() in ONCOGENIC
    ]
    responses = evidence.to_dict("records")

    def drugs_with(prefix: str) -> str:
        return _join(
            sorted(
                {
                    str(r.get("drug", ""))
                    for r in responses
                    if str(r.get("response", "")).lower().startswith(prefix)
                }
            )
        )

    def verdict(kind: str) -> str:
        if verdicts.empty:
            return ""
        rows = verdicts[verdicts["verdict"] == kind]
        return _join(sorted(rows["drug"].astype(str)))

    events = [str(r.get("event", "") or r.get("svtype", "")) for r in structural.to_dict("records")]
    return {
        "sample": sample,
        "status": str(status.get("status", "")),
        "reason": str(status.get("reason", "")),
        "build": str(status.get("build", "")),
        "build_source": str(status.get("build_source", "")),
        "tumour_type": str(status.get("tumour_type", "")),
        "tumour_sample": str(status.get("tumour_sample", "")),
        "n_alleles": str(len(allele_rows)) if status.get("status") == "ok" else "",
        "alleles": _join(allele_label(r) for r in used),
        "oncogenic_alleles": _join(oncogenic),
        "drugs_sensitive_evidence": drugs_with("sensitiv"),
        "drugs_resistant_evidence": drugs_with("resist"),
        "verdict_sensitive": verdict("sensitive"),
        "verdict_resistant": verdict("resistant"),
        "verdict_conflicting": verdict("conflicting"),
        "structural_events": _join(events),
        "alleles_not_used": _join(not_used),
        "note": str(status.get("note", "")),
        "kb_version": str(status.get("kb_version", "")),
        "vcf": str(status.get("vcf", "")),
    }


def _by_sample(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    if frame.empty or "sample" not in frame.columns:
        return {}
    return {str(name): group for name, group in frame.groupby("sample", sort=False)}


def build_summary(
    status: pd.DataFrame,
    alleles: pd.DataFrame,
    evidence: pd.DataFrame,
    verdicts: pd.DataFrame,
    structural: pd.DataFrame,
) -> pd.DataFrame:
    """summary.tsv: one row per sample of `status` (every sample, failed ones included), sorted."""
    import pandas as pd

    groups = {
        name: _by_sample(frame)
        for name, frame in (
            ("alleles", alleles),
            ("evidence", evidence),
            ("verdicts", verdicts),
            ("structural", structural),
        )
    }
    empty = pd.DataFrame()
    rows = []
    for record in status.sort_values("sample", kind="stable").to_dict("records"):
        sample = str(record["sample"])
        rows.append(
            summary_row(
                sample,
                record,
                groups["alleles"].get(sample, empty),
                groups["evidence"].get(sample, empty),
                groups["verdicts"].get(sample, pd.DataFrame(columns=["drug", "verdict"])),
                groups["structural"].get(sample, empty),
            )
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).fillna("")


def drug_matrix(summary: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """Samples x drugs: each cell a verdict (no_evidence where the drug had none; failed samples: failed).

    Drugs are the union over the batch, sorted by name, so every batch with the same knowledge
    base and the same verdicts gets the same columns in the same order.
    """
    import pandas as pd

    drugs = sorted(set(verdicts["drug"].astype(str))) if len(verdicts) else []
    lookup = {
        (str(r["sample"]), str(r["drug"])): str(r["verdict"]) for r in verdicts.to_dict("records")
    }
    rows = []
    for record in summary.to_dict("records"):
        sample = str(record["sample"])
        failed = record["status"] == FAILED
        row = {"sample": sample}
        for drug in drugs:
            row[drug] = FAILED if failed else lookup.get((sample, drug), "no_evidence")
        rows.append(row)
    return pd.DataFrame(rows, columns=["sample", *drugs]).fillna("")


# ---------------------------------------------------------------------------------------------
# MultiQC custom content


def _yaml_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# Column -> (title shown in MultiQC, description shown on hover).
MQC_COLUMNS = {
    "status": ("Status", "ok, or failed (the reason is in results/batch/summary.tsv)"),
    "n_alleles": ("ERBB2 alleles", "ERBB2 alleles called in the tumour sample"),
    "alleles": ("Alleles", "Alleles on NP_004439.2 that decide verdicts (short form)"),
    "oncogenic_alleles": ("Oncogenic", "Alleles the knowledge base calls (likely) oncogenic"),
    "verdict_sensitive": ("Sensitive", "TKIs and other drugs with a sensitive verdict"),
    "verdict_resistant": ("Resistant", "Drugs with a resistant verdict"),
    "verdict_conflicting": ("Conflicting", "Drugs whose evidence conflicts"),
    "structural_events": ("Structural", "Possible ERBB2 amplification or structural event"),
}


def multiqc_text(summary: pd.DataFrame, kb_version: str) -> str:
    """A MultiQC custom-content table (file name must end in _mqc.tsv) with one row per sample.

    The YAML header (comment lines) gives the section its id, name and column descriptions;
    MultiQC finds the file by its suffix when it scans results/.
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
    for column, (title, text) in MQC_COLUMNS.items():
        lines.append(f"#     {column}:")
        lines.append(f"#         title: {_yaml_quote(title)}")
        lines.append(f"#         description: {_yaml_quote(text)}")
        if column == "n_alleles":
            lines.append("#         format: '{:,.0f}'")
            lines.append("#         min: 0")
    body = summary.reindex(columns=["sample", *MQC_COLUMNS]).rename(columns={"sample": "Sample"})
    # Empty cells would make MultiQC drop the column for that sample; '-' reads as "none".
    body = body.replace("", "-")
    body.loc[body["n_alleles"] == "-", "n_alleles"] = ""
    return "\n".join(lines) + "\n" + tsv_bytes(body).decode("utf-8")


# ---------------------------------------------------------------------------------------------
# Excel


def write_excel(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> None:
    """One sheet per table: header row frozen, autofilter on, columns as wide as their text.

    Written deterministically (fixed zip dates and document times) and atomically.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(title=name[:31])
        header = [str(c) for c in frame.columns]
        sheet.append(header)
        for row in frame.itertuples(index=False):
            sheet.append([_excel_value(v) for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        last = get_column_letter(max(len(header), 1))
        sheet.auto_filter.ref = f"A1:{last}{max(len(frame) + 1, 1)}"
        for index, column in enumerate(header, start=1):
            texts = [column, *(str(v) for v in frame.iloc[:, index - 1].tolist())]
            width = min(max(len(t) for t in texts) + 2, MAX_COLUMN_WIDTH)
            sheet.column_dimensions[get_column_letter(index)].width = max(width, 8)
    buffer = io.BytesIO()
    book.save(buffer)
    atomic_write_bytes(path, normalise_xlsx(buffer.getvalue()))


_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _excel_value(value: object) -> object:
    """Numbers stored as text in the TSVs become numbers in Excel (so filters sort them)."""
    text = "" if value is None else str(value)
    if _NUMBER.match(text) and len(text) < 16:
        return float(text) if "." in text else int(text)
    return text


def normalise_xlsx(data: bytes) -> bytes:
    """Re-pack an .xlsx with fixed entry dates and fixed created/modified document times."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                for tag in ("created", "modified"):
                    text = re.sub(
                        rf"(<dcterms:{tag}[^>]*>)[^<]*(</dcterms:{tag}>)",
                        rf"\g<1>{FIXED_DOC_TIME}\g<2>",
                        text,
                    )
                content = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, content)
    return out.getvalue()
