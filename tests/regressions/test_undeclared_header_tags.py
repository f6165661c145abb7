"""A record using a FILTER, INFO or FORMAT tag its header does not declare stopped annotation.

Found while testing hostile FILTER text for the per-patient report: htslib reads such records
with a warning, but cyvcf2's writer refused them ("variant to be written has errorcode: 2"), so
`erbb2-tki annotate --out-vcf` ended in a traceback and the workflow's shard reported an internal
error. The annotated VCF now declares each undeclared tag (and contig) with a description saying
that erbb2-tki added it, and keeps every record with all its fields.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cyvcf2 import VCF

from erbb2_tki.cli import main
from erbb2_tki.vcf.writer import UNDECLARED

TEXT = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr17,length=83257441>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT\n"
    "chr17\t39723967\t.\tT\tC\t50\tmy_filter;LowQ\t.\tGT:ZZ\t0/1:3\n"
    "chr17\t39724811\t.\tC\tT\t50\tPASS\tXX=1;YY\tGT\t0/1\n"
)


@pytest.mark.parametrize("suffix", [".vcf", ".vcf.gz", ".bcf"])
def test_undeclared_tags_are_declared_and_every_record_kept(tmp_path: Path, suffix: str) -> None:
    vcf = tmp_path / "in.vcf"
    vcf.write_text(TEXT)
    out = tmp_path / f"out{suffix}"
    table = tmp_path / "alleles.tsv"
    code = main(
        ["annotate", str(vcf), "--build", "GRCh38", "--out-vcf", str(out), "--out-tsv", str(table)]
    )
    assert code == 0
    reader = VCF(str(out))
    declared = {
        (h.type, h.info().get("ID")): h.info().get("Description", "") for h in reader.header_iter()
    }
    for key in (("FILTER", "my_filter"), ("FILTER", "LowQ"), ("INFO", "XX"), ("FORMAT", "ZZ")):
        assert UNDECLARED in declared[key], key
    records = list(reader)
    assert [v.FILTERS for v in records] == [["my_filter", "LowQ"], ["PASS"]]
    assert records[1].INFO.get("XX") == "1"
    assert [v.INFO.get("ERBB2_HGVSP_SHORT") for v in records] == ["p.L755S", "p.T798I"]
    assert "p.L755S" in table.read_text()
