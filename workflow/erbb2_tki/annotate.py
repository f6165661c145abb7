"""Per-sample annotation: read a VCF, name its ERBB2 alleles, match the knowledge base, write outputs.

This is the glue between the read loop (calls: the VCF reader and the HGVS engine), the in-cis
merge (cis), the verdict-use policy (verdict_use), the knowledge base (knowledge), the verdict
rules (interpret) and the writers (vcf.writer, the tables). The workflow calls `annotate_sample` once per
sample on the extracted ERBB2 region; `erbb2-tki annotate` calls it on any VCF after extracting
the region itself.

Which alleles decide a verdict (verdict_use.py): an allele counts when its FILTER is PASS or missing, its REF
agrees with NM_004448.4, the tumour genotype (when there is one) carries it, and it is not
germline (GermlinePolicy: the matched normal carries it, or it is a listed polymorphism). Every other
allele is still listed in the tables and the annotated VCF, with `used_for_verdict` saying why
not, so nothing a caller reported is silently dropped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .calls import _Allele, _read_alleles
from .errors import InputError
from .naming.cis import _merge_in_cis
from .naming.model import AlleleName
from .outputs.vocab import TABLE_COLUMNS
from .vcf.writer import write_annotated_vcf
from .verdict_use import GermlinePolicy, _set_origin, _verdict_use

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class SampleResult:
    """Everything one sample's annotation produced, for tables and the batch summary.

    `rows` holds each table ("alleles", "tki", "verdicts", "structural") as rows of text, exactly
    as written to the per-sample TSVs; the DataFrame properties are views built on demand (the
    workflow never needs them, and pandas costs more than the annotation itself).
    """

    sample: str
    build: str
    build_source: str
    tumour_sample: str | None
    rows: dict[str, list[dict[str, str]]]
    skipped: dict[str, int] = field(default_factory=dict)
    kb_version: str = ""
    kb_hash: str = ""
    # every named allele (merged in-cis ones too): what the knowledge base was asked about
    names: list[AlleleName] = field(default_factory=list)
    # each table written: (its columns, its lines as written, without the header): the batch
    # job's shard tables take these lines as they are instead of formatting every cell again
    lines: dict[str, tuple[tuple[str, ...], list[str]]] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """One table as a DataFrame of strings, its columns in the documented order."""
        import pandas as pd

        columns = TABLE_COLUMNS[name]
        frame = pd.DataFrame(self.rows[name], columns=_columns(self.rows[name], columns), dtype=str)
        return frame.fillna("")

    @property
    def alleles(self) -> pd.DataFrame:
        return self.table("alleles")

    @property
    def tki(self) -> pd.DataFrame:
        return self.table("tki")

    @property
    def verdicts(self) -> pd.DataFrame:
        return self.table("verdicts")

    @property
    def structural(self) -> pd.DataFrame:
        return self.table("structural")

    @property
    def structural_events(self) -> list[dict[str, str]]:
        return list(self.rows["structural"])


def _columns(rows: list[dict[str, str]], columns: list[str]) -> list[str]:
    """The documented columns, then any extra keys the rows carry, in first-seen order."""
    extra: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key not in columns:
                extra[key] = None
    return columns + list(extra)


def _text_row(row: dict[str, Any]) -> dict[str, str]:
    """Every value as the text the TSV will hold ('' for None)."""
    return {key: value if type(value) is str else _fmt(value) for key, value in row.items()}


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else ""
    return str(value)


def annotate_sample(
    sample: str,
    vcf: str | os.PathLike[str],
    *,
    build: str | None,
    tumour_sample: str | None = None,
    normal_sample: str | None = None,
    tumour_type: str | None = None,
    kb: Any = None,
    out_vcf: str | os.PathLike[str] | None = None,
    out_alleles: str | os.PathLike[str] | None = None,
    out_tki: str | os.PathLike[str] | None = None,
    out_verdicts: str | os.PathLike[str] | None = None,
    out_structural: str | os.PathLike[str] | None = None,
    include_filtered: bool = False,
    source: str | os.PathLike[str] | None = None,
    region: tuple[int, int] | None = None,
    germline: GermlinePolicy | None = None,
) -> SampleResult:
    """Annotate one sample's VCF (normally its extracted ERBB2 region) and write the outputs asked for.

    `source` is the user's original VCF when `vcf` is its extracted region: errors name it, since
    that is the file the user can fix. `region` is the (start, end) extraction used (its span +
    padding); annotation keeps exactly the records in it. None: the transcript span + 5,000. Raises InputError, naming the sample and file, for anything
    wrong with the input. Outputs are written atomically: on any error none of them is left
    half-written.
    """
    from . import knowledge
    from .knowledge import interpret
    from .vcf import builds as vcf_builds
    from .vcf import reader as vcf_reader
    from .vcf import samples as vcf_samples

    path = Path(vcf)
    opened: list[Any] = []  # the reader, closed after the annotated VCF is written
    try:
        if kb is None:
            kb = knowledge.load_knowledge()
        tumour_type = _resolve_tumour_type(kb, tumour_type)
        reader = vcf_reader.open_vcf(path)
        opened.append(reader)
        build_call = vcf_builds.detect_build(reader, path, build)
        tumour_index, tumour_name = vcf_samples.choose_tumour_sample(
            reader, path, tumour_sample, normal_sample
        )
        normal_index, normal_name = vcf_samples.choose_normal_sample(
            reader, tumour_index, normal_sample
        )
        skipped: Counter[str] = Counter()
        structural: list[dict[str, Any]] = []
        # The records are kept (a few dozen in an extracted region) for the annotated VCF,
        # which then writes them without reading the file again.
        header_text = reader.raw_header
        records = list(reader)
        alleles = _read_alleles(
            reader,
            build_call.build,
            tumour_index,
            skipped,
            structural,
            sample,
            region,
            normal_index,
            records,
        )
    except BaseException as err:
        _close(opened)
        if isinstance(err, InputError):
            raise _in_context(err, sample, path, source) from None
        raise

    merged = _merge_in_cis(alleles, build_call.build)
    listed = sorted(
        alleles + merged, key=lambda a: (a.pos, a.record_index, a.alt_index, len(a.components))
    )
    used: list[tuple[AlleleName, list[Any]]] = []
    policy = germline or GermlinePolicy()
    for allele in sorted(listed, key=lambda a: len(a.components)):  # components first
        _set_origin(allele, kb, policy)
    for allele in listed:
        if allele.name is not None:
            allele.matches = kb.match(allele.name, tumour_type)
            allele.oncogenicity = kb.oncogenicity(allele.name)
        allele.use = _verdict_use(allele, include_filtered)
        if allele.use == "yes" and allele.name is not None:  # "yes" needs a name
            used.append((allele.name, allele.matches))

    amplification = any(
        str(e.get("event", "")).startswith("possible_amplification") for e in structural
    )
    verdict_rows = [
        {"sample": sample, **v.as_row(), "kb_version": kb.version, "kb_hash": kb.content_hash}
        for v in interpret.verdicts(used, tumour_type, kb, amplification=amplification)
    ]

    allele_rows = [
        _allele_row(sample, a, tumour_name, build_call.build, normal_name) for a in listed
    ]
    tki_rows = [
        {
            "sample": sample,
            "hgvsp_short": a.name.hgvsp_short,
            **m.as_row(),
            **dict(
                zip(
                    ("level_in_context", "amp_tier", "oncokb_level"),
                    kb.levels.in_context(m.evidence_type, m.tumour_type_match, m.response),
                    strict=True,
                )
            ),
        }
        for a in listed
        if a.name is not None and a.use == "yes"
        for m in a.matches
    ]
    result = SampleResult(
        sample=sample,
        build=build_call.build,
        build_source=build_call.source,
        tumour_sample=tumour_name,
        rows={
            "alleles": [_text_row(r) for r in allele_rows],
            "tki": [_text_row(r) for r in tki_rows],
            "verdicts": [_text_row(r) for r in verdict_rows],
            "structural": [_text_row(r) for r in structural],
        },
        skipped=dict(sorted(skipped.items())),
        kb_version=kb.version,
        kb_hash=kb.content_hash,
        names=[a.name for a in listed if a.name is not None],
    )
    try:
        _write_outputs(
            result,
            out_vcf,
            {
                "alleles": out_alleles,
                "tki": out_tki,
                "verdicts": out_verdicts,
                "structural": out_structural,
            },
            listed,
            kb,
            path,
            (reader, records, header_text),
        )
    except InputError as err:
        raise _in_context(err, sample, path, source) from None
    finally:
        _close(opened)
    return result


def _write_outputs(
    result: SampleResult,
    out_vcf: str | os.PathLike[str] | None,
    tables: dict[str, str | os.PathLike[str] | None],
    listed: list[_Allele],
    kb: Any,
    path: Path,
    read: tuple[Any, list[Any], str],
) -> None:
    """The annotated VCF (from the records already read: `read`) and the tables asked for."""
    if out_vcf is not None:
        write_annotated_vcf(path, out_vcf, listed, kb, read=read)
    for name, out in tables.items():
        if out is not None:
            result.lines[name] = write_table(result.rows[name], TABLE_COLUMNS[name], out)


def _close(readers: list[Any]) -> None:
    for reader in readers:
        reader.close()


def _in_context(err: InputError, sample: str, path: Path, source: Any) -> InputError:
    """Name the sample, and the user's own file rather than an intermediate extract."""
    if source is not None and err.path in (None, str(path)):
        err.path = str(source)
    return err.with_context(sample=sample, path=str(path))


