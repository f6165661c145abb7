"""Class rules in classes.tsv: in_range, within (intersection), the optional within column, and
CIViC evidence items as secondary citations. Each test writes its own classes.tsv into a copy of the
knowledge base, so the answers do not depend on the shipped content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from erbb2_tki.errors import InputError
from erbb2_tki.knowledge import CLASSES_FILE, EVIDENCE_FILE, load_knowledge
from erbb2_tki.knowledge.kb_cli import _pseudo_allele
from erbb2_tki.paths import annotations_dir

HEADER = (
    "class\trule\tresidue_start\tresidue_end\tkinds\talleles\tincludes\tfrom_evidence\t"
    "exclude_kinds\twithin\tdefinition\tsource"
)
CLASSES = [
    "exon20_insertion\tadds_residues\t770\t831\t\t\t\t\t\t\tins in exon 20\ttest",
    "exon20_deletion\tin_range\t770\t831\tinframe_deletion\t\t\t\t\t\tdel in exon 20\ttest",
    "tkd_activating\tlisted\t\t\t\tL755S V777L\texon20_insertion\t\t\t\tTKD list\ttest",
    "oncogenic\tlisted\t\t\t\tS310F V659E\ttkd_activating exon20_deletion\t\t"
    "synonymous nonsense frameshift\t\toncogenic\ttest",
    "oncogenic_missense\tprotein_kinds\t\t\tmissense\t\t\t\t\toncogenic\toncogenic missense\ttest",
    "truncating\tprotein_kinds\t\t\tnonsense frameshift\t\t\t\t\t\ttruncating\t",
]


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(annotations_dir() / "knowledge", target)
    return target


def _write_classes(kb_dir: Path, rows: list[str], header: str = HEADER) -> None:
    (kb_dir / CLASSES_FILE).write_text("\n".join([header, *rows]) + "\n")


def _kb(kb_dir: Path, rows: list[str] = CLASSES):
    _write_classes(kb_dir, rows)
    return load_knowledge(kb_dir, check_hash=False)


def _classes(kb, text: str) -> list[str]:
    return kb.classes_of(_pseudo_allele(kb.canonical(text)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("L755S", ["tkd_activating", "oncogenic", "oncogenic_missense"]),
        ("S310F", ["oncogenic", "oncogenic_missense"]),
        ("S310Y", []),  # not listed: within oncogenic fails
        ("Y772_A775dup", ["exon20_insertion", "tkd_activating", "oncogenic"]),  # not missense
        ("A771_M774del", ["exon20_deletion", "oncogenic"]),  # in-frame deletion in exon 20
        ("L755_T759del", []),  # exon 19: outside 770-831
        ("M774delinsWLV", ["exon20_insertion", "tkd_activating", "oncogenic"]),  # delins is not del
        ("Y772*", ["truncating"]),
    ],
)
def test_in_range_and_within_rules(kb_dir, text, expected):
    kb = _kb(kb_dir)
    assert _classes(kb, text) == expected


def test_in_range_bounds_are_inclusive(kb_dir):
    kb = _kb(kb_dir)
    ref = kb.protein
    for residue, inside in ((769, False), (770, True), (831, True), (832, False)):
        text = f"{ref[residue - 1]}{residue}del"
        pc = kb.canonical(text)
        assert ("exon20_deletion" in _classes(kb, text)) is (inside and pc.start == residue)


@pytest.fixture(scope="module")
def classes_kb(tmp_path_factory: pytest.TempPathFactory):
    """The knowledge base with this file's class table, loaded once (the examples only read it)."""
    kb_dir = tmp_path_factory.mktemp("kb") / "k"
    shutil.copytree(annotations_dir() / "knowledge", kb_dir)
    return _kb(kb_dir)


@settings(max_examples=40, deadline=None)
@given(residue=st.integers(min_value=700, max_value=900))
def test_within_never_adds_members(classes_kb, residue):
    """A class with `within` is a subset of every class it names, for any missense change."""
    kb = classes_kb
    ref = kb.protein[residue - 1]
    alt = "A" if ref != "A" else "G"
    classes = _classes(kb, f"{ref}{residue}{alt}")
    if "oncogenic_missense" in classes:
        assert "oncogenic" in classes


