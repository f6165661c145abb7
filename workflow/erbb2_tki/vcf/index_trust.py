"""Is this .tbi/.csi the index of this file, as it is now? Checked before any region query.

htslib trusts an index beside a file: one built for another VCF (a copy's, a renamed file's,
a .csi of a different BCF) or before records were appended answers a region query with the
wrong records or none, with at most a warning. An index is used only when all of this holds:

- it parses as a tabix (.tbi) or CSI (.csi) index;
- every offset it holds lies inside the file;
- for chromosome 17's contigs and the file's first and last contig, the record at the offset where
  the index says that contig starts is on that contig (so the names and offsets are this file's);
- the smallest such offset is the file's first record (nothing before it is left out);
- after the largest end offset there is no record (nothing was appended after indexing);
- and it is not older than the file (checked by the caller from mtimes).

Any failure gives a one-line reason; the caller then reads the file another way and says why in
the sample's note. Cost: inflating the index (~4.5 ms for a WES .tbi, 1.9 MB) and reading its bins
in runs (below), plus a few dozen BGZF blocks of the file, whatever the file's size.

A .tbi trusted for a text VCF is kept (names, linear index) until the next check, so that the
region query is answered from it (`query`) instead of htslib loading the same index again.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from . import bgzf

_MAX_CHECKED = 64
_U64_PAIR = struct.Struct("<2Q")  # a chunk: (begin, end) virtual offsets
_CRC_SIZE = struct.Struct("<2I")  # a gzip member's trailer: CRC32, length
_TAIL_LIMIT = 1 << 18  # compressed bytes after the last indexed record: more means not covered


class _Untrusted(Exception):
    pass


class _Blocks:
    """Random access to BGZF blocks by compressed offset (each inflated once)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.handle = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.cache: dict[int, tuple[bytes, int]] = {}

    def close(self) -> None:
        self.handle.close()

    def block(self, offset: int) -> tuple[bytes, int]:
        """(data, compressed size) of the block at `offset`."""
        if offset in self.cache:
            return self.cache[offset]
        if not 0 <= offset < self.size:
            raise _Untrusted(f"an offset ({offset}) lies outside the file ({self.size} bytes)")
        self.handle.seek(offset)
        buf = self.handle.read(1 << 16 | 64)
        try:
            found = bgzf.inflate_block(self.path, buf, 0)
        except InputError:
            raise _Untrusted(f"an offset ({offset}) is not the start of a BGZF block") from None
        self.cache[offset] = found
        return found

    def read(self, voffset: int, n: int) -> bytes:
        """Up to `n` decompressed bytes from virtual offset `voffset`."""
        coffset, uoffset = voffset >> 16, voffset & 0xFFFF
        data, size = self.block(coffset)
        if uoffset > len(data):
            raise _Untrusted("an offset points past the end of its block")
        out = data[uoffset:]
        while len(out) < n and coffset + size < self.size:
            coffset += size
            data, size = self.block(coffset)
            if not data:
                break
            out += data
        return out[:n]

    def absolute(self, voffset: int, limit: int) -> int | None:
        """The uncompressed position of `voffset`, walking blocks from the start (None beyond
        `limit` compressed bytes)."""
        coffset, uoffset = voffset >> 16, voffset & 0xFFFF
        at, total = 0, 0
        while at <= min(coffset, limit):
            data, size = self.block(at)
            if at == coffset:
                return total + uoffset
            total += len(data)
            at += size
        return None

    def first_record(self, is_bcf: bool, limit: int) -> int | None:
        """The uncompressed position of the file's first record (None if not within `limit`)."""
        at, text = 0, b""
        while at < min(self.size, limit):
            data, size = self.block(at)
            text += data
            at += size
            if is_bcf:
                if len(text) >= 9:
                    return 9 + struct.unpack_from("<I", text, 5)[0]
                continue
            line_start = 0
            while True:
                if text[line_start : line_start + 1] not in (b"#", b""):
                    return line_start
                nl = text.find(b"\n", line_start)
                if nl < 0:
                    break
                line_start = nl + 1
                if line_start == len(text):
                    break
        return None


