"""Every check fact in ../shared/reference with a known answer, on both builds.

The facts are parsed from the raw files at test time (nothing is copied into the project):
ClinVar g./c. pairs from the biocommons/hgvs test data, the VEP fixtures of LIA-Genomics/vareffect
(their pos field is 0-based), the index excerpts, vcf2maf's known somatic sites and the cancer
hotspot codon BED. When ../shared is absent every case skips with the reason.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from erbb2_tki.naming.consequence import name_allele
from erbb2_tki.naming.protein import canonical_protein_change
from erbb2_tki.naming.transcript import BUILDS, load_transcript

PROJECT_DIR = Path(__file__).resolve().parents[2]
OFFSET_37_TO_38 = 1_843_747  # re-derived from the chain file in test_chain_offset


def _reference_dir() -> Path | None:
    env = os.environ.get("ERBB2_TKI_SHARED")
    for base in ([Path(env)] if env else []) + [PROJECT_DIR.parent / "shared"]:
        if (base / "reference").is_dir():
            return base / "reference"
    return None


REF_DIR = _reference_dir()
SKIP = pytest.mark.skip(reason="../shared/reference is not available (set ERBB2_TKI_SHARED)")


def _params(rows: list, ids=None) -> list:
    if REF_DIR is None:
        return [pytest.param(None, marks=SKIP, id="shared-missing")]
    return [pytest.param(r, id=(ids(r) if ids else None)) for r in rows]


def _read(name: str) -> list[str]:
    if REF_DIR is None:
        return []
    return (REF_DIR / "raw" / name).read_text(encoding="utf-8").splitlines()


T = load_transcript()


def _strip_seq(hgvs: str) -> str:
    """Old ClinVar spelling -> current HGVS: delA -> del, dupATG -> dup, delTTinsCC -> delinsCC."""
    hgvs = re.sub(r"del[ACGT]+ins", "delins", hgvs)
    return re.sub(r"(del|dup)[ACGT]+$", r"\1", hgvs)


def _vcf_from_g(g: str, build: str) -> tuple[int, str, str]:
    """A VCF allele (pos, REF, ALT) for a ClinVar g. description, anchored on exonic bases."""
    base = lambda p: T.base_at(build, p)  # noqa: E731
    if m := re.fullmatch(r"(\d+)([ACGT])>([ACGT])", g):
        return int(m[1]), m[2], m[3]
    if m := re.fullmatch(r"(\d+)(?:_(\d+))?del([ACGT]+)ins([ACGT]+)", g):
        return int(m[1]), m[3], m[4]
    if m := re.fullmatch(r"(\d+)(?:_(\d+))?del([ACGT]*)", g):
        start, end = int(m[1]), int(m[2] or m[1])
        deleted = "".join(base(p) for p in range(start, end + 1))
        assert not m[3] or m[3] == deleted
        return start - 1, base(start - 1) + deleted, base(start - 1)
    if m := re.fullmatch(r"(\d+)_(\d+)ins([ACGT]+)", g):
        left = int(m[1])
        return left, base(left), base(left) + m[3]
    if m := re.fullmatch(r"(\d+)_(\d+)dup([ACGT]*)", g):
        start, end = int(m[1]), int(m[2])
        dup = "".join(base(p) for p in range(start, end + 1))
        assert not m[3] or m[3] == dup
        return end, base(end), base(end) + dup
    raise AssertionError(f"unhandled g. form {g}")


# -- ClinVar (biocommons/hgvs tests/data/clinvar.gz), incl. the commented 12-bp dup line -------


def _clinvar_cases() -> list[tuple[str, str, str, str, str]]:
    cases = []
    for line in _read("biocommons_hgvs_tests_clinvar_ERBB2.tsv"):
        body = line.lstrip("#")
        if not body.startswith("ERBB2\t"):
            continue
        _, vid, variants = body.split("\t")
        names = variants.split()
        c_names = [n.split(":", 1)[1] for n in names if n.startswith("NM_004448.3:")]
        assert len(c_names) == 1, line
        for build, acc in (("GRCh37", "NC_000017.10"), ("GRCh38", "NC_000017.11")):
            g = next(n.split(":g.", 1)[1] for n in names if n.startswith(acc + ":"))
            cases.append((vid, build, acc, g, c_names[0]))
    return cases


@pytest.mark.parametrize("case", _params(_clinvar_cases(), ids=lambda c: f"{c[0]}-{c[1]}-{c[4]}"))
def test_clinvar_pairs(case) -> None:
    _vid, build, acc, g, c_expected = case
    pos, ref, alt = _vcf_from_g(g, build)
    named = name_allele(build, "chr17", pos, ref, alt)
    assert "ref_mismatch" not in named.flags
    assert named.hgvsc == "NM_004448.4:" + _strip_seq(c_expected)
    assert named.hgvsg == f"{acc}:g." + _strip_seq(g)


def test_clinvar_dup_is_three_prime_not_the_known_failure() -> None:
    """The commented ClinVar line lists c.2311_2322dup too: HGVS wants the 3'-most c.2313_2324dup."""
    if REF_DIR is None:
        pytest.skip("../shared/reference is not available")
    line = next(x for x in _read("biocommons_hgvs_tests_clinvar_ERBB2.tsv") if "\t13875\t" in x)
    assert "NM_004448.2:c.2311_2322dup" in line
    for build, acc in (("GRCh37", "NC_000017.10"), ("GRCh38", "NC_000017.11")):
        g = re.search(acc + r":g\.(\S+)", line)[1]
        named = name_allele(build, "17", *_vcf_from_g(g, build))
        assert named.hgvsc == "NM_004448.4:c.2313_2324dup"
        assert named.hgvsp == "p.Tyr772_Ala775dup"


