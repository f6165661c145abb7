"""The workflow's jobs: what each Snakemake rule runs, one shard of samples at a time.

Every rule is a one-line shell call `python -m erbb2_tki.batch.pipeline STAGE ...`; the logic lives
here so it is unit-tested and so a job is one Python process per shard, not per sample.

Stages and what they write (all atomically):
  manifest   results/batch/samples.tsv             the resolved sheet with each sample's shard
  extract    results/extract/shard_{k}/            {sample}.erbb2.vcf.gz + status.tsv
  annotate   results/annotate/shard_{k}/           status/alleles/evidence/verdicts/structural.tsv
             + per sample results/annotated/{sample}.erbb2.annotated.vcf.gz(.tbi),
               results/tables/{sample}.{alleles,tki,verdicts,structural}.tsv and the sample's
               page results/reports/{sample}.html (ok or failed; patient_report.py)
  summarize  results/batch/                        summary.tsv, drug_matrix.tsv, alleles.tsv,
                                                   evidence.tsv, verdicts.tsv, summary.xlsx,
                                                   erbb2_tki_mqc.tsv; in the workflow also the
                                                   manifest (--config-json) and results/report/
                                                   (--report-dir), all in one job
  check      results/batch/check.txt               only when no sample failed; else exit 1
                                                   listing the failures (the workflow runs the
                                                   lighter `python -m erbb2_tki.batch.check`)

Failure isolation: with on_error=continue an InputError (or, for robustness in a 500-sample
batch, any other exception, reported as an internal error with its traceback in the log) fails
only its sample: the sample gets a status record with the reason and none of its outputs. With
on_error=stop the job exits non-zero at the first failed sample.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .. import __version__, single_threaded_blas
from ..errors import InputError
from ..outputs import tables
from . import samples as sample_sheet
from . import shards

OK = "ok"
FAILED = "failed"
MANIFEST_COLUMNS = [
    "sample",
    "shard",
    "vcf",
    "vcf_as_given",
    "tumor_sample",
    "normal_sample",
    "tumor_type",
    "build",
    "source",
]
EXTRACT_STATUS_COLUMNS = [
    "sample",
    "status",
    "reason",
    "build",
    "build_source",
    "method",
    "n_records",
    "contig",
    "note",
    "region",
    "vcf_sha256",
]
STATUS_COLUMNS = [
    "sample",
    "status",
    "stage",
    "reason",
    "build",
    "build_source",
    "tumour_type",
    "tumour_sample",
    "method",
    "n_records",
    "n_alleles",
    "note",
    "kb_version",
    "kb_hash",
    "vcf",
    "vcf_sha256",
    "report",
]
# Shard-level tables (annotate) and batch tables (summarize) share their names.
SHARD_TABLES = ("alleles", "evidence", "verdicts", "structural")
PER_SAMPLE_SUFFIXES = {
    "vcf": ".erbb2.annotated.vcf.gz",
    "tbi": ".erbb2.annotated.vcf.gz.tbi",
    "alleles": ".alleles.tsv",
    "tki": ".tki.tsv",
    "verdicts": ".verdicts.tsv",
    "structural": ".structural.tsv",
}


# ---------------------------------------------------------------------------------------------
# Logging: each job writes its own log file; failures are also printed to stderr.


class JobLog:
    """Lines to a job's log file (and failures to stderr, so the terminal shows them too)."""

    def __init__(self, handle: TextIO | None) -> None:
        self.handle = handle

    def info(self, text: str) -> None:
        if self.handle:
            self.handle.write(text.rstrip("\n") + "\n")
            self.handle.flush()

    def failure(self, text: str) -> None:
        self.info(text)
        print(text, file=sys.stderr)


@contextmanager
def open_log(path: str | None) -> Iterator[JobLog]:
    if not path:
        yield JobLog(None)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        yield JobLog(handle)


# ---------------------------------------------------------------------------------------------
# The manifest: the resolved sample sheet, with each sample's shard.


def manifest_records(config: dict[str, Any]) -> list[dict[str, str]]:
    """The batch's samples (in sheet order) with their shard, as strings."""
    rows = sample_sheet.load_samples(config)
    assignment = shards.assign(
        [r.sample for r in rows], int(config["shard_size"]), int(config.get("n_shards", 0) or 0)
    )
    shard_by_sample = {name: k for k, names in assignment.items() for name in names}
    return [{**r.as_dict(), "shard": str(shard_by_sample[r.sample])} for r in rows]


def write_manifest(config: dict[str, Any], out: str) -> None:
    tables.atomic_write_bytes(
        out, tables.records_tsv_bytes(manifest_records(config), MANIFEST_COLUMNS)
    )


def _rows_of(records: Sequence[dict[str, str]], shard: int | None) -> list[sample_sheet.SampleRow]:
    fields = [c for c in MANIFEST_COLUMNS if c != "shard"]
    return [
        sample_sheet.SampleRow(**{f: str(r.get(f, "")) for f in fields})
        for r in records
        if shard is None or r["shard"] == str(shard)
    ]


def read_manifest(path: str | Path, shard: int | None = None) -> list[sample_sheet.SampleRow]:
    """The rows of a written manifest (all, or one shard's)."""
    return _rows_of(tables.read_records(path), shard)


