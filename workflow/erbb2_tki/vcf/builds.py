"""The genome build of a VCF: from its ##contig lengths and ##reference lines, never a guess.

A wrong build names every allele wrongly, so conflicting or missing evidence is an InputError
telling the user what to pass instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .contigs import primary_name

BUILDS = ("GRCh37", "GRCh38")

# Primary chromosome lengths (GRCh37 = hg19/b37, GRCh38 = hg38). MT is the same in both (rCRS),
# so it is no evidence; hg19's chrM (16,571) is not rCRS and is left out too.
CONTIG_LENGTHS: dict[str, dict[str, int]] = {
    "GRCh37": {
        "1": 249250621, "2": 243199373, "3": 198022430, "4": 191154276, "5": 180915260,
        "6": 171115067, "7": 159138663, "8": 146364022, "9": 141213431, "10": 135534747,
        "11": 135006516, "12": 133851895, "13": 115169878, "14": 107349540, "15": 102531392,
        "16": 90354753, "17": 81195210, "18": 78077248, "19": 59128983, "20": 63025520,
        "21": 48129895, "22": 51304566, "X": 155270560, "Y": 59373566,
    },
    "GRCh38": {
        "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555, "5": 181538259,
        "6": 170805979, "7": 159345973, "8": 145138636, "9": 138394717, "10": 133797422,
        "11": 135086622, "12": 133275309, "13": 114364328, "14": 107043718, "15": 101991189,
        "16": 90338345, "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167,
        "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415,
    },
}  # fmt: skip

# Assembly names as they appear in ##reference/##assembly lines (file paths, URLs, bare names).
_BUILD_TOKENS = {
    "GRCh37": re.compile(
        r"(?<![a-z0-9])(grch37|hg19|b37|hs37d5|hs37|human_g1k_v37|g1k_v37|"
        r"homo_sapiens_assembly19|ncbi37|grch37lite)(?![0-9])",
        re.IGNORECASE,
    ),
    "GRCh38": re.compile(
        r"(?<![a-z0-9])(grch38|hg38|b38|hs38|hs38dh|hs38d1|homo_sapiens_assembly38|"
        r"gca_000001405\.15|grch38_full_analysis_set|ncbi38)(?![0-9])",
        re.IGNORECASE,
    ),
}

_DECLARED_BUILDS = {
    "grch37": "GRCh37", "hg19": "GRCh37", "b37": "GRCh37", "37": "GRCh37", "hs37d5": "GRCh37",
    "grch38": "GRCh38", "hg38": "GRCh38", "b38": "GRCh38", "38": "GRCh38", "hs38dh": "GRCh38",
}  # fmt: skip


@dataclass(frozen=True)
class BuildCall:
    """The genome build of one VCF and where that answer came from."""

    build: str  # GRCh37 | GRCh38
    source: str  # e.g. "contig lengths (chr17=83257441)", "##reference line", "declared"


def normalise_build(value: str, *, path: str | None = None) -> str:
    """'hg19', 'b37', 'GRCh37', '37' -> 'GRCh37'; same for 38; InputError for anything else."""
    key = str(value).strip().lower()
    if key in _DECLARED_BUILDS:
        return _DECLARED_BUILDS[key]
    raise InputError(
        f"unknown build {value!r}",
        path=path,
        field="build",
        fix="use GRCh37 (hg19, b37) or GRCh38 (hg38)",
    )


def _header_lines(vcf: Any) -> list[str]:
    return [line.rstrip("\r") for line in str(vcf.raw_header).splitlines()]


def _contig_evidence(lines: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Votes per build from ##contig lengths of primary chromosomes, and unknown lengths."""
    votes: dict[str, list[str]] = {b: [] for b in BUILDS}
    unknown: list[str] = []
    for line in lines:
        if not line.startswith("##contig=<"):
            continue
        id_match = re.search(r"[<,]ID=([^,>]+)", line)
        len_match = re.search(r"[<,]length=(\d+)", line)
        if not id_match or not len_match:
            continue
        name = id_match.group(1)
        short = primary_name(name)  # chr17, Chr17, NC_000017.11, CM000679.2... -> 17
        if short not in CONTIG_LENGTHS["GRCh37"]:
            continue
        length = int(len_match.group(1))
        hits = [b for b in BUILDS if CONTIG_LENGTHS[b][short] == length]
        for b in hits:
            votes[b].append(f"{name}={length}")
        if not hits:
            unknown.append(f"{name}={length}")
    return votes, unknown


