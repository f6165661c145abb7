"""erbb2_tki.vcf: opening any VCF, the build, the tumour column, per-caller VAF/depth, allele kinds.

Fixtures are inline VCF text. Known answers: GRCh38 chr17 is 83,257,441 bp and GRCh37 chr17
81,195,210 bp; L755 of ERBB2 is chr17:39723967 on GRCh38.
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from erbb2_tki.errors import InputError
from erbb2_tki.vcf import bgzf, header
from erbb2_tki.vcf.builds import detect_build
from erbb2_tki.vcf.events import classify_alt, structural_event
from erbb2_tki.vcf.metrics import sample_metrics
from erbb2_tki.vcf.reader import open_vcf
from erbb2_tki.vcf.samples import choose_tumour_sample

FORMATS = """##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">
##INFO=<ID=END,Number=1,Type=Integer,Description="End">
##INFO=<ID=SVTYPE,Number=1,Type=String,Description="SV type">
##INFO=<ID=CN,Number=1,Type=Float,Description="Copy number">
"""
CONTIG38 = "##contig=<ID=chr17,length=83257441>\n"
CONTIG37 = "##contig=<ID=17,length=81195210>\n"
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"


def vcf_text(body: str = "", *, meta: str = CONTIG38, samples: tuple[str, ...] = ("TUMOR",)) -> str:
    columns = COLUMNS + ("\tFORMAT\t" + "\t".join(samples) if samples else "")
    return "##fileformat=VCFv4.2\n" + meta + FORMATS + columns + "\n" + body


def write(tmp_path: Path, text: str, name: str = "in.vcf") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def first_record(tmp_path: Path, text: str):
    reader = open_vcf(write(tmp_path, text))
    return reader, next(iter(reader))


# --------------------------------------------------------------------------------------------
# open_vcf
# --------------------------------------------------------------------------------------------


def test_opens_plain_bgzip_gzip_and_bcf(tmp_path):
    text = vcf_text("chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n")
    plain = write(tmp_path, text)
    subprocess.run(["bgzip", "-k", str(plain)], check=True)
    with gzip.open(tmp_path / "plain.vcf.gz", "wt") as handle:
        handle.write(text)
    subprocess.run(
        ["bcftools", "view", "-Ob", "-o", str(tmp_path / "in.bcf"), str(plain)], check=True
    )
    for name in ("in.vcf", "in.vcf.gz", "plain.vcf.gz", "in.bcf"):
        reader = open_vcf(tmp_path / name)
        assert reader.samples == ["TUMOR"]
        assert [v.POS for v in reader] == [39723967], name


def test_sites_only_file_opens_without_samples(tmp_path):
    reader = open_vcf(write(tmp_path, vcf_text("chr17\t100\t.\tA\tG\t.\t.\t.\n", samples=())))
    assert reader.samples == []
    assert choose_tumour_sample(reader, "in.vcf") == (None, None)


@pytest.mark.parametrize("version", ["4.0", "4.1", "4.2", "4.3", "4.4"])
def test_reads_vcf_versions_4_0_to_4_4(tmp_path, version):
    text = vcf_text("chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT:AD\t0/1:6,4\n")
    text = text.replace("VCFv4.2", f"VCFv{version}")
    _reader, variant = first_record(tmp_path, text)
    assert sample_metrics(variant, 0, 1).alt_depth == 4


def test_crlf_line_endings_are_read(tmp_path):
    text = vcf_text("chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT:AD:AF\t0/1:6,4:0.4\n")
    path = tmp_path / "crlf.vcf"
    path.write_bytes(text.replace("\n", "\r\n").encode())
    reader = open_vcf(path)
    variant = next(iter(reader))
    metrics = sample_metrics(variant, 0, 1)
    assert (metrics.genotype, metrics.vaf, metrics.alt_depth) == ("0/1", 0.4, 4)
    assert detect_build(reader, path, None).build == "GRCh38"


def test_lower_case_bases_and_n_in_ref_do_not_break_reading(tmp_path):
    _reader, variant = first_record(
        tmp_path, vcf_text("chr17\t39723967\t.\tnT\tcC\t50\tPASS\t.\tGT:AF\t0/1:0.2\n")
    )
    assert variant.REF == "nT"
    assert classify_alt(variant.REF, variant.ALT[0]) == "small"
    assert sample_metrics(variant, 0, 1).vaf == 0.2


def test_file_without_any_double_hash_line_is_opened_and_the_build_error_says_what_is_missing(
    tmp_path,
):
    path = write(tmp_path, COLUMNS + "\nchr17\t100\t.\tA\tG\t.\t.\t.\n")
    reader = open_vcf(path)
    assert [v.POS for v in reader] == [100]
    reader = open_vcf(path)
    with pytest.raises(InputError) as err:
        detect_build(reader, path, None)
    assert "no '##' header lines" in str(err.value)
    assert "--build" in str(err.value)
    assert detect_build(open_vcf(path), path, "hg38").build == "GRCh38"


BAD_INPUTS = {
    "missing": (None, "does not exist"),
    "empty": (b"", "empty"),
    "not a VCF": (b"sample\tgene\tchange\nS1\tERBB2\tL755S\n", "not a VCF"),
    "binary": (bytes(range(256)) * 4, "not a VCF"),
    "no #CHROM": (b"##fileformat=VCFv4.2\nchr17\t1\t.\tA\tG\t.\t.\t.\n", "no #CHROM"),
    "spaces for tabs": (
        b"##fileformat=VCFv4.2\n#CHROM POS ID REF ALT QUAL FILTER INFO\n",
        "tab-separated",
    ),
    "duplicate samples": (
        b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\tT\n",
        "more than once",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_inputs_raise_input_error_naming_file_and_fix(tmp_path, kind):
    content, words = BAD_INPUTS[kind]
    path = tmp_path / "dir with spaces" / f"{kind.replace(' ', '_')}.vcf"
    path.parent.mkdir()
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as err:
        open_vcf(path)
    message = str(err.value)
    assert words in message
    assert str(path) in message
    assert "Fix:" in message


def test_truncated_bgzip_is_an_input_error(tmp_path):
    body = "".join(f"chr17\t{1000 + i}\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n" for i in range(20000))
    plain = write(tmp_path, vcf_text(body))
    subprocess.run(["bgzip", str(plain)], check=True)
    data = (tmp_path / "in.vcf.gz").read_bytes()
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        open_vcf(cut)
    assert "truncated" in str(err.value) and str(cut) in str(err.value)


def test_truncated_plain_gzip_is_an_input_error_when_streamed(tmp_path):
    body = "".join(f"chr17\t{1000 + i}\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n" for i in range(20000))
    data = gzip.compress(vcf_text(body).encode())
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        for _ in bgzf.iter_text(cut, "gzip"):
            pass
    assert "truncated" in str(err.value)


# --------------------------------------------------------------------------------------------
# detect_build
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "build", "source"),
    [
        (CONTIG38, "GRCh38", "contig lengths (chr17=83257441)"),
        (CONTIG37, "GRCh37", "contig lengths (17=81195210)"),
        ("##contig=<ID=21,length=46709983>\n", "GRCh38", "contig lengths (21=46709983)"),
        ("##reference=file:///refs/hs37d5.fa\n", "GRCh37", "##reference line (hs37d5)"),
        ("##reference=/ifs/b37/human_g1k_v37.fasta\n", "GRCh37", "##reference line (b37)"),
        ("##reference=HG19\n", "GRCh37", "##reference line (HG19)"),
        ("##reference=gs://x/Homo_sapiens_assembly38.fasta\n", "GRCh38", "##reference line"),
        ("##reference=file:///staging/GRCh38/dragen44//reference.bin\n", "GRCh38", "##reference"),
    ],
)
def test_build_from_header(tmp_path, meta, build, source):
    path = write(tmp_path, vcf_text(meta=meta))
    call = detect_build(open_vcf(path), path, None)
    assert call.build == build
    assert call.source.startswith(source)


def test_declared_build_agreeing_with_header_is_accepted(tmp_path):
    path = write(tmp_path, vcf_text(meta=CONTIG37))
    call = detect_build(open_vcf(path), path, "hg19")
    assert call.build == "GRCh37"
    assert "matches declared" in call.source


@pytest.mark.parametrize(
    ("meta", "declared", "words"),
    [
        (CONTIG38, "GRCh37", "the header says GRCh38"),
        (CONTIG38 + "##reference=/refs/hg19.fa\n", None, "##reference line says GRCh37"),
        (CONTIG38 + CONTIG37.replace("ID=17", "ID=1"), None, "neither"),
        ("##reference=/refs/hg19_and_hg38.fa\n", None, "names both builds"),
        ("##contig=<ID=chr17,length=78774742>\n", None, "neither GRCh37 nor GRCh38"),
        ("##source=strelka\n", None, "no ##contig lines"),
        (CONTIG38, "mm10", "unknown build"),
    ],
)
def test_build_conflicts_and_missing_evidence_are_input_errors(tmp_path, meta, declared, words):
    path = write(tmp_path, vcf_text(meta=meta))
    with pytest.raises(InputError) as err:
        detect_build(open_vcf(path), path, declared)
    assert words in str(err.value)
    assert str(path) in str(err.value)
    assert "Fix:" in str(err.value)


# --------------------------------------------------------------------------------------------
# choose_tumour_sample
# --------------------------------------------------------------------------------------------


def tumour_of(tmp_path, samples, meta="", **declared):
    path = write(tmp_path, vcf_text(meta=CONTIG38 + meta, samples=samples))
    return choose_tumour_sample(open_vcf(path), path, **declared)


def test_declared_tumour_column_wins(tmp_path):
    assert tumour_of(tmp_path, ("A", "B"), tumour="B") == (1, "B")


def test_mutect2_header_lines_name_the_tumour(tmp_path):
    meta = "##tumor_sample=T-01\n##normal_sample=N-01\n"
    assert tumour_of(tmp_path, ("N-01", "T-01"), meta) == (1, "T-01")


def test_mutect2_command_line_names_the_tumour(tmp_path):
    meta = '##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 -I t.bam -I n.bam --tumor-sample X9 --normal-sample X1 -O o.vcf">\n'
    assert tumour_of(tmp_path, ("X1", "X9"), meta) == (1, "X9")


def test_normal_only_hint_leaves_the_other_column(tmp_path):
    assert tumour_of(tmp_path, ("A", "B"), "##normal_sample=A\n") == (1, "B")


def test_declared_normal_leaves_the_other_column(tmp_path):
    assert tumour_of(tmp_path, ("A", "B"), normal="A") == (1, "B")


def test_columns_named_tumor_and_normal(tmp_path):
    assert tumour_of(tmp_path, ("NORMAL", "TUMOR")) == (1, "TUMOR")
    assert tumour_of(tmp_path, ("TUMOR", "NORMAL")) == (0, "TUMOR")


def test_strelka_renamed_columns_follow_normal_then_tumour(tmp_path):
    meta = "##source=strelka\n##content=strelka somatic snv calls\n"
    assert tumour_of(tmp_path, ("no_in", "tu_in"), meta) == (1, "tu_in")


def test_dragen_tumour_normal_columns_are_normal_then_tumour(tmp_path):
    meta = (
        '##DRAGENCommandLine=<ID=dragen,CommandLineOptions="-r /ref --tumor-cram-input '
        '/x/T.cram --cram-input /x/N.cram">\n'
    )
    assert tumour_of(tmp_path, ("S_normal", "S_tumour"), meta) == (1, "S_tumour")


def test_only_sample_is_the_tumour(tmp_path):
    assert tumour_of(tmp_path, ("S1",)) == (0, "S1")


def test_several_columns_without_hints_list_the_candidates(tmp_path):
    with pytest.raises(InputError) as err:
        tumour_of(tmp_path, ("A", "B", "C"))
    assert "candidates: A, B, C" in str(err.value)
    assert "tumor_sample" in str(err.value)


def test_disagreeing_hints_are_an_error(tmp_path):
    meta = "##tumor_sample=A\n##normal_sample=A\n"
    with pytest.raises(InputError) as err:
        tumour_of(tmp_path, ("A", "B"), meta)
    assert "disagree" in str(err.value)


def test_declared_tumour_that_the_header_calls_normal_is_an_error(tmp_path):
    with pytest.raises(InputError) as err:
        tumour_of(tmp_path, ("A", "B"), "##normal_sample=A\n", tumour="A")
    assert "is the normal" in str(err.value)


def test_declared_tumour_not_in_file_lists_columns(tmp_path):
    with pytest.raises(InputError) as err:
        tumour_of(tmp_path, ("A", "B"), tumour="C")
    assert "columns: A, B" in str(err.value)


# --------------------------------------------------------------------------------------------
# sample_metrics: each caller's fields
# --------------------------------------------------------------------------------------------

RECORD = "chr17\t39723967\t.\tT\t{alt}\t50\tPASS\t.\t{fmt}\t{values}\n"


def metrics(tmp_path, fmt, values, alt="C", alt_index=1, meta="", ref="T"):
    line = RECORD.format(alt=alt, fmt=fmt, values=values).replace("\tT\t", f"\t{ref}\t", 1)
    _, variant = first_record(tmp_path, vcf_text(line, meta=CONTIG38 + meta))
    return sample_metrics(variant, 0, alt_index)


def test_af_number_a_and_ad_number_r_pick_this_alt(tmp_path):
    m1 = metrics(tmp_path, "GT:AD:AF:DP", "1/2:10,30,60:0.3,0.6:100", alt="C,G")
    m2 = metrics(tmp_path, "GT:AD:AF:DP", "1/2:10,30,60:0.3,0.6:100", alt="C,G", alt_index=2)
    assert (m1.vaf, m1.alt_depth, m1.depth, m1.vaf_source) == (0.3, 30, 100, "FORMAT/AF")
    assert (m2.vaf, m2.alt_depth, m2.depth) == (0.6, 60, 100)


def test_vaf_from_ad_when_there_is_no_af(tmp_path):
    m = metrics(tmp_path, "GT:AD", "0/1:75,25")
    assert (m.vaf, m.depth, m.alt_depth, m.vaf_source) == (0.25, 100, 25, "AD")


def test_deepvariant_vaf_field_and_extra_non_ref_allele(tmp_path):
    meta = '##FORMAT=<ID=VAF,Number=A,Type=Float,Description="v">\n'
    m = metrics(tmp_path, "GT:DP:AD:VAF", "0/1:45:23,22,0:0.488889,0", alt="C,<*>", meta=meta)
    assert (m.vaf, m.depth, m.alt_depth, m.vaf_source) == (0.488889, 45, 22, "FORMAT/VAF")


def test_varscan_freq_percent_and_rd_ad(tmp_path):
    meta = (
        '##FORMAT=<ID=RD,Number=1,Type=Integer,Description="r">\n'
        '##FORMAT=<ID=FREQ,Number=1,Type=String,Description="f">\n'
    )
    text = vcf_text(
        "chr17\t39723967\t.\tT\tC\t.\tPASS\t.\tGT:DP:RD:AD:FREQ\t0/1:117:59:56:48.7%\n",
        meta=CONTIG38 + meta,
    ).replace(
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        '##FORMAT=<ID=AD,Number=1,Type=Integer,Description="alt depth">',
    )
    _, variant = first_record(tmp_path, text)
    m = sample_metrics(variant, 0, 1)
    assert (m.vaf, m.depth, m.alt_depth, m.vaf_source) == (
        pytest.approx(0.487),
        117,
        56,
        "FORMAT/FREQ",
    )


def test_freebayes_ao_ro(tmp_path):
    meta = (
        '##FORMAT=<ID=RO,Number=1,Type=Integer,Description="r">\n'
        '##FORMAT=<ID=AO,Number=A,Type=Integer,Description="a">\n'
    )
    m = metrics(tmp_path, "GT:DP:RO:AO", "0/1:50:30,:20", meta=meta)
    assert m.vaf is None or m.alt_depth == 20  # malformed RO ('30,') must not crash
    m = metrics(tmp_path, "GT:DP:RO:AO", "1/2:50:30:15,5", alt="C,G", alt_index=2, meta=meta)
    assert (m.alt_depth, m.vaf, m.depth, m.vaf_source) == (5, 0.1, 50, "AO/RO")
    m = metrics(tmp_path, "GT:DP:AO", "0/1:45:22", meta=meta)
    assert (m.alt_depth, m.vaf, m.vaf_source) == (22, pytest.approx(22 / 45), "AO/DP")


def test_old_mutect_fa(tmp_path):
    meta = '##FORMAT=<ID=FA,Number=A,Type=Float,Description="f">\n'
    m = metrics(tmp_path, "GT:AD:DP:FA", "0/1:11,3:14:0.214", meta=meta)
    assert (m.vaf, m.depth, m.alt_depth, m.vaf_source) == (0.214, 14, 3, "FORMAT/FA")


def test_strelka_snv_tier1_counts(tmp_path):
    meta = "".join(f'##FORMAT=<ID={b}U,Number=2,Type=Integer,Description="{b}">\n' for b in "ACGT")
    m = metrics(tmp_path, "DP:AU:CU:GU:TU", "66:0,0:25,27:0,0:39,39", meta=meta)
    assert m.genotype == ""
    assert (m.alt_depth, m.depth, m.vaf_source) == (25, 66, "strelka_tier1_SNV")
    assert m.vaf == pytest.approx(25 / 64)


def test_strelka_indel_tier1_counts(tmp_path):
    meta = (
        '##FORMAT=<ID=TAR,Number=2,Type=Integer,Description="a">\n'
        '##FORMAT=<ID=TIR,Number=2,Type=Integer,Description="i">\n'
    )
    m = metrics(tmp_path, "DP:TAR:TIR", "40:30,31:10,12", alt="TA", meta=meta)
    assert (m.alt_depth, m.vaf, m.depth, m.vaf_source) == (10, 0.25, 40, "strelka_tier1_indel")


def test_missing_gt_and_missing_values(tmp_path):
    m = metrics(tmp_path, "GT:AD:AF:DP", "./.:.:.:.")
    assert (m.genotype, m.vaf, m.depth, m.alt_depth, m.phased) == ("./.", None, None, None, False)
    m = metrics(tmp_path, "AD", "5,5")
    assert (m.genotype, m.vaf) == ("", 0.5)


def test_phased_genotype_with_ps_gives_haplotypes(tmp_path):
    m = metrics(tmp_path, "GT:PS", "0|1:39723900")
    assert (m.phased, m.phase_set, m.haplotypes) == (True, "39723900", (1,))
    m = metrics(tmp_path, "GT", "1|0")
    assert (m.phased, m.phase_set, m.haplotypes) == (True, ".", (0,))
    m = metrics(tmp_path, "GT:PS", "0/1:5")
    assert (m.phased, m.haplotypes) == (False, ())


def test_gatk_pgt_pid_phasing(tmp_path):
    meta = (
        '##FORMAT=<ID=PGT,Number=1,Type=String,Description="p">\n'
        '##FORMAT=<ID=PID,Number=1,Type=String,Description="p">\n'
    )
    m = metrics(tmp_path, "GT:PGT:PID", "0/1:0|1:39723966_T_C", meta=meta)
    assert (m.phased, m.phase_set, m.haplotypes) == (True, "39723966_T_C", (1,))


# --------------------------------------------------------------------------------------------
# classify_alt and structural_event
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alt", "kind"),
    [
        ("C", "small"),
        ("CATACGTGATGGC", "small"),
        ("n", "small"),
        ("<DEL>", "symbolic"),
        ("<DUP:TANDEM>", "symbolic"),
        ("<CNV>", "symbolic"),
        ("<INV>", "symbolic"),
        ("<INS>", "symbolic"),
        ("]15:80623247]C", "breakend"),
        ("C[2:33141314[", "breakend"),
        ("C.", "breakend"),
        (".C", "breakend"),
        ("<*>", "ref_block"),
        ("<NON_REF>", "ref_block"),
        ("*", "star"),
        (".", "missing"),
    ],
)
def test_classify_alt(alt, kind):
    assert classify_alt("C", alt) == kind


def event_of(tmp_path, alt, info, fmt="GT", values="0/1", region=(39695064, 39733658)):
    line = f"chr17\t39690000\tsv1\tN\t{alt}\t50\tPASS\t{info}\t{fmt}\t{values}\n"
    _, variant = first_record(tmp_path, vcf_text(line))
    return structural_event(variant, 1, region)


def test_duplication_over_erbb2_is_a_possible_amplification(tmp_path):
    event = event_of(tmp_path, "<DUP>", "SVTYPE=DUP;END=39740000")
    assert event.event == "possible_amplification_or_structural_event"
    assert event.description == "possible ERBB2 amplification or structural event"
    assert event.as_row()["end"] == 39740000


def test_copy_number_gain_and_loss(tmp_path):
    gain = event_of(tmp_path, "<CNV>", "SVTYPE=CNV;END=39740000;CN=6")
    assert gain.event.startswith("possible_amplification") and gain.copy_number == 6
    loss = event_of(tmp_path, "<CNV>", "SVTYPE=CNV;END=39740000;CN=1")
    assert loss.event == "possible_structural_event"


def test_deletion_over_erbb2_is_a_structural_event_not_an_amplification(tmp_path):
    event = event_of(tmp_path, "<DEL>", "SVTYPE=DEL;END=39710000")
    assert event.event == "possible_structural_event" and event.svtype == "DEL"


def test_event_outside_erbb2_is_none(tmp_path):
    assert event_of(tmp_path, "<DUP>", "SVTYPE=DUP;END=39691000") is None


def test_breakend_with_mate_in_erbb2(tmp_path):
    line = "chr17\t10000\tbnd1\tN\tN[chr17:39710000[\t50\tPASS\tSVTYPE=BND\tGT\t0/1\n"
    _, variant = first_record(tmp_path, vcf_text(line))
    event = structural_event(variant, 1, (39695064, 39733658))
    assert event is not None and event.svtype == "BND"


def test_small_allele_is_not_an_event(tmp_path):
    assert event_of(tmp_path, "C", "END=39740000") is None


# --------------------------------------------------------------------------------------------
# read_header and write_bgzf (the extraction fast path)
# --------------------------------------------------------------------------------------------


def test_read_header_matches_htslib_for_plain_gzip_bgzip_and_bcf(tmp_path):
    text = vcf_text("chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT:GT\t0/1\t0/0\n", samples=("N", "T"))
    plain = write(tmp_path, text)
    subprocess.run(["bgzip", "-k", str(plain)], check=True)
    (tmp_path / "plain.vcf.gz").write_bytes(gzip.compress(text.encode()))
    subprocess.run(
        ["bcftools", "view", "-Ob", "-o", str(tmp_path / "in.bcf"), str(plain)], check=True
    )
    kinds = {"in.vcf": "plain", "in.vcf.gz": "bgzf", "plain.vcf.gz": "gzip", "in.bcf": "bgzf"}
    for name, kind in kinds.items():
        head = header.read_header(tmp_path / name)
        assert (head.kind, head.is_bcf) == (kind, name == "in.bcf"), name
        assert head.samples == ["N", "T"] == open_vcf(tmp_path / name).samples, name
        assert head.text.endswith(b"\tN\tT\n"), name
        assert detect_build(head, name, None).build == "GRCh38"
    assert header.read_header(plain).text == text.split("chr17\t39723967")[0].encode()


def test_read_header_keeps_crlf_and_an_unterminated_chrom_line(tmp_path):
    crlf = write(tmp_path, "", "crlf.vcf")
    crlf.write_bytes(vcf_text().replace("\n", "\r\n").encode())
    assert header.read_header(crlf).text.endswith(b"\tTUMOR\r\n")
    assert header.read_header(crlf).samples == ["TUMOR"]
    bare = write(tmp_path, vcf_text().rstrip("\n"), "bare.vcf")
    assert header.read_header(bare).text == vcf_text().encode()


def test_read_header_without_chrom_line_says_so(tmp_path):
    path = write(tmp_path, "##fileformat=VCFv4.2\n" + CONTIG38)
    with pytest.raises(InputError) as err:
        header.read_header(path)
    assert "no #CHROM line" in str(err.value) and str(path) in str(err.value)


def test_header_check_decompresses_only_the_blocks_the_header_fills(tmp_path):
    # 4 MB of records after a short header: the head read must stop at the #CHROM line.
    body = "".join(f"chr17\t{1000 + i}\t.\tA\tG\t.\tPASS\t.\tGT\t0/1\n" for i in range(100000))
    plain = write(tmp_path, vcf_text(body))
    subprocess.run(["bgzip", str(plain)], check=True)
    head = bgzf._decompressed_head(tmp_path / "in.vcf.gz", "bgzf")
    assert head.startswith(b"##fileformat=VCFv4.2\n") and b"\n#CHROM\t" in head
    assert len(head) <= 0xFF00  # one BGZF block of text, not the file
    gz = tmp_path / "in.gz.vcf.gz"
    gz.write_bytes(gzip.compress(vcf_text(body).encode()))
    gz_head = bgzf._decompressed_head(gz, "gzip")  # one 64-kB read, however well it inflates
    assert b"\n#CHROM\t" in gz_head and len(gz_head) < len(vcf_text(body))
    assert vcf_text(body).encode().startswith(gz_head)


@pytest.mark.parametrize("size", [0, 10, 0xFF00, 0xFF00 + 1, 200000])
def test_write_bgzf_round_trips_through_gzip_and_htslib(tmp_path, size):
    import random

    rng = random.Random(size)
    noise = bytes(rng.randrange(256) for _ in range(size // 2))  # incompressible half
    data = (noise + b"A" * (size - len(noise)))[:size]
    path = tmp_path / "x.gz"
    bgzf.write_bgzf(path, data)
    raw = path.read_bytes()
    assert raw.endswith(bgzf.BGZF_EOF)
    assert gzip.decompress(raw) == data
    assert b"".join(bgzf.iter_bgzf(path)) == data  # every block's size and CRC check out
    assert bgzf.sniff(path) == "bgzf" if size else True


def test_write_bgzf_output_is_a_vcf_htslib_reads_and_tabix_indexes(tmp_path):
    import pysam

    text = vcf_text("chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n")
    path = tmp_path / "out.vcf.gz"
    bgzf.write_bgzf(path, text.encode())
    assert [v.POS for v in open_vcf(path)] == [39723967]
    pysam.tabix_index(str(path), preset="vcf", force=True)
    assert len(list(pysam.TabixFile(str(path)).fetch("chr17", 39723960, 39723970))) == 1
