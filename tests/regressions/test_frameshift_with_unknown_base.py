"""A frameshift whose inserted bases hold N crashed the naming engine.

Found by the fuzz test in tests/unit/test_dialects_annotate.py: `KeyError: 'X'` in protein.py
while naming c.2264_2265insN. The frameshift path translated a codon with N as X and then had
no three-letter name for it. A codon with N may even be a stop, so neither the first changed
residue nor the new stop is known: such an allele is now flagged `not_named`, exactly as an
in-frame change with N already was, and the rest of the file is named as usual.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from erbb2_tki.annotate import annotate_sample

HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr17,length=83257441>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\n"
)
L755S = "chr17\t39723967\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n"  # c.2264T>C, named as usual


@pytest.mark.parametrize("alt", ["TN", "TNA", "TNNNNG", "TAN", "TGGGN"])
def test_frameshift_with_n_is_flagged_not_named(tmp_path: Path, alt: str) -> None:
    vcf = tmp_path / "s.vcf"
    vcf.write_text(HEADER + f"chr17\t39723967\t.\tT\t{alt}\t50\tPASS\t.\tGT\t0/1\n" + L755S)
    rows = annotate_sample("S", vcf, build="GRCh38").rows["alleles"]
    by_alt = {r["alt"]: r for r in rows}
    assert by_alt[alt]["hgvsp"] == ""
    assert "not_named:cannot_translate_codon" in by_alt[alt]["flags"]
    assert by_alt["C"]["hgvsp_short"] == "p.L755S"