def _resolve_tumour_type(kb: Any, tumour_type: str | None) -> str | None:
    """The sample's OncoTree code, checked before any work, with an error that points at the input."""
    try:
        return kb.resolve_tumour_type(tumour_type)
    except InputError as err:
        raise InputError(
            f"unknown tumour type {tumour_type!r}: not an OncoTree code the knowledge base knows "
            f"({err.path})",
            field="tumor_type",
            fix="give an OncoTree code such as BRCA, ILC, IDC, NSCLC, LUAD, COADREAD, BLCA or CESC "
            "in the sample sheet's tumor_type column (or --tumor-type), or leave it empty",
        ) from None


def _allele_row(
    sample: str, a: _Allele, tumour_name: str | None, build: str, normal_name: str | None = None
) -> dict[str, Any]:
    n = a.name
    m = a.metrics
    nm = a.normal_metrics
    flags = list(n.flags if n else ()) + a.flags
    drugs = sorted({f"{x.drug}:{x.response}" for x in a.matches})
    return {
        "sample": sample,
        "chrom": a.chrom,
        "pos": a.pos,
        "ref": a.ref,
        "alt": a.alt,
        "consequence": n.consequence if n else "",
        "hgvsc": n.hgvsc if n else "",
        "hgvsp": n.hgvsp if n else "",
        "hgvsp_short": n.hgvsp_short if n else "",
        "exon": n.exon if n else "",
        "intron": n.intron if n else "",
        "domain": n.domain if n else "",
        "flags": ";".join(flags),
        "oncogenicity": a.oncogenicity,
        "kb_drugs": ";".join(drugs),
        "genotype": m.genotype if m else "",
        "vaf": _fmt(m.vaf) if m else "",
        "depth": _fmt(m.depth) if m else "",
        "alt_depth": _fmt(m.alt_depth) if m else "",
        "filter": a.filter,
        "used_for_verdict": a.use,
        "origin": a.origin,
        "alt_index": a.alt_index
        if not a.components
        else "+".join(str(c.alt_index) for c in a.components),
        "variant_type": n.variant_type if n else "",
        "hgvsg": n.hgvsg if n else "",
        "genomic_key": f"{a.chrom}:{n.key_pos}:{n.key_ref}:{n.key_alt}" if n else "",
        "protein_start": n.protein.start if n and n.protein else "",
        "protein_end": n.protein.end if n and n.protein else "",
        "tumour_sample": tumour_name or "",
        "build": build,
        "normal_sample": normal_name or "",
        "normal_genotype": nm.genotype if nm else "",
        "normal_vaf": _fmt(nm.vaf) if nm else "",
        "normal_depth": _fmt(nm.depth) if nm else "",
    }


