"""Which sample column is the tumour (and which the normal) in a caller's VCF.

Read from the caller's own header hints (Mutect2's tumor_sample, Strelka's TUMOR...), never
guessed: when the header does not say, the user is told what to pass.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import InputError
from .builds import _header_lines

_TUMOUR_NAMES = {"TUMOR", "TUMOUR"}
_NORMAL_NAMES = {"NORMAL"}


def _option_values(text: str, options: tuple[str, ...]) -> list[str]:
    values = []
    for option in options:
        for match in re.finditer(
            rf"(?:^|[\s\"'])({re.escape(option)})(?:=|\s+)([^\s\"',>]+)", text
        ):
            values.append(match.group(2))
    return values


def _file_stem(value: str) -> str:
    name = value.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".bam", ".cram", ".sam"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


_Hints = tuple[list[tuple[str, str]], list[tuple[str, str]]]
_last_hints: tuple[tuple[tuple[str, ...], tuple[str, ...]], _Hints] | None = None


def _header_hints(lines: list[str], samples: list[str]) -> _Hints:
    """(tumour hints, normal hints) as (sample name, why) from the header's conventions.

    choose_tumour_sample and choose_normal_sample both ask, for the same header: the last
    answer is kept (copies are returned; the callers extend them)."""
    global _last_hints
    key = (tuple(lines), tuple(samples))
    if _last_hints is None or _last_hints[0] != key:
        _last_hints = (key, _read_hints(lines, samples))
    tumour, normal = _last_hints[1]
    return list(tumour), list(normal)


def _read_hints(lines: list[str], samples: list[str]) -> _Hints:
    tumour: list[tuple[str, str]] = []
    normal: list[tuple[str, str]] = []
    is_strelka = False
    is_dragen_somatic = False
    for line in lines:
        for key, bucket in (
            ("##tumor_sample=", tumour),
            ("##tumour_sample=", tumour),
            ("##normal_sample=", normal),
        ):
            if line.startswith(key):
                bucket.append((line[len(key) :].strip(), line.split("=", 1)[0]))
        if line.startswith("##GATKCommandLine"):
            for value in _option_values(line, ("--tumor-sample", "--tumor_sample", "-tumor")):
                tumour.append((value, "Mutect2 --tumor-sample"))
            for value in _option_values(line, ("--normal-sample", "--normal_sample", "-normal")):
                normal.append((value, "Mutect2 --normal-sample"))
        if line.startswith("##source=strelka") or line.startswith("##content=strelka somatic"):
            is_strelka = True
        if line.startswith("##cmdline=") and "configureStrelkaSomaticWorkflow" in line:
            is_strelka = True
            for value in _option_values(line, ("--tumor", "--tumorBam")):
                tumour.append((_file_stem(value), "Strelka2 --tumor BAM name"))
            for value in _option_values(line, ("--normal", "--normalBam")):
                normal.append((_file_stem(value), "Strelka2 --normal BAM name"))
        if line.startswith("##DRAGENCommandLine") and "ID=dragen" in line:
            if re.search(r"--tumor-(fastq|bam|cram)", line):
                is_dragen_somatic = True
            # Sample IDs (read-group SM), unlike input file names, are the column names.
            for value in _option_values(line, ("--tumor-fastq-list-sample-id",)):
                tumour.append((value, "DRAGEN --tumor-fastq-list-sample-id"))
            for value in _option_values(line, ("--fastq-list-sample-id",)):
                normal.append((value, "DRAGEN --fastq-list-sample-id"))
    upper = [s.upper() for s in samples]
    for i, name in enumerate(upper):
        if name in _TUMOUR_NAMES:
            tumour.append((samples[i], "column named TUMOR"))
        if name in _NORMAL_NAMES:
            normal.append((samples[i], "column named NORMAL"))
    if len(samples) == 2 and is_strelka:
        # Strelka (1 and 2) always writes NORMAL then TUMOR, whatever the columns were renamed to.
        tumour.append((samples[1], "Strelka somatic column order (NORMAL, TUMOR)"))
    if len(samples) == 2 and is_dragen_somatic:
        # DRAGEN tumour-normal VCFs put the normal first and the tumour second. The input file
        # names in ##DRAGENCommandLine are not column names (and can disagree with them).
        tumour.append((samples[1], "DRAGEN tumour-normal column order (normal, tumour)"))
    known = set(samples)
    tumour = [(s, why) for s, why in tumour if s in known]
    normal = [(s, why) for s, why in normal if s in known]
    return tumour, normal


def choose_tumour_sample(
    vcf: Any,
    path: str | os.PathLike[str],
    tumour: str | None = None,
    normal: str | None = None,
) -> tuple[int | None, str | None]:
    """(column index, name) of the tumour sample; (None, None) for a sites-only VCF.

    Order of evidence: the declared tumour column; header hints (##tumor_sample/##normal_sample,
    Mutect2's command line, Strelka's and DRAGEN's column conventions, columns named
    TUMOR/NORMAL); a declared normal that leaves one other column; the only column. Hints that
    disagree, or several columns and no hint, are an InputError that lists the candidates.
    """
    where = str(path)
    samples = list(vcf.samples)
    tumour = tumour or None
    normal = normal or None
    listing = ", ".join(samples)
    if not samples:
        if tumour:
            raise InputError(
                f"tumour sample {tumour!r} was declared but the VCF has no sample columns "
                "(sites only)",
                path=where,
                field="tumor_sample",
                fix="give the VCF with genotype columns, or leave tumor_sample empty to read "
                "the calls without VAF/depth",
            )
        return None, None
    for value, label in ((tumour, "tumour"), (normal, "normal")):
        if value is not None and value not in samples:
            raise InputError(
                f"the declared {label} sample {value!r} is not a column of this VCF "
                f"(columns: {listing})",
                path=where,
                field=f"{'tumor' if label == 'tumour' else 'normal'}_sample",
                fix=f"use one of: {listing}",
            )
    if tumour is not None and tumour == normal:
        raise InputError(
            f"the same column {tumour!r} was declared as tumour and as normal",
            path=where,
            field="tumor_sample",
            fix=f"declare different columns (columns: {listing})",
        )
    lines = _header_lines(vcf)
    hints, normal_hints = _header_hints(lines, samples)
    if tumour is not None:
        clash = [why for s, why in normal_hints if s == tumour]
        if clash:
            raise InputError(
                f"the declared tumour sample {tumour!r} is the normal according to the header "
                f"({clash[0]})",
                path=where,
                field="tumor_sample",
                fix=f"check the tumor_sample column (columns: {listing})",
            )
        return samples.index(tumour), tumour
    if normal is not None:
        others = [s for s in samples if s != normal]
        hints.extend(
            (s, f"the other column than declared normal {normal!r}")
            for s in others
            if len(others) == 1
        )
        hints = [(s, why) for s, why in hints if s != normal]
    normals = {s for s, _ in normal_hints} | ({normal} if normal else set())
    if len(samples) == 2 and len(normals) == 1 and not hints:
        (only_normal,) = normals
        other = samples[1 - samples.index(only_normal)]
        hints.append((other, "the column that is not the normal"))
    chosen = {s for s, _ in hints}
    if len(chosen) > 1 or (chosen & normals):
        detail = "; ".join(f"{s} ({why})" for s, why in hints)
        if chosen & normals:
            detail += "; normal: " + ", ".join(sorted(normals))
        raise InputError(
            f"the header's tumour/normal hints disagree: {detail}",
            path=where,
            field="tumor_sample",
            fix=f"declare the tumour column explicitly (sample sheet tumor_sample or --sample); "
            f"columns: {listing}",
        )
    if chosen:
        (name,) = chosen
        return samples.index(name), name
    if len(samples) == 1:
        return 0, samples[0]
    raise InputError(
        f"the VCF has {len(samples)} sample columns and nothing says which is the tumour "
        f"(candidates: {listing})",
        path=where,
        field="tumor_sample",
        fix="declare the tumour column (sample sheet tumor_sample, or --sample) or the normal "
        "column (normal_sample, --normal-sample)",
    )


def choose_normal_sample(
    vcf: Any, tumour_index: int | None, normal: str | None = None
) -> tuple[int | None, str | None]:
    """(column index, name) of the matched normal, or (None, None) when there is none.

    The declared normal column; else the header's normal hints (##normal_sample, Mutect2
    --normal-sample, Strelka2 --normal BAM, DRAGEN, a column named NORMAL); else, in a
    two-column VCF, the column that is not the tumour. Called after choose_tumour_sample, which
    has already checked a declared name and rejected contradictory hints.
    """
    samples = list(vcf.samples)
    if tumour_index is None or len(samples) < 2:
        return None, None
    tumour = samples[tumour_index]
    if normal and normal in samples and normal != tumour:
        return samples.index(normal), normal
    _, normal_hints = _header_hints(_header_lines(vcf), samples)
    named = [s for s, _ in normal_hints if s != tumour]
    if named:
        return samples.index(named[0]), named[0]
    if len(samples) == 2:
        other = samples[1 - tumour_index]
        return samples.index(other), other
    return None, None
