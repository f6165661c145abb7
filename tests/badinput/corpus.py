"""The bad-input corpus of issue 15: one generated case per class of silent loss or crash.

Every case is written from inline text by `write_case` (no shared files), then run through the
CLI (`erbb2-tki annotate`, tests/badinput/test_badinput_cli.py) and, all in one batch, through
the workflow (tests/workflow/test_badinput_workflow.py). `CASES` is the table both read: the
file(s) to write and what must come out - the alleles and structural events found, a word the
sample's note must contain, and the expected status. A new class of bad input is one more row.
"""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pysam

from erbb2_tki.vcf.bgzf import BGZF_EOF, _bgzf_blocks

GRCH37_SHIFT = 1843747
L755S = 39723967  # chr17 (GRCh38) T>C: ERBB2 p.L755S (NM_004448.4 c.2264T>C)
CONTIG = {"GRCh38": 83257441, "GRCh37": 81195210}
CHR2 = {"GRCh38": 242193529, "GRCh37": 243199373}


def header(chrom17: str = "chr17", build: str = "GRCh38", sample: str = "TUMOR") -> str:
    chr2 = "2" if chrom17 == "17" else "chr2"
    return (
        "##fileformat=VCFv4.2\n"
        f"##contig=<ID={chr2},length={CHR2[build]}>\n"
        f"##contig=<ID={chrom17},length={CONTIG[build]}>\n"
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="SV type">\n'
        '##INFO=<ID=SVLEN,Number=A,Type=Integer,Description="SV length">\n'
        '##INFO=<ID=NOTE,Number=1,Type=String,Description="free text">\n'
        '##FILTER=<ID==HYPERLINK("x"),Description="a filter named like a formula">\n'
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{sample}\n"
    )


def rec(
    chrom: str, pos: int, ref: str = "T", alt: str = "C", info: str = "DP=50", filt: str = "PASS"
) -> str:
    return f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\t{filt}\t{info}\tGT\t0/1\n"


def chr2_block(n: int = 40, chrom: str = "chr2") -> list[str]:
    return [rec(chrom, 1000 + 1000 * i, "A", "G") for i in range(n)]


def bgzip(path: Path, text: str | bytes, block: int = 400) -> Path:
    data = text.encode() if isinstance(text, str) else text
    with open(path, "wb") as handle:
        for at in range(0, len(data), block):
            handle.write(_bgzf_blocks(data[at : at + block], 6))
        handle.write(BGZF_EOF)
    return path


@dataclass(frozen=True)
class Case:
    name: str  # also the sample name in the workflow batch
    klass: str  # the issue-15 class it covers
    write: Callable[[Path], Path]  # writes the case's file(s) under a folder, returns the VCF
    alleles: tuple[str, ...] = ()  # hgvsp_short of the alleles listed
    events: int = 0  # structural events reported
    note: str = ""  # a word the extraction note must contain
    flags: tuple[str, ...] = ()  # flags the (first) allele must carry
    build: str = ""  # declared build ("" = detect)
    status: str = "ok"
    reason: str = ""  # a word of the failure reason when status is failed
    extra: dict[str, str] = field(default_factory=dict)


def _misplaced(folder: Path) -> Path:
    lines = chr2_block()
    lines.insert(20, rec("chr17", L755S))  # the ERBB2 record sits among chr2's
    return bgzip(folder / "misplaced.vcf.gz", header() + "".join(lines))


def _foreign_tbi(folder: Path) -> Path:
    vcf = bgzip(folder / "foreign.vcf.gz", header() + "".join(chr2_block()) + rec("chr17", L755S))
    other = bgzip(folder / "other.vcf.gz", header() + "".join(chr2_block(300)))
    pysam.tabix_index(str(other), preset="vcf", force=True)
    shutil.copy(f"{other}.tbi", f"{vcf}.tbi")
    other.unlink()
    Path(f"{other}.tbi").unlink()
    return vcf


