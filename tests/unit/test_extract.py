"""extract: the ERBB2 region by index, BGZF bisection and streaming gives one answer.

Every fast path is checked against a plain full scan written here (chromosome 17, POS..END
overlapping the region, END from INFO else POS+len(REF)-1). Files are generated with small BGZF
blocks so bisection really searches. Known answer: the GRCh38 NM_004448.4 span is
chr17:39,700,064-39,728,658, GRCh37 = GRCh38 - 1,843,747.
"""

from __future__ import annotations

import gzip
import random
import struct
import zlib
from pathlib import Path

import pysam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erbb2_tki.errors import InputError
from erbb2_tki.vcf import bisection
from erbb2_tki.vcf.builds import CONTIG_LENGTHS
from erbb2_tki.vcf.extract import erbb2_region, extract_sample
from erbb2_tki.vcf.reader import open_vcf

START, END = erbb2_region("GRCh38")
EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def test_region_is_the_transcript_span_plus_padding():
    assert erbb2_region("GRCh38", padding=0) == (39700064, 39728658)
    assert erbb2_region("GRCh37", padding=0) == (39700064 - 1843747, 39728658 - 1843747)
    assert erbb2_region("hg38") == (39700064 - 5000, 39728658 + 5000)


def header(contigs: list[str], build: str = "GRCh38") -> str:
    lines = ["##fileformat=VCFv4.2"]
    for name in contigs:
        length = CONTIG_LENGTHS[build][name.removeprefix("chr")]
        lines.append(f"##contig=<ID={name},length={length}>")
    lines += [
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR",
    ]
    return "\n".join(lines) + "\n"


def record(chrom: str, pos: int, ref: str = "A", alt: str = "G", info: str = "DP=9") -> str:
    return f"{chrom}\t{pos}\tr{pos}\t{ref}\t{alt}\t50\tPASS\t{info}\tGT:AD\t0/1:5,4\n"


