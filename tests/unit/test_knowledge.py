"""The knowledge base: loading, validation with file/line/field messages, the content hash, matching."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from erbb2_tki.errors import InputError
from erbb2_tki.knowledge import (
    DATA_FILES,
    EVIDENCE_FILE,
    knowledge_dir,
    load_knowledge,
    write_hashes,
)
from erbb2_tki.knowledge.kb_cli import _pseudo_allele
from erbb2_tki.paths import annotations_dir


@pytest.fixture(scope="module")
def kb():
    return load_knowledge()


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A private copy of annotations/knowledge to edit."""
    target = tmp_path / "knowledge"
    shutil.copytree(annotations_dir() / "knowledge", target)
    return target


def _edit_line(path: Path, startswith: str, column: str, value: str) -> int:
    """Set one cell of the data row that starts with `startswith`; returns its line number."""
    lines = path.read_text().splitlines()
    header = next(line for line in lines if line and not line.startswith("#")).split("\t")
    for number, line in enumerate(lines, start=1):
        if line.startswith(startswith + "\t"):
            cells = line.split("\t")
            cells[header.index(column)] = value
            lines[number - 1] = "\t".join(cells)
            path.write_text("\n".join(lines) + "\n")
            return number
    raise AssertionError(f"no row starting {startswith!r} in {path}")


def _allele(kb, text):
    return _pseudo_allele(kb.canonical(text))


# --------------------------------------------------------------------------------------------
# Loading and counts


def test_project_knowledge_base_loads_with_known_counts(kb):
    # 2.0.0 (docs/knowledge-base.md, "Version 2.0.0"): 81 rows of 1.0.0, 3 removed, 12 added;
    # pertuzumab and pertuzumab + trastuzumab added; classes exon20_deletion and oncogenic_missense added
    assert kb.version == "3.0.0"
    assert kb.content_hash.startswith("sha256:")
    assert len(kb.evidence) == 90
    assert len(kb.drugs) == 22
    assert list(kb.classes) == [
        "exon20_insertion",
        "exon20_deletion",
        "tkd_activating",
        "oncogenic",
        "oncogenic_missense",
        "truncating",
    ]
    # allele rows: 30 alleles of 1.0.0 (V777_G778insGSP = G778_P780dup), minus T733I (EV0065 removed,
    # its only row), plus D769Y's afatinib row on an allele already present
    assert len(kb.alleles) == 29
    assert kb.codons == [310, 755]


def test_annotations_folder_and_knowledge_folder_both_work(kb):
    assert knowledge_dir(annotations_dir()) == knowledge_dir(annotations_dir() / "knowledge")
    assert load_knowledge(annotations_dir()).content_hash == kb.content_hash


# Rows of the 1.0.0 source notes that 2.0.0 removed (not supported by their citations) and the
# corrections that changed a row's identity; docs/knowledge-base.md ("Version 2.0.0") gives the reasons.
REMOVED_IN_2_0 = ("EV0051", "EV0061", "EV0065")
ALTERATION_CHANGED = {
    "EV0079": "oncogenic_missense",  # T-DXd level 1 narrowed (OncoKB 06/2026)
    "EV0076": "tkd_activating",  # neratinib 3A in NSCLC is for the TKD list (OncoKB 12/2025)
}
CITATION_MOVED = {("EV0013", "PMID:22046346"): "EV0082"}  # Kancha's Ba/F3 IC50: its own pan row


def test_every_source_row_is_kept_under_its_id_or_removed_with_a_reason(kb, shared_dir):
    """Every row of shared/knowledge (EV0001..EV0081, in order) is still there under its id, about the
    same alteration and drug with every identifier it cited, or removed and documented (2.0.0)."""
    path = shared_dir / "knowledge" / "erbb2_tki_evidence.tsv"
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    source = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert len(source) == 81
    by_id = {r.evidence_id: r for r in kb.evidence}
    docs = (Path(__file__).resolve().parents[2] / "docs" / "knowledge-base.md").read_text()
    for i, src in enumerate(source, start=1):
        eid = f"EV{i:04d}"
        if eid in REMOVED_IN_2_0:
            assert eid not in by_id
            assert f"{eid}" in docs.split("## Version 2.0.0")[1]
            continue
        row = by_id[eid]
        assert row.alteration == ALTERATION_CHANGED.get(eid, src["alteration"])
        assert (row.alteration_kind, row.drug) == (src["alteration_kind"], src["drug"])
        for token in src["citation"].split(";"):
            if token.startswith(("PMID:", "DOI:", "PMC")):
                moved = CITATION_MOVED.get((eid, token))
                holder = by_id[moved] if moved else row
                assert token in holder.citations.split(";")
    # new rows continue the numbering; ids are never reused
    assert [r.evidence_id for r in kb.evidence][-12:] == [f"EV{i:04d}" for i in range(82, 94)]


