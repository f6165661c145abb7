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
from pathlib import Path

import pytest

from dialect_cases import DIALECTS, Dialect, splice
from erbb2_tki.errors import InputError
from erbb2_tki.vcf.builds import detect_build
from erbb2_tki.vcf.events import classify_alt, structural_event
from erbb2_tki.vcf.extract import erbb2_region, extract_sample
from erbb2_tki.vcf.metrics import sample_metrics
from erbb2_tki.vcf.reader import open_vcf
from erbb2_tki.vcf.samples import choose_tumour_sample

pytestmark = pytest.mark.dialects


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
    reader = open_vcf(path)
    if expected.build is None:
        with pytest.raises(InputError) as err:
            detect_build(reader, path, None)
        assert "cannot be told from the header" in str(err.value)
        assert "--build" in str(err.value)
    else:
        assert detect_build(reader, path, None).build == expected.build
    assert detect_build(reader, path, expected.declared).build == expected.declared


def test_dialect_tumour_column(dialect):
    path, expected = dialect
    index, name = choose_tumour_sample(open_vcf(path), path)
    assert name == expected.tumour
    assert open_vcf(path).samples[index] == name


def test_dialect_without_erbb2_calls_extracts_nothing(dialect, tmp_path):
    path, expected = dialect
    result = extract_sample(path, tmp_path / "out.vcf.gz", build=expected.declared)
    assert result.n_records == 0
    assert result.build == expected.declared
    with gzip.open(tmp_path / "out.vcf.gz", "rt") as handle:
        assert [line for line in handle if not line.startswith("#")] == []


def test_dialect_spliced_erbb2_record_comes_out_with_the_callers_vaf(dialect, tmp_path):
    path, expected = dialect
    spliced, line = splice(path, expected, tmp_path)
    out = tmp_path / "region.vcf.gz"
    result = extract_sample(spliced, out, build=expected.declared, sample="S1")
    assert result.n_records == 1
    with gzip.open(out, "rt") as handle:
        assert [r.rstrip("\n") for r in handle if not r.startswith("#")] == [line]
    start, end = erbb2_region(expected.declared)

    reader = open_vcf(out)
    index, name = choose_tumour_sample(reader, out)
    assert name == expected.tumour  # the extract keeps the header hints
    variant = next(iter(reader))
    kind = classify_alt(variant.REF, variant.ALT[0])
    if expected.event is not None:
        assert kind in ("symbolic", "breakend")
        event = structural_event(variant, 1, (start, end))
        assert event is not None and event.event == expected.event
        return
    assert kind == "small"
    metrics = sample_metrics(variant, index, 1)
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
    variant = next(iter(open_vcf(tmp_path / "region.vcf.gz")))
    metrics = sample_metrics(variant, 1, 1)
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
    variant = next(iter(open_vcf(tmp_path / "region.vcf.gz")))
    assert variant.POS == start - 20
    assert classify_alt(variant.REF, variant.ALT[0]) == "ref_block"
