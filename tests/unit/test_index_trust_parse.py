"""index_trust's index reader (issue 14, per-sample cost): the run-wise walk over an index's bins
reads the same contig spans as a plain bin-by-bin walk, for tabix and CSI indexes, for bins with
0, 1 or several chunks and for contigs without htslib's pseudo-bin; an index cut short or
with a corrupt count or block is never read as a good one."""

from __future__ import annotations

import gzip
import os
import random
import struct
from pathlib import Path

import pysam
import pytest

from erbb2_tki.vcf import index_trust

PSEUDO_TBI = 37450


def _reference(data: bytes) -> tuple[dict[int, tuple[int, int]], list[str] | None, int]:
    """A bin-by-bin walk of a .tbi (the reader before the run-wise one), for comparison."""
    n_ref = struct.unpack_from("<i", data, 4)[0]
    l_nm = struct.unpack_from("<i", data, 32)[0]
    names = [n.decode() for n in data[36 : 36 + l_nm].split(b"\0")[:n_ref]]
    at = 36 + l_nm
    spans, top = {}, 0
    for ref in range(n_ref):
        (n_bin,) = struct.unpack_from("<i", data, at)
        at += 4
        chunks, pseudo = [], None
        for _ in range(n_bin):
            bin_id, n_chunk = struct.unpack_from("<Ii", data, at)
            at += 8
            pairs = [struct.unpack_from("<2Q", data, at + 16 * c) for c in range(n_chunk)]
            at += 16 * n_chunk
            if bin_id == PSEUDO_TBI and n_chunk:
                pseudo = pairs[0]
            else:
                chunks += pairs
        (n_intv,) = struct.unpack_from("<i", data, at)
        at += 4 + 8 * n_intv
        span = pseudo or (
            (min(b for b, _ in chunks), max(e for _, e in chunks)) if chunks else None
        )
        if span:
            spans[ref] = span
            top = max(top, span[1])
    return spans, names, top


def _tbi(refs: list[list[tuple[int, list[tuple[int, int]]]]], names: list[str]) -> bytes:
    """A hand-made .tbi body: per contig, (bin, chunks) pairs; two linear-index entries each."""
    nm = b"".join(n.encode() + b"\0" for n in names)
    out = b"TBI\x01" + struct.pack("<i6ii", len(refs), 2, 1, 2, 0, ord("#"), 0, len(nm)) + nm
    for bins in refs:
        out += struct.pack("<i", len(bins))
        for bin_id, chunks in bins:
            out += struct.pack("<Ii", bin_id, len(chunks))
            out += b"".join(struct.pack("<2Q", b, e) for b, e in chunks)
        out += struct.pack("<i2Q", 2, 0, 0)
    return out


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(pysam_bgzip(data))
    return path


def pysam_bgzip(data: bytes) -> bytes:
    from erbb2_tki.vcf.bgzf import BGZF_EOF, _bgzf_blocks

    return _bgzf_blocks(data, 6) + BGZF_EOF


def test_real_tabix_and_csi_indexes_read_as_a_bin_by_bin_walk_reads_them(tmp_path: Path) -> None:
    header = "##fileformat=VCFv4.2\n" + "".join(
        f"##contig=<ID=chr{c},length=250000000>\n" for c in (1, 2, 17)
    )
    header += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    rng = random.Random(7)
    lines = []
    for chrom in ("chr1", "chr2", "chr17"):
        for pos in sorted(rng.sample(range(1, 200_000_000), 800)):
            lines.append(f"{chrom}\t{pos}\t.\tA\tG\t1\tPASS\t.\n")
    plain = tmp_path / "a.vcf"
    plain.write_text(header + "".join(lines))
    vcf = tmp_path / "a.vcf.gz"
    pysam.tabix_compress(str(plain), str(vcf), force=True)
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    data = gzip.decompress(Path(f"{vcf}.tbi").read_bytes())
    spans, names, top = index_trust._parse(Path(f"{vcf}.tbi"))
    assert (spans, names, top) == _reference(data)
    assert len(spans) == 3 and names == ["chr1", "chr2", "chr17"]
    assert index_trust.check(vcf, Path(f"{vcf}.tbi"), False, header.encode(), {b"chr17"}) is None
    pysam.tabix_index(str(vcf), preset="vcf", force=True, csi=True)
    csi_spans, csi_names, csi_top = index_trust._parse(Path(f"{vcf}.csi"))
    assert (csi_spans, csi_names, csi_top) == (spans, names, top)