def _parse(
    index: Path, linear: dict[int, tuple[bytes, int, int]] | None = None
) -> tuple[dict[int, tuple[int, int]], list[str] | None, int]:
    """({ref id: (min begin, max end) virtual offsets}, names (tbi/tabix-csi) or None, max
    offset seen anywhere). `linear`, when given, receives where each contig's linear index
    lies in a .tbi (see _parse_data)."""
    raw = index.read_bytes()
    try:
        data = _inflate(raw) if raw[:2] == b"\x1f\x8b" else raw
    except (OSError, EOFError, zlib.error):
        raise _Untrusted("it is not a readable index (corrupt compression)") from None
    try:
        return _parse_data(data, linear)
    except (struct.error, IndexError, ValueError):
        raise _Untrusted("it is not a readable .tbi/.csi index (cut short or corrupt)") from None


def _inflate(raw: bytes) -> bytes:
    """The gzip members of `raw` (an index's BGZF blocks) inflated and joined.

    What gzip.decompress accepts and checks (each member's CRC32 and length; zero padding after
    the last member), without its Python-level header parsing and copies: a BGZF block (its
    size in the header) is inflated as raw deflate and its CRC32 and length compared here; any
    other gzip member goes through zlib's own gzip reader.
    """
    out = []
    view = memoryview(raw)
    at, size = 0, len(raw)
    while at < size:
        if raw[at : at + 2] != b"\x1f\x8b":
            if raw[at:].strip(b"\0"):
                raise OSError("not a gzip member")
            break
        if raw[at + 3 : at + 4] == b"\x04" and raw[at + 10 : at + 16] == b"\x06\x00BC\x02\x00":
            end = at + int.from_bytes(raw[at + 16 : at + 18], "little") + 1
            if end > size:
                raise EOFError("a BGZF block is cut short")
            crc, length = _CRC_SIZE.unpack_from(raw, end - 8)
            block = zlib.decompress(view[at + 18 : end - 8], -15)
            if len(block) != length or zlib.crc32(block) != crc:
                raise OSError("a BGZF block fails its CRC32 or length check")
            out.append(block)
            at = end
            continue
        inflater = zlib.decompressobj(31)
        out.append(inflater.decompress(view[at:]))
        if not inflater.eof:
            raise EOFError("a gzip member is cut short")
        at = size - len(inflater.unused_data)
    return b"".join(out)


