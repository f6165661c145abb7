"""The batch's samples: read a sample sheet or a folder of VCFs, validate it, name every problem by line.

A sheet error stops the whole run before any job starts (a bad name or a duplicate cannot be
isolated to one sample: every output path is built from the name), so each message names the
sheet, the line and the fix. Problems with a VCF itself (missing, unreadable, wrong build) are
not checked here: they fail only their own sample later, in extraction.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..paths import schemas_dir
from ..yamlio import load_yaml

SAMPLE_NAME = re.compile(r"[A-Za-z0-9._-]+")
VCF_SUFFIXES = (".vcf.gz", ".vcf.bgz", ".vcf", ".bcf")
SHEET_COLUMNS = ("sample", "vcf", "tumor_sample", "normal_sample", "tumor_type", "build")
# Spelling: the sheet's columns (and SampleRow, which mirrors them, and --tumor-type) keep the
# American `tumor_sample`/`tumor_type` of GATK/Mutect2 headers and common sample sheets, and the
# British `tumour_` spellings are accepted for them. Everything else (the config key, the knowledge
# base column, output columns and code) is `tumour_type`; pipeline.py translates at the one
# place the sheet's value enters annotation (CONTRIBUTING.md).
COLUMN_ALIASES = {"tumour_sample": "tumor_sample", "tumour_type": "tumor_type"}
BUILD_ALIASES = {"hg19": "GRCh37", "b37": "GRCh37", "hg38": "GRCh38", "b38": "GRCh38"}


@dataclass(frozen=True)
class SampleRow:
    """One sample of the batch, with its VCF path resolved and defaults applied."""

    sample: str
    vcf: str  # absolute path
    tumor_sample: str = ""
    normal_sample: str = ""
    tumor_type: str = ""
    build: str = ""  # "" = detect from the VCF header
    source: str = ""  # where the row came from: "samples.tsv line 4" or "input_dir"
    vcf_as_given: str = ""  # the path as written in the sheet, for the summary

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def extract_key(self) -> dict[str, str]:
        """The fields extraction depends on: a change to any of them re-extracts the sample."""
        return {"sample": self.sample, "vcf": self.vcf, "build": self.build}

    def annotate_key(self) -> dict[str, str]:
        """The fields annotation depends on (tumour type changes re-annotate, not re-extract)."""
        return {
            "sample": self.sample,
            "vcf": self.vcf,
            "build": self.build,
            "tumor_sample": self.tumor_sample,
            "normal_sample": self.normal_sample,
            "tumor_type": self.tumor_type,
        }


@cache
def _schema() -> dict[str, Any]:
    with open(schemas_dir() / "samples.schema.yaml", encoding="utf-8") as handle:
        return load_yaml(handle)


def check_sample_name(name: str, *, path: str | None = None, record: str | None = None) -> None:
    """Raise InputError unless `name` is safe to use in a file name and a shell word."""
    if not name:
        raise InputError(
            "the sample name is empty.",
            path=path,
            record=record,
            fix="give every row a sample name.",
            field="sample",
        )
    if name in (".", "..") or not SAMPLE_NAME.fullmatch(name):
        raise InputError(
            f"sample name {name!r} is not allowed: it may contain only letters, digits, '.', "
            "'_' and '-' and must not be '.' or '..' (it becomes part of output file names).",
            path=path,
            record=record,
            fix=f"rename the sample, e.g. {_suggest_name(name)!r}.",
            field="sample",
        )


def _suggest_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "sample"
    return cleaned


def normalise_build(value: str) -> str:
    """GRCh37/GRCh38, accepting the common aliases (hg19, hg38, b37, b38, any case)."""
    text = value.strip()
    if not text:
        return ""
    for canonical in ("GRCh37", "GRCh38"):
        if text.lower() == canonical.lower():
            return canonical
    return BUILD_ALIASES.get(text.lower(), text)


def read_sheet(
    path: str | Path,
    *,
    default_build: str = "",
    default_tumour_type: str = "",
) -> list[SampleRow]:
    """Read a tab-separated sample sheet; relative vcf paths resolve against the sheet's folder.

    Lines starting with '#' and blank lines are skipped. Every problem is an InputError naming
    the sheet and its line number.
    """
    sheet = Path(path)
    if not sheet.is_file():
        raise InputError(
            f"the sample sheet does not exist ({_looked_for(sheet)}).",
            path=str(sheet),
            fix="set the config key `samples` to a tab-separated sheet, or `input_dir` to a "
            "folder of VCFs (e.g. --config samples=path/to/samples.tsv); a relative path is "
            "relative to the run folder (snakemake --directory), so an absolute path is safest.",
        )
    try:
        text = sheet.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raw = sheet.read_bytes()
        line_no = raw.count(b"\n", 0, err.start) + 1
        raise InputError(
            f"the sheet is not UTF-8 text (byte {raw[err.start]:#04x} on that line)",
            path=str(sheet),
            record=f"line {line_no}",
            fix="save the sheet as UTF-8 (sample names may use only letters, digits, '.', '_', "
            "'-'; paths may use any character once the file is UTF-8)",
        ) from None
    lines = [
        (number, line.rstrip("\r"))
        for number, line in enumerate(text.split("\n"), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise InputError(
            "the sample sheet is empty.",
            path=str(sheet),
            fix="add a header line (sample<TAB>vcf...) and one line per sample.",
        )
    header_number, header_line = lines[0]
    header = [_column_name(cell, sheet, header_number) for cell in header_line.split("\t")]
    for required in ("sample", "vcf"):
        if required not in header:
            raise InputError(
                f"the header has no column {required!r} (columns found: {', '.join(header)}).",
                path=str(sheet),
                record=f"line {header_number}",
                fix="the sheet is tab-separated with a header line naming the columns sample, "
                "vcf and optionally tumor_sample, normal_sample, tumor_type, build.",
            )
    seen_columns: set[str] = set()
    for name in header:
        if name in seen_columns and name in SHEET_COLUMNS:
            raise InputError(
                f"column {name!r} appears twice in the header.",
                path=str(sheet),
                record=f"line {header_number}",
                fix="keep one column of each name (tumour_/tumor_ spellings count as the same).",
            )
        seen_columns.add(name)

    rows: list[SampleRow] = []
    first_line: dict[str, int] = {}
    for number, line in lines[1:]:
        cells = next(csv.reader([line], delimiter="\t", quoting=csv.QUOTE_NONE))
        record = f"line {number}"
        if len(cells) > len(header):
            raise InputError(
                f"the line has {len(cells)} fields but the header has {len(header)}.",
                path=str(sheet),
                record=record,
                fix="separate columns with exactly one tab and keep one value per column.",
            )
        values = {
            column: cell.strip()
            for column, cell in zip(header, cells, strict=False)
            if column in SHEET_COLUMNS
        }
        values = {key: value for key, value in values.items() if value}
        if "build" in values:
            values["build"] = normalise_build(values["build"])
        check_sample_name(values.get("sample", ""), path=str(sheet), record=record)
        _validate_row(values, sheet, record)
        name = values["sample"]
        if name in first_line:
            raise InputError(
                f"sample {name!r} appears twice (first on line {first_line[name]}).",
                path=str(sheet),
                record=record,
                sample=name,
                fix="give every sample a unique name; list each VCF once.",
            )
        first_line[name] = number
        vcf_given = values["vcf"]
        vcf = Path(vcf_given).expanduser()
        if not vcf.is_absolute():
            vcf = sheet.parent / vcf
        rows.append(
            SampleRow(
                sample=name,
                vcf=str(vcf.absolute()),
                tumor_sample=values.get("tumor_sample", ""),
                normal_sample=values.get("normal_sample", ""),
                tumor_type=values.get("tumor_type", default_tumour_type),
                build=values.get("build", default_build),
                source=f"{sheet} {record}",
                vcf_as_given=vcf_given,
            )
        )
    if not rows:
        raise InputError(
            "the sample sheet has a header but no samples.",
            path=str(sheet),
            fix="add one tab-separated line per sample below the header.",
        )
    return rows


def _column_name(cell: str, sheet: Path, number: int) -> str:
    name = cell.strip().lower()
    return COLUMN_ALIASES.get(name, name)


# A row the schema plainly accepts is recognised without jsonschema and YAML (about 0.1 s of
# imports and a validator per row, paid by every shard job, which reads the sheet again). Only
# rows the schema accepts pass this check (tests/unit/test_cold_start.py compares the two on the
# schema itself); any other row goes through jsonschema, whose message the user sees.
_TUMOUR_TYPE = re.compile(r"[A-Za-z0-9_/-]+")
_BUILDS = ("GRCh37", "GRCh38")


def _plainly_valid(values: Mapping[str, Any]) -> bool:
    sample, vcf = values.get("sample"), values.get("vcf")
    tumour_type, build = values.get("tumor_type", ""), values.get("build", "")
    return (
        all(isinstance(value, str) for value in values.values())
        and isinstance(sample, str)
        and sample not in (".", "..")
        and SAMPLE_NAME.fullmatch(sample) is not None
        and isinstance(vcf, str)
        and vcf != ""
        and ("tumor_type" not in values or _TUMOUR_TYPE.fullmatch(tumour_type) is not None)
        and ("build" not in values or build in _BUILDS)
    )


def _validate_row(values: Mapping[str, str], sheet: Path, record: str) -> None:
    if _plainly_valid(values):
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(dict(values)), key=lambda e: list(e.path))
    if not errors:
        return
    error = errors[0]
    column = ".".join(str(part) for part in error.path) or None
    if column == "build":
        fix = "write GRCh37 or GRCh38 (hg19/hg38 are accepted), or leave it empty to detect it."
    elif column == "tumor_type":
        fix = "use an OncoTree code such as BRCA, NSCLC or LUAD, or leave it empty."
    elif column is None and "required" in error.validator:
        fix = "every line needs a sample name and a vcf path."
    else:
        fix = "correct the value as the sheet's schema describes (config/README.md)."
    raise InputError(
        f"invalid value: {error.message}.",
        path=str(sheet),
        record=record,
        field=column,
        sample=values.get("sample"),
        fix=fix,
    )


def scan_input_dir(
    folder: str | Path,
    *,
    default_build: str = "",
    default_tumour_type: str = "",
    skipped: list[tuple[str, str]] | None = None,
) -> list[SampleRow]:
    """Every .vcf, .vcf.gz, .vcf.bgz and .bcf file in `folder` (not recursive), named after its file.

    Suffixes match in any case (`X.VCF`, `Y.Vcf.Gz`). Every other entry is appended to `skipped`
    as (name, why) - hidden files, folders, FIFOs/sockets/devices, other suffixes - except
    the .tbi/.csi indexes of the VCFs found; `skipped_inputs` lists them for the run's log.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(
            f"the input folder does not exist ({_looked_for(root)}).",
            path=str(root),
            fix="set the config key `input_dir` to a folder of VCF files.",
        )
    found: dict[str, Path] = {}
    passed: list[tuple[str, str]] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        suffix = next((s for s in VCF_SUFFIXES if entry.name.lower().endswith(s)), None)
        if entry.name.startswith("."):
            passed.append((entry.name, "hidden file"))
            continue
        if not entry.is_file():
            kind = "folder" if entry.is_dir() else "not a regular file (FIFO, socket, device or "
            passed.append((entry.name, kind if kind == "folder" else kind + "broken link)"))
            continue
        if suffix is None:
            passed.append((entry.name, "not a .vcf, .vcf.gz, .vcf.bgz or .bcf file"))
            continue
        name = entry.name[: -len(suffix)]
        check_sample_name(name, path=str(entry), record="file name")
        if name in found:
            raise InputError(
                f"two files would both be sample {name!r}: {found[name].name} and {entry.name}.",
                path=str(root),
                sample=name,
                fix="keep one VCF per sample in the folder (or use a sample sheet).",
            )
        found[name] = entry
    if skipped is not None:
        indexes = {f"{p.name}{s}".lower() for p in found.values() for s in (".tbi", ".csi")}
        skipped.extend((n, why) for n, why in passed if n.lower() not in indexes)
    if not found:
        raise InputError(
            "the input folder holds no .vcf, .vcf.gz, .vcf.bgz or .bcf file.",
            path=str(root),
            fix="point `input_dir` at the folder with the VCFs, or use a sample sheet.",
        )
    return [
        SampleRow(
            sample=name,
            vcf=str(path.absolute()),
            tumor_type=default_tumour_type,
            build=default_build,
            source="input_dir",
            vcf_as_given=path.name,
        )
        for name, path in found.items()
    ]


