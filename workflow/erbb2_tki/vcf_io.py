"""Read any caller's VCF: open it safely, find its build and its tumour column, read VAF and depth.

Cores receive VCFs from every caller and every year, and the peers of this tool break on them in
documented ways (a '*' allele, Manta breakends, VAF only in a caller-specific field). This module
is the one place that knows those dialects. It never guesses: when the header does not say which
build or which column is the tumour, the user is told what is missing and what to pass instead.

Everything a user can get wrong is raised as InputError naming the file and the fix.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import struct
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cyvcf2

from .contigs import is_chr17_name, primary_name
from .errors import InputError

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

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


# --------------------------------------------------------------------------------------------
# Opening
# --------------------------------------------------------------------------------------------


def sniff(path: str | os.PathLike[str]) -> str:
    """What kind of file this is: 'bgzf', 'gzip' or 'plain' (by its first bytes, not its name).

    Raises InputError for a missing, unreadable or empty file.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(
            "the file does not exist",
            path=str(p),
            fix="check the path (in the sample sheet's vcf column or on the command line); "
            "relative paths are read from the working directory",
        )
    if not p.is_file():
        raise InputError("this is not a regular file", path=str(p), fix="give the VCF file itself")
    try:
        with open(p, "rb") as handle:
            head = handle.read(18)
    except OSError as err:
        raise InputError(
            f"the file cannot be read ({err.strerror})",
            path=str(p),
            fix="check the file's permissions",
        ) from None
    if not head:
        raise InputError(
            "the file is empty (0 bytes)",
            path=str(p),
            fix="re-export the VCF from the caller; a VCF without calls still has a header",
        )
    if head[:2] == b"\x1f\x8b":
        if (
            len(head) >= 18
            and head[3] & 4
            and head[10:12] == b"\x06\x00"
            and head[12:14] == b"BC"
            and head[14:16] == b"\x02\x00"
        ):
            return "bgzf"
        return "gzip"
    return "plain"