def shard_rows(config: dict[str, Any], shard: int) -> list[sample_sheet.SampleRow]:
    """One shard's rows, resolved from the config exactly as the workflow planned them.

    Shard jobs read the sheet themselves rather than a manifest file: a file input shared by
    every shard would make Snakemake re-run every shard whenever any row changed.
    """
    return _rows_of(manifest_records(config), shard)


def shard_digest(rows: Sequence[sample_sheet.SampleRow], stage: str) -> str:
    """The fingerprint Snakemake keeps as a shard's params: it changes when the shard's samples do.

    For extraction it includes every VCF's content signals (input_signals), so a VCF replaced
    by other content re-runs its shard even when its mtime went back in time (`cp -p`,
    `rsync -a`, `mv` of an older copy), which Snakemake's mtime check misses.
    """
    keys: list[dict[str, Any]]
    if stage == "extract":
        keys = [{**r.extract_key(), "signals": input_signals(r.vcf)} for r in rows]
    else:
        keys = [r.annotate_key() for r in rows]
    return sample_sheet.digest(keys)


def input_signals(vcf: str) -> list[list[int] | None]:
    """(size, inode, ctime, mtime in ns) of a VCF and of its .tbi and .csi (None: absent).

    ctime cannot be set back by any copy tool, and a replacing `mv` or copy changes the inode
    or the size as well; a `touch` or `chmod` also changes ctime, which only re-runs a shard.
    """
    signals: list[list[int] | None] = []
    for path in (vcf, f"{vcf}.tbi", f"{vcf}.csi"):
        try:
            st = os.stat(path)
        except OSError:
            signals.append(None)
            continue
        signals.append([st.st_size, st.st_ino, st.st_ctime_ns, st.st_mtime_ns])
    return signals


def _check_digest(rows: Sequence[sample_sheet.SampleRow], stage: str, expected: str) -> None:
    if expected and shard_digest(rows, stage) != expected:
        raise RuntimeError(
            "the sample sheet or a sample's VCF no longer matches the one this job was planned "
            "from (it changed while the workflow ran?); run snakemake again."
        )


# ---------------------------------------------------------------------------------------------
# Per-sample failure handling


@dataclass
class Outcome:
    status: str
    reason: str = ""
    value: Any = None


def _attempt(
    function: Callable[[], Any], sample: str, stage: str, log: JobLog, on_error: str
) -> Outcome:
    """Run one sample's step; turn its failure into an Outcome (or re-raise with on_error=stop)."""
    try:
        return Outcome(OK, value=function())
    except InputError as err:
        reason = str(err.with_context(sample=sample))
        log.failure(f"FAILED {stage} {sample}: {reason}")
        if on_error == "stop":
            raise SystemExit(
                f"erbb2-tki {stage}: stopping at the first failed sample (on_error: stop): {reason}"
            ) from None
        return Outcome(FAILED, reason)
    except Exception as err:
        reason = (
            f"sample {sample}: internal error in erbb2-tki {stage} "
            f"({type(err).__name__}: {err}); this is a bug, please report it with the log."
        )
        log.failure(f"FAILED {stage} {sample}: {reason}")
        log.info(traceback.format_exc())
        if on_error == "stop":
            raise
        return Outcome(FAILED, reason)


def _missing_vcf_error(row: sample_sheet.SampleRow) -> InputError:
    where = row.source or "the sample sheet"
    return InputError(
        "the VCF file does not exist.",
        path=row.vcf,
        sample=row.sample,
        fix=f"correct the vcf path in {where} (relative paths are resolved against the "
        "sheet's folder), or remove the sample.",
    )


# ---------------------------------------------------------------------------------------------
# Stage: extract


def extracted_path(extract_dir: str | Path, sample: str) -> Path:
    return Path(extract_dir) / f"{sample}.erbb2.vcf.gz"


def extract_shard(
    rows: Sequence[sample_sheet.SampleRow],
    out_dir: str | Path,
    *,
    padding: int = 5000,
    on_error: str = "continue",
    log: JobLog | None = None,
    assume_sorted: bool = False,
) -> list[dict[str, str]]:
    """Extract the ERBB2 region of every sample of one shard into out_dir; returns the status rows.

    No pandas here: importing it cost about a second per shard job, more than the extraction.
    Nor the knowledge base, the naming engine or the report pages: this job only extracts.
    """
    from .. import fileio
    from ..vcf import extract

    log = log or JobLog(None)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for row in rows:
        out = extracted_path(folder, row.sample)
        # The checksum the sample's report page prints: read here, where the VCF is an input
        # and the job re-runs only when it changes (about 2 s per GB).
        checksum = fileio.file_sha256(row.vcf)

        def run(row: sample_sheet.SampleRow = row, out: Path = out) -> Any:
            if not Path(row.vcf).exists():
                raise _missing_vcf_error(row)
            return extract.extract_sample(
                row.vcf,
                out,
                build=row.build or None,
                sample=row.sample,
                padding=padding,
                assume_sorted=assume_sorted,
            )

        outcome = _attempt(run, row.sample, "extract", log, on_error)
        if outcome.status == OK:
            result = outcome.value
            record = {
                "sample": row.sample,
                "status": OK,
                "reason": "",
                "build": str(getattr(result, "build", "") or ""),
                "build_source": str(getattr(result, "build_source", "") or ""),
                "method": str(getattr(result, "method", "") or ""),
                "n_records": str(getattr(result, "n_records", "") or 0),
                "contig": str(getattr(result, "contig", "") or ""),
                "note": str(getattr(result, "note", "") or ""),
                "region": str(getattr(result, "region_text", "") or ""),
                "vcf_sha256": checksum,
            }
            log.info(
                f"ok extract {row.sample}: {record['n_records']} records, build "
                f"{record['build']} ({record['build_source']}), {record['method']}"
            )
        else:
            out.unlink(missing_ok=True)
            Path(f"{out}.tbi").unlink(missing_ok=True)
            record = {
                "sample": row.sample,
                "status": FAILED,
                "reason": outcome.reason,
                "vcf_sha256": checksum,
            }
        records.append(record)
    status = [{c: r.get(c, "") for c in EXTRACT_STATUS_COLUMNS} for r in records]
    tables.atomic_write_bytes(
        folder / "status.tsv", tables.records_tsv_bytes(status, EXTRACT_STATUS_COLUMNS)
    )
    return status


