"""The real caller VCFs in ../shared/dialects: what each one is, and a splicer that moves one of its
own records into ERBB2.

Shared by the IO tests (tests/unit/test_dialects_io.py), the annotation tests and the workflow
tests, so every layer is checked against the same expected figures. The expected figures are read
off each template record's own text (e.g. DRAGEN tumour AF 0.6000 of AD 8,12, VarScan FREQ 38.46%).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import pysam

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
    path: Path,
    expected: Dialect,
    out_dir: Path,
    pos: int | None = None,
    ref_alt: tuple[str, str] | None = None,
) -> tuple[Path, str]:
    """A copy of the file with its template record moved to ERBB2 (L755 unless `pos`), at its
    sort position; an INFO END moves with it. With `ref_alt`, the record's REF and first ALT
    become that allele (its other ALTs, and so its Number=A/R fields, stay as they are), so the
    caller's own FORMAT fields travel with a real ERBB2 allele such as L755S (T>C)."""
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
    if ref_alt is not None:
        alts = fields[4].split(",")
        fields[3], fields[4] = ref_alt[0], ",".join([ref_alt[1], *alts[1:]])
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