def _looked_for(path: Path) -> str:
    """Where a missing path was looked for: a relative one is resolved against the working folder."""
    if path.is_absolute():
        return f"looked for {path}"
    return f"looked for {path.absolute()}, relative to the run folder {Path.cwd()}"


def skipped_inputs(config: Mapping[str, Any]) -> list[str]:
    """What `input_dir` holds but the batch does not use, one 'name: why' line each."""
    input_dir = str(config.get("input_dir", "") or "")
    if not input_dir or not Path(input_dir).is_dir():
        return []
    skipped: list[tuple[str, str]] = []
    try:
        scan_input_dir(input_dir, skipped=skipped)
    except InputError:
        return []
    return [f"{name}: {why}" for name, why in skipped]


def load_samples(config: Mapping[str, Any]) -> list[SampleRow]:
    """The batch as the config describes it: `input_dir` when set, else the sheet at `samples`."""
    build = normalise_build(str(config.get("build", "") or ""))
    tumour_type = str(config.get("tumour_type", "") or "")
    input_dir = str(config.get("input_dir", "") or "")
    if input_dir:
        return scan_input_dir(input_dir, default_build=build, default_tumour_type=tumour_type)
    return read_sheet(config["samples"], default_build=build, default_tumour_type=tumour_type)


def digest(rows: Iterable[Mapping[str, Any]]) -> str:
    """A short, order-sensitive fingerprint of some rows (for Snakemake's params re-run trigger)."""
    text = json.dumps(list(rows), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