def test_drug_kinds_agree_with_the_source_except_documented_corrections(kb, shared_dir):
    path = shared_dir / "knowledge" / "erbb2_tki_evidence.tsv"
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    corrected = {"zongertinib"}  # covalent inhibitor; the source notes say reversible
    for src in csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        kind = kb.drugs[src["drug"]].kind
        if src["drug"] in corrected:
            assert (src["drug_kind"], kind) == ("tki_reversible", "tki_irreversible")
        elif src["drug_kind"] == "other":
            assert kind in ("combination", "unspecified")
        else:
            assert kind == src["drug_kind"]


def test_conflicting_rows_are_kept_side_by_side(kb):
    rows = [r for r in kb.evidence if r.alteration == "L755S" and r.drug == "neratinib"]
    assert sorted(r.response for r in rows) == ["resistant", "sensitive", "sensitive", "sensitive"]
    (resistant,) = (r for r in rows if r.response == "resistant")
    assert resistant.citations == "DOI:10.1080/15384101.2019.1624113"


@pytest.mark.parametrize(
    ("evidence_type", "level"),
    [
        ("fda_approval", "A"),
        ("guideline", "A"),
        ("clinical_trial", "B"),
        ("case_report", "C"),
        ("preclinical_in_vivo", "D"),
        ("preclinical_in_vitro", "D"),
    ],
)
def test_level_scale(kb, evidence_type, level):
    assert kb.levels.type_level[evidence_type] == level
    assert all(r.evidence_level == level for r in kb.evidence if r.evidence_type == evidence_type)


# --------------------------------------------------------------------------------------------
# Validation: each violation names the file, the line and the field


@pytest.mark.parametrize(
    ("row", "column", "value", "field", "words"),
    [
        ("EV0013", "drug", "lapatinibb", "drug", "unknown drug"),
        ("EV0013", "drug", "tykerb", "drug", "write the generic name 'lapatinib'"),
        ("EV0013", "alteration", "L755Z", "alteration", "cannot parse"),
        ("EV0013", "alteration", "L756S", "alteration", "disagrees with NP_004439.2"),
        ("EV0013", "alteration", "L755", "alteration_kind", "names a codon"),
        ("EV0066", "alteration", "exon20_insertions", "alteration", "unknown class"),
        ("EV0013", "citations", "", "citations", "at least one citation"),
        ("EV0013", "citations", "PMID 23220880", "citations", "not in the expected form"),
        ("EV0013", "response", "responsive", "response", "not one of"),
        ("EV0013", "evidence_type", "in_vitro", "evidence_type", "not one of"),
        ("EV0013", "tumour_type", "BRAC", "tumour_type", "unknown tumour type"),
        ("EV0013", "tumour_type", "CRC", "tumour_type", "write the OncoTree code COADREAD"),
        ("EV0013", "evidence_id", "EV0012", "evidence_id", "already used"),
        ("EV0013", "evidence_id", "E13", "evidence_id", "not in the expected form"),
    ],
)
def test_evidence_violation_names_file_line_and_field(kb_copy, row, column, value, field, words):
    line = _edit_line(kb_copy / EVIDENCE_FILE, row, column, value)
    with pytest.raises(InputError) as err:
        load_knowledge(kb_copy, check_hash=False)
    assert err.value.path == str(kb_copy / EVIDENCE_FILE)
    assert err.value.record == f"line {line}"
    assert err.value.field == field
    assert words in str(err.value)


def test_duplicate_row_is_rejected(kb_copy):
    path = kb_copy / EVIDENCE_FILE
    lines = path.read_text().splitlines()
    original = next(line for line in lines if line.startswith("EV0013\t"))
    # same claim again under a new id, citations in another order and spelled with p.
    cells = original.split("\t")
    cells[0], cells[1] = "EV9999", "p.Leu755Ser"
    cells[7] = "CIViC:EID241;PMID:23220880"
    path.write_text("\n".join([*lines, "\t".join(cells)]) + "\n")
    with pytest.raises(InputError) as err:
        load_knowledge(kb_copy, check_hash=False)
    assert err.value.record == f"line {len(lines) + 1}"
    assert "duplicate row" in err.value.message and "EV0013" in err.value.message