def check_bgzf_complete(path: str | os.PathLike[str]) -> None:
    """Raise InputError unless the BGZF file ends with its end-of-file block and no block is cut.

    A copy that stopped early still opens and reads "successfully" up to the cut, losing calls
    without a word; htslib only warns. The block-header walk is cheap (reads 18 bytes per block)
    and runs only when the end-of-file marker is missing.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        if size >= len(BGZF_EOF):
            handle.seek(size - len(BGZF_EOF))
            if handle.read() == BGZF_EOF:
                return
        offset = 0
        while offset < size:
            handle.seek(offset)
            head = handle.read(18)
            if len(head) < 18 or head[:4] != b"\x1f\x8b\x08\x04" or head[12:14] != b"BC":
                break
            block_size = struct.unpack_from("<H", head, 16)[0] + 1
            offset += block_size
        cut = offset != size
    raise InputError(
        "the bgzipped file is truncated (it has no BGZF end-of-file block"
        + (" and its last block is cut short)" if cut else ")"),
        path=str(path),
        fix="copy the file again from its source (the copy stopped early) or re-compress the "
        "complete VCF with `bgzip`",
    )


_HEAD_READ = 1 << 16  # compressed bytes read at a time while looking for the #CHROM line
_HEAD_LIMIT = 1 << 26  # stop looking after 64 MB of text (htslib judges such a file itself)


def _head_complete(buf: bytearray, scanned: int) -> bool:
    """True once `buf` holds everything the header checks need.

    That is: the whole #CHROM line, or a line that is not a header line (a record before any
    #CHROM line, or not a VCF at all), or a BCF magic, or binary data. `scanned` is how far
    earlier calls looked, so a long header is searched once, not once per chunk.
    """
    if not buf:
        return False
    if buf[0] != 35 or buf.startswith(b"BCF") or b"\x00" in buf[:4096]:  # 35: '#'
        return True
    chrom = 0 if buf.startswith(b"#CHROM") else buf.find(b"\n#CHROM", max(scanned - 7, 0))
    if chrom >= 0:
        return buf.find(b"\n", chrom + 1) >= 0
    at = buf.find(b"\n", max(scanned - 1, 0))
    while 0 <= at < len(buf) - 1:
        if buf[at + 1] != 35:
            return True
        at = buf.find(b"\n", at + 1)
    return len(buf) >= _HEAD_LIMIT


def _decompressed_head(path: Path, kind: str) -> bytes:
    """The file's text from its start through the #CHROM line (see _head_complete).

    Read and inflated a chunk at a time, so a WES or WGS VCF costs a few BGZF blocks here,
    not a megabyte; InputError on corrupt gzip.
    """
    out = bytearray()
    scanned = 0
    if kind == "bgzf":
        head = _bgzf_head(path)
        if head is not None:
            return head
    with open(path, "rb") as handle:
        if kind == "plain":
            while raw := handle.read(_HEAD_READ):
                out += raw
                if _head_complete(out, scanned):
                    break
                scanned = len(out)
            return bytes(out)
        d = zlib.decompressobj(31)
        try:
            while raw := handle.read(_HEAD_READ):
                data = raw
                while data:
                    out += d.decompress(data)
                    if d.eof:
                        data = d.unused_data
                        d = zlib.decompressobj(31)
                    else:
                        data = b""
                if _head_complete(out, scanned):
                    break
                scanned = len(out)
        except zlib.error as err:
            raise InputError(
                f"the file is not valid gzip ({err})",
                path=str(path),
                fix="the file is damaged or not gzip-compressed despite its name; copy it again or "
                "re-compress the VCF with `bgzip`",
            ) from None
    return bytes(out)


def _bgzf_head(path: Path) -> bytes | None:
    """_decompressed_head of a BGZF file, one block at a time (a WES header is one or two
    blocks); None when a block is not BGZF, so the caller reads it as plain gzip members."""
    out = bytearray()
    scanned = 0
    with open(path, "rb") as handle:
        buf = handle.read(_HEAD_READ)
        at = 0
        while at < len(buf):
            found = bgzf_block(buf, at)
            if found is None or at + found[0] > len(buf):
                if found is None and len(buf) - at >= _HEAD_READ:
                    return None  # not a BGZF block header
                more = handle.read(_HEAD_READ)
                if not more:
                    return None  # let the gzip reader judge the rest
                buf = buf[at:] + more
                at = 0
                continue
            data, size = inflate_block(path, buf, at)
            at += size
            out += data
            if _head_complete(out, scanned):
                break
            scanned = len(out)
    return bytes(out)


def write_bgzf(path: str | os.PathLike[str], data: bytes, level: int = 6) -> None:
    """Write `data` as a BGZF file (blocks of at most 0xff00 bytes, then the end-of-file block).

    For outputs of a few kilobytes: zlib in this process is ~4x faster than opening an htslib
    BGZF writer. Deterministic (MTIME 0), readable by htslib, bgzip and gzip.
    """
    with open(path, "wb") as handle:
        for at in range(0, len(data), 0xFF00):
            handle.write(_bgzf_blocks(data[at : at + 0xFF00], level))
        handle.write(BGZF_EOF)


def _bgzf_blocks(chunk: bytes, level: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    deflated = packer.compress(chunk) + packer.flush()
    size = 18 + len(deflated) + 8
    if size > 65536:  # incompressible data grew past one block: halve it
        half = len(chunk) // 2
        return _bgzf_blocks(chunk[:half], level) + _bgzf_blocks(chunk[half:], level)
    head = struct.pack("<4BIBBH2BHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, size - 1)
    return head + deflated + struct.pack("<II", zlib.crc32(chunk), len(chunk))


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


def _open_with_fileformat(path: Path, kind: str) -> cyvcf2.VCF:
    """Open a VCF that lacks its ##fileformat line through a corrected temporary copy.

    htslib refuses such files, though everything else may be fine (hand-made or old exports).
    The copy is unlinked as soon as htslib holds it open, so nothing is left behind.
    """
    fd, tmp = tempfile.mkstemp(prefix="erbb2-tki-", suffix=".vcf")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(b"##fileformat=VCFv4.2\n")
            for chunk in iter_text(path, kind):
                out.write(chunk)
        return cyvcf2.VCF(tmp)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def iter_text(path: str | os.PathLike[str], kind: str, chunk: int = 1 << 22) -> Iterator[bytes]:
    """Yield the decompressed bytes of a plain, gzip or BGZF file in chunks of about `chunk`.

    Memory stays bounded whatever the file size. InputError when the compressed stream is
    corrupt or ends early (a truncated copy must never read as a shorter VCF).
    """
    if kind == "bgzf":
        yield from iter_bgzf(path, chunk)
        return
    with open(path, "rb") as handle:
        if kind == "plain":
            while data := handle.read(chunk):
                yield data
            return
        d = zlib.decompressobj(31)
        in_member = False
        try:
            while raw := handle.read(max(chunk // 8, 1 << 16)):  # ~chunk bytes once inflated
                data = raw
                while data:
                    out = d.decompress(data)
                    in_member = True
                    if out:
                        yield out
                    if d.eof:
                        data = d.unused_data
                        d = zlib.decompressobj(31)
                        in_member = False
                    else:
                        data = b""
        except zlib.error as err:
            raise InputError(
                f"the compressed data is corrupt ({err})",
                path=str(path),
                fix="copy the file again from its source or re-compress the VCF with `bgzip`",
            ) from None
        if in_member:
            raise InputError(
                "the gzip file is truncated (its compressed data ends early)",
                path=str(path),
                fix="copy the file again from its source (the copy stopped early) or "
                "re-compress the complete VCF with `bgzip`",
            )


def bgzf_block(buf: bytes | memoryview, at: int) -> tuple[int, int] | None:
    """(block size, deflate data start) of a BGZF block header at `at`, or None if not one."""
    if len(buf) - at < 18:
        return None
    if buf[at] != 0x1F or buf[at + 1] != 0x8B or buf[at + 2] != 8 or not buf[at + 3] & 4:
        return None
    xlen = buf[at + 10] | (buf[at + 11] << 8)
    p = at + 12
    stop = p + xlen
    if len(buf) < stop:
        return None
    while p + 4 <= stop:
        slen = buf[p + 2] | (buf[p + 3] << 8)
        if buf[p] == 66 and buf[p + 1] == 67 and slen == 2 and p + 6 <= stop:
            return (buf[p + 4] | (buf[p + 5] << 8)) + 1, stop
        p += 4 + slen
    return None


def inflate_block(
    path: str | os.PathLike[str], buf: bytes | memoryview, at: int
) -> tuple[bytes, int]:
    """(decompressed data, block size) of the BGZF block at `at` in `buf`; checks CRC and size."""
    found = bgzf_block(buf, at)
    if found is None:
        raise _corrupt(path, "a BGZF block header is damaged")
    size, data_start = found
    if len(buf) < at + size:
        raise _corrupt(path, "a BGZF block is cut short")
    crc, isize = struct.unpack_from("<II", buf, at + size - 8)
    try:
        data = zlib.decompress(buf[data_start : at + size - 8], -15)
    except zlib.error as err:
        raise _corrupt(path, f"a BGZF block does not decompress ({err})") from None
    if len(data) != isize or zlib.crc32(data) != crc:
        raise _corrupt(path, "a BGZF block fails its checksum")
    return data, size


def _corrupt(path: str | os.PathLike[str], what: str) -> InputError:
    return InputError(
        f"the bgzipped file is corrupt: {what}",
        path=str(path),
        fix="copy the file again from its source or re-compress the VCF with `bgzip`",
    )


def iter_bgzf(
    path: str | os.PathLike[str], chunk: int = 1 << 22, start: int = 0
) -> Iterator[bytes]:
    """Decompress a BGZF file block by block from compressed offset `start`.

    Faster than a generic gzip reader on BGZF (no copy of the remaining input per member) and it
    checks every block's CRC, so a damaged file is an InputError, not a short answer.
    """
    with open(path, "rb") as handle:
        handle.seek(start)
        pending = b""
        while True:
            raw = handle.read(chunk)
            buf = pending + raw if pending else raw
            view = memoryview(buf)
            at = 0
            out = []
            while at < len(buf):
                found = bgzf_block(view, at)
                if found is None:
                    if raw and len(buf) - at < 18:
                        break  # the header continues in the next read
                    if raw or len(buf) - at >= 18:
                        raise _corrupt(path, "a BGZF block header is damaged")
                    raise _truncated(path)
                if at + found[0] > len(buf):
                    if raw:
                        break
                    raise _truncated(path)
                data, size = inflate_block(path, view, at)
                out.append(data)
                at += size
            pending = bytes(view[at:])
            view.release()
            if out:
                yield b"".join(out)
            if not raw:
                return


def _truncated(path: str | os.PathLike[str]) -> InputError:
    return InputError(
        "the bgzipped file is truncated (its last block is cut short)",
        path=str(path),
        fix="copy the file again from its source (the copy stopped early) or re-compress the "
        "complete VCF with `bgzip`",
    )


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


def open_vcf(path: str | os.PathLike[str]) -> cyvcf2.VCF:
    """Open a VCF (.vcf, .vcf.gz from bgzip or gzip, .bcf), with or without samples.

    Checks what htslib does not say clearly (missing, empty, truncated, not a VCF, no #CHROM
    line, spaces for tabs, duplicate sample names) and raises InputError naming the file and the
    fix. CRLF line endings are read by htslib itself; a header without any '##' line is opened
    through a corrected temporary copy.
    """
    p = Path(path)
    kind, head = _checked_head(p)
    try:
        if not head.startswith(b"BCF") and _without_fileformat(head):
            return _open_with_fileformat(p, kind)
        return cyvcf2.VCF(str(p))
    except InputError:
        raise
    except Exception as err:  # htslib reports every failure as a bare Exception or OSError
        raise _htslib_error(p, err) from None


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


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Tumour sample
# --------------------------------------------------------------------------------------------

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


def _header_hints(
    lines: list[str], samples: list[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(tumour hints, normal hints) as (sample name, why) from the header's conventions."""
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


