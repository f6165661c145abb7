#!/usr/bin/env python3
"""Generate realistic Mutect2-style tumour/normal VCFs for the erbb2-tki benchmarks.

Why: the speed targets in issue 6 are about real file shapes (a 50k-record exome, a 5M-record genome, GRCh37 "17"
and GRCh38 "chr17" naming, sorted, bgzipped with and without an index, plain gzip, plain text), and the pipeline must
find ERBB2 alleles written at the right place with the right reference bases. Public WGS VCFs are too big to ship, so
this script makes them, deterministically from a seed, in seconds:

* background records are drawn with numpy (positions per contig in proportion to its real length; clustered around
  pseudo-exons for WES) and their REF/ALT/INFO/FORMAT text comes from a pool of pre-formatted Mutect2-style tails, so
  5M records cost one string join per record, not one formatting call per field;
* ERBB2 alleles (L755S, the YVMA duplication, T798I, ...) are computed at generation time from the exon table and the
  NM_004448.4 mRNA in ../shared/reference (c. position -> genomic position on either build, REF from the transcript,
  indels left-aligned as callers write them) and each is checked by translating the CDS;
* background records inside the ERBB2 window are SNVs whose exonic REF bases are the transcript's bases, so the
  annotator never sees an impossible REF.

Sub-commands:
  single   one WES or WGS file (bgzipped + tabix index, bgzipped without index, optional plain gzip and plain text)
  batch    N indexed WES-size VCFs (default 1,000) built from a few shared bodies with per-file ERBB2 windows,
           sample names and planted alleles, plus samples.tsv and truth.tsv
  all      the standard benchmark set (WES and WGS on both builds, and the batch)

Outputs go under benchmarks/data/ (gitignored).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
DEFAULT_REFERENCE_DIR = PROJECT_DIR.parent / "shared" / "reference"
DEFAULT_DATA_DIR = BENCH_DIR / "data"

EXON_TABLE = "derived_NM_004448.4_exons_GRCh37_GRCh38.tsv"
MRNA_FASTA = "raw/biocommons_hgvs_cache_NM_004448.4_mRNA.fa"
CDS_START_TX = 176  # 1-based transcript position of c.1 (NM_004448.4)
CDS_END_TX = 3943  # 1-based transcript position of the last base of the TGA stop

# ERBB2 gene span (the region the benchmarks query), 1-based inclusive.
GENE_REGION = {"GRCh38": ("chr17", 39687914, 39730426), "GRCh37": ("17", 37844167, 37886679)}

# Real contig lengths: GRCh38 (UCSC/GATK "chr" names) and GRCh37 as b37 (human_g1k_v37, bare names, MT).
CONTIG_LENGTHS = {
    "GRCh38": [
        ("chr1", 248956422), ("chr2", 242193529), ("chr3", 198295559), ("chr4", 190214555),
        ("chr5", 181538259), ("chr6", 170805979), ("chr7", 159345973), ("chr8", 145138636),
        ("chr9", 138394717), ("chr10", 133797422), ("chr11", 135086622), ("chr12", 133275309),
        ("chr13", 114364328), ("chr14", 107043718), ("chr15", 101991189), ("chr16", 90338345),
        ("chr17", 83257441), ("chr18", 80373285), ("chr19", 58617616), ("chr20", 64444167),
        ("chr21", 46709983), ("chr22", 50818468), ("chrX", 156040895), ("chrY", 57227415),
        ("chrM", 16569),
    ],
    "GRCh37": [
        ("1", 249250621), ("2", 243199373), ("3", 198022430), ("4", 191154276), ("5", 180915260),
        ("6", 171115067), ("7", 159138663), ("8", 146364022), ("9", 141213431), ("10", 135534747),
        ("11", 135006516), ("12", 133851895), ("13", 115169878), ("14", 107349540),
        ("15", 102531392), ("16", 90354753), ("17", 81195210), ("18", 78077248), ("19", 59128983),
        ("20", 63025520), ("21", 48129895), ("22", 51304566), ("X", 155270560), ("Y", 59373566),
        ("MT", 16569),
    ],
}  # fmt: skip
REFERENCE_FASTA = {
    "GRCh38": "file:///references/hg38/Homo_sapiens_assembly38.fasta",
    "GRCh37": "file:///references/b37/human_g1k_v37_decoy.fasta",
}
GERMLINE_RESOURCE = {
    "GRCh38": "af-only-gnomad.hg38.vcf.gz",
    "GRCh37": "af-only-gnomad.raw.sites.b37.vcf.gz",
}

CODON_TABLE = {
    a + b + c: aa
    for (a, b, c), aa in zip(
        ((x, y, z) for x in "TCAG" for y in "TCAG" for z in "TCAG"),
        "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
        strict=True,
    )
}


def translate(cds: str) -> str:
    """Translate a CDS (stops as '*'); the trailing partial codon is dropped."""
    return "".join(CODON_TABLE[cds[i : i + 3]] for i in range(0, len(cds) - 2, 3))


# --------------------------------------------------------------------------------------------------------------------
# ERBB2 transcript facts, read at generation time
# --------------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Exon:
    number: int
    tx_start: int
    tx_end: int
    genomic_start: dict[str, int]


@dataclasses.dataclass(frozen=True)
class Transcript:
    """NM_004448.4 as far as the generator needs it: exons on both builds and the mRNA (plus strand)."""

    exons: tuple[Exon, ...]
    mrna: str

    @classmethod
    def load(cls, reference_dir: Path) -> Transcript:
        exon_path = reference_dir / EXON_TABLE
        mrna_path = reference_dir / MRNA_FASTA
        for path in (exon_path, mrna_path):
            if not path.is_file():
                sys.exit(
                    f"error: {path} not found. The generator reads the ERBB2 exon table and mRNA from the shared "
                    "reference folder; pass --reference-dir DIR (the folder holding "
                    f"{EXON_TABLE} and raw/)."
                )
        exons = []
        header: list[str] | None = None
        for line in exon_path.read_text().splitlines():
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if header is None:
                header = fields
                continue
            row = dict(zip(header, fields, strict=True))
            exons.append(
                Exon(
                    number=int(row["exon"]),
                    tx_start=int(row["tx_start"]),
                    tx_end=int(row["tx_end"]),
                    genomic_start={
                        "GRCh37": int(row["GRCh37_start"]),
                        "GRCh38": int(row["GRCh38_start"]),
                    },
                )
            )
        mrna = "".join(
            line.strip()
            for line in mrna_path.read_text().splitlines()
            if line and not line.startswith((";", ">"))
        ).upper()
        if len(mrna) != exons[-1].tx_end:
            sys.exit(f"error: mRNA length {len(mrna)} != last exon end {exons[-1].tx_end}")
        return cls(tuple(exons), mrna)

    @property
    def cds(self) -> str:
        return self.mrna[CDS_START_TX - 1 : CDS_END_TX]

    def exon_of_tx(self, tx: int) -> Exon:
        for exon in self.exons:
            if exon.tx_start <= tx <= exon.tx_end:
                return exon
        raise ValueError(f"transcript position {tx} is outside NM_004448.4")

    def tx_to_genomic(self, tx: int, build: str) -> int:
        exon = self.exon_of_tx(tx)
        return exon.genomic_start[build] + tx - exon.tx_start

    def base(self, tx: int) -> str:
        return self.mrna[tx - 1]

    def exonic_bases(self, build: str) -> dict[int, str]:
        """Genomic position -> reference base for every exonic base (exonic genome = mRNA, per the reference README)."""
        bases = {}
        for exon in self.exons:
            start = exon.genomic_start[build]
            for tx in range(exon.tx_start, exon.tx_end + 1):
                bases[start + tx - exon.tx_start] = self.mrna[tx - 1]
        return bases


@dataclasses.dataclass(frozen=True)
class Plant:
    """An ERBB2 allele to plant, by its HGVS c. change on NM_004448.4 and the protein change it must produce."""

    label: str
    change: str  # "2264T>C", "2313_2324dup", "2263_2277del"
    protein: tuple  # ("sub", 755, "L", "S") | ("dup", 772, 775) | ("del", 755, 759) | ("fs",)


PLANTS: tuple[Plant, ...] = (
    Plant("S310F", "929C>T", ("sub", 310, "S", "F")),
    Plant("R678Q", "2033G>A", ("sub", 678, "R", "Q")),
    Plant("L755S", "2264T>C", ("sub", 755, "L", "S")),
    Plant("L755_T759del", "2263_2277del", ("del", 755, 759)),
    Plant("D769H", "2305G>C", ("sub", 769, "D", "H")),
    Plant("Y772_A775dup", "2313_2324dup", ("dup", 772, 775)),
    Plant("V777L", "2329G>T", ("sub", 777, "V", "L")),
    Plant("G778_P780dup", "2332_2340dup", ("dup", 778, 780)),
    Plant("Y781Ifs*93", "2339dup", ("fs",)),
    Plant("T798I", "2393C>T", ("sub", 798, "T", "I")),
    Plant("V842I", "2524G>A", ("sub", 842, "V", "I")),
    Plant("L869R", "2606T>G", ("sub", 869, "L", "R")),
)
PLANT_BY_LABEL = {p.label: p for p in PLANTS}


@dataclasses.dataclass(frozen=True)
class VcfAllele:
    pos: int
    ref: str
    alt: str


def _check_protein(tx: Transcript, plant: Plant, mutated_cds: str) -> None:
    ref_p = translate(tx.cds)
    alt_p = translate(mutated_cds)
    kind = plant.protein[0]
    if kind == "sub":
        _, aa_pos, ref_aa, alt_aa = plant.protein
        ok = (
            ref_p[aa_pos - 1] == ref_aa and alt_p[aa_pos - 1] == alt_aa and len(alt_p) == len(ref_p)
        )
    elif kind == "dup":
        _, first, last = plant.protein
        ok = alt_p == ref_p[:last] + ref_p[first - 1 : last] + ref_p[last:]
    elif kind == "del":
        _, first, last = plant.protein
        ok = alt_p == ref_p[: first - 1] + ref_p[last:]
    else:
        ok = (len(mutated_cds) - len(tx.cds)) % 3 != 0
    if not ok:
        raise ValueError(f"plant {plant.label}: c.{plant.change} does not give {plant.protein}")


def plant_allele(tx: Transcript, plant: Plant, build: str, *, left_align: bool = True) -> VcfAllele:
    """The VCF record for a planted allele on one build, REF from the transcript, checked by translation.

    Indels are written with the anchor base before the event; with left_align (what Mutect2 and most callers emit)
    they are shifted 5' as far as the exon allows, otherwise anchored just before the HGVS (3'-most) position.
    """
    change = plant.change
    cds0 = CDS_START_TX - 1  # c.N -> tx N + cds0
    if ">" in change:
        c_pos, (ref, alt) = int(change[:-3]), change[-3:].split(">")
        tx_pos = c_pos + cds0
        if tx.base(tx_pos) != ref:
            raise ValueError(f"plant {plant.label}: c.{c_pos} is {tx.base(tx_pos)}, not {ref}")
        cds = tx.cds
        i = c_pos - 1
        _check_protein(tx, plant, cds[:i] + alt + cds[i + 1 :])
        return VcfAllele(tx.tx_to_genomic(tx_pos, build), ref, alt)
    body, kind = change[:-3], change[-3:]
    first, last = (int(x) for x in body.split("_")) if "_" in body else (int(body), int(body))
    cds = tx.cds
    if kind == "dup":
        seq = cds[first - 1 : last]
        _check_protein(tx, plant, cds[:last] + seq + cds[last:])
        anchor_tx = last + cds0  # insertion after c.last of a copy of c.first..c.last
        inserted = seq
        if left_align:
            exon = tx.exon_of_tx(anchor_tx)
            while anchor_tx > exon.tx_start and tx.base(anchor_tx) == inserted[-1]:
                inserted = tx.base(anchor_tx) + inserted[:-1]
                anchor_tx -= 1
        else:
            anchor_tx = first - 1 + cds0
        ref = tx.base(anchor_tx)
        return VcfAllele(tx.tx_to_genomic(anchor_tx, build), ref, ref + inserted)
    if kind == "del":
        _check_protein(tx, plant, cds[: first - 1] + cds[last:])
        start_tx, end_tx = first + cds0, last + cds0
        if left_align:
            exon = tx.exon_of_tx(start_tx)
            while start_tx - 1 > exon.tx_start and tx.base(start_tx - 1) == tx.base(end_tx):
                start_tx -= 1
                end_tx -= 1
        anchor_tx = start_tx - 1
        ref = tx.mrna[anchor_tx - 1 : end_tx]
        return VcfAllele(tx.tx_to_genomic(anchor_tx, build), ref, ref[0])
    raise ValueError(f"unsupported change c.{change}")


# --------------------------------------------------------------------------------------------------------------------
# Mutect2 text
# --------------------------------------------------------------------------------------------------------------------

FORMAT_KEYS = "GT:AD:AF:DP:F1R2:F2R1:SB"
FILTERS = (
    "PASS", "weak_evidence", "germline", "normal_artifact", "clustered_events", "strand_bias",
    "panel_of_normals", "base_qual", "map_qual", "slippage", "orientation", "haplotype",
    "weak_evidence;strand_bias", "germline;normal_artifact", "clustered_events;haplotype",
)  # fmt: skip
FILTER_WEIGHTS = np.array([30, 25, 10, 6, 5, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1], dtype=float)
FILTER_WEIGHTS /= FILTER_WEIGHTS.sum()
BASES = np.array(list("ACGT"))


def header_lines(build: str, tumour: str, normal: str, column_order: Sequence[str]) -> str:
    """A FilterMutectCalls-style header (GATK 4.2), with the build's full contig list."""
    ref_fasta = REFERENCE_FASTA[build]
    fasta_name = ref_fasta.rsplit("/", 1)[-1]
    lines = [
        "##fileformat=VCFv4.2",
        '##FILTER=<ID=FAIL,Description="Fail the site if all alleles fail but for different reasons.">',
        '##FILTER=<ID=PASS,Description="Site contains at least one allele that passes filters">',
        '##FILTER=<ID=base_qual,Description="alt median base quality">',
        '##FILTER=<ID=clustered_events,Description="Clustered events observed in the tumor">',
        '##FILTER=<ID=contamination,Description="contamination">',
        '##FILTER=<ID=duplicate,Description="evidence for alt allele is overrepresented by apparent duplicates">',
        '##FILTER=<ID=fragment,Description="abs(ref - alt) median fragment length">',
        '##FILTER=<ID=germline,Description="Evidence indicates this site is germline, not somatic">',
        '##FILTER=<ID=haplotype,Description="Variant near filtered variant on same haplotype.">',
        '##FILTER=<ID=low_allele_frac,Description="Allele fraction is below specified threshold">',
        '##FILTER=<ID=map_qual,Description="ref - alt median mapping quality">',
        '##FILTER=<ID=multiallelic,Description="Site filtered because too many alt alleles pass tumor LOD">',
        '##FILTER=<ID=n_ratio,Description="Ratio of N to alt exceeds specified ratio">',
        '##FILTER=<ID=normal_artifact,Description="artifact_in_normal">',
        '##FILTER=<ID=orientation,Description="orientation bias detected by the orientation bias mixture model">',
        '##FILTER=<ID=panel_of_normals,Description="Blacklisted site in panel of normals">',
        '##FILTER=<ID=position,Description="median distance of alt variants from end of reads">',
        '##FILTER=<ID=possible_numt,Description="Allele depth is below expected coverage of NuMT in autosome">',
        '##FILTER=<ID=slippage,Description="Site filtered due to contraction of short tandem repeat region">',
        '##FILTER=<ID=strand_bias,Description="Evidence for alt allele comes from one read direction only">',
        '##FILTER=<ID=strict_strand,Description="Evidence for alt allele is not represented in both directions">',
        '##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths for the ref and alt alleles in the order listed">',
        '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions of alternate alleles in the tumor">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth (reads with MQ=255 or with bad mates are filtered)">',
        '##FORMAT=<ID=F1R2,Number=R,Type=Integer,Description="Count of reads in F1R2 pair orientation supporting each allele">',
        '##FORMAT=<ID=F2R1,Number=R,Type=Integer,Description="Count of reads in F2R1 pair orientation supporting each allele">',
        '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype Quality">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=PGT,Number=1,Type=String,Description="Physical phasing haplotype information, describing how the alternate alleles are phased in relation to one another; will always be heterozygous and is not intended to describe called alleles">',
        '##FORMAT=<ID=PID,Number=1,Type=String,Description="Physical phasing ID information, where each unique ID within a given sample (but not across samples) connects records within a phasing group">',
        '##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Normalized, Phred-scaled likelihoods for genotypes as defined in the VCF specification">',
        '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phasing set (typically the position of the first variant in the set)">',
        '##FORMAT=<ID=SB,Number=4,Type=Integer,Description="Per-sample component statistics which comprise the Fisher\'s Exact Test to detect strand bias.">',
        f'##GATKCommandLine=<ID=FilterMutectCalls,CommandLine="FilterMutectCalls --output {tumour}.filtered.vcf.gz --contamination-table {tumour}.contamination.table --tumor-segmentation {tumour}.segments.table --ob-priors {tumour}.read-orientation-model.tar.gz --variant {tumour}.unfiltered.vcf.gz --reference {fasta_name} --threshold-strategy OPTIMAL_F_SCORE --f-score-beta 1.0 --false-discovery-rate 0.05",Version="4.2.6.1",Date="March 14, 2023 at 10:42:17 AM UTC">',
        f'##GATKCommandLine=<ID=Mutect2,CommandLine="Mutect2 --tumor-sample {tumour} --normal-sample {normal} --germline-resource {GERMLINE_RESOURCE[build]} --panel-of-normals 1000g_pon.vcf.gz --f1r2-tar-gz {tumour}.f1r2.tar.gz --output {tumour}.unfiltered.vcf.gz --input {tumour}.bam --input {normal}.bam --reference {fasta_name} --genotype-germline-sites false --af-of-alleles-not-in-resource -1.0 --max-reads-per-alignment-start 50",Version="4.2.6.1",Date="March 14, 2023 at 8:03:55 AM UTC">',
        '##INFO=<ID=AS_FilterStatus,Number=A,Type=String,Description="Filter status for each allele, as assessed by ApplyRecalibration. Note that the VCF filter field will reflect the most lenient/sensitive status across all alleles.">',
        '##INFO=<ID=AS_SB_TABLE,Number=1,Type=String,Description="Allele-specific forward/reverse read counts for strand bias tests. Includes the reference and alleles separated by |.">',
        '##INFO=<ID=CONTQ,Number=1,Type=Float,Description="Phred-scaled qualities that alt allele are not due to contamination">',
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="Approximate read depth; some reads may have been filtered">',
        '##INFO=<ID=ECNT,Number=1,Type=Integer,Description="Number of events in this haplotype">',
        '##INFO=<ID=GERMQ,Number=1,Type=Integer,Description="Phred-scaled quality that alt alleles are not germline variants">',
        '##INFO=<ID=MBQ,Number=R,Type=Integer,Description="median base quality by allele">',
        '##INFO=<ID=MFRL,Number=R,Type=Integer,Description="median fragment length by allele">',
        '##INFO=<ID=MMQ,Number=R,Type=Integer,Description="median mapping quality by allele">',
        '##INFO=<ID=MPOS,Number=A,Type=Integer,Description="median distance from end of read">',
        '##INFO=<ID=NALOD,Number=A,Type=Float,Description="Negative log 10 odds of artifact in normal with same allele fraction as tumor">',
        '##INFO=<ID=NCount,Number=1,Type=Integer,Description="Count of N bases in the pileup">',
        '##INFO=<ID=NLOD,Number=A,Type=Float,Description="Normal log 10 likelihood ratio of diploid het or hom alt genotypes">',
        '##INFO=<ID=OCM,Number=1,Type=Integer,Description="Number of alt reads whose original alignment doesn\'t match the current contig.">',
        '##INFO=<ID=PON,Number=0,Type=Flag,Description="site found in panel of normals">',
        '##INFO=<ID=POPAF,Number=A,Type=Float,Description="negative log 10 population allele frequencies of alt alleles">',
        '##INFO=<ID=ROQ,Number=1,Type=Float,Description="Phred-scaled qualities that alt allele are not due to read orientation artifact">',
        '##INFO=<ID=RPA,Number=R,Type=Integer,Description="Number of times tandem repeat unit is repeated, for each allele (including reference)">',
        '##INFO=<ID=RU,Number=1,Type=String,Description="Tandem repeat unit (bases)">',
        '##INFO=<ID=SEQQ,Number=1,Type=Integer,Description="Phred-scaled quality that alt alleles are not sequencing errors">',
        '##INFO=<ID=STR,Number=0,Type=Flag,Description="Variant is a short tandem repeat">',
        '##INFO=<ID=STRANDQ,Number=1,Type=Integer,Description="Phred-scaled quality of strand bias artifact">',
        '##INFO=<ID=STRQ,Number=1,Type=Integer,Description="Phred-scaled quality that alt alleles in STRs are not polymerase slippage errors">',
        '##INFO=<ID=TLOD,Number=A,Type=Float,Description="Log 10 likelihood ratio score of variant existing versus not existing">',
        "##MutectVersion=2.2",
    ]
    lines += [f"##contig=<ID={name},length={length}>" for name, length in CONTIG_LENGTHS[build]]
    lines += [
        "##filtering_status=These calls have been filtered by FilterMutectCalls to label false positives with a list of failed filters and true positives with PASS.",
        f"##normal_sample={normal}",
        f"##reference={ref_fasta}",
        "##source=FilterMutectCalls",
        "##source=Mutect2",
        f"##tumor_sample={tumour}",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(column_order),
    ]
    return "\n".join(lines) + "\n"


