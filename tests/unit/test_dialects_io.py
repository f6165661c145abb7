"""Every real caller VCF in ../shared/dialects: opened, its build, its tumour column, no ERBB2 call,
and a copy with an ERBB2 record spliced in that comes out with the caller's own VAF and depth.

The spliced record is one of the file's own records (its FORMAT and sample fields unchanged) moved
to ERBB2 L755 (GRCh38 chr17:39723967, GRCh37 chr17:37880220) and put at its sort position, so
bisection, streaming and the per-caller field readers all see the caller's real dialect. The
expected figures are read off the template record's own text (e.g. DRAGEN tumour AF 0.6000 of
AD 8,12, VarScan FREQ 38.46%).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import pysam
import pytest

from erbb2_tki import vcf_io
from erbb2_tki.errors import InputError
from erbb2_tki.extract import erbb2_region, extract_sample

pytestmark = pytest.mark.dialects

L755 = {"GRCh38": 39723967, "GRCh37": 39723967 - 1843747}


@dataclass(frozen=True)
class Dialect:
    build: str | None  # None: the header has no build evidence (InputError unless declared)
    declared: str  # what a user passes for it (sheet/--build); checked against the header
    tumour: str
    template: str  # regex a record's ALT/FORMAT text must match to serve as template
    vaf: float | None
    depth: int | None
    alt_depth: int | None
    vaf_source: str
    event: str | None = None  # structural dialects: the event the spliced record gives


DIALECTS = {
    "megsap_dragen_3.x_germline_in.vcf": Dialect(
        "GRCh37", "GRCh37", "SAMPLE", r"\tCCT\tC\t", 0.562, 130, 73, "FORMAT/AF"
    ),
    "megsap_dragen_4.4.6_somatic_in1.vcf.gz": Dialect(
        "GRCh38", "GRCh38", "DNA24XXXX1A1_01", r"\t104033\t", 0.6, 20, 12, "FORMAT/AF"
    ),
    "megsap_vc_deepsomatic_out1.vcf.gz": Dialect(
        "GRCh38", "GRCh38", "vc_deepsomatic_tu_in", r"\t10005028\t", 0.025974, 77, 2, "FORMAT/VAF"
    ),
    "megsap_vc_deepvariant_out6.gvcf.gz": Dialect(
        "GRCh38", "GRCh38", "vc_freebayes_in", r"\tG,<\*>\t", 0.488889, 45, 22, "FORMAT/VAF"
    ),
    "megsap_vc_freebayes_out1.vcf.gz": Dialect(
        "GRCh38", "GRCh38", "vc_freebayes_in", r"\t10678964\t", 22 / 45, 45, 22, "AO/DP"
    ),
    "megsap_vc_manta_out1.vcf.gz": Dialect(
        "GRCh38", "GRCh38", "vc_manta_in1_temp", r"<DEL>", None, None, None, "",
        event="possible_structural_event",
    ),
    "megsap_vc_strelka2_1_out.vcf.gz": Dialect(
        "GRCh38", "GRCh38", "vc_strelka2_tu_in", r"\t48748315\t", 1.0, 1, 1, "strelka_tier1_SNV"
    ),
    "megsap_vc_varscan2_1_out.vcf.gz": Dialect(
        "GRCh38", "GRCh38", "varscan2_tumor", r"\t86266075\t", 1.0, 245, 245, "FORMAT/FREQ"
    ),
    "vcf2maf_test_b38.vcf": Dialect(
        "GRCh38", "GRCh38", "TUMOR", r"\t34792292\t", 21 / 54, 54, 21, "AD/DP"
    ),
    "vcf2maf_test_delly.vcf": Dialect(
        "GRCh37", "GRCh37", "TUMOR", r"\t<DUP>\t", None, None, None, "",
        event="possible_amplification_or_structural_event",
    ),
    "vcf2maf_test_mutect.vcf": Dialect(
        "GRCh37", "GRCh37", "TUMOR", r"\t2453125\t", 0.146, 206, 30, "FORMAT/FA"
    ),
    "vcf2maf_test_pindel.vcf": Dialect(
        "GRCh37", "GRCh37", "TUMOR", r"\t16890971\t", 4 / 47, 47, 4, "AD"
    ),
    "vcf2maf_test_strelka.vcf": Dialect(
        None, "GRCh37", "TUMOR", r"\t12170228\t", 1.0, 57, 57, "strelka_tier1_SNV"
    ),
    "vcf2maf_test_varscan.vcf": Dialect(
        None, "GRCh37", "TUMOR", r"\t1991014\t", 0.3846, 91, 35, "FORMAT/FREQ"
    ),
}  # fmt: skip


def test_every_dialect_file_is_covered(dialects_dir):
    present = {
        p.name for p in dialects_dir.iterdir() if "vcf" in p.name and not p.name.endswith(".txt")
    }
    assert present == set(DIALECTS)


@pytest.fixture(params=sorted(DIALECTS))
def dialect(request, dialects_dir) -> tuple[Path, Dialect]:
    path = dialects_dir / request.param
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    return path, DIALECTS[request.param]


def test_dialect_opens_and_its_build_is_found_or_asked_for(dialect):
    path, expected = dialect
    reader = vcf_io.open_vcf(path)
    if expected.build is None:
        with pytest.raises(InputError) as err:
            vcf_io.detect_build(reader, path, None)
        assert "cannot be told from the header" in str(err.value)
        assert "--build" in str(err.value)
    else:
        assert vcf_io.detect_build(reader, path, None).build == expected.build
    assert vcf_io.detect_build(reader, path, expected.declared).build == expected.declared


def test_dialect_tumour_column(dialect):
    path, expected = dialect
    index, name = vcf_io.choose_tumour_sample(vcf_io.open_vcf(path), path)
    assert name == expected.tumour
    assert vcf_io.open_vcf(path).samples[index] == name


def test_dialect_without_erbb2_calls_extracts_nothing(dialect, tmp_path):
    path, expected = dialect
    result = extract_sample(path, tmp_path / "out.vcf.gz", build=expected.declared)
    assert result.n_records == 0
    assert result.build == expected.declared
    with gzip.open(tmp_path / "out.vcf.gz", "rt") as handle:
        assert [line for line in handle if not line.startswith("#")] == []


def _text(path: Path) -> str:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as handle:
        return handle.read()


def _natural(chrom: str) -> tuple[int, str]:
    short = chrom.removeprefix("chr")
    if short.isdigit():
        return int(short), ""
    return 100, short


def splice(
    path: Path, expected: Dialect, out_dir: Path, pos: int | None = None
) -> tuple[Path, str]:
    """A copy of the file with its template record moved to ERBB2 (L755 unless `pos`), at its
    sort position; an INFO END moves with it."""
    text = _text(path)
    lines = text.splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    template = next(line for line in body if re.search(expected.template, line))
    fields = template.rstrip("\n").split("\t")
    chrom = "chr17" if fields[0].startswith("chr") else "17"
    pos = pos or L755[expected.declared]
    old_pos = int(fields[1])
    fields[0], fields[1] = chrom, str(pos)
    fields[7] = re.sub(
        r"(^|;)END=(\d+)", lambda m: f"{m.group(1)}END={int(m.group(2)) - old_pos + pos}", fields[7]
    )
    if "CHR2=" in fields[7]:  # Delly intrachromosomal SV: its partner is on the same contig
        fields[7] = re.sub(r"CHR2=[^;]+", f"CHR2={chrom}", fields[7])
    new = "\t".join(fields) + "\n"
    ranks = {
        m.group(1): i
        for i, m in enumerate(
            re.finditer(r"^##contig=<ID=([^,>]+)", "".join(header), flags=re.MULTILINE)
        )
    }

    def key(line: str) -> tuple:
        c, p = line.split("\t", 2)[:2]
        return (ranks[c], 0, int(p)) if c in ranks else (10**6, *_natural(c), int(p))

    target = key(new)
    at = next((i for i, line in enumerate(body) if key(line) > target), len(body))
    body.insert(at, new)
    spliced = "".join(header + body)
    out = out_dir / path.name
    if path.name.endswith(".gz"):
        plain = out_dir / "plain.vcf"
        plain.write_text(spliced)
        pysam.tabix_compress(str(plain), str(out), force=True)
    else:
        out.write_text(spliced)
    return out, new.rstrip("\n")


def test_dialect_spliced_erbb2_record_comes_out_with_the_callers_vaf(dialect, tmp_path):
    path, expected = dialect
    spliced, line = splice(path, expected, tmp_path)
    out = tmp_path / "region.vcf.gz"
    result = extract_sample(spliced, out, build=expected.declared, sample="S1")
    assert result.n_records == 1
    with gzip.open(out, "rt") as handle:
        assert [r.rstrip("\n") for r in handle if not r.startswith("#")] == [line]
    start, end = erbb2_region(expected.declared)

    reader = vcf_io.open_vcf(out)
    index, name = vcf_io.choose_tumour_sample(reader, out)
    assert name == expected.tumour  # the extract keeps the header hints
    variant = next(iter(reader))
    kind = vcf_io.classify_alt(variant.REF, variant.ALT[0])
    if expected.event is not None:
        assert kind in ("symbolic", "breakend")
        event = vcf_io.structural_event(variant, 1, (start, end))
        assert event is not None and event.event == expected.event
        return
    assert kind == "small"
    metrics = vcf_io.sample_metrics(variant, index, 1)
    assert metrics.vaf == pytest.approx(expected.vaf) if expected.vaf is not None else True
    assert (metrics.depth, metrics.alt_depth, metrics.vaf_source) == (
        expected.depth,
        expected.alt_depth,
        expected.vaf_source,
    )


def test_strelka2_indel_uses_tier1_tar_tir(dialects_dir, tmp_path):
    path = dialects_dir / "megsap_vc_strelka2_1_out.vcf.gz"
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    indel = Dialect(
        "GRCh38", "GRCh38", "vc_strelka2_tu_in", r"\tDP:DP2:TAR:TIR", None, None, None, ""
    )
    spliced, line = splice(path, indel, tmp_path)
    tumour = line.split("\t")[10].split(":")
    tar, tir = int(tumour[2].split(",")[0]), int(tumour[3].split(",")[0])
    extract_sample(spliced, tmp_path / "region.vcf.gz", build="GRCh38")
    variant = next(iter(vcf_io.open_vcf(tmp_path / "region.vcf.gz")))
    metrics = vcf_io.sample_metrics(variant, 1, 1)
    assert metrics.vaf_source == "strelka_tier1_indel"
    assert (metrics.alt_depth, metrics.vaf) == (tir, pytest.approx(tir / (tar + tir)))


def test_gvcf_reference_block_reaching_into_erbb2_is_kept_and_recognised(dialects_dir, tmp_path):
    path = dialects_dir / "megsap_vc_deepvariant_out6.gvcf.gz"
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    start, _ = erbb2_region("GRCh38")
    # The file's first block is chr22:10678909-10678963 (55 bp): moved to start 20 bp before the
    # region, it ends 34 bp inside it, so it is part of the region by its END.
    block = Dialect("GRCh38", "GRCh38", "", r"\t10678909\t", None, None, None, "")
    spliced, line = splice(path, block, tmp_path, pos=start - 20)
    assert f"END={start + 34}" in line
    result = extract_sample(spliced, tmp_path / "region.vcf.gz", build="GRCh38")
    assert result.n_records == 1
    variant = next(iter(vcf_io.open_vcf(tmp_path / "region.vcf.gz")))
    assert variant.POS == start - 20
    assert vcf_io.classify_alt(variant.REF, variant.ALT[0]) == "ref_block"
