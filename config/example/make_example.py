"""Write the bundled example batch: six small, self-written VCFs and config/samples.tsv.

Run from anywhere: `python config/example/make_example.py [CONFIG_DIR]` (default: this
checkout's config/). The output is deterministic (no
dates), so re-running it reproduces the committed files byte for byte.

Positions and reference bases come from NM_004448.4 (exon table and mRNA; GRCh38 = GRCh37 +
1,843,747 across the locus). c. positions map to the genome through the exon that holds them:
exon 19 starts at c.2209 = GRCh38 39,723,912; exon 20 at c.2308 = 39,724,726; exon 21 at
c.2494 = 39,725,049.

- L755S   c.2264T>C  (TTG>TCG)  GRCh37 17:37880220 T>C; GRCh38 chr17:39723967 T>C
- T798I   c.2393C>T  (ACA>ATA)  GRCh38 chr17:39724811 C>T  (2393 - 2308 + 39724726)
- L869R   c.2606T>G  (CTG>CGG)  GRCh38 chr17:39725161 T>G  (2606 - 2494 + 39725049)
- YVMA    c.2313_2324dup (p.Y772_A775dup); exon 20 reads c.2308 GAAGC ATACGTGATGGC TGGTG...
          The 12 bases ATACGTGATGGC (c.2313-c.2324 = 39724731-39724742) can be inserted
          anywhere along the repeat: left-aligned (as VCF normalisation writes it) after
          c.2310 A at 39724728: A>AGCATACGTGATG; right-most (HGVS 3' rule) after c.2324 C
          at 39724742: C>CATACGTGATGGC. Both must be named c.2313_2324dup.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pysam

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent

CONTIGS = {
    "GRCh37": {"7": 159138663, "17": 81195210},
    "GRCh38": {"chr7": 159345973, "chr17": 83257441},
}
REFERENCE = {
    "GRCh37": "file:///references/GRCh37/human_g1k_v37.fasta",
    "GRCh38": "file:///references/GRCh38/GRCh38_full_analysis_set_plus_decoy_hla.fa",
}

FORMAT_HEADER = [
    '##FILTER=<ID=PASS,Description="All filters passed">',
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="Total depth">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths (REF, ALT)">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction of each ALT">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">',
]

# (GT, reference depth, ALT depth) of one sample at one record.
Call = tuple[str, int, int]


def record(chrom: str, pos: int, ref: str, alt: str, calls: list[Call]) -> str:
    """A PASS record with one call per sample."""
    depth = sum(r + a for _, r, a in calls)
    fields = [chrom, str(pos), ".", ref, alt, "60", "PASS", f"DP={depth}", "GT:AD:AF:DP"]
    for gt, ref_depth, alt_depth in calls:
        total = ref_depth + alt_depth
        fraction = f"{alt_depth / total:.3f}" if total else "."
        fields.append(f"{gt}:{ref_depth},{alt_depth}:{fraction}:{total}")
    return "\t".join(fields)


def vcf_text(
    build: str, samples: list[str], records: list[str], extra: tuple[str, ...] | list[str] = ()
) -> str:
    """A whole VCF: header with ##contig lengths and ##reference for the build, then the records."""
    lines = ["##fileformat=VCFv4.2", *FORMAT_HEADER]
    lines += [f"##contig=<ID={name},length={length}>" for name, length in CONTIGS[build].items()]
    lines.append(f"##reference={REFERENCE[build]}")
    lines.append("##source=erbb2-tki example batch (self-written)")
    lines += extra
    columns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
    lines.append("\t".join([*columns, *samples]))
    return "\n".join([*lines, *records]) + "\n"


def write(path: Path, text: str, *, bgzip: bool = False, index: bool = False) -> None:
    """Plain text, or bgzipped (with a .tbi index when asked)."""
    tbi = Path(f"{path}.tbi")
    tbi.unlink(missing_ok=True)
    if not bgzip:
        path.write_text(text, encoding="utf-8")
        return
    plain = path.with_suffix("")  # x.vcf.gz -> x.vcf
    plain.write_text(text, encoding="utf-8")
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    if index:
        pysam.tabix_index(str(path), preset="vcf", force=True)


