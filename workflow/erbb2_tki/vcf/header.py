"""The VCF header: checked without htslib, with the messages htslib does not give.

read_header returns the header through the #CHROM line (VcfHead) at the cost of a few BGZF
blocks; the checks (not a VCF, no #CHROM line, spaces for tabs, duplicate samples) are
shared with reader.open_vcf.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .bgzf import _decompressed_head, check_bgzf_complete, sniff


def _header_problem(text: bytes, path: Path) -> InputError | None:
    """A precise message for the header problems htslib reports only as 'cannot parse'."""
    if text.startswith(b"BCF"):
        return None
    if b"\x00" in text[:4096]:
        return InputError(
            "this is not a VCF (it contains binary data)",
            path=str(path),
            fix="give a VCF (.vcf, .vcf.gz or .bcf) written by a variant caller",
        )
    first = text.split(b"\n", 1)[0].rstrip(b"\r")
    if not first.startswith(b"#"):
        shown = first[:60].decode("utf-8", "replace")
        return InputError(
            f"this is not a VCF: its first line is {shown!r}, not a '##fileformat=VCF' or "
            "'#CHROM' header line",
            path=str(path),
            record="line 1",
            fix="give a VCF (.vcf, .vcf.gz or .bcf) written by a variant caller",
        )
    for number, line in enumerate(text.split(b"\n"), start=1):
        line = line.rstrip(b"\r")
        if line.startswith(b"#CHROM"):
            fields = line.split(b"\t")
            expected = [b"#CHROM", b"POS", b"ID", b"REF", b"ALT", b"QUAL", b"FILTER", b"INFO"]
            if fields[:8] != expected:
                return InputError(
                    "the #CHROM header line does not have the eight tab-separated VCF columns "
                    "(#CHROM POS ID REF ALT QUAL FILTER INFO)",
                    path=str(path),
                    record=f"line {number}",
                    fix="separate the header columns with tabs, not spaces",
                )
            samples = [s.decode("utf-8", "replace") for s in fields[9:]]
            if len(fields) > 8 and fields[8] != b"FORMAT":
                return InputError(
                    "the ninth header column must be FORMAT when there are sample columns",
                    path=str(path),
                    record=f"line {number}",
                    fix="restore the FORMAT column in the header",
                )
            duplicates = sorted({s for s in samples if samples.count(s) > 1})
            if duplicates:
                return InputError(
                    f"sample column name(s) {', '.join(duplicates)} appear more than once",
                    path=str(path),
                    record=f"line {number}",
                    fix="give every sample column a unique name (bcftools reheader -s)",
                )
            return None
        if not line.startswith(b"#"):
            return InputError(
                "the header has no #CHROM line before the first record",
                path=str(path),
                record=f"line {number}",
                fix="add the '#CHROM POS ID REF ALT QUAL FILTER INFO [FORMAT samples]' line "
                "(tab-separated) at the end of the header",
            )
    return None  # header longer than the sniffed part: htslib checks the rest


def _without_fileformat(text: bytes) -> bool:
    return not text.startswith(b"##fileformat=")


def _checked_head(p: Path) -> tuple[str, bytes]:
    """(kind, text through the #CHROM line) after every check htslib does not word clearly."""
    kind = sniff(p)
    if kind == "bgzf":
        check_bgzf_complete(p)
    head = _decompressed_head(p, kind)
    if not head:
        raise InputError(
            "the file is empty once decompressed",
            path=str(p),
            fix="re-export the VCF from the caller; a VCF without calls still has a header",
        )
    problem = _header_problem(head, p)
    if problem is not None:
        raise problem
    return kind, head


def _htslib_error(p: Path, err: Exception) -> InputError:
    return InputError(
        f"htslib cannot read this VCF ({err})",
        path=str(p),
        fix="check that the file is a complete VCF/BCF (`bcftools view -h FILE` shows what "
        "is wrong)",
    )


@dataclass(frozen=True)
class VcfHead:
    """The header of one VCF, read once and without htslib (see read_header).

    It has `raw_header` and `samples` like a cyvcf2.VCF, so detect_build and
    choose_tumour_sample take either.
    """

    path: Path
    kind: str  # bgzf | gzip | plain (how the file is compressed; a BCF is bgzf)
    is_bcf: bool
    text: bytes  # the header lines through #CHROM, as in the file (for a BCF: htslib's text)

    @property
    def raw_header(self) -> str:
        return self.text.decode("utf-8", "replace")

    @property
    def samples(self) -> list[str]:
        last = self.text.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].rstrip(b"\r")
        return [s.decode("utf-8", "replace") for s in last.split(b"\t")[9:]]


def read_header(path: str | os.PathLike[str]) -> VcfHead:
    """The checked header of a VCF, without opening it with htslib.

    The same checks as open_vcf (missing, empty, truncated, not a VCF, #CHROM line, duplicate
    samples), at the cost of one seek for the BGZF end-of-file block and the few blocks the
    header fills. htslib's open also loads a .tbi/.csi (about 8 ms for a WES VCF), which is
    wasted when the caller queries the index itself or only needs the header. A BCF is opened
    with htslib (its header is binary-framed).
    """
    p = Path(path)
    kind, head = _checked_head(p)
    if head.startswith(b"BCF"):
        import cyvcf2  # only here: a text header is read without htslib (and numpy)

        try:
            reader = cyvcf2.VCF(str(p))
        except Exception as err:
            raise _htslib_error(p, err) from None
        try:
            return VcfHead(p, kind, True, str(reader.raw_header).encode())
        finally:
            reader.close()
    chrom = 0 if head.startswith(b"#CHROM") else head.find(b"\n#CHROM") + 1
    if chrom == 0 and not head.startswith(b"#CHROM"):
        raise InputError(
            "the header has no #CHROM line",
            path=str(p),
            fix="add the '#CHROM POS ID REF ALT QUAL FILTER INFO [FORMAT samples]' line "
            "(tab-separated)",
        )
    nl = head.find(b"\n", chrom)
    text = head[: nl + 1] if nl >= 0 else head + b"\n"  # #CHROM may end the file unterminated
    return VcfHead(p, kind, False, text)
