"""Pull the ERBB2 region out of one VCF, as fast as its file allows, and never a wrong answer.

The work per sample is a few dozen records in a ~50-kb region, so the cost is all in finding
them. Methods, fastest first:

- index: a .tbi/.csi beside the file (and not older than it) -> a tabix/htslib region query;
- bisection: a sorted bgzipped VCF without an index. BGZF blocks decompress independently, so a
  binary search over block offsets (first complete record of a block, compared by the header's
  ##contig order and position) finds chr17 in a few dozen block reads;
- stream: plain text, plain gzip, BCF without index, an unindexed bgzipped file not declared
  sorted, or anything bisection cannot trust (no ##contig order, a record out of order, a
  contig the header does not declare). The text is inflated by ISA-L (BGZF blocks on a few
  threads, bgzf.py) while one regular-expression pass per chunk finds the lines of chromosome 17
  under every spelling contigs.py accepts; only those lines are parsed, and other contigs'
  lines cost no Python work.

Which records are "in the region": chromosome 17 (any spelling contigs.py accepts) and overlapping
[start, end] by their reference span, POS..END where END is INFO END when present, else
POS + len(REF) - 1. This is tabix's rule, so all three methods agree; it keeps a gVCF <*> block
or a large <DUP> that starts before the region and reaches into it (a DUP over ERBB2 is exactly
the possible amplification the report must show). The naming layer filters later.

The output is a bgzipped VCF with the original header (line endings normalised to LF) plus one
##erbb2_tki_extract line, then the region's records byte for byte in file order (sorted by
position if the input was not); written atomically. It has no .tbi: annotation reads it from
start to end, and a few dozen records need no index.

Cost per indexed WES VCF (~50k records) is about that of the index query: the header is read
once (a few BGZF blocks, no htslib open, which would load the index a second time), the index
is loaded once by pysam, and the output is written in one bgzip pass and read back once.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import __version__, fileio
from ..errors import InputError
from ..naming.transcript import load_transcript
from . import bgzf as vcf_bgzf
from . import builds as vcf_builds
from . import header as vcf_header
from . import reader as vcf_reader
from .bisection import _bisect_text, _contig_ranks, _Unsorted
from .span import _record_span
from .span import svlen_span as svlen_span  # annotate.py reads it from here

CHR17_NAMES = ("chr17", "17")
NEWLINE = b"\n"


@dataclass(frozen=True)
class ExtractResult:
    """What extract_sample did: the build it used and how it found the records."""

    build: str
    build_source: str
    method: str  # index | bisection | stream
    n_records: int
    contig: str | None  # chr17 or 17 as spelled in the file; None when the file has neither
    note: str = ""  # why a faster method was not used, or what was normalised
    region: tuple[int, int] = (0, 0)  # (start, end) read, 1-based inclusive: span + padding

    @property
    def region_text(self) -> str:
        """'start-end', as the extract status records it (annotation reads it back)."""
        return f"{self.region[0]}-{self.region[1]}"


def parse_region(text: str) -> tuple[int, int] | None:
    """(start, end) from ExtractResult.region_text; None for '' (an older status file)."""
    if not text:
        return None
    start, _, end = text.partition("-")
    return int(start), int(end)


def erbb2_region(build: str, padding: int = 5000) -> tuple[int, int]:
    """(start, end), 1-based inclusive on chromosome 17: the NM_004448.4 span plus `padding`.

    The padding keeps promoter, up/downstream and splice-site calls at the transcript's ends.
    """
    return _region(vcf_builds.normalise_build(build), padding)


@functools.lru_cache(maxsize=8)
def _region(build: str, padding: int) -> tuple[int, int]:
    """Cached: a shard job asks for the same region once per sample."""
    start, end = load_transcript().span(build)
    return max(1, start - padding), end + padding


# --------------------------------------------------------------------------------------------
# Streaming (plain text, gzip, BGZF fallback)
# --------------------------------------------------------------------------------------------


def _split_header(chunks: Iterator[bytes], where: str) -> tuple[bytes, bytes, int]:
    """(header up to and including the #CHROM line, the text after it, header line count)."""
    buf = b""
    for chunk in chunks:
        if not chunk:
            continue  # an empty BGZF block (htslib writes some) or an empty read
        buf += chunk
        idx = 0 if buf.startswith(b"#CHROM") else buf.find(b"\n#CHROM")
        if idx >= 0:
            nl = buf.find(b"\n", idx + 1)
            if nl >= 0:
                header = buf[: nl + 1]
                return header, buf[nl + 1 :], header.count(b"\n")
        elif not buf.startswith(b"#") or re.search(rb"\n[^#]", buf):
            break
    if buf.startswith(b"#CHROM") or b"\n#CHROM" in buf:  # #CHROM is the last line, no newline
        header = buf if buf.endswith(b"\n") else buf + b"\n"
        return header, b"", header.count(b"\n")
    raise InputError(
        "the header has no #CHROM line",
        path=where,
        fix="add the '#CHROM POS ID REF ALT QUAL FILTER INFO [FORMAT samples]' line (tab-separated)",
    )


@functools.lru_cache(maxsize=16)
def _line_pattern(names: frozenset[bytes]) -> re.Pattern[bytes]:
    """A newline, then one of `names` and a tab (a record on chromosome 17), then its POS field.

    One regular-expression pass finds every spelling at once; the regex engine skips from
    newline to newline in C, so lines of other contigs cost no Python work at all.
    """
    words = sorted(names, key=lambda name: (-len(name), name))
    return re.compile(b"\n(" + b"|".join(re.escape(w) for w in words) + b")\t([^\t\n]*)")


def _stream_text(
    chunks: Iterator[bytes],
    start: int,
    end: int,
    where: str,
    names: Iterable[bytes] = (b"chr17", b"17"),
    reread: Callable[[], Iterator[bytes]] | None = None,
) -> tuple[bytes, list[bytes], set[bytes]]:
    """(header, region records, chr17 spellings seen) by scanning every line as bytes.

    Only chromosome-17 lines are looked at (one regex pass over each chunk finds them, whatever
    the spelling and wherever they are in the file), and of those only the ones whose POS could
    matter are split, so the cost stays close to that of reading (and decompressing) the file.
    Memory is bounded by the chunk size. `reread` gives the text again from the start: only
    used to name the line of a malformed record in the error.
    """
    header, rest, _ = _split_header(chunks, where)
    pattern = _line_pattern(frozenset(names))
    records: list[bytes] = []
    seen: set[bytes] = set()

    def scan(buf: bytes, begin_at: int, upto: int, base: int) -> None:
        """Region records of the lines of buf[begin_at:upto]: buf[begin_at] and buf[upto] are
        newlines; buf[0] is at offset `base` of the text."""
        for match in pattern.finditer(buf, begin_at, upto):
            name, field = match.group(1, 2)
            try:
                pos: int | None = int(field)
            except ValueError:
                pos = None
            begin = match.start() + 1
            stop = buf.find(NEWLINE, match.end(), upto + 1)
            line = buf[begin:stop]
            seen.add(name)
            if pos is not None and (
                pos > end
                or (
                    pos < start
                    and b"END=" not in line
                    and b"SVLEN=" not in line
                    and len(line) <= start - pos
                )
            ):
                continue  # cannot overlap the region: its REF is shorter than the gap
            try:
                pos, ref_end = _record_span(line, where, None)
            except InputError as err:
                err.record = _line_at(reread, base + begin)
                raise
            if pos <= end and ref_end >= start:
                records.append(line.rstrip(b"\r"))

    # `carry`: the text since the last newline scanned, that newline first (a leading newline
    # for the first line), at offset `base` - 1. Each chunk is scanned where it lies (no copy of
    # a whole chunk); only the line that straddles two chunks is joined.
    carry = b"\n" + rest
    base = len(header)
    for chunk in chunks:
        first = chunk.find(NEWLINE)
        if first < 0:
            carry += chunk
            continue
        joined = carry + chunk[: first + 1]
        scan(joined, 0, len(joined) - 1, base - 1)
        base += len(joined) - 1
        last = chunk.rfind(NEWLINE)
        if last > first:
            scan(chunk, first, last, base - first - 1)
            base += last - first
        carry = chunk[last:]
    if len(carry) > 1:
        scan(carry + NEWLINE, 0, len(carry), base - 1)
    return header, records, seen


def _line_at(reread: Callable[[], Iterator[bytes]] | None, offset: int) -> str:
    """'line N' of the text byte at `offset` (counted again from the start: errors only)."""
    if reread is None:
        return f"byte {offset + 1} of the text"
    newlines = 0
    seen = 0
    for chunk in reread():
        take = min(len(chunk), offset - seen)
        newlines += chunk.count(NEWLINE, 0, take)
        seen += take
        if seen >= offset:
            break
    return f"line {newlines + 1}"


def _iter_bcf_region(
    path: Path,
    start: int,
    end: int,
    names: set[bytes] = {b"chr17", b"17"},  # noqa: B006
) -> tuple[bytes, list[bytes], set[bytes]]:
    """BCF without an index: htslib iteration (the records are binary; there are no lines)."""
    reader = vcf_reader.open_vcf(path)
    header = str(reader.raw_header).encode()
    records: list[bytes] = []
    seen: set[bytes] = set()
    try:
        for variant in reader:
            chrom = variant.CHROM
            if chrom.encode() not in names:
                continue
            seen.add(chrom.encode())
            if variant.POS <= end and variant.end >= start:
                records.append(str(variant).rstrip("\n").encode())
    except Exception as err:
        raise InputError(
            f"htslib stopped reading the BCF ({err})",
            path=str(path),
            fix="check the file with `bcftools view FILE > /dev/null`; re-export it if damaged",
        ) from None
    finally:
        reader.close()
    return header, records, seen


# --------------------------------------------------------------------------------------------
# Index query
# --------------------------------------------------------------------------------------------


def _usable_index(
    path: Path, is_bcf: bool = False, header: bytes = b"", names: set[bytes] | None = None
) -> tuple[Path | None, str]:
    """(the .tbi/.csi beside the file that can be trusted, or None; why others were not).

    An index older than its file is stale; one that index_trust.check rejects (another file's
    index, records appended after indexing, corrupt) is not used either. Either way the reason
    goes into the sample's note and the file is read another way.
    """
    from . import index_trust

    mtime = path.stat().st_mtime
    notes = []
    for suffix in (".tbi", ".csi"):
        index = Path(str(path) + suffix)
        if not index.is_file():
            continue
        if index.stat().st_mtime < mtime:
            notes.append(f"index {index.name} ignored: it is older than the file")
            continue
        problem = index_trust.check(path, index, is_bcf, header, names or {b"chr17", b"17"})
        if problem is not None:
            notes.append(f"index {index.name} ignored: {problem}")
            continue
        return index, "; ".join(notes)
    return None, "; ".join(notes)


def _query_tabix(
    path: Path,
    index: Path,
    start: int,
    end: int,
    chr17: set[bytes] = {b"chr17", b"17"},  # noqa: B006
) -> tuple[list[bytes], set[bytes]] | None:
    import pysam

    from . import index_trust

    found = index_trust.query(path, index, start, end, chr17)  # the .tbi just checked, not reloaded
    if found is not None:
        return found
    try:
        tabix = pysam.TabixFile(str(path), index=str(index), encoding="latin-1")
    except (OSError, ValueError):
        return None  # not a tabix index after all (e.g. a BCF .csi): let the caller decide
    try:
        names = [n for n in tabix.contigs if n.encode() in chr17]
        records: list[bytes] = []
        for name in names:
            for line in tabix.fetch(name, start - 1, end):
                records.append(line.rstrip("\r\n").encode("latin-1"))
        return records, {n.encode() for n in names}
    except (OSError, ValueError):
        return None
    finally:
        tabix.close()


def _query_bcf(
    path: Path,
    start: int,
    end: int,
    chr17: set[bytes] = {b"chr17", b"17"},  # noqa: B006
) -> tuple[list[bytes], set[bytes]] | None:
    reader = vcf_reader.open_vcf(path)
    try:
        records: list[bytes] = []
        seen: set[bytes] = set()
        for name in reader.seqnames:
            if name.encode() not in chr17:
                continue
            try:
                hits = list(reader(f"{name}:{start}-{end}"))
            except Exception as err:
                raise InputError(
                    f"the BCF region query failed ({err})",
                    path=str(path),
                    fix="re-create the index with `bcftools index FILE`",
                ) from None
            seen.add(name.encode())
            try:
                records.extend(str(v).rstrip("\n").encode() for v in hits)
            except UnicodeDecodeError as err:
                raise InputError(
                    f"a chromosome-17 record of the BCF is not UTF-8 text ({err.reason})",
                    path=str(path),
                    fix="re-write the BCF from a UTF-8 VCF (bcftools view -Ob)",
                ) from None
        return records, seen
    finally:
        reader.close()


# --------------------------------------------------------------------------------------------
# extract_sample
# --------------------------------------------------------------------------------------------


def _extract_line(
    build: vcf_builds.BuildCall, contig: str | None, start: int, end: int, method: str, source: Path
) -> bytes:
    region = f"{contig or 'chr17'}:{start}-{end}"
    text = (
        f'##erbb2_tki_extract=<Version="{__version__}",Build={build.build},'
        f'BuildSource="{build.source.replace(chr(34), chr(39))}",Region={region},'
        f'Method={method},Source="{source.name.replace(chr(34), chr(39))}">\n'
    )
    return text.encode()


def _sorted_by_pos(records: list[bytes]) -> tuple[list[bytes], bool]:
    positions = [int(r.split(b"\t", 2)[1]) for r in records]
    if all(a <= b for a, b in itertools.pairwise(positions)):
        return records, False
    order = sorted(range(len(records)), key=lambda i: positions[i])
    return [records[i] for i in order], True


def extract_sample(
    vcf_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    build: str | None,
    sample: str | None = None,
    padding: int = 5000,
    assume_sorted: bool = False,
) -> ExtractResult:
    """Write the ERBB2-region records of one VCF to `out_path` (a bgzipped VCF, no index).

    The build is detected from the header and checked against `build` (sheet/config/CLI);
    `sample` only names the sample in error messages; `padding` is added on both sides of the
    transcript span (the region read is returned in the result and written in the extract's
    header). `assume_sorted`: the caller declares an unindexed bgzipped file sorted, which lets
    bisection find the region in a few block reads; without it such a file is streamed (an
    out-of-order record between two bisection probes cannot be seen without reading everything).
    Raises InputError (with the sample and file filled in) for anything wrong with the input;
    on any error nothing is left at `out_path`.
    """
    source = Path(vcf_path)
    try:
        return _extract(source, Path(out_path), build, padding, assume_sorted)
    except InputError as err:
        raise err.with_context(sample=sample, path=str(source)) from None


def _extract(
    source: Path, out: Path, declared: str | None, padding: int, assume_sorted: bool = False
) -> ExtractResult:
    from . import contigs

    where = str(source)
    # One read of the header (missing, empty, truncated, not a VCF, #CHROM line checked there);
    # it serves build detection, the ##contig order for bisection and the written header.
    head = vcf_header.read_header(source)
    build = vcf_builds.detect_build(head, where, declared)
    start, end = erbb2_region(build.build, padding)
    kind, is_bcf, header = head.kind, head.is_bcf, head.text
    chr17, contig_note = contigs.chr17_names(header, build.build, where)
    chr17 |= {name.encode() for name in contigs.ACCESSIONS}  # another build's: an error below
    notes = [contig_note] if contig_note else []
    records: list[bytes] | None = None
    seen: set[bytes] = set()
    method = "stream"

    index = None
    if kind == "bgzf":
        index, why = _usable_index(source, is_bcf, header, chr17)
        if why:
            notes.append(why)
    if index is not None:
        found = (
            _query_bcf(source, start, end, chr17)
            if is_bcf
            else _query_tabix(source, index, start, end, chr17)
        )
        if found is not None:
            records, seen = found
            method = "index"
        else:
            notes.append(f"index {index.name} could not be used")
    if records is None and is_bcf:
        header, records, seen = _iter_bcf_region(source, start, end, chr17)
        method = "stream"
    if records is None and kind == "bgzf" and assume_sorted:
        ranks = _contig_ranks(header)
        names = [n for n in ranks if n in chr17]
        if len(names) == 1:
            try:
                records, _ = _bisect_text(source, ranks, names[0], start, end)
                method = "bisection"
                seen = {names[0]}
            except _Unsorted as why:
                notes.append(f"bisection not trusted ({why}); streamed instead")
        else:
            notes.append(
                "no ##contig order with chromosome 17 in the header; streamed"
                if not names
                else "chromosome 17 under two names in the header; streamed"
            )
    if records is None:
        header, records, seen = _stream_text(
            vcf_bgzf.iter_text(source, kind),
            start,
            end,
            where,
            chr17,
            reread=lambda: vcf_bgzf.iter_text(source, kind, threads=1),
        )
        method = "stream"
    for name in sorted(seen):
        contigs.check_build(name.decode("utf-8", "replace"), build.build, where)
    records, resorted = _sorted_by_pos(records)
    if resorted:
        notes.append("region records were out of order and were sorted")
    contig = _contig_name(seen, header, chr17)
    line = _extract_line(build, contig, start, end, method, source)
    notes += _write(out, header, records, line, where)
    return ExtractResult(
        build.build, build.source, method, len(records), contig, "; ".join(notes), (start, end)
    )


def _contig_name(seen: set[bytes], header: bytes, chr17: set[bytes] | None = None) -> str | None:
    if len(seen) == 1:
        return next(iter(seen)).decode("utf-8", "replace")
    ranks = _contig_ranks(header)
    names = [n for n in ranks if n in (chr17 or {b"chr17", b"17"})]
    if len(names) == 1:
        return names[0].decode("utf-8", "replace")
    return None


def _utf8(text: bytes, what: str) -> tuple[bytes, list[str]]:
    """`text` with bytes that are not UTF-8 replaced by U+FFFD, and a note per line changed.

    htslib readers above this layer decode text as UTF-8 and would stop with a traceback on a
    Latin-1 sample name or INFO value; the replaced text is still readable and the note says
    where the bytes were changed.
    """
    try:
        text.decode("utf-8")
        return text, []
    except UnicodeDecodeError:
        pass
    lines = text.split(b"\n")
    changed = []
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            lines[i] = line.decode("utf-8", "replace").encode("utf-8")
            changed.append(i + 1)
    shown = ", ".join(map(str, changed[:5])) + (" ..." if len(changed) > 5 else "")
    return b"\n".join(lines), [f"non_utf8_replaced: bytes that are not UTF-8 in {what} {shown}"]


def _write(out: Path, header: bytes, records: list[bytes], extra: bytes, where: str) -> list[str]:
    """bgzipped VCF at `out`, atomically; validated by reading it back with htslib.

    One bgzip pass of bytes already in memory (records stay byte for byte, except bytes that
    are not UTF-8, replaced and noted: the notes are returned). A .tbi left at `out` by an
    earlier version would be stale: it is removed.
    """
    header = header.replace(b"\r\n", b"\n")
    if not header.startswith(b"##fileformat="):
        header = b"##fileformat=VCFv4.2\n" + header  # htslib requires it first
    if not header.endswith(b"\n"):
        header += b"\n"
    header, notes = _utf8(header, "header line(s)")
    chrom_at = header.rfind(b"\n#CHROM") + 1
    header = header[:chrom_at] + extra + header[chrom_at:]
    body, body_notes = _utf8(b"".join(line + b"\n" for line in records), "region record(s)")
    notes += body_notes

    def write(tmp: Path) -> None:
        vcf_bgzf.write_bgzf(tmp, header + body)
        _validate(tmp, len(records), where)
        Path(str(out) + ".tbi").unlink(missing_ok=True)

    fileio.atomic_write_with(out, write, suffix=".vcf.gz")
    return notes


def _validate(path: Path, expected: int, where: str) -> None:
    """Read the extract back with htslib: a header or region record that htslib cannot parse
    fails here, named after the user's file, not downstream.

    This is also where the user's header meets htslib's parser (read_header does not use it),
    so the message is the one open_vcf gives for an unreadable header.
    """
    import cyvcf2

    try:
        reader = cyvcf2.VCF(str(path))
    except Exception as err:  # htslib reports every failure as a bare Exception or OSError
        raise InputError(
            f"htslib cannot read this VCF ({err})",
            path=where,
            fix="check that the file is a complete VCF/BCF (`bcftools view -h FILE` shows what "
            "is wrong)",
        ) from None
    count = 0
    try:
        for _ in reader:
            count += 1
    except Exception as err:
        raise InputError(
            f"htslib cannot read ERBB2-region record {count + 1} ({err})",
            path=where,
            record=f"ERBB2-region record {count + 1}",
            fix="repair or re-export the VCF; `bcftools view FILE chr17` shows the bad line",
        ) from None
    finally:
        reader.close()
    if count != expected:
        raise InputError(
            f"htslib read {count} ERBB2-region records where the file has {expected}",
            path=where,
            fix="repair or re-export the VCF; `bcftools view FILE` shows the bad line",
        )


def iter_records(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Record lines of decompressed VCF text (header skipped); for tests and tools."""
    carry = b""
    for chunk in chunks:
        buf = carry + chunk
        lines = buf.split(b"\n")
        carry = lines.pop()
        for line in lines:
            if line and not line.startswith(b"#"):
                yield line.rstrip(b"\r")
    if carry and not carry.startswith(b"#"):
        yield carry.rstrip(b"\r")
