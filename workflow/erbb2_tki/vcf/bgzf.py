"""BGZF and gzip: what a file is, whether it is complete, and its bytes block by block.

vcfpy's bgzf module has the same job. A truncated copy must never read as a shorter VCF,
so every block's size and CRC are checked and a cut or damaged file is an InputError.

Inflating is the cost of streaming a whole file, so it is done by ISA-L (python-isal, a
dependency with wheels for x86_64 and aarch64; 2-3x zlib's speed) when it is installed, else by
zlib. In one thread, gzip and BGZF alike go through ISA-L's gzip reader. When CPUs are idle
(inflate_threads), a BGZF stream's blocks, which are independent, are inflated by a few threads
(the inflaters release the GIL) while the caller scans the text, and gzip and plain text are
read ahead by one thread. Memory stays bounded: a few chunks of a few megabytes are in flight.
"""

from __future__ import annotations

import collections
import functools
import os
import queue
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future

from ..errors import InputError

# Threads that inflate one BGZF stream (the caller's thread scans meanwhile). Environment
# variable ERBB2_TKI_INFLATE_THREADS overrides it; 1 inflates in the caller's thread.
MAX_INFLATE_THREADS = 4


@functools.cache
def inflater() -> ModuleType:
    """isal_zlib (ISA-L) when python-isal is installed, else zlib: the same decompress /
    decompressobj / crc32 interface. Imported on first use, not at start-up."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - python-isal is a dependency; zlib is the fallback
        return zlib
    return isal_zlib


def _inflate_errors() -> tuple[type[Exception], ...]:
    return (zlib.error, inflater().error)


def inflate_threads() -> int:
    """How many threads inflate one BGZF stream: ERBB2_TKI_INFLATE_THREADS when set (1 = none),
    else the CPUs this process may use that are idle (by the 1-minute load average) plus one,
    at most MAX_INFLATE_THREADS.

    On a busy machine (a batch running one job per core) more threads only add switching and
    memory traffic, measured as more CPU time for the same wall time: one thread then.
    """
    env = os.environ.get("ERBB2_TKI_INFLATE_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    try:
        idle = cpus - os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average
        idle = cpus
    return max(1, min(MAX_INFLATE_THREADS, cpus, int(idle) + 1))


BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


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


def iter_text(
    path: str | os.PathLike[str], kind: str, chunk: int = 1 << 22, threads: int | None = None
) -> Iterator[bytes]:
    """Yield the decompressed bytes of a plain, gzip or BGZF file in chunks of about `chunk`.

    Memory stays bounded whatever the file size. InputError when the compressed stream is
    corrupt or ends early (a truncated copy must never read as a shorter VCF). `threads`
    (default inflate_threads()): BGZF blocks are inflated by that many threads; for gzip and
    plain text, more than one means the file is read and inflated ahead by one thread while
    the caller works on the previous chunk.
    """
    workers = inflate_threads() if threads is None else max(1, threads)
    if kind == "bgzf" and workers > 1:
        yield from iter_bgzf(path, chunk, threads=workers)
        return
    # In one thread a BGZF file is read as the gzip members it is: one streaming inflater checks
    # every member's CRC and size and the end of the data, with no per-block Python work and no
    # join of block texts (about 0.6 s of CPU less on a 5M-record WGS file than iter_bgzf).
    if workers > 1:
        yield from _read_ahead(lambda: _iter_stream(path, kind, chunk))
        return
    yield from _iter_stream(path, kind, chunk)


def _iter_stream(path: str | os.PathLike[str], kind: str, chunk: int) -> Iterator[bytes]:
    """iter_text of plain text or (multi-member) gzip, BGZF included, in the caller's thread."""
    with open(path, "rb") as handle:
        if kind == "plain":
            while data := handle.read(chunk):
                yield data
            return
        fast = inflater()
        if fast is not zlib:
            yield from _iter_igzip(path, handle, chunk)
            return
        d = fast.decompressobj(31)
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
                        d = fast.decompressobj(31)
                        in_member = False
                    else:
                        data = b""
        except _inflate_errors() as err:
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


def _iter_igzip(path: str | os.PathLike[str], handle: Any, chunk: int) -> Iterator[bytes]:
    """ISA-L's gzip reader over `handle`: members one after another in C (a BGZF file's ~65 kB
    members too, without the copy of the remaining input that a new zlib decompressor per member
    costs), each member's CRC and size checked; InputError when corrupt or cut short."""
    from isal import igzip

    corrupt: tuple[type[Exception], ...] = (OSError, *_inflate_errors())
    try:
        with igzip.GzipFile(fileobj=handle, mode="rb") as reader:
            while data := reader.read(chunk):
                yield data
    except EOFError:
        raise InputError(
            "the gzip file is truncated (its compressed data ends early)",
            path=str(path),
            fix="copy the file again from its source (the copy stopped early) or "
            "re-compress the complete VCF with `bgzip`",
        ) from None
    except corrupt as err:
        raise InputError(
            f"the compressed data is corrupt ({err})",
            path=str(path),
            fix="copy the file again from its source or re-compress the VCF with `bgzip`",
        ) from None


_DONE = object()