def _issue_829_cases() -> list[tuple[str, str, str]]:
    out = []
    for line in _read("biocommons_hgvs_tests_clinvar_ERBB2.tsv"):
        if m := re.search(r"'(NM_004448\.4:c\.\d+dup)', '(NP_004439\.2:p\.\(\S+\))'", line):
            out.extend((build, m[1], m[2]) for build in BUILDS)
    return out


@pytest.mark.parametrize("case", _params(_issue_829_cases(), ids=lambda c: f"{c[0]}-{c[1]}"))
def test_biocommons_issue_829_frameshift(case) -> None:
    build, c_name, p_name = case
    c = int(re.search(r"c\.(\d+)dup", c_name)[1])
    pos = T.c_to_genomic(build, c)
    base = T.base_at(build, pos)
    named = name_allele(build, "chr17", pos, base, base + base)
    assert named.hgvsc == c_name
    assert f"NP_004439.2:{named.hgvsp}" == p_name.replace("p.(", "p.").rstrip(")")
    assert named.consequence == "frameshift_variant"


# -- VEP fixtures (LIA-Genomics/vareffect; pos is 0-based) ------------------------------------


def _vep_blocks() -> list[dict]:
    text = "\n".join(_read("LIA-Genomics_vareffect_ERBB2_VEP_fixtures.txt"))
    blocks = []
    for block in re.findall(r"Expected\w*\s*\{(.*?)\n\s*\},", text, flags=re.S):
        fields = dict(re.findall(r"(\w+):\s*(.+?),\s*$", block, flags=re.M))
        blocks.append(fields)
    return blocks


def _vep_cases() -> list[tuple[str, str, dict]]:
    return [
        (build, f["label"].strip('"'), f)
        for f in _vep_blocks()
        for build in BUILDS
        if "pos" in f or "expected_pos" in f
    ]


def _bytes(value: str) -> str:
    return re.fullmatch(r'b"([ACGT]+)"', value)[1]