def _f(x: float) -> str:
    """GATK-style float: up to 3 decimals, trailing zeros dropped (0.125, 0.1, 3.0)."""
    s = f"{x:.3f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def record_tail(
    rng: np.random.Generator,
    ref: str,
    alts: Sequence[str],
    tumour_first: bool,
    filt: str,
    vaf: float | None = None,
) -> str:
    """REF..last sample columns of one Mutect2 record, with mutually consistent depths and counts."""
    n_alt = len(alts)
    t_dp = int(rng.integers(12, 400))
    n_dp = int(rng.integers(8, 250))
    if vaf is None:
        vaf = float(rng.beta(1.2, 4.0))
    t_alt_total = max(1, round(t_dp * vaf))
    split = rng.dirichlet(np.ones(n_alt)) if n_alt > 1 else np.array([1.0])
    t_alt = [max(1, round(t_alt_total * s)) for s in split]
    t_ref = max(0, t_dp - sum(t_alt))
    n_alt_counts = [int(rng.integers(0, 2)) for _ in alts]
    n_ref = max(0, n_dp - sum(n_alt_counts))

    def f1r2(counts: list[int]) -> tuple[list[int], list[int]]:
        a = [int(rng.binomial(c, 0.5)) for c in counts]
        return a, [c - x for c, x in zip(counts, a, strict=True)]

    def sample(ref_c: int, alt_c: list[int], gt: str) -> str:
        ad = [ref_c, *alt_c]
        dp = sum(ad)
        af = [(c + 0.5) / (dp + 1.0) for c in alt_c]
        a, b = f1r2(ad)
        ref_fwd = int(rng.binomial(ref_c, 0.5))
        alt_sum = sum(alt_c)
        alt_fwd = int(rng.binomial(alt_sum, 0.5))
        sb = [ref_fwd, ref_c - ref_fwd, alt_fwd, alt_sum - alt_fwd]
        return ":".join(
            (
                gt,
                ",".join(map(str, ad)),
                ",".join(_f(x) for x in af),
                str(dp),
                ",".join(map(str, a)),
                ",".join(map(str, b)),
                ",".join(map(str, sb)),
            )
        )

    gt_t = "0/" + "/".join(str(i + 1) for i in range(n_alt)) if n_alt > 1 else "0/1"
    tumour_col = sample(t_ref, t_alt, gt_t)
    normal_col = sample(n_ref, n_alt_counts, "0/0")
    ref_fwd = t_ref // 2 + n_ref // 2
    sb_table = f"{ref_fwd},{t_ref + n_ref - ref_fwd}|" + "|".join(
        f"{c // 2 + n // 2},{c - c // 2 + n - n // 2}"
        for c, n in zip(t_alt, n_alt_counts, strict=True)
    )
    status = (
        ",".join(["SITE"] * n_alt) if filt == "PASS" else ",".join([filt.split(";")[0]] * n_alt)
    )
    info = ";".join(
        (
            f"AS_FilterStatus={status}",
            f"AS_SB_TABLE={sb_table}",
            f"DP={t_dp + n_dp + int(rng.integers(0, 6))}",
            f"ECNT={int(rng.choice([1, 1, 1, 1, 2, 3]))}",
            f"GERMQ={int(rng.integers(1, 94))}",
            "MBQ=" + ",".join(str(int(rng.integers(20, 41))) for _ in range(n_alt + 1)),
            "MFRL=" + ",".join(str(int(rng.integers(120, 320))) for _ in range(n_alt + 1)),
            "MMQ="
            + ",".join(str(int(rng.choice([60, 60, 60, 50, 40, 29]))) for _ in range(n_alt + 1)),
            "MPOS=" + ",".join(str(int(rng.integers(5, 50))) for _ in alts),
            "NALOD=" + ",".join(_f(float(rng.uniform(-2.5, 2.5))) for _ in alts),
            "NLOD=" + ",".join(_f(float(rng.uniform(0.5, 60))) for _ in alts),
            "POPAF="
            + ",".join(_f(float(rng.choice([6.0, 6.0, rng.uniform(0.5, 6)]))) for _ in alts),
            "TLOD=" + ",".join(_f(float(c) * float(rng.uniform(2.5, 3.6))) for c in t_alt),
        )
    )
    cols = (tumour_col, normal_col) if tumour_first else (normal_col, tumour_col)
    return f"{ref}\t{','.join(alts)}\t.\t{filt}\t{info}\t{FORMAT_KEYS}\t{cols[0]}\t{cols[1]}"