def test_equivalent_spellings_are_duplicates_too(kb_copy):
    path = kb_copy / EVIDENCE_FILE
    lines = path.read_text().splitlines()
    original = next(line for line in lines if line.startswith("EV0032\t"))  # Y772_A775dup afatinib
    cells = original.split("\t")
    cells[0], cells[1] = "EV9999", "A775_G776insYVMA"
    path.write_text("\n".join([*lines, "\t".join(cells)]) + "\n")
    with pytest.raises(InputError, match=r"duplicate row.*EV0032"):
        load_knowledge(kb_copy, check_hash=False)


def test_wrong_number_of_fields(kb_copy):
    path = kb_copy / EVIDENCE_FILE
    text = path.read_text().replace("EV0013\tL755S\tallele\t", "EV0013\tL755S\tallele\t\t")
    path.write_text(text)
    with pytest.raises(InputError, match="tab-separated fields") as err:
        load_knowledge(kb_copy, check_hash=False)
    assert err.value.record.startswith("line ")


@pytest.mark.parametrize(
    ("file", "row", "column", "value", "field", "words"),
    [
        (
            "drugs.tsv",
            "neratinib + trastuzumab",
            "components",
            "neratinib; herceptinn",
            "components",
            "not listed",
        ),
        ("drugs.tsv", "lapatinib", "kind", "small_molecule", "kind", "not one of"),
        (
            "drugs.tsv",
            "afatinib",
            "brand_names",
            "Tykerb",
            "brand_names",
            "already used by lapatinib",
        ),
        (
            "classes.tsv",
            "tkd_activating",
            "alleles",
            "L756S",
            "alleles",
            "disagrees with NP_004439.2",
        ),
        (
            "classes.tsv",
            "oncogenic",
            "includes",
            "tkd_activating exon20",
            "includes",
            "unknown class",
        ),
        ("classes.tsv", "exon20_insertion", "residue_start", "", "residue_start", "empty"),
        ("oncotree.tsv", "ILC", "parent", "BRACA", "parent", "not listed"),
    ],
)
def test_other_table_violations(kb_copy, file, row, column, value, field, words):
    line = _edit_line(kb_copy / file, row, column, value)
    with pytest.raises(InputError) as err:
        load_knowledge(kb_copy, check_hash=False)
    assert err.value.path == str(kb_copy / file)
    assert err.value.record == f"line {line}"
    assert err.value.field == field
    assert words in str(err.value)


def test_yaml_violation_names_the_line(kb_copy):
    path = kb_copy / "verdict_rules.yaml"
    text = path.read_text().replace("neratinib, afatinib", "neratinib, afatinibb")
    path.write_text(text)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("always_report"))
    with pytest.raises(InputError, match="unknown drug 'afatinibb'") as err:
        load_knowledge(kb_copy, check_hash=False)
    assert err.value.record == f"line {line}"
    assert err.value.field == "always_report.2"


def test_yaml_schema_violation_names_the_line(kb_copy):
    path = kb_copy / "levels.yaml"
    text = path.read_text().replace("rank: 3\n", "rank: three\n")
    path.write_text(text)
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "rank: three" in t)
    with pytest.raises(InputError) as err:
        load_knowledge(kb_copy, check_hash=False)
    assert err.value.record == f"line {line}"
    assert err.value.field == "levels.1.rank"


# --------------------------------------------------------------------------------------------
# Content hash


@pytest.mark.parametrize("name", DATA_FILES)
def test_an_edited_file_fails_the_content_hash_check(kb_copy, name):
    path = kb_copy / name
    path.write_text(path.read_text() + "# an innocent-looking comment\n")
    with pytest.raises(InputError, match=r"changed after knowledge-base version 3\.0\.0") as err:
        load_knowledge(kb_copy)
    assert err.value.path == str(path)
    assert "kb hash --write" in str(err.value)


def test_hash_write_cuts_a_version_that_loads(kb_copy, kb):
    path = kb_copy / EVIDENCE_FILE
    path.write_text(
        path.read_text().replace("phase II clinical benefit", "phase II: clinical benefit")
    )
    content_hash, changed = write_hashes(kb_copy)
    assert changed and content_hash != kb.content_hash
    assert load_knowledge(kb_copy).content_hash == content_hash
    # idempotent, and the text above the marker is kept
    assert write_hashes(kb_copy) == (content_hash, False)
    assert (kb_copy / "metadata.yaml").read_text().startswith("# erbb2-tki knowledge base")