def test_bins_with_other_chunk_counts_and_no_pseudo_bin(tmp_path: Path) -> None:
    refs = [
        # pseudo-bin between bins of 1, 0 and 3 chunks
        [
            (4681, [(100 << 16, 200 << 16)]),
            (4682, []),
            (PSEUDO_TBI, [(90 << 16, 900 << 16), (5, 0)]),
            (4683, [(1, 2), (3, 4), (5, 6)]),
        ],
        # no pseudo-bin: the span comes from every chunk
        [(4690, [(1000 << 16, 1100 << 16)]), (4691, [(950 << 16, 1200 << 16), (7, 8)])],
        # no bins at all
        [],
        # only one-chunk bins, the pseudo-bin last
        [(4700 + i, [(i << 16, (i + 1) << 16)]) for i in range(50)]
        + [(PSEUDO_TBI, [(3000 << 16, 4000 << 16), (1, 1)])],
    ]
    data = _tbi(refs, ["a", "b", "c", "d"])
    index = _write(tmp_path / "x.tbi", data)
    got = index_trust._parse(index)
    assert got == _reference(data)
    assert got[0] == {
        0: (90 << 16, 900 << 16),
        1: (7, 1200 << 16),
        3: (3000 << 16, 4000 << 16),
    }


@pytest.mark.parametrize("cut", [40, 60, 99, -60, -17, -5])
def test_an_index_cut_short_is_not_read(tmp_path: Path, cut: int) -> None:
    refs = [[(4681 + i, [(i << 16, (i + 1) << 16)]) for i in range(20)] for _ in range(3)]
    data = _tbi(refs, ["a", "b", "c"])
    index = _write(tmp_path / "x.tbi", data[:cut])
    with pytest.raises(index_trust._Untrusted, match="not a readable"):
        index_trust._parse(index)


def test_a_negative_count_or_a_damaged_block_is_not_read(tmp_path: Path) -> None:
    refs = [[(4681, [(1, 2)]), (4682, [(3, 4)])]]
    data = bytearray(_tbi(refs, ["a"]))
    at = data.index(struct.pack("<Ii", 4682, 1)) + 4
    data[at : at + 4] = struct.pack("<i", -3)
    with pytest.raises(index_trust._Untrusted, match="not a readable"):
        index_trust._parse(_write(tmp_path / "neg.tbi", bytes(data)))
    good = pysam_bgzip(_tbi(refs, ["a"]))
    damaged = bytearray(good)
    damaged[30] ^= 0xFF  # inside the first block's deflate data: CRC32 or inflate fails
    (tmp_path / "crc.tbi").write_bytes(bytes(damaged))
    with pytest.raises(index_trust._Untrusted, match="corrupt compression"):
        index_trust._parse(tmp_path / "crc.tbi")
    (tmp_path / "plain_gzip.tbi").write_bytes(gzip.compress(_tbi(refs, ["a"])))
    assert index_trust._parse(tmp_path / "plain_gzip.tbi")[0] == {0: (1, 4)}


# --- the region read from the checked index (no second index load) ------------------------


def _pysam_query(vcf: Path, start: int, end: int) -> list[bytes]:
    tabix = pysam.TabixFile(str(vcf), encoding="latin-1")
    try:
        return [
            line.rstrip("\r\n").encode("latin-1")
            for name in tabix.contigs
            if name == "chr17"
            for line in tabix.fetch(name, start - 1, end)
        ]
    finally:
        tabix.close()