def _stale_tbi(folder: Path) -> Path:
    vcf = bgzip(folder / "stale.vcf.gz", header() + "".join(chr2_block()) + rec("chr17", 39000000))
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    bgzip(vcf, header() + "".join(chr2_block()) + rec("chr17", 39000000) + rec("chr17", L755S))
    os.utime(f"{vcf}.tbi", None)  # the index's mtime is not older than the file's
    return vcf


def _alias(chrom: str, build: str = "GRCh38", length_only: bool = False) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        pos = L755S - (GRCH37_SHIFT if build == "GRCh37" else 0)
        path = folder / f"alias_{chrom}.vcf"
        text = header(chrom, build) + "".join(chr2_block(3)) + rec(chrom, pos)
        path.write_text(text)
        return path

    return write


def _svlen_dup(folder: Path) -> Path:
    path = folder / "svlen_dup.vcf"
    dup = rec("chr17", 39600000, "A", "<DUP>", "SVTYPE=DUP;SVLEN=200000")  # no END
    path.write_text(header() + dup)
    return path


def _duplicate(folder: Path) -> Path:
    path = folder / "duplicate.vcf"
    path.write_text(header() + rec("chr17", L755S) + rec("chr17", L755S))
    return path


def _latin1(folder: Path) -> Path:
    path = folder / "latin1.vcf"
    text = header(sample="TUMOR") + rec("chr17", L755S, info="DP=50;NOTE=caf\xe9")
    data = text.encode("utf-8").replace(b"caf\xc3\xa9", b"caf\xe9")  # Latin-1 byte in INFO
    data = data.replace(b"\tTUMOR\n", b"\tTUM\xd6R\n")  # and in the sample name
    path.write_bytes(data)
    return path


def _formula(folder: Path) -> Path:
    path = folder / "formula.vcf"
    path.write_text(
        header(sample="=cmd|' /C calc'!A0") + rec("chr17", L755S, filt='=HYPERLINK("x")')
    )
    return path


def _gzip_plain(folder: Path) -> Path:  # plain gzip (not BGZF) with the record misplaced
    lines = chr2_block()
    lines.insert(5, rec("chr17", L755S))
    path = folder / "plain_gzip.vcf.gz"
    path.write_bytes(gzip.compress((header() + "".join(lines)).encode()))
    return path


CASES = [
    Case("misplaced_bgzip", "1 out-of-order record in unindexed bgzip", _misplaced, ("p.L755S",)),
    Case("misplaced_gzip", "1 out-of-order record in plain gzip", _gzip_plain, ("p.L755S",)),
    Case("foreign_tbi", "2 index of another file", _foreign_tbi, ("p.L755S",), note="ignored"),
    Case("stale_tbi", "2 index older by content", _stale_tbi, ("p.L755S",), note="ignored"),
    Case("alias_Chr17", "4 contig alias Chr17", _alias("Chr17"), ("p.L755S",)),
    Case(
        "alias_NC11",
        "4 contig alias NC_000017.11",
        _alias("NC_000017.11"),
        ("p.L755S",),
        note="NC_000017.11",
    ),
    Case(
        "alias_NC10",
        "4 contig alias NC_000017.10 (GRCh37)",
        _alias("NC_000017.10", "GRCh37"),
        ("p.L755S",),
        note="NC_000017.10",
    ),
    Case("alias_CM2", "4 contig alias CM000679.2", _alias("CM000679.2"), ("p.L755S",)),
    Case(
        "alias_length",
        "4 unknown name with chr17's length",
        _alias("hs17"),
        ("p.L755S",),
        note="chromosome 17's GRCh38 length",
    ),
    Case("svlen_dup", "5 <DUP> with SVLEN and no END", _svlen_dup, events=1),
    Case(
        "duplicate",
        "6 the same record twice",
        _duplicate,
        ("p.L755S",),
        flags=("duplicate_record",),
    ),
    Case(
        "latin1",
        "8 non-UTF-8 bytes in INFO and sample name",
        _latin1,
        ("p.L755S",),
        note="non_utf8_replaced",
    ),
    Case("formula", "11 formula-like sample name and FILTER", _formula, ("p.L755S",)),
]


def write_case(case: Case, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return case.write(folder)