# ---------------------------------------------------------------------------------------------
# Stage: annotate


def per_sample_outputs(
    annotated_dir: str | Path, tables_dir: str | Path, sample: str
) -> dict[str, Path]:
    """Where one sample's published outputs live."""
    return {
        key: Path(annotated_dir if key in ("vcf", "tbi") else tables_dir) / f"{sample}{suffix}"
        for key, suffix in PER_SAMPLE_SUFFIXES.items()
    }


def annotate_shard(
    rows: Sequence[sample_sheet.SampleRow],
    extract_dir: str | Path,
    out_dir: str | Path,
    *,
    annotations: str = "",
    annotated_dir: str = "results/annotated",
    tables_dir: str = "results/tables",
    include_filtered: bool = False,
    on_error: str = "continue",
    log: JobLog | None = None,
    germline: Any = None,
    reuse: bool = True,
    reports_dir: str = "",
) -> list[dict[str, str]]:
    """Annotate every successfully extracted sample of one shard; write its outputs and shard tables.

    Returns the shard's status rows. No pandas on this path: its import cost more than the work.
    With `reuse`, a sample whose inputs are unchanged and whose knowledge-base view is the same
    under this knowledge base keeps its outputs (see "Re-analysis" below); its status row then
    names the knowledge-base version its verdicts came from. With `reports_dir`, every sample of
    the shard (ok or failed) also gets its report page `{reports_dir}/{sample}.html`.
    """
    from .. import annotate, knowledge
    from ..outputs import patient_report
    from ..paths import annotations_dir
    from ..vcf import extract

    log = log or JobLog(None)
    # A broken knowledge base is not one sample's problem: it fails the job whatever on_error says.
    annotations_root = annotations_dir(annotations or None)
    kb = knowledge.load_knowledge(annotations_root / "knowledge")
    log.info(f"knowledge base {kb.version} ({kb.content_hash})")
    static = _static_digest(annotations_root, f"{include_filtered}\n{germline!r}")
    n_reused = 0
    extract_status = {r["sample"]: r for r in tables.read_records(Path(extract_dir) / "status.tsv")}
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    status_rows = []
    # rows as dicts, or (kept samples) as (columns, line) from their tables: no re-parsing
    shard_tables: dict[str, list[Any]] = {name: [] for name in SHARD_TABLES}
    leftovers = _temp_files(annotated_dir, tables_dir, *([reports_dir] if reports_dir else []))
    transcript = _transcript_or_none() if reports_dir else None
    for row in rows:
        outputs = per_sample_outputs(annotated_dir, tables_dir, row.sample)
        page_path = Path(reports_dir) / f"{row.sample}.html" if reports_dir else None
        view_path = kb_view_path(tables_dir, row.sample)
        # A killed run can leave the view file's temporary copy (never a valid view): removed
        # whether the sample is kept or annotated again.
        for leftover in leftovers.get((view_path.parent, view_path.name), ()):
            leftover.unlink(missing_ok=True)
        extracted = extract_status.get(row.sample, {"status": FAILED, "reason": "not extracted"})
        input_digest = _sample_digest(
            static, row, extracted, extracted_path(extract_dir, row.sample)
        )
        kept = _reusable(view_path, input_digest, kb, row, outputs) if reuse else None
        if kept is not None:
            for name, key in (
                ("alleles", "alleles"),
                ("evidence", "tki"),
                ("verdicts", "verdicts"),
                ("structural", "structural"),
            ):
                shard_tables[name].extend(_kept_rows(outputs[key]))
            status_rows.append(
                {
                    "sample": row.sample,
                    "status": OK,
                    "stage": "annotate",
                    "reason": "",
                    "tumour_type": row.tumor_type,
                    "build": kept["build"],
                    "build_source": str(extracted.get("build_source", "")),
                    "method": str(extracted.get("method", "")),
                    "n_records": str(extracted.get("n_records", "")),
                    "note": str(extracted.get("note", "")),
                    "vcf": row.vcf_as_given or row.vcf,
                    "vcf_sha256": str(extracted.get("vcf_sha256", "")),
                    "report": f"reports/{row.sample}.html" if reports_dir else "",
                    "kb_version": kept["kb_version"],
                    "kb_hash": kept["kb_hash"],
                    "tumour_sample": kept["tumour_sample"],
                    "n_alleles": kept["n_alleles"],
                }
            )
            n_reused += 1
            log.info(
                f"ok annotate {row.sample}: kept (knowledge base {kb.version} reads the same for "
                f"its alleles as {kept['kb_version']}, whose verdicts it keeps)"
            )
            continue
        view_path.unlink(missing_ok=True)
        for leftover in leftovers.get((view_path.parent, view_path.name), ()):
            leftover.unlink(missing_ok=True)  # a kb_view.json a killed run was writing
        # A re-run must not leave an older run's outputs beside a sample that now fails, nor
        # the temporary files of a run that was killed while writing them.
        for leftover in leftovers.get((page_path.parent, page_path.name), ()) if page_path else ():
            leftover.unlink(missing_ok=True)
        for path in outputs.values():
            path.unlink(missing_ok=True)
            for leftover in leftovers.get((path.parent, path.name), ()):
                leftover.unlink(missing_ok=True)
        extracted = extract_status.get(row.sample, {"status": FAILED, "reason": "not extracted"})
        base = {
            "sample": row.sample,
            "tumour_type": row.tumor_type,
            "build": str(extracted.get("build", "")),
            "build_source": str(extracted.get("build_source", "")),
            "method": str(extracted.get("method", "")),
            "n_records": str(extracted.get("n_records", "")),
            "note": str(extracted.get("note", "")),
            "vcf": row.vcf_as_given or row.vcf,
            "vcf_sha256": str(extracted.get("vcf_sha256", "")),
            "kb_version": str(kb.version),
            "kb_hash": str(kb.content_hash),
        }
        if reports_dir:
            base["report"] = f"reports/{row.sample}.html"

        def page(
            status: dict[str, str],
            tables_rows: dict[str, Any],
            row: Any = row,
            page_path: Path | None = page_path,
        ) -> None:
            if page_path is None:
                return
            info = {**status, "normal_sample": row.normal_sample}
            try:
                patient_report.write_page(
                    patient_report.page_from_tables(info, tables_rows, kb, transcript), page_path
                )
            except Exception as err:
                # a bug in the page must not lose the sample's tables: log it, link nothing
                status["report"] = ""
                log.failure(
                    f"report page of {row.sample} not written (internal error: "
                    f"{type(err).__name__}: {err}); this is a bug, please report it with the log."
                )
                log.info(traceback.format_exc())
                if on_error == "stop":
                    raise

        if extracted["status"] != OK:
            failed = {**base, "status": FAILED, "stage": "extract", "reason": extracted["reason"]}
            status_rows.append(failed)
            page(failed, {})
            continue

        def run(
            row: sample_sheet.SampleRow = row,
            outputs: dict[str, Path] = outputs,
            build: str = base["build"],
            region: str = str(extracted.get("region", "")),
        ) -> Any:
            for path in outputs.values():
                path.parent.mkdir(parents=True, exist_ok=True)
            return annotate.annotate_sample(
                row.sample,
                extracted_path(extract_dir, row.sample),
                build=build or row.build or None,
                tumour_sample=row.tumor_sample or None,
                normal_sample=row.normal_sample or None,
                tumour_type=row.tumor_type or None,
                kb=kb,
                out_vcf=outputs["vcf"],
                out_alleles=outputs["alleles"],
                out_tki=outputs["tki"],
                out_verdicts=outputs["verdicts"],
                out_structural=outputs["structural"],
                include_filtered=include_filtered,
                source=row.vcf,
                region=extract.parse_region(region),
                germline=germline,
            )

        outcome = _attempt(run, row.sample, "annotate", log, on_error)
        if outcome.status != OK:
            for path in outputs.values():
                path.unlink(missing_ok=True)
            failed = {**base, "status": FAILED, "stage": "annotate", "reason": outcome.reason}
            status_rows.append(failed)
            page(failed, {})
            continue
        result = outcome.value
        # The rows as annotate wrote them to the per-sample tables: the lines as written (as
        # for a kept sample), else the rows of text.
        for name, key in (
            ("alleles", "alleles"),
            ("evidence", "tki"),
            ("verdicts", "verdicts"),
            ("structural", "structural"),
        ):
            written = result.lines.get(key)
            shard_tables[name].extend(
                [(written[0], line) for line in written[1]] if written else result.rows[key]
            )
        n_alleles = len(result.rows["alleles"])
        done = {
            **base,
            "status": OK,
            "stage": "annotate",
            "reason": "",
            "build": result.build,
            "tumour_sample": result.tumour_sample or "",
            "n_alleles": str(n_alleles),
        }
        status_rows.append(done)
        page(done, result.rows)
        log.info(f"ok annotate {row.sample}: {n_alleles} alleles")
        if input_digest is not None:
            _write_view(view_path, input_digest, kb, row, result, outputs, str(n_alleles))
    if n_reused:
        log.info(
            f"{n_reused} of {len(rows)} samples kept their outputs (knowledge base unchanged for them)"
        )
    for name in SHARD_TABLES:
        headers = [r if isinstance(r, dict) else r[0] for r in shard_tables[name]]
        columns = _columns_of(headers, name)
        lines = [_shard_line(row, columns) for row in shard_tables[name]]
        data = ("\n".join(["\t".join(columns), *lines]) + "\n").encode("utf-8")
        tables.atomic_write_bytes(folder / f"{name}.tsv", data)
    tables.atomic_write_bytes(
        folder / "status.tsv", tables.records_tsv_bytes(status_rows, STATUS_COLUMNS)
    )
    return [{c: r.get(c, "") for c in STATUS_COLUMNS} for r in status_rows]