# --------------------------------------------------------------------------------------------
# Per-sample metrics
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleMetrics:
    """What the caller says about one ALT in one sample, in the caller's own fields."""

    genotype: str = ""  # as written: "0/1", "0|1", "./.", "1"; "" when there is no GT
    vaf: float | None = None
    depth: int | None = None
    alt_depth: int | None = None
    phased: bool = False
    phase_set: str | None = None  # PS (or GATK PID); "." = phased GT without PS (one set)
    haplotypes: tuple[int, ...] = ()  # haplotype indices (0-based) that carry this ALT
    vaf_source: str = ""  # e.g. "FORMAT/AF", "AD", "FREQ", "strelka_tier1"
    depth_source: str = ""

    def as_row(self) -> dict[str, Any]:
        return {
            "genotype": self.genotype,
            "vaf": self.vaf,
            "depth": self.depth,
            "alt_depth": self.alt_depth,
            "phased": self.phased,
            "phase_set": self.phase_set,
            "haplotypes": ",".join(map(str, self.haplotypes)),
            "vaf_source": self.vaf_source,
            "depth_source": self.depth_source,
        }


def _number(text: str) -> float | None:
    text = text.strip()
    if text in ("", "."):
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _numbers(text: str | None) -> list[float | None] | None:
    if text is None:
        return None
    return [_number(t) for t in text.split(",")]