@pytest.mark.parametrize("case", _params(_vep_cases(), ids=lambda c: f"{c[0]}-{c[1]}"))
def test_vep_fixtures(case) -> None:
    build, _label, f = case
    pos0 = int((f.get("pos") or f["expected_pos"]).replace("_", ""))
    ref = _bytes(f.get("ref_allele") or f["expected_ref"])
    alt = _bytes(f.get("alt_allele") or f["expected_alt"])
    pos = pos0 + 1 - (OFFSET_37_TO_38 if build == "GRCh37" else 0)
    named = name_allele(build, "chr17", pos, ref, alt)
    assert not named.flags
    expected_c = f.get("expected_hgvs_c") or f.get("hgvs_input")
    if expected_c:
        assert named.hgvsc == re.search(r'"(NM_[^"]+)"', expected_c)[1]
    if m := re.search(r'Some\("(p\.[^"]+)"\)', f.get("expected_hgvs_p", "")):
        assert named.hgvsp == m[1]
    if "consequences" in f:
        expected = re.findall(r'"(\w+)"', f["consequences"])
        assert named.consequence.split("&") == expected
    if "consequence" in f:
        assert f["consequence"].strip('"') in named.consequence.split("&")
    if m := re.search(r'Some\("([\d/]+)"\)', f.get("exon", "")):
        assert named.exon == m[1]
    if "amino_acids" in f:
        # VEP's unshifted view (A/AYVMA at 771) and ours (3'-shifted dup) are the same protein.
        ref_aa, alt_aa = re.search(r'"(\w+)/(\w+)"', f["amino_acids"]).groups()
        start = int(re.search(r"\d+", f["protein_start"])[0])
        protein = T.protein
        altered = protein[: start - 1] + alt_aa + protein[start - 1 + len(ref_aa) :]
        dup = named.protein
        assert protein[: dup.end] + dup.alt + protein[dup.end :] == altered


# -- Index excerpts ---------------------------------------------------------------------------


def _fact(substring: str) -> str:
    rows = [x for x in _read("index_excerpts_ERBB2_check_facts.tsv") if substring in x]
    if not rows:
        pytest.skip("../shared/reference is not available") if REF_DIR is None else None
        raise AssertionError(f"no index excerpt row contains {substring!r}")
    return rows[0].split("\t")[-1]


def _needs_shared() -> None:
    if REF_DIR is None:
        pytest.skip("../shared/reference is not available")


@pytest.mark.parametrize("build", BUILDS)
def test_excerpt_l755s_both_builds(build: str) -> None:
    _needs_shared()
    fact = _fact("ERBB2 L755S =")
    pairs = re.findall(r"17:g\.(\d+)([ACGT])>([ACGT]) \((GRCh3[78])\)", fact)
    assert {p[3] for p in pairs} == set(BUILDS)
    pos, ref, alt, _ = next(p for p in pairs if p[3] == build)
    named = name_allele(build, "17", int(pos), ref, alt)
    assert named.hgvsp_short == "p." + re.search(r"ERBB2 (\w+) =", fact)[1]
    assert named.hgvsc == "NM_004448.4:c.2264T>C"


@pytest.mark.parametrize("build", BUILDS)
def test_excerpt_cosmic_report(build: str) -> None:
    _needs_shared()
    fact = _fact("COSM14060")
    m = re.search(
        r"chr17:(\d+) ([ACGT])>([ACGT]) \((GRCh37)\), exon (\d+), NM_004448\.\d (c\.\S+) (p\.\S+)",
        fact,
    )
    pos = int(m[1]) + (OFFSET_37_TO_38 if build == "GRCh38" else 0)
    named = name_allele(build, "chr17", pos, m[2], m[3])
    assert named.exon == f"{m[5]}/27"
    assert named.hgvsc == f"NM_004448.4:{m[6]}"
    assert named.hgvsp == m[7]
    assert named.domain == "kinase domain"


@pytest.mark.parametrize("build", BUILDS)
def test_excerpt_s310f(build: str) -> None:
    _needs_shared()
    vcf = _fact("ERBB2_S310F")
    m = re.search(r"(p\.\w+); VCF allele ([ACGT])>([ACGT]) at chr17:(\d+) \(GRCh38\)", vcf)
    pos = int(m[4]) - (OFFSET_37_TO_38 if build == "GRCh37" else 0)
    named = name_allele(build, "chr17", pos, m[2], m[3])
    assert named.hgvsp == m[1]
    vep = _fact("ENST00000269571:c.929C>T")
    c = re.search(r":(c\.\S+) ->", vep)[1]
    exon = re.search(r"EXON (\d+/\d+)", vep)[1]
    codons = re.search(r"codons (\w+)/(\w+)", vep)
    assert named.hgvsc == f"NM_004448.4:{c}"
    assert named.exon == exon
    assert named.consequence == "missense_variant"
    assert re.search(r"HGVSp \S+:(p\.\w+)", vep)[1] == named.hgvsp
    first = T.c_to_tx(929 - (929 - 1) % 3)
    assert T.mrna[first - 1 : first + 2] == codons[1].upper()