def test_crlf_checkout_hashes_the_same(kb_copy, kb):
    for name in DATA_FILES:
        path = kb_copy / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert load_knowledge(kb_copy).content_hash == kb.content_hash


# --------------------------------------------------------------------------------------------
# Matching: exact allele > codon > class, equivalent spellings, classes


def test_l755s_matches_allele_then_codon_then_class_rows(kb):
    matches = kb.match(_allele(kb, "L755S"), "BRCA")
    bases = [m.match_basis for m in matches]
    assert bases[0] == "allele" and "codon" in bases
    first_class = next(i for i, b in enumerate(bases) if b.startswith("class:"))
    assert all(b == "allele" for b in bases[: bases.index("codon")])
    assert all(b.startswith("class:") for b in bases[first_class:])
    by_id = {m.evidence_id: m for m in matches}
    assert by_id["EV0013"].drug == "lapatinib" and by_id["EV0013"].response == "resistant"
    assert by_id["EV0018"].response == "resistant"  # the 2019 row
    assert by_id["EV0017"].match_basis == "codon"
    assert by_id["EV0070"].match_basis == "class:tkd_activating"
    assert by_id["EV0072"].match_basis == "class:oncogenic"


@pytest.mark.parametrize(
    "spellings",
    [
        [
            "Y772_A775dup",
            "A775_G776insYVMA",
            "E770_A771insAYVM",
            "p.Tyr772_Ala775dup",
            "p.(Ala775_Gly776insTyrValMetAla)",
        ],
        ["G778_P780dup", "P780_Y781insGSP", "V777_G778insGSP", "p.Gly778_Pro780dup"],
        ["L755S", "p.Leu755Ser", "p.(Leu755Ser)"],
    ],
)
def test_equivalent_spellings_match_the_same_entries(kb, spellings):
    results = [
        [(m.evidence_id, m.match_basis) for m in kb.match(_allele(kb, text), None)]
        for text in spellings
    ]
    assert results[0]
    assert all(r == results[0] for r in results)


def test_both_published_spellings_of_gsp_are_one_allele(kb):
    ids = {
        m.evidence_id for m in kb.match(_allele(kb, "P780_Y781insGSP"), None) if m.basis == "allele"
    }
    assert ids == {"EV0038", "EV0039", "EV0040", "EV0041", "EV0042", "EV0047"}


@pytest.mark.parametrize(
    ("text", "codon_rows"),
    [
        ("S310F", {"EV0004", "EV0005", "EV0006", "EV0007"}),
        ("S310Y", {"EV0004", "EV0005", "EV0006", "EV0007"}),
        ("L755_T759del", {"EV0017"}),  # an in-frame deletion covering L755
        ("L755W", {"EV0017"}),
    ],
)
def test_codon_rows(kb, text, codon_rows):
    ids = {m.evidence_id for m in kb.match(_allele(kb, text), None) if m.basis == "codon"}
    assert ids == codon_rows


@pytest.mark.parametrize("text", ["L755=", "S310=", "S310*", "S310Lfs*20"])
def test_codon_rows_never_match_synonymous_or_truncating(kb, text):
    assert not [m for m in kb.match(_allele(kb, text), None) if m.basis == "codon"]


def _insertion_after(kb, residue: int) -> str:
    """An in-frame insertion of one residue between `residue` and the next that does not shift."""
    left, right = kb.protein[residue - 1], kb.protein[residue]
    new = next(aa for aa in "WHKC" if aa not in (left, right))
    return f"{left}{residue}_{right}{residue + 1}ins{new}"


@pytest.mark.parametrize(
    ("residue", "inside"), [(769, False), (770, True), (831, True), (832, False)]
)
def test_exon20_insertion_boundaries(kb, residue, inside):
    pc = kb.canonical(_insertion_after(kb, residue))
    assert pc.start == residue and pc.kind == "inframe_insertion"
    classes = kb.classes_of_protein(pc)
    assert ("exon20_insertion" in classes) is inside
    assert ("tkd_activating" in classes) is inside
    assert ("oncogenic" in classes) is inside