def write_table(
    rows: list[dict[str, str]], columns: list[str], out: str | os.PathLike[str]
) -> tuple[tuple[str, ...], list[str]]:
    """Write rows of text as TSV atomically (temp file in the same folder, then rename); returns
    (the columns written, the lines below the header): what records_tsv_bytes writes."""
    from .outputs.tables import atomic_write_bytes

    written = _columns(rows, columns)
    lines = _tsv_lines(rows, written)
    atomic_write_bytes(out, ("\n".join(["\t".join(written), *lines]) + "\n").encode("utf-8"))
    return tuple(written), lines


def _tsv_lines(rows: list[dict[str, str]], columns: list[str]) -> list[str]:
    """Each row's line as records_tsv_bytes writes it (tables._cell for every cell), with a fast
    path for the usual row: text cells without tabs or line breaks, only the untrusted columns'
    cells neutralised (cells.neutralise)."""
    from .outputs.cells import neutralise, untrusted
    from .outputs.tables import _cell

    guarded = untrusted(columns)
    width = len(columns) - 1
    lines = []
    for row in rows:
        values = [row.get(c, "") for c in columns]
        line = "\t".join(values) if all(type(v) is str for v in values) else None
        if line is None or line.count("\t") != width or "\n" in line or "\r" in line:
            lines.append("\t".join(_cell(row.get(c), c) for c in columns))
            continue
        for i in guarded:
            safe = neutralise(values[i])
            if safe is not values[i]:
                values[i] = safe
                line = None
        lines.append("\t".join(values) if line is None else line)
    return lines