def bgzf_block(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    cdata = c.compress(data) + c.flush()
    head = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
    return (
        head
        + struct.pack("<H", len(cdata) + 25)
        + cdata
        + struct.pack("<II", zlib.crc32(data), len(data))
    )


def write_bgzf(path: Path, text: str, block: int = 300) -> Path:
    """BGZF with tiny blocks, so lines cross blocks and bisection takes many steps."""
    data = text.encode()
    with open(path, "wb") as handle:
        for i in range(0, len(data), block):
            handle.write(bgzf_block(data[i : i + block]))
        handle.write(EOF_BLOCK)
    return path


def full_scan(text: str, start: int = START, end: int = END) -> list[str]:
    """The reference answer: every chr17 record whose POS..END overlaps [start, end]."""
    found = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if fields[0] not in ("chr17", "17"):
            continue
        pos = int(fields[1])
        stop = pos + len(fields[3]) - 1
        for item in fields[7].split(";"):
            if item.startswith("END=") and int(item[4:]) >= pos:
                stop = int(item[4:])
        if pos <= end and stop >= start:
            found.append(line)
    return found


def extracted(path: Path) -> list[str]:
    with gzip.open(path, "rt") as handle:
        return [line.rstrip("\n") for line in handle if not line.startswith("#")]


@pytest.fixture
def small_window(monkeypatch):
    """Bisect down to single blocks (the default stops at 64 kB, larger than these files)."""
    monkeypatch.setattr(bisection, "_BISECT_WINDOW", 1)


def layout(seed: int, contigs: list[str], per_contig: int = 120) -> str:
    rng = random.Random(seed)
    body = []
    for name in contigs:
        length = CONTIG_LENGTHS["GRCh38"][name.removeprefix("chr")]
        if name.removeprefix("chr") == "17":
            positions = sorted(
                [rng.randint(1, length) for _ in range(per_contig // 2)]
                + [rng.randint(START - 3000, END + 3000) for _ in range(per_contig // 2)]
            )
        else:
            positions = sorted(rng.randint(1, length) for _ in range(per_contig))
        for pos in positions:
            roll = rng.random()
            if roll < 0.05:
                body.append(
                    record(name, pos, "A", "<DUP>", f"END={pos + rng.randint(1, 20000000)}")
                )
            elif roll < 0.1:
                body.append(record(name, pos, "A" * rng.randint(2, 3000), "A"))
            else:
                body.append(record(name, pos))
    return "".join(body)


def all_methods(tmp_path: Path, text: str) -> dict[str, tuple[str, list[str]]]:
    """Extract the same text as plain, gzip, tiny-block BGZF and indexed BGZF."""
    results = {}
    plain = tmp_path / "in.vcf"
    plain.write_text(text)
    (tmp_path / "in.gz.vcf.gz").write_bytes(gzip.compress(text.encode()))
    write_bgzf(tmp_path / "in.bgzf.vcf.gz", text)
    indexed = write_bgzf(tmp_path / "in.idx.vcf.gz", text)
    pysam.tabix_index(str(indexed), preset="vcf", force=True)
    for name in ("in.vcf", "in.gz.vcf.gz", "in.bgzf.vcf.gz", "in.idx.vcf.gz"):
        out = tmp_path / f"out.{name}"
        # The tiny-block BGZF is declared sorted: that is the only way bisection is used.
        declared = name == "in.bgzf.vcf.gz"
        result = extract_sample(tmp_path / name, out, build="GRCh38", assume_sorted=declared)
        results[name] = (result.method, extracted(out))
        assert result.n_records == len(results[name][1])
    return results


CONTIGS = [f"chr{i}" for i in range(1, 23)] + ["chrX"]


@pytest.mark.parametrize(
    ("contigs", "case"),
    [
        (CONTIGS, "region in the middle"),
        (["chr16", "chr17", "chr18"], "chromosome boundaries"),
        (["chr17", "chr18", "chr19"], "chr17 at the very start of the file"),
        (["chr1", "chr2", "chr17"], "chr17 at the very end of the file"),
        (["chr17"], "chr17 only"),
        (["chr1", "chr2", "chr18"], "file without chr17"),
    ],
)
def test_every_method_equals_the_full_scan(tmp_path, small_window, contigs, case):
    text = header(contigs) + layout(len(case), contigs)
    expected = full_scan(text)
    results = all_methods(tmp_path, text)
    assert results["in.vcf"] == ("stream", expected)
    assert results["in.gz.vcf.gz"] == ("stream", expected)
    assert results["in.idx.vcf.gz"] == ("index", expected)
    method, records = results["in.bgzf.vcf.gz"]
    assert records == expected
    assert method == ("bisection" if "chr17" in contigs else "stream")
    if "chr17" in contigs:
        assert expected, "the layout plants records in the region"


def test_region_records_at_the_very_end_of_the_file(tmp_path, small_window):
    body = "".join(record("chr17", p) for p in (100, 5000, START, START + 10, END))
    text = header(["chr16", "chr17"]) + record("chr16", 5) + body
    results = all_methods(tmp_path, text)
    for method, records in results.values():
        assert [r.split("\t")[1] for r in records] == [str(START), str(START + 10), str(END)]
        assert method in ("stream", "bisection", "index")


def test_region_records_at_the_very_start_of_the_file(tmp_path, small_window):
    body = "".join(record("chr17", p) for p in (START, START + 1, END + 1, 50000000))
    text = header(["chr17", "chr18"]) + body + record("chr18", 7)
    for method, records in all_methods(tmp_path, text).values():
        assert [r.split("\t")[1] for r in records] == [str(START), str(START + 1)], method


def test_records_reaching_into_the_region_are_kept(tmp_path, small_window):
    long_ref = "A" * 200
    body = (
        record("chr17", 1000, "A", "<DUP>", "END=45000000")  # 39 Mb upstream, covers ERBB2
        + record("chr17", START - 200, long_ref, "A")  # REF ends one base short
        + record("chr17", START - 199, long_ref, "A")  # REF ends exactly on START
        + record("chr17", START - 50, "A", "<*>", "END=" + str(START))  # gVCF block into region
        + record("chr17", START - 40, "A", "<*>", "END=" + str(START - 1))  # ends just before
    )
    text = header(["chr16", "chr17"]) + layout(3, ["chr16"]) + body
    expected = full_scan(text)
    assert [r.split("\t")[1] for r in expected] == ["1000", str(START - 199), str(START - 50)]
    for method, records in all_methods(tmp_path, text).values():
        assert records == expected, method


def test_unsorted_file_falls_back_to_streaming_and_is_still_right(tmp_path, small_window):
    text = header(CONTIGS) + layout(7, CONTIGS)
    lines = text.splitlines(keepends=True)
    head = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    wanted = {r + "\n" for r in full_scan(text)}
    region = [line for line in body if line in wanted]
    rest = [line for line in body if line not in region]
    shuffled = "".join(head + region[len(region) // 2 :] + rest + region[: len(region) // 2])
    path = write_bgzf(tmp_path / "unsorted.vcf.gz", shuffled)
    out = tmp_path / "out.vcf.gz"
    result = extract_sample(path, out, build="GRCh38", assume_sorted=True)
    assert result.method == "stream"
    assert "not trusted" in result.note
    assert sorted(extracted(out)) == sorted(full_scan(shuffled))
    assert "sorted" in result.note  # the output is in position order so it can be indexed


def test_contigs_in_a_different_order_than_the_records_fall_back(tmp_path, small_window):
    text = header(list(reversed(CONTIGS))) + layout(11, CONTIGS)
    path = write_bgzf(tmp_path / "in.vcf.gz", text)
    result = extract_sample(path, tmp_path / "out.vcf.gz", build="GRCh38", assume_sorted=True)
    assert result.method == "stream"
    assert extracted(tmp_path / "out.vcf.gz") == full_scan(text)


def test_bgzf_without_contig_lines_is_streamed(tmp_path):
    text = header([]) + record("chr17", START + 5)
    path = write_bgzf(tmp_path / "in.vcf.gz", text)
    result = extract_sample(path, tmp_path / "out.vcf.gz", build="GRCh38", assume_sorted=True)
    assert (result.method, result.n_records, result.contig) == ("stream", 1, "chr17")
    assert "no ##contig" in result.note


def test_default_window_bisection_on_a_larger_file(tmp_path):
    text = header(CONTIGS) + layout(5, CONTIGS, per_contig=900)
    path = write_bgzf(tmp_path / "in.vcf.gz", text, block=2000)
    assert path.stat().st_size > 4 * 65536
    result = extract_sample(path, tmp_path / "out.vcf.gz", build="GRCh38", assume_sorted=True)
    assert result.method == "bisection"
    assert extracted(tmp_path / "out.vcf.gz") == full_scan(text)


def test_numeric_contig_names_and_grch37(tmp_path, small_window):
    contigs = [str(i) for i in range(14, 20)]
    start37, end37 = erbb2_region("GRCh37")
    body = "".join(
        record(c, p)
        for c in contigs
        for p in ((start37 - 10, start37, end37, end37 + 1) if c == "17" else (start37, 1000))
    )
    text = header(contigs, build="GRCh37") + body
    path = write_bgzf(tmp_path / "in.vcf.gz", text)
    result = extract_sample(path, tmp_path / "out.vcf.gz", build=None, assume_sorted=True)
    assert (result.build, result.method, result.contig) == ("GRCh37", "bisection", "17")
    assert [r.split("\t")[1] for r in extracted(tmp_path / "out.vcf.gz")] == [
        str(start37),
        str(end37),
    ]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    contigs=st.lists(st.sampled_from(CONTIGS), min_size=1, max_size=6, unique=True),
    per_contig=st.integers(min_value=0, max_value=60),
    seed=st.integers(min_value=0, max_value=10**6),
    block=st.integers(min_value=40, max_value=3000),
)
def test_bisection_equals_full_scan_on_random_layouts(
    tmp_path_factory, contigs, per_contig, seed, block
):
    contigs = sorted(contigs, key=CONTIGS.index)
    text = header(contigs) + layout(seed, contigs, per_contig)
    folder = tmp_path_factory.mktemp("layout")
    path = write_bgzf(folder / "in.vcf.gz", text, block=block)
    saved = bisection._BISECT_WINDOW
    bisection._BISECT_WINDOW = 1
    try:
        result = extract_sample(path, folder / "out.vcf.gz", build="GRCh38", assume_sorted=True)
    finally:
        bisection._BISECT_WINDOW = saved
    assert extracted(folder / "out.vcf.gz") == full_scan(text)
    assert result.method == ("bisection" if "chr17" in contigs else "stream")


# --------------------------------------------------------------------------------------------
# Output and errors
# --------------------------------------------------------------------------------------------


def test_output_keeps_the_header_and_the_records_byte_for_byte(tmp_path):
    line = "chr17\t39723967\trs1\tT\tC\t50.5\tPASS\tDP=100;X=a%20b\tGT:AD\t0/1:60,40"
    text = header(["chr17"]) + line + "\n"
    source = tmp_path / "in.vcf"
    source.write_text(text)
    out = tmp_path / "res" / "s1.erbb2.vcf.gz"
    result = extract_sample(source, out, build="GRCh38")
    with gzip.open(out, "rt") as handle:
        written = handle.read()
    head = text.split("#CHROM")[0]
    assert written.startswith(head)
    assert "##erbb2_tki_extract=<" in written
    assert "Region=chr17:39695064-39733658,Method=stream" in written
    assert written.endswith(line + "\n")
    assert sorted(p.name for p in out.parent.iterdir()) == ["s1.erbb2.vcf.gz"]  # no temp, no .tbi
    assert (result.build, result.n_records, result.contig) == ("GRCh38", 1, "chr17")
    assert [v.POS for v in open_vcf(out)] == [39723967]


def test_header_only_file_gives_no_erbb2_call(tmp_path):
    source = tmp_path / "in.vcf"
    source.write_text(header(["chr17"]))
    result = extract_sample(source, tmp_path / "out.vcf.gz", build=None)
    assert (result.n_records, result.build) == (0, "GRCh38")
    assert extracted(tmp_path / "out.vcf.gz") == []


def test_extraction_is_deterministic(tmp_path):
    source = tmp_path / "in.vcf"
    source.write_text(header(["chr17"]) + record("chr17", START + 1))
    extract_sample(source, tmp_path / "a.vcf.gz", build="GRCh38")
    extract_sample(source, tmp_path / "b.vcf.gz", build="GRCh38")
    assert (tmp_path / "a.vcf.gz").read_bytes() == (tmp_path / "b.vcf.gz").read_bytes()


def test_stale_index_is_not_trusted(tmp_path):
    text = header(["chr16", "chr17"]) + record("chr16", 5) + record("chr17", START + 1)
    path = write_bgzf(tmp_path / "in.vcf.gz", text)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    index = Path(str(path) + ".tbi")
    import os

    os.utime(index, (1, 1))
    result = extract_sample(path, tmp_path / "out.vcf.gz", build="GRCh38")
    assert result.method == "stream"
    assert "older than the file" in result.note


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("missing", "does not exist"),
        ("empty", "empty"),
        ("not a VCF", "not a VCF"),
        ("truncated gzip", "truncated"),
        ("truncated bgzip", "truncated"),
        ("build contradicts declared", "the header says GRCh38"),
        ("malformed chr17 record", "POS is not a whole number"),
    ],
)
def test_bad_input_corpus_fails_with_file_sample_and_fix_and_leaves_nothing(tmp_path, kind, words):
    folder = tmp_path / "batch with spaces"
    folder.mkdir()
    path = folder / "s 1.vcf"
    good = header(CONTIGS) + layout(1, CONTIGS, per_contig=200)
    declared = "GRCh38"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "not a VCF":
        path.write_text("gene\tprotein_change\nERBB2\tL755S\n")
    elif kind == "truncated gzip":
        path = folder / "s 1.vcf.gz"
        data = gzip.compress(good.encode())
        path.write_bytes(data[: len(data) * 3 // 4])
    elif kind == "truncated bgzip":
        path = write_bgzf(folder / "s 1.vcf.gz", good)
        path.write_bytes(path.read_bytes()[:-2000])
    elif kind == "build contradicts declared":
        path.write_text(good)
        declared = "GRCh37"
    elif kind == "malformed chr17 record":
        path.write_text(header(["chr17"]) + "chr17\t39723x67\t.\tT\tC\t.\t.\t.\tGT\t0/1\n")
    out = tmp_path / "results" / "s1.erbb2.vcf.gz"
    with pytest.raises(InputError) as err:
        extract_sample(path, out, build=declared, sample="s1")
    message = str(err.value)
    assert words in message
    assert "sample s1" in message
    assert str(path) in message
    assert "Fix:" in message
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_path_with_spaces_works(tmp_path):
    folder = tmp_path / "my batch"
    folder.mkdir()
    source = folder / "tumour 1.vcf"
    source.write_text(header(["chr17"]) + record("chr17", START + 1))
    result = extract_sample(source, folder / "out put.vcf.gz", build=None)
    assert result.n_records == 1


# --------------------------------------------------------------------------------------------
# Fuzz: only InputError, never another exception
# --------------------------------------------------------------------------------------------

SEED_TEXT = header(["chr16", "chr17"]) + "".join(
    record("chr17", p) for p in (START - 5, START + 3, END)
)


def mutate(text: str, edits: list[tuple[int, int, str]]) -> bytes:
    data = bytearray(text.encode())
    for kind, at, value in edits:
        if not data:
            data += value.encode()
            continue
        at %= len(data)
        if kind == 0:
            del data[at : at + len(value) + 1]
        elif kind == 1:
            data[at:at] = value.encode()
        else:
            data[at] = ord(value[0]) if value else 0
    return bytes(data)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.integers(0, 10**6),
            st.sampled_from(["\t", "\n", "\r\n", "#", "chr17", "END=", ",", "<DUP>", "", "x", "9"]),
        ),
        max_size=6,
    ),
    raw=st.one_of(st.none(), st.binary(max_size=300)),
    compress=st.sampled_from(["plain", "gzip", "bgzf"]),
)
def test_fuzz_open_and_extract_raise_only_input_error(tmp_path_factory, edits, raw, compress):
    folder = tmp_path_factory.mktemp("fuzz")
    data = raw if raw is not None else mutate(SEED_TEXT, edits)
    path = folder / "in.vcf"
    if compress == "gzip":
        path.write_bytes(gzip.compress(data))
    elif compress == "bgzf":
        path.write_bytes(bgzf_block(data) + EOF_BLOCK if data else b"")
    else:
        path.write_bytes(data)
    out = folder / "out.vcf.gz"
    try:
        open_vcf(path)
        extract_sample(path, out, build="GRCh38")
    except InputError as err:
        assert str(path) in str(err)
        assert not out.exists()


def test_indexed_extract_matches_bcftools_and_replaces_a_stale_output_index(tmp_path):
    import subprocess

    text = header(["chr16", "chr17", "chr18"])
    text += record("chr16", 5) + record("chr17", START - 10) + record("chr17", START + 1)
    text += record("chr17", END) + record("chr17", END + 1) + record("chr18", 3)
    path = write_bgzf(tmp_path / "in.vcf.gz", text)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    out = tmp_path / "out.vcf.gz"
    Path(str(out) + ".tbi").write_bytes(b"left by an earlier version")
    result = extract_sample(path, out, build=None)
    expected = subprocess.run(
        ["bcftools", "view", "-H", "-r", f"chr17:{START}-{END}", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert (result.method, result.n_records) == ("index", 2)
    assert extracted(out) == expected == full_scan(text)
    assert not Path(str(out) + ".tbi").exists()


def test_header_htslib_cannot_parse_is_named_after_the_users_file(tmp_path):
    bad = header(["chr17"]).replace("##fileformat=VCFv4.2\n", "##fileformat=VCFv4.2\n##INFO=<ID=\n")
    source = tmp_path / "in.vcf"
    source.write_text(bad + record("chr17", START + 1))
    out = tmp_path / "out.vcf.gz"
    try:
        extract_sample(source, out, build="GRCh38", sample="S1")
    except InputError as err:
        assert str(source) in str(err) and "S1" in str(err)
        assert not out.exists()
    else:  # htslib accepted the line: the record must still come out intact
        assert len(extracted(out)) == 1