# ---------------------------------------------------------------------------------------------
# Re-analysis: a knowledge-base update re-annotates only the samples it can touch.
#
# After annotating a sample, the job writes tables/{sample}.kb_view.json: a digest of the
# sample's inputs (its extracted region and extraction status, its sheet row, include_filtered,
# the package code and schemas, the transcript model and every other annotations/ file outside
# knowledge/), its named alleles, the digest of what the knowledge base said about them
# (KnowledgeBase.view_digest), the knowledge-base version and hash it was annotated with, and the
# sha256 of each of its outputs. When the job runs again (Snakemake re-runs every annotate job
# after any annotations/ change), a sample is kept, without being read or written, only when
# all of this holds: the view file parses, the input digest is the same, every output is there
# with the recorded sha256, its alleles' view under the new knowledge base has the same digest.
# Anything else (no view file, a changed sample, a changed drugs/classes/levels/rules/OncoTree
# file, an evidence row that matches one of its alleles, a new code version) annotates it again.
# A kept sample's tables still carry the knowledge-base version they were computed with, and so
# does its summary row: "which version each sample's verdict came from" (docs/reanalysis.md).

KB_VIEW_SUFFIX = ".kb_view.json"
KB_VIEW_FORMAT = 1


def kb_view_path(tables_dir: str | Path, sample: str) -> Path:
    """Where annotate records what a sample's outputs depend on (see above)."""
    return Path(tables_dir) / f"{sample}{KB_VIEW_SUFFIX}"


