"""The invariant of extraction: the records reported for the region are exactly those a plain full
scan of the decompressed text finds, for every compression, index state and record order.

The oracle below is deliberately simple (split lines, compare numbers). Files are generated with
records on several contigs, some of chromosome 17's records misplaced among another contig's
(as in a concatenation), long REFs, END and SVLEN spans, duplicates and every alias of chr17;
then written as plain text, gzip, BGZF with tiny blocks (so offsets are many), and BCF, with no
index, a good .tbi/.csi, a stale one (records appended after indexing), a foreign one (another
file's) and a corrupt one. Whatever the method chosen, the answer must equal the oracle's; a
fast path that cannot prove its answer falls back and says why in the note.
"""

from __future__ import annotations

import gzip
import itertools
import os
import random
import shutil
from pathlib import Path

import pysam
import pysam.bcftools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erbb2_tki.vcf.builds import CONTIG_LENGTHS
from erbb2_tki.vcf.extract import erbb2_region, extract_sample

START, END = erbb2_region("GRCh38")
SPAN_TYPES = ("<DEL", "<DUP", "<INV", "<CNV")
CHR17_ALIASES = ["chr17", "17", "Chr17", "CHR17", "NC_000017.11", "CM000679.2"]
OTHERS = {"chr17": ["chr2", "chr16", "chr18"], "17": ["2", "16", "18"]}


def oracle(text: str, chr17: str, start: int = START, end: int = END) -> list[str]:
    """Every record on `chr17` whose reference span overlaps [start, end]: END, else the
    largest |SVLEN| of a <DEL>/<DUP>/<INV>/<CNV> ALT, else REF (the rule htslib indexes by)."""
    found = []
    for line in text.split("\n"):
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if fields[0] != chr17:
            continue
        pos = int(fields[1])
        stop = pos + len(fields[3]) - 1
        info = dict(kv.split("=", 1) for kv in fields[7].split(";") if "=" in kv)
        if "END" in info and int(info["END"]) >= pos:
            stop = int(info["END"])
        elif "SVLEN" in info:
            lengths = info["SVLEN"].split(",")
            for i, alt in enumerate(fields[4].split(",")):
                if alt.upper().startswith(SPAN_TYPES):
                    stop = max(stop, pos + abs(int(lengths[min(i, len(lengths) - 1)])) - 1)
        if pos <= end and stop >= start:
            found.append(line)
    return sorted(found, key=lambda r: int(r.split("\t")[1]))


def header(names: list[str]) -> str:
    lines = ["##fileformat=VCFv4.2"]
    for name in names:
        short = "17" if name in CHR17_ALIASES else name.removeprefix("chr")
        lines.append(f"##contig=<ID={name},length={CONTIG_LENGTHS['GRCh38'][short]}>")
    lines += [
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End">',
        '##INFO=<ID=SVLEN,Number=A,Type=Integer,Description="SV length">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR",
    ]
    return "\n".join(lines) + "\n"


def make_records(rng: random.Random, chr17: str, others: list[str], n: int) -> list[str]:
    out = []
    for i in range(n):
        on17 = rng.random() < 0.6
        chrom = chr17 if on17 else rng.choice(others)
        near = on17 and rng.random() < 0.7
        pos = rng.randint(START - 30000, END + 8000) if near else rng.randint(1, 80_000_000)
        roll = rng.random()
        ref, alt, info = "A", "G", f"DP={i}"
        if roll < 0.08:
            alt, info = (
                rng.choice(["<DUP>", "<DEL>", "<INV>", "<INS>"]),
                f"SVLEN={rng.randint(1, 60000)}",
            )
        elif roll < 0.12:
            alt, info = "<DUP>", f"END={pos + rng.randint(0, 50000)}"
        elif roll < 0.18:
            ref = "A" * rng.randint(2, 400)
            alt = "A"
        out.append(f"{chrom}\t{pos}\tid{i}\t{ref}\t{alt}\t50\tPASS\t{info}\tGT\t0/1")
    return out


def sort_key(order: list[str]):
    return lambda r: (order.index(r.split("\t")[0]), int(r.split("\t")[1]))