def _int(value: float | None) -> int | None:
    return None if value is None else round(value)


def _pick_a(values: list[float | None] | None, alt_index: int, n_alt: int) -> float | None:
    """One value of a Number=A field for this ALT (alt_index is 1-based)."""
    if not values:
        return None
    if len(values) == n_alt:
        return values[alt_index - 1]
    return None


def _percent(text: str | None) -> float | None:
    if text is None:
        return None
    text = text.strip()
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1], 100.0
    value = _number(text)
    return None if value is None else value / scale


def _sample_fields(variant: Any, sample_index: int) -> dict[str, str]:
    line = str(variant).rstrip("\r\n").split("\t")
    if len(line) < 10 or sample_index + 9 >= len(line):
        return {}
    keys = line[8].split(":")
    values = line[9 + sample_index].split(":")
    return {k: (values[i] if i < len(values) else ".") for i, k in enumerate(keys)}


def _genotype_phase(
    fields: dict[str, str], alt_index: int
) -> tuple[str, bool, str | None, tuple[int, ...]]:
    gt = fields.get("GT", "")
    # VCF 4.4 may prefix the first allele with its own phase marker.
    gt_body = gt[1:] if gt.startswith(("|", "/")) else gt
    alleles = re.split(r"[/|]", gt_body) if gt_body else []
    called = [a for a in alleles if a not in (".", "")]
    code = str(alt_index)
    if len(alleles) > 1 and "/" not in gt_body and called:
        ps = fields.get("PS", ".")
        phase_set = ps if ps not in ("", ".") else "."
        haps = tuple(i for i, a in enumerate(alleles) if a == code)
        return gt, True, phase_set, haps
    pgt = fields.get("PGT", "")
    pid = fields.get("PID", "")
    if "|" in pgt and pid not in ("", "."):
        pgt_alleles = pgt.split("|")
        haps = tuple(i for i, a in enumerate(pgt_alleles) if a == code)
        return gt, True, pid, haps
    return gt, False, None, ()