@pytest.mark.parametrize(
    ("text", "classes"),
    [
        ("Y772_A775dup", ["exon20_insertion", "tkd_activating", "oncogenic"]),
        ("G776delinsVC", ["exon20_insertion", "tkd_activating", "oncogenic"]),  # delins that adds
        ("M774delinsWLV", ["exon20_insertion", "tkd_activating", "oncogenic"]),
        ("G776V", ["tkd_activating", "oncogenic", "oncogenic_missense"]),
        ("L755_T759del", ["oncogenic"]),  # listed; a deletion adds no residues; exon 19
        ("T798I", ["oncogenic", "oncogenic_missense"]),  # a resistant TKI row makes it oncogenic
        ("H878Y", ["oncogenic", "oncogenic_missense"]),  # a sensitive TKI row
        # 2.0.0: Kancha's V773A IC50 is lapatinib-sensitive as the paper reads it, so oncogenic
        ("V773A", ["oncogenic", "oncogenic_missense"]),
        # 2.0.0: left the TKD list in 09/2025 (outside the kinase domain), still oncogenic
        ("V697L", ["oncogenic", "oncogenic_missense"]),
        ("E717D", ["oncogenic", "oncogenic_missense"]),
        # 2.0.0: came out unknown in 1.0.0 (review); exon 20 in-frame deletions are a class
        ("V659N", ["oncogenic", "oncogenic_missense"]),
        ("E717V", ["oncogenic", "oncogenic_missense"]),
        ("A644S", ["oncogenic", "oncogenic_missense"]),
        ("A771_Y772del", ["exon20_deletion", "oncogenic"]),
        ("E770_A771del", ["exon20_deletion", "oncogenic"]),
        ("V773M", []),  # an unlisted missense change with no TKI row stays unknown
        ("Y772Ifs*9", ["truncating"]),  # a frameshift in exon 20 is not an exon 20 insertion
        ("Q709*", ["truncating"]),
        ("L755=", []),  # synonymous is never oncogenic
        ("A710=", []),
    ],
)
def test_class_membership(kb, text, classes):
    assert kb.classes_of(_allele(kb, text)) == classes


@pytest.mark.parametrize(
    ("text", "oncogenicity"),
    [
        ("L755S", "oncogenic"),
        ("Y772_A775dup", "oncogenic"),
        ("Y772Ifs*9", "truncating"),
        ("L755=", "likely_neutral"),
        ("V773A", "oncogenic"),  # 2.0.0: Kancha's lapatinib-sensitive IC50 (see above)
        ("V659N", "oncogenic"),
        ("V773M", "unknown"),
        ("L1000Q", "unknown"),
    ],
)
def test_oncogenicity(kb, text, oncogenicity):
    assert kb.oncogenicity(_allele(kb, text)) == oncogenicity


def test_allele_outside_the_protein_matches_nothing(kb):
    allele = _pseudo_allele(kb.canonical("L755S"))
    intronic = type(allele)(**{**vars(allele), "protein": None, "hgvsp": "", "hgvsp_short": ""})
    assert kb.match(intronic, "BRCA") == []
    assert kb.classes_of(intronic) == []
    assert kb.oncogenicity(intronic) == "unknown"


def test_tumour_type_match_in_context(kb):
    by_id = {m.evidence_id: m for m in kb.match(_allele(kb, "L755S"), "ILC")}
    assert by_id["EV0013"].tumour_type_match == "same_tumour_type"  # BRCA evidence, ILC sample
    assert by_id["EV0016"].tumour_type_match == "pan_cancer"
    assert by_id["EV0070"].tumour_type_match == "other_tumour_type"  # NSCLC approval
    by_id = {m.evidence_id: m for m in kb.match(_allele(kb, "L755S"), "IDC")}
    # 2.0.0: the Kalra editorial discusses lobular and ductal models: coded Breast Cancer
    assert by_id["EV0019"].tumour_type_match == "same_tumour_type"
    by_id = {m.evidence_id: m for m in kb.match(_allele(kb, "L755S"), None)}
    assert by_id["EV0013"].tumour_type_match == "unknown"


def test_unknown_sample_tumour_type_is_an_input_error(kb):
    with pytest.raises(InputError, match="unknown tumour type 'BRAC'"):
        kb.match(_allele(kb, "L755S"), "BRAC")


def test_as_row_has_the_tki_columns(kb):
    row = kb.match(_allele(kb, "L755S"), "BRCA")[0].as_row()
    assert list(row)[:9] == [
        "drug",
        "response",
        "evidence_level",
        "evidence_type",
        "tumour_type",
        "tumour_type_match",
        "match_basis",
        "citations",
        "note",
    ]
    # allele rows first, strongest level first: the phase II neratinib row
    assert (row["evidence_id"], row["match_basis"], row["evidence_level"]) == (
        "EV0015",
        "allele",
        "B",
    )