def bgzip_text(path: Path, text: str, block: int) -> Path:
    from erbb2_tki.vcf.bgzf import BGZF_EOF, _bgzf_blocks

    data = text.encode()
    with open(path, "wb") as handle:
        for at in range(0, len(data), block):
            handle.write(_bgzf_blocks(data[at : at + block], 6))
        handle.write(BGZF_EOF)
    return path


def write_bcf(text_path: Path, out: Path) -> Path:
    with (
        pysam.VariantFile(str(text_path)) as src,
        pysam.VariantFile(str(out), "wb", header=src.header) as dst,
    ):
        for rec in src:
            dst.write(rec)
    return out


def records_of(path: Path) -> list[str]:
    with gzip.open(path, "rt", errors="replace") as handle:
        return [line.rstrip("\n") for line in handle if not line.startswith("#")]


def normalised(lines: list[str]) -> list[tuple[str, ...]]:
    """Records compared by their first five columns (BCF round trips rewrite QUAL/INFO text)."""
    return sorted(tuple(line.split("\t")[:5]) for line in lines)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(0, 60),
    chr17=st.sampled_from(CHR17_ALIASES),
    misplaced=st.integers(0, 3),
    duplicates=st.integers(0, 2),
    block=st.integers(60, 2000),
    index_state=st.sampled_from(["none", "tbi", "csi", "stale", "foreign", "corrupt"]),
)
def test_every_method_reports_what_a_full_scan_finds(
    tmp_path_factory, seed, n, chr17, misplaced, duplicates, block, index_state
):
    rng = random.Random(seed)
    others = OTHERS["17" if chr17 == "17" else "chr17"]
    order = [others[0], others[1], chr17, others[2]]
    records = sorted(make_records(rng, chr17, others, n), key=sort_key(order))
    records += [records[rng.randrange(len(records))] for _ in range(duplicates)] if records else []
    records.sort(key=sort_key(order))
    folder = tmp_path_factory.mktemp("inv")
    sorted_text = header(order) + "".join(r + "\n" for r in records)
    # Misplace some chromosome-17 records among another contig's (an unsorted file).
    shuffled = list(records)
    on17 = [i for i, r in enumerate(shuffled) if r.startswith(chr17 + "\t")]
    for i in rng.sample(on17, min(misplaced, len(on17))):
        line = shuffled.pop(i)
        shuffled.insert(rng.randrange(0, max(1, len(shuffled) // 3)), line)
    text = header(order) + "".join(r + "\n" for r in shuffled)
    expected = oracle(text, chr17)

    plain = folder / "in.vcf"
    plain.write_text(text)
    (folder / "in.gz.vcf.gz").write_bytes(gzip.compress(text.encode()))
    bgzf = bgzip_text(folder / "in.bgzf.vcf.gz", text, block)
    cases = {"plain": plain, "gzip": folder / "in.gz.vcf.gz", "bgzf": bgzf}

    # Index states for the BGZF file (an index only exists for a sorted file).
    indexed_expected: list[str] = []
    bcf_cases = {"bcf": (write_bcf(plain, folder / "in.bcf"), expected)}  # unsorted, no index
    if index_state in ("tbi", "csi", "stale"):
        indexed = bgzip_text(folder / "idx.vcf.gz", sorted_text, block)
        pysam.tabix_index(str(indexed), preset="vcf", force=True, csi=index_state == "csi")
        final_text = sorted_text
        if index_state == "stale":  # indexed, then a region record appended; index mtime newer
            extra = f"{chr17}\t{START + 77}\tlate\tC\tT\t50\tPASS\tDP=1\tGT\t0/1"
            final = sorted([*records, extra], key=sort_key(order))
            final_text = header(order) + "".join(r + "\n" for r in final)
            bgzip_text(indexed, final_text, block)
            os.utime(f"{indexed}.tbi", None)
        indexed_expected = oracle(final_text, chr17)
        cases["indexed"] = indexed
        if index_state in ("tbi", "csi"):  # a BCF of the sorted records with its .csi
            (folder / "sorted.vcf").write_text(sorted_text)
            bcf = write_bcf(folder / "sorted.vcf", folder / "idx.bcf")
            pysam.bcftools.index(str(bcf))
            bcf_cases["bcf_indexed"] = (bcf, oracle(sorted_text, chr17))
    elif index_state == "foreign":
        other_text = header(order) + "".join(
            r + "\n"
            for r in sorted(
                make_records(random.Random(seed + 1), chr17, others, 40), key=sort_key(order)
            )
        )
        other = bgzip_text(folder / "other.vcf.gz", other_text, block)
        pysam.tabix_index(str(other), preset="vcf", force=True)
        shutil.copy(f"{other}.tbi", f"{bgzf}.tbi")
    elif index_state == "corrupt":
        Path(f"{bgzf}.tbi").write_bytes(
            bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
        )

    for name, (path, want) in bcf_cases.items():
        result = extract_sample(path, folder / f"out.{name}.vcf.gz", build="GRCh38")
        assert normalised(records_of(folder / f"out.{name}.vcf.gz")) == normalised(want), result
        assert result.method == ("index" if name == "bcf_indexed" else "stream"), result

    for name, path in cases.items():
        for assume_sorted in (False, True):
            out = folder / f"out.{name}.{assume_sorted}.vcf.gz"
            result = extract_sample(path, out, build="GRCh38", assume_sorted=assume_sorted)
            want = expected if name != "indexed" else indexed_expected
            if assume_sorted and name == "bgzf" and misplaced and result.method == "bisection":
                continue  # the user declared an unsorted file sorted: bisection trusts them
            assert records_of(out) == want, (name, assume_sorted, result)
            assert result.n_records == len(want)
            if index_state in ("stale", "foreign", "corrupt") and name in ("indexed", "bgzf"):
                assert result.method != "index", result
                if index_state != "stale" or name == "indexed":
                    assert "ignored" in result.note, result


@pytest.mark.parametrize("index_kind", ["none", "csi"])
def test_bcf_equals_the_full_scan(tmp_path, index_kind):
    rng = random.Random(index_kind)
    order = ["chr2", "chr16", "chr17", "chr18"]
    records = sorted(
        make_records(rng, "chr17", ["chr2", "chr16", "chr18"], 80), key=sort_key(order)
    )
    text = header(order) + "".join(r + "\n" for r in records)
    (tmp_path / "in.vcf").write_text(text)
    bcf = write_bcf(tmp_path / "in.vcf", tmp_path / "in.bcf")
    if index_kind == "csi":
        pysam.bcftools.index(str(bcf))
        assert Path(f"{bcf}.csi").is_file()
    result = extract_sample(bcf, tmp_path / "out.vcf.gz", build="GRCh38")
    assert result.method == ("index" if index_kind == "csi" else "stream"), result
    assert normalised(records_of(tmp_path / "out.vcf.gz")) == normalised(oracle(text, "chr17"))


def test_foreign_bcf_index_is_ignored(tmp_path):
    order = ["chr2", "chr16", "chr17", "chr18"]
    texts = []
    for seed, name in ((1, "a"), (2, "b")):
        records = sorted(
            make_records(random.Random(seed), "chr17", ["chr2", "chr16", "chr18"], 60 * seed),
            key=sort_key(order),
        )
        texts.append(header(order) + "".join(r + "\n" for r in records))
        (tmp_path / f"{name}.vcf").write_text(texts[-1])
        write_bcf(tmp_path / f"{name}.vcf", tmp_path / f"{name}.bcf")
    pysam.bcftools.index(str(tmp_path / "b.bcf"))
    shutil.copy(tmp_path / "b.bcf.csi", tmp_path / "a.bcf.csi")
    os.utime(tmp_path / "a.bcf.csi", None)
    result = extract_sample(tmp_path / "a.bcf", tmp_path / "out.vcf.gz", build="GRCh38")
    assert normalised(records_of(tmp_path / "out.vcf.gz")) == normalised(oracle(texts[0], "chr17"))
    assert result.method == "stream" and "ignored" in result.note


# --------------------------------------------------------------------------------------------
# The streaming scan's own code paths: chunk boundaries, threads, inflaters
# --------------------------------------------------------------------------------------------

ALL_NAMES = frozenset(name.encode() for name in CHR17_ALIASES) | {b"NC_000017.10", b"CM000679.1"}


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` cut at the given offsets (sorted, duplicates kept: empty pieces too)."""
    points = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(0, 50),
    chr17=st.sampled_from(CHR17_ALIASES),
    cuts=st.lists(st.integers(0, 20000), max_size=40),
    crlf=st.booleans(),
    final_newline=st.booleans(),
)
def test_scan_finds_every_record_wherever_the_chunks_are_cut(
    seed, n, chr17, cuts, crlf, final_newline
):
    """The text arrives in pieces cut anywhere (inside a name, a tab, a CRLF, a header line):
    the records found are the oracle's, whatever the cuts."""
    from erbb2_tki.vcf.extract import _stream_text

    rng = random.Random(seed)
    others = OTHERS["17" if chr17 == "17" else "chr17"]
    order = [others[0], others[1], chr17, others[2]]
    records = make_records(rng, chr17, others, n)
    rng.shuffle(records)  # any order: the scan must not care
    text = header(order) + "".join(r + "\n" for r in records)
    if not final_newline:
        text = text.rstrip("\n")
    data = text.encode()
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    head, found, seen = _stream_text(iter(split_at(data, cuts)), START, END, "x", ALL_NAMES)
    assert head.replace(b"\r\n", b"\n") == header(order).encode()
    got = sorted(r.decode() for r in found)
    assert got == sorted(oracle(text, chr17))
    assert seen <= {chr17.encode()}


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("chunk", [1, 97, 4096, 1 << 22])
@pytest.mark.parametrize("kind", ["plain", "gzip", "bgzf"])
def test_text_is_the_same_for_every_thread_count_and_chunk_size(tmp_path, kind, chunk, threads):
    """Threaded BGZF inflation (blocks inflated out of order, yielded in order), the read-ahead
    thread for gzip/plain and any chunk size give the file's exact text, and with it the
    oracle's records; records are split across BGZF blocks (blocks of 100-700 bytes)."""
    from erbb2_tki.vcf import bgzf as vcf_bgzf
    from erbb2_tki.vcf.extract import _stream_text

    rng = random.Random(f"{kind}{chunk}{threads}")
    order = ["chr2", "chr16", "chr17", "chr18"]
    records = make_records(rng, "chr17", ["chr2", "chr16", "chr18"], 400)
    rng.shuffle(records)
    text = header(order) + "".join(r + "\n" for r in records)
    data = text.encode()
    path = tmp_path / "in.vcf.gz"
    if kind == "plain":
        path.write_bytes(data)
    elif kind == "gzip":
        # Several members, as `cat a.gz b.gz` makes.
        path.write_bytes(gzip.compress(data[:5000]) + gzip.compress(data[5000:]))
    else:
        with open(path, "wb") as handle:
            at = 0
            while at < len(data):
                size = rng.randint(100, 700)
                handle.write(vcf_bgzf._bgzf_blocks(data[at : at + size], 6))
                at += size
            handle.write(vcf_bgzf.BGZF_EOF)
    assert vcf_bgzf.sniff(path) == kind
    pieces = list(vcf_bgzf.iter_text(path, kind, chunk=chunk, threads=threads))
    assert b"".join(pieces) == data
    _, found, _ = _stream_text(
        vcf_bgzf.iter_text(path, kind, chunk=chunk, threads=threads), START, END, "x", ALL_NAMES
    )
    assert sorted(r.decode() for r in found) == sorted(oracle(text, "chr17"))


@pytest.mark.parametrize("threads", [1, 3])
def test_a_damaged_block_late_in_the_file_is_an_error_with_threads_too(tmp_path, threads):
    """A bad CRC in a block far from the start stops the stream with InputError (never a
    shorter answer), however many blocks other threads have inflated past it."""
    from erbb2_tki.errors import InputError
    from erbb2_tki.vcf import bgzf as vcf_bgzf

    rng = random.Random(7)
    order = ["chr2", "chr16", "chr17", "chr18"]
    records = make_records(rng, "chr17", ["chr2", "chr16", "chr18"], 600)
    text = (header(order) + "".join(r + "\n" for r in records)).encode()
    blocks = [vcf_bgzf._bgzf_blocks(text[at : at + 300], 6) for at in range(0, len(text), 300)]
    bad = bytearray(blocks[len(blocks) * 3 // 4])
    bad[-8] ^= 0xFF  # the CRC
    blocks[len(blocks) * 3 // 4] = bytes(bad)
    path = tmp_path / "bad.vcf.gz"
    path.write_bytes(b"".join(blocks) + vcf_bgzf.BGZF_EOF)
    with pytest.raises(InputError, match="corrupt"):
        for _ in vcf_bgzf.iter_text(path, "bgzf", chunk=1000, threads=threads):
            pass
    with pytest.raises(InputError, match="corrupt"):
        extract_sample(path, tmp_path / "out.vcf.gz", build="GRCh38")
    assert not (tmp_path / "out.vcf.gz").exists()


@pytest.mark.parametrize("kind", ["plain", "gzip", "bgzf"])
def test_a_malformed_record_deep_in_the_file_names_its_line(tmp_path, kind):
    from erbb2_tki.errors import InputError
    from erbb2_tki.vcf import bgzf as vcf_bgzf

    order = ["chr2", "chr16", "chr17", "chr18"]
    records = sorted(
        make_records(random.Random(3), "chr17", ["chr2", "chr16", "chr18"], 3000),
        key=sort_key(order),
    )
    bad_at = len(records) - 5
    records.insert(bad_at, f"chr17\t{START + 10}\tbad\tA")  # fewer than 8 columns
    text = header(order) + "".join(r + "\n" for r in records)
    path = tmp_path / "in.vcf"
    path.write_text(text)
    if kind == "gzip":
        path = tmp_path / "in.vcf.gz"
        path.write_bytes(gzip.compress(text.encode()))
    elif kind == "bgzf":
        path = bgzip_text(tmp_path / "in.vcf.gz", text, 500)
    assert vcf_bgzf.sniff(path) == kind
    with pytest.raises(InputError) as err:
        extract_sample(path, tmp_path / "out.vcf.gz", build="GRCh38")
    assert err.value.record == f"line {header(order).count(chr(10)) + bad_at + 1}"


def test_zlib_is_the_fallback_inflater(tmp_path, monkeypatch):
    """Without python-isal the same text comes out of zlib (the dependency is a speed-up)."""
    import zlib

    from erbb2_tki.vcf import bgzf as vcf_bgzf

    text = (
        header(["chr17"]) + "chr17\t39700000\t.\tA\tG\t50\tPASS\tDP=1\tGT\t0/1\n" * 500
    ).encode()
    path = bgzip_text(tmp_path / "in.vcf.gz", text.decode(), 700)
    fast = list(vcf_bgzf.iter_text(path, "bgzf", chunk=2000, threads=2))
    monkeypatch.setattr(vcf_bgzf, "inflater", lambda: zlib)
    slow = list(vcf_bgzf.iter_text(path, "bgzf", chunk=2000, threads=2))
    gz = tmp_path / "in.gz"
    gz.write_bytes(gzip.compress(text))
    assert b"".join(fast) == b"".join(slow) == text
    assert b"".join(vcf_bgzf.iter_text(gz, "gzip", threads=1)) == text


@pytest.mark.parametrize("kind", ["plain", "gzip", "bgzf"])
def test_stopping_early_stops_the_threads(tmp_path, kind):
    """A reader closed after its first chunk (bisection, an error in the scan) leaves no thread
    behind."""
    import threading

    from erbb2_tki.vcf import bgzf as vcf_bgzf

    text = (header(["chr17"]) + "chr17\t1\t.\tA\tG\t50\tPASS\tDP=1\tGT\t0/1\n" * 5000).encode()
    path = tmp_path / "in.vcf"
    path.write_bytes(text)
    if kind == "gzip":
        path.write_bytes(gzip.compress(text))
    elif kind == "bgzf":
        bgzip_text(path, text.decode(), 1000)
    before = threading.active_count()
    chunks = vcf_bgzf.iter_text(path, kind, chunk=2048, threads=3)
    assert next(chunks)
    chunks.close()
    assert threading.active_count() == before