def sample_metrics(variant: Any, sample_index: int, alt_index: int) -> SampleMetrics:
    """Genotype, VAF, depth, ALT depth and phase of one sample for one ALT (1-based, as in GT).

    Read from the caller's own fields, first that applies: FORMAT AF (Number=A), VAF
    (DeepVariant/DeepSomatic), FA (MuTect 1), FREQ "48.7%" (VarScan2); else from counts: AD
    (Number=R: ref + each ALT; VarScan2's Number=1 AD with RD), AO/RO (FreeBayes), Strelka's
    tier-1 counts (SNV: {REF,ALT}U; indel: TAR/TIR). Depth is DP, else the sum of the counts.
    Unreadable values count as missing: the record is still named and listed.
    """
    fields = _sample_fields(variant, sample_index)
    alts = list(variant.ALT)
    n_alt = len(alts)
    gt, phased, phase_set, haps = _genotype_phase(fields, alt_index)
    if not fields or not 1 <= alt_index <= max(n_alt, 1):
        return SampleMetrics(genotype=gt, phased=phased, phase_set=phase_set, haplotypes=haps)

    vaf: float | None = None
    vaf_source = ""
    depth: int | None = None
    depth_source = ""
    alt_depth: int | None = None
    count_total: float | None = None
    ad_over_dp = False

    dp = _number(fields["DP"]) if "DP" in fields else None
    if dp is not None:
        depth, depth_source = _int(dp), "DP"

    # Allele counts.
    ad = _numbers(fields.get("AD"))
    if ad is not None:
        if "RD" in fields and len(ad) == n_alt:  # VarScan2: AD = ALT reads, RD = REF reads
            alt_depth = _int(ad[alt_index - 1])
            rd = _number(fields["RD"])
            if alt_depth is not None and rd is not None:
                count_total = rd + sum(v for v in ad if v is not None)
        elif len(ad) == n_alt + 1:
            alt_depth = _int(ad[alt_index])
            if alt_depth is not None and all(v is not None for v in ad):
                count_total = sum(v for v in ad if v is not None)
            elif alt_depth is not None and dp:
                count_total, ad_over_dp = dp, True  # a count is missing: fall back on DP
    if alt_depth is None and "AO" in fields:
        ao = _numbers(fields["AO"])
        picked = _pick_a(ao, alt_index, n_alt)
        if picked is not None:
            alt_depth = _int(picked)
            ro = _number(fields.get("RO", "."))
            if ro is not None and ao is not None and all(v is not None for v in ao):
                count_total = ro + sum(v for v in ao if v is not None)
            elif dp is not None:
                count_total = dp
    strelka = _strelka_counts(fields, variant.REF, alts, alt_index)
    if alt_depth is None and strelka is not None:
        alt_depth, count_total = _int(strelka[0]), strelka[1]
    if depth is None and count_total is not None:
        depth, depth_source = _int(count_total), "allele counts"

    # Allele fraction: the caller's own estimate first.
    for key, label in (("AF", "FORMAT/AF"), ("VAF", "FORMAT/VAF"), ("FA", "FORMAT/FA")):
        if key in fields:
            picked = _pick_a(_numbers(fields[key]), alt_index, n_alt)
            if picked is not None:
                vaf, vaf_source = picked, label
                break
    if vaf is None and "FREQ" in fields and n_alt == 1:
        vaf = _percent(fields["FREQ"])
        vaf_source = "FORMAT/FREQ" if vaf is not None else ""
    if vaf is None and alt_depth is not None and count_total:
        vaf = alt_depth / count_total
        if strelka is not None and ad is None and "AO" not in fields:
            vaf_source = strelka[2]
        elif ad is not None:
            vaf_source = "AD/RD" if "RD" in fields else ("AD/DP" if ad_over_dp else "AD")
        else:
            vaf_source = "AO/RO" if "RO" in fields else "AO/DP"
    return SampleMetrics(
        genotype=gt,
        vaf=vaf,
        depth=depth,
        alt_depth=alt_depth,
        phased=phased,
        phase_set=phase_set,
        haplotypes=haps,
        vaf_source=vaf_source,
        depth_source=depth_source,
    )


