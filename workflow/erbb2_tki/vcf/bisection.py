"""Find the chr17 records of a sorted, unindexed bgzipped VCF by bisecting its BGZF blocks.

BGZF blocks decompress independently, so a binary search over block offsets (first complete
record of a block, compared by the header's ##contig order and position) finds chr17 in a few
dozen block reads. Anything the search cannot trust (no ##contig order, a record out of order,
a contig the header does not declare) raises _Unsorted, and extract.py streams instead.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterator
from pathlib import Path

from . import bgzf as vcf_bgzf
from .span import _record_span


class _Unsorted(Exception):
    """Bisection cannot trust the file's order; stream instead."""


_MAGIC = b"\x1f\x8b\x08\x04"
_MAX_BLOCK = 65536
_BISECT_WINDOW = _MAX_BLOCK  # stop bisecting when the bracket is this small (bytes)


class _BgzfFile:
    """Random access to the blocks of one BGZF file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.size = path.stat().st_size
        self.reads = 0

    def close(self) -> None:
        self.handle.close()

    def next_block(self, offset: int) -> int | None:
        """Offset of the first BGZF block starting at or after `offset` (None at the end).

        A block is recognised by its magic and 'BC' header and confirmed by the next block's
        magic (or the file end) exactly where its size says: a chance match inside compressed
        data fails that check.
        """
        while offset < self.size:
            self.handle.seek(offset)
            buf = self.handle.read(2 * _MAX_BLOCK + 64)
            self.reads += 1
            at = buf.find(_MAGIC)
            while at >= 0:
                found = vcf_bgzf.bgzf_block(buf, at)
                if found is not None:
                    after = offset + at + found[0]
                    if after == self.size:
                        return offset + at
                    rel = at + found[0]
                    if rel + 4 <= len(buf):
                        if buf[rel : rel + 4] == _MAGIC:
                            return offset + at
                    else:
                        self.handle.seek(after)
                        if self.handle.read(4) == _MAGIC:
                            return offset + at
                at = buf.find(_MAGIC, at + 1)
            if len(buf) < 2 * _MAX_BLOCK + 64:
                return None
            offset += len(buf) - 64
        return None

    def blocks(self, offset: int, chunk: int = 1 << 18) -> Iterator[bytes]:
        """Decompressed blocks from `offset` on (checked CRCs), about `chunk` bytes read at once."""
        self.reads += 1
        yield from vcf_bgzf.iter_bgzf(self.path, chunk=chunk, start=offset)


def _first_line_key(
    bgzf: _BgzfFile, offset: int, ranks: dict[bytes, int]
) -> tuple[int, int] | None:
    """(contig rank, POS) of the first line that starts after `offset`'s block begins.

    Header lines sort before every record: (-1, -1). None when no line starts in the rest of
    the file.
    """
    buf = b""
    skipped = False
    for data in bgzf.blocks(offset, chunk=_MAX_BLOCK + 64):
        buf += data
        if not skipped:
            if offset == 0:
                skipped = True  # the file's first byte starts a line
            else:
                nl = buf.find(b"\n")
                if nl < 0:
                    buf = b""
                    continue
                buf = buf[nl + 1 :]
                skipped = True
        if not buf:
            continue
        if buf.startswith(b"#"):
            return (-1, -1)
        tab2 = buf.find(b"\t", buf.find(b"\t") + 1)
        nl = buf.find(b"\n")
        if tab2 < 0 and nl < 0:
            continue  # the first fields continue in the next block
        line = buf[: nl if nl >= 0 else len(buf)]
        fields = line.split(b"\t", 2)
        if len(fields) < 3 or fields[0] not in ranks:
            raise _Unsorted(
                f"a record on contig {fields[0][:40]!r} not in the header's ##contig order"
            )
        try:
            return ranks[fields[0]], int(fields[1])
        except ValueError:
            raise _Unsorted("a record whose POS is not a number") from None
    return None


def _bisect_text(
    path: Path, ranks: dict[bytes, int], chrom: bytes, start: int, end: int
) -> tuple[list[bytes], int]:
    """Region records of a sorted BGZF VCF by binary search over block offsets.

    Target: the first record of chr17, because a record that starts before the region can reach
    into it by its END (tabix's rule); from there one forward pass to the region's end checks
    the order of every line it reads. Returns (records, block reads).
    """
    target = (ranks[chrom], 0)
    bgzf = _BgzfFile(path)
    try:
        best = 0
        lo, hi = 0, bgzf.size
        probes: list[tuple[int, tuple[int, int]]] = []
        while hi - lo > _BISECT_WINDOW:
            mid = (lo + hi) // 2
            block = bgzf.next_block(mid)
            if block is None or block >= hi:
                hi = mid
                continue
            key = _first_line_key(bgzf, block, ranks)
            if key is None:
                hi = mid
                continue
            probes.append((block, key))
            if key < target:
                best = lo = block
            else:
                hi = mid
        # The first and last records bracket every probe: a file whose ends are out of order
        # (records appended or prepended to a sorted file) is caught here, not just in the
        # stretch read below. A record out of place elsewhere, between probes, cannot be seen
        # without reading everything; that is what an index is for.
        keys = [_edge_key(bgzf, ranks, first=True)]
        keys += [k for _, k in sorted(probes)]
        keys.append(_edge_key(bgzf, ranks, first=False))
        checked = (k for k in keys if k is not None and k != (-1, -1))  # (-1, -1): header
        if any(a > b for a, b in itertools.pairwise(checked)):
            raise _Unsorted(
                "the first record, the block probes and the last record are out of order"
            )
        records = _scan_sorted(bgzf, best, ranks, chrom, start, end)
        return records, bgzf.reads
    finally:
        bgzf.close()


_POS_RE = re.compile(rb"\n[^\t\n]*\t([^\t\n]*)")


def _edge_key(bgzf: _BgzfFile, ranks: dict[bytes, int], *, first: bool) -> tuple[int, int] | None:
    """(contig rank, POS) of the file's first or last record; None if there is none to read."""
    if first:
        buf = b""
        for data in bgzf.blocks(0, chunk=_MAX_BLOCK + 64):
            buf += data
            at = 0
            while True:
                nl = buf.find(b"\n", at)
                if not buf.startswith(b"#", at):
                    line = buf[at : nl if nl >= 0 else len(buf)]
                    if nl >= 0 or line.count(b"\t") >= 2:
                        return _line_key(line, ranks)
                    break
                if nl < 0:
                    break
                at = nl + 1
            buf = buf[at:]
        return None
    start = bgzf.next_block(max(0, bgzf.size - 3 * _MAX_BLOCK))
    if start is None:
        return None
    tail = b"".join(bgzf.blocks(start)).rstrip(b"\r\n")
    line = tail[tail.rfind(b"\n") + 1 :]
    if b"\n" not in tail or not line or line.startswith(b"#"):
        return None  # the last line may have begun before the blocks read: no claim
    return _line_key(line, ranks)


def _line_key(line: bytes, ranks: dict[bytes, int]) -> tuple[int, int]:
    fields = line.split(b"\t", 2)
    if len(fields) < 3 or fields[0] not in ranks:
        raise _Unsorted(f"a record on contig {fields[0][:40]!r} not in the header's ##contig order")
    try:
        return ranks[fields[0]], int(fields[1])
    except ValueError:
        raise _Unsorted("a record whose POS is not a number") from None


def _scan_sorted(
    bgzf: _BgzfFile, offset: int, ranks: dict[bytes, int], chrom: bytes, start: int, end: int
) -> list[bytes]:
    """Forward pass from a block: region records, checking that every line is in order.

    The stretch of chr17 before the region is read in bulk: one C-speed pass checks that every
    line is chr17 and that positions never decrease, and only lines that could reach the region
    (an END= key, or a line long enough for its REF to) are parsed. Everything else goes through
    the line-by-line path, which checks each record's contig and position order.
    """
    rank17 = ranks[chrom]
    needle = b"\n" + chrom + b"\t"
    where = str(bgzf.path)
    records: list[bytes] = []
    last = (-1, -1)
    carry = b""
    first = offset != 0

    def bulk(body: bytes) -> bool:
        """Handle a run of whole lines that all lie on chr17 before the region; False if not."""
        nonlocal last
        sentinel = b"\n" + body
        n = body.count(b"\n") + 1
        if sentinel.count(needle) != n:
            return False
        fields = _POS_RE.findall(sentinel)
        if len(fields) != n:
            return False
        try:
            positions = list(map(int, fields))
        except ValueError:
            return False
        if (rank17, positions[0]) < last or positions[-1] >= start:
            return False
        if any(map(operator.gt, positions, positions[1:])):
            return False
        lines = body.split(b"\n")
        reach = start - positions[-1]  # no REF shorter than this can reach the region
        if b"END=" in body or b"SVLEN=" in body or max(map(len, lines)) > reach:
            for line in lines:
                if (len(line) > reach or b"END=" in line or b"SVLEN=" in line) and _record_span(
                    line, where, None
                )[1] >= start:
                    records.append(line.rstrip(b"\r"))
        last = (rank17, positions[-1])
        return True

    for data in bgzf.blocks(offset):
        buf = carry + data
        if first:
            nl = buf.find(b"\n")
            if nl < 0:
                carry = b""
                continue
            buf = buf[nl + 1 :]
            first = False
        cut = buf.rfind(b"\n")
        if cut < 0:
            carry = buf
            continue
        body, carry = buf[:cut], buf[cut + 1 :]
        if last[0] == rank17 and body and bulk(body):
            continue
        for line in body.split(b"\n"):
            if not line or line[0] == 35:  # '#'
                continue
            tab = line.find(b"\t")
            rank = ranks.get(line[:tab])
            if rank is None:
                raise _Unsorted(f"a record on contig {line[:tab][:40]!r} not in the header")
            if rank < rank17:
                if rank < last[0]:
                    raise _Unsorted("records out of contig order")
                last = (rank, 0)
                continue
            if rank > rank17:
                return records
            pos, ref_end = _record_span(line, where, None)
            key = (rank, pos)
            if key < last:
                raise _Unsorted("records out of position order on chr17")
            last = key
            if pos > end:
                return records
            if ref_end >= start:
                records.append(line.rstrip(b"\r"))
    if carry and carry[0] != 35:
        tab = carry.find(b"\t")
        if ranks.get(carry[:tab]) == rank17:
            pos, ref_end = _record_span(carry, where, None)
            if (rank17, pos) < last:
                raise _Unsorted("records out of position order on chr17")
            if pos <= end and ref_end >= start:
                records.append(carry.rstrip(b"\r"))
    return records


def _contig_ranks(header: bytes) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for line in header.split(b"\n"):
        if line.startswith(b"##contig=<"):
            match = re.search(rb"[<,]ID=([^,>]+)", line)
            if match and match.group(1) not in ranks:
                ranks[match.group(1)] = len(ranks)
    return ranks