@pytest.mark.parametrize("build", BUILDS)
def test_excerpt_d277y(build: str) -> None:
    _needs_shared()
    fact = _fact("c.829G>T")
    m = re.search(r"NC_000017\.11:g\.(\d+)([ACGT])>([ACGT]).*p\.\((\w+)\)", fact)
    pos = int(m[1]) - (OFFSET_37_TO_38 if build == "GRCh37" else 0)
    named = name_allele(build, "chr17", pos, m[2], m[3])
    assert named.hgvsc == "NM_004448.4:c.829G>T"
    assert named.hgvsp == f"p.{m[4]}"


@pytest.mark.parametrize("build", BUILDS)
def test_excerpt_civic_m774insayvm(build: str) -> None:
    _needs_shared()
    fact = _fact("CIViC variant 414")
    m = re.search(
        r"GRCh37 chr17 start (\d+) stop (\d+), variant_bases ([ACGT]+) \(insertion\)", fact
    )
    left = int(m[1]) + (OFFSET_37_TO_38 if build == "GRCh38" else 0)
    base = T.base_at(build, left)
    named = name_allele(build, "chr17", left, base, base + m[3])
    # CIViC's M774INSAYVM: AYVM inserted after M774, which HGVS names as the YVMA duplication.
    expected = canonical_protein_change("M774_A775insAYVM", T.protein)
    assert named.protein == expected
    assert named.hgvsp_short == "p.Y772_A775dup"
    # At the DNA level CIViC's GCTTACGTGATG after c.2322 is a rotation of c.2314_2325
    # (TACGTGATGGCT), a different 12-bp duplication from ClinVar's c.2313_2324dup that encodes
    # the same protein change: DNA names differ, the protein name and KB match do not.
    assert named.hgvsc == "NM_004448.4:c.2314_2325dup"


def test_excerpt_transcriptfeatures_positions() -> None:
    _needs_shared()
    fact = _fact("37880218 in exon 19")
    for pos, what in re.findall(r"(\d{8}) (?:in|=) ([^;]+)", fact):
        loc = T.locate("GRCh37", int(pos))
        if m := re.fullmatch(r"exon (\d+)", what):
            assert loc.region == "exon" and loc.exon == int(m[1])
        elif m := re.fullmatch(r"intron (\d+)", what):
            assert loc.region == "intron" and loc.exon == int(m[1])
        elif m := re.fullmatch(r"(first|last) base of (exon|intron) (\d+)", what.strip()):
            edge, kind, n = m[1], m[2], int(m[3])
            assert loc.exon == n
            if kind == "exon":
                exon = T.exons[n - 1]
                assert loc.region == "exon"
                assert loc.tx == (exon.tx_start if edge == "first" else exon.tx_end)
            else:
                # first base of an intron is c.N+1; last base is c.N-1 of the next exon
                assert loc.region == "intron"
                assert loc.offset == (1 if edge == "first" else -1)
        else:
            raise AssertionError(f"unparsed fact {what!r}")


def test_excerpt_spans_and_cds() -> None:
    _needs_shared()
    fact = _fact("GRCh38 coordinates from NCBI")
    start, end = map(int, re.search(r"ERBB2 (\d+)-(\d+)", fact).groups())
    assert T.span("GRCh38") == (start, end)
    assert T.cds_span("GRCh38")[0] == int(
        re.search(r"'erbb2_longest_transcript_start' (\d+)", fact)[1]
    )
    gene = _fact("gene span GRCh38.p14")
    gene_start = int(re.search(r"chr17 (\d+)\(0-based\)", gene)[1]) + 1
    assert gene_start < T.span("GRCh38")[0]  # the gene is wider than the transcript


