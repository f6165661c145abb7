"""`erbb2-tki annotate` on every real caller VCF in ../shared/dialects, as given and with an ERBB2
allele spliced in; and a fuzz test of the reading and naming path.

As given, no file has an ERBB2 call: the answer is an empty alleles table, not an error. With
L755S (c.2264T>C) spliced into one of the file's own records (the caller's FORMAT fields
unchanged), the allele comes out named, tagged from the knowledge base, in the right tumour
column and with that caller's VAF and depth.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialect_cases import DIALECTS, splice
from erbb2_tki.annotate import annotate_sample
from erbb2_tki.cli import main
from erbb2_tki.errors import InputError
from erbb2_tki.knowledge import load_knowledge
from erbb2_tki.vcf.events import classify_alt

pytestmark = pytest.mark.dialects


@pytest.fixture(params=sorted(DIALECTS))
def dialect(request, dialects_dir):
    path = dialects_dir / request.param
    if not path.is_file():
        pytest.skip(f"{path} is not available")
    return path, DIALECTS[request.param]


def _annotate_cli(path: Path, build: str, out: Path) -> pd.DataFrame:
    status = main(["annotate", str(path), "--build", build, "--out-tsv", str(out)])
    assert status == 0
    return pd.read_csv(out, sep="\t", dtype=str, keep_default_na=False)


def test_dialect_as_given_has_no_erbb2_call(dialect, tmp_path):
    path, expected = dialect
    build = "auto" if expected.build else expected.declared
    alleles = _annotate_cli(path, build, tmp_path / "alleles.tsv")
    assert alleles.empty
    assert list(alleles.columns[:5]) == ["sample", "chrom", "pos", "ref", "alt"]


@pytest.mark.parametrize("name", sorted(n for n, d in DIALECTS.items() if d.build is None))
def test_dialect_without_build_evidence_is_an_input_error_naming_the_fix(
    name, dialects_dir, tmp_path, capsys
):
    path = dialects_dir / name
    status = main(["annotate", str(path), "--out-tsv", str(tmp_path / "o.tsv")])
    assert status == 2
    err = capsys.readouterr().err
    assert str(path) in err and "--build" in err
    assert not (tmp_path / "o.tsv").exists()


# Known ERBB2 SNVs by their bases: (hgvsc, hgvsp_short, GRCh38 position, one knowledge-base tag).
# Strelka reports per-base tier counts instead of an AF, so its template keeps its own REF/ALT
# bases and moves to the ERBB2 allele with those bases; every other caller's record becomes L755S.
KNOWN_SNVS = {
    ("T", "C"): ("NM_004448.4:c.2264T>C", "p.L755S", 39723967, "lapatinib:resistant"),
    ("C", "T"): ("NM_004448.4:c.2393C>T", "p.T798I", 39724811, "neratinib:resistant"),
    ("A", "G"): ("NM_004448.4:c.1963A>G", "p.I655V", 39723335, ""),
}
OFFSET_37 = 1_843_747
# Delly's tumour copy number for its template <DUP> is 2: with the tumour column known it is a
# structural event, not a possible amplification.
EVENT_WITH_TUMOUR_CN = {"vcf2maf_test_delly.vcf": "possible_structural_event"}


def test_dialect_spliced_erbb2_snv_is_named_tagged_with_the_callers_vaf(dialect, tmp_path):
    path, expected = dialect
    if expected.event is not None:  # an SV record moved into ERBB2 is an event, not a mutation
        spliced, _ = splice(path, expected, tmp_path)
        result = annotate_sample("S1", spliced, build=expected.declared, kb=load_knowledge())
        assert result.alleles.empty
        assert list(result.structural["event"]) == [
            EVENT_WITH_TUMOUR_CN.get(path.name, expected.event)
        ]
        return
    bases = ("T", "C")
    if expected.vaf_source.startswith("strelka"):
        _, line = splice(path, expected, tmp_path)
        bases = tuple(line.split("\t")[3:5])
    hgvsc, hgvsp_short, pos38, tag = KNOWN_SNVS[bases]
    pos = pos38 if expected.declared == "GRCh38" else pos38 - OFFSET_37
    spliced, _ = splice(path, expected, tmp_path, pos=pos, ref_alt=bases)
    result = annotate_sample(
        "S1", spliced, build=expected.declared, kb=load_knowledge(), tumour_type="BRCA"
    )
    row = result.alleles.iloc[0]
    assert (row["hgvsc"], row["hgvsp_short"]) == (hgvsc, hgvsp_short)
    if tag:
        assert tag in row["kb_drugs"].split(";")
    assert row["tumour_sample"] == expected.tumour
    assert float(row["vaf"]) == pytest.approx(expected.vaf, abs=5e-5)
    assert int(row["depth"]) == expected.depth
    assert int(row["alt_depth"]) == expected.alt_depth
    assert row["build"] == expected.declared


# --- fuzz: any record in the ERBB2 region gives a result or the project's own InputError --------

HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr17,length=83257441>\n"
    '##FILTER=<ID=q10,Description="Quality below 10">\n##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Depths">\n'
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Fraction">\n'
    '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n"
)
bases = st.text(alphabet="ACGTNacgtn", min_size=1, max_size=14)
alt = st.one_of(
    bases,
    st.sampled_from(["*", "<DEL>", "<DUP>", "<*>", "<NON_REF>", "N[chr1:100[", "<CNV>"]),
)
record = st.tuples(
    st.integers(39_695_100, 39_733_600),  # inside the extracted region
    bases,
    st.one_of(st.lists(alt, min_size=1, max_size=3), st.just(["."])),  # '.': no ALT at all
    st.sampled_from(["0/1", "0|1", "1|0", "./.", "1", "0/0", "1/2", "."]),
    st.sampled_from(["PASS", ".", "q10"]),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=st.lists(record, min_size=1, max_size=6))
def test_fuzz_reading_and_naming_gives_a_result_or_an_input_error(records, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    lines = []
    for pos, ref, alts, gt, filt in sorted(records):
        n = len(alts)
        ad = ",".join(["5"] * (n + 1))
        af = ",".join(["0.25"] * n)
        lines.append(
            f"chr17\t{pos}\t.\t{ref}\t{','.join(alts)}\t50\t{filt}\t.\tGT:AD:AF:PS\t{gt}:{ad}:{af}:{pos}\n"
        )
    vcf = folder / "fuzz.vcf"
    vcf.write_text(HEADER + "".join(lines))
    try:
        result = annotate_sample(
            "F1",
            vcf,
            build="GRCh38",
            kb=load_knowledge(),
            out_vcf=folder / "o.vcf.gz",
            out_alleles=folder / "o.tsv",
        )
    except InputError as err:
        assert "F1" in str(err)
        assert not (folder / "o.vcf.gz").exists()
        return
    # Nothing silently dropped: every small ALT is a row (merged-in-cis rows come on top), every
    # other ALT is counted as skipped or reported as a structural event.
    # The same ALT at the same site in a second record is one allele (flag duplicate_record).
    first_record: dict[tuple[int, str, str], int] = {}
    small, duplicates = [], 0
    for index, (pos, ref, alts, _, _) in enumerate(sorted(records)):
        for alt in alts:
            key = (pos, ref.upper(), alt.upper())
            if alt == ".":  # no ALT: counted as missing, never a duplicate
                continue
            if first_record.setdefault(key, index) != index:
                duplicates += 1
            elif classify_alt(ref, alt) == "small":
                small.append(alt)
    own_rows = result.alleles[
        ~result.alleles["alt_index"].astype(str).str.contains("+", regex=False)
    ]
    assert len(own_rows) == len(small)
    assert sum(result.skipped.values()) == sum(len(r[2]) for r in records) - len(small)
    assert result.skipped.get("duplicate_record", 0) == duplicates
    assert (folder / "o.tsv").exists()