def main(config_dir: Path = CONFIG) -> None:
    """Write the example VCFs to config_dir/example and the sheet to config_dir/samples.tsv."""
    here = config_dir / "example"
    here.mkdir(parents=True, exist_ok=True)
    # S01: GRCh37 with b37 contig names ("17"), plain text: L755S (and an EGFR call).
    write(
        here / "S01_L755S_GRCh37.vcf",
        vcf_text(
            "GRCh37",
            ["S01"],
            [
                record("7", 55249071, "C", "T", [("0/1", 80, 20)]),
                record("17", 37880220, "T", "C", [("0/1", 62, 38)]),
            ],
        ),
    )
    # S02: GRCh38, bgzipped and indexed: L755S.
    write(
        here / "S02_L755S_GRCh38.vcf.gz",
        vcf_text("GRCh38", ["S02"], [record("chr17", 39723967, "T", "C", [("0/1", 70, 30)])]),
        bgzip=True,
        index=True,
    )
    # S03: GRCh38 tumour/normal (Mutect2-style header hints, normal column first):
    # L869R with the acquired gatekeeper T798I at a lower fraction.
    write(
        here / "S03_L869R_T798I_tumour_normal.vcf.gz",
        vcf_text(
            "GRCh38",
            ["NORMAL", "TUMOR"],
            [
                record("chr17", 39724811, "C", "T", [("0/0", 50, 0), ("0/1", 88, 12)]),
                record("chr17", 39725161, "T", "G", [("0/0", 48, 0), ("0/1", 65, 35)]),
            ],
            ["##tumor_sample=TUMOR", "##normal_sample=NORMAL"],
        ),
        bgzip=True,
        index=True,
    )
    # S04: GRCh38, bgzipped without an index: the YVMA duplication left-aligned.
    write(
        here / "S04_YVMA_left_aligned.vcf.gz",
        vcf_text(
            "GRCh38",
            ["S04"],
            [record("chr17", 39724728, "A", "AGCATACGTGATG", [("0/1", 60, 25)])],
        ),
        bgzip=True,
    )
    # S05: GRCh38, plain text: the same duplication written at its right-most position.
    write(
        here / "S05_YVMA_right_shifted.vcf",
        vcf_text(
            "GRCh38",
            ["S05"],
            [record("chr17", 39724742, "C", "CATACGTGATGGC", [("0/1", 55, 22)])],
        ),
    )
    # S06: GRCh38, calls outside ERBB2 only (EGFR, TP53): no ERBB2 call.
    write(
        here / "S06_no_ERBB2_call.vcf",
        vcf_text(
            "GRCh38",
            ["S06"],
            [
                record("chr7", 55191822, "T", "G", [("0/1", 90, 30)]),
                record("chr17", 7675088, "C", "T", [("0/1", 40, 40)]),
            ],
        ),
    )
    sheet = [
        "# The bundled example batch (config/example/make_example.py writes it).",
        "# vcf paths are relative to this sheet's folder.",
        "sample\tvcf\ttumor_sample\tnormal_sample\ttumor_type\tbuild",
        "S01\texample/S01_L755S_GRCh37.vcf\t\t\tBRCA\tGRCh37",
        "S02\texample/S02_L755S_GRCh38.vcf.gz\t\t\tBRCA\t",
        "S03\texample/S03_L869R_T798I_tumour_normal.vcf.gz\tTUMOR\tNORMAL\tBRCA\t",
        "S04\texample/S04_YVMA_left_aligned.vcf.gz\t\t\tNSCLC\t",
        "S05\texample/S05_YVMA_right_shifted.vcf\t\t\tLUAD\tGRCh38",
        "S06\texample/S06_no_ERBB2_call.vcf\t\t\tCOADREAD\t",
    ]
    (config_dir / "samples.tsv").write_text("\n".join(sheet) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else CONFIG)