def _reference_evidence(lines: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    votes: dict[str, list[str]] = {b: [] for b in BUILDS}
    seen: list[str] = []
    for line in lines:
        if not (line.startswith("##reference=") or line.startswith("##assembly=")):
            continue
        seen.append(line)
        for build, pattern in _BUILD_TOKENS.items():
            match = pattern.search(line)
            if match:
                votes[build].append(match.group(1))
    return votes, seen


def detect_build(vcf: Any, path: str | os.PathLike[str], declared: str | None) -> BuildCall:
    """The build from the header (##contig lengths, then ##reference), checked against `declared`.

    Conflicting evidence (two builds in the header, or a header that contradicts the sample sheet
    or --build) is an InputError; so is no evidence at all without a declared build. Never a
    guess: a wrong build names every allele wrongly.
    """
    where = str(path)
    lines = _header_lines(vcf)
    contig_votes, unknown = _contig_evidence(lines)
    ref_votes, ref_lines = _reference_evidence(lines)

    contig_builds = [b for b in BUILDS if contig_votes[b]]
    ref_builds = [b for b in BUILDS if ref_votes[b]]
    if unknown and not contig_builds:
        raise InputError(
            f"the ##contig lengths ({', '.join(unknown[:3])}) are neither GRCh37 nor GRCh38",
            path=where,
            fix="erbb2-tki supports GRCh37/hg19 and GRCh38/hg38 only; lift the calls over or "
            "correct the ##contig lines",
        )
    if len(contig_builds) > 1 or (contig_builds and unknown):
        detail = "; ".join(f"{b}: {', '.join(contig_votes[b][:3])}" for b in contig_builds)
        if unknown:
            detail += f"; neither: {', '.join(unknown[:3])}"
        raise InputError(
            f"the ##contig lengths mix genome builds ({detail})",
            path=where,
            fix="the header was assembled from different references; regenerate it from the "
            "reference the calls were made on (bcftools reheader --fai)",
        )
    if len(ref_builds) > 1:
        raise InputError(
            f"the ##reference line names both builds ({', '.join(v for b in BUILDS for v in ref_votes[b])})",
            path=where,
            fix="correct the ##reference line, or pass the build explicitly (--build or the "
            "sample sheet's build column) after checking which it is",
        )
    contig_build = contig_builds[0] if contig_builds else None
    ref_build = ref_builds[0] if ref_builds else None
    if contig_build and ref_build and contig_build != ref_build:
        raise InputError(
            f"the ##contig lengths say {contig_build} ({contig_votes[contig_build][0]}) but the "
            f"##reference line says {ref_build} ({ref_votes[ref_build][0]})",
            path=where,
            fix="correct the header so both agree (the contig lengths come from the reference "
            "the reads were aligned to)",
        )
    header_build = contig_build or ref_build
    if contig_build:
        shown = sorted(
            contig_votes[contig_build], key=lambda v: not v.upper().startswith(("17=", "CHR17="))
        )
        source = f"contig lengths ({shown[0]})"
    elif ref_build:
        source = f"##reference line ({ref_votes[ref_build][0]})"
    else:
        source = ""

    if declared is not None and str(declared).strip() not in ("", "auto"):
        wanted = normalise_build(declared, path=where)
        if header_build and header_build != wanted:
            raise InputError(
                f"the header says {header_build} ({source}) but {wanted} was declared "
                f"(sample sheet, config or --build: {declared!r})",
                path=where,
                field="build",
                fix=f"correct the declared build to {header_build}, or check that this is the "
                "right file",
            )
        if header_build:
            return BuildCall(wanted, f"{source}; matches declared {wanted}")
        return BuildCall(wanted, "declared")
    if header_build:
        return BuildCall(header_build, source)
    missing = (
        "no ##contig lines with lengths"
        if not any(line.startswith("##contig=") for line in lines)
        else "no ##contig line with a GRCh37/GRCh38 primary-chromosome length"
    )
    missing += (
        "; no ##reference line"
        if not ref_lines
        else "; a ##reference line that names no known build"
    )
    own = [
        line
        for line in lines
        if line.startswith("##")
        and not line.startswith(("##fileformat=", "##FILTER=<ID=PASS,"))
        and not re.fullmatch(r"##contig=<ID=[^,>]+>", line)  # added by htslib while reading
    ]
    if not own:
        missing = "no '##' header lines at all (so no ##contig or ##reference line)"
    raise InputError(
        f"the genome build cannot be told from the header ({missing})",
        path=where,
        field="build",
        fix="pass --build GRCh37|GRCh38 (erbb2-tki annotate) or fill the sample sheet's build "
        "column (or config build:) for this sample",
    )