# --- command line ------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "annotate",
        help="name the ERBB2 alleles of one VCF and report their TKI evidence",
        description=(
            "Read a VCF (.vcf, .vcf.gz or .bcf; sites-only files too), keep the ERBB2 records, "
            "name every ALT allele on NM_004448.4 / NP_004439.2 and match the knowledge base."
        ),
    )
    p.add_argument("input", help="the VCF to read")
    p.add_argument(
        "--build",
        choices=["GRCh37", "GRCh38", "auto"],
        default="auto",
        help="genome build; 'auto' reads it from the header and fails when the header has no evidence",
    )
    p.add_argument(
        "--sample",
        help="the VCF sample (column) to report; also the name in the 'sample' column. "
        "Default: the tumour sample from header hints, or the only sample",
    )
    p.add_argument("--normal-sample", help="the normal sample (column) of a tumour/normal VCF")
    p.add_argument(
        "--label", help="name for the 'sample' column (default: --sample, else the file name)"
    )
    p.add_argument(
        "--tumor-type",
        "--tumour-type",
        dest="tumour_type",
        help="OncoTree code, e.g. BRCA, ILC, LUAD",
    )
    p.add_argument(
        "--out-tsv",
        help="alleles table: one row per ALT allele ('-': standard output; the default when no "
        "--out-* option is given)",
    )
    p.add_argument(
        "--out-tki", help="evidence table: one row per allele x knowledge-base evidence row"
    )
    p.add_argument("--out-verdicts", help="verdict table: one row per drug")
    p.add_argument(
        "--out-vcf",
        help="annotated VCF: plain text for .vcf, bgzipped with a .tbi index for .vcf.gz, BCF for .bcf",
    )
    p.add_argument(
        "--out-report",
        help="the sample's self-contained HTML report page (written for a failed input too, "
        "saying why)",
    )
    p.add_argument(
        "--annotations",
        help="annotations folder (knowledge/ and transcripts/; default: $ERBB2_TKI_ANNOTATIONS, "
        "else the bundled annotations/)",
    )
    p.add_argument(
        "--assume-sorted",
        action="store_true",
        help="declare an unindexed bgzipped VCF sorted: its region is found by bisection instead "
        "of reading the whole file (an out-of-order record could then be missed)",
    )
    p.add_argument(
        "--include-filtered",
        action="store_true",
        help="let alleles whose FILTER is not PASS decide verdicts (they are always listed)",
    )
    add_germline_options(p)
    p.set_defaults(func=run_cli)


def add_germline_options(p: argparse.ArgumentParser) -> None:
    """The germline policy options (config keys germline_normal_vaf, germline_normal_min_depth,
    germline_exclude_listed)."""
    default = GermlinePolicy()
    p.add_argument(
        "--germline-normal-vaf",
        type=float,
        default=default.normal_vaf,
        help="an allele whose VAF in the matched normal is at least this (with enough depth) is "
        f"germline (default {default.normal_vaf})",
    )
    p.add_argument(
        "--germline-normal-min-depth",
        type=int,
        default=default.normal_min_depth,
        help="normal depth needed for the VAF test, and to call an allele somatic "
        f"(default {default.normal_min_depth})",
    )
    p.add_argument(
        "--keep-listed-polymorphisms",
        action="store_true",
        help="do not call the knowledge base's common germline polymorphisms (germline.tsv, e.g. "
        "I655V) germline without evidence from a normal column",
    )


def germline_policy(args: argparse.Namespace) -> GermlinePolicy:
    """The policy from add_germline_options' arguments."""
    return GermlinePolicy(
        normal_vaf=args.germline_normal_vaf,
        normal_min_depth=args.germline_normal_min_depth,
        exclude_listed=not args.keep_listed_polymorphisms,
    )