def test_within_names_an_unknown_class(kb_dir):
    rows = [*CLASSES[:-2], "bad\tprotein_kinds\t\t\tmissense\t\t\t\t\tnowhere\tx\t", CLASSES[-1]]
    _write_classes(kb_dir, rows)
    with pytest.raises(InputError) as err:
        load_knowledge(kb_dir, check_hash=False)
    assert err.value.field == "within" and "nowhere" in str(err.value)


def test_in_range_needs_kinds_and_a_range(kb_dir):
    rows = [*CLASSES[:-1], "bad\tin_range\t770\t\tinframe_deletion\t\t\t\t\t\tx\t", CLASSES[-1]]
    _write_classes(kb_dir, rows)
    with pytest.raises(InputError) as err:
        load_knowledge(kb_dir, check_hash=False)
    assert err.value.field == "residue_end"


def test_a_table_without_the_optional_within_column_still_loads(kb_dir):
    """Older versions (1.0.0) have no `within` column: kb diff must still read them."""
    header = HEADER.replace("\twithin", "")
    rows = ["\t".join(c for i, c in enumerate(row.split("\t")) if i != 9) for row in CLASSES]
    _write_classes(kb_dir, rows, header)
    kb = load_knowledge(kb_dir, check_hash=False)
    assert kb.classes["oncogenic"].within == ()


def test_a_missing_required_column_is_still_an_error(kb_dir):
    header = HEADER.replace("\tdefinition", "")
    rows = ["\t".join(c for i, c in enumerate(row.split("\t")) if i != 10) for row in CLASSES]
    _write_classes(kb_dir, rows, header)
    with pytest.raises(InputError) as err:
        load_knowledge(kb_dir, check_hash=False)
    assert err.value.field == "definition"


def _set_citation(kb_dir: Path, value: str) -> None:
    path = kb_dir / EVIDENCE_FILE
    lines = path.read_text().splitlines()
    header = next(line for line in lines if line and not line.startswith("#")).split("\t")
    for i, line in enumerate(lines):
        if line.startswith("EV0001\t"):
            cells = line.split("\t")
            cells[header.index("citations")] = value
            lines[i] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n")


def test_civic_evidence_items_are_accepted_as_secondary_citations(kb_dir):
    _set_citation(kb_dir, "PMID:23220880;CIViC:EID282")
    kb = load_knowledge(kb_dir, check_hash=False)
    row = next(r for r in kb.evidence if r.evidence_id == "EV0001")
    assert row.citations == "PMID:23220880;CIViC:EID282"


@pytest.mark.parametrize("value", ["CIViC:EID282", "CIViC:EID282;CIViC:EID283"])
def test_a_civic_item_alone_is_not_a_primary_source(kb_dir, value):
    _set_citation(kb_dir, value)
    with pytest.raises(InputError) as err:
        load_knowledge(kb_dir, check_hash=False)
    assert err.value.field == "citations" and "primary source" in str(err.value)


@pytest.mark.parametrize("value", ["CIViC:282", "civic:EID282", "CIViC:EIDx"])
def test_misspelt_civic_citations_are_rejected(kb_dir, value):
    _set_citation(kb_dir, f"PMID:23220880;{value}")
    with pytest.raises(InputError) as err:
        load_knowledge(kb_dir, check_hash=False)
    assert err.value.field == "citations"


# --------------------------------------------------------------------------------------------
# Older versions still load (kb diff 1.0.0 -> 2.0.0)


def test_a_version_without_germline_tsv_loads_without_germline_rows(kb_dir):
    (kb_dir / "germline.tsv").unlink()
    meta = kb_dir / "metadata.yaml"
    meta.write_text(
        "".join(line for line in meta.read_text().splitlines(True) if "germline.tsv:" not in line)
    )
    kb = load_knowledge(kb_dir, check_hash=False)
    assert kb.germline == ()


def test_a_deleted_germline_tsv_that_metadata_records_is_an_error(kb_dir):
    (kb_dir / "germline.tsv").unlink()
    with pytest.raises(InputError) as err:
        load_knowledge(kb_dir)
    assert "germline.tsv is missing, but metadata.yaml records" in str(err.value)


def test_a_response_without_a_side_in_the_verdict_rules_names_the_row(kb_dir):
    rules = kb_dir / "verdict_rules.yaml"
    rules.write_text(
        "".join(line for line in rules.read_text().splitlines(True) if "no_benefit:" not in line)
    )
    with pytest.raises(InputError) as err:
        load_knowledge(kb_dir, check_hash=False)
    assert err.value.field == "response" and "no_benefit" in str(err.value)