def _parse_data(
    data: bytes, linear: dict[int, tuple[bytes, int, int]] | None = None
) -> tuple[dict[int, tuple[int, int]], list[str] | None, int]:
    """See _parse; `linear` gets {ref: (the bytes holding its linear index, byte offset of its
    first entry, number of entries)} for a .tbi."""
    at = 0

    def take(fmt: str) -> tuple[int, ...]:
        nonlocal at
        values = struct.unpack_from(fmt, data, at)
        at += struct.calcsize(fmt)
        return values

    names: list[str] | None = None
    magic = data[:4]
    if magic == b"TBI\x01":
        at = 4
        (n_ref,) = take("<i")
        take("<6i")
        (l_nm,) = take("<i")
        names = [n.decode("utf-8", "replace") for n in data[at : at + l_nm].split(b"\0")[:n_ref]]
        at += l_nm
        csi, pseudo = False, 37450
    elif magic == b"CSI\x01":
        at = 4
        _, depth, l_aux = take("<3i")
        aux = data[at : at + l_aux]
        at += l_aux
        if len(aux) >= 28:
            l_nm = struct.unpack_from("<i", aux, 24)[0]
            names = [n.decode("utf-8", "replace") for n in aux[28 : 28 + l_nm].split(b"\0") if n]
        (n_ref,) = take("<i")
        csi, pseudo = True, ((1 << (3 * (depth + 1))) - 1) // 7 + 1
    else:
        raise _Untrusted("it is neither a .tbi nor a .csi index (wrong magic number)")
    if not 0 <= n_ref < 1 << 20:
        raise ValueError("n_ref")
    # After the names every field is 4 bytes or two of them (bin ids, counts, 64-bit offsets):
    # the rest is read as one little-endian int32 array. htslib gives every bin one chunk except
    # the pseudo-bin (two), so a contig's bins are checked in runs: a strided view of the
    # n_chunk fields, assuming one chunk each, finds the first bin that has another count (a
    # vectorised test); that bin is stepped over by its own count and the run goes on. The
    # ~15,000 bins of a WES index (~190,000 of a WGS one) take a few numpy calls per contig
    # instead of a Python step per bin. Reading past the end (an index cut short) raises
    # IndexError; a negative count is corrupt.
    import numpy as np

    body = data[at:]
    ints = np.frombuffer(body, dtype="<i4", count=len(body) // 4)
    n_ints = len(ints)
    pair = _U64_PAIR.unpack_from
    head = 4 if csi else 2  # a bin's ints before its chunks: bin, [loffset x2], n_chunk
    one = head + 4  # the ints of a bin with one chunk
    spans: dict[int, tuple[int, int]] = {}
    top = 0
    k = 0
    for ref in range(n_ref):
        n_bin = int(ints[k])
        if n_bin < 0:
            raise ValueError("n_bin")
        k += 1
        first_bin = k
        begin, end = None, None
        left = n_bin
        while left:
            counts = ints[k + head - 1 : k + head - 1 + one * left : one]
            odd = np.flatnonzero(counts != 1)
            run = int(odd[0]) if len(odd) else len(counts)
            if run:
                hits = np.flatnonzero(ints[k : k + one * run : one] == pseudo)
                if len(hits):  # the last one counts, as in a bin-by-bin walk
                    begin, end = pair(body, 4 * (k + one * int(hits[-1]) + head))
            k += one * run
            left -= run
            if not left:
                break
            # a bin whose count is not 1 (the pseudo-bin, or a cut-short index)
            n_chunk = int(ints[k + head - 1])
            if n_chunk < 0:
                raise ValueError("n_chunk")
            if n_chunk and int(ints[k]) == pseudo:
                begin, end = pair(body, 4 * (k + head))
            k += head + 4 * n_chunk
            left -= 1
        if k > n_ints:
            raise IndexError("bins")
        if begin is None and n_bin:
            # No pseudo-bin: every chunk of every bin, one by one.
            k = first_bin
            for _ in range(n_bin):
                n_chunk = int(ints[k + head - 1])
                k += head
                for c in range(n_chunk):
                    beg, stop = pair(body, 4 * (k + 4 * c))
                    begin = beg if begin is None else min(begin, beg)
                    end = stop if end is None else max(end, stop)
                k += 4 * n_chunk
        if not csi:
            n_intv = int(ints[k])
            if n_intv < 0:
                raise ValueError("n_intv")
            if linear is not None:
                linear[ref] = (body, 4 * (k + 1), n_intv)
            k += 1 + 2 * n_intv
        if begin is not None and end is not None:
            spans[ref] = (begin, end)
            top = max(top, end)
    if 4 * k > len(body):
        raise IndexError("the last contig's linear index is cut short")
    return spans, names, top


def check(path: Path, index: Path, is_bcf: bool, header: bytes, chr17: set[bytes]) -> str | None:
    """None when `index` can be trusted for `path`; else why not (one line).

    A trusted .tbi of a text VCF is remembered (its contig names and linear index) until the
    next check, for region_lines: the region is then read without loading the index again.
    """
    global _TRUSTED
    _TRUSTED = None
    blocks = _Blocks(path)
    kept: dict[str, Any] = {}
    try:
        problem = _check(blocks, index, is_bcf, header, chr17, kept)
        if problem is None and not is_bcf and kept.get("linear") and kept.get("names"):
            _TRUSTED = (_identity(path, index), kept["names"], kept["linear"], kept["spans"])
        return problem
    except _Untrusted as why:
        return str(why)
    except (OSError, InputError) as err:
        return f"it cannot be checked ({err})"
    finally:
        blocks.close()


# (identity of the file and index, contig names, linear index per contig) of the last check
# that trusted a .tbi; see region_lines.
_TRUSTED: (
    tuple[
        tuple[Any, ...],
        list[str],
        dict[int, tuple[bytes, int, int]],
        dict[int, tuple[int, int]],
    ]
    | None
) = None
_MIN_SHIFT = 14  # a .tbi's linear index has one entry per 16 kb window


def _identity(path: Path, index: Path) -> tuple[Any, ...]:
    """The file and index as they are now (a change to either makes a remembered check stale)."""
    a, b = os.stat(path), os.stat(index)
    return (
        str(path),
        str(index),
        a.st_size,
        a.st_mtime_ns,
        a.st_ino,
        b.st_size,
        b.st_mtime_ns,
        b.st_ino,
    )


def query(
    path: Path, index: Path, start: int, end: int, chr17: set[bytes]
) -> tuple[list[bytes], set[bytes]] | None:
    """What extract's tabix query returns (the region's records of every chromosome-17 contig
    the index names, and those names), from the index the last check() trusted; None when it
    cannot be answered that way (see region_lines)."""
    trusted = _TRUSTED
    if trusted is None:
        return None
    names = [n for n in trusted[1] if n.encode() in chr17]
    records: list[bytes] = []
    for name in names:
        found = region_lines(path, index, name, start, end)
        if found is None:
            return None
        records += found
    return records, {n.encode() for n in names}


def region_lines(path: Path, index: Path, name: str, start: int, end: int) -> list[bytes] | None:
    """The records of contig `name` that overlap `start`-`end` (1-based, inclusive), as a tabix
    query of the index returns them (lines without their line end), read without loading the
    index again; None when the last check() did not trust this very index for this file, or
    anything is unusual (no linear index for `name`, a line that is not a record): the caller
    then queries the index with htslib as before.

    As htslib does with a .tbi: start at the linear index's offset for the region's first
    16-kb window (no record that overlaps the region starts before it; the offset must lie
    within the contig's records, which check() verified), read records in file order, stop at
    the first one on another contig or starting after `end`, keep those whose span (tabix's
    rule, span._record_span, as the other extraction methods use) overlaps the region.
    """
    from .span import _record_span

    trusted = _TRUSTED
    if trusted is None:
        return None
    try:
        if trusted[0] != _identity(path, index):
            return None
    except OSError:
        return None
    _, names, linear, spans = trusted
    refs = [r for r, n in enumerate(names) if n == name]
    if len(refs) != 1 or refs[0] not in linear or refs[0] not in spans:
        return None
    body, at, n_intv = linear[refs[0]]
    if n_intv <= 0:
        return None
    window = min((start - 1) >> _MIN_SHIFT, n_intv - 1)
    (voffset,) = struct.unpack_from("<Q", body, at + 8 * window)
    first, last = spans[refs[0]]
    if not first <= voffset <= last:
        return None
    prefix = name.encode() + b"\t"
    records: list[bytes] = []
    blocks = _Blocks(path)
    try:
        for line in _lines_from(blocks, voffset):
            if _past(line, prefix, end):
                break
            pos, ref_end = _record_span(line, str(path), None)
            if pos <= end and ref_end >= start:
                records.append(line.rstrip(b"\r"))
        return records
    except (_Untrusted, InputError, OSError, ValueError):
        return None
    finally:
        blocks.close()


def _lines_from(blocks: _Blocks, voffset: int) -> Iterator[bytes]:
    """The lines of the file from virtual offset `voffset` on (without their newline)."""
    coffset, uoffset = voffset >> 16, voffset & 0xFFFF
    carry = b""
    while coffset < blocks.size:
        data, size = blocks.block(coffset)
        if not data:
            break
        if uoffset > len(data):
            raise _Untrusted("an offset points past the end of its block")
        parts = (carry + data[uoffset:]).split(b"\n")
        uoffset = 0
        coffset += size
        carry = parts.pop()
        yield from parts
    if carry:
        yield carry


def _past(line: bytes, prefix: bytes, end: int) -> bool:
    """True at the record where a tabix query stops: another contig, or POS after `end`.
    ValueError for a line that is not a record (htslib fails there too)."""
    if line.startswith(prefix):
        tab = line.find(b"\t", len(prefix))
        return int(line[len(prefix) : tab if tab >= 0 else len(line)]) > end
    fields = line.split(b"\t", 2)
    if len(fields) < 3 or line.startswith(b"#"):
        raise ValueError("not a record")
    int(fields[1])
    return True


def _check(
    blocks: _Blocks,
    index: Path,
    is_bcf: bool,
    header: bytes,
    chr17: set[bytes],
    kept: dict[str, Any] | None = None,
) -> str | None:
    linear: dict[int, tuple[bytes, int, int]] = {}
    spans, names, top = _parse(index, linear)
    if kept is not None:
        kept["linear"], kept["names"], kept["spans"] = linear, names, spans
    if not spans:
        return (
            None if _no_records(blocks, is_bcf) else "it indexes no records but the file has some"
        )
    if (top >> 16) >= blocks.size:
        raise _Untrusted("an offset lies beyond the end of the file")
    if is_bcf:
        contig_order = [c.decode("utf-8", "replace") for c, _ in _bcf_contigs(header)]
        names = contig_order
    if names is None:
        raise _Untrusted("a .csi of a text VCF without contig names")
    for ref in spans:
        if ref >= len(names):
            raise _Untrusted(f"it indexes contig number {ref + 1}, the header has {len(names)}")
    # Chromosome 17's contigs, and the first and last contig in the file (a few block reads).
    important = [r for r in spans if names[r].encode() in chr17]
    edges = {min(spans, key=lambda r: spans[r][0]), max(spans, key=lambda r: spans[r][1])}
    others = [r for r in sorted(edges) if r not in important][:_MAX_CHECKED]
    for ref in important + others:
        begin = spans[ref][0]
        if is_bcf:
            raw = blocks.read(begin, 12)
            if len(raw) < 12 or struct.unpack_from("<i", raw, 8)[0] != ref:
                raise _Untrusted(f"the record where it says {names[ref]} starts is not on it")
        else:
            line = blocks.read(begin, 1024)
            if not line.startswith(names[ref].encode() + b"\t"):
                raise _Untrusted(
                    f"the record where it says contig {names[ref]} starts is not on that contig "
                    "(an index of another file?)"
                )
    first = min(begin for begin, _ in spans.values())
    limit = 1 << 26
    want = blocks.first_record(is_bcf, limit)
    got = blocks.absolute(first, limit)
    if want is None or got != want:
        raise _Untrusted("its first offset is not the file's first record")
    last = max(end for _, end in spans.values())
    if blocks.size - (last >> 16) > _TAIL_LIMIT:
        raise _Untrusted("the file goes on after the last record it indexes (records added?)")
    tail = blocks.read(last, _TAIL_LIMIT * 4)
    if is_bcf:
        if tail:
            raise _Untrusted("the file has records after the last one it indexes")
    elif any(line.strip() and not line.startswith(b"#") for line in tail.split(b"\n")):
        raise _Untrusted("the file has records after the last one it indexes (records added?)")
    return None


def _no_records(blocks: _Blocks, is_bcf: bool) -> bool:
    at, text = 0, b""
    while at < blocks.size:
        data, size = blocks.block(at)
        text += data
        at += size
    if is_bcf:
        return len(text) <= 9 + struct.unpack_from("<I", text, 5)[0]
    return all(not line.strip() or line.startswith(b"#") for line in text.split(b"\n"))


def _bcf_contigs(header: bytes) -> list[tuple[bytes, int | None]]:
    from .contigs import header_contigs

    return header_contigs(header)