def _read_ahead(make: Callable[[], Iterator[bytes]], depth: int = 2) -> Iterator[bytes]:
    """The chunks of make() produced by one background thread, at most `depth` ahead.

    Reading and inflating release the GIL, so they overlap with the caller's scan. An error in
    the thread is raised here, in order; closing this generator early stops the thread.
    """
    chunks: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        """Put `item` in the queue unless the consumer has gone; False if it has."""
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = make()
        try:
            for item in source:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as err:  # handed to the consumer, raised there
            offer(err)
        finally:
            source.close()  # type: ignore[attr-defined]

    worker = threading.Thread(target=produce, name="erbb2-tki-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = chunks.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


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
    return _inflate_one(path, buf, at, size, data_start), size


def _inflate_one(
    path: str | os.PathLike[str], buf: bytes | memoryview, at: int, size: int, data_start: int
) -> bytes:
    """The checked content of one BGZF block whose header bgzf_block has read."""
    fast = inflater()
    crc, isize = struct.unpack_from("<II", buf, at + size - 8)
    try:
        data = fast.decompress(buf[data_start : at + size - 8], -15, max(isize, 1))
    except _inflate_errors() as err:
        raise _corrupt(path, f"a BGZF block does not decompress ({err})") from None
    if len(data) != isize or fast.crc32(data) != crc:
        raise _corrupt(path, "a BGZF block fails its checksum")
    return bytes(data)


def _inflate_blocks(
    path: str | os.PathLike[str],
    buf: bytes,
    blocks: list[tuple[int, int, int]],
    one_call: bool = False,
) -> bytes:
    """The checked content of consecutive BGZF blocks (at, size, data start) of `buf`, joined.

    `one_call` (for inflating threads): with ISA-L the whole run is one call (igzip.decompress
    reads gzip members one after another and checks each one's CRC and size), so the thread
    takes the GIL once per run, not twice per block, and does not wait on the thread that scans
    the text; a failure is judged again block by block, which names what is wrong. Block by
    block costs less CPU in a single thread.
    """
    with memoryview(buf) as view:  # no copy of the compressed bytes
        if one_call:
            first, (last, size, _) = blocks[0][0], blocks[-1]
            data = _inflate_members(view[first : last + size])
            if data is not None:
                return data
        return b"".join(_inflate_one(path, view, at, size, start) for at, size, start in blocks)


def _inflate_members(data: memoryview) -> bytes | None:
    """The content of consecutive complete gzip members, checked, in one ISA-L call; None
    without ISA-L or when the data does not inflate cleanly (the caller then finds why)."""
    fast = inflater()
    if fast is zlib:
        return None
    from isal import igzip

    try:
        return bytes(igzip.decompress(data))
    except (OSError, EOFError, ValueError, fast.error):
        return None


def _corrupt(path: str | os.PathLike[str], what: str) -> InputError:
    return InputError(
        f"the bgzipped file is corrupt: {what}",
        path=str(path),
        fix="copy the file again from its source or re-compress the VCF with `bgzip`",
    )


def iter_bgzf(
    path: str | os.PathLike[str], chunk: int = 1 << 22, start: int = 0, threads: int = 1
) -> Iterator[bytes]:
    """Decompress a BGZF file block by block from compressed offset `start`.

    Faster than a generic gzip reader on BGZF (no copy of the remaining input per member) and it
    checks every block's CRC, so a damaged file is an InputError, not a short answer. With
    `threads` > 1 the blocks of successive reads are inflated by a thread pool, at most
    2 x threads reads in flight (memory stays bounded), and yielded in file order.
    """
    if threads <= 1:
        for buf, blocks in _block_runs(path, chunk, start):
            yield _inflate_blocks(path, buf, blocks)
        return
    from concurrent.futures import ThreadPoolExecutor  # only here: it imports logging

    # Smaller reads keep every thread busy and the memory in flight small (~4 MB of text each).
    step = min(chunk, 1 << 20)
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="erbb2-tki-inflate")
    pending: collections.deque[Future[bytes]] = collections.deque()
    try:
        for buf, blocks in _block_runs(path, step, start):
            pending.append(pool.submit(_inflate_blocks, path, buf, blocks, True))
            if len(pending) >= 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _block_runs(
    path: str | os.PathLike[str], chunk: int, start: int
) -> Iterator[tuple[bytes, list[tuple[int, int, int]]]]:
    """(compressed bytes, its complete blocks as (at, size, data start)) per read of ~`chunk`
    bytes from `start`; InputError for a damaged block header or a cut-short last block."""
    with open(path, "rb") as handle:
        handle.seek(start)
        pending = b""
        while True:
            raw = handle.read(chunk)
            buf = pending + raw if pending else raw
            at = 0
            blocks = []
            while at < len(buf):
                found = bgzf_block(buf, at)
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
                blocks.append((at, found[0], found[1]))
                at += found[0]
            pending = buf[at:]
            if blocks:
                yield buf, blocks
            if not raw:
                return


def _truncated(path: str | os.PathLike[str]) -> InputError:
    return InputError(
        "the bgzipped file is truncated (its last block is cut short)",
        path=str(path),
        fix="copy the file again from its source (the copy stopped early) or re-compress the "
        "complete VCF with `bgzip`",
    )