def _sha256_file(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _static_digest(annotations_root: Path, options: str) -> str:
    """What every sample of the job shares: code, schemas, options (include_filtered, the
    germline policy), non-knowledge annotations."""
    import hashlib

    from .. import diskcache, knowledge

    digest = hashlib.sha256(f"view {KB_VIEW_FORMAT}\n{diskcache.code_fingerprint()}\n".encode())
    digest.update(f"options\n{options}\n".encode())
    root = Path(annotations_root)
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if not path.is_file() or relative.parts[0] == knowledge.KNOWLEDGE_SUBDIR:
                continue
            digest.update(f"{relative.as_posix()}\t{_sha256_file(path)}\n".encode())
    return digest.hexdigest()


def _sample_digest(
    static: str, row: sample_sheet.SampleRow, extracted: dict[str, str], region: Path
) -> str | None:
    """The digest of one sample's inputs; None when it has no extracted region to read."""
    import hashlib

    if extracted.get("status") != OK or not region.is_file():
        return None
    digest = hashlib.sha256(static.encode())
    digest.update(json.dumps(row.as_dict(), sort_keys=True).encode())
    digest.update(json.dumps(extracted, sort_keys=True).encode())
    digest.update(_sha256_file(region).encode())
    index = Path(f"{region}.tbi")
    digest.update(_sha256_file(index).encode() if index.is_file() else b"-")
    return digest.hexdigest()


def _names_from_json(items: Sequence[dict[str, Any]]) -> list[Any]:
    from ..naming.model import AlleleName, ProteinChange

    names = []
    for item in items:
        protein = item.get("protein")
        names.append(
            AlleleName(
                **{
                    **item,
                    "protein": ProteinChange(**protein) if protein else None,
                    "flags": tuple(item.get("flags", ())),
                }
            )
        )
    return names


def _write_view(
    path: Path,
    input_digest: str,
    kb: Any,
    row: sample_sheet.SampleRow,
    result: Any,
    outputs: dict[str, Path],
    n_alleles: str,
) -> None:
    """Record what this sample's outputs depend on; skipped (no reuse later) if it cannot be."""
    try:
        names = [_plain(name) for name in result.names]
        if not all(map(_survives_json, names)) and _names_from_json(
            json.loads(json.dumps(names))
        ) != list(result.names):
            return  # an allele that does not survive the round trip is never reused
        entry = {
            "format": KB_VIEW_FORMAT,
            "input": input_digest,
            "view": kb.view_digest(result.names, kb.resolve_tumour_type(row.tumor_type or None)),
            "kb_version": str(kb.version),
            "kb_hash": str(kb.content_hash),
            "build": result.build,
            "tumour_sample": result.tumour_sample or "",
            "n_alleles": n_alleles,
            "alleles": names,
            "outputs": {key: _sha256_file(p) for key, p in sorted(outputs.items())},
        }
        data = json.dumps(entry, sort_keys=True, indent=1).encode("utf-8") + b"\n"
    except (TypeError, ValueError, OSError, InputError):
        return
    tables.atomic_write_bytes(path, data)


def _survives_json(name: dict[str, Any]) -> bool:
    """True when this allele's fields come back from JSON through _names_from_json exactly
    (text, whole numbers, booleans, None, finite floats; flags a tuple of text; protein a flat
    dict of those), so the round trip itself need not be run; False: run it."""
    import math

    def exact(value: Any) -> bool:
        kind = type(value)
        return kind in (str, int, bool) or value is None or (kind is float and math.isfinite(value))

    for key, value in name.items():
        if exact(value):
            continue
        if key == "flags" and type(value) is tuple and all(type(f) is str for f in value):
            continue
        if key == "protein" and type(value) is dict and all(map(exact, value.values())):
            continue
        return False
    return True


_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """What dataclasses.asdict gives for the records a view holds (dataclasses of text, numbers,
    None, tuples, lists and dicts), without its deep copy of every value (~1 ms per sample)."""
    kind = type(value)
    if kind in (str, int, type(None), bool, float):
        return value
    if hasattr(kind, "__dataclass_fields__"):
        names = _FIELDS.get(kind)
        if names is None:
            import dataclasses

            names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    import copy

    return copy.deepcopy(value)


def _reusable(
    path: Path,
    input_digest: str | None,
    kb: Any,
    row: sample_sheet.SampleRow,
    outputs: dict[str, Path],
) -> dict[str, Any] | None:
    """The recorded view when this sample's outputs may be kept as they are, else None."""
    if input_digest is None or not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if (
            not isinstance(entry, dict)
            or entry.get("format") != KB_VIEW_FORMAT
            or entry.get("input") != input_digest
        ):
            return None
        recorded = entry["outputs"]
        if set(recorded) != set(outputs):
            return None
        for key, output in outputs.items():
            if not output.is_file() or _sha256_file(output) != recorded[key]:
                return None
        names = _names_from_json(entry["alleles"])
        view = kb.view_digest(names, kb.resolve_tumour_type(row.tumor_type or None))
        if view != entry["view"]:
            return None
        return {
            key: str(entry[key])
            for key in ("kb_version", "kb_hash", "build", "tumour_sample", "n_alleles")
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError, InputError):
        return None


def _transcript_or_none() -> Any:
    """The transcript model for the pages' domain map (None when it cannot be loaded: the page
    then draws the protein without domains rather than failing the shard)."""
    from ..naming.transcript import load_transcript

    try:
        return load_transcript()
    except Exception:
        return None


def _temp_files(*folders: str | Path) -> dict[tuple[Path, str], list[Path]]:
    """Temporary files a killed run left, by (folder, NAME of the output they were for).

    fileio names every temporary file and knows every form (fileio.temp_target). One listing
    per folder: globbing per sample would make a 1,000-sample batch quadratic.
    """
    from .. import fileio

    return fileio.leftovers(folders)


def _kept_rows(path: Path) -> list[tuple[tuple[str, ...], str]]:
    """A kept sample's rows as (its table's columns, the line as written): no parsing."""
    with open(path, encoding="utf-8", newline="") as handle:
        header, _, body = handle.read().replace("\r\n", "\n").partition("\n")
    columns = tuple(header.split("\t"))
    return [(columns, line) for line in body.split("\n") if line]


def _shard_line(row: dict[str, str] | tuple[tuple[str, ...], str], columns: list[str]) -> str:
    """One shard-table line in `columns`: a record's cells, or a kept line moved to them."""
    if isinstance(row, dict):
        return "\t".join(tables._cell(row.get(c), c) for c in columns)
    header, line = row
    cells = line.split("\t")
    if len(cells) == len(header) and list(header) == columns[: len(header)]:
        return line + "\t" * (len(columns) - len(header))
    where = dict(zip(header, cells, strict=False))
    return "\t".join(where.get(c, "") for c in columns)


def _columns_of(headers: Sequence[Iterable[str]], name: str) -> list[str]:
    """The columns of a batch table: those of the per-sample tables (vocab.py), then any extra
    column a shard's table has (in the order first seen). A header is any iterable of column
    names: a header line's fields, or a row dict (its keys)."""
    from ..outputs import vocab

    known = {
        "alleles": vocab.ALLELE_COLUMNS,
        "evidence": vocab.TKI_COLUMNS,
        "verdicts": vocab.VERDICT_COLUMNS,
        "structural": vocab.STRUCTURAL_COLUMNS,
    }[name]
    extra = [c for header in headers for c in header if c not in known]
    return list(known) + list(dict.fromkeys(extra))


# ---------------------------------------------------------------------------------------------
# Stage: summarize


def summarize(
    manifest: str,
    shard_dirs: Sequence[str],
    out_dir: str,
) -> list[dict[str, str]]:
    """Batch tables from every shard (write_summary); returns summary.tsv's rows, read back."""
    write_summary(manifest, shard_dirs, out_dir)
    return tables.read_records(Path(out_dir) / "summary.tsv")


def write_summary(manifest: str, shard_dirs: Sequence[str], out_dir: str) -> int:
    """Batch tables from every shard; every sample of the manifest gets a summary row.

    Streamed sample by sample: one pass over each shard table finds where each sample's rows are
    (tables.ShardIndex: a few byte spans per sample), then the samples are taken in order, each
    one's rows read back and written to the batch tables, its summary, drug-matrix and MultiQC
    lines computed from them; the workbook is streamed from the written files. Memory is a few
    hundred bytes per sample (the index and the status records), not the size of the tables.
    Returns the number of summary rows.
    """
    from itertools import groupby

    from ..outputs import multiqc, xlsx

    folders = [Path(f) for f in sorted(shard_dirs)]
    expected = [r.sample for r in read_manifest(manifest)]
    wanted = frozenset(expected)
    status: list[tuple[str, ...]] = []  # STATUS_COLUMNS' values of each wanted status record
    seen_status: set[str] = set()
    for folder in folders:
        for r in tables.read_records(folder / "status.tsv"):
            sample = r.get("sample", "")
            seen_status.add(sample)
            if sample in wanted:
                status.append(tuple(r.get(c) or "" for c in STATUS_COLUMNS))
    missing = sorted(wanted - seen_status)
    if missing:
        raise RuntimeError(
            f"no status record for sample(s) {', '.join(missing)}: the shard outputs do not match "
            "results/batch/samples.tsv; run snakemake again."
        )
    status.sort(key=lambda values: values[0])  # stable: a sample's records in shard order
    kb_versions = sorted({values[STATUS_COLUMNS.index("kb_version")] for values in status} - {""})

    drugs: set[str] = set()
    kinds: dict[str, str] = {}
    kb_pairs: set[tuple[str, str]] = set()

    def seen_verdict(sample: str, row: dict[str, str]) -> None:
        drug = row.get("drug", "")
        drugs.add(drug)
        if row.get("drug_kind"):
            kinds[drug] = row["drug_kind"]
        kb_pairs.add((row.get("kb_version", ""), row.get("kb_hash", "")))

    index: dict[str, tables.ShardIndex] = {}
    for name in SHARD_TABLES:
        paths = [folder / f"{name}.tsv" for folder in folders]
        columns = _columns_of([tables.read_header(p) for p in paths], name)
        index[name] = tables.ShardIndex(
            paths, columns, wanted, seen_verdict if name == "verdicts" else None
        )
    matrix_drugs = sorted(drugs)
    detail_drugs = tables.matrix_drugs(drugs, kinds)
    pairs = sorted(kb_pairs - {("", "")}) or [(v, "") for v in kb_versions]

    out = Path(out_dir)
    writers = {
        "summary": tables.TsvWriter(out / "summary.tsv", tables.SUMMARY_COLUMNS),
        "drug_matrix": tables.TsvWriter(out / "drug_matrix.tsv", ["sample", *matrix_drugs]),
        **{
            name: tables.TsvWriter(out / f"{name}.tsv", index[name].columns)
            for name in SHARD_TABLES
        },
    }
    mqc = tables.TsvWriter(out / "erbb2_tki_mqc.tsv", [], header=False)
    detail = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n")  # noqa: SIM115
    try:
        shown = list(multiqc.MQC_COLUMNS)  # summary rows have every optional column
        for line in multiqc.multiqc_header(", ".join(kb_versions), shown):
            mqc.write(line)
        detail.write("\t".join(["sample", *detail_drugs]) + "\n")
        for sample, group in groupby(status, key=lambda values: values[0]):
            rows: dict[str, list[dict[str, str]]] = {}
            for name in SHARD_TABLES:
                lines = index[name].lines(sample)
                for line in lines:
                    writers[name].write(line)
                rows[name] = list(tables.Table(index[name].columns, lines).records())
            for values in group:
                record = tables.summary_row(
                    sample,
                    dict(zip(STATUS_COLUMNS, values, strict=True)),
                    rows["alleles"],
                    rows["evidence"],
                    rows["verdicts"],
                    rows["structural"],
                )
                writers["summary"].write_record(record)
                writers["drug_matrix"].write(
                    tables.drug_matrix_line(record, rows["verdicts"], matrix_drugs)
                )
                detail.write(
                    tables.drug_matrix_detail_line(record, rows["verdicts"], detail_drugs) + "\n"
                )
                mqc.write(multiqc.multiqc_line(record, shown))
        for writer in [*writers.values(), mqc]:
            writer.commit()
        detail.flush()
        xlsx.write_excel(
            {
                "summary": tables.FileTable(out / "summary.tsv"),
                "alleles": tables.FileTable(out / "alleles.tsv"),
                "evidence": tables.FileTable(out / "evidence.tsv"),
                "drug matrix": tables.FileTable(detail),
                "verdicts": tables.FileTable(out / "verdicts.tsv"),
                "about": tables.about_table(pairs, __version__),
            },
            out / "summary.xlsx",
            styles={"drug matrix": tables.matrix_style, "about": tables.matrix_style},
            # the workbook is in results/batch/, the pages in results/reports/
            links={"summary": ("report", "../")},
        )
    finally:
        for writer in [*writers.values(), mqc]:
            writer.discard()
        for shard_index in index.values():
            shard_index.close()
        detail.close()
    return writers["summary"].n_rows


# ---------------------------------------------------------------------------------------------
# Stage: check


def failures_text(summary: Sequence[dict[str, str]]) -> str:
    """The end-of-run list of failed samples ('' when none failed); see batch/check.py."""
    from .check import failures_text as text

    return text(summary)


def check(summary_path: str, out: str, log: JobLog) -> int:
    """Exit status 0 and write `out` when every sample is ok; else 1, listing the failures.

    The workflow runs this as `python -m erbb2_tki.batch.check` (a lighter import)."""
    from .check import check as run_check

    return run_check(summary_path, out, log)


# ---------------------------------------------------------------------------------------------
# The end-of-run job: manifest, batch tables, report figures and page, in one process


def summarize_and_report(
    manifest: str,
    shard_dirs: Sequence[str],
    out_dir: str,
    *,
    config: dict[str, Any] | None = None,
    report_dir: str = "",
    annotations: str = "",
    settings: dict[str, object] | None = None,
    log: JobLog | None = None,
) -> int:
    """What rule summarize runs: one job, one Python start-up, instead of three in a row.

    With `config`, first writes the manifest (the resolved sheet with each sample's shard) to
    `manifest`; then the batch tables (write_summary, streamed); with `report_dir`, the report's
    figures and verdict page from those tables (outputs/report_html.write_report_files).
    Returns the number of summary rows.
    """
    log = log or JobLog(None)
    if config is not None:
        write_manifest(config, manifest)
        log.info(f"manifest: wrote {manifest}")
    n_samples = write_summary(manifest, shard_dirs, out_dir)
    log.info(f"summarize: wrote the batch tables of {n_samples} samples to {out_dir}")
    if report_dir:
        from ..outputs import report_html

        paths = report_html.write_report_files(
            out_dir, report_dir, annotations=annotations or None, config=settings or {}
        )
        for key, path in paths.items():
            log.info(f"report_html: wrote {key} {path}")
    return n_samples


# ---------------------------------------------------------------------------------------------
# Command line (what the rules call)


def _germline_policy(args: argparse.Namespace) -> Any:
    from ..annotate import germline_policy

    return germline_policy(args)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The jobs' parser; with `argv`, the annotate stage's germline options (annotate.py's) are
    added only when argv runs that stage, so the other jobs never import the annotation code."""
    chosen = next((a for a in argv if not a.startswith("-")), None) if argv is not None else None
    parser = argparse.ArgumentParser(
        prog="python -m erbb2_tki.batch.pipeline", description="Jobs of the erbb2-tki workflow."
    )
    sub = parser.add_subparsers(dest="stage", required=True)

    p = sub.add_parser("manifest", help="resolve the sample sheet and assign shards")
    p.add_argument("--config-json", required=True, help="the workflow config as JSON")
    p.add_argument("--out", required=True)
    p.add_argument("--log")

    for stage in ("extract", "annotate"):
        p = sub.add_parser(stage, help=f"{stage} one shard of samples")
        p.add_argument("--config-json", required=True, help="the workflow config as JSON")
        p.add_argument("--shard", required=True, type=int)
        p.add_argument("--out-dir", required=True)
        p.add_argument("--expect-digest", default="")
        p.add_argument("--on-error", choices=("continue", "stop"), default="continue")
        p.add_argument("--log")
        p.add_argument("--annotations", default="", help="annotations/ folder (default: bundled)")
        if stage == "extract":
            p.add_argument("--padding", type=int, default=5000)
            p.add_argument("--assume-sorted", action="store_true")
        if stage == "annotate":
            p.add_argument("--extract-dir", required=True)
            p.add_argument("--annotated-dir", default="results/annotated")
            p.add_argument("--tables-dir", default="results/tables")
            p.add_argument("--include-filtered", action="store_true")
            if argv is None or chosen == "annotate":
                from ..annotate import add_germline_options

                add_germline_options(p)
            p.add_argument(
                "--no-reuse",
                dest="reuse",
                action="store_false",
                help="annotate every sample again (by default a sample whose inputs and "
                "knowledge-base view are unchanged keeps its outputs)",
            )
            p.add_argument("--reports-dir", default="", help="write each sample's report page here")

    p = sub.add_parser(
        "summarize", help="batch tables from every shard (and the manifest and report figures)"
    )
    p.add_argument("--manifest", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--log")
    p.add_argument(
        "--config-json",
        default="",
        help="the workflow config as JSON: write the manifest (--manifest) from it first",
    )
    p.add_argument(
        "--report-dir", default="", help="also write the report's figures and verdict page here"
    )
    p.add_argument("--annotations", default="", help="annotations/ folder (default: bundled)")
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config value to print on the verdict page (repeatable)",
    )
    p.add_argument("shard_dirs", nargs="*")

    p = sub.add_parser("check", help="exit non-zero listing failed samples")
    p.add_argument("--summary", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--log")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    single_threaded_blas()
    if argv is None:
        argv = sys.argv[1:]
    args = build_parser(argv).parse_args(argv)
    if getattr(args, "annotations", ""):
        # The transcript model is found through paths.annotations_dir(), which reads this.
        os.environ["ERBB2_TKI_ANNOTATIONS"] = str(Path(args.annotations).resolve())
    with open_log(args.log) as log:
        try:
            if args.stage == "manifest":
                write_manifest(json.loads(args.config_json), args.out)
            elif args.stage == "extract":
                rows = shard_rows(json.loads(args.config_json), args.shard)
                _check_digest(rows, "extract", args.expect_digest)
                extract_shard(
                    rows,
                    args.out_dir,
                    padding=args.padding,
                    assume_sorted=args.assume_sorted,
                    on_error=args.on_error,
                    log=log,
                )
            elif args.stage == "annotate":
                rows = shard_rows(json.loads(args.config_json), args.shard)
                _check_digest(rows, "annotate", args.expect_digest)
                annotate_shard(
                    rows,
                    args.extract_dir,
                    args.out_dir,
                    annotations=args.annotations,
                    annotated_dir=args.annotated_dir,
                    tables_dir=args.tables_dir,
                    include_filtered=args.include_filtered,
                    on_error=args.on_error,
                    log=log,
                    germline=_germline_policy(args),
                    reuse=args.reuse,
                    reports_dir=args.reports_dir,
                )
            elif args.stage == "summarize":
                summarize_and_report(
                    args.manifest,
                    args.shard_dirs,
                    args.out_dir,
                    config=json.loads(args.config_json) if args.config_json else None,
                    report_dir=args.report_dir,
                    annotations=args.annotations,
                    settings=dict(
                        item.split("=", 1) if "=" in item else (item, "") for item in args.setting
                    ),
                    log=log,
                )
            elif args.stage == "check":
                return check(args.summary, args.out, log)
        except InputError as err:
            log.failure(f"erbb2-tki {args.stage}: error: {err}")
            return 2
        except SystemExit as stop:
            if isinstance(stop.code, str):
                log.failure(stop.code)
                return 1
            raise
        except Exception:
            log.failure(traceback.format_exc())
            return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - run by the workflow's rules
    sys.exit(main())