def _sv_vcf(tmp_path: Path, seed: int, crlf: bool = False) -> Path:
    rng = random.Random(seed)
    header = "##fileformat=VCFv4.2\n" + "".join(
        f"##contig=<ID={c},length=250000000>\n" for c in ("chr1", "chr17", "chr18")
    )
    header += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    rows = [("chr1", p, "A", "G", ".") for p in sorted(rng.sample(range(1, 10**6), 300))]
    chr17 = []
    for pos in sorted(rng.sample(range(39_000_000, 40_500_000), 400)):
        kind = rng.random()
        if kind < 0.1:
            chr17.append((pos, "N", "<DEL>", f"SVLEN=-{rng.randrange(1, 400_000)}"))
        elif kind < 0.2:
            chr17.append((pos, "N", "<DUP>", f"END={pos + rng.randrange(0, 300_000)};SVTYPE=DUP"))
        elif kind < 0.25:
            chr17.append((pos, "N", "<INS>", "SVLEN=5000"))
        elif kind < 0.3:
            chr17.append((pos, "A" * rng.randrange(2, 40), "A", "."))
        else:
            chr17.append((pos, "C", "T", "DP=10"))
    rows += [("chr17", p, r, a, i) for p, r, a, i in chr17]
    rows += [("chr18", p, "A", "G", ".") for p in sorted(rng.sample(range(1, 10**6), 50))]
    end = "\r\n" if crlf else "\n"
    plain = tmp_path / f"sv{seed}.vcf"
    plain.write_text(
        header + "".join(f"{c}\t{p}\t.\t{r}\t{a}\t1\tPASS\t{i}{end}" for c, p, r, a, i in rows),
        newline="",
    )
    vcf = tmp_path / f"sv{seed}.vcf.gz"
    pysam.tabix_compress(str(plain), str(vcf), force=True)
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    return vcf


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_region_read_from_the_checked_index_is_what_tabix_returns(
    tmp_path: Path, seed: int
) -> None:
    vcf = _sv_vcf(tmp_path, seed, crlf=seed == 3)
    index = Path(f"{vcf}.tbi")
    header = vcf.read_bytes()[:0]  # check() needs the header only for BCF
    assert index_trust.check(vcf, index, False, header, {b"chr17"}) is None
    rng = random.Random(seed)
    regions = [(39_695_064, 39_733_658), (1, 39_000_000), (40_400_000, 90_000_000)]
    regions += [
        (s, s + rng.randrange(1, 200_000)) for s in rng.sample(range(38_900_000, 40_600_000), 20)
    ]
    for start, end in regions:
        got = index_trust.query(vcf, index, start, end, {b"chr17"})
        assert got is not None
        assert got == (_pysam_query(vcf, start, end), {b"chr17"}), (start, end)


def test_the_remembered_index_is_not_used_for_another_or_a_changed_file(tmp_path: Path) -> None:
    one, two = _sv_vcf(tmp_path, 4), _sv_vcf(tmp_path, 5)
    assert index_trust.check(one, Path(f"{one}.tbi"), False, b"", {b"chr17"}) is None
    assert index_trust.query(two, Path(f"{two}.tbi"), 1, 10**9, {b"chr17"}) is None
    assert index_trust.query(one, Path(f"{two}.tbi"), 1, 10**9, {b"chr17"}) is None
    assert index_trust.query(one, Path(f"{one}.tbi"), 1, 10**9, {b"chr17"}) is not None
    with open(one, "ab") as handle:  # changed after the check: its identity no longer matches
        handle.write(b"")

    os.utime(one, ns=(1, 1))
    assert index_trust.query(one, Path(f"{one}.tbi"), 1, 10**9, {b"chr17"}) is None
    # an index that is not trusted is not remembered
    assert index_trust.check(one, Path(f"{two}.tbi"), False, b"", {b"chr17"}) is not None
    assert index_trust.query(one, Path(f"{two}.tbi"), 1, 10**9, {b"chr17"}) is None