def _fmt3(values: np.ndarray) -> list[str]:
    """GATK-style floats for an array (see _f)."""
    return [_f(x) for x in values.tolist()]


def tail_pool(rng: np.random.Generator, size: int, tumour_first: bool) -> list[str]:
    """Pre-formatted record tails; sampling from a large pool keeps the text realistic (and as compressible as real
    data: a 32-kb deflate window sees almost no repeats) while costing one lookup per record.

    Biallelic tails are drawn column-wise with numpy; the ~1% multi-allelic ones go through record_tail.
    """
    filt_idx = rng.choice(len(FILTERS), size, p=FILTER_WEIGHTS)
    # REF/ALT: 86% SNV, 7% deletion, 7% insertion (1-7 bp).
    kind = rng.random(size)
    ref_b = rng.integers(0, 4, size)
    alt_b = (ref_b + rng.integers(1, 4, size)) % 4
    indel_len = rng.integers(1, 8, size)
    seq = "".join(BASES[rng.integers(0, 4, size * 8)].tolist())
    acgt = "ACGT"
    refs, alts = [], []
    for i, (u, r, a, n) in enumerate(
        zip(kind.tolist(), ref_b.tolist(), alt_b.tolist(), indel_len.tolist(), strict=True)
    ):
        base = acgt[r]
        if u < 0.86:
            refs.append(base)
            alts.append(acgt[a])
        elif u < 0.93:
            refs.append(base + seq[i * 8 : i * 8 + n])
            alts.append(base)
        else:
            refs.append(base)
            alts.append(base + seq[i * 8 : i * 8 + n])
    t_dp = rng.integers(12, 400, size)
    n_dp = rng.integers(8, 250, size)
    vaf = rng.beta(1.2, 4.0, size)
    t_alt = np.maximum(1, np.rint(t_dp * vaf).astype(np.int64))
    t_ref = np.maximum(0, t_dp - t_alt)
    n_alt = rng.integers(0, 2, size)
    n_ref = np.maximum(0, n_dp - n_alt)

    def sample_cols(ref_c: np.ndarray, alt_c: np.ndarray, gt: str) -> list[str]:
        dp = ref_c + alt_c
        af = _fmt3((alt_c + 0.5) / (dp + 1.0))
        r1 = rng.binomial(ref_c, 0.5)
        a1 = rng.binomial(alt_c, 0.5)
        rf = rng.binomial(ref_c, 0.5)
        af_ = rng.binomial(alt_c, 0.5)
        return [
            f"{gt}:{r},{a}:{f}:{d}:{x},{y}:{r - x},{a - y}:{p},{r - p},{q},{a - q}"
            for r, a, f, d, x, y, p, q in zip(
                ref_c.tolist(),
                alt_c.tolist(),
                af,
                dp.tolist(),
                r1.tolist(),
                a1.tolist(),
                rf.tolist(),
                af_.tolist(),
                strict=True,
            )
        ]

    tumour_cols = sample_cols(t_ref, t_alt, "0/1")
    normal_cols = sample_cols(n_ref, n_alt, "0/0")
    dp_info = (t_dp + n_dp + rng.integers(0, 6, size)).tolist()
    ecnt = rng.choice([1, 1, 1, 1, 2, 3], size).tolist()
    germq = rng.integers(1, 94, size).tolist()
    mbq = rng.integers(20, 41, (size, 2)).tolist()
    mfrl = rng.integers(120, 320, (size, 2)).tolist()
    mmq = rng.choice([60, 60, 60, 50, 40, 29], (size, 2)).tolist()
    mpos = rng.integers(5, 50, size).tolist()
    nalod = _fmt3(rng.uniform(-2.5, 2.5, size))
    nlod = _fmt3(rng.uniform(0.5, 60, size))
    popaf = _fmt3(np.where(rng.random(size) < 0.67, 6.0, rng.uniform(0.5, 6, size)))
    tlod = _fmt3(t_alt * rng.uniform(2.5, 3.6, size))
    sb_ref_f = (t_ref // 2 + n_ref // 2).tolist()
    sb_ref_r = (t_ref + n_ref - t_ref // 2 - n_ref // 2).tolist()
    sb_alt_f = (t_alt // 2 + n_alt // 2).tolist()
    sb_alt_r = (t_alt + n_alt - t_alt // 2 - n_alt // 2).tolist()
    multi = rng.random(size) < 0.01
    pool = []
    for i in range(size):
        filt = FILTERS[filt_idx[i]]
        if multi[i]:
            ref = refs[i][0]
            others = [b for b in acgt if b != ref]
            two = [str(x) for x in rng.choice(others, 2, replace=False)]
            pool.append(
                record_tail(rng, ref, two, tumour_first, "multiallelic" if filt == "PASS" else filt)
            )
            continue
        status = "SITE" if filt == "PASS" else filt.split(";")[0]
        info = (
            f"AS_FilterStatus={status};AS_SB_TABLE={sb_ref_f[i]},{sb_ref_r[i]}|{sb_alt_f[i]},{sb_alt_r[i]};"
            f"DP={dp_info[i]};ECNT={ecnt[i]};GERMQ={germq[i]};MBQ={mbq[i][0]},{mbq[i][1]};"
            f"MFRL={mfrl[i][0]},{mfrl[i][1]};MMQ={mmq[i][0]},{mmq[i][1]};MPOS={mpos[i]};NALOD={nalod[i]};"
            f"NLOD={nlod[i]};POPAF={popaf[i]};TLOD={tlod[i]}"
        )
        a, b = (
            (tumour_cols[i], normal_cols[i]) if tumour_first else (normal_cols[i], tumour_cols[i])
        )
        pool.append(f"{refs[i]}\t{alts[i]}\t.\t{filt}\t{info}\t{FORMAT_KEYS}\t{a}\t{b}")
    return pool


# --------------------------------------------------------------------------------------------------------------------
# Background positions
# --------------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Body:
    """Sorted background records: contig index, position, tail-pool index (and, in the ERBB2 window, own tails)."""

    build: str
    contig: np.ndarray  # int16 index into CONTIG_LENGTHS[build]
    pos: np.ndarray  # int64, 1-based
    tail: np.ndarray  # int32 index into the pool
    pool: list[str]
    tumour_first: bool
    window: tuple[
        int, int, int
    ]  # contig index, start, end of the ERBB2 window (records rewritten there)
    window_tails: dict[int, str]  # record index -> tail with the transcript's REF base


def _sorted_unique(key: np.ndarray) -> np.ndarray:
    """Sorted unique values (np.unique hashes first in numpy 2.x, which is several times slower for int64 keys)."""
    key = np.sort(key)
    return key[np.concatenate(([True], key[1:] != key[:-1]))] if key.size else key


def background_positions(
    rng: np.random.Generator, build: str, n: int, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique (contig, position) pairs: uniform over the genome (WGS) or clustered on pseudo-exons (WES)."""
    contigs = CONTIG_LENGTHS[build]
    lengths = np.array([length for _, length in contigs], dtype=np.int64)
    weights = lengths.astype(float)
    if kind == "wes":
        weights[-1] = 0.0  # no mitochondrial calls in an exome
    weights /= weights.sum()
    want = int(n * 1.04) + 64
    if kind == "wgs":
        contig = rng.choice(len(contigs), want, p=weights)
        pos = (rng.random(want) * (lengths[contig] - 2)).astype(np.int64) + 1
    else:
        n_targets = max(1, n // 3)
        t_contig = rng.choice(len(contigs), n_targets, p=weights)
        t_center = (rng.random(n_targets) * (lengths[t_contig] - 20000)).astype(np.int64) + 10000
        pick = rng.integers(0, n_targets, want)
        contig = t_contig[pick]
        pos = t_center[pick] + rng.normal(0, 80, want).astype(np.int64)
        pos = np.clip(pos, 1, lengths[contig] - 1)
    key = _sorted_unique(contig.astype(np.int64) << 32 | pos)
    if key.size > n:
        keep = np.ones(key.size, dtype=bool)
        keep[rng.choice(key.size, key.size - n, replace=False)] = False
        key = key[keep]
    return (key >> 32).astype(np.int16), (key & 0xFFFFFFFF).astype(np.int64)


def make_body(
    tx: Transcript,
    build: str,
    n: int,
    kind: str,
    seed: int,
    tumour_first: bool,
    pool_size: int = 32768,
) -> Body:
    """Background records for one file shape, with transcript-correct SNVs in the ERBB2 window."""
    rng = np.random.default_rng(seed)
    contig, pos = background_positions(rng, build, n, kind)
    names = [name for name, _ in CONTIG_LENGTHS[build]]
    chrom_name, gene_start, gene_end = GENE_REGION[build]
    ci = names.index(chrom_name)
    # ERBB2 window: the gene span +-20 kb. Inside it, records come from this generator's own rules.
    w_start, w_end = gene_start - 20000, gene_end + 20000
    if kind == "wes":
        # An exome captures the ERBB2 exons: put 1-2 background calls on a few of them (and none elsewhere in the window).
        inside = (contig == ci) & (pos >= w_start) & (pos <= w_end)
        contig, pos = contig[~inside], pos[~inside]
        exon_pos = []
        for exon in tx.exons[1:-1]:
            if rng.random() < 0.35:
                start = exon.genomic_start[build]
                length = exon.tx_end - exon.tx_start + 1
                exon_pos += [
                    start + int(x)
                    for x in rng.choice(length, int(rng.integers(1, 3)), replace=False)
                ]
        key = _sorted_unique(
            np.concatenate(
                [
                    contig.astype(np.int64) << 32 | pos,
                    np.array([ci << 32 | p for p in exon_pos], dtype=np.int64),
                ]
            )
        )
        contig, pos = (key >> 32).astype(np.int16), (key & 0xFFFFFFFF).astype(np.int64)
    pool = tail_pool(rng, pool_size, tumour_first)
    tail = rng.integers(0, pool_size, pos.size).astype(np.int32)
    exonic = tx.exonic_bases(build)
    # Planted alleles sit in exons 8 and 17-22: keep background calls 30 bp away from every planted allele.
    planted = [
        plant_allele(tx, p, build, left_align=la).pos for p in PLANTS for la in (True, False)
    ]
    window_tails = {}
    keep = np.ones(pos.size, dtype=bool)
    for i in np.nonzero((contig == ci) & (pos >= w_start) & (pos <= w_end))[0]:
        p = int(pos[i])
        if any(abs(p - q) < 30 for q in planted):
            keep[i] = False
            continue
        ref = exonic.get(p) or str(rng.choice(BASES))
        alt = str(rng.choice([b for b in "ACGT" if b != ref]))
        filt = FILTERS[int(rng.choice(len(FILTERS), p=FILTER_WEIGHTS))]
        window_tails[i] = record_tail(rng, ref, [alt], tumour_first, filt)
    if not keep.all():
        idx = np.nonzero(keep)[0]
        remap = {int(old): new for new, old in enumerate(idx)}
        window_tails = {remap[i]: t for i, t in window_tails.items() if i in remap}
        contig, pos, tail = contig[keep], pos[keep], tail[keep]
    return Body(build, contig, pos, tail, pool, tumour_first, (ci, w_start, w_end), window_tails)


def body_lines(body: Body, start: int, stop: int, chunk: int = 200_000) -> Iterator[str]:
    """The text of records [start, stop) in chunks of lines (each chunk ends with a newline)."""
    names = [name for name, _ in CONTIG_LENGTHS[body.build]]
    pool = body.pool
    wt = body.window_tails
    for lo in range(start, stop, chunk):
        hi = min(stop, lo + chunk)
        chroms = [names[c] for c in body.contig[lo:hi].tolist()]
        positions = body.pos[lo:hi].tolist()
        tails = [pool[t] for t in body.tail[lo:hi].tolist()]
        for i in (k for k in wt if lo <= k < hi):
            tails[i - lo] = wt[i]
        yield "".join(
            [f"{c}\t{p}\t.\t{t}\n" for c, p, t in zip(chroms, positions, tails, strict=True)]
        )


def window_bounds(body: Body) -> tuple[int, int]:
    """Record indices [a, b) of the ERBB2 window (where per-file planted alleles go)."""
    ci, w_start, w_end = body.window
    key = body.contig.astype(np.int64) << 32 | body.pos
    a = int(np.searchsorted(key, ci << 32 | w_start, side="left"))
    b = int(np.searchsorted(key, ci << 32 | w_end, side="right"))
    return a, b


def planted_lines(
    tx: Transcript,
    body: Body,
    labels: Iterable[str],
    rng: np.random.Generator,
    left_align: bool = True,
) -> list[tuple[int, str]]:
    """(position, line) for each planted allele, PASS with a clonal-to-subclonal VAF."""
    chrom = GENE_REGION[body.build][0]
    out = []
    for label in labels:
        allele = plant_allele(tx, PLANT_BY_LABEL[label], body.build, left_align=left_align)
        vaf = float(rng.uniform(0.08, 0.6))
        tail = record_tail(rng, allele.ref, [allele.alt], body.tumour_first, "PASS", vaf=vaf)
        out.append((allele.pos, f"{chrom}\t{allele.pos}\t.\t{tail}\n"))
    return out


def window_text(
    tx: Transcript,
    body: Body,
    labels: Sequence[str],
    rng: np.random.Generator,
    left_align: bool = True,
) -> str:
    """The ERBB2-window records of one file: background + planted, sorted by position."""
    a, b = window_bounds(body)
    lines = [(int(body.pos[i]), "".join(body_lines(body, i, i + 1))) for i in range(a, b)]
    lines += planted_lines(tx, body, labels, rng, left_align)
    lines.sort(key=lambda x: x[0])
    return "".join(line for _, line in lines)


# --------------------------------------------------------------------------------------------------------------------
# Writing: bgzip (external, threaded) for big files, an in-process BGZF writer for small pieces
# --------------------------------------------------------------------------------------------------------------------

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def bgzf_blocks(data: bytes, level: int = 6) -> bytes:
    """BGZF-compress data (no EOF marker) so it can be spliced between other BGZF pieces."""
    out = bytearray()
    for i in range(0, len(data), 0xFF00):
        chunk = data[i : i + 0xFF00]
        comp = zlib.compressobj(level, zlib.DEFLATED, -15)
        cdata = comp.compress(chunk) + comp.flush()
        bsize = len(cdata) + 25
        out += b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
        out += struct.pack("<H", bsize)
        out += cdata
        out += struct.pack("<II", zlib.crc32(chunk) & 0xFFFFFFFF, len(chunk))
    return bytes(out)


def bgzip_bytes(chunks: Iterable[str], threads: int = 2) -> bytes:
    """Compress a text stream with bgzip -@threads; returns the BGZF bytes without the EOF marker.

    Without a bgzip command, the in-process writer (single-threaded, same format)."""
    if not shutil.which("bgzip"):
        return bgzf_blocks("".join(chunks).encode())
    proc = subprocess.Popen(
        ["bgzip", f"-@{threads}", "-c"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    import threading

    result: list[bytes] = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.read()))
    reader.start()
    for text in chunks:
        proc.stdin.write(text.encode())
    proc.stdin.close()
    reader.join()
    if proc.wait() != 0:
        raise RuntimeError("bgzip failed")
    data = result[0]
    return data[: -len(BGZF_EOF)] if data.endswith(BGZF_EOF) else data


def _atomic_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def tabix(path: Path) -> None:
    """Index with the tabix command, or with pysam's copy of htslib when tabix is not installed."""
    if shutil.which("tabix"):
        subprocess.run(["tabix", "-f", "-p", "vcf", str(path)], check=True)
        return
    import pysam

    pysam.tabix_index(str(path), preset="vcf", force=True, keep_original=True)


def write_single(
    tx: Transcript,
    out_dir: Path,
    build: str,
    kind: str,
    n_records: int,
    seed: int,
    formats: Sequence[str],
    plants: Sequence[str],
    gzip_level: int = 6,
) -> dict[str, Path]:
    """One WES/WGS file in the requested formats: bgz (+.tbi), bgz-noindex, gz, vcf. Returns format -> path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tumour, normal = f"{kind.upper()}_{build}_TUMOR", f"{kind.upper()}_{build}_NORMAL"
    body = make_body(tx, build, n_records, kind, seed, tumour_first=True)
    rng = np.random.default_rng(seed + 1)
    header = header_lines(build, tumour, normal, [tumour, normal])
    a, b = window_bounds(body)
    window = window_text(tx, body, plants, rng)

    def text() -> Iterator[str]:
        yield header
        yield from body_lines(body, 0, a)
        yield window
        yield from body_lines(body, b, body.pos.size)

    stem = out_dir / f"{kind}_{build}"
    paths: dict[str, Path] = {}
    procs: list[tuple[subprocess.Popen, Path, Path]] = []
    sinks = []
    if "bgz" in formats or "bgz-noindex" in formats:
        final = Path(f"{stem}.vcf.gz")
        tmp = _atomic_path(final)
        fh = tmp.open("wb")
        p = subprocess.Popen(["bgzip", "-@2", "-c"], stdin=subprocess.PIPE, stdout=fh)
        fh.close()
        procs.append((p, tmp, final))
        sinks.append(p.stdin)
        paths["bgz"] = final
    if "gz" in formats:
        final = Path(f"{stem}.plain.vcf.gz")
        tmp = _atomic_path(final)
        fh = tmp.open("wb")
        p = subprocess.Popen(["gzip", f"-{gzip_level}", "-c"], stdin=subprocess.PIPE, stdout=fh)
        fh.close()
        procs.append((p, tmp, final))
        sinks.append(p.stdin)
        paths["gz"] = final
    plain_tmp = plain_final = None
    if "vcf" in formats:
        plain_final = Path(f"{stem}.vcf")
        plain_tmp = _atomic_path(plain_final)
        sinks.append(plain_tmp.open("wb"))
        paths["vcf"] = plain_final
    n_written = 0
    for chunk in text():
        data = chunk.encode()
        n_written += chunk.count("\n")
        for sink in sinks:
            sink.write(data)
    for sink in sinks:
        sink.close()
    for p, tmp, final in procs:
        if p.wait() != 0:
            raise RuntimeError(f"compressor failed for {final}")
        os.replace(tmp, final)
    if plain_tmp is not None and plain_final is not None:
        os.replace(plain_tmp, plain_final)
    if "bgz" in paths:
        if "bgz" in formats:
            tabix(paths["bgz"])
        if "bgz-noindex" in formats:
            # The same bytes under a name with no index next to it (a hard link costs no space).
            noidx = Path(f"{stem}.noindex.vcf.gz")
            noidx.unlink(missing_ok=True)
            try:
                os.link(paths["bgz"], noidx)
            except OSError:
                import shutil

                shutil.copyfile(paths["bgz"], noidx)
            paths["bgz-noindex"] = noidx
        if "bgz" not in formats:
            del paths["bgz"]
    print(
        f"  {stem.name}: {n_written - header.count(chr(10)):,} records -> {', '.join(paths)}",
        flush=True,
    )
    return paths


# --------------------------------------------------------------------------------------------------------------------
# Batch
# --------------------------------------------------------------------------------------------------------------------

SAMPLE_STYLES = (
    ("{id}_T", "{id}_N"),
    ("{id}-tumor", "{id}-normal"),
    ("TUMOR_{id}", "NORMAL_{id}"),
    ("{id}.T1", "{id}.B1"),
)
TUMOUR_TYPES = ("BRCA", "STAD", "NSCLC", "BLCA", "COADREAD", "ESCA", "UCEC", "CHOL")


def write_batch(
    tx: Transcript,
    out_dir: Path,
    n_files: int,
    builds: Sequence[str],
    n_records: int,
    n_bodies: int,
    seed: int,
    workers: int = 2,
) -> Path:
    """N distinct indexed WES-size VCFs from a few shared bodies; returns the samples.tsv path.

    Each body's records before and after the ERBB2 window are compressed once; every file is its own header
    (sample names) + those shared blocks + its own ERBB2 window (background + 0-3 planted alleles, left-aligned or
    not) spliced as BGZF pieces, then tabix-indexed. Files differ in header and window, so no two are identical.
    """
    vcf_dir = out_dir / "vcf"
    vcf_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    bodies = []
    for k in range(n_bodies):
        build = builds[k % len(builds)]
        body = make_body(
            tx, build, n_records, "wes", seed + 1000 + k, tumour_first=(k // len(builds)) % 2 == 0
        )
        a, b = window_bounds(body)
        pre = bgzip_bytes(body_lines(body, 0, a))
        post = bgzip_bytes(body_lines(body, b, body.pos.size))
        bodies.append((body, pre, post))
        print(
            f"  body {k}: {build}, {body.pos.size:,} records, tumour column {'first' if body.tumour_first else 'second'}",
            flush=True,
        )
    labels = [p.label for p in PLANTS]
    rows = []
    truth = []
    paths = []
    for i in range(n_files):
        sample_id = f"P{i + 1:04d}"
        body, pre, post = bodies[i % n_bodies]
        t_style, n_style = SAMPLE_STYLES[i % len(SAMPLE_STYLES)]
        tumour, normal = t_style.format(id=sample_id), n_style.format(id=sample_id)
        order = [tumour, normal] if body.tumour_first else [normal, tumour]
        n_plant = int(rng.choice([0, 1, 1, 1, 2, 2, 3]))
        chosen = sorted(rng.choice(len(labels), n_plant, replace=False).tolist())
        plants = [labels[j] for j in chosen]
        left_align = bool(rng.random() < 0.7)
        window = window_text(tx, body, plants, rng, left_align)
        data = (
            bgzf_blocks(header_lines(body.build, tumour, normal, order).encode())
            + pre
            + bgzf_blocks(window.encode())
            + post
            + BGZF_EOF
        )
        path = vcf_dir / f"{sample_id}.vcf.gz"
        tmp = _atomic_path(path)
        tmp.write_bytes(data)
        os.replace(tmp, path)
        paths.append(path)
        tumour_type = TUMOUR_TYPES[int(rng.integers(0, len(TUMOUR_TYPES)))]
        # tumor_sample/normal_sample left empty: the pipeline reads ##tumor_sample from the header,
        # as it must for a folder of VCFs.
        rows.append((sample_id, f"vcf/{path.name}", "", "", tumour_type, body.build))
        for label in plants:
            allele = plant_allele(tx, PLANT_BY_LABEL[label], body.build, left_align=left_align)
            chrom = GENE_REGION[body.build][0]
            truth.append((sample_id, body.build, label, chrom, allele.pos, allele.ref, allele.alt))
    # Index in parallel (tabix reads each ~3 MB file once).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(tabix, paths))
    samples = out_dir / "samples.tsv"
    samples.write_text(
        "# Generated by benchmarks/generate_vcfs.py; vcf paths are relative to this sheet's folder.\n"
        "sample\tvcf\ttumor_sample\tnormal_sample\ttumor_type\tbuild\n"
        + "".join("\t".join(r) + "\n" for r in rows)
    )
    (out_dir / "truth.tsv").write_text(
        "sample\tbuild\tallele\tchrom\tpos\tref\talt\n"
        + "".join("\t".join(map(str, r)) + "\n" for r in truth)
    )
    return samples


# --------------------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------------------

DEFAULT_PLANTS = ("L755S", "Y772_A775dup", "T798I")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reference-dir",
        type=Path,
        default=DEFAULT_REFERENCE_DIR,
        help="shared/reference folder (default: %(default)s)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_DATA_DIR, help="output folder (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=20240601)
    sub = parser.add_subparsers(dest="command", required=True)

    single = sub.add_parser("single", help="one WES or WGS file")
    single.add_argument("--kind", choices=("wes", "wgs"), default="wes")
    single.add_argument("--build", choices=("GRCh38", "GRCh37"), default="GRCh38")
    single.add_argument(
        "--records", type=int, help="record count (default 50,000 WES, 5,000,000 WGS)"
    )
    single.add_argument(
        "--formats",
        default="bgz,bgz-noindex",
        help="comma list of bgz,bgz-noindex,gz,vcf (default: %(default)s)",
    )
    single.add_argument(
        "--plants",
        default=",".join(DEFAULT_PLANTS),
        help=f"comma list of {', '.join(PLANT_BY_LABEL)}",
    )

    batch = sub.add_parser("batch", help="N indexed WES-size VCFs + samples.tsv")
    batch.add_argument("-n", "--files", type=int, default=1000)
    batch.add_argument(
        "--builds",
        default="GRCh38,GRCh37",
        help="builds, cycled over bodies (default: %(default)s)",
    )
    batch.add_argument("--records", type=int, default=50_000)
    batch.add_argument(
        "--bodies", type=int, default=4, help="distinct WES bodies the files are built from"
    )
    batch.add_argument("--name", default=None, help="subfolder (default batch_<n>)")

    allp = sub.add_parser(
        "all",
        help="the standard benchmark set: WES + WGS on both builds (all formats) and the batch",
    )
    allp.add_argument("-n", "--files", type=int, default=1000)

    args = parser.parse_args(argv)
    tx = Transcript.load(args.reference_dir)
    for plant in PLANTS:  # validates every plant against the transcript on both builds
        for build in ("GRCh38", "GRCh37"):
            plant_allele(tx, plant, build)
    t0 = time.perf_counter()
    if args.command == "single":
        n = args.records or (5_000_000 if args.kind == "wgs" else 50_000)
        plants = [p for p in args.plants.split(",") if p]
        write_single(
            tx,
            args.out / "single",
            args.build,
            args.kind,
            n,
            args.seed,
            args.formats.split(","),
            plants,
        )
    elif args.command == "batch":
        name = args.name or f"batch_{args.files}"
        samples = write_batch(
            tx,
            args.out / name,
            args.files,
            args.builds.split(","),
            args.records,
            args.bodies,
            args.seed,
        )
        print(f"  {samples}")
    else:
        every = ("bgz", "bgz-noindex", "gz", "vcf")
        for build in ("GRCh38", "GRCh37"):
            write_single(
                tx, args.out / "single", build, "wes", 50_000, args.seed, every, DEFAULT_PLANTS
            )
            # Plain-text and plain-gzip WGS copies (1.5 GB of text each) only for GRCh38: the streaming
            # benchmark needs one build, and gzip -6 of 1.5 GB is a minute of CPU on a shared machine.
            formats = every if build == "GRCh38" else ("bgz", "bgz-noindex")
            write_single(
                tx, args.out / "single", build, "wgs", 5_000_000, args.seed, formats, DEFAULT_PLANTS
            )
        samples = write_batch(
            tx,
            args.out / f"batch_{args.files}",
            args.files,
            ("GRCh38", "GRCh37"),
            50_000,
            4,
            args.seed,
        )
        print(f"  {samples}")
    print(f"done in {time.perf_counter() - t0:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