def test_excerpt_mane_coding_sites_and_ref() -> None:
    _needs_shared()
    fact = _fact("coding_start_site")
    cs = int(re.search(r"coding_start_site=(\d+)", fact)[1])
    ce = int(re.search(r"coding_end_site=(\d+)", fact)[1])
    assert (T.cds_start - 1, T.cds_end) == (cs, ce)  # 0-based interbase there
    m = re.search(r"c\.(\d+)_(\d+) \(ref ([ACGT]+)\)", fact)
    a, b = T.c_to_tx(int(m[1])), T.c_to_tx(int(m[2]))
    assert T.mrna[a - 1 : b] == m[3]
    residues = _fact("residues 755-759")
    assert re.search(r"NP_004439\.2 residues (\d+)-(\d+)", residues)


def test_excerpt_vrs_interbase() -> None:
    _needs_shared()
    fact = _fact("VRS SequenceLocation")
    c = int(re.search(r"c\.(\d+)_\d+delins", fact)[1])
    start = int(re.search(r"start (\d+)", fact)[1])
    end = int(re.search(r"end (\d+)", fact)[1])
    assert T.c_to_tx(c) - 1 == start
    assert end - start == 2


# -- vcf2maf known somatic sites (GRCh37 BED) and the hotspot codon BED (both builds) ---------


def test_chain_offset() -> None:
    _needs_shared()
    text = "\n".join(_read("mskcc_vcf2maf_GRCh37_to_GRCh38_chain_chr17_ERBB2_block.txt"))
    m = re.search(r"GRCh37 chr17 \[(\d+),(\d+)\) -> GRCh38 chr17 \[(\d+),(\d+)\)", text)
    assert int(m[3]) - int(m[1]) == OFFSET_37_TO_38
    for exon in T.exons:
        assert exon.start("GRCh38") - exon.start("GRCh37") == OFFSET_37_TO_38
        assert int(m[1]) < exon.start("GRCh37") and exon.end("GRCh37") < int(m[2])


def _bed_codon_rows() -> list[tuple[str, int, int, str]]:
    rows = []
    for line in _read("mskcc_vcf2maf_ERBB2_excerpts.tsv"):
        parts = line.split("\t")
        if len(parts) == 4 and parts[3].startswith("ERBB2:"):
            rows.append(("GRCh37", int(parts[1]), int(parts[2]), parts[3].split(":")[1]))
            rows.append(
                (
                    "GRCh38",
                    int(parts[1]) + OFFSET_37_TO_38,
                    int(parts[2]) + OFFSET_37_TO_38,
                    parts[3].split(":")[1],
                )
            )
    return rows


@pytest.mark.parametrize("row", _params(_bed_codon_rows(), ids=lambda r: f"{r[0]}-{r[3]}"))
def test_vcf2maf_known_somatic_sites(row) -> None:
    build, start0, end, site = row
    residue, number = site[0], int(site[1:])
    for pos in range(start0 + 1, end + 1):
        loc = T.locate(build, pos)
        assert loc.region == "exon"
        c = loc.tx - T.cds_start + 1
        assert (c - 1) // 3 + 1 == number
    assert T.protein[number - 1] == residue


def _hotspot_rows() -> list[tuple[str, int, int, str]]:
    rows = []
    for line in _read("PatrickWeller_CancerHotspotsCompleteBedFile_ERBB2_codons.bed"):
        if line.startswith("GRCh"):
            build, _, s, e, name = line.split("\t")
            rows.append((build, int(s), int(e), name.split("_", 1)[1]))
    return rows


@pytest.mark.parametrize("row", _params(_hotspot_rows(), ids=lambda r: f"{r[0]}-{r[3]}"))
def test_hotspot_codons(row) -> None:
    build, start0, end, site = row
    if m := re.fullmatch(r"([A-Z])(\d+)", site):
        first = last = int(m[2])
        assert T.protein[first - 1] == m[1]
    else:
        first, last = map(int, site.split("-"))
    assert end - start0 == 3 * (last - first + 1)
    assert T.codon_genomic(build, first)[0] == start0 + 1
    assert T.codon_genomic(build, last)[2] == end
    # A substitution inside the first codon is named at that codon with its reference residue.
    pos = start0 + 1
    ref = T.base_at(build, pos)
    alt = "A" if ref != "A" else "C"
    named = name_allele(build, "17", pos, ref, alt)
    assert named.protein.start == first
    assert named.protein.ref[0] == T.protein[first - 1]