def _strelka_counts(
    fields: dict[str, str], ref: str, alts: list[str], alt_index: int
) -> tuple[float, float, str] | None:
    """(ALT reads, REF+ALT reads, source) from Strelka's tier-1 counts, or None."""
    alt = alts[alt_index - 1].upper() if alts else ""
    ref = ref.upper()
    if len(ref) == 1 and len(alt) == 1 and f"{ref}U" in fields and f"{alt}U" in fields:

        def tier1(base: str) -> float | None:
            values = _numbers(fields.get(f"{base}U"))
            return values[0] if values else None

        ref_count = tier1(ref)
        alt_counts = [tier1(a.upper()) for a in alts if len(a) == 1 and a.upper() in "ACGT"]
        this = tier1(alt)
        if ref_count is None or this is None or any(c is None for c in alt_counts):
            return None
        return this, ref_count + sum(c for c in alt_counts if c is not None), "strelka_tier1_SNV"
    if "TIR" in fields and "TAR" in fields and len(alts) == 1:
        tir = _numbers(fields["TIR"])
        tar = _numbers(fields["TAR"])
        if tir and tar and tir[0] is not None and tar[0] is not None:
            return tir[0], tir[0] + tar[0], "strelka_tier1_indel"
    return None


# --------------------------------------------------------------------------------------------
# Allele kinds and structural events
# --------------------------------------------------------------------------------------------


def classify_alt(ref: str, alt: str) -> str:
    """'small' | 'symbolic' | 'breakend' | 'ref_block' | 'star' | 'missing' for one ALT.

    Only 'small' alleles are named on the transcript; the others are recognised so they are
    reported (structural events) or counted (reference blocks, '*' overlaps), never misnamed.
    """
    alt = alt.strip()
    if alt in ("", "."):
        return "missing"
    if alt == "*":
        return "star"
    if alt.upper() in ("<*>", "<NON_REF>", "<X>"):
        return "ref_block"
    if alt.startswith("<") and alt.endswith(">"):
        return "symbolic"
    if "[" in alt or "]" in alt or (len(alt) > 1 and (alt.startswith(".") or alt.endswith("."))):
        return "breakend"
    if "<" in alt:  # e.g. a contig-insertion assembly like C<ctg1>
        return "symbolic"
    return "small"


@dataclass(frozen=True)
class StructuralEvent:
    """A symbolic or breakend allele that touches ERBB2: reported apart from the mutations."""

    chrom: str
    pos: int
    end: int
    ref: str
    alt: str
    svtype: str
    copy_number: float | None
    event: str  # possible_amplification_or_structural_event | possible_structural_event
    description: str

    def as_row(self) -> dict[str, Any]:
        return {
            "chrom": self.chrom,
            "pos": self.pos,
            "end": self.end,
            "ref": self.ref,
            "alt": self.alt,
            "svtype": self.svtype,
            "copy_number": self.copy_number,
            "event": self.event,
        }


