"""The bundled example batch: reproducible from its generator, and true to NM_004448.4."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pytest

from erbb2_tki.batch import samples

PROJECT = Path(__file__).resolve().parents[2]
CONFIG = PROJECT / "config"
# GRCh38 = GRCh37 + 1,843,747 across the ERBB2 locus (one ungapped chain block).
GRCH37_TO_38 = 1_843_747


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "make_example", CONFIG / "example" / "make_example.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_records(path: Path) -> list[list[str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt") as handle:
        return [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]


def test_sheet_lists_six_existing_vcfs() -> None:
    rows = samples.read_sheet(CONFIG / "samples.tsv")
    assert [r.sample for r in rows] == ["S01", "S02", "S03", "S04", "S05", "S06"]
    for row in rows:
        assert Path(row.vcf).is_file(), row.vcf
    assert Path(rows[1].vcf + ".tbi").is_file()  # indexed
    assert not Path(rows[3].vcf + ".tbi").exists()  # bgzipped, no index
    assert (rows[2].tumor_sample, rows[2].normal_sample) == ("TUMOR", "NORMAL")


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    load_generator().main(tmp_path)
    assert (tmp_path / "samples.tsv").read_bytes() == (CONFIG / "samples.tsv").read_bytes()
    written = sorted(p.name for p in (tmp_path / "example").iterdir())
    committed = sorted(p.name for p in (CONFIG / "example").iterdir() if p.suffix != ".py")
    assert written == committed
    for name in written:
        assert (tmp_path / "example" / name).read_bytes() == (
            CONFIG / "example" / name
        ).read_bytes(), name


def exonic_reference(reference_dir: Path) -> dict[tuple[str, int], str]:
    """GRCh37 and GRCh38 position -> base, for every exonic base of NM_004448.4."""
    fasta = reference_dir / "raw" / "biocommons_hgvs_cache_NM_004448.4_mRNA.fa"
    mrna = "".join(
        line.strip() for line in fasta.read_text().splitlines() if not line.startswith((";", ">"))
    )
    table = reference_dir / "derived_NM_004448.4_exons_GRCh37_GRCh38.tsv"
    lines = [line for line in table.read_text().splitlines() if not line.startswith("#")]
    header = lines[0].split("\t")
    bases = {}
    for line in lines[1:]:
        exon = dict(zip(header, line.split("\t"), strict=True))
        tx_start, start37 = int(exon["tx_start"]), int(exon["GRCh37_start"])
        for offset in range(int(exon["length"])):
            base = mrna[tx_start - 1 + offset]
            bases[("GRCh37", start37 + offset)] = base
            bases[("GRCh38", start37 + offset + GRCH37_TO_38)] = base
    return bases


def test_erbb2_records_match_the_reference_mrna(reference_dir: Path) -> None:
    bases = exonic_reference(reference_dir)
    builds = {"S01": "GRCh37"}
    checked = 0
    for row in samples.read_sheet(CONFIG / "samples.tsv"):
        build = builds.get(row.sample, "GRCh38")
        for chrom, pos, _id, ref, _alt, *_ in read_records(Path(row.vcf)):
            if chrom.removeprefix("chr") != "17" or not 37_000_000 < int(pos) < 40_000_000:
                continue
            for offset, base in enumerate(ref):
                assert bases[(build, int(pos) + offset)] == base, (row.sample, pos, ref)
            checked += 1
    assert checked == 6  # L755S x2, T798I, L869R, two YVMA spellings


@pytest.mark.parametrize(
    ("left", "right"),
    [((39724728, "A", "AGCATACGTGATG"), (39724742, "C", "CATACGTGATGGC"))],
)
def test_yvma_spellings_are_the_same_sequence(
    reference_dir: Path, left: tuple[int, str, str], right: tuple[int, str, str]
) -> None:
    """Both insertions give the same haplotype: the reference with ATACGTGATGGC doubled."""
    bases = exonic_reference(reference_dir)
    window = range(39724726, 39724760)
    reference = "".join(bases[("GRCh38", p)] for p in window)

    def apply(pos: int, ref: str, alt: str) -> str:
        cut = pos - window.start
        return reference[:cut] + alt + reference[cut + len(ref) :]

    assert apply(*left) == apply(*right)
    duplicated = "ATACGTGATGGC"
    assert apply(*left).count(duplicated * 2) == 1