def run_cli(args: argparse.Namespace) -> int:
    from . import knowledge, paths
    from .vcf import extract

    if args.annotations:
        # Checked here (a one-line error when missing); the transcript model is found through
        # paths.annotations_dir(), which reads the variable.
        os.environ[paths.ANNOTATIONS_ENV] = str(paths.annotations_dir(args.annotations).resolve())
    kb = knowledge.load_knowledge()
    build = None if args.build == "auto" else args.build
    outputs = (args.out_tsv, args.out_tki, args.out_verdicts, args.out_vcf, args.out_report)
    to_stdout = args.out_tsv == "-" or not any(outputs)
    out_alleles = None if to_stdout else args.out_tsv
    label = args.label or args.sample or _stem(Path(args.input))
    stage = "extract"
    extracted = None
    try:
        with tempfile.TemporaryDirectory(prefix="erbb2-tki-") as tmp:
            region_vcf = Path(tmp) / "region.vcf.gz"
            extracted = extract.extract_sample(
                args.input,
                region_vcf,
                build=build,
                sample=label,
                assume_sorted=getattr(args, "assume_sorted", False),
            )
            stage = "annotate"
            result = annotate_sample(
                label,
                region_vcf,
                build=extracted.build,
                tumour_sample=args.sample,
                normal_sample=args.normal_sample,
                tumour_type=args.tumour_type,
                kb=kb,
                out_vcf=args.out_vcf,
                out_alleles=out_alleles,
                out_tki=args.out_tki,
                out_verdicts=args.out_verdicts,
                include_filtered=args.include_filtered,
                source=args.input,
                region=extracted.region,
                germline=germline_policy(args),
            )
    except InputError as err:
        if args.out_report:
            _write_report(args, kb, label, extracted, None, stage=stage, reason=str(err))
        raise
    if args.out_report:
        _write_report(args, kb, label, extracted, result)
    if to_stdout:
        from .outputs.tables import records_tsv_bytes

        rows = result.rows["alleles"]
        sys.stdout.buffer.write(records_tsv_bytes(rows, _columns(rows, TABLE_COLUMNS["alleles"])))
        sys.stdout.flush()
    # The one-line summary goes to stderr when stdout carries the table.
    report = sys.stderr if to_stdout else sys.stdout
    n = len(result.rows["alleles"])
    if extracted.note:  # an index ignored, a contig alias, bytes replaced: the user should know
        print(f"{label}: note: {extracted.note}")
    print(
        f"{label}: {n} ERBB2 allele{'s' if n != 1 else ''} on {result.build} "
        f"({result.build_source}); knowledge base {result.kb_version}",
        file=report,
    )
    for event in result.structural_events:
        print(
            f"{label}: {event.get('event')} {event.get('chrom')}:{event.get('pos')}-{event.get('end')}",
            file=report,
        )
    return 0


def _write_report(
    args: argparse.Namespace,
    kb: Any,
    label: str,
    extracted: Any,
    result: SampleResult | None,
    *,
    stage: str = "annotate",
    reason: str = "",
) -> None:
    """The sample's report page (--out-report), for a finished or a failed annotation."""
    from .naming.transcript import load_transcript
    from .outputs import patient_report

    code = ""
    if args.tumour_type:
        try:
            code = kb.resolve_tumour_type(args.tumour_type) or ""
        except InputError:
            code = str(args.tumour_type)
    status = {
        "sample": label,
        "status": "ok" if result is not None else "failed",
        "stage": stage,
        "reason": reason,
        "build": result.build if result else str(getattr(extracted, "build", "") or ""),
        "tumour_type": code,
        "tumour_sample": (result.tumour_sample or "") if result else str(args.sample or ""),
        "normal_sample": str(args.normal_sample or ""),
        "n_records": str(getattr(extracted, "n_records", "") or ""),
        "vcf": str(args.input),
        "vcf_sha256": patient_report.file_sha256(args.input),
        "kb_version": str(kb.version),
        "kb_hash": str(kb.content_hash),
    }
    rows = result.rows if result is not None else {}
    try:
        transcript = load_transcript()
    except Exception:  # the page draws the protein without domains
        transcript = None
    patient_report.write_page(
        patient_report.page_from_tables(status, rows, kb, transcript), args.out_report
    )


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".vcf.gz", ".vcf.bgz", ".gvcf.gz", ".vcf", ".bcf", ".gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name