def _is_chr17(name: str) -> bool:
    return is_chr17_name(name)  # chr17, 17, Chr17, NC_000017.10/.11, CM000679.1/.2


def _info_text(variant: Any, key: str) -> str | None:
    try:
        value = variant.INFO.get(key)
    except Exception:  # htslib type mismatch on a malformed value
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def structural_event(
    variant: Any,
    alt_index: int,
    region: tuple[int, int],
    sample_index: int | None = None,
) -> StructuralEvent | None:
    """The structural event of one symbolic/breakend ALT (1-based) if it overlaps `region`.

    `region` is (start, end), 1-based inclusive, on chromosome 17 (erbb2_region(build)). A
    <DUP>, <DUP:TANDEM> or a <CNV>/<DEL>/<DUP> with copy number > 2 is a "possible ERBB2
    amplification or structural event"; other SVs touching ERBB2 (deletion, inversion,
    insertion, breakend, copy-number loss) are "possible structural event". Copy number comes
    from INFO CN, else FORMAT CN of `sample_index` (or of the only sample). Small alleles and
    reference blocks are not events.
    """
    alts = list(variant.ALT)
    if not 1 <= alt_index <= len(alts):
        return None
    alt = alts[alt_index - 1]
    kind = classify_alt(variant.REF, alt)
    if kind not in ("symbolic", "breakend"):
        return None
    start, end = region
    chrom = str(variant.CHROM)
    pos = int(variant.POS)
    svtype = (_info_text(variant, "SVTYPE") or "").upper()
    if kind == "symbolic":
        inner = alt.strip("<>").upper()
        svtype = svtype or inner.split(":")[0]
        ev_end = _int(_number(_info_text(variant, "END") or "."))
        if ev_end is None:
            svlen = _numbers(_info_text(variant, "SVLEN"))
            length = svlen[0] if svlen and len(svlen) == 1 else None
            ev_end = pos + abs(int(length)) if length is not None else pos
        touches = _is_chr17(chrom) and pos <= end and ev_end >= start
    else:
        inner = "BND"
        svtype = svtype or "BND"
        ev_end = pos
        mate = re.search(r"[\[\]]([^\[\]:]+):(\d+)[\[\]]", alt)
        here = _is_chr17(chrom) and start <= pos <= end
        there = bool(mate) and _is_chr17(mate.group(1)) and start <= int(mate.group(2)) <= end
        touches = here or there
        if mate:
            ev_end = int(mate.group(2)) if _is_chr17(mate.group(1)) else pos
    if not touches:
        return None

    copy_number = _copy_number(variant, sample_index)
    gain_type = inner.startswith("DUP") or svtype.startswith("DUP") or inner.startswith("AMP")
    if copy_number is not None:
        gain = copy_number > 2 and not inner.startswith("DEL")
        if inner.startswith("DUP") and copy_number <= 2:
            gain = False
    else:
        gain = gain_type
    if gain:
        event = "possible_amplification_or_structural_event"
        description = "possible ERBB2 amplification or structural event"
    else:
        event = "possible_structural_event"
        description = f"possible ERBB2 structural event ({svtype or inner})"
    return StructuralEvent(
        chrom=chrom,
        pos=pos,
        end=max(ev_end, pos) if kind == "symbolic" else ev_end,
        ref=str(variant.REF),
        alt=alt,
        svtype=svtype or inner,
        copy_number=copy_number,
        event=event,
        description=description,
    )


def _copy_number(variant: Any, sample_index: int | None) -> float | None:
    value = _number(_info_text(variant, "CN") or ".")
    if value is not None and value >= 0:
        return value
    n_samples = len(variant.gt_types) if hasattr(variant, "gt_types") else 0
    index = sample_index if sample_index is not None else (0 if n_samples == 1 else None)
    if index is None:
        return None
    fields = _sample_fields(variant, index)
    value = _number(fields.get("CN", "."))
    return value if value is not None and value >= 0 else None
